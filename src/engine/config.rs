//! The checked configuration of one run.

use std::sync::Arc;

use crate::broker::BrokerConfig;
use crate::domain::{Bar, CancelToken, Symbol, Timestamp};
use crate::session::SharedIndicators;

/// Parameter overrides as they arrive: from a command line or from JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamOverrides {
    /// `name=value` strings.
    Text(Vec<String>),
    /// A JSON object of name → value.
    Json(serde_json::Map<String, serde_json::Value>),
}

impl Default for ParamOverrides {
    fn default() -> Self {
        ParamOverrides::Text(Vec::new())
    }
}

/// Everything a run needs besides its data and its strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// The simulated broker's settings: cash, commission, slippage, margin.
    pub broker: BrokerConfig,
    /// Values to use instead of the strategy's declared defaults.
    pub params: ParamOverrides,
    /// A series to compare the run with (held, never traded).
    pub benchmark: Option<Benchmark>,
    /// The first timestamp traded: the steps before it only warm up the
    /// strategy's view of the bars and its indicators (it is not called on
    /// them, the broker does not see them), and the run's results (equity
    /// curve, trades, metrics, benchmark) start at the first step at or
    /// after it, with the initial cash. The strategy's bar index counts
    /// from that step, and that step starts every schedule period, as a
    /// run's first step does. `None`: every step is traded.
    pub trade_from: Option<Timestamp>,
}

impl RunConfig {
    /// A config without a benchmark, trading every step.
    pub fn new(broker: BrokerConfig, params: ParamOverrides) -> Self {
        RunConfig { broker, params, benchmark: None, trade_from: None }
    }
}

/// A benchmark: bought with the whole initial cash at the close of its
/// latest bar at or before the run's first step (or at its first bar inside
/// the run, holding cash until then) and held to the end.
#[derive(Clone, Debug, PartialEq)]
pub struct Benchmark {
    /// The benchmark's symbol.
    pub symbol: Symbol,
    /// Its bars, strictly increasing in time.
    pub bars: Arc<Vec<Bar>>,
}

/// How the engine reports progress, learns it should stop, and finds
/// indicators already computed; none of it changes the run's results.
#[derive(Default)]
pub struct RunHooks<'a> {
    /// Once cancelled, the run stops with [`EngineError::Cancelled`](super::EngineError::Cancelled).
    pub cancel: CancelToken,
    /// Called about every 0.5 % of the steps and at the end.
    pub progress: Option<&'a mut dyn FnMut(Progress)>,
    /// Call `progress` every this many steps instead (1 = every bar, for
    /// paced replay).
    pub progress_every: Option<usize>,
    /// Indicators shared with other runs over the same universe (a sweep's
    /// variants): taken from there, and added there, instead of computed
    /// for this run alone.
    pub shared_indicators: Option<Arc<SharedIndicators>>,
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Steps done.
    pub step: usize,
    /// Steps in the whole run.
    pub total: usize,
    /// Equity at the close of the last step done.
    pub equity: rust_decimal::Decimal,
}
