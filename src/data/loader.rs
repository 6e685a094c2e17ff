//! [`Loader`]: reads data files (CSV or Parquet) with the user's [`LoadOptions`], parsing
//! each file once: its bars are kept in a cache directory as they are held
//! in memory ([`bars_file`](super::bars_file), 48-byte rows), keyed by the
//! file's content hash and the options, so a second run on the same file
//! reads them back instead.
//!
//! A file is known again by its path, size, modification time and inode (as
//! `make` and git know files), so a cached load does not read the data file
//! at all; a file changed in any of those is read and hashed again. A cache
//! that cannot be read or written is passed over with a warning: it never
//! fails a run. A new entry is written on a background thread while the
//! caller goes on with the bars ([`CacheWrites`]). The cache keeps at most
//! [`CACHE_CAPACITY`] bytes of bars, dropping the least recently used first
//! (a `dev` session that saves a data file many times does not fill the
//! disk).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::background;
use super::bars_file::{read_bars_sized, BarsWriter};
use super::csv::parse_csv_into;
use super::error::DataError;
use super::file_hash::FileHash;
use super::options::LoadOptions;
use super::parquet::{is_parquet, parse_parquet_into, read_prefix};
use crate::domain::{content_hash, large_vec, Bar, CancelToken, HashingReader};

/// The environment variable naming the cache directory.
pub const CACHE_DIR_ENV: &str = "BACKTESTER_CACHE_DIR";

/// The most bytes of parsed bars the cache keeps; the least recently used
/// entries go first.
pub const CACHE_CAPACITY: u64 = 2 << 30;

/// A file's bars and the hash of its bytes.
#[derive(Debug)]
pub struct LoadedFile {
    /// The validated bars, in increasing time order (shared with the
    /// cache write that may still be under way).
    pub bars: Arc<Vec<Bar>>,
    /// Lowercase hex SHA-256 of the file's bytes (as [`content_hash`](crate::domain::content_hash)
    /// gives): read from the cache, or computed after the parse beside the caller's work.
    pub content_hash: FileHash,
    /// Whether the bars came from the cache (the file was not parsed).
    pub cached: bool,
}

/// The content hashes of the files loaders have read, by path: shared by
/// clones, so a run's manifest names the hashes of the bytes its bars came
/// from (computed beside the run, or read from the cache).
#[derive(Clone, Debug, Default)]
pub struct LoadedHashes(Arc<Mutex<HashMap<PathBuf, FileHash>>>);

/// The cache write under way on a background thread, if any, shared by
/// clones (and by the loaders given it). One at a time: a new write first
/// waits for the one before, so at most one file's bars are held for
/// writing, and a load of a file whose write is under way waits for it.
/// Dropping the last clone waits for the write, so a process that ends
/// normally leaves its entry whole (one that is killed leaves at most a
/// temporary file, never an entry).
#[derive(Clone, Debug, Default)]
pub struct CacheWrites(Arc<PendingWrite>);

#[derive(Debug, Default)]
struct PendingWrite(Mutex<Option<(PathBuf, JoinHandle<()>)>>);

impl CacheWrites {
    /// Runs `write` (of the entry `index` names) on a thread of its own once
    /// the write before it ends.
    fn spawn(&self, index: PathBuf, write: impl FnOnce() + Send + 'static) {
        let mut slot = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
        wait_for(slot.take());
        match background::spawn("cache-write", write) {
            Ok(handle) => *slot = Some((index, handle)),
            Err(err) => tracing::warn!("could not start writing the cache of parsed bars: {err}"),
        }
    }

    /// Waits for the write under way, if it is of the entry `index` names:
    /// a file loaded again finds the bars its first load is keeping.
    fn wait_for_entry(&self, index: &Path) {
        let mut slot = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|(pending, _)| pending == index) {
            wait_for(slot.take());
        }
    }

    /// Waits for the write under way, if any.
    pub fn wait(&self) {
        wait_for(self.0 .0.lock().unwrap_or_else(PoisonError::into_inner).take());
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        wait_for(self.0.get_mut().unwrap_or_else(PoisonError::into_inner).take());
    }
}

