//! Watching a run's input files: directory watches, event filtering and content hashes.
//!
//! Each file's parent directory is watched (not the file: editors that save by
//! renaming a new file over the old one would end a watch on the file itself),
//! and events are kept only when they name a watched file. An event is only a
//! hint: a file counts as changed when the SHA-256 of its content differs from
//! the last one seen, so the several events of one save, a touch, or a rewrite
//! of the same bytes never yield more than one change.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use anyhow::Context;
use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
use sha2::{Digest, Sha256};

use crate::data::DataSpec;
use crate::service::may_change_content;

/// How long after a batch of events further batches are merged into it, so
/// that a save the debouncer split in two is still looked at once.
const SETTLE: Duration = Duration::from_millis(50);

/// One input of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    /// The strategy file.
    Strategy,
    /// The data file of the `--data` argument with this index.
    Data(usize),
    /// The `--benchmark` file.
    Benchmark,
}

/// A watched file.
struct File {
    input: Input,
    /// The path as given, for messages.
    path: PathBuf,
    /// The canonical parent directory, as watched.
    dir: PathBuf,
    name: OsString,
    /// The SHA-256 of the content last seen; `None` before it was read.
    hash: Option<[u8; 32]>,
    present: bool,
}

/// What one look at the watched files found.
#[derive(Debug, Default)]
pub struct Found {
    /// Inputs whose content differs from the last seen.
    pub changed: Vec<Input>,
    /// Files that just went missing (deleted, or being replaced).
    pub gone: Vec<PathBuf>,
    /// Errors of the watcher or of reading a file.
    pub errors: Vec<String>,
}

/// Watches the strategy, data and benchmark files of a run.
pub struct Watch {
    files: Vec<File>,
    events: Receiver<DebounceEventResult>,
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
}

impl Watch {
    /// Starts watching the directories of `strategy`, the `data` files and
    /// the `benchmark` file if any, with events debounced by `debounce`, and
    /// records their content.
    ///
    /// # Errors
    /// A path without a file name, a directory that does not exist or cannot
    /// be watched.
    pub fn start(
        strategy: &Path,
        data: &[DataSpec],
        benchmark: Option<&Path>,
        debounce: Duration,
    ) -> anyhow::Result<Watch> {
        let inputs = std::iter::once((Input::Strategy, strategy))
            .chain(data.iter().enumerate().map(|(i, spec)| (Input::Data(i), spec.path.as_path())))
            .chain(benchmark.map(|path| (Input::Benchmark, path)));
        let mut files = inputs.map(|(input, path)| File::new(input, path)).collect::<anyhow::Result<Vec<_>>>()?;
        let (tx, events) = mpsc::channel();
        let mut debouncer = new_debouncer(debounce, None, tx).context("starting the file watcher")?;
        let dirs: BTreeSet<&Path> = files.iter().map(|f| f.dir.as_path()).collect();
        for dir in dirs {
            debouncer.watch(dir, RecursiveMode::NonRecursive).with_context(|| format!("watching {}", dir.display()))?;
        }
        // Hashed after the watches start, so no change slips between the two.
        for file in &mut files {
            let (hash, present) = match file.read_hash() {
                Ok(hash) => (hash, hash.is_some()),
                Err(_) => (None, true),
            };
            (file.hash, file.present) = (hash, present);
        }
        Ok(Watch { files, events, _debouncer: debouncer })
    }

    /// Whether every watched file exists (as last seen).
    pub fn all_present(&self) -> bool {
        self.files.iter().all(|f| f.present)
    }

