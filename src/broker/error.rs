//! Errors and rejections of the simulated broker.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::{OrderId, Symbol, Timestamp};

/// An order that a strategy submitted with arguments the broker cannot accept.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BrokerError {
    /// The order names a symbol index past the run's symbols.
    #[error("symbol index {0} is not in the run's universe")]
    UnknownSymbol(usize),
    /// A fixed quantity of zero or less.
    #[error("order quantity must be > 0, got {0}")]
    NonPositiveQuantity(Decimal),
    /// A fixed quantity above [`MAX_ORDER_QUANTITY`](super::MAX_ORDER_QUANTITY).
    #[error("order quantity {0} is above the largest a run takes ({max})", max = super::config::MAX_ORDER_QUANTITY)]
    QuantityTooLarge(Decimal),
    /// A quantity with a fractional part in a run that trades whole units.
    #[error("order quantity {0} has a fractional part but this run trades whole units (enable fractional quantities to allow it)")]
    FractionalQuantity(Decimal),
    /// A limit or stop price of zero or less.
    #[error("order price must be > 0, got {0}")]
    NonPositivePrice(Decimal),
    /// A target-percent order asking for more than 100 times equity, long or short.
    #[error("target fraction {0} is out of range (-100 to 100)")]
    TargetOutOfRange(Decimal),
    /// A target-percent order with a limit or stop price.
    #[error("target-percent orders are market orders; limit and stop prices are not supported for them")]
    TargetNeedsMarket,
    /// A trailing stop sized as a target percent.
    #[error("trailing stops need a fixed quantity (target-percent orders are market orders)")]
    TrailingNeedsQuantity,
    /// A trailing offset that is not > 0, or a fraction not below 1; the text says which.
    #[error("{0}")]
    BadOffset(String),
    /// A trailing stop placed before its symbol has had a bar to trail from.
    #[error("a trailing stop needs a price to trail: symbol index {0} has no bar yet")]
    NoPriceYet(usize),
    /// A stop-loss or take-profit level out of range, or a bracket with both
    /// a stop-loss and a trailing stop; the text says which.
    #[error("{0}")]
    BadExit(String),
}

/// An accepted order that could not be filled when its price came, kept with
/// the run's results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rejection {
    /// Engine step at which the fill was refused.
    pub step: usize,
    /// Time of that step's bar.
    pub ts: Timestamp,
    /// The order refused.
    pub order_id: OrderId,
    /// The order's symbol.
    pub symbol: Symbol,
    /// Why it could not be filled (cash, margin, position limit, fill value).
    pub reason: String,
}
