//! Strategies written as sandboxed WebAssembly plugins (wasmtime, core
//! modules, ABI versions 1 to 4: see plugins/README.md).
//!
//! A plugin imports only the host functions of module `bt` (no WASI), so its
//! only way out is the strategy API. Each run gets its own instance with a
//! memory limit and a CPU budget; a trap, a panic or an exhausted budget
//! fails that run with a message naming the plugin function, and the host
//! goes on.

mod abi;
mod cache;
mod caller;
mod driven;
mod errors;
mod host;
mod host_portfolio;
mod imports;
mod limits;
mod runtime;
mod shared;

use std::time::{Duration, Instant};

use wasmtime::{Instance, Memory, Module, Store, StoreLimitsBuilder, TypedFunc, UpdateDeadline};

pub use cache::{cache_dir, Origin};
pub use limits::{Budget, WasmLimits, LOAD_TIME_LIMIT, MAX_HOST_STRING, MAX_PARAMS, MAX_WASM_STACK};

use super::{BudgetUsage, SandboxUsage, Strategy, StrategyError, WasmUsage};
use crate::domain::CancelToken;
use crate::session::{BarLoop, ParamSpec, StrategyCtx};
use host::HostState;

/// A plugin module compiled for this host, ready to be instantiated for
/// runs; cheap to clone.
#[derive(Clone)]
pub struct CompiledPlugin {
    module: Module,
    fuel: bool,
    /// The ABI version its `bt_abi_version` custom section states, if it has one.
    abi_section: Option<i32>,
    /// Whether it came from a cache, and how long getting it took.
    pub origin: Origin,
    /// Time taken to compile or fetch it and check it against the ABI.
    pub load_time: Duration,
}

impl CompiledPlugin {
    /// Compiles (or fetches from the cache) the module in `bytes`, binary or
    /// text, and checks it against the ABI.
    ///
    /// # Errors
    /// Bytes over the size limit, an invalid module, or one that breaks the
    /// ABI (missing or mistyped exports, imports from outside `bt`).
    pub fn compile(bytes: &[u8], file: &str, limits: &WasmLimits) -> Result<Self, StrategyError> {
        let invalid = |message: String| StrategyError::invalid(file, message);
        if bytes.len() > limits.max_module_bytes {
            return Err(invalid(format!("module is {} bytes; the limit is {}", bytes.len(), limits.max_module_bytes)));
        }
        let fuel = matches!(limits.budget, Budget::Fuel(_));
        let started = Instant::now();
        let rt = runtime::runtime(fuel).map_err(invalid)?;
        let (module, origin) = rt
            .cache
            .get_or_compile(&rt.engine, bytes)
            .map_err(|e| invalid(format!("not a valid WebAssembly module: {e}")))?;
        let abi_section = abi::check(&module, bytes).map_err(invalid)?;
        Ok(CompiledPlugin { module, fuel, abi_section, origin, load_time: started.elapsed() })
    }
}

/// One instance of a plugin, for one run.
pub struct WasmStrategy {
    name: String,
    store: Store<HostState>,
    init: Option<TypedFunc<(), i32>>,
    /// `bt_on_bar`, unless the plugin drives the bar loop itself.
    on_bar: Option<TypedFunc<(), i32>>,
    /// `bt_on_bars` (ABI version 4), when the plugin drives the bar loop itself.
    on_bars: Option<TypedFunc<(), i32>>,
    on_finish: Option<TypedFunc<(), i32>>,
    memory: Memory,
    declared: Vec<ParamSpec>,
    limits: WasmLimits,
    /// When the run's budget started (in `init`), and how long the run had
    /// taken when `on_finish` returned.
    run_started: Option<Instant>,
    run_time: Option<Duration>,
}

