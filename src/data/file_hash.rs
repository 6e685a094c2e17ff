//! [`FileHash`]: the content hash of a data file that was parsed, computed
//! after the parse on a thread of its own (beside the run that uses the
//! bars, on a core the run leaves idle) rather than while parsing, when
//! every core is busy.
//!
//! The hash must be that of the bytes that were parsed. The file is read
//! again through the handle it was parsed from (the same file even if its
//! path now names another), and the hash is kept only if the file's size
//! and modification time are still what they were before the parse: a file
//! written to in between fails with
//! [`DataError::ChangedWhileRead`] instead of naming bytes the run never
//! saw. The cache of parsed bars knows files by the same fields, and has
//! the same limit: a rewrite that keeps the size within one tick of the
//! file system's clock (a few milliseconds on Linux, more on some network
//! and FAT file systems), or that sets the old time back, is not seen. A
//! file that cannot be read twice (a pipe) is hashed as it is parsed.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use super::background;
use super::error::DataError;
use crate::domain::HashingReader;

/// A loaded file's content hash (lowercase hex SHA-256 of its bytes, as
/// [`content_hash`](crate::domain::content_hash) gives): known already, or
/// being computed; shared by clones.
#[derive(Clone, Debug)]
pub struct FileHash(Arc<Cell>);

#[derive(Debug)]
struct Cell {
    /// The file path, for errors.
    input: String,
    state: Mutex<State>,
}

#[derive(Debug)]
enum State {
    Computing(JoinHandle<Result<String, Failure>>),
    Done(Result<String, Failure>),
}

/// Why a file's hash is not known.
#[derive(Clone, Debug, PartialEq)]
enum Failure {
    /// The file changed after it was opened for parsing.
    Changed,
    /// Reading it again failed.
    Io(io::ErrorKind, String),
    /// The hashing thread panicked.
    Panicked,
}

impl FileHash {
    /// A hash known already (read from the cache, or hashed as the file
    /// streamed).
    pub(crate) fn known(hash: String) -> FileHash {
        FileHash::with("", State::Done(Ok(hash)))
    }

    fn with(input: &str, state: State) -> FileHash {
        FileHash(Arc::new(Cell { input: input.to_owned(), state: Mutex::new(state) }))
    }

    /// Hashes `file` (at `input`, whatever it has been read to) from its
    /// start on a thread of its own; `before` is its metadata from before
    /// it was parsed. Hashes on the caller's thread when no thread can be
    /// started.
    pub(crate) fn beside(input: &str, file: File, before: Metadata) -> FileHash {
        let spare = file.try_clone();
        let before_here = before.clone();
        let state = match background::spawn("hash-data", move || hash_unchanged(file, &before)) {
            Ok(handle) => State::Computing(handle),
            Err(_) => State::Done(spare.map_err(io_failure).and_then(|file| hash_unchanged(file, &before_here))),
        };
        FileHash::with(input, state)
    }

    /// The hash, waiting for it to be computed.
    ///
    /// # Errors
    /// [`DataError::ChangedWhileRead`] when the file changed after it was
    /// opened for parsing, [`DataError::Io`] when it could not be read
    /// again.
    pub fn get(&self) -> Result<String, DataError> {
        let cell = &self.0;
        let mut state = cell.state.lock().unwrap_or_else(PoisonError::into_inner);
        let value = match std::mem::replace(&mut *state, State::Done(Err(Failure::Panicked))) {
            State::Computing(handle) => handle.join().unwrap_or(Err(Failure::Panicked)),
            State::Done(value) => value,
        };
        *state = State::Done(value.clone());
        drop(state);
        value.map_err(|failure| {
            let input = cell.input.clone();
            match failure {
                Failure::Changed => DataError::ChangedWhileRead { input },
                Failure::Io(kind, message) => DataError::Io { input, source: io::Error::new(kind, message) },
                Failure::Panicked => {
                    DataError::Io { input, source: io::Error::other("hashing the file failed (a panic)") }
                }
            }
        })
    }
}

/// The hash of `file`'s bytes from its start, if its metadata is still
/// `before`'s once they are read.
fn hash_unchanged(mut file: File, before: &Metadata) -> Result<String, Failure> {
    file.seek(SeekFrom::Start(0)).map_err(io_failure)?;
    let mut hashing = HashingReader::new(&file);
    // Blocks of a megabyte: a few dozen reads for a large file.
    let mut block = vec![0; 1 << 20];
    while hashing.read(&mut block).map_err(io_failure)? > 0 {}
    let hash = hashing.content_hash();
    let after = file.metadata().map_err(io_failure)?;
    if same_contents(before, &after) {
        Ok(hash)
    } else {
        Err(Failure::Changed)
    }
}

fn io_failure(e: io::Error) -> Failure {
    Failure::Io(e.kind(), e.to_string())
}

/// Whether two stats of one open file say its bytes are the same: its size
/// and modification time, which every write sets. (Not its change time: an
/// editor that saves by renaming a new file over the old one changes the
/// old one's, whose bytes are still those read.)
fn same_contents(before: &Metadata, after: &Metadata) -> bool {
    before.len() == after.len() && before.modified().ok() == after.modified().ok()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;
    use crate::domain::content_hash;

    fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bt-file-hash-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("X.csv");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Opens `path` as the loader does before parsing it, and reads it to its end.
    fn opened(path: &std::path::Path) -> (File, Metadata) {
        let mut file = File::open(path).unwrap();
        let before = file.metadata().unwrap();
        std::io::copy(&mut file, &mut std::io::sink()).unwrap();
        (file, before)
    }

    #[test]
    fn the_hash_is_of_the_bytes_opened_even_once_another_file_takes_the_path() {
        // More than one block of the hashing reader.
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let path = scratch("opened", &bytes);
        let (file, before) = opened(&path);
        let hash = FileHash::beside("X.csv", file, before);
        // A new file renamed over the path: the handle still reads the old one.
        let other = path.with_extension("new");
        std::fs::write(&other, b"other bytes").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(hash.get().unwrap(), content_hash(&bytes));
        assert_eq!(hash.clone().get().unwrap(), content_hash(&bytes), "clones share the hash");
        assert_eq!(FileHash::known("abc".into()).get().unwrap(), "abc");
    }

    #[test]
    fn a_file_written_to_after_it_was_opened_has_no_hash() {
        let path = scratch("appended", b"Date,Close\n2020-01-01,1\n");
        let (file, before) = opened(&path);
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"2020-01-02,2\n").unwrap();
        let err = hash_unchanged(file, &before).unwrap_err();
        assert_eq!(err, Failure::Changed);

        // Rewritten in place with as many bytes: its modification time tells.
        let path = scratch("rewritten", b"Date,Close\n2020-01-01,1\n");
        let (file, before) = opened(&path);
        std::thread::sleep(std::time::Duration::from_millis(30));
        std::fs::write(&path, b"Date,Close\n2020-01-01,2\n").unwrap();
        let hash = FileHash::beside("data/X.csv", file, before);
        let err = hash.get().unwrap_err();
        assert!(matches!(&err, DataError::ChangedWhileRead { input } if input == "data/X.csv"), "{err}");
        assert!(err.to_string().starts_with("data/X.csv: the file changed while it was read"), "{err}");
        // Asked again, the same answer.
        assert!(matches!(hash.get(), Err(DataError::ChangedWhileRead { .. })));
    }
}
