//! Timestamp parsing: the date/time texts a data file may use, read into UTC milliseconds.

use chrono::{DateTime, NaiveDate, NaiveTime};

use crate::domain::Timestamp;

/// The accepted timestamp formats, as shown in error messages.
pub const TIMESTAMP_FORMATS: &str = "YYYY-MM-DD; YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS] \
     with optional fractional seconds (read as UTC), optionally followed by Z or an offset \
     +HH:MM/-HH:MM (RFC 3339); or an integer of epoch seconds (epoch milliseconds when its \
     absolute value is at least 100000000000)";

/// Integers with at least this absolute value are epoch milliseconds, smaller ones epoch seconds.
const MILLIS_THRESHOLD: u64 = 100_000_000_000;

/// A text that is not a timestamp in any accepted format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot read timestamp {text:?}: {reason}; accepted: {}", TIMESTAMP_FORMATS)]
pub struct TimestampError {
    /// The text as given.
    pub text: String,
    /// Why it was refused.
    pub reason: &'static str,
}

/// Parses one timestamp text into milliseconds since the epoch, UTC.
///
/// Accepted (the whole text must match, no surrounding whitespace):
/// - `YYYY-MM-DD`: midnight UTC;
/// - `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS`, optionally with 1 to 9
///   fractional-second digits (anything below a millisecond is truncated),
///   or without seconds (`YYYY-MM-DD HH:MM`): read as UTC;
/// - the same followed by `Z` or `+HH:MM`/`-HH:MM` (RFC 3339): converted to UTC;
/// - an integer: epoch seconds, or epoch milliseconds when its absolute value
///   is at least 100,000,000,000.
///
/// Returns the timestamp.
///
/// # Errors
/// [`TimestampError`] when the text matches none of the formats, names a date
/// or time that does not exist (`2021-02-30`, `24:00:00`), lies outside the
/// range chrono can represent, or is an 8-digit integer that also reads as a
/// compact `YYYYMMDD` date (such as `20200131`): taken as epoch seconds it
/// would silently land in 1970, so it is refused as ambiguous.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, TimestampError> {
    let fail = |reason| TimestampError { text: text.to_owned(), reason };
    let bytes = text.as_bytes();
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        parse_epoch(text, digits.len() != bytes.len()).map_err(fail)
    } else {
        parse_date_time(bytes).map_err(fail)
    }
}

/// The last date part (`YYYY-MM-DD`) read and its midnight in epoch
/// milliseconds: the bars of one day share it, so it is looked up once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DateMemo {
    key: [u8; 10],
    midnight: i64,
}

/// [`parse_timestamp`], reusing the date of the previous call kept in `memo`
/// when the text starts with the same one (same result, less work).
///
/// # Errors
/// As [`parse_timestamp`].
pub(crate) fn parse_timestamp_memo(
    text: &str,
    memo: &std::cell::Cell<Option<DateMemo>>,
) -> Result<Timestamp, TimestampError> {
    match parse_date_time_memo(text.as_bytes(), memo) {
        Some(result) => result.map_err(|reason| TimestampError { text: text.to_owned(), reason }),
        None => parse_timestamp(text),
    }
}

