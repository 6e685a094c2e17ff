//! Errors of strategies and of their calls into the host API.

use super::ParamError;

/// A strategy called the host API in a way it cannot honour.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CtxError {
    #[error("unknown symbol '{name}'; this run trades: {known}")]
    UnknownSymbol { name: String, known: String },
    #[error("unknown indicator '{name}'; declared: {declared}")]
    UnknownIndicator { name: String, declared: String },
    #[error("unknown indicator handle {handle}; {count} outputs are declared")]
    UnknownIndicatorHandle { handle: usize, count: usize },
    #[error("indicator name '{0}' is already declared")]
    DuplicateIndicator(String),
    #[error("indicator name '{0}' must be non-empty and contain no '.'")]
    BadIndicatorName(String),
    #[error("unknown indicator kind '{kind}'; known kinds: {known}")]
    UnknownIndicatorKind { kind: String, known: String },
    #[error("invalid indicator: {0}")]
    Indicator(String),
    #[error("{0} can only be called in init()")]
    InitOnly(&'static str),
    #[error("{0} can only be called in on_bar()")]
    BarOnly(&'static str),
    #[error("{k} bars back is beyond the lookback of {lookback}; declare a longer lookback in init(), e.g. lookback({})", k + 1)]
    BeyondLookback { k: usize, lookback: usize },
    #[error("lookback must be between 1 and {max}, got {requested}")]
    LookbackOutOfRange { requested: usize, max: usize },
    #[error("unknown parameter '{name}'; the strategy declares: {declared}")]
    UnknownParam { name: String, declared: String },
    #[error("{what} must be a finite number, got {value}")]
    NotFinite { what: &'static str, value: f64 },
    #[error("{what} must be >= 0, got {value}")]
    Negative { what: &'static str, value: i64 },
    #[error("order rejected: {0}")]
    Order(#[from] crate::broker::BrokerError),
    #[error("{0}")]
    Rebalance(String),
    #[error("{0}: the result is too large for an exact decimal")]
    Overflow(&'static str),
    #[error("unknown schedule '{0}'; use daily, weekly or monthly")]
    UnknownSchedule(String),
    #[error("invalid timeframe: {0}")]
    Timeframe(String),
    #[error("unknown timeframe handle {handle}; {count} timeframes are declared")]
    UnknownTimeframe { handle: usize, count: usize },
}

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
