//! Streaming technical indicators computed by the host, one bar at a time.
//!
//! Every indicator does O(1) (amortised) work per input, never allocates after
//! construction, and works on `f64`. A value is `None` until the indicator's
//! window is full: a placeholder 0 or NaN is never reported.
//!
//! Two layers:
//! - concrete indicators ([`Sma`], [`Ema`], [`Wma`], [`Rsi`], [`Macd`],
//!   [`Bollinger`], [`Atr`], [`StdDev`], [`Highest`], [`Lowest`], [`Roc`]),
//!   each with `new(..) -> Result<Self, IndicatorError>`, `update(..)` and
//!   `value()`; the exact formulas are documented on each type;
//! - dispatch ([`IndicatorSpec`], [`IndicatorState`], [`Source`],
//!   [`BarInput`]): what a strategy declares, and the running state the engine
//!   feeds bar by bar (static dispatch over an enum, no boxing);
//! - the vocabulary ([`KINDS`]): each kind's name, arguments and outputs in
//!   one table, which both strategy runtimes translate declarations through.
//!
//! Inputs are expected to be finite (the data loader validates bars); a NaN or
//! infinite input is not rejected and propagates into the values that depend
//! on it.
//!
//! This module has no dependencies outside `std` and refers to nothing outside
//! itself.

mod atr;
mod bollinger;
mod columns;
mod ema;
mod error;
mod extremes;
mod macd;
mod ring;
mod roc;
mod rsi;
mod sma;
mod source;
mod spec;
mod stddev;
mod table;
mod wma;

#[cfg(test)]
mod test_util;

pub use atr::Atr;
pub use bollinger::{Bollinger, BollingerValue};
pub use columns::SourceColumns;
pub use ema::Ema;
pub use error::{IndicatorError, MAX_PERIOD};
pub use extremes::{Highest, Lowest};
pub use macd::{Macd, MacdValue};
pub use roc::Roc;
pub use rsi::Rsi;
pub use sma::Sma;
pub use source::{BarInput, Source};
pub use spec::{IndicatorSpec, IndicatorState};
pub use stddev::StdDev;
pub use table::{
    find_kind, kinds, Arg, ArgType, ArgValue, IndicatorKind, UnknownKind, DEFAULT_SOURCE, KINDS, MAX_ARGS,
};
pub use wma::Wma;