fn wait_for(write: Option<(PathBuf, JoinHandle<()>)>) {
    if let Some((index, Err(_))) = write.map(|(index, handle)| (index, handle.join())) {
        tracing::warn!(entry = %index.display(), "writing the cache of parsed bars failed (a panic); the entry was not kept");
    }
}

/// Loads data files with one set of options, through a cache when it has one.
#[derive(Clone, Debug, Default)]
pub struct Loader {
    options: LoadOptions,
    cache: Option<PathBuf>,
    hashes: LoadedHashes,
    writes: CacheWrites,
    cancel: Option<CancelToken>,
}

impl Loader {
    /// A loader reading files as `options` say, keeping parsed bars in
    /// `cache` (a directory, created when first needed) when given.
    pub fn new(options: LoadOptions, cache: Option<PathBuf>) -> Loader {
        Loader { options, cache, hashes: LoadedHashes::default(), writes: CacheWrites::default(), cancel: None }
    }

    /// This loader, giving up once `cancel` is cancelled: a CSV file being
    /// parsed fails at its next read (about every megabyte) with
    /// [`DataError::Io`], and nothing of it is cached. A Parquet file is
    /// stopped only before its parse starts, a cache entry being read not at
    /// all (nor a parsed file's hash, which keeps nothing). For a caller that
    /// loads data while it prepares something else, and drops the data
    /// when that fails.
    pub fn cancelled_by(mut self, cancel: &CancelToken) -> Loader {
        self.cancel = Some(cancel.clone());
        self
    }

    /// This loader, writing the cache through `writes` (whose owner decides
    /// how long a process waits for them: a loader of its own would wait when
    /// it is dropped).
    pub fn sharing_writes(mut self, writes: &CacheWrites) -> Loader {
        self.writes = writes.clone();
        self
    }

    /// This loader, recording content hashes in `hashes`.
    pub fn sharing_hashes(mut self, hashes: &LoadedHashes) -> Loader {
        self.hashes = hashes.clone();
        self
    }

    /// The cache directory users get by default: `$BACKTESTER_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/backtester/bars`, else `$HOME/.cache/backtester/bars`;
    /// `None` when none of them is set.
    pub fn default_cache_dir() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        var(CACHE_DIR_ENV)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("backtester").join("bars")))
            .or_else(|| var("HOME").map(|d| d.join(".cache").join("backtester").join("bars")))
    }

    /// The options files are read with.
    pub fn options(&self) -> &LoadOptions {
        &self.options
    }

    /// The content hash of `path` if this loader (or a clone) loaded it,
    /// waiting for it if it is still being computed.
    ///
    /// # Errors
    /// As [`FileHash::get`]: the file changed after it was opened for
    /// parsing, or could not be read again.
    pub fn hash_of(&self, path: &Path) -> Option<Result<String, DataError>> {
        let hash = self.hashes.0.lock().ok()?.get(path).cloned()?;
        Some(hash.get())
    }

    /// Loads and validates the file at `path`.
    ///
    /// Returns its bars and content hash.
    ///
    /// # Errors
    /// What [`parse_csv_into`] or [`parse_parquet_into`] reports, with the path as the input name.
    pub fn load(&self, path: &Path) -> Result<LoadedFile, DataError> {
        let loaded = self.load_uncounted(path)?;
        if let Ok(mut hashes) = self.hashes.0.lock() {
            hashes.insert(path.to_path_buf(), loaded.content_hash.clone());
        }
        Ok(loaded)
    }

    fn load_uncounted(&self, path: &Path) -> Result<LoadedFile, DataError> {
        let input = path.display().to_string();
        let io_error = |source| DataError::Io { input: input.clone(), source };
        self.options.check()?;
        let Some(dir) = &self.cache else {
            return parse(path, &input, &self.options, self.cancel.as_ref());
        };
        let before = fs::metadata(path).map_err(io_error)?;
        let index = dir.join(format!("index-{}", self.stat_key(path, &before)));
        self.writes.wait_for_entry(&index);
        if let Some(hit) = read_cached(dir, &index, &self.options) {
            return Ok(hit);
        }
        let loaded = parse(path, &input, &self.options, self.cancel.as_ref())?;
        // Keep it only if the file did not change while it was read.
        if fs::metadata(path).ok().map(|m| stat_fields(path, &m)) == Some(stat_fields(path, &before)) {
            let (dir, entry, bars, hash, options) =
                (dir.clone(), index.clone(), loaded.bars.clone(), loaded.content_hash.clone(), self.options.clone());
            self.writes.spawn(entry, move || {
                if let Err(err) = write_cached(&dir, &index, &bars, &hash, &options) {
                    tracing::warn!(cache = %dir.display(), "could not keep parsed bars in the cache: {err}");
                }
            });
        }
        Ok(loaded)
    }

    /// A name for what `path` is now: path, size, modification time, inode,
    /// and the options.
    fn stat_key(&self, path: &Path, meta: &fs::Metadata) -> String {
        let key = format!("{}\0{}", stat_fields(path, meta), self.options.key());
        content_hash(key.as_bytes())[..32].to_owned()
    }
}

