//! An exact price in 8 bytes, as bars hold it.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

/// Bits of a [`Price`] that hold its scale (0 to [`Price::MAX_SCALE`]); a
/// word whose low bits are above that is no price (the equity curve marks
/// its wide amounts so).
pub(crate) const SCALE_BITS: u32 = 5;

/// An exact decimal price in 8 bytes: a signed mantissa of 59 bits and a
/// scale of 0 to 28, the same pair `Decimal` holds in 16 (the way NautilusTrader
/// keeps prices as fixed-point integers). A bar holds four, so a million bars
/// take 48 MB instead of 80. Converting to and from `Decimal` keeps the value
/// and the scale (`1.50` stays `1.50`; a negative zero comes back as zero).
/// A price whose digits, without the point, make a number above
/// [`Price::MAX_MANTISSA`] does not fit, unless dropping trailing zeros
/// makes it fit ([`Price::from_decimal_trimmed`]).
#[derive(Clone, Copy)]
pub struct Price(i64);

impl Price {
    /// The largest mantissa a price holds, 2^58 − 1 (about 2.9 × 10^17: every
    /// number written with at most 17 significant digits fits, so the
    /// shortest text of any `f64` below 2.9 × 10^17 does).
    pub const MAX_MANTISSA: i64 = (1 << (63 - SCALE_BITS)) - 1;

    /// The largest scale, `Decimal`'s.
    pub const MAX_SCALE: u32 = Decimal::MAX_SCALE;

    /// The price `mantissa × 10^-scale`, or `None` when it does not fit.
    #[inline]
    pub fn new(mantissa: i64, scale: u32) -> Option<Price> {
        (mantissa.unsigned_abs() <= Self::MAX_MANTISSA as u64 && scale <= Self::MAX_SCALE)
            .then(|| Price(mantissa << SCALE_BITS | i64::from(scale as u8)))
    }

    /// The price nearest to `mantissa × 10^-scale` that fits: the mantissa
    /// clamped to ±[`Price::MAX_MANTISSA`], the scale to 28 (for generated
    /// prices that are known to fit).
    #[inline]
    pub fn saturating(mantissa: i64, scale: u32) -> Price {
        let mantissa = mantissa.clamp(-Self::MAX_MANTISSA, Self::MAX_MANTISSA);
        Price(mantissa << SCALE_BITS | i64::from(scale.min(Self::MAX_SCALE) as u8))
    }

    /// `value` as a price, or `None` when its mantissa is too large.
    #[inline]
    pub fn from_decimal(value: Decimal) -> Option<Price> {
        Price::new(i64::try_from(value.mantissa()).ok()?, value.scale())
    }

    /// The price's 8 bytes as one word (for files of bars): the mantissa
    /// shifted left by five bits, the scale in the low five.
    #[inline]
    pub fn to_bits(self) -> u64 {
        self.0 as u64
    }

    /// The price of a word [`Price::to_bits`] gave, or `None` for a word no
    /// price gives (a scale past 28).
    #[inline]
    pub fn from_bits(bits: u64) -> Option<Price> {
        let price = Price(bits as i64);
        (price.scale() <= Self::MAX_SCALE).then_some(price)
    }

    /// The price of a word whose low five bits (the scale) the caller has
    /// checked to be at most 28, as [`Price::from_bits`] does; for reading
    /// many words at once and checking them together.
    #[inline]
    pub(crate) fn from_bits_unchecked(bits: u64) -> Price {
        Price(bits as i64)
    }

    /// `value` as a price, with its trailing zeros dropped when that is what
    /// makes it fit (`1.500000000000000000000` becomes `1.5`: the same number,
    /// a smaller scale; what Parquet's DECIMAL(38, 18) columns give); `None`
    /// when even that does not fit.
    pub fn from_decimal_trimmed(value: Decimal) -> Option<Price> {
        Price::from_decimal(value).or_else(|| Price::from_decimal(value.normalize()))
    }

    /// The digits, without the point, as a signed integer.
    #[inline]
    pub fn mantissa(self) -> i64 {
        self.0 >> SCALE_BITS
    }

    /// How many of the digits are after the point.
    #[inline]
    pub fn scale(self) -> u32 {
        (self.0 & ((1 << SCALE_BITS) - 1)) as u32
    }

    /// The price as an exact decimal, with its scale.
    #[inline]
    pub fn decimal(self) -> Decimal {
        let mantissa = self.mantissa();
        let magnitude = mantissa.unsigned_abs();
        Decimal::from_parts(magnitude as u32, (magnitude >> 32) as u32, 0, mantissa < 0, self.scale())
    }

    /// The f64 nearest to the price: the same value as
    /// [`to_f64`](super::num::to_f64) of its decimal, without building it.
    #[inline]
    pub fn to_f64(self) -> f64 {
        super::num::exact_to_f64(self.mantissa(), self.scale()).unwrap_or_else(|| super::num::to_f64(self.decimal()))
    }
}

