//! Strategies written as Rhai scripts.
//!
//! A script defines functions only: `params()` (optional, a map of
//! parameter defaults), `init(ctx)` (optional), `on_bar(ctx)` (required) and
//! `on_finish(ctx)` (optional). State between bars lives in `this`, an object
//! map the host keeps. The script is compiled once; each bar runs
//! `on_bar`'s body on a runtime state kept for the run (see [`caller`]), and
//! top-level statements are refused because they would never run.

mod api;
mod caller;
mod check;
mod ctx_fns;
mod errors;
mod limits;
mod options;
mod portfolio_api;

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Dynamic, Engine, Map, OptimizationLevel, Scope, AST};

use caller::{Body, Caller};
use ctx_fns::CtxFunctions;
pub use limits::RhaiLimits;

use super::{SandboxUsage, Strategy, StrategyError};
use crate::session::{ParamSpec, ParamValue, StrategyCtx};

/// The lifecycle functions a script may define, with their arity.
const LIFECYCLE: [(&str, usize, bool); 4] =
    [("params", 0, false), ("init", 1, false), ("on_bar", 1, true), ("on_finish", 1, false)];

/// A compiled Rhai strategy, ready to run once.
pub struct RhaiStrategy {
    name: String,
    /// Shared with the strategies made by [`RhaiStrategy::fresh`] (and so
    /// is `log_target`, which its functions write).
    engine: Rc<Engine>,
    ast: AST,
    scope: Scope<'static>,
    /// The script's `this`: state it keeps between calls.
    state: Dynamic,
    declared: Vec<ParamSpec>,
    /// The lifecycle functions' bodies, shared with fresh copies.
    entries: Rc<Entries>,
    limits: RhaiLimits,
    /// Where `print` and `debug` write: the run's context once init starts.
    log_target: Rc<RefCell<Option<StrategyCtx>>>,
    ctx_arg: Option<Dynamic>,
    /// The API, to explain a call on the context that fails at run time.
    ctx_fns: CtxFunctions,
    /// Rhai's runtime state, kept warm across this strategy's calls.
    caller: Caller,
    /// The most operations one call of this run has taken.
    max_operations_per_call: u64,
}

impl RhaiStrategy {
    /// Compiles `source` (named `file` in errors) and reads its parameters.
    ///
    /// # Errors
    /// Syntax errors with line and column; a missing `on_bar`; lifecycle
    /// functions with the wrong number of parameters; top-level statements;
    /// a call on the context that the API does not have (an unknown name or
    /// a wrong number of arguments, with line and column); a `params()`
    /// that does not return a map of ints, floats, bools and strings.
    pub fn compile(source: &str, file: &str, limits: RhaiLimits) -> Result<Self, StrategyError> {
        let invalid = |message: String| StrategyError::invalid(file, message);
        if source.len() > limits.max_source_bytes {
            return Err(invalid(format!("script is {} bytes; the limit is {}", source.len(), limits.max_source_bytes)));
        }
        let log_target: Rc<RefCell<Option<StrategyCtx>>> = Rc::default();
        let mut engine = build_engine(&limits, log_target.clone());
        let ctx_fns = CtxFunctions::from_engine(&engine);
        let ast = compile_checked(&mut engine, source, file, &ctx_fns)?;
        let entries = Rc::new(Entries::of(&ast).ok_or_else(|| invalid(missing("on_bar")))?);
        let caller = Caller::new(&engine, &ast);
        let mut strategy = RhaiStrategy {
            name: file.to_string(),
            entries: entries.clone(),
            engine: Rc::new(engine),
            ast,
            scope: Scope::new(),
            state: Dynamic::from_map(Map::new()),
            declared: Vec::new(),
            limits,
            log_target,
            ctx_arg: None,
            ctx_fns,
            caller,
            max_operations_per_call: 0,
        };
        if let Some(params) = &entries.params {
            let map = strategy.call_params(params).map_err(|e| invalid(format!("params(): {e}")))?;
            strategy.declared = param_specs(&map).map_err(|e| invalid(format!("params(): {e}")))?;
        }
        Ok(strategy)
    }

