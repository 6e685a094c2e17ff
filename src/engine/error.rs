//! Why a run stopped before producing results.

use crate::domain::Timestamp;
use crate::session::ParamError;
use crate::strategy::StrategyError;

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Params(#[from] ParamError),
    /// Strategy code failed; names the call and, for `on_bar`, the bar.
    #[error("{strategy}: {function}{}: {error}", at(*step, *ts))]
    Strategy {
        strategy: String,
        function: &'static str,
        step: Option<usize>,
        ts: Option<Timestamp>,
        error: Box<StrategyError>,
    },
    /// The run was cancelled (by a user or a deadline).
    #[error("run cancelled at bar {step}")]
    Cancelled { step: usize },
    #[error("the run has no bars (empty timeline)")]
    NoBars,
    #[error("benchmark {symbol}: {reason}")]
    Benchmark { symbol: String, reason: String },
}

fn at(step: Option<usize>, ts: Option<Timestamp>) -> String {
    match (step, ts) {
        (Some(step), Some(ts)) => format!(" failed at bar {step} ({ts})"),
        _ => " failed".to_string(),
    }
}
