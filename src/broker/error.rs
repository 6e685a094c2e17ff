//! Errors and rejections of the simulated broker.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::{OrderId, Symbol, Timestamp};

/// An order that a strategy submitted with arguments the broker cannot accept.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BrokerError {
    #[error("symbol index {0} is not in the run's universe")]
    UnknownSymbol(usize),
    #[error("order quantity must be > 0, got {0}")]
    NonPositiveQuantity(Decimal),
    #[error("order quantity {0} is above the largest a run takes ({max})", max = super::config::MAX_ORDER_QUANTITY)]
    QuantityTooLarge(Decimal),
    #[error("order quantity {0} has a fractional part but this run trades whole units (enable fractional quantities to allow it)")]
    FractionalQuantity(Decimal),
    #[error("order price must be > 0, got {0}")]
    NonPositivePrice(Decimal),
    #[error("target fraction {0} is out of range (-100 to 100)")]
    TargetOutOfRange(Decimal),
    #[error("target-percent orders are market orders; limit and stop prices are not supported for them")]
    TargetNeedsMarket,
    #[error("trailing stops need a fixed quantity (target-percent orders are market orders)")]
    TrailingNeedsQuantity,
    #[error("{0}")]
    BadOffset(String),
    #[error("a trailing stop needs a price to trail: symbol index {0} has no bar yet")]
    NoPriceYet(usize),
    #[error("{0}")]
    BadExit(String),
}

/// An accepted order that could not be filled when its price came, kept with
/// the run's results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rejection {
    pub step: usize,
    pub ts: Timestamp,
    pub order_id: OrderId,
    pub symbol: Symbol,
    pub reason: String,
}
