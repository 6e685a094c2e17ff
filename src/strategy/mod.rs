//! The [`Strategy`] trait, loading strategies, and the runtimes behind it
//! (native Rust, Rhai scripts, WASM plugins).
//!
//! A [`Strategy`] is driven by the engine through three calls: `init`
//! (declare indicators and lookback), `on_bar` (once per timestamp) and
//! `on_finish`. Every call gets the same [`StrategyCtx`] (see
//! [`crate::session`]), which answers only for the past and the present:
//! bars seen so far, indicator values, the portfolio, parameters; and
//! accepts orders, cancellations and log lines. Rhai scripts and WASM
//! plugins reach exactly this API and nothing else.

mod error;
mod load;
pub mod native;
pub mod rhai;
mod sandbox;
pub mod wasm;

pub use error::StrategyError;
pub use load::{build, load_file, read_file, Runtime, StrategyLimits, UnknownRuntime};
pub use sandbox::{BudgetUsage, SandboxUsage, WasmUsage};

use crate::session::{BarLoop, ParamSpec, StrategyCtx};

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
    /// [`BarLoop::next`], running the strategy's per-bar logic after each
    /// has begun; only called when [`Strategy::drives_bars`] is true.
    ///
    /// # Errors
    /// Whatever the strategy's code raises, at the step it was on.
    fn on_bars(&mut self, _ctx: &StrategyCtx, _bars: &BarLoop) -> Result<(), StrategyError> {
        Err(StrategyError::Runtime {
            message: format!("{} does not drive the bar loop itself", self.name()),
            line: None,
            column: None,
        })
    }

    /// A strategy like this one before it ran, sharing what was compiled:
    /// for running the same code again on this thread (a sweep's next
    /// variant). `None` where the runtime has nothing to share this way (a
    /// WASM plugin's module is cached by the runtime already).
    fn fresh(&self) -> Option<Box<dyn Strategy>> {
        None
    }

    /// What the strategy used of its sandbox's limits so far (the engine
    /// asks once, after `on_finish`); `None` for a strategy that runs
    /// outside a sandbox, as native ones do.
    fn sandbox_usage(&self) -> Option<SandboxUsage> {
        None
    }
}
