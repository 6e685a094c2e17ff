//! Conversions between exact decimals (money) and f64 (indicators, scripts).

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;

/// `10^i` for i in 0..=22: every one is an exact f64.
pub const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// The f64 nearest to `d`.
///
/// Fast path: when the mantissa fits in 53 bits and the scale is at most 22,
/// both are exact f64s and one IEEE division rounds correctly, giving the
/// same value as parsing the decimal text; `Decimal::to_f64` is about ten
/// times slower, and this runs for every bar that feeds an indicator.
#[inline]
pub fn to_f64(d: Decimal) -> f64 {
    // Through i64: converting an i128 to f64 is a slow library call.
    match i64::try_from(d.mantissa()) {
        Ok(mantissa) => exact_to_f64(mantissa, d.scale()),
        Err(_) => None,
    }
    .unwrap_or_else(|| d.to_f64().unwrap_or(f64::NAN))
}

/// `mantissa × 10^-scale` as the nearest f64 when both are exact f64s
/// (the mantissa under 2^53, the scale at most 22), by one correctly
/// rounded division; `None` otherwise. [`to_f64`]'s fast path, and
/// [`Price::to_f64`](super::Price::to_f64)'s, so that both give one answer.
#[inline]
pub fn exact_to_f64(mantissa: i64, scale: u32) -> Option<f64> {
    let scale = scale as usize;
    (mantissa.unsigned_abs() < (1u64 << 53) && scale < POW10.len()).then(|| mantissa as f64 / POW10[scale])
}

/// `a × b`, exactly. Fast path: when the product of the mantissas fits in
/// Decimal's 96 bits and the scales add up to at most 28, the product is
/// that integer at that scale (what `Decimal`'s own multiplication gives,
/// at a fraction of its cost: this runs for every open position on every
/// bar). Otherwise `Decimal`'s multiplication.
#[inline]
pub fn mul(a: Decimal, b: Decimal) -> Decimal {
    let scale = a.scale() + b.scale();
    if scale <= 28 {
        let (ma, mb) = (a.mantissa(), b.mantissa());
        if ma == 0 || mb == 0 {
            return Decimal::ZERO; // as Decimal's own multiplication gives it: no scale, no sign
        }
        let (ua, ub) = (ma.unsigned_abs(), mb.unsigned_abs());
        // Both under 2^64 (quantities and prices nearly always are): one
        // 64 × 64 → 128-bit multiplication instead of i128's checked one.
        if ua >> 64 == 0 && ub >> 64 == 0 {
            let product = u128::from(ua as u64) * u128::from(ub as u64);
            if product >> 96 == 0 {
                let negative = (ma < 0) != (mb < 0);
                let (lo, mid, hi) = (product as u32, (product >> 32) as u32, (product >> 64) as u32);
                return Decimal::from_parts(lo, mid, hi, negative, scale);
            }
        } else if let Some(product) = ma.checked_mul(mb) {
            if product.unsigned_abs() < (1u128 << 96) {
                return Decimal::from_i128_with_scale(product, scale);
            }
        }
    }
    a * b
}

/// The shortest decimal that reads back as `x` (0.1 → 0.1, not
/// 0.1000000000000000055…); `None` for NaN, infinities and values out of
/// Decimal's range.
pub fn from_f64(x: f64) -> Option<Decimal> {
    if !x.is_finite() {
        return None;
    }
    // Fast path for whole numbers (quantities, fractions like 1.0): the
    // general conversion costs about a microsecond.
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        return Some(Decimal::from(x as i64));
    }
    Decimal::from_f64(x).map(|d| d.normalize())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn to_f64_matches_parsing_the_text() {
        for text in ["1.07219", "0.1", "104.06", "-3.5", "123456789.123456", "0.000001"] {
            let d = Decimal::from_str(text).unwrap();
            assert_eq!(to_f64(d), text.parse::<f64>().unwrap(), "{text}");
        }
        let big = Decimal::from_str("79228162514264337593543950335").unwrap();
        assert_eq!(to_f64(big), 7.922816251426434e28);
    }

    #[test]
    fn mul_matches_decimal_multiplication() {
        let cases = [
            ("10", "104.50"),
            ("-3", "0.001"),
            ("123456789.123", "987654.321"),
            ("1.5", "-2.25"),
            ("-0", "5.5"),
            ("0", "-1.25"),
            ("18446744073709551615", "4294967295"),
            ("18446744073709551616", "3"),
            ("79228162514264337593543950335", "1"),
            ("0.00", "79228162514264337593543950335"),
            ("-79228162514264337593543950335", "0.000"),
        ];
        for (a, b) in cases {
            let (a, b) = (Decimal::from_str(a).unwrap(), Decimal::from_str(b).unwrap());
            assert_eq!(mul(a, b), a * b);
            assert_eq!(mul(a, b).to_string(), (a * b).to_string());
        }
        let big = Decimal::MAX / Decimal::TWO;
        let cent = Decimal::new(1, 2);
        assert_eq!(mul(big, cent), big * cent, "falls back");
    }

    #[test]
    fn from_f64_gives_the_shortest_decimal() {
        assert_eq!(from_f64(0.1), Decimal::from_str("0.1").ok());
        assert_eq!(from_f64(101.37), Decimal::from_str("101.37").ok());
        assert_eq!(from_f64(f64::NAN), None);
        assert_eq!(from_f64(f64::INFINITY), None);
    }
}
