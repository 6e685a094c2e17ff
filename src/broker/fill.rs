//! When an order fills and at what price.

use rust_decimal::Decimal;

use crate::domain::{Bar, Order, OrderKind, OrderSize, Side};

/// The moment of a step at which orders are matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Before the strategy sees the bar: the open and the bar's range.
    Open,
    /// After the strategy saw the bar, with trade-on-close: its close.
    Close,
}

/// The price an order trades at on `bar`, before slippage, or `None` if it
/// does not fill on this bar.
///
/// - Market: the open (at `Phase::Open`, unless trading on close), or the
///   close (at `Phase::Close`, trading on close).
/// - Limit buy at L: fills if low ≤ L, at min(open, L); limit sell: high ≥ L,
///   at max(open, L). A gap through the limit fills at the better open.
/// - Stop buy at S: fills if high ≥ S, at max(open, S); stop sell: low ≤ S,
///   at min(open, S). A gap through the stop fills at the worse open.
///
/// Only orders placed on an earlier step reach `Phase::Open`, so nothing
/// fills on the bar that the strategy was looking at when it placed it.
pub fn base_price(order: &Order, bar: &Bar, phase: Phase, trade_on_close: bool) -> Option<Decimal> {
    match (phase, order.kind) {
        (Phase::Open, OrderKind::Market) if !trade_on_close => Some(bar.open()),
        (Phase::Close, OrderKind::Market) => Some(bar.close()),
        (Phase::Open, OrderKind::Limit(limit)) => match side_of(order)? {
            Side::Buy => (bar.low() <= limit).then(|| bar.open().min(limit)),
            Side::Sell => (bar.high() >= limit).then(|| bar.open().max(limit)),
        },
        (Phase::Open, OrderKind::Stop(stop) | OrderKind::TrailingStop { stop, .. }) => match side_of(order)? {
            Side::Buy => (bar.high() >= stop).then(|| bar.open().max(stop)),
            Side::Sell => (bar.low() <= stop).then(|| bar.open().min(stop)),
        },
        _ => None,
    }
}

/// The side of a fixed-quantity order (target-percent orders learn theirs at
/// fill time).
fn side_of(order: &Order) -> Option<Side> {
    match order.size {
        OrderSize::Quantity { side, .. } => Some(side),
        OrderSize::TargetPercent(_) => None,
    }
}

/// Moves `price` by `bps` basis points against the trader; a limit order
/// never fills beyond its limit.
pub fn slipped(price: Decimal, side: Side, bps: Decimal, kind: OrderKind) -> Decimal {
    if bps.is_zero() {
        return price;
    }
    let factor = bps / Decimal::from(10_000);
    match (side, kind) {
        (Side::Buy, OrderKind::Limit(limit)) => (price * (Decimal::ONE + factor)).min(limit),
        (Side::Sell, OrderKind::Limit(limit)) => (price * (Decimal::ONE - factor)).max(limit),
        (Side::Buy, _) => price * (Decimal::ONE + factor),
        (Side::Sell, _) => price * (Decimal::ONE - factor),
    }
}
