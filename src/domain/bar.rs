//! One OHLCV bar.

use rust_decimal::Decimal;
use serde::Serialize;

use super::Timestamp;

/// One OHLCV bar. Prices are exact decimals as written in the source; volume
/// is not money and stays `f64` (some feeds have fractional volume).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bar {
    /// Start of the bar's interval, as stamped in the source.
    pub ts: Timestamp,
    /// First traded price of the interval.
    pub open: Decimal,
    /// Highest traded price of the interval.
    pub high: Decimal,
    /// Lowest traded price of the interval.
    pub low: Decimal,
    /// Last traded price of the interval.
    pub close: Decimal,
    /// Quantity traded during the interval, as in the source (may be
    /// fractional); `NaN` when the source has no volume (every bar of that
    /// source then has `NaN`, and a strategy asking for it gets nothing).
    pub volume: f64,
}

/// One of a bar's prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PriceField {
    /// [`Bar::open`], the first price.
    Open,
    /// [`Bar::high`], the highest price.
    High,
    /// [`Bar::low`], the lowest price.
    Low,
    /// [`Bar::close`], the last price.
    Close,
}

impl PriceField {
    /// Every price field, in bar order.
    pub const ALL: [PriceField; 4] = [PriceField::Open, PriceField::High, PriceField::Low, PriceField::Close];
}

impl Bar {
    /// The price named by `field`.
    #[inline]
    pub fn price(&self, field: PriceField) -> Decimal {
        match field {
            PriceField::Open => self.open,
            PriceField::High => self.high,
            PriceField::Low => self.low,
            PriceField::Close => self.close,
        }
    }
}
