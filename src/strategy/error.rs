//! Errors of strategies: loading them and running their code.

use crate::session::CtxError;

/// Why a strategy could not be loaded or failed while running.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    /// The source does not parse.
    #[error("{file}: syntax error: {message} (line {line}, column {column})")]
    Syntax {
        /// The strategy's file name, as given when it was compiled.
        file: String,
        /// What the parser found wrong.
        message: String,
        /// Line of the error, from 1 (0 when the parser gave none).
        line: usize,
        /// Column of the error, from 1 (0 when the parser gave none).
        column: usize,
    },
    /// The source parses but is not a usable strategy; where, when one
    /// place is at fault (a call the API does not have).
    #[error("{file}: {message}{}", location(*line, *column))]
    Invalid {
        /// The strategy's file name, as given when it was compiled.
        file: String,
        /// What makes it unusable.
        message: String,
        /// Line of the place at fault, from 1; `None` when the file as a whole is.
        line: Option<usize>,
        /// Column of the place at fault, from 1, when known.
        column: Option<usize>,
    },
    /// Strategy code failed at run time.
    #[error("{message}{}", location(*line, *column))]
    Runtime {
        /// What failed: a script's thrown text, or the runtime's message.
        message: String,
        /// Line in the script where it happened, from 1; `None` for a plugin or when unknown.
        line: Option<usize>,
        /// Column on that line, from 1, when known.
        column: Option<usize>,
    },
    /// Strategy code used up its budget: a script's operations in one
    /// call, a plugin's fuel or CPU time for the run.
    #[error("{message}{}", location(*line, *column))]
    Budget {
        /// Which budget ran out, and its limit.
        message: String,
        /// Line in the script where it happened, from 1; `None` for a plugin or when unknown.
        line: Option<usize>,
        /// Column on that line, from 1, when known.
        column: Option<usize>,
    },
    /// Strategy code trapped: a plugin's panic, `unreachable`, stack
    /// overflow or out-of-bounds access, or a script's call stack nested
    /// deeper than its limit.
    #[error("{message}{}", location(*line, *column))]
    Trap {
        /// What trapped, and for a plugin the export and function it trapped in.
        message: String,
        /// Line in the script where it happened, from 1; `None` for a plugin or when unknown.
        line: Option<usize>,
        /// Column on that line, from 1, when known.
        column: Option<usize>,
    },
    /// A native strategy misused the host API.
    #[error(transparent)]
    Api(#[from] CtxError),
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
