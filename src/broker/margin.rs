//! Margin: how much exposure an account may take on, and the margin call
//! that liquidates it when equity no longer covers its positions.
//!
//! - Initial margin: a fill that adds exposure must leave
//!   `equity ≥ gross / leverage`, where `gross = Σ |qty| × price` over every
//!   position (the filled symbol at its fill price, the others at their
//!   latest prices) and equity is cash plus positions after the fee. At
//!   leverage 1 this means a long is paid in cash and a short holds its
//!   proceeds plus as much again.
//! - Maintenance: at each close, an account with `equity < gross ×
//!   maintenance_margin` is liquidated at once at the closes (slippage
//!   against it, fees charged), its open orders are cancelled, and the call
//!   is recorded; the trades it closes carry `exit_reason = margin_call`.
//!   With a maintenance margin of 0 this still catches an account whose
//!   equity went below zero. An unlevered long-only account can never fall
//!   below its maintenance, so the check is skipped for it.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::{num, ExitReason, Timestamp};

use super::commission::FRACTIONAL_DP;
use super::Broker;

/// One margin call: the account at the close that triggered it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MarginCall {
    /// Engine step whose close triggered the call.
    pub step: usize,
    /// Time of that close.
    pub ts: Timestamp,
    /// Equity at the close, before liquidation.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub equity: Decimal,
    /// `gross × maintenance_margin` at that close.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub requirement: Decimal,
    /// Open orders cancelled by the call.
    pub orders_cancelled: usize,
}

impl Broker {
    /// Equity above the initial margin after a hypothetical fill of `delta`
    /// of `symbol` at `price` with `fee`; negative when the fill does not fit.
    pub(super) fn margin_free_after(&self, symbol: usize, delta: Decimal, price: Decimal, fee: Decimal) -> Decimal {
        let mut equity = self.ledger.cash() - num::mul(delta, price) - fee;
        let mut gross = Decimal::ZERO;
        for s in 0..self.symbols.len() {
            let (qty, mark) = if s == symbol {
                (self.ledger.position_qty(s) + delta, Some(price))
            } else {
                (self.ledger.position_qty(s), self.marks[s])
            };
            if !qty.is_zero() {
                let value = num::mul(qty, mark.unwrap_or(Decimal::ZERO));
                equity += value;
                gross += value.abs();
            }
        }
        if self.config.leverage == Decimal::ONE {
            equity - gross
        } else {
            equity - gross / self.config.leverage
        }
    }

    /// A fill of `delta` of `symbol` at `price` that does not fit the
    /// margin, cut to the largest position on the same side that the margin
    /// carries, still beyond the position held on that side (a top-up is
    /// cut, never turned into a sale or an empty fill); `None` when none
    /// does (the fill is then refused).
    ///
    /// Beyond what is held on the target's side, each unit more costs its
    /// value in margin and never lowers the fee (percent and per-unit fees
    /// grow with the size, a minimum or fixed fee stays), so the free margin
    /// falls as the position grows. The largest fitting position is then
    /// found exactly, under every commission model, by halving the range of
    /// whole units (or units of the fractional step) between the position
    /// held and the target: at most about 80 exact checks, and only for an
    /// order that did not fit.
    pub(super) fn fit_to_margin(&self, symbol: usize, delta: Decimal, price: Decimal) -> Option<Decimal> {
        let current = self.ledger.position_qty(symbol);
        let target = current + delta;
        let side = if target.is_sign_negative() { -Decimal::ONE } else { Decimal::ONE };
        let dp = if self.config.fractional { FRACTIONAL_DP } else { 0 };
        let unit = Decimal::new(1, dp);
        let fits = |size: Decimal| {
            let delta = side * size - current;
            self.margin_free_after(symbol, delta, price, self.config.commission.fee(delta.abs(), price))
                >= Decimal::ZERO
        };
        // What is held on the target's side already: the fill must add to it.
        let held = if current.is_sign_negative() == target.is_sign_negative() { current.abs() } else { Decimal::ZERO };
        // In units: `low` fits or is what is held (not a fill), `high` does not fit.
        let mut low = (held / unit).floor();
        let mut high = (target.abs() / unit).ceil();
        while high - low > Decimal::ONE {
            let mid = ((low + high) / Decimal::TWO).floor();
            if fits(mid * unit) {
                low = mid;
            } else {
                high = mid;
            }
        }
        let fitted = low * unit;
        (fitted > held).then(|| side * fitted - current)
    }

    /// Liquidates the account at the current marks if its equity is below
    /// the maintenance margin.
    pub(super) fn check_margin(&mut self, step: usize, ts: Timestamp) {
        if !self.levered && !self.ledger.has_short() {
            return;
        }
        let mut equity = self.ledger.cash();
        let mut gross = Decimal::ZERO;
        for (s, qty) in self.ledger.quantities() {
            let value = num::mul(qty, self.marks[s].unwrap_or(Decimal::ZERO));
            equity += value;
            gross += value.abs();
        }
        let requirement = gross * self.config.maintenance_margin;
        if equity >= requirement {
            return;
        }
        let orders_cancelled = self.open_orders.len();
        self.margin_calls.push(MarginCall { step, ts, equity, requirement, orders_cancelled });
        self.close_everything(step, ts, ExitReason::MarginCall);
    }
}
