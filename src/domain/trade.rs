//! Round-trip trades and equity-curve points: what a run produces.

use rust_decimal::Decimal;
use serde::Serialize;

use super::{ExitReason, Symbol, Timestamp};

/// Long or short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionSide {
    /// Bought first: gains when the price rises.
    Long,
    /// Sold first: gains when the price falls.
    Short,
}

/// One closed round trip: a quantity opened by one fill and closed by a
/// later one (positions are matched first in, first out).
///
/// Invariant: the sum of `net_pnl` over all trades of a run equals the run's
/// change in equity, because every fee is allocated to exactly one trade.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trade {
    /// The traded symbol.
    pub symbol: Symbol,
    /// Whether the round trip was long or short.
    pub side: PositionSide,
    /// Quantity, always > 0.
    pub qty: Decimal,
    /// Timestamp of the engine step on which the entry filled.
    pub entry_ts: Timestamp,
    /// Price of the entry fill, after slippage.
    pub entry_price: Decimal,
    /// Engine step of the entry fill.
    pub entry_step: usize,
    /// Timestamp of the engine step on which the exit filled.
    pub exit_ts: Timestamp,
    /// Price of the exit fill: after slippage, except at the end of a run (the last close).
    pub exit_price: Decimal,
    /// Engine step of the exit fill.
    pub exit_step: usize,
    /// Entry and exit fees allocated to this quantity.
    pub commission: Decimal,
    /// (exit - entry) * qty for longs, (entry - exit) * qty for shorts.
    pub gross_pnl: Decimal,
    /// `gross_pnl - commission`.
    pub net_pnl: Decimal,
    /// `net_pnl / (entry_price * qty) * 100`, divided in f64 from the exact amounts.
    pub return_pct: f64,
    /// Engine steps between entry and exit.
    pub duration_bars: usize,
    /// Seconds between entry and exit.
    pub duration_secs: i64,
    /// True when the run ended with the position open and the engine closed it
    /// at the last close (`exit_reason` is then `end_of_run`).
    pub closed_at_end: bool,
    /// What closed the trade.
    pub exit_reason: ExitReason,
}

/// The account at the end of one engine step, marked to market at the close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EquityPoint {
    /// Cash plus every open position marked at this step's close.
    pub equity: Decimal,
    /// Cash after this step's fills and fees.
    pub cash: Decimal,
    /// Whether any position was open at the close of this step.
    pub exposed: bool,
}
