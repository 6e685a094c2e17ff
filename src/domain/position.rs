//! A position as a strategy sees it.

use rust_decimal::Decimal;
use serde::Serialize;

/// A position as a strategy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PositionView {
    /// Signed quantity: > 0 long, < 0 short, 0 flat.
    pub qty: Decimal,
    /// Average entry price of the open lots; `None` when flat.
    pub avg_price: Option<Decimal>,
    /// `(mark - avg_price) * qty`, computed exactly as `mark * qty` minus
    /// the open lots' cost (plus it, for a short); 0 when flat.
    pub unrealized_pnl: Decimal,
}
