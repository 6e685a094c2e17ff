//! Errors of a strategy's calls into its session (the ctx API).

/// A strategy called the host API in a way it cannot honour.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CtxError {
    /// A symbol name that is not in the run's universe.
    #[error("unknown symbol '{name}'; this run trades: {known}")]
    UnknownSymbol {
        /// The name as given.
        name: String,
        /// The run's symbols, comma-separated.
        known: String,
    },
    /// An indicator name that was not declared.
    #[error("unknown indicator '{name}'; declared: {declared}")]
    UnknownIndicator {
        /// The name as given.
        name: String,
        /// The declared output names, comma-separated, or `(none)`.
        declared: String,
    },
    /// An indicator handle at or past the number of declared outputs.
    #[error("unknown indicator handle {handle}; {count} outputs are declared")]
    UnknownIndicatorHandle {
        /// The handle as given.
        handle: usize,
        /// How many outputs are declared; valid handles are below it.
        count: usize,
    },
    /// A declaration whose name (or one of its `name.output` names) is taken; holds that name.
    #[error("indicator name '{0}' is already declared")]
    DuplicateIndicator(String),
    /// A declaration whose name is empty or contains a `.`; holds the name.
    #[error("indicator name '{0}' must be non-empty and contain no '.'")]
    BadIndicatorName(String),
    /// A declaration the host cannot compute (too many indicators, too long a
    /// window, invalid arguments); holds the reason.
    #[error("invalid indicator: {0}")]
    Indicator(String),
    /// A declaration (an indicator, a timeframe, the lookback) made outside
    /// `init`; holds what was attempted.
    #[error("{0} can only be called in init()")]
    InitOnly(&'static str),
    /// An order placed outside `on_bar`; holds what was attempted.
    #[error("{0} can only be called in on_bar()")]
    BarOnly(&'static str),
    /// A read further back than the lookback keeps.
    #[error("{k} bars back is beyond the lookback of {lookback}; declare a longer lookback in init(), e.g. lookback({})", k + 1)]
    BeyondLookback {
        /// Bars back asked for (0 = the latest).
        k: usize,
        /// Bars kept; reads need `k` below it.
        lookback: usize,
    },
    /// A lookback of 0 or above the largest allowed.
    #[error("lookback must be between 1 and {max}, got {requested}")]
    LookbackOutOfRange {
        /// The lookback asked for, in bars.
        requested: usize,
        /// The largest lookback allowed, in bars.
        max: usize,
    },
    /// A parameter read by a name the strategy did not declare.
    #[error("unknown parameter '{name}'; the strategy declares: {declared}")]
    UnknownParam {
        /// The name as given.
        name: String,
        /// The declared names, comma-separated, or `(none)`.
        declared: String,
    },
    /// A number argument that is NaN or infinite.
    #[error("{what} must be a finite number, got {value}")]
    NotFinite {
        /// The argument, e.g. `quantity` or `weight`.
        what: &'static str,
        /// The value as given.
        value: f64,
    },
    /// A count, index or handle argument below zero.
    #[error("{what} must be >= 0, got {value}")]
    Negative {
        /// The argument, e.g. `bars back` or `lookback`.
        what: &'static str,
        /// The value as given.
        value: i64,
    },
    /// The broker refused an order as it was placed.
    #[error("order rejected: {0}")]
    Order(#[from] crate::broker::BrokerError),
    /// A rebalance that cannot be carried out (a symbol named twice, a weight
    /// out of range, weights above the leverage, too many positions, no
    /// symbols); holds the reason.
    #[error("{0}")]
    Rebalance(String),
    /// A sizing result too large for an exact decimal; holds the call's name.
    #[error("{0}: the result is too large for an exact decimal")]
    Overflow(&'static str),
    /// A schedule name other than daily, weekly or monthly; holds the name.
    #[error("unknown schedule '{0}'; use daily, weekly or monthly")]
    UnknownSchedule(String),
    /// A timeframe that cannot be declared (a bad interval, one not coarser
    /// than or not a multiple of the symbol's spacing, too many); holds the reason.
    #[error("invalid timeframe: {0}")]
    Timeframe(String),
    /// A timeframe handle at or past the number declared.
    #[error("unknown timeframe handle {handle}; {count} timeframes are declared")]
    UnknownTimeframe {
        /// The handle as given.
        handle: usize,
        /// How many timeframes are declared; valid handles are below it.
        count: usize,
    },
}
