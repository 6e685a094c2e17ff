//! One OHLCV bar.

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Price, Timestamp};

/// One OHLCV bar, 48 bytes. Prices are exact decimals as written in the
/// source, held as [`Price`]s and read as `Decimal`s; volume is not money and
/// stays `f64` (some feeds have fractional volume).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bar {
    /// Start of the bar's interval, as stamped in the source.
    pub ts: Timestamp,
    /// First traded price of the interval.
    open: Price,
    /// Highest traded price of the interval.
    high: Price,
    /// Lowest traded price of the interval.
    low: Price,
    /// Last traded price of the interval.
    close: Price,
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
    /// A bar of these prices (open, high, low, close) and volume.
    #[inline]
    pub fn new(ts: Timestamp, [open, high, low, close]: [Price; 4], volume: f64) -> Bar {
        Bar { ts, open, high, low, close, volume }
    }

    /// A bar of these decimal prices (open, high, low, close), or `None` when
    /// one of them does not fit a [`Price`].
    pub fn from_decimals(ts: Timestamp, prices: [Decimal; 4], volume: f64) -> Option<Bar> {
        let [open, high, low, close] = prices.map(Price::from_decimal);
        Some(Bar::new(ts, [open?, high?, low?, close?], volume))
    }

    /// The same bar stamped `ts`.
    #[inline]
    pub fn with_ts(self, ts: Timestamp) -> Bar {
        Bar { ts, ..self }
    }

    /// First traded price of the interval.
    #[inline]
    pub fn open(&self) -> Decimal {
        self.open.decimal()
    }

    /// Highest traded price of the interval.
    #[inline]
    pub fn high(&self) -> Decimal {
        self.high.decimal()
    }

    /// Lowest traded price of the interval.
    #[inline]
    pub fn low(&self) -> Decimal {
        self.low.decimal()
    }

    /// Last traded price of the interval.
    #[inline]
    pub fn close(&self) -> Decimal {
        self.close.decimal()
    }

    /// The four prices as held: open, high, low, close.
    #[inline]
    pub fn prices(&self) -> [Price; 4] {
        [self.open, self.high, self.low, self.close]
    }

    /// The price named by `field`, as held.
    #[inline]
    pub fn narrow(&self, field: PriceField) -> Price {
        match field {
            PriceField::Open => self.open,
            PriceField::High => self.high,
            PriceField::Low => self.low,
            PriceField::Close => self.close,
        }
    }

    /// The price named by `field`.
    #[inline]
    pub fn price(&self, field: PriceField) -> Decimal {
        self.narrow(field).decimal()
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn a_bar_is_48_bytes_and_gives_back_its_decimals() {
        assert_eq!(std::mem::size_of::<Bar>(), 48);
        let bar = Bar::from_decimals(Timestamp(7), [dec!(1.50), dec!(2), dec!(1.25), dec!(1.75)], 10.0).unwrap();
        assert_eq!((bar.open(), bar.high(), bar.low(), bar.close()), (dec!(1.5), dec!(2), dec!(1.25), dec!(1.75)));
        assert_eq!(bar.open().to_string(), "1.50");
        assert_eq!(PriceField::ALL.map(|f| bar.price(f)), [dec!(1.5), dec!(2), dec!(1.25), dec!(1.75)]);
        assert_eq!(bar.with_ts(Timestamp(9)).ts, Timestamp(9));
        assert!(Bar::from_decimals(Timestamp(7), [Decimal::MAX, dec!(2), dec!(1), dec!(1)], 0.0).is_none());
    }
}