/// What [`parse_timestamp_memo`] gives for a text of the `YYYY-MM-DD...`
/// forms (the reason alone on error), read from its bytes; `None` for a
/// text not of those forms (its fifth byte is not `-`).
#[inline]
pub(crate) fn parse_date_time_memo(
    b: &[u8],
    memo: &std::cell::Cell<Option<DateMemo>>,
) -> Option<Result<Timestamp, &'static str>> {
    if b.len() < 10 || b[4] != b'-' {
        return None;
    }
    let key: [u8; 10] = b[..10].try_into().unwrap_or_default();
    let known = memo.get().filter(|m| m.key == key).map(|m| m.midnight);
    if let Some(ts) = known.and_then(|midnight| plain_time_of_day(b, midnight)) {
        return Some(Ok(ts));
    }
    let result = parse_date_time_from(b, known);
    if known.is_none() {
        if let Some(midnight) = midnight_of(b) {
            memo.set(Some(DateMemo { key, midnight }));
        }
    }
    Some(result)
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`), the date's midnight known: the
/// time read straight from its fixed places, as [`parse_date_time_from`]
/// reads it; `None` for any other text or a time of day out of range
/// (which that function then reads, or refuses with its reason).
#[inline]
fn plain_time_of_day(b: &[u8], midnight: i64) -> Option<Timestamp> {
    let &[_, _, _, _, _, _, _, _, _, _, sep, h1, h2, b':', m1, m2, b':', s1, s2] = b else { return None };
    if !matches!(sep, b' ' | b'T' | b't') {
        return None;
    }
    let digit = |c: u8| Some(c.wrapping_sub(b'0')).filter(|&d| d <= 9).map(i64::from);
    let hour = digit(h1)? * 10 + digit(h2)?;
    let minute = digit(m1)? * 10 + digit(m2)?;
    let second = digit(s1)? * 10 + digit(s2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(Timestamp(midnight + (hour * 3600 + minute * 60 + second) * 1000))
}

/// Midnight UTC of the `YYYY-MM-DD` at the start of `b`, if it is a date.
fn midnight_of(b: &[u8]) -> Option<i64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(number(&b[0..4])? as i32, number(&b[5..7])?, number(&b[8..10])?)?;
    Some(date.and_time(NaiveTime::MIN).and_utc().timestamp_millis())
}

/// An integer of epoch seconds or milliseconds.
fn parse_epoch(text: &str, negative: bool) -> Result<Timestamp, &'static str> {
    let value: i64 = text.parse().map_err(|_| "the integer is out of range")?;
    if !negative && text.len() == 8 && compact_date(text.as_bytes()).is_some() {
        return Err("an 8-digit integer that reads as a YYYYMMDD date is ambiguous \
                    (as epoch seconds it would fall in 1970)");
    }
    let millis = if value.unsigned_abs() >= MILLIS_THRESHOLD { value } else { value * 1000 };
    match DateTime::from_timestamp_millis(millis) {
        Some(_) => Ok(Timestamp(millis)),
        None => Err("the integer is outside the representable date range"),
    }
}

/// `YYYYMMDD` as a real calendar date, if it is one.
fn compact_date(b: &[u8]) -> Option<NaiveDate> {
    let year = number(&b[0..4])?;
    NaiveDate::from_ymd_opt(year as i32, number(&b[4..6])?, number(&b[6..8])?)
}

/// `YYYY-MM-DD[( |T)HH:MM:SS[.f{1,9}][Z|±HH:MM]]`.
fn parse_date_time(b: &[u8]) -> Result<Timestamp, &'static str> {
    parse_date_time_from(b, None)
}

/// [`parse_date_time`], with the date part's midnight already known when
/// `midnight` is given.
fn parse_date_time_from(b: &[u8], midnight: Option<i64>) -> Result<Timestamp, &'static str> {
    const UNRECOGNIZED: &str = "not a recognized format";
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(UNRECOGNIZED);
    }
    let midnight = match midnight {
        Some(known) => known,
        None => {
            let (Some(year), Some(month), Some(day)) = (number(&b[0..4]), number(&b[5..7]), number(&b[8..10])) else {
                return Err(UNRECOGNIZED);
            };
            let date = NaiveDate::from_ymd_opt(year as i32, month, day).ok_or("no such date")?;
            date.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
        }
    };
    if b.len() == 10 {
        return Ok(Timestamp(midnight));
    }

    if b.len() < 16 || !matches!(b[10], b' ' | b'T' | b't') || b[13] != b':' {
        return Err(UNRECOGNIZED);
    }
    let (Some(hour), Some(minute)) = (number(&b[11..13]), number(&b[14..16])) else {
        return Err(UNRECOGNIZED);
    };
    // Seconds may be left out (`2004-08-19 09:30`, as many exports write minutes).
    let with_seconds = b.len() >= 19 && b[16] == b':';
    let second = if with_seconds { number(&b[17..19]).ok_or(UNRECOGNIZED)? } else { 0 };
    let mut rest = if with_seconds { &b[19..] } else { &b[16..] };
    let mut nanos = 0;
    if let Some(after_dot) = rest.strip_prefix(b".").filter(|_| with_seconds) {
        let count = after_dot.iter().take_while(|c| c.is_ascii_digit()).count();
        if count == 0 || count > 9 {
            return Err("fractional seconds need 1 to 9 digits");
        }
        nanos = number(&after_dot[..count]).ok_or(UNRECOGNIZED)? * 10u32.pow(9 - count as u32);
        rest = &after_dot[count..];
    }
    let offset_secs: i64 = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (Some(oh), Some(om)) = (number(&[*h1, *h2]), number(&[*m1, *m2])) else {
                return Err(UNRECOGNIZED);
            };
            if oh > 23 || om > 59 {
                return Err("the UTC offset is out of range");
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return Err(UNRECOGNIZED),
    };
    if hour > 23 || minute > 59 || second > 59 || nanos > 999_999_999 {
        return Err("no such time of day");
    }
    let local_millis = midnight + i64::from(hour * 3600 + minute * 60 + second) * 1000 + i64::from(nanos / 1_000_000);
    Ok(Timestamp(local_millis - offset_secs * 1000))
}

/// The value of a run of ASCII digits (at most 9), or `None` if any byte is not a digit.
fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> i64 {
        match parse_timestamp(text) {
            Ok(t) => t.millis(),
            Err(e) => panic!("{text:?} should parse: {e}"),
        }
    }

    #[test]
    fn accepted_formats() {
        let cases: &[(&str, i64)] = &[
            ("2004-08-19", 1_092_873_600_000),
            ("1970-01-01", 0),
            ("1969-12-31", -86_400_000),
            ("2017-04-19 09:00:00", 1_492_592_400_000),
            ("2017-04-19T09:00:00", 1_492_592_400_000),
            ("2017-04-19t09:00:00", 1_492_592_400_000),
            ("2017-04-19 09:00:00.25", 1_492_592_400_250),
            ("2017-04-19T09:00:00.250", 1_492_592_400_250),
            ("2017-04-19T09:00:00.250999999", 1_492_592_400_250),
            ("2017-04-19T09:00:00Z", 1_492_592_400_000),
            ("2017-04-19T09:00:00z", 1_492_592_400_000),
            ("2017-04-19T11:00:00+02:00", 1_492_592_400_000),
            ("2017-04-19T04:30:00-04:30", 1_492_592_400_000),
            ("2017-04-19 11:00:00.5+02:00", 1_492_592_400_500),
            ("2017-04-20T01:00:00+16:00", 1_492_592_400_000),
            // Without seconds, as many exports write minute bars.
            ("2017-04-19 09:00", 1_492_592_400_000),
            ("2017-04-19T09:00", 1_492_592_400_000),
            ("2017-04-19T09:00Z", 1_492_592_400_000),
            ("2017-04-19T11:00+02:00", 1_492_592_400_000),
            ("2004-08-19 00:00", 1_092_873_600_000),
            ("1492592400", 1_492_592_400_000),
            ("1492592400000", 1_492_592_400_000),
            ("99999999999", 99_999_999_999_000),
            ("100000000000", 100_000_000_000),
            ("0", 0),
            ("-86400", -86_400_000),
            ("-100000000000", -100_000_000_000),
            ("86400", 86_400_000),
            ("99999999", 99_999_999_000),
        ];
        for &(text, millis) in cases {
            assert_eq!(ts(text), millis, "{text}");
        }
    }

    #[test]
    fn the_memo_gives_what_parsing_gives() {
        let memo = std::cell::Cell::new(None);
        let texts = [
            "2017-04-19 09:00:00",
            "2017-04-19 09:01:30.5",
            "2017-04-19T11:00:00+02:00",
            "2017-04-19",
            "2017-04-20 00:00",
            "2017-04-20 25:00",
            "2017-04-20 23:59:60",
            "1492592400",
            "2021-02-30 10:00",
            "2017-04-20 10:00",
            "1969-12-31 23:59:59.999",
        ];
        for text in texts {
            assert_eq!(parse_timestamp_memo(text, &memo), parse_timestamp(text), "{text}");
        }
        // A date the memo knows, then each byte of the time (and the
        // separator) replaced by bytes around the digits and the colon.
        assert_eq!(parse_timestamp_memo("2017-04-19", &memo), parse_timestamp("2017-04-19"));
        let mut tried = 0;
        for base in ["2017-04-19 09:30:15", "2017-04-19T23:59:59", "2017-04-19t00:00:00", "2017-04-19 19:45:50"] {
            for at in 10..19 {
                for byte in ['/', '0', '1', '2', '3', '4', '5', '6', '9', ':', ';', ' ', 'T', 'x', '°'] {
                    let text: String = base.chars().enumerate().map(|(i, c)| if i == at { byte } else { c }).collect();
                    assert_eq!(parse_timestamp_memo(&text, &memo), parse_timestamp(&text), "{text}");
                    tried += 1;
                }
            }
        }
        assert_eq!(tried, 4 * 9 * 15);
    }

    #[test]
    fn rejected_texts_name_the_value_and_the_formats() {
        let cases: &[(&str, &str)] = &[
            ("", "not a recognized format"),
            ("yesterday", "not a recognized format"),
            ("2020/01/02", "not a recognized format"),
            ("2020-1-2", "not a recognized format"),
            ("02-01-2020", "not a recognized format"),
            ("2020-01-02 ", "not a recognized format"),
            (" 2020-01-02", "not a recognized format"),
            ("2020-01-02 09:3", "not a recognized format"),
            ("2020-01-02 09:30.5", "not a recognized format"),
            ("2020-01-02 09:30:", "not a recognized format"),
            ("2020-01-02 24:00", "no such time"),
            ("2020-01-02 9:30:00", "not a recognized format"),
            ("2020-01-02_09:30:00", "not a recognized format"),
            ("2020-01-02 09:30:00.", "fractional seconds"),
            ("2020-01-02 09:30:00.1234567891", "fractional seconds"),
            ("2020-01-02 09:30:00+0200", "not a recognized format"),
            ("2020-01-02 09:30:00+24:00", "offset is out of range"),
            ("2020-01-02 09:30:00 UTC", "not a recognized format"),
            ("2020-01-02Z", "not a recognized format"),
            ("2021-02-30", "no such date"),
            ("2021-13-01", "no such date"),
            ("2021-02-01 24:00:00", "no such time"),
            ("2021-02-01 23:59:60", "no such time"),
            ("+1492592400", "not a recognized format"),
            ("1.5", "not a recognized format"),
            ("-", "not a recognized format"),
            ("99999999999999999999", "out of range"),
            ("9223372036854775807", "outside the representable"),
            ("20200131", "YYYYMMDD"),
        ];
        for &(text, reason) in cases {
            let err = parse_timestamp(text).expect_err(text);
            assert_eq!(err.text, text);
            let msg = err.to_string();
            assert!(msg.contains(reason), "{text:?}: {msg}");
            assert!(msg.contains(&format!("{text:?}")), "{msg}");
            assert!(msg.contains("YYYY-MM-DD HH:MM[:SS]"), "{msg}");
        }
    }
}