/// Equal as numbers, whatever the scales (`1.5 == 1.50`), as `Decimal`s are.
impl PartialEq for Price {
    fn eq(&self, other: &Price) -> bool {
        self.0 == other.0 || self.decimal() == other.decimal()
    }
}

/// Ordered as numbers; prices of one scale (nearly always, within a series)
/// compare by mantissa alone.
impl PartialOrd for Price {
    #[inline]
    fn partial_cmp(&self, other: &Price) -> Option<std::cmp::Ordering> {
        Some(if self.scale() == other.scale() {
            self.mantissa().cmp(&other.mantissa())
        } else {
            self.decimal().cmp(&other.decimal())
        })
    }
}

impl fmt::Debug for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.decimal(), f)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.decimal(), f)
    }
}

/// Serialized as its decimal is.
impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Serialize::serialize(&self.decimal(), serializer)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::num::to_f64;

    #[test]
    fn a_price_keeps_value_and_scale_through_a_decimal() {
        for text in
            ["1", "1.50", "0.000001", "123456.78", "-2.5", "0.0000000000000000000000000001", "99999999999999999"]
        {
            let d = Decimal::from_str(text).unwrap();
            let p = Price::from_decimal(d).unwrap_or_else(|| panic!("{text} fits"));
            assert_eq!(p.decimal(), d, "{text}");
            assert_eq!(p.decimal().scale(), d.scale(), "{text}");
            assert_eq!(p.to_string(), text);
            assert_eq!(p.to_f64().to_bits(), to_f64(d).to_bits(), "{text}");
        }
    }

    #[test]
    fn the_largest_mantissa_fits_and_one_more_does_not() {
        let max = Price::MAX_MANTISSA;
        assert_eq!(max, 288_230_376_151_711_743);
        assert_eq!(Price::new(max, 2).map(|p| p.decimal()), Some(Decimal::new(max, 2)));
        assert_eq!(Price::new(-max, 0).map(|p| p.mantissa()), Some(-max));
        assert!(Price::new(max + 1, 0).is_none());
        assert!(Price::new(-max - 1, 0).is_none());
        assert!(Price::new(1, 29).is_none());
        assert!(Price::from_decimal(Decimal::MAX).is_none());
        assert!(Price::from_decimal(dec!(288230376151711744)).is_none());
    }

    #[test]
    fn a_price_comes_back_from_its_bits_and_a_word_past_scale_28_is_none() {
        for d in [dec!(1.50), dec!(-3.25), dec!(0.0000000000000000000000000001)] {
            let p = Price::from_decimal(d).unwrap();
            let back = Price::from_bits(p.to_bits()).unwrap();
            assert_eq!((back.mantissa(), back.scale()), (p.mantissa(), p.scale()));
        }
        assert!(Price::from_bits(29).is_none());
        assert!(Price::from_bits(31 | 1 << 5).is_none());
        assert_eq!(Price::from_bits(28 | 7 << 5).map(|p| p.mantissa()), Some(7));
    }

    #[test]
    fn trailing_zeros_are_dropped_only_when_they_are_what_does_not_fit() {
        let kept = Price::from_decimal_trimmed(dec!(1.50)).unwrap();
        assert_eq!(kept.to_string(), "1.50", "fits as written: kept as written");
        let long = Decimal::from_str("123.450000000000000000").unwrap();
        assert!(Price::from_decimal(long).is_none());
        let trimmed = Price::from_decimal_trimmed(long).unwrap();
        assert_eq!((trimmed.decimal(), trimmed.to_string()), (long, "123.45".to_string()));
        assert!(Price::from_decimal_trimmed(Decimal::from_str("3.00000000000000001").unwrap()).is_none());
    }

    #[test]
    fn prices_compare_as_numbers() {
        let a = Price::from_decimal(dec!(1.5)).unwrap();
        let b = Price::from_decimal(dec!(1.50)).unwrap();
        let c = Price::from_decimal(dec!(1.49)).unwrap();
        assert_eq!(a, b);
        assert!(c < a && a <= b);
        assert_eq!(a.partial_cmp(&Price::from_decimal(dec!(1.6)).unwrap()), Some(std::cmp::Ordering::Less));
    }

    #[test]
    fn a_wide_mantissa_converts_to_f64_through_the_decimal() {
        let p = Price::from_decimal(dec!(12345678901234567.8)).unwrap();
        assert_eq!(p.to_f64().to_bits(), to_f64(p.decimal()).to_bits());
        assert!(p.mantissa().unsigned_abs() >= 1 << 53);
    }

    #[test]
    fn a_price_serializes_as_its_decimal() {
        let d = dec!(101.25);
        let p = Price::from_decimal(d).unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), serde_json::to_string(&d).unwrap());
    }
}