impl WasmStrategy {
    /// Instantiates `plugin`, checks its ABI version and reads its parameters.
    ///
    /// # Errors
    /// A wrong ABI version, a failing `bt_params`, or instantiation errors
    /// (e.g. an import with the wrong signature), each naming the problem.
    pub fn instantiate(
        plugin: &CompiledPlugin,
        file: &str,
        limits: WasmLimits,
        cancel: CancelToken,
    ) -> Result<Self, StrategyError> {
        let invalid = |message: String| StrategyError::invalid(file, message);
        let rt = runtime::runtime(plugin.fuel).map_err(invalid)?;
        let state = HostState {
            ctx: None,
            declaring: false,
            declared: Vec::new(),
            failure: None,
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .instances(1)
                .memories(1)
                .tables(4)
                .table_elements(100_000)
                .trap_on_grow_failure(true)
                .build(),
            cancel,
            deadline: Some(Instant::now() + LOAD_TIME_LIMIT),
            shared: None,
            memory: None,
            bar_loop: None,
        };
        let mut store = Store::new(&rt.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            let state = ctx.data();
            let expired = state.deadline.is_some_and(|d| Instant::now() >= d);
            Ok(if state.cancel.is_cancelled() || expired {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Continue(1)
            })
        });
        if plugin.fuel {
            // Instantiation and bt_params get a small allowance of their own;
            // the run's budget is set in init.
            store.set_fuel(10_000_000).map_err(|e| invalid(e.to_string()))?;
        }
        let linker = host::linker(&rt.engine).map_err(|e| invalid(format!("{e:#}")))?;
        let instance = linker
            .instantiate(&mut store, &plugin.module)
            .map_err(|e| invalid(format!("cannot instantiate: {}", errors::describe(&e, &store))))?;
        let mut strategy = WasmStrategy::bind(file, store, &instance, limits).map_err(invalid)?;
        // A custom section was checked in compile; an export is checked (and
        // compared with the section) here.
        if plugin.abi_section.is_none() || plugin.module.get_export(abi::ABI_VERSION_EXPORT).is_some() {
            let version: TypedFunc<(), i32> = instance
                .get_typed_func(&mut strategy.store, abi::ABI_VERSION_EXPORT)
                .map_err(|e| invalid(e.to_string()))?;
            let version = version.call(&mut strategy.store, ()).map_err(|e| {
                invalid(format!("{}(): {}", abi::ABI_VERSION_EXPORT, errors::describe(&e, &strategy.store)))
            })?;
            abi::check_agreement(plugin.abi_section, version).map_err(invalid)?;
            // Refuses a version below 4 that exports bt_on_bars, among others.
            abi::check_version(&plugin.module, version).map_err(invalid)?;
        }
        if let Ok(params) = instance.get_typed_func::<(), ()>(&mut strategy.store, abi::PARAMS.name) {
            strategy.store.data_mut().declaring = true;
            let result = params.call(&mut strategy.store, ());
            strategy.store.data_mut().declaring = false;
            result.map_err(|e| invalid(format!("bt_params(): {}", errors::describe(&e, &strategy.store))))?;
            strategy.declared = std::mem::take(&mut strategy.store.data_mut().declared);
        }
        Ok(strategy)
    }

    fn bind(file: &str, mut store: Store<HostState>, instance: &Instance, limits: WasmLimits) -> Result<Self, String> {
        let mut optional = |name: &str| instance.get_typed_func::<(), i32>(&mut store, name).ok();
        let init = optional(abi::INIT.name);
        let on_finish = optional(abi::ON_FINISH.name);
        let on_bar = optional(abi::ON_BAR.name);
        let on_bars = optional(abi::ON_BARS.name);
        let memory = instance.get_memory(&mut store, "memory").ok_or("the plugin does not export its memory")?;
        store.data_mut().memory = Some(memory);
        Ok(WasmStrategy {
            name: file.to_string(),
            store,
            init,
            on_bar,
            on_bars,
            on_finish,
            memory,
            declared: Vec::new(),
            limits,
            run_started: None,
            run_time: None,
        })
    }
}

/// Calls lifecycle export `export`: 0 is success; any other status or a
/// trap fails the run with the reason.
fn call(
    store: &mut Store<HostState>,
    func: &TypedFunc<(), i32>,
    export: &str,
    limits: &WasmLimits,
) -> Result<(), StrategyError> {
    match func.call(&mut *store, ()) {
        Ok(0) => Ok(()),
        Ok(status) => {
            let message = store.data_mut().failure.take().unwrap_or_else(|| "no message given".into());
            Err(StrategyError::Runtime {
                message: format!("plugin {export}() returned {status}: {message}"),
                line: None,
                column: None,
            })
        }
        Err(err) => Err(errors::call_failed(export, &err, store, limits)),
    }
}

