//! Compiled modules, cached by content so that a plugin is compiled once.
//!
//! Keys are the SHA-256 of the module's bytes plus wasmtime's compatibility
//! hash (engine version and settings). Modules live in memory for the
//! process and, when a cache directory is available, on disk as wasmtime's
//! precompiled artifacts. Only artifacts this host wrote are deserialized:
//! the file name carries the hash of the source it was compiled from, and
//! uploaded or user-supplied precompiled code is never accepted.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Mutex;

use wasmtime::{Engine, Module};

/// Where a module came from, for reporting compile time apart from runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Compiled from its bytes now: no cache had it.
    Compiled,
    /// Taken from this process's memory.
    MemoryCache,
    /// Loaded from a precompiled artifact in the cache directory.
    DiskCache,
}

/// The cache of one engine.
pub struct ModuleCache {
    compat: String,
    memory: Mutex<HashMap<String, Module>>,
    dir: Option<PathBuf>,
}

impl ModuleCache {
    /// A cache for `engine`, on disk under [`cache_dir`] when there is one.
    pub fn new(engine: &Engine) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        ModuleCache {
            compat: format!("{:016x}", hasher.finish()),
            memory: Mutex::new(HashMap::new()),
            dir: cache_dir(),
        }
    }

    /// The module for `bytes` (binary or text), compiling it only if no
    /// cache has it.
    ///
    /// # Errors
    /// The bytes are not a valid module (wasmtime's message).
    pub fn get_or_compile(&self, engine: &Engine, bytes: &[u8]) -> Result<(Module, Origin), String> {
        let key = format!("{}-{}", crate::domain::content_hash(bytes), self.compat);
        if let Some(module) = self.memory.lock().map_err(|_| "module cache poisoned")?.get(&key) {
            return Ok((module.clone(), Origin::MemoryCache));
        }
        let path = self.dir.as_ref().map(|d| d.join(format!("{key}.cwasm")));
        if let Some(path) = path.as_ref().filter(|p| p.is_file()) {
            // SAFETY: the file is named after the SHA-256 of the source it
            // was compiled from and sits in this host's own cache directory;
            // wasmtime also rejects artifacts from another version or config.
            #[allow(unsafe_code)]
            let cached = unsafe { Module::deserialize_file(engine, path) };
            if let Ok(module) = cached {
                self.remember(key, &module);
                return Ok((module, Origin::DiskCache));
            }
        }
        let module = Module::new(engine, bytes).map_err(|e| format!("{e:#}"))?;
        if let Some(path) = path {
            store_artifact(&module, &path);
        }
        self.remember(key, &module);
        Ok((module, Origin::Compiled))
    }

    fn remember(&self, key: String, module: &Module) {
        if let Ok(mut memory) = self.memory.lock() {
            memory.insert(key, module.clone());
        }
    }
}

/// Writes a compiled module atomically (temporary file, then rename); a
/// failure only costs a recompile next time, so it is logged, not raised.
fn store_artifact(module: &Module, path: &std::path::Path) {
    let result = (|| -> std::io::Result<()> {
        let bytes = module.serialize().map_err(std::io::Error::other)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot cache a compiled plugin");
    }
}

/// `$BACKTESTER_CACHE_DIR/wasm`, else `$XDG_CACHE_HOME/backtester/wasm`,
/// else `$HOME/.cache/backtester/wasm`; `None` when none is set.
pub fn cache_dir() -> Option<PathBuf> {
    let env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("BACKTESTER_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("backtester")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("backtester")))
        .map(|d| d.join("wasm"))
}
