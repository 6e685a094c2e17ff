//! Calls of the script's lifecycle functions that keep Rhai's runtime state
//! (and so its function-resolution cache) from one call to the next.
//!
//! `Engine::call_fn_with_options` builds a fresh `GlobalRuntimeState` and an
//! empty `Caches` for every call, so every bar resolved `on_bar` and each
//! host function it calls from scratch (Rhai caches a resolution only when
//! it sees it twice within one cache's life). Holding both here, as the
//! `internals` feature allows, lets a run resolve each call site once: about
//! 870 of 8,350 instructions per bar of `scripts/sma_cross.rhai` (callgrind,
//! rhai 1.27). `EvalContext::call_fn_raw` is the one public way to call a
//! script function on a state of our own; the direct one that
//! `call_fn_with_options` takes (`Engine::call_script_fn`) is crate-private.

use rhai::{Caches, Dynamic, Engine, EvalAltResult, EvalContext, GlobalRuntimeState, Scope, StaticVec, AST};

/// Call levels that `EvalContext::call_fn_raw` uses before the called
/// function's body runs (one of its own and one for the dispatch), where
/// `call_fn_with_options` uses none: the engine's limit is raised by this
/// much so that a script may nest as many calls as its limits say.
pub const ENTRY_CALL_LEVELS: usize = 2;

/// Rhai's runtime state for one run of one script.
pub struct Caller {
    global: GlobalRuntimeState,
    caches: Caches,
}

impl Caller {
    /// A state that sees `ast`'s functions, with a cold cache.
    pub fn new(engine: &Engine, ast: &AST) -> Self {
        let mut global = engine.new_global_runtime_state();
        global.lib.push(ast.shared_lib().clone());
        global.source = ast.source().map(Into::into);
        Caller { global, caches: Caches::new() }
    }

    /// Calls the script's `name`: as a method of `this` when given (the
    /// script sees it as `this`), with `args`. The same as
    /// `call_fn_with_options` with `eval_ast(false)`, `rewind_scope(true)`
    /// and `bind_this_ptr`. Returns the result and the operations the call
    /// took, counted from zero for each call (so that the engine's operation
    /// limit stays a limit per call).
    ///
    /// # Errors
    /// Whatever the script raised, with an error in `name` itself unwrapped
    /// from Rhai's "error in function call" (as `call_fn_with_options` does).
    pub fn call(
        &mut self,
        engine: &Engine,
        scope: &mut Scope,
        this: Option<&mut Dynamic>,
        name: &str,
        args: &mut [Dynamic],
    ) -> (Result<Dynamic, Box<EvalAltResult>>, u64) {
        // A call that failed may have left these raised.
        self.global.num_operations = 0;
        self.global.level = 0;
        let is_method = this.is_some();
        // Inline for up to three arguments: no allocation per call.
        let mut refs: StaticVec<&mut Dynamic> = this.into_iter().chain(args.iter_mut()).collect();
        let result = EvalContext::new(engine, &mut self.global, &mut self.caches, scope, None)
            .call_fn_raw(name, is_method, is_method, &mut refs)
            .or_else(|err| match *err {
                EvalAltResult::Exit(value, _) => Ok(value),
                EvalAltResult::ErrorInFunctionCall(called, _, inner, _) if called == name => Err(inner),
                _ => Err(err),
            });
        (result, self.global.num_operations)
    }
}
