//! Orders as the broker keeps them: what to trade, how much, at what price.

use rust_decimal::Decimal;
use serde::Serialize;

use super::Timestamp;

/// Identifies an order within one run; ids increase in submission order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OrderId(pub u64);

/// Direction of a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for buys, -1 for sells: the sign a fill adds to a position.
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }
}

/// How an order is triggered and priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "price", rename_all = "lowercase")]
pub enum OrderKind {
    /// At the next available price (the next bar's open, or this bar's close
    /// with trade-on-close).
    Market,
    /// At the limit price or better.
    Limit(Decimal),
    /// Becomes a market order once the price trades through the stop.
    Stop(Decimal),
}

/// How much an order trades.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSize {
    /// A fixed quantity (always > 0) in the given direction.
    Quantity { side: Side, qty: Decimal },
    /// Trade whatever brings the position to this fraction of equity, sized
    /// at fill time; 0 closes the position, negative fractions are shorts.
    TargetPercent(Decimal),
}

/// An order accepted by the broker and waiting to fill.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Order {
    pub id: OrderId,
    /// Index of the symbol in the run's universe.
    pub symbol: usize,
    pub size: OrderSize,
    pub kind: OrderKind,
    /// Engine step (timestamp index) on which the strategy placed it.
    pub placed_step: usize,
    pub placed_ts: Timestamp,
}
