//! Errors of strategies: loading them and running their code.

use crate::session::{CtxError, ParamError};

/// Why a strategy could not be loaded or failed while running.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    /// The source does not parse.
    #[error("{file}: syntax error: {message} (line {line}, column {column})")]
    Syntax { file: String, message: String, line: usize, column: usize },
    /// The source parses but is not a usable strategy; where, when one
    /// place is at fault (a call the API does not have).
    #[error("{file}: {message}{}", location(*line, *column))]
    Invalid { file: String, message: String, line: Option<usize>, column: Option<usize> },
    /// Strategy code failed at run time.
    #[error("{message}{}", location(*line, *column))]
    Runtime { message: String, line: Option<usize>, column: Option<usize> },
    /// Strategy code used up its budget: a script's operations in one
    /// call, a plugin's fuel or CPU time for the run.
    #[error("{message}{}", location(*line, *column))]
    Budget { message: String, line: Option<usize>, column: Option<usize> },
    /// Strategy code trapped: a plugin's panic, `unreachable`, stack
    /// overflow or out-of-bounds access, or a script's call stack nested
    /// deeper than its limit.
    #[error("{message}{}", location(*line, *column))]
    Trap { message: String, line: Option<usize>, column: Option<usize> },
    /// A native strategy misused the host API.
    #[error(transparent)]
    Api(#[from] CtxError),
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The run was cancelled while strategy code was running.
    #[error("cancelled")]
    Cancelled,
}

impl StrategyError {
    /// An [`StrategyError::Invalid`] about the file as a whole.
    pub fn invalid(file: impl Into<String>, message: impl Into<String>) -> Self {
        StrategyError::Invalid { file: file.into(), message: message.into(), line: None, column: None }
    }
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}
