//! `serve --watch DIR`: every `.rhai` and `.wasm` file in a directory is a
//! strategy named after the file. A saved change whose content differs
//! creates a new version (runs already queued or running keep theirs); a
//! file that does not compile creates none and its error is shown on the
//! strategy. Optionally the strategy's latest run is re-run on the new
//! version.
//!
//! Events are only hints. Reading a file is not one (our own read would
//! otherwise trigger the next, forever), and a file whose content is the
//! same as when it was last handled is left alone, so each broken content
//! is reported once however often it is saved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
use tokio::sync::mpsc;

use super::accounts::Actor;
use super::{params_json, strategies, RunEvent, RunRequest, Service, ServiceError};
use crate::store::{NewVersion, RunFilter, FIRST_USER_ID};
use crate::strategy::Runtime;

/// Keeps the directory watched while alive.
pub struct WatchGuard {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

/// How long events must be quiet before a file is read (editors and
/// compilers write in several steps).
const DEBOUNCE: Duration = Duration::from_millis(200);

/// Whether an event of this kind may mean that a file's content changed:
/// anything but an access, except the close that ends a write. Reading a
/// file gives only accesses (open, read, close without writing), so that
/// the watchers' own reads never count as a change; metadata changes do
/// count, as a `chmod` can make an unreadable file readable.
///
/// Shared with `dev`'s watcher, so that both react to the same events.
pub fn may_change_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(access) => *access == AccessKind::Close(AccessMode::Write),
        _ => true,
    }
}

/// The content hash of each watched file when it was last handled
/// (compiled or not).
type Seen = BTreeMap<PathBuf, String>;

/// The runtime for a watched file name; `None` for anything else,
/// including editor temp files.
fn runtime_of(path: &Path) -> Option<(Runtime, String)> {
    let name = path.file_stem()?.to_str()?;
    if name.is_empty() || name.starts_with('.') {
        return None;
    }
    // `.rhai` and `.wasm`, named as the runtime (a `.wat` is not watched).
    let runtime = path.extension()?.to_str()?.parse().ok()?;
    Some((runtime, name.to_string()))
}

/// The largest strategy file a watched directory may hold: a plugin's limit.
const MAX_WATCHED_FILE: u64 = 16 << 20;

