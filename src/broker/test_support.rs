//! What the broker's test modules share: daily bars from a fixed start, a
//! one-symbol broker, a quantity, and one step of fills.

use rust_decimal::Decimal;

use super::{Broker, BrokerConfig};
use crate::domain::{Bar, OrderSize, Side, Symbol, Timestamp};

/// Day `i` after 2020-09-13 (any fixed start does).
pub fn day(i: i64) -> Timestamp {
    Timestamp::from_secs(1_600_000_000 + i * 86_400)
}

pub fn bar(i: i64, open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> Option<Bar> {
    Bar::from_decimals(day(i), [open, high, low, close], 1000.0)
}

/// A bar that opens, closes and trades at `price` only.
pub fn flat(i: i64, price: Decimal) -> Option<Bar> {
    bar(i, price, price, price, price)
}

/// A broker trading one symbol, `X`.
pub fn one(config: BrokerConfig) -> Broker {
    Broker::new(config, vec![Symbol::new("X")])
}

pub fn qty(side: Side, qty: Decimal) -> OrderSize {
    OrderSize::Quantity { side, qty }
}

/// Runs step `i` over every symbol's fresh bar: fills at the open, then
/// (with trade-on-close) at the close.
pub fn step_all(b: &mut Broker, i: usize, fresh: &[Option<Bar>]) {
    b.on_bar_open(i, day(i as i64), fresh);
    b.on_bar_close(i, day(i as i64), fresh);
}

/// [`step_all`] for a one-symbol broker.
pub fn step(b: &mut Broker, i: usize, fresh: Option<Bar>) {
    step_all(b, i, &[fresh]);
}
