//! The process-wide wasmtime engines: one interrupted by epochs, one that
//! also counts fuel, each with its compiled-module cache.

use std::sync::OnceLock;
use std::time::Duration;

use wasmtime::{Config, Engine, OptLevel};

use super::cache::ModuleCache;
use super::limits::MAX_WASM_STACK;

/// How often the epoch advances: the granularity of time budgets and of
/// cancellation reaching a running plugin.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// An engine and its module cache.
pub struct WasmRuntime {
    pub engine: Engine,
    pub cache: ModuleCache,
}

static EPOCH: OnceLock<Result<WasmRuntime, String>> = OnceLock::new();
static FUEL: OnceLock<Result<WasmRuntime, String>> = OnceLock::new();

/// The shared runtime for time budgets (`fuel = false`) or fuel budgets.
///
/// # Errors
/// The engine cannot be configured on this machine (the message says why).
pub fn runtime(fuel: bool) -> Result<&'static WasmRuntime, String> {
    let cell = if fuel { &FUEL } else { &EPOCH };
    cell.get_or_init(|| WasmRuntime::new(fuel)).as_ref().map_err(Clone::clone)
}

impl WasmRuntime {
    fn new(fuel: bool) -> Result<Self, String> {
        let mut config = Config::new();
        // Epochs are on in both engines so that cancellation reaches a
        // running plugin; the fuel engine also counts instructions.
        config
            .epoch_interruption(true)
            .consume_fuel(fuel)
            .max_wasm_stack(MAX_WASM_STACK)
            .cranelift_opt_level(OptLevel::Speed);
        let engine = Engine::new(&config).map_err(|e| format!("cannot start the WASM engine: {e:#}"))?;
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                ticker.increment_epoch();
            })
            .map_err(|e| format!("cannot start the WASM epoch thread: {e}"))?;
        let cache = ModuleCache::new(&engine);
        Ok(WasmRuntime { engine, cache })
    }
}