/// The fields of a file's metadata that change when its bytes do.
fn stat_fields(path: &Path, meta: &fs::Metadata) -> String {
    let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    };
    #[cfg(not(unix))]
    let inode = (0u64, 0u64);
    format!("{}\0{}\0{:?}\0{:?}", absolute.display(), meta.len(), modified, inode)
}

/// The file name of the bars of `content_hash` read with `options`.
fn bars_name(content_hash: &str, options: &LoadOptions) -> String {
    let options_hash = &crate::domain::content_hash(options.key().as_bytes())[..16];
    format!("bars-{content_hash}-{options_hash}")
}

fn read_cached(dir: &Path, index: &Path, options: &LoadOptions) -> Option<LoadedFile> {
    let content_hash = fs::read_to_string(index).ok()?;
    if content_hash.len() != 64 || !content_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let file = File::open(dir.join(bars_name(&content_hash, options))).ok()?;
    let size = file.metadata().map_or(0, |m| m.len());
    // Used now: the last to go when the cache is full.
    let _ = file.set_modified(std::time::SystemTime::now());
    // Unbuffered: each block (3 MB) is read straight into the reader's
    // buffer; a BufReader copied a third of every block once more.
    match read_bars_sized(file, size) {
        Ok(bars) if !bars.is_empty() => {
            let content_hash = FileHash::known(content_hash);
            Some(LoadedFile { bars: Arc::new(bars), content_hash, cached: true })
        }
        Ok(_) => None,
        Err(err) => {
            tracing::warn!(cache = %dir.display(), "passing over damaged cached bars: {err}");
            None
        }
    }
}

/// Keeps `bars` (of a file whose bytes hash to `content_hash`) in `dir`,
/// and `index` naming them. The bars are written while the hash is still
/// being computed, and named once it is known (if another file with the
/// same bytes has them there already, the copy is dropped); a file that
/// changed while it was read keeps nothing.
fn write_cached(
    dir: &Path,
    index: &Path,
    bars: &[Bar],
    content_hash: &FileHash,
    options: &LoadOptions,
) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".tmp-{}-bars", temp_tag()));
    let kept = write_bars(&temp, bars).and_then(|()| content_hash.get().map_err(io::Error::other));
    let content_hash = match kept {
        Ok(hash) => hash,
        Err(err) => {
            let _ = fs::remove_file(&temp);
            return Err(err);
        }
    };
    let target = dir.join(bars_name(&content_hash, options));
    if target.exists() {
        fs::remove_file(&temp)?;
    } else {
        fs::rename(&temp, &target)?;
    }
    let temp = dir.join(format!(".tmp-{}-{}", temp_tag(), index.file_name().unwrap_or_default().to_string_lossy()));
    fs::write(&temp, content_hash)?;
    fs::rename(&temp, index)?;
    prune(dir, CACHE_CAPACITY)
}

/// Writes `bars` to a new file at `path`, whole on disk when it returns.
fn write_bars(path: &Path, bars: &[Bar]) -> io::Result<()> {
    let mut writer = BarsWriter::new(BufWriter::with_capacity(1 << 20, File::create(path)?))?;
    writer.extend(bars)?;
    writer.finish()?.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// A name part no other temporary file of the cache has at the same time:
/// the process and a count of this process's writes (loaders with writes
/// of their own may keep the same file at once).
fn temp_tag() -> String {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), WRITES.fetch_add(1, AtomicOrdering::Relaxed))
}

