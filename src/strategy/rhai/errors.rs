//! Turning Rhai's parse and evaluation errors into [`StrategyError`]s that
//! point at the script's line and column.

use rhai::{EvalAltResult, ParseError, Position, AST};

use super::ctx_fns::CtxFunctions;
use crate::strategy::StrategyError;

/// A syntax error, with its line and column.
pub fn syntax(file: &str, err: &ParseError) -> StrategyError {
    let pos = err.position();
    StrategyError::Syntax {
        file: file.to_string(),
        message: err.err_type().to_string(),
        line: pos.line().unwrap_or(0),
        column: pos.position().unwrap_or(0),
    }
}

/// An error raised while a script function ran. The innermost error (where
/// the script actually failed) gives the message and the position. A call
/// on the context that the API does not have (which the compile-time check
/// could not see, e.g. through an alias) gets that check's words.
pub fn runtime(err: &EvalAltResult, max_operations: u64, ctx_fns: &CtxFunctions, ast: &AST) -> StrategyError {
    let inner = err.unwrap_inner();
    let pos = innermost_position(err);
    let (line, column) = (pos.line(), pos.position());
    let message = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => {
            let message = format!("exceeded the limit of {max_operations} operations in one call (an endless loop?)");
            return StrategyError::Budget { message, line, column };
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            return StrategyError::Trap { message: strip_position(&inner.to_string()), line, column };
        }
        EvalAltResult::ErrorRuntime(value, _) => match value.clone().into_immutable_string() {
            Ok(text) => text.to_string(),
            Err(_) => format!("thrown: {value}"),
        },
        EvalAltResult::ErrorFunctionNotFound(signature, _) => ctx_fns
            .explain_missing(signature, |name| ast.iter_functions().any(|f| f.name == name))
            .unwrap_or_else(|| strip_position(&inner.to_string())),
        other => strip_position(&other.to_string()),
    };
    StrategyError::Runtime { message, line, column }
}

/// The position closest to where the error happened: Rhai wraps errors in
/// called functions, each layer with its call site.
fn innermost_position(err: &EvalAltResult) -> Position {
    let mut pos = err.position();
    let mut current = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _) = current {
        if !inner.position().is_none() {
            pos = inner.position();
        }
        current = inner;
    }
    pos
}

/// Rhai's messages end with " (line L, position C)"; the position is
/// reported in its own fields.
fn strip_position(message: &str) -> String {
    match message.rfind(" (line ") {
        Some(i) if message.ends_with(')') => message[..i].to_string(),
        _ => message.to_string(),
    }
}
