//! Runs the script's lifecycle functions by evaluating their bodies on a
//! runtime state kept from one call to the next.
//!
//! `Engine::call_fn_with_options` builds a fresh `GlobalRuntimeState` and an
//! empty `Caches` for every call, so every bar resolved each host function
//! from scratch (Rhai caches a resolution only when it sees it twice within
//! one cache's life). And a call itself costs: Rhai hashes the name, looks
//! the function up, moves the arguments into the scope (allocating a name
//! for each) and boxes the context argument twice. A [`Body`] holds a copy
//! of the function's statements, taken once from the compiled script; a
//! [`Caller`] evaluates them as Rhai would inside the call (the same scope
//! layout, `this` and treatment of `return`) with the context kept in its
//! scope across calls.

use rhai::{
    ASTNode, Caches, Dynamic, Engine, EvalAltResult, EvalContext, Expr, Expression, GlobalRuntimeState,
    ImmutableString, Module, Position, Scope, Stmt, StmtBlock, AST,
};

/// The body of one of the script's functions, ready to run in place of a
/// call of it.
pub struct Body {
    /// The function's parameter (the context), or none for `params()`.
    param: Option<ImmutableString>,
    /// The function's statements as one block.
    block: Expr,
}

impl Body {
    /// The body of `ast`'s function `name` of `arity` (0 or 1) parameters,
    /// if the script defines it. Methods of a type (`fn map.on_bar(ctx)`) are not lifecycle functions.
    pub fn of(ast: &AST, name: &str, arity: usize) -> Option<Body> {
        let def =
            ast.iter_fn_def().find(|def| def.name == name && def.params.len() == arity && def.this_type.is_none())?;
        let param = def.params.first().cloned();
        // Rhai does not export the type of a function's body; its statements
        // are reached by walking an AST of this one function, which visits
        // each top-level statement with a path of one node.
        let mut module = Module::new();
        module.set_script_fn(def.clone());
        let lone = AST::new(Vec::<Stmt>::new(), module);
        let mut statements = Vec::new();
        lone.walk(&mut |path: &[ASTNode]| {
            if let [ASTNode::Stmt(statement)] = path {
                statements.push((*statement).clone());
            }
            true
        });
        let block = StmtBlock::new(statements, def.body.start_position(), def.body.end_position());
        Some(Body { param, block: Expr::Stmt(Box::new(block)) })
    }
}

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

    /// Runs `body` as a call of its function would: as a method of `this`
    /// when given (the script sees it as `this`), with `arg` as its
    /// parameter. `scope` keeps the parameter between calls: it is set
    /// again only when the scope does not hold a value of `arg`'s type and
    /// tag under the parameter's name (the script may assign to it or tag
    /// it). Returns the result
    /// and the operations the call took, counted afresh for each call (so
    /// that the engine's operation limit stays a limit per call).
    ///
    /// # Errors
    /// Whatever the script raised; limits that stop the script (operations,
    /// call depth) carry no position, as from a call.
    pub fn run(
        &mut self,
        engine: &Engine,
        scope: &mut Scope,
        this: Option<&mut Dynamic>,
        body: &Body,
        arg: Option<&Dynamic>,
    ) -> (Result<Dynamic, Box<EvalAltResult>>, u64) {
        bind_param(scope, body.param.as_ref(), arg);
        // A call that failed may have left these raised. The count starts
        // at the one operation a call of the function counts for itself, so
        // that limits and reported counts are those of a call. The body runs
        // at call level 0, so that the calls the script makes may nest as
        // deep as the engine's limit says.
        self.global.num_operations = 1;
        self.global.level = 0;
        // Marked deprecated as "volatile, may change": the crate's version is
        // pinned by Cargo.lock and the tests run every lifecycle path.
        #[allow(deprecated)]
        let result = EvalContext::new(engine, &mut self.global, &mut self.caches, scope, this)
            .eval_expression_tree_raw(&Expression::from(&body.block), true)
            .or_else(|mut err| match *err {
                EvalAltResult::Return(value, _) | EvalAltResult::Exit(value, _) => Ok(value),
                _ if err.is_system_exception() => {
                    err.set_position(Position::NONE);
                    Err(err)
                }
                _ => Err(err),
            });
        (result, self.global.num_operations)
    }
}

/// Makes `scope` hold exactly `param` = `arg` (or nothing), keeping the
/// value already there when it has the same name, type and tag (a run has
/// one context, a shared handle, so a script can change only its value's
/// tag or replace it; [`Caller`]'s owner clears the scope when a run
/// starts).
fn bind_param(scope: &mut Scope, param: Option<&ImmutableString>, arg: Option<&Dynamic>) {
    let (Some(param), Some(arg)) = (param, arg) else {
        scope.rewind(0);
        return;
    };
    let kept = scope.len() == 1
        && scope.iter_raw().next().is_some_and(|(name, constant, value)| {
            !constant && name == param.as_str() && value.type_id() == arg.type_id() && value.tag() == arg.tag()
        });
    if !kept {
        scope.rewind(0);
        scope.push_dynamic(param.as_str(), arg.clone());
    }
}
