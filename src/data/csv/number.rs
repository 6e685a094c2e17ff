//! The number syntax of price and volume cells, and exact decimals read from it.

use rust_decimal::Decimal;

use crate::domain::Price;

/// `nan`, `inf`, `infinity` in any case, with an optional sign.
pub(super) fn is_non_finite(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    ["nan", "inf", "infinity"].iter().any(|word| unsigned.eq_ignore_ascii_case(word))
}

/// `[+-]digits[.digits][(e|E)[+-]digits]`, where either side of the point may
/// be empty but not both.
pub(super) fn is_number_syntax(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits_from = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits_from(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits_from(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits_from(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// The most digits [`plain_decimal`] reads: any 18 digits fit in a `u64`.
const PLAIN_DIGITS: usize = 18;

/// `[+-]digits[.digits]` with at most [`PLAIN_DIGITS`] digits, read in one
/// pass, the way nearly every price is written; `None` for anything else
/// (which [`parse_decimal`] then reads the general way). Gives the same
/// value and scale as `Decimal::from_str_exact` (`1.50` has scale 2).
pub(super) fn plain_decimal(text: &[u8]) -> Option<Decimal> {
    let (negative, mantissa, scale) = plain_parts(text)?;
    let (lo, mid) = (mantissa as u32, (mantissa >> 32) as u32);
    Some(Decimal::from_parts(lo, mid, 0, negative, scale))
}

/// [`plain_decimal`]'s value as a [`Price`], without building a `Decimal`;
/// `None` for anything [`plain_decimal`] does not read or a [`Price`] does
/// not hold (which [`parse_price`] then reads the general way and explains).
#[inline]
pub(super) fn plain_price(text: &[u8]) -> Option<Price> {
    let (negative, mantissa, scale) = plain_parts(text)?;
    let mantissa = i64::try_from(mantissa).ok()?;
    Price::new(if negative { -mantissa } else { mantissa }, scale)
}

/// The sign, the digits as an integer and the scale of a plainly written
/// number (see [`plain_decimal`]).
#[inline]
fn plain_parts(text: &[u8]) -> Option<(bool, u64, u32)> {
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut count = 0;
    let mut scale: Option<u32> = None;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            // Past PLAIN_DIGITS the mantissa would overflow: the general way.
            b'0'..=b'9' if count == PLAIN_DIGITS => return None,
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                count += 1;
            }
            b'.' if scale.is_none() => scale = Some((digits.len() - i - 1) as u32),
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    Some((negative, mantissa, scale.unwrap_or(0)))
}

/// A volume written as at most 15 digits (exactly an `f64`), read without
/// the general float parser; `None` for anything else.
pub(super) fn plain_volume(text: &[u8]) -> Option<f64> {
    if text.is_empty() || text.len() > 15 {
        return None;
    }
    let mut value: u64 = 0;
    for &c in text {
        if !c.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(c - b'0');
    }
    Some(value as f64)
}

/// A price from text already checked by [`is_number_syntax`]: its exact
/// decimal (trailing zeros dropped if that is what makes it fit), refused
/// when its digits do not fit a [`Price`].
pub(super) fn parse_price(text: &str) -> Result<Price, &'static str> {
    Price::from_decimal_trimmed(parse_decimal(text)?)
        .ok_or("too many digits for a price: its digits without the point must make a number below 2^58 (about 2.9e17)")
}

/// An exact decimal from text already checked by [`is_number_syntax`].
pub(super) fn parse_decimal(text: &str) -> Result<Decimal, &'static str> {
    if let Some(value) = plain_decimal(text.as_bytes()) {
        return Ok(value);
    }
    const TOO_PRECISE: &str = "too many digits or too large for an exact decimal";
    match text.find(['e', 'E']) {
        None => Decimal::from_str_exact(text).map_err(|_| TOO_PRECISE),
        Some(at) => {
            // from_scientific rounds an over-long mantissa; refuse that first.
            Decimal::from_str_exact(&text[..at]).map_err(|_| TOO_PRECISE)?;
            Decimal::from_scientific(text).map_err(|_| "the exponent is out of range for a decimal")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_path_gives_what_from_str_exact_gives_value_and_scale() {
        let texts = [
            "0",
            "1",
            "-1",
            "+1",
            "1.5",
            "1.50",
            "0.000001",
            ".5",
            "5.",
            "-.25",
            "123456789012345678",
            "12345678.9012345678",
            "-0",
            "-0.0",
            "000123.4500",
            "999999999999999999",
            "1.00000000000000001",
        ];
        for text in texts {
            let fast = plain_decimal(text.as_bytes()).unwrap_or_else(|| panic!("{text} is plain"));
            let exact = Decimal::from_str_exact(text).unwrap();
            assert_eq!(fast, exact, "{text}");
            assert_eq!(fast.scale(), exact.scale(), "{text}");
            assert_eq!(fast.to_string(), exact.to_string(), "{text}");
            assert_eq!(fast.is_sign_negative(), exact.is_sign_negative(), "{text}");
        }
    }

    #[test]
    fn what_the_plain_path_leaves_goes_the_general_way() {
        for text in
            ["1e3", "1.5E-2", "1234567890123456789", "1.000000000000000001", "1.2.3", "", "-", ".", "1,5", "1 5"]
        {
            assert_eq!(plain_decimal(text.as_bytes()), None, "{text}");
        }
        assert_eq!(parse_decimal("1.5E-2"), Ok(Decimal::new(15, 3)));
        assert_eq!(parse_decimal("1234567890123456789"), Ok(Decimal::from(1_234_567_890_123_456_789_i64)));
    }

    #[test]
    fn plain_volumes_are_what_the_float_parser_gives() {
        for text in ["0", "7", "4098", "000123", "999999999999999"] {
            assert_eq!(plain_volume(text.as_bytes()), Some(text.parse::<f64>().unwrap()), "{text}");
        }
        for text in ["", "1.5", "-3", "1e3", "1234567890123456", " 1"] {
            assert_eq!(plain_volume(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn number_syntax() {
        for ok in ["1", "-1.5", "+.5", "5.", "1e3", "1.5E-2"] {
            assert!(is_number_syntax(ok), "{ok}");
        }
        for bad in ["", ".", "e3", "1e", "1_000", "0x10", "1.2.3"] {
            assert!(!is_number_syntax(bad), "{bad}");
        }
        assert!(is_non_finite("-Infinity") && is_non_finite("NaN") && !is_non_finite("in"));
    }
}
