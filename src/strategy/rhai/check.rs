//! Checks, when a script compiles, every call it makes on its context
//! against the API (ctx_fns.rs): an unknown name or a wrong number of
//! arguments fails the compile with line, column and the closest known
//! name, rather than a run, or a run months later when a rare branch runs.
//!
//! The context is the parameter of `init`, `on_bar` and `on_finish`,
//! whatever it is named, and every parameter of the script's own functions
//! that a call passes it to, followed until nothing more is found. A
//! function that declares or assigns a variable of that name is not checked
//! for it, since the name may then hold something else. What this cannot
//! see (an alias `let c = ctx`, the context inside an array) fails at run
//! time with the same message (errors.rs).

use std::collections::{BTreeMap, BTreeSet};

use rhai::{ASTNode, Expr, FnCallExpr, Position, Stmt, AST};

use super::ctx_fns::CtxFunctions;

/// A call the API does not have, and where it is.
#[derive(Debug, PartialEq)]
pub struct BadCall {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// A script function: its name and number of parameters.
type FnKey = (String, usize);

/// One script function: its parameters and its body alone, to walk.
struct ScriptFn {
    params: Vec<String>,
    body: AST,
    /// Names the body declares or assigns.
    rebound: BTreeSet<String>,
}

/// Checks the calls on the context in `ast`, whose functions `entry_points`
/// receive it as their only parameter.
///
/// # Errors
/// The first bad call in the source, with its line and column.
pub fn ctx_calls(ast: &AST, api: &CtxFunctions, entry_points: &[&str]) -> Result<(), BadCall> {
    let functions = script_functions(ast);
    let bound = ctx_params(&functions, entry_points);
    let mut bad = Vec::new();
    for (key, function) in &functions {
        let names = ctx_names(function, bound.get(key));
        if !names.is_empty() {
            walk(&function.body, |node| {
                if let Err(call) = check_node(node, &names, &functions, api) {
                    bad.push(call);
                }
            });
        }
    }
    // Rhai keeps functions in a hash map; report the first in the source.
    match bad.into_iter().min_by_key(|b| (b.line, b.column)) {
        Some(call) => Err(call),
        None => Ok(()),
    }
}

fn script_functions(ast: &AST) -> BTreeMap<FnKey, ScriptFn> {
    ast.iter_functions()
        .map(|f| {
            let key = (f.name.to_string(), f.params.len());
            let body = ast.clone_functions_only_filtered(|_, _, _, name, params| name == key.0 && params == key.1);
            let mut rebound = BTreeSet::new();
            walk(&body, |node| rebound.extend(declared(node)));
            let params = f.params.iter().map(|p| p.to_string()).collect();
            (key, ScriptFn { params, body, rebound })
        })
        .collect()
}

/// The variable a statement declares or assigns, if any.
fn declared(node: &ASTNode) -> Vec<String> {
    let name = |e: &Expr| match e {
        Expr::Variable(v, ..) => Some(v.1.to_string()),
        _ => None,
    };
    match node {
        ASTNode::Stmt(Stmt::Var(x, ..)) => vec![x.0.name.to_string()],
        ASTNode::Stmt(Stmt::For(x, ..)) => x.1.iter().chain([&x.0]).map(|i| i.name.to_string()).collect(),
        ASTNode::Stmt(Stmt::TryCatch(x, ..)) => name(&x.expr).into_iter().collect(),
        ASTNode::Stmt(Stmt::Assignment(x)) => name(&x.1.lhs).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Which parameters of which functions hold the context: the entry
/// points' one, then every parameter a call passes it to, until that
/// finds nothing new.
fn ctx_params(functions: &BTreeMap<FnKey, ScriptFn>, entry_points: &[&str]) -> BTreeMap<FnKey, BTreeSet<usize>> {
    let mut bound: BTreeMap<FnKey, BTreeSet<usize>> =
        entry_points.iter().map(|name| ((name.to_string(), 1), BTreeSet::from([0]))).collect();
    loop {
        let mut passed = Vec::new();
        for (key, function) in functions {
            let names = ctx_names(function, bound.get(key));
            if names.is_empty() {
                continue;
            }
            walk(&function.body, |node| {
                let Some((call, _)) = fn_call(node) else { return };
                let callee = (call.name.to_string(), call.args.len());
                if functions.contains_key(&callee) {
                    for (i, arg) in call.args.iter().enumerate() {
                        if is_ctx(arg, &names) {
                            passed.push((callee.clone(), i));
                        }
                    }
                }
            });
        }
        let mut grew = false;
        for (callee, i) in passed {
            grew |= bound.entry(callee).or_default().insert(i);
        }
        if !grew {
            return bound;
        }
    }
}

/// The names the context goes by in `function`.
fn ctx_names(function: &ScriptFn, bound: Option<&BTreeSet<usize>>) -> BTreeSet<String> {
    bound
        .into_iter()
        .flatten()
        .filter_map(|&i| function.params.get(i))
        .filter(|name| !function.rebound.contains(*name))
        .cloned()
        .collect()
}

fn check_node(
    node: &ASTNode,
    names: &BTreeSet<String>,
    functions: &BTreeMap<FnKey, ScriptFn>,
    api: &CtxFunctions,
) -> Result<(), BadCall> {
    let is_script = |name: &str, args: usize| functions.contains_key(&(name.to_string(), args));
    match node {
        // ctx.name(...), ctx.name(...).more, ctx.name(...)[i]
        ASTNode::Expr(Expr::Dot(x, ..)) if is_ctx(&x.lhs, names) => match first_step(&x.rhs) {
            // A script function called as a method gets the context as `this`.
            Expr::MethodCall(call, _) if is_script(&call.name, call.args.len()) => Ok(()),
            Expr::MethodCall(call, pos) => api.check(&call.name, call.args.len()).map_err(|m| at(m, *pos)),
            Expr::Property(p, pos) => Err(at(property(&p.2, api), *pos)),
            _ => Ok(()),
        },
        // name(ctx, ...): the function-call form of a ctx method.
        _ => match fn_call(node) {
            Some((call, pos))
                if call.args.first().is_some_and(|a| is_ctx(a, names))
                    && !is_script(&call.name, call.args.len())
                    && api.contains(&call.name) =>
            {
                api.check(&call.name, call.args.len() - 1).map_err(|m| at(m, pos))
            }
            _ => Ok(()),
        },
    }
}

/// `ctx.close` without parentheses: the context has no properties.
fn property(name: &str, api: &CtxFunctions) -> String {
    if api.contains(name) {
        format!("`{name}` is a ctx function: call it with parentheses, e.g. ctx.{name}()")
    } else {
        format!("ctx has no property `{name}`{}", api.did_you_mean(name))
    }
}

/// The first step of a chain `ctx.a(...).b[i]`: Rhai nests the rest to the
/// right.
fn first_step(mut rhs: &Expr) -> &Expr {
    while let Expr::Dot(x, ..) | Expr::Index(x, ..) = rhs {
        rhs = &x.lhs;
    }
    rhs
}

fn fn_call<'a>(node: &ASTNode<'a>) -> Option<(&'a FnCallExpr, Position)> {
    match *node {
        ASTNode::Expr(Expr::FnCall(call, pos)) | ASTNode::Stmt(Stmt::FnCall(call, pos)) => Some((call, *pos)),
        _ => None,
    }
}

fn is_ctx(expr: &Expr, names: &BTreeSet<String>) -> bool {
    matches!(expr, Expr::Variable(v, ..) if names.contains(v.1.as_str()))
}

fn at(message: String, pos: Position) -> BadCall {
    BadCall { message, line: pos.line().unwrap_or(0), column: pos.position().unwrap_or(0) }
}

/// Calls `visit` on every statement and expression of `ast`.
fn walk(ast: &AST, mut visit: impl FnMut(&ASTNode<'_>)) {
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(node) = path.last() {
            visit(node);
        }
        true
    });
}