impl Strategy for WasmStrategy {
    fn name(&self) -> &str {
        &self.name
    }

    fn declared_params(&self) -> &[ParamSpec] {
        &self.declared
    }

    fn init(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError> {
        let started = Instant::now();
        self.run_started = Some(started);
        let budget = match self.limits.budget {
            Budget::Time(limit) => {
                self.store.data_mut().deadline = Some(started + limit);
                Ok(())
            }
            Budget::Fuel(fuel) => {
                // The run is bounded by its fuel, not by the load's clock.
                self.store.data_mut().deadline = None;
                self.store.set_fuel(fuel)
            }
        };
        budget.map_err(|e| StrategyError::Runtime { message: e.to_string(), line: None, column: None })?;
        self.store.data_mut().ctx = Some(ctx.clone());
        match &self.init {
            Some(init) => call(&mut self.store, init, abi::INIT.name, &self.limits),
            None => Ok(()),
        }
    }

    #[inline]
    fn on_bar(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError> {
        if let Some(area) = self.store.data().shared {
            let memory = self.memory.data_mut(&mut self.store);
            ctx.with_indicators(|bank| shared::write(area, bank, memory))
                .map_err(|message| StrategyError::Runtime { message, line: None, column: None })?;
        }
        match &self.on_bar {
            Some(on_bar) => call(&mut self.store, on_bar, abi::ON_BAR.name, &self.limits),
            None => Err(StrategyError::Runtime {
                message: format!("the plugin exports no {}", abi::ON_BAR.name),
                line: None,
                column: None,
            }),
        }
    }

    fn drives_bars(&self) -> bool {
        self.on_bars.is_some()
    }

    fn on_bars(&mut self, _ctx: &StrategyCtx, bars: &BarLoop) -> Result<(), StrategyError> {
        let Some(on_bars) = &self.on_bars else {
            return Err(StrategyError::Runtime {
                message: format!("the plugin exports no {}", abi::ON_BARS.name),
                line: None,
                column: None,
            });
        };
        self.store.data_mut().bar_loop = Some(bars.clone());
        let result = call(&mut self.store, on_bars, abi::ON_BARS.name, &self.limits);
        self.store.data_mut().bar_loop = None;
        result
    }

    fn on_finish(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        let result = match &self.on_finish {
            Some(finish) => call(&mut self.store, finish, abi::ON_FINISH.name, &self.limits),
            None => Ok(()),
        };
        self.run_time = self.run_started.map(|started| started.elapsed());
        self.store.data_mut().ctx = None;
        result
    }

    fn sandbox_usage(&self) -> Option<SandboxUsage> {
        let budget = match self.limits.budget {
            Budget::Fuel(limit) => {
                // `init` set the tank to `limit` and nothing refills it. Reading
                // fails only on an engine without fuel, where `init` could not
                // set it either and the run failed.
                let left = if self.run_started.is_some() { self.store.get_fuel().unwrap_or(limit) } else { limit };
                BudgetUsage::Fuel { fuel_used: limit.saturating_sub(left), fuel_limit: limit }
            }
            Budget::Time(limit) => {
                let used = self.run_time.or_else(|| self.run_started.map(|s| s.elapsed())).unwrap_or_default();
                BudgetUsage::Time { time_used_ms: millis(used), time_budget_ms: millis(limit) }
            }
        };
        Some(SandboxUsage::Wasm(WasmUsage {
            budget,
            // Linear memory only grows (WebAssembly has `memory.grow` and no
            // shrink, nor has wasmtime's API), so its size now is its peak.
            peak_memory_bytes: self.memory.data_size(&self.store) as u64,
            memory_limit_bytes: self.limits.memory_bytes as u64,
        }))
    }
}

/// A duration in milliseconds, to the microsecond.
fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

#[cfg(test)]
mod driven_tests;
#[cfg(test)]
mod sandbox_tests;
#[cfg(test)]
mod section_tests;
#[cfg(test)]
mod shared_tests;
#[cfg(test)]
mod tests;
