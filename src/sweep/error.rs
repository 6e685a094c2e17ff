//! Why a sweep cannot start.

/// A sweep refused before it starts; a variant that fails is recorded, not an error.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// An axis argument that does not parse.
    #[error("--grid '{arg}': {reason}")]
    Axis {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An explicit variant that does not parse.
    #[error("--variant '{arg}': {reason}")]
    Variant {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Explicit variants that do not all name the same axes in the same order.
    #[error("--variant '{arg}' names {names}, but the first --variant names {first}; every variant names the same ones in the same order")]
    VariantNames {
        /// The argument as given.
        arg: String,
        /// Its names, comma-separated.
        names: String,
        /// The first variant's names, comma-separated.
        first: String,
    },
    /// A sweep without any axis.
    #[error("a sweep needs at least one --grid axis or --variant")]
    NoAxes,
    /// Two axes with the same name.
    #[error("axis '{0}' is given twice")]
    DuplicateAxis(String),
    /// An axis that is neither a parameter of the strategy nor a setting.
    #[error("axis '{name}' is not a parameter of the strategy ({declared}) nor a setting ({settings})")]
    UnknownAxis {
        /// The axis name.
        name: String,
        /// The strategy's parameters, comma-separated.
        declared: String,
        /// The settings an axis may vary, comma-separated.
        settings: String,
    },
    /// An axis that varies a parameter also fixed with `--param`.
    #[error("axis '{0}' is also fixed with --param; give it one way")]
    AxisAndParam(String),
    /// A value its parameter cannot take, or a setting value the broker refuses.
    #[error("axis '{name}' value {value}: {reason}")]
    BadValue {
        /// The axis name.
        name: String,
        /// The value as given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// More variants than a sweep may have.
    #[error("{what} has more than {limit} variants; narrow the axes or draw fewer with --random")]
    TooMany {
        /// The most variants a sweep may have.
        limit: u64,
        /// What is too large (the grid, or a --random count).
        what: String,
    },
    /// A constraint that does not compile or does not evaluate to true or false.
    #[error("--constraint '{text}': {reason}")]
    Constraint {
        /// The constraint as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An objective that is not a kept metric.
    #[error("unknown objective '{name}'; one of: {known}")]
    UnknownObjective {
        /// The name as given.
        name: String,
        /// The metrics a sweep can rank by, comma-separated.
        known: String,
    },
    /// The strategy does not load (checked once before the variants run).
    #[error(transparent)]
    Strategy(#[from] crate::strategy::StrategyError),
}
