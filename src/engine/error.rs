//! Why a run stopped before producing results.

use crate::domain::Timestamp;
use crate::session::ParamError;
use crate::strategy::StrategyError;

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A parameter override, or the strategy's declaration of its parameters, cannot be used.
    #[error(transparent)]
    Params(#[from] ParamError),
    /// Strategy code failed; names the call and, for `on_bar`, the bar.
    #[error("{strategy}: {function}{}: {error}", at(*step, *ts))]
    Strategy {
        /// The strategy's name.
        strategy: String,
        /// The call that failed: `init`, `on_bar` or `on_finish`.
        function: &'static str,
        /// 0-based engine step of the failed call; `None` for `init`.
        step: Option<usize>,
        /// That step's timestamp; `None` for `init`.
        ts: Option<Timestamp>,
        /// What went wrong in the strategy code.
        error: Box<StrategyError>,
    },
    /// The run was cancelled (by a user or a deadline).
    #[error("run cancelled at bar {step}")]
    Cancelled {
        /// 0-based engine step at which the run stopped.
        step: usize,
    },
    /// The universe's timeline is empty, so there is nothing to run.
    #[error("the run has no bars (empty timeline)")]
    NoBars,
    /// The run's `trade_from` leaves it nothing to trade.
    #[error("trading from {trade_from}: {reason}")]
    TradeFrom {
        /// The first timestamp to trade.
        trade_from: Timestamp,
        /// Why the data from then on cannot be traded.
        reason: String,
    },
    /// The benchmark cannot be held over the run: it has no bar at or before
    /// the run's last step, or a close ≤ 0.
    #[error("benchmark {symbol}: {reason}")]
    Benchmark {
        /// The benchmark's symbol.
        symbol: String,
        /// What is wrong with its bars.
        reason: String,
    },
}

fn at(step: Option<usize>, ts: Option<Timestamp>) -> String {
    match (step, ts) {
        (Some(step), Some(ts)) => format!(" failed at bar {step} ({ts})"),
        _ => " failed".to_string(),
    }
}
