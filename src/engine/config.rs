//! The checked configuration of one run.

use crate::broker::BrokerConfig;
use crate::domain::CancelToken;

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
    pub broker: BrokerConfig,
    pub params: ParamOverrides,
}

/// How the engine reports progress and learns it should stop.
#[derive(Default)]
pub struct RunHooks<'a> {
    pub cancel: CancelToken,
    /// Called about every 0.5 % of the steps and at the end.
    pub progress: Option<&'a mut dyn FnMut(Progress)>,
    /// Call `progress` every this many steps instead (1 = every bar, for
    /// paced replay).
    pub progress_every: Option<usize>,
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Steps done.
    pub step: usize,
    pub total: usize,
    pub equity: rust_decimal::Decimal,
}
