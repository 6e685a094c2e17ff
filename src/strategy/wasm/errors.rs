//! Turning a failed plugin call into a message that says what happened and
//! where: the trap, the plugin function it happened in, and the message the
//! plugin left with `bt.fail` (the SDK's panic hook puts panics there).

use wasmtime::{Store, Trap, WasmBacktrace};

use super::host::HostState;
use super::limits::{Budget, WasmLimits, LOAD_TIME_LIMIT, MAX_WASM_STACK};
use crate::strategy::StrategyError;

/// The error of a failed call of lifecycle export `export`.
pub fn call_failed(
    export: &str,
    err: &wasmtime::Error,
    store: &mut Store<HostState>,
    limits: &WasmLimits,
) -> StrategyError {
    let state = store.data_mut();
    let failure = state.failure.take();
    let trap = err.downcast_ref::<Trap>();
    let (kind, message) = match trap {
        Some(Trap::Interrupt) if state.cancel.is_cancelled() => return StrategyError::Cancelled,
        Some(Trap::Interrupt) => match limits.budget {
            Budget::Time(t) => (Kind::Budget, format!("exceeded its CPU budget of {} s for the run", t.as_secs_f64())),
            Budget::Fuel(f) => (Kind::Budget, format!("was interrupted after its fuel budget of {f}")),
        },
        Some(Trap::OutOfFuel) => match limits.budget {
            Budget::Fuel(f) => (Kind::Budget, format!("ran out of fuel: its budget is {f} instructions for the run")),
            Budget::Time(_) => (Kind::Budget, "ran out of fuel".into()),
        },
        Some(Trap::StackOverflow) => {
            (Kind::Trap, format!("overflowed its stack of {} KiB (recursion too deep?)", MAX_WASM_STACK >> 10))
        }
        Some(Trap::UnreachableCodeReached) => match &failure {
            Some(m) => (Kind::Trap, format!("panicked: {m}")),
            None => (Kind::Trap, "trapped: wasm `unreachable` executed (a panic?)".into()),
        },
        Some(trap) => (Kind::Trap, format!("trapped: {trap}")),
        None if is_memory_limit(err) => {
            (Kind::Runtime, format!("exceeded its memory limit of {} MiB", limits.memory_bytes >> 20))
        }
        None => (Kind::Runtime, root_message(err)),
    };
    let message = match (failure, trap) {
        (Some(f), Some(t)) if *t != Trap::UnreachableCodeReached => format!("{message} ({f})"),
        _ => message,
    };
    let message = format!("plugin {export}(){}: {message}", in_function(err));
    match kind {
        Kind::Budget => StrategyError::Budget { message, line: None, column: None },
        Kind::Trap => StrategyError::Trap { message, line: None, column: None },
        Kind::Runtime => StrategyError::Runtime { message, line: None, column: None },
    }
}

/// Which [`StrategyError`] a failed call becomes.
enum Kind {
    /// Out of fuel or CPU time.
    Budget,
    /// A wasm trap (a panic is an `unreachable`).
    Trap,
    /// A host function's error, or a memory limit hit without a trap.
    Runtime,
}

/// A short description of a failed call outside the run loop.
pub fn describe(err: &wasmtime::Error, store: &Store<HostState>) -> String {
    if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) && !store.data().cancel.is_cancelled() {
        return format!(
            "took longer than the {} s a plugin may take to load{}",
            LOAD_TIME_LIMIT.as_secs(),
            in_function(err)
        );
    }
    let failure = store.data().failure.as_deref().map(|f| format!(" ({f})")).unwrap_or_default();
    format!("{}{}{failure}", root_message(err), in_function(err))
}

/// The host's own message for host-function errors (e.g. `bt.log: ...`),
/// else wasmtime's.
fn root_message(err: &wasmtime::Error) -> String {
    err.root_cause().to_string()
}

fn is_memory_limit(err: &wasmtime::Error) -> bool {
    err.chain().any(|e| {
        let text = e.to_string();
        text.contains("memory") && (text.contains("grow") || text.contains("limit"))
    })
}

/// " in `function`": the innermost plugin function on the stack, demangled,
/// if the module has names for it.
fn in_function(err: &wasmtime::Error) -> String {
    err.downcast_ref::<WasmBacktrace>()
        .and_then(|bt| bt.frames().iter().find_map(|f| f.func_name()))
        .map(|name| format!(" in `{:#}`", rustc_demangle::demangle(name)))
        .unwrap_or_default()
}