    /// A strategy as this one was when compiled, sharing its engine and
    /// script: what compiling the same source again would give, without
    /// the cost (about half a millisecond for the example script, a good
    /// part of a short run). Runs of strategies that share an engine must
    /// not overlap (they stay on one thread: the engine is not `Send`).
    pub fn fresh(&self) -> RhaiStrategy {
        *self.log_target.borrow_mut() = None;
        RhaiStrategy {
            name: self.name.clone(),
            engine: self.engine.clone(),
            ast: self.ast.clone(),
            scope: Scope::new(),
            state: Dynamic::from_map(Map::new()),
            declared: self.declared.clone(),
            entries: self.entries.clone(),
            limits: self.limits.clone(),
            log_target: self.log_target.clone(),
            ctx_arg: None,
            ctx_fns: self.ctx_fns.clone(),
            caller: Caller::new(&self.engine, &self.ast),
            max_operations_per_call: 0,
        }
    }

    fn call_params(&mut self, params: &Body) -> Result<Map, StrategyError> {
        let (result, _) = self.caller.run(&self.engine, &mut self.scope, None, params, None);
        let value = result.map_err(|e| errors::runtime(&e, self.limits.max_operations, &self.ctx_fns, &self.ast))?;
        value.try_cast::<Map>().ok_or_else(|| StrategyError::Runtime {
            message: "must return a map like #{ fast: 10 }".into(),
            line: None,
            column: None,
        })
    }

    /// Runs the lifecycle function `entry` picks (`function` names it), if
    /// the script has it.
    fn call(&mut self, function: &str, entry: fn(&Entries) -> Option<&Body>) -> Result<(), StrategyError> {
        let Some(body) = entry(&self.entries) else {
            return Ok(());
        };
        let Some(ctx) = &self.ctx_arg else {
            return Err(StrategyError::Runtime {
                message: format!("{function} was called before init (the engine binds the context in init)"),
                line: None,
                column: None,
            });
        };
        let (result, operations) =
            self.caller.run(&self.engine, &mut self.scope, Some(&mut self.state), body, Some(ctx));
        self.max_operations_per_call = self.max_operations_per_call.max(operations);
        result.map(|_| ()).map_err(|e| errors::runtime(&e, self.limits.max_operations, &self.ctx_fns, &self.ast))
    }
}

/// The script's lifecycle functions.
struct Entries {
    params: Option<Body>,
    init: Option<Body>,
    on_bar: Body,
    on_finish: Option<Body>,
}

impl Entries {
    /// The bodies of `ast`'s lifecycle functions; none without `on_bar`.
    fn of(ast: &AST) -> Option<Entries> {
        Some(Entries {
            params: Body::of(ast, "params", 0),
            init: Body::of(ast, "init", 1),
            on_bar: Body::of(ast, "on_bar", 1)?,
            on_finish: Body::of(ast, "on_finish", 1),
        })
    }
}

/// An engine with the sandbox applied and the API registered.
fn build_engine(limits: &RhaiLimits, log: Rc<RefCell<Option<StrategyCtx>>>) -> Engine {
    let mut engine = Engine::new();
    limits.apply(&mut engine);
    let print_log = log.clone();
    engine.on_print(move |text| {
        if let Some(ctx) = print_log.borrow().as_ref() {
            ctx.log(text);
        }
    });
    engine.on_debug(move |text, _, pos| {
        if let Some(ctx) = log.borrow().as_ref() {
            ctx.log(&format!("[debug {pos}] {text}"));
        }
    });
    api::register(&mut engine);
    portfolio_api::register(&mut engine);
    engine
}