/// How old a temporary file must be for [`prune`] to take it for one left
/// by a process that was killed while it wrote.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// Removes the least recently used bars files until those left take at
/// most `capacity` bytes, and the index entries of the files removed; and
/// temporary files abandoned by killed processes.
fn prune(dir: &Path, capacity: u64) -> io::Result<()> {
    let mut bars = Vec::new();
    let mut indexes = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".tmp-") {
            let age = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
            if age > ABANDONED_AFTER {
                // Another process may have just removed it too.
                let _ = fs::remove_file(entry.path());
            }
        } else if name.starts_with("bars-") {
            let meta = entry.metadata()?;
            bars.push((meta.modified()?, meta.len(), entry.path()));
        } else if name.starts_with("index-") {
            indexes.push(entry.path());
        }
    }
    let mut total: u64 = bars.iter().map(|b| b.1).sum();
    if total <= capacity {
        return Ok(());
    }
    bars.sort_by_key(|b| b.0);
    for (_, len, path) in bars {
        if total <= capacity {
            break;
        }
        fs::remove_file(&path)?;
        total -= len;
    }
    let kept: std::collections::HashSet<String> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("bars-").and_then(|rest| rest.split('-').next()).map(str::to_owned)
        })
        .collect();
    for index in indexes {
        let Ok(hash) = fs::read_to_string(&index) else { continue };
        if !kept.contains(&hash) {
            let _ = fs::remove_file(index);
        }
    }
    Ok(())
}

/// The fewest bytes a CSV row is expected to take, for reserving room for a
/// file's bars before they are read.
const MIN_ROW_BYTES: u64 = 24;

/// Parses the file (CSV or Parquet, by its first bytes), then hashes its
/// bytes beside the caller's work ([`FileHash::beside`]); reading fails
/// once `cancel`, if given, is cancelled. A file that cannot be read twice
/// (a pipe, such as `<(zcat bars.csv.gz)`) is hashed as it is parsed.
fn parse(
    path: &Path,
    input: &str,
    options: &LoadOptions,
    cancel: Option<&CancelToken>,
) -> Result<LoadedFile, DataError> {
    let io_error = |source| DataError::Io { input: input.to_owned(), source };
    let file = File::open(path).map_err(io_error)?;
    let before = file.metadata().map_err(io_error)?;
    let mut reader = Cancellable { inner: &file, cancel };
    let prefix = read_prefix(&mut reader).map_err(io_error)?;
    let mut bars;
    // The hash of a file that cannot be read twice, taken as it streams.
    let mut streamed = None;
    if is_parquet(&prefix) {
        bars = Vec::new();
        parse_parquet_into(file.try_clone().map_err(io_error)?, input, options, &mut bars)?;
    } else {
        // Room for the bars of rows of 24 bytes or more (a plain minute
        // bar's takes about 45): reserved if the allocator gives it, not
        // touched, and given back below.
        bars = large_vec(usize::try_from(before.len() / MIN_ROW_BYTES).unwrap_or(0));
        let rows = Cursor::new(prefix).chain(reader);
        if before.file_type().is_file() {
            parse_csv_into(rows, input, options, &mut bars)?;
        } else {
            let mut hashing = HashingReader::new(rows);
            parse_csv_into(&mut hashing, input, options, &mut bars)?;
            // The parser may stop before the end (it need not read past the last row).
            io::copy(&mut hashing, &mut io::sink()).map_err(io_error)?;
            streamed = Some(hashing.content_hash());
        }
    }
    bars.shrink_to_fit();
    let content_hash = match streamed {
        Some(hash) => FileHash::known(hash),
        None => FileHash::beside(input, file, before),
    };
    Ok(LoadedFile { bars: Arc::new(bars), content_hash, cached: false })
}

/// A file whose reads fail once its token is cancelled.
struct Cancellable<'a> {
    inner: &'a File,
    cancel: Option<&'a CancelToken>,
}

