//! One run's session: its state (market seen so far, indicators, timeframes,
//! broker, parameters, log, equity curve), the step that advances it, and
//! the one narrow API strategies see, [`StrategyCtx`].
//!
//! The engine drives a run through its [`Session`] (build, `init`, bars,
//! finish); a strategy, whatever its runtime, sees only the [`StrategyCtx`]
//! (and, when it drives the bar loop itself, a [`BarLoop`]). Neither can
//! reach the state's fields.

mod crossing;
mod ctx;
mod error;
mod indicator_bank;
mod lifecycle;
mod log;
mod market;
mod params;
mod portfolio;
mod schedule;
mod shared_indicators;
mod state;
mod steps;
mod timeframe;

pub use ctx::{Operand, PriceKind, StrategyCtx};
pub use error::CtxError;
pub use indicator_bank::{IndicatorBank, IndicatorRef};
pub use lifecycle::{Finished, Session};
pub use log::{LogLine, RunLog, MAX_LOG_LINES};
pub use market::MAX_LOOKBACK;
pub use params::{declared_names, ParamError, ParamSpec, ParamValue, Params};
pub use schedule::Period;
pub use shared_indicators::{SharedIndicators, SharedOutputs};
pub use steps::BarLoop;
pub use timeframe::MAX_TIMEFRAMES;

use market::MarketView;
use steps::StepQueue;
use timeframe::Timeframes;
