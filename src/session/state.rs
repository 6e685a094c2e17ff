//! One run's state: the market seen so far, the indicators, the broker, the
//! equity curve and the log.

use crate::broker::Broker;
use crate::domain::{CancelToken, EquityCurve, Timestamp};

use super::crossing::Crossings;
use super::{IndicatorBank, MarketView, ParamSpec, Params, RunLog, StepQueue, Timeframes};

/// Which call of the strategy is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// `init`: declarations are allowed, orders are not.
    Init,
    /// `on_bar` (or a strategy's own bar loop): orders are allowed.
    Bar,
    /// `on_finish`, after the last bar.
    Finish,
}

/// Everything a run knows at the current step. Only the session's modules
/// see its fields: the strategy reaches it through [`StrategyCtx`](super::StrategyCtx), the
/// engine through [`Session`](super::Session).
#[derive(Debug)]
pub struct RunState {
    pub(super) phase: Phase,
    /// Index of the current step in the run's timeline.
    pub(super) step: usize,
    pub(super) ts: Timestamp,
    /// Timestamp of the previous step; `None` on the first.
    pub(super) previous_ts: Option<Timestamp>,
    pub(super) market: MarketView,
    pub(super) indicators: IndicatorBank,
    pub(super) timeframes: Timeframes,
    pub(super) broker: Broker,
    pub(super) params: Params,
    pub(super) declared_params: Vec<ParamSpec>,
    pub(super) log: RunLog,
    /// One point per step ended so far.
    pub(super) equity: EquityCurve,
    /// Steps queued for a strategy that drives the loop itself.
    pub(super) steps: StepQueue,
    /// The run's cancellation, which stops a strategy's own loop between bars.
    pub(super) cancel: CancelToken,
    /// What each pair given to `cross` last saw.
    pub(super) crossings: Crossings,
}