    /// Waits up to `timeout` for events, then re-reads the files they name.
    ///
    /// Returns what changed; empty if nothing did or nothing happened.
    pub fn wait(&mut self, timeout: Duration) -> Found {
        let mut found = Found::default();
        let Ok(first) = self.events.recv_timeout(timeout) else {
            return found;
        };
        let mut touched = BTreeSet::new();
        self.collect(first, &mut touched, &mut found);
        while let Ok(more) = self.events.recv_timeout(SETTLE) {
            self.collect(more, &mut touched, &mut found);
        }
        for index in touched {
            let file = &mut self.files[index];
            match file.read_hash() {
                Ok(Some(hash)) => {
                    file.present = true;
                    if file.hash != Some(hash) {
                        file.hash = Some(hash);
                        found.changed.push(file.input);
                    }
                }
                Ok(None) => {
                    if std::mem::replace(&mut file.present, false) {
                        found.gone.push(file.path.clone());
                    }
                }
                Err(e) => found.errors.push(format!("{}: {e}", file.path.display())),
            }
        }
        found
    }

    /// Adds the indices of the files a batch of events names to `touched`.
    fn collect(&self, batch: DebounceEventResult, touched: &mut BTreeSet<usize>, found: &mut Found) {
        let events = match batch {
            Ok(events) => events,
            Err(errors) => {
                found.errors.extend(errors.iter().map(ToString::to_string));
                return;
            }
        };
        for event in events {
            if event.need_rescan() {
                // Events were lost: any file may have changed.
                touched.extend(0..self.files.len());
                continue;
            }
            // Reading a file (ours included) is no change; finishing a write is.
            if !may_change_content(&event.kind) {
                continue;
            }
            for path in &event.paths {
                let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { continue };
                if is_editor_temp(name) {
                    continue;
                }
                touched.extend(
                    self.files.iter().enumerate().filter(|(_, f)| f.dir == dir && f.name == name).map(|(i, _)| i),
                );
            }
        }
    }
}

impl File {
    fn new(input: Input, path: &Path) -> anyhow::Result<File> {
        let name = path.file_name().with_context(|| format!("{} does not name a file", path.display()))?;
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let dir = parent.canonicalize().with_context(|| format!("cannot watch {}", parent.display()))?;
        Ok(File { input, path: path.to_path_buf(), dir, name: name.to_owned(), hash: None, present: false })
    }

    /// The SHA-256 of the file's content; `None` if the file does not exist.
    fn read_hash(&self) -> std::io::Result<Option<[u8; 32]>> {
        match std::fs::read(self.dir.join(&self.name)) {
            Ok(bytes) => Ok(Some(Sha256::digest(&bytes).into())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether `name` is one of the temporary files editors write beside the
/// file they save: vim's swap files (`.x.swp`) and write test (`4913`),
/// backups (`x~`) and Emacs lock files (`.#x`).
pub fn is_editor_temp(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.ends_with(".swp") || name.ends_with(".swx") || name.ends_with('~') || name.starts_with(".#") || name == "4913"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_temp_files_are_recognised() {
        for name in [".sma_cross.rhai.swp", ".sma_cross.rhai.swx", "sma_cross.rhai~", ".#sma_cross.rhai", "4913"] {
            assert!(is_editor_temp(OsStr::new(name)), "{name}");
        }
        for name in ["sma_cross.rhai", "GOOG.csv", "49130", "plugin.wasm"] {
            assert!(!is_editor_temp(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn a_missing_file_hashes_to_none_and_content_decides_the_hash() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::new(Input::Strategy, &dir.path().join("s.rhai")).unwrap();
        assert_eq!(file.read_hash().unwrap(), None);
        std::fs::write(dir.path().join("s.rhai"), "a").unwrap();
        let first = file.read_hash().unwrap();
        std::fs::write(dir.path().join("s.rhai"), "a").unwrap();
        assert_eq!(file.read_hash().unwrap(), first, "same bytes, same hash");
        std::fs::write(dir.path().join("s.rhai"), "b").unwrap();
        assert_ne!(file.read_hash().unwrap(), first);
    }

    #[test]
    fn a_bare_file_name_is_watched_in_the_current_directory() {
        let file = File::new(Input::Strategy, Path::new("s.rhai")).unwrap();
        assert_eq!(file.dir, std::env::current_dir().unwrap().canonicalize().unwrap());
        assert_eq!(file.name, "s.rhai");
    }
}
