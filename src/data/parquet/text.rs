//! Typed Parquet values written as the text a CSV cell would hold, so that
//! the CSV loader's own parsers read them: decimals exactly as stored,
//! floats in their shortest round-trip form, times as RFC 3339 (never as
//! epoch integers, which the loader reads as seconds below 1e11: epoch
//! milliseconds before 1973 would land in the wrong year).

use std::io::Write;

use arrow_schema::TimeUnit;

const MILLIS_PER_DAY: i64 = 86_400_000;

/// Writes an `f64` as Rust's `{}` does: the shortest text that reads back
/// as the same value (`100.34` stays `100.34`), never in exponent form.
///
/// Through `ryu` (a few times faster than `core::fmt`) when its text has at
/// most 15 significant digits and no exponent: a shortest form that short is
/// the only one (any 15-digit decimal names one `f64`), so both agree. With
/// more digits two shortest forms may tie, and `ryu` and `{}` break ties
/// differently (`1658206780088562.2` and `.3` for the same `f64`).
pub(super) fn float(value: f64, out: &mut Vec<u8>) {
    if value.is_finite() {
        let mut buffer = ryu::Buffer::new();
        let text = buffer.format_finite(value);
        let significant = text.bytes().filter(u8::is_ascii_digit).skip_while(|&b| b == b'0').count();
        if significant <= 15 && !text.contains('e') {
            out.extend_from_slice(text.strip_suffix(".0").unwrap_or(text).as_bytes());
            return;
        }
    }
    let _ = write!(out, "{value}"); // writing to a Vec cannot fail
}

/// Writes an `f32` as Rust's `{}` does (its own shortest round-trip text).
pub(super) fn float32(value: f32, out: &mut Vec<u8>) {
    let _ = write!(out, "{value}");
}

/// Writes an integer in decimal.
pub(super) fn integer<I: itoa::Integer>(value: I, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Writes the decimal `unscaled × 10^-scale` in plain notation
/// (`12345`, scale 2 → `123.45`; scale -2 → `1234500`).
pub(super) fn decimal(unscaled: i128, scale: i8, out: &mut Vec<u8>) {
    if unscaled < 0 {
        out.push(b'-');
    }
    let digits = unscaled.unsigned_abs().to_string();
    if scale <= 0 {
        out.extend_from_slice(digits.as_bytes());
        out.extend(std::iter::repeat_n(b'0', usize::from(scale.unsigned_abs())));
        return;
    }
    let scale = usize::from(scale.unsigned_abs());
    if digits.len() <= scale {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', scale - digits.len()));
        out.extend_from_slice(digits.as_bytes());
    } else {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.extend_from_slice(whole.as_bytes());
        out.push(b'.');
        out.extend_from_slice(fraction.as_bytes());
    }
}

/// Writes a timestamp of `value` `unit`s since the epoch as RFC 3339 UTC:
/// `2004-08-19T00:00:00Z`, with `.mmm` when not a whole second and nine
/// digits when not a whole millisecond (the loader keeps milliseconds).
pub(super) fn timestamp(value: i64, unit: TimeUnit, out: &mut Vec<u8>) {
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let seconds = value.div_euclid(per_second);
    let nanos = value.rem_euclid(per_second) * (1_000_000_000 / per_second);
    civil_date(seconds.div_euclid(86_400), out);
    let of_day = seconds.rem_euclid(86_400);
    out.push(b'T');
    digits(of_day / 3600, 2, out);
    out.push(b':');
    digits(of_day / 60 % 60, 2, out);
    out.push(b':');
    digits(of_day % 60, 2, out);
    if nanos != 0 {
        out.push(b'.');
        if nanos % 1_000_000 == 0 {
            digits(nanos / 1_000_000, 3, out);
        } else {
            digits(nanos, 9, out);
        }
    }
    out.push(b'Z');
}

/// Writes a `Date32` (days since the epoch) as `YYYY-MM-DD`.
pub(super) fn date(days: i32, out: &mut Vec<u8>) {
    civil_date(i64::from(days), out);
}

/// Writes a `Date64` (milliseconds since the epoch): `YYYY-MM-DD` for a
/// whole day, else as [`timestamp`].
pub(super) fn date_millis(millis: i64, out: &mut Vec<u8>) {
    if millis % MILLIS_PER_DAY == 0 {
        civil_date(millis / MILLIS_PER_DAY, out);
    } else {
        timestamp(millis, TimeUnit::Millisecond, out);
    }
}

/// Writes the proleptic Gregorian date `days` after 1970-01-01 as
/// `YYYY-MM-DD` (Howard Hinnant's `civil_from_days`). A year outside
/// 0..=9999 is written as is, and the timestamp parser refuses it.
fn civil_date(days: i64, out: &mut Vec<u8>) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March is 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    if (0..=9999).contains(&year) {
        digits(year, 4, out);
    } else {
        integer(year, out);
    }
    out.push(b'-');
    digits(month, 2, out);
    out.push(b'-');
    digits(day, 2, out);
}

