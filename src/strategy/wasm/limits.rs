//! Sandbox limits for WASM plugins.

use std::time::Duration;

/// How much work one run of a plugin may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Wall-clock time for the whole run, enforced with epoch interruption
    /// (cheap: about a load and a compare per loop iteration).
    Time(Duration),
    /// Instructions for the whole run, counted with wasmtime's fuel:
    /// deterministic (the same plugin and data always stop at the same
    /// place) but slower.
    Fuel(u64),
}

/// Bounds on what one plugin instance may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WasmLimits {
    /// Time or fuel for the whole run.
    pub budget: Budget,
    /// Linear memory, in bytes; growing past it traps.
    pub memory_bytes: usize,
    /// Largest module accepted, in bytes.
    pub max_module_bytes: usize,
}

impl Default for WasmLimits {
    fn default() -> Self {
        WasmLimits { budget: Budget::Time(Duration::from_secs(60)), memory_bytes: 64 << 20, max_module_bytes: 16 << 20 }
    }
}

/// Time a plugin may take to load (its start function, `bt_abi_version` and
/// `bt_params`), whatever its budget: an upload is checked by loading it, so
/// a plugin that loops there must not hold the service.
pub const LOAD_TIME_LIMIT: Duration = Duration::from_secs(5);

/// Longest string a plugin may hand the host (a name, a default, a log
/// line), as Rhai's strings.
pub const MAX_HOST_STRING: usize = 64 << 10;
/// Most parameters a plugin may declare; declaring one more fails `bt_params`.
pub const MAX_PARAMS: usize = 256;

/// Wasm stack per call, fixed per engine; deep recursion traps past it.
pub const MAX_WASM_STACK: usize = 512 << 10;
