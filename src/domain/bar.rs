//! One OHLCV bar and the symbol it belongs to.

use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::Serialize;

use super::Timestamp;

/// One OHLCV bar. Prices are exact decimals as written in the source; volume
/// is not money and stays `f64` (some feeds have fractional volume).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bar {
    /// Start of the bar's interval, as stamped in the source.
    pub ts: Timestamp,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: f64,
}

/// One of a bar's prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PriceField {
    Open,
    High,
    Low,
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

/// A traded instrument's name, cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol(Arc<str>);

impl Serialize for Symbol {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Symbol {
    /// Wraps a name; callers validate it (see `data::universe`).
    pub fn new(name: &str) -> Self {
        Symbol(Arc::from(name))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