/// Writes `value` (`0 <= value < 10^width`) as exactly `width` digits.
fn digits(value: i64, width: u32, out: &mut Vec<u8>) {
    let mut divisor = 10_i64.pow(width - 1);
    while divisor > 0 {
        out.push(b'0' + (value / divisor % 10) as u8);
        divisor /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_timestamp;

    fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_keep_the_digits_they_were_written_with() {
        assert_eq!(text(|o| float(100.34_f64, o)), "100.34");
        assert_eq!(text(|o| float(0.1_f64 + 0.2, o)), "0.30000000000000004");
        assert_eq!(text(|o| float32(100.34_f32, o)), "100.34");
        assert_eq!(text(|o| float(1e21_f64, o)), "1000000000000000000000");
        assert_eq!(text(|o| float(44_994_500_f64, o)), "44994500");
        assert_eq!(text(|o| float(f64::NAN, o)), "NaN");
        assert_eq!(text(|o| float(-0.0, o)), "-0");
        assert_eq!(text(|o| float(1e-7, o)), "0.0000001");
        assert_eq!(text(|o| integer(-42_i64, o)), "-42");
        assert_eq!(text(|o| integer(u64::MAX, o)), "18446744073709551615");
    }

    #[test]
    fn floats_are_written_as_core_fmt_writes_them() {
        // A spread of magnitudes and digit counts, each against `{}`.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let value = f64::from_bits(x);
            let value = if value.is_finite() { value } else { i as f64 / 7.0 };
            let scaled = value / 10_f64.powi((i % 40) - 20) * 1e-300_f64.max(f64::MIN_POSITIVE);
            for v in [value, scaled, (i as f64) * 0.01, (i as f64) / 3.0, 1e15 + i as f64, 1e16 * i as f64] {
                assert_eq!(text(|o| float(v, o)), format!("{v}"), "{v:e}");
            }
        }
    }

    #[test]
    fn decimals_are_written_with_their_scale() {
        for (unscaled, scale, want) in [
            (12_345, 2, "123.45"),
            (5, 3, "0.005"),
            (-5, 3, "-0.005"),
            (100, 2, "1.00"),
            (-12_345, 0, "-12345"),
            (12, -2, "1200"),
            (0, 4, "0.0000"),
        ] {
            assert_eq!(text(|o| decimal(unscaled, scale, o)), want, "{unscaled} scale {scale}");
        }
    }

    #[test]
    fn timestamps_are_rfc3339_in_every_unit() {
        let goog = 1_092_873_600; // 2004-08-19T00:00:00Z
        for (value, unit) in [
            (goog, TimeUnit::Second),
            (goog * 1_000, TimeUnit::Millisecond),
            (goog * 1_000_000, TimeUnit::Microsecond),
            (goog * 1_000_000_000, TimeUnit::Nanosecond),
        ] {
            assert_eq!(text(|o| timestamp(value, unit, o)), "2004-08-19T00:00:00Z", "{unit:?}");
        }
        assert_eq!(text(|o| timestamp(1_500, TimeUnit::Millisecond, o)), "1970-01-01T00:00:01.500Z");
        assert_eq!(text(|o| timestamp(-1, TimeUnit::Millisecond, o)), "1969-12-31T23:59:59.999Z");
        assert_eq!(text(|o| timestamp(1_234_567, TimeUnit::Nanosecond, o)), "1970-01-01T00:00:00.001234567Z");
        assert_eq!(text(|o| timestamp(951_782_400, TimeUnit::Second, o)), "2000-02-29T00:00:00Z");
        assert_eq!(text(|o| timestamp(4_107_542_399, TimeUnit::Second, o)), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn epoch_milliseconds_before_1973_read_back_as_themselves() {
        // As an integer, 1e10 ms would be read as seconds (the year 2286).
        for (millis, unit) in [(10_000_000_000_i64, TimeUnit::Millisecond), (-86_400_000, TimeUnit::Millisecond)] {
            let written = text(|o| timestamp(millis, unit, o));
            assert_eq!(parse_timestamp(&written).unwrap().millis(), millis, "{written}");
        }
        let written = text(|o| timestamp(1_234_567, TimeUnit::Nanosecond, o));
        assert_eq!(parse_timestamp(&written).unwrap().millis(), 1, "below a millisecond is truncated");
    }

    #[test]
    fn dates_are_year_month_day() {
        assert_eq!(text(|o| date(0, o)), "1970-01-01");
        assert_eq!(text(|o| date(12_649, o)), "2004-08-19");
        assert_eq!(text(|o| date(-1, o)), "1969-12-31");
        assert_eq!(text(|o| date_millis(12_649 * MILLIS_PER_DAY, o)), "2004-08-19");
        assert_eq!(text(|o| date_millis(MILLIS_PER_DAY + 60_000, o)), "1970-01-02T00:01:00Z");
    }
}
