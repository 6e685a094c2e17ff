//! The one narrow API strategies see, and the runtimes behind it.
//!
//! A [`Strategy`] is driven by the engine through three calls: `init`
//! (declare indicators and lookback), `on_bar` (once per timestamp) and
//! `on_finish`. Every call gets the same [`StrategyCtx`], which answers only
//! for the past and the present: bars seen so far, indicator values, the
//! portfolio, parameters; and accepts orders, cancellations and log lines.
//! Rhai scripts and WASM plugins reach exactly this API and nothing else.

mod crossing;
mod ctx;
mod error;
mod indicator_bank;
mod load;
mod log;
mod market;
pub mod native;
mod params;
mod portfolio;
pub mod rhai;
mod sandbox;
mod schedule;
mod steps;
mod timeframe;
pub mod wasm;

pub use crossing::Crossings;
pub use ctx::{Operand, Phase, PriceKind, RunState, StrategyCtx};
pub use error::{CtxError, StrategyError};
pub use indicator_bank::{IndicatorBank, IndicatorRef};
pub use load::{build, load_file, Runtime, StrategyLimits, UnknownRuntime};
pub use log::{LogLine, RunLog, MAX_LOG_LINES};
pub use market::{MarketView, MAX_LOOKBACK};
pub use params::{declared_names, ParamError, ParamSpec, ParamValue, Params};
pub use sandbox::{BudgetUsage, SandboxUsage, WasmUsage};
pub use schedule::{starts_period, Period};
pub use steps::StepQueue;
pub use timeframe::{Timeframes, MAX_TIMEFRAMES};

/// A trading strategy, whatever language it is written in.
///
/// The engine calls `init` once, `on_bar` once per timestamp of the run and
/// `on_finish` once; errors end the run and name the call and the bar.
pub trait Strategy {
    /// A short name for logs and errors (the file name for scripts).
    fn name(&self) -> &str;

    /// The parameters the strategy declares, with their defaults.
    fn declared_params(&self) -> &[ParamSpec];

    /// Declares indicators and lookback; may read parameters.
    ///
    /// # Errors
    /// Whatever the strategy's code raises.
    fn init(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError>;

    /// Called once per timestamp after that step's fills, with bars up to now.
    ///
    /// # Errors
    /// Whatever the strategy's code raises.
    fn on_bar(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError>;

    /// Called once after the last bar, before open positions are closed.
    ///
    /// # Errors
    /// Whatever the strategy's code raises.
    fn on_finish(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError>;

    /// Whether the strategy drives the bar loop itself: the engine then
    /// queues a run of steps and calls [`Strategy::on_bars`] instead of
    /// `on_bar` once per step (one call into a WASM plugin per few thousand
    /// bars rather than one per bar).
    fn drives_bars(&self) -> bool {
        false
    }

    /// Takes every step the engine queued, one at a time with
    /// [`RunState::next_step`] (through the context), running the strategy's
    /// per-bar logic after each has begun; only called when
    /// [`Strategy::drives_bars`] is true.
    ///
    /// # Errors
    /// Whatever the strategy's code raises, at the step it was on.
    fn on_bars(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        Err(StrategyError::Runtime {
            message: format!("{} does not drive the bar loop itself", self.name()),
            line: None,
            column: None,
        })
    }

    /// What the strategy used of its sandbox's limits so far (the engine
    /// asks once, after `on_finish`); `None` for a strategy that runs
    /// outside a sandbox, as native ones do.
    fn sandbox_usage(&self) -> Option<SandboxUsage> {
        None
    }
}