impl Read for Cancellable<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(io::Error::other("loading was cancelled"));
        }
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str =
        "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-01,1,2,0.5,1.5,1.25,10\n2020-01-02,1.5,2.5,1,2,1.75,20\n";

    #[test]
    fn the_second_load_comes_from_the_cache_and_equals_the_first() {
        let dir = tempfile_dir("second");
        let file = dir.join("X.csv");
        fs::write(&file, CSV).unwrap();
        let loader = Loader::new(LoadOptions::default(), Some(dir.join("cache")));
        let first = loader.load(&file).unwrap();
        assert!(!first.cached);
        assert_eq!(first.content_hash.get().unwrap(), content_hash(CSV.as_bytes()));
        let second = loader.load(&file).unwrap();
        assert!(second.cached, "the same file again is read from the cache");
        assert_eq!(second.bars, first.bars);
        assert_eq!(second.content_hash.get().unwrap(), first.content_hash.get().unwrap());
        assert_eq!(loader.hash_of(&file).unwrap().unwrap(), first.content_hash.get().unwrap());

        // Other options are another entry: they read other bars.
        let mut options = LoadOptions::default();
        options.columns.insert(super::super::Role::Close, "Adj Close".into());
        let adjusted = Loader::new(options, Some(dir.join("cache"))).load(&file).unwrap();
        assert!(!adjusted.cached);
        assert_eq!(adjusted.bars[0].close().to_string(), "1.25");

        // A changed file is read again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&file, CSV.replace("1.5,1.25", "1.5,1.20")).unwrap();
        let changed = loader.load(&file).unwrap();
        assert!(!changed.cached);
        assert_ne!(changed.content_hash.get().unwrap(), first.content_hash.get().unwrap());
    }

    #[test]
    fn the_cache_is_written_while_the_caller_goes_on_and_whole_when_the_loader_is_dropped() {
        let dir = tempfile_dir("background");
        let cache = dir.join("cache");
        let files: Vec<PathBuf> = (0..3)
            .map(|i| {
                let file = dir.join(format!("F{i}.csv"));
                fs::write(&file, CSV.replace("10\n", &format!("1{i}\n"))).unwrap();
                file
            })
            .collect();
        let writes = CacheWrites::default();
        let loader = Loader::new(LoadOptions::default(), Some(cache.clone())).sharing_writes(&writes);
        for file in &files {
            assert!(!loader.load(file).unwrap().cached);
        }
        // The loader is gone; the writes it shares are waited for with them.
        drop(loader);
        drop(writes);
        let names: Vec<String> =
            fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names.iter().filter(|n| n.starts_with("bars-")).count(), 3, "{names:?}");
        assert_eq!(names.iter().filter(|n| n.starts_with("index-")).count(), 3, "{names:?}");
        assert!(!names.iter().any(|n| n.contains("tmp")), "no temporary file is left: {names:?}");
        let again = Loader::new(LoadOptions::default(), Some(cache));
        assert!(files.iter().all(|file| again.load(file).unwrap().cached));
    }

    #[test]
    fn a_damaged_cache_is_passed_over_and_errors_are_the_parsers() {
        let dir = tempfile_dir("damaged");
        let file = dir.join("X.csv");
        fs::write(&file, CSV).unwrap();
        let cache = dir.join("cache");
        let loader = Loader::new(LoadOptions::default(), Some(cache.clone()));
        let first = loader.load(&file).unwrap();
        loader.writes.wait();
        for entry in fs::read_dir(&cache).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with("bars-") {
                fs::write(&path, b"BTBARS\n\x01garbage").unwrap();
            }
        }
        let again = loader.load(&file).unwrap();
        assert!(!again.cached);
        assert_eq!(again.bars, first.bars);

        fs::write(&file, "Date,Open\n").unwrap();
        let err = loader.load(&file).unwrap_err();
        assert!(matches!(err, DataError::MissingColumns { .. }), "{err}");
        assert!(Loader::new(LoadOptions::default(), None).load(&dir.join("none.csv")).is_err());
    }

    #[test]
    fn a_full_cache_drops_the_least_recently_used() {
        let dir = tempfile_dir("prune");
        let cache = dir.join("cache");
        let loader = Loader::new(LoadOptions::default(), Some(cache.clone()));
        let files: Vec<PathBuf> = (0..3)
            .map(|i| {
                let file = dir.join(format!("F{i}.csv"));
                fs::write(&file, CSV.replace("10\n", &format!("1{i}\n"))).unwrap();
                loader.load(&file).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(20));
                file
            })
            .collect();
        // The first file used again: the second is now the least recently used.
        assert!(loader.load(&files[0]).unwrap().cached);
        loader.writes.wait();
        let sizes: Vec<u64> = fs::read_dir(&cache)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("bars-"))
            .map(|e| e.metadata().unwrap().len())
            .collect();
        assert_eq!(sizes.len(), 3);
        // Temporary files: one a killed process left an hour and more ago,
        // one being written now.
        let (abandoned, fresh) = (cache.join(".tmp-1-1-bars-x"), cache.join(".tmp-2-1-bars-y"));
        fs::write(&abandoned, b"partial").unwrap();
        fs::write(&fresh, b"partial").unwrap();
        let long_ago = std::time::SystemTime::now() - ABANDONED_AFTER - Duration::from_secs(60);
        File::options().write(true).open(&abandoned).unwrap().set_modified(long_ago).unwrap();
        prune(&cache, sizes.iter().sum::<u64>() - 1).unwrap();
        assert!(!abandoned.exists() && fresh.exists(), "only the abandoned temporary file goes");
        assert!(loader.load(&files[0]).unwrap().cached);
        assert!(loader.load(&files[2]).unwrap().cached);
        assert!(!loader.load(&files[1]).unwrap().cached, "the least recently used went first");
    }

    #[test]
    fn a_cancelled_load_fails_at_its_next_read_and_keeps_nothing() {
        let dir = tempfile_dir("cancelled");
        let file = dir.join("X.csv");
        fs::write(&file, CSV).unwrap();
        let cancel = CancelToken::new();
        let loader = Loader::new(LoadOptions::default(), Some(dir.join("cache"))).cancelled_by(&cancel);
        cancel.cancel();
        let err = loader.load(&file).unwrap_err();
        assert!(matches!(&err, DataError::Io { source, .. } if source.to_string() == "loading was cancelled"), "{err}");
        assert!(loader.hash_of(&file).is_none());
        assert!(!dir.join("cache").exists(), "nothing cached");
        // The same loader without the token reads it whole.
        let whole = Loader::new(LoadOptions::default(), Some(dir.join("cache"))).load(&file).unwrap();
        assert_eq!(whole.bars.len(), 2);
    }

    #[test]
    fn bars_of_a_file_that_changed_while_it_was_read_are_not_kept() {
        let dir = tempfile_dir("changed");
        let file = dir.join("X.csv");
        fs::write(&file, CSV).unwrap();
        let loaded = Loader::new(LoadOptions::default(), None).load(&file).unwrap();
        // Opened for parsing, then appended to before its hash was computed.
        let opened = File::open(&file).unwrap();
        let before = opened.metadata().unwrap();
        fs::write(&file, format!("{CSV}2020-01-03,2,3,1.5,2.5,2.25,30\n")).unwrap();
        let hash = FileHash::beside("X.csv", opened, before);
        let cache = dir.join("cache");
        let err =
            write_cached(&cache, &cache.join("index-x"), &loaded.bars, &hash, &LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("changed while it was read"), "{err}");
        let left: Vec<_> = fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "no entry and no temporary file: {left:?}");

        // Unchanged, the same write keeps the entry under the file's hash.
        let opened = File::open(&file).unwrap();
        let before = opened.metadata().unwrap();
        let hash = FileHash::beside("X.csv", opened, before);
        write_cached(&cache, &cache.join("index-x"), &loaded.bars, &hash, &LoadOptions::default()).unwrap();
        let index = fs::read_to_string(cache.join("index-x")).unwrap();
        assert_eq!(index, content_hash(&fs::read(&file).unwrap()));
        assert!(cache.join(bars_name(&index, &LoadOptions::default())).exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_is_hashed_as_it_is_parsed() {
        let dir = tempfile_dir("pipe");
        let fifo = dir.join("bars.csv");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is not available here");
            return;
        }
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::write(fifo, CSV).unwrap())
        };
        let loaded = Loader::new(LoadOptions::default(), None).load(&fifo).unwrap();
        writer.join().unwrap();
        assert_eq!(loaded.bars.len(), 2);
        assert_eq!(loaded.content_hash.get().unwrap(), content_hash(CSV.as_bytes()));
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bt-loader-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }
}
