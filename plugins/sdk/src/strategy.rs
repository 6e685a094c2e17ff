//! The trait a plugin implements.

use crate::{Ctx, Error, Params};

/// A trading strategy: the plugin's counterpart of a Rhai script's `params`, `init`, `on_bar` and
/// `on_finish` functions. Export it with [`export_strategy!`](crate::export_strategy).
///
/// The instance is created with [`Default`] just before [`init`](Strategy::init) and lives for the
/// whole run.
pub trait Strategy: Default + 'static {
    /// Declares the strategy's parameters and their defaults (called once, when the plugin is
    /// loaded, before any instance exists). Declares none by default.
    fn params(p: &mut Params) {
        let _ = p;
    }

    /// Declares indicators and the lookback; called once before the first bar.
    ///
    /// # Errors
    /// An error fails the run with its message.
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        let _ = ctx;
        Ok(())
    }

    /// Called once per timestamp: read bars and indicators, place orders.
    ///
    /// # Errors
    /// An error fails the run with its message.
    fn on_bar(&mut self, ctx: &mut Ctx) -> Result<(), Error>;

    /// Called once after the last bar.
    ///
    /// # Errors
    /// An error fails the run with its message.
    fn on_finish(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        let _ = ctx;
        Ok(())
    }
}
