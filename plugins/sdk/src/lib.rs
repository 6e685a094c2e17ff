//! Guest SDK for backtester WebAssembly strategy plugins (ABI version 4).
//!
//! A plugin is a `cdylib` built for `wasm32-unknown-unknown` that trades through the same narrow
//! API as a Rhai script. Implement [`Strategy`] for a type that is [`Default`], declare its
//! parameters in [`Strategy::params`], its indicators in [`Strategy::init`], trade in
//! [`Strategy::on_bar`], and hand the type to [`export_strategy!`], which generates the exports the
//! host calls (`bt_abi_version`, `bt_params`, `bt_init`, `bt_on_bars`, `bt_on_finish`): the host hands
//! the plugin runs of bars, and `bt_on_bars` calls [`Strategy::on_bar`] for each.
//!
//! The host ABI itself (the `bt` imports) is documented in `plugins/README.md`; the raw imports are
//! in [`sys`], and [`Ctx`] and [`Params`] wrap them safely.
//!
//! # Example
//!
//! The SMA crossover of `scripts/sma_cross.rhai`, as a plugin:
//!
//! ```no_run
//! use backtester_plugin::{export_strategy, Ctx, Error, Indicator, Params, Strategy, Symbol};
//!
//! #[derive(Default)]
//! struct SmaCross {
//!     fast: Indicator,
//!     slow: Indicator,
//! }
//!
//! impl Strategy for SmaCross {
//!     fn params(p: &mut Params) {
//!         p.int("fast", 10).int("slow", 20);
//!     }
//!
//!     fn init(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
//!         self.fast = ctx.sma("fast", ctx.param_int("fast"));
//!         self.slow = ctx.sma("slow", ctx.param_int("slow"));
//!         Ok(())
//!     }
//!
//!     fn on_bar(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
//!         let cross = ctx.cross(self.fast, self.slow);
//!         if cross > 0 {
//!             ctx.order_target_percent(Symbol::PRIMARY, 1.0);
//!         } else if cross < 0 {
//!             ctx.close_position(Symbol::PRIMARY);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export_strategy!(SmaCross);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-unknown-unknown` (crate type `cdylib`)
//! and run the resulting `.wasm` file like a script.
//!
//! # Errors and panics
//!
//! When a lifecycle method returns `Err`, the generated export passes the message to `bt.fail` and
//! returns 1, which fails the run with that message. A panic is reported the same way: the
//! generated exports install a panic hook that sends the panic message and its location to
//! `bt.log` and `bt.fail` before the module traps.
//!
//! Misusing the host API (an unknown symbol, an undeclared indicator handle, `k` beyond the
//! lookback, declaring an indicator outside `init`, an invalid order) traps in the host, which
//! fails the run with a message naming the host function.

#![warn(missing_docs)]

mod ctx;
mod error;
mod export;
mod marshal;
mod params;
mod shared;
mod strategy;
pub mod sys;
mod types;

pub use ctx::Ctx;
pub use error::Error;
#[doc(hidden)]
pub use export::__private;
pub use params::Params;
pub use strategy::Strategy;
pub use types::{Bollinger, Bracket, Entry, Exit, Indicator, Macd, OrderId, Period, Source, Symbol, Timeframe, Trail};

/// The version of the host ABI this SDK implements; `bt_abi_version` returns it, and
/// [`export_strategy!`] also states it in the plugin's `bt_abi_version` custom section.
pub const ABI_VERSION: i32 = 4;