/// The bytes of a watched file, if it is a regular file of at most
/// [`MAX_WATCHED_FILE`] bytes. A symlink (which could lead out of the
/// directory), a FIFO (whose read would block) or a device (`/dev/zero`
/// never ends) is refused without being read or followed.
fn read_watched(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let refuse = |what: String| Error::new(ErrorKind::InvalidInput, what);
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.file_type().is_file() {
        return Err(refuse("not a regular file (links, pipes and devices are not read)".into()));
    }
    let too_big =
        |len: u64| refuse(format!("{len} bytes; a watched strategy file may have at most {MAX_WATCHED_FILE}"));
    if meta.len() > MAX_WATCHED_FILE {
        return Err(too_big(meta.len()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Swapped for a link or a FIFO since the look above: neither is
        // followed nor waited on.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.file_type().is_file() {
        return Err(refuse("not a regular file (links, pipes and devices are not read)".into()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_WATCHED_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_WATCHED_FILE {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

impl Service {
    /// Loads every strategy file of `dir`, then watches it.
    ///
    /// # Errors
    /// `dir` is not a readable directory, or it cannot be watched.
    pub async fn watch_dir(&self, dir: &Path, rerun_on_change: bool) -> Result<WatchGuard, ServiceError> {
        let invalid = |e: String| ServiceError::invalid("--watch", e);
        let dir = dir.canonicalize().map_err(|e| invalid(format!("{}: {e}", dir.display())))?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| invalid(format!("{}: {e}", dir.display())))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| runtime_of(p).is_some())
            .collect();
        files.sort();
        let mut seen = Seen::new();
        for path in &files {
            self.sync_file(path, false, &mut seen).await;
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
        let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
            for event in result.unwrap_or_default().into_iter().filter(|e| may_change_content(&e.kind)) {
                for path in &event.paths {
                    let _ = tx.send(path.clone());
                }
            }
        })
        .map_err(|e| invalid(e.to_string()))?;
        debouncer.watch(&dir, RecursiveMode::NonRecursive).map_err(|e| invalid(e.to_string()))?;
        let service = self.clone();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut paths = BTreeSet::from([first]);
                while let Ok(Some(more)) = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
                    paths.insert(more);
                }
                for path in paths.iter().filter(|p| runtime_of(p).is_some()) {
                    service.sync_file(path, rerun_on_change, &mut seen).await;
                }
            }
        });
        tracing::info!(dir = %dir.display(), strategies = files.len(), "watching strategy files");
        Ok(WatchGuard { _debouncer: debouncer })
    }

    /// Brings the strategy of `path` up to date with the file unless its
    /// content is as `seen` last; logs what happened (the watch loop has no
    /// one to return an error to).
    async fn sync_file(&self, path: &Path, rerun_on_change: bool, seen: &mut Seen) {
        let Some(file) = runtime_of(path) else { return };
        let reading = path.to_path_buf();
        let read = tokio::task::spawn_blocking(move || read_watched(&reading))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        let bytes = match read {
            Ok(bytes) => bytes,
            // Deleted, or being replaced: the re-created file brings its own event.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read a strategy file");
                return;
            }
        };
        let hash = crate::domain::content_hash(&bytes);
        if seen.get(path) == Some(&hash) {
            return;
        }
        match self.try_sync_file(path, file, bytes, &hash, rerun_on_change).await {
            Ok(()) => {
                seen.insert(path.to_path_buf(), hash);
            }
            // Not remembered: the next event retries (e.g. after a database error).
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "cannot reload a strategy file"),
        }
    }

    /// Handles a content not handled before; a file that does not compile is
    /// reported (logged, and on an existing strategy shown and sent as an
    /// event) and is no error.
    async fn try_sync_file(
        &self,
        path: &Path,
        (runtime, name): (Runtime, String),
        bytes: Vec<u8>,
        hash: &str,
        rerun_on_change: bool,
    ) -> Result<(), ServiceError> {
        let runtime_name = runtime.as_str();
        let store = self.store();
        let existing = store.strategy_by_name(FIRST_USER_ID, &name).await?;
        if let Some(strategy) = &existing {
            if strategy.runtime != runtime_name {
                let message = format!(
                    "{} is a {runtime_name} file but strategy '{name}' is {}",
                    path.display(),
                    strategy.runtime
                );
                store.set_reload_error(strategy.id, Some(&message)).await?;
                return Ok(());
            }
            let latest = store.version(strategy.id, None).await?;
            if latest.is_some_and(|v| v.content_hash == hash) {
                // Back to the latest version (say, a broken save undone): it
                // compiled, so the error of the save in between is over.
                if strategy.last_reload_error.is_some() {
                    store.set_reload_error(strategy.id, None).await?;
                }
                return Ok(());
            }
        }
        // Compiling (a plugin's start function included) off the async runtime.
        let (limits, file_name) = (self.config().limits.clone(), name.clone());
        let compiled = tokio::task::spawn_blocking(move || strategies::check_code(runtime, bytes, &file_name, &limits))
            .await
            .unwrap_or_else(|e| Err(ServiceError::Internal(format!("compiling a watched file failed: {e}"))));
        let checked = match compiled {
            Ok(checked) => checked,
            Err(e) => {
                let message = match &e {
                    ServiceError::Compile { message, line: Some(l), column: Some(c) } => {
                        format!("{message} (line {l}, column {c})")
                    }
                    other => other.to_string(),
                };
                tracing::warn!(file = %path.display(), error = %message, "a watched file does not compile");
                if let Some(strategy) = &existing {
                    store.set_reload_error(strategy.id, Some(&message)).await?;
                    let _ = self
                        .strategy_channel(strategy.id)
                        .send(RunEvent::ReloadFailed { strategy_id: strategy.id, message });
                }
                return Ok(());
            }
        };
        let next = NewVersion {
            source: checked.bytes,
            content_hash: checked.content_hash,
            params_json: params_json::to_json(&checked.params),
        };
        let Some(strategy) = existing else {
            let (strategy, _) = store.create_strategy(FIRST_USER_ID, &name, runtime_name, "", next).await?;
            tracing::info!(strategy = strategy.id, name, "strategy created from a watched file");
            return Ok(());
        };
        let events = self.strategy_channel(strategy.id);
        let (version, _) = store.add_version(strategy.id, next).await?;
        tracing::info!(strategy = strategy.id, name, version = version.version, "new version from a watched file");
        let _ = events.send(RunEvent::VersionCreated { strategy_id: strategy.id, version: version.version });
        if rerun_on_change {
            let latest =
                RunFilter { strategy_id: Some(strategy.id), limit: Some(1), newest_first: true, ..Default::default() };
            let runs = store.runs(latest).await?;
            if let Some(last) = runs.first() {
                let mut request: RunRequest = serde_json::from_str(&last.config)
                    .map_err(|e| ServiceError::Conflict(format!("run {}'s config cannot be read: {e}", last.id)))?;
                request.version = Some(version.version);
                // The stored params are resolved (defaults filled in); keep
                // only what differed from the old version's defaults, so the
                // new version's own defaults apply.
                if let Some(old) = store.version_by_id(last.version_id).await? {
                    let defaults = params_json::from_json(&old.params).unwrap_or_default();
                    request.params.retain(|name, value| {
                        defaults
                            .iter()
                            .find(|p| p.name == *name)
                            .is_none_or(|p| serde_json::to_value(&p.default).ok().as_ref() != Some(value))
                    });
                }
                let owner = Actor { user_id: last.owner_id, sees_all: true };
                let queued = self.submit(owner, request, Some(last.id)).await?;
                tracing::info!(strategy = strategy.id, run = queued.id, "re-running on the new version");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, DataChange, MetadataKind, ModifyKind, RemoveKind, RenameMode};

    use super::*;

    #[test]
    fn reading_a_file_is_no_change_and_writing_one_is() {
        let reads = [
            AccessKind::Any,
            AccessKind::Read,
            AccessKind::Open(AccessMode::Any),
            AccessKind::Open(AccessMode::Read),
            AccessKind::Close(AccessMode::Read),
            AccessKind::Close(AccessMode::Execute),
            AccessKind::Other,
        ];
        for kind in reads.map(EventKind::Access) {
            assert!(!may_change_content(&kind), "{kind:?}");
        }
        let changes = [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Permissions)),
            EventKind::Modify(ModifyKind::Any),
            EventKind::Remove(RemoveKind::File),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Any,
        ];
        for kind in changes {
            assert!(may_change_content(&kind), "{kind:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_of_bounded_size_are_read_and_nothing_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.rhai");
        std::fs::write(&plain, "fn on_bar(ctx) {}").unwrap();
        assert_eq!(read_watched(&plain).unwrap(), b"fn on_bar(ctx) {}");

        // A link out of the directory is not followed.
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "secret").unwrap();
        let link = dir.path().join("b.rhai");
        std::os::unix::fs::symlink(outside.path(), &link).unwrap();
        assert!(read_watched(&link).unwrap_err().to_string().contains("not a regular file"));

        // A FIFO is refused at once (opening it for reading would wait for a writer).
        let fifo = dir.path().join("c.rhai");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        #[allow(unsafe_code)]
        let made = unsafe { libc::mkfifo(name.as_ptr(), 0o600) };
        assert_eq!(made, 0);
        assert!(read_watched(&fifo).unwrap_err().to_string().contains("not a regular file"));

        // A device that never ends, and a file over the limit (sparse, nothing written).
        assert!(read_watched(Path::new("/dev/zero")).is_err());
        let big = dir.path().join("d.wasm");
        std::fs::File::create(&big).unwrap().set_len(MAX_WATCHED_FILE + 1).unwrap();
        assert!(read_watched(&big).unwrap_err().to_string().contains("may have at most"));
    }
}