/// Compiles `source`, checks its shape and its calls on the context, then
/// optimizes it.
fn compile_checked(
    engine: &mut Engine,
    source: &str,
    file: &str,
    ctx_fns: &CtxFunctions,
) -> Result<AST, StrategyError> {
    // The calls are checked as written: the optimizer drops dead branches
    // (`if false { ctx.sell_stpo(1) }`), so it runs after the check.
    let level = engine.optimization_level();
    engine.set_optimization_level(OptimizationLevel::None);
    let written = engine.compile(source).map_err(|e| errors::syntax(file, &e));
    engine.set_optimization_level(level);
    let written = written?;
    let ast = engine.optimize_ast(&Scope::new(), written.clone(), level);
    check_shape(&ast).map_err(|message| StrategyError::invalid(file, message))?;
    let entry_points: Vec<&str> =
        LIFECYCLE.iter().filter(|(_, arity, _)| *arity == 1).map(|(name, ..)| *name).collect();
    check::ctx_calls(&written, ctx_fns, &entry_points).map_err(|call| StrategyError::Invalid {
        file: file.to_string(),
        message: call.message,
        line: Some(call.line),
        column: Some(call.column),
    })?;
    Ok(ast)
}

/// Checks that the script is functions only, with the lifecycle ones
/// taking the right parameters.
fn check_shape(ast: &AST) -> Result<(), String> {
    if !ast.statements().is_empty() {
        return Err("top-level statements are never run; put them inside init(ctx) or on_bar(ctx), \
                    and keep state in `this` (e.g. this.count = 0)"
            .to_string());
    }
    for (name, arity, required) in LIFECYCLE {
        if let Some(typed) = ast.iter_functions().find(|f| f.name == name && f.this_type.is_some()) {
            let params = if arity == 0 { "" } else { "ctx" };
            return Err(format!(
                "fn {}.{name} is a method of a type; the engine calls fn {name}({params}) on the script's state",
                typed.this_type.unwrap_or_default()
            ));
        }
        let found: Vec<usize> = ast.iter_functions().filter(|f| f.name == name).map(|f| f.params.len()).collect();
        if found.is_empty() && required {
            return Err(missing(name));
        }
        if found.iter().any(|&n| n != arity) {
            let params = if arity == 0 { "" } else { "ctx" };
            return Err(format!("fn {name} must take {arity} parameter(s): fn {name}({params})"));
        }
    }
    Ok(())
}

/// The refusal of a script without the required lifecycle function `name`.
fn missing(name: &str) -> String {
    format!("the script must define fn {name}(ctx)")
}

/// Reads `params()`'s map into typed specs, in name order.
fn param_specs(map: &Map) -> Result<Vec<ParamSpec>, String> {
    let mut specs = Vec::with_capacity(map.len());
    for (name, value) in map {
        let default = if let Ok(i) = value.as_int() {
            ParamValue::Int(i)
        } else if let Ok(f) = value.as_float() {
            ParamValue::Float(f)
        } else if let Ok(b) = value.as_bool() {
            ParamValue::Bool(b)
        } else if let Ok(s) = value.clone().into_immutable_string() {
            ParamValue::Text(s.to_string())
        } else {
            return Err(format!(
                "parameter '{name}' must default to an int, float, bool or string, not {}",
                value.type_name()
            ));
        };
        specs.push(ParamSpec { name: name.to_string(), default });
    }
    Ok(specs)
}

impl Strategy for RhaiStrategy {
    fn name(&self) -> &str {
        &self.name
    }

    fn declared_params(&self) -> &[ParamSpec] {
        &self.declared
    }

    fn init(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError> {
        self.max_operations_per_call = 0;
        *self.log_target.borrow_mut() = Some(ctx.clone());
        self.ctx_arg = Some(Dynamic::from(ctx.clone()));
        self.scope.clear();
        self.call("init", |entries| entries.init.as_ref())
    }

    fn on_bar(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        self.call("on_bar", |entries| Some(&entries.on_bar))
    }

    fn on_finish(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        let result = self.call("on_finish", |entries| entries.on_finish.as_ref());
        self.scope.clear();
        // Drop the script's handles on the run so that the run's state is
        // freed with the engine's.
        self.ctx_arg = None;
        *self.log_target.borrow_mut() = None;
        result
    }

    fn fresh(&self) -> Option<Box<dyn Strategy>> {
        Some(Box::new(RhaiStrategy::fresh(self)))
    }

    fn sandbox_usage(&self) -> Option<SandboxUsage> {
        Some(SandboxUsage::Rhai {
            max_operations_per_call: self.max_operations_per_call,
            operations_limit: self.limits.max_operations,
        })
    }
}

#[cfg(test)]
mod check_tests;
#[cfg(test)]
mod tests;
