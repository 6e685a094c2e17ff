//! A walk-forward's shape, parsed from `train=2y,test=6m[,anchored]`: how
//! long each training and test part is (bars, or calendar days, weeks,
//! months, years) and whether training parts roll or stay anchored at the
//! first bar.

use std::fmt;

use chrono::{DateTime, Days, Months};

use super::WalkForwardError;
use crate::domain::Timestamp;

/// How long a training or test part is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// A number of bars (steps of the timeline).
    Bars(usize),
    /// Calendar days of 24 hours (UTC); weeks are 7 of them.
    Days(u64),
    /// Calendar months (UTC); years are 12 of them. A day of the month the
    /// target month lacks becomes its last day (Jan 31 + 1 month = Feb 28/29).
    Months(u32),
}

impl Length {
    /// Parses `500` (bars) or a positive number followed by `d`, `w`, `m` or `y`.
    fn parse(field: &'static str, text: &str) -> Result<Length, WalkForwardError> {
        let fail = |reason: String| WalkForwardError::Spec { field, reason };
        let text = text.trim();
        let unit_at = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(unit_at);
        let shape = "a bar count such as 500, or a number of days, weeks, months or years such as 90d, 2w, 6m, 2y";
        let n: u32 = digits.parse().map_err(|_| fail(format!("'{text}' is not a length: {shape}")))?;
        if n == 0 {
            return Err(fail("must be at least 1".into()));
        }
        Ok(match unit {
            "" => Length::Bars(n as usize),
            "d" => Length::Days(u64::from(n)),
            "w" => Length::Days(7 * u64::from(n)),
            "m" => Length::Months(n),
            "y" => Length::Months(n.checked_mul(12).ok_or_else(|| fail(format!("{n} years is too long")))?),
            other => return Err(fail(format!("unknown unit '{other}' in '{text}': {shape}"))),
        })
    }

    /// `k` times this length after `ts` (a calendar length; `None` for bars
    /// or past chrono's range).
    pub(super) fn after(self, ts: Timestamp, k: u64) -> Option<Timestamp> {
        let at = DateTime::from_timestamp_millis(ts.millis())?;
        let moved = match self {
            Length::Bars(_) => return None,
            Length::Days(d) => at.checked_add_days(Days::new(d.checked_mul(k)?))?,
            Length::Months(m) => {
                at.checked_add_months(Months::new(u32::try_from(u64::from(m).checked_mul(k)?).ok()?))?
            }
        };
        Some(Timestamp(moved.timestamp_millis()))
    }

    /// This length before `ts` (a calendar length; `None` for bars or past
    /// chrono's range).
    pub(super) fn before(self, ts: Timestamp) -> Option<Timestamp> {
        let at = DateTime::from_timestamp_millis(ts.millis())?;
        let moved = match self {
            Length::Bars(_) => return None,
            Length::Days(d) => at.checked_sub_days(Days::new(d))?,
            Length::Months(m) => at.checked_sub_months(Months::new(m))?,
        };
        Some(Timestamp(moved.timestamp_millis()))
    }
}

impl fmt::Display for Length {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Length::Bars(n) => write!(f, "{n} bars"),
            Length::Days(d) => write!(f, "{d} days"),
            Length::Months(m) => write!(f, "{m} months"),
        }
    }
}

/// A walk-forward's shape: the length of each training part and of each
/// test part, and whether the training parts roll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkForwardSpec {
    /// How long each training part is (the first one, when anchored).
    pub train: Length,
    /// How long each test part is (the last may be shorter).
    pub test: Length,
    /// Every training part starts at the first bar (growing) instead of
    /// rolling forward with the test parts.
    pub anchored: bool,
}

impl WalkForwardSpec {
    /// Parses `train=LEN,test=LEN` with an optional `,anchored` (or
    /// `,rolling`, the default), in any order; a LEN is a bar count (`500`)
    /// or a calendar length (`90d`, `2w`, `6m`, `2y`). Both are bar counts
    /// or both calendar lengths.
    ///
    /// # Errors
    /// A missing, repeated or unknown field, a length that does not parse
    /// or is 0, or a bar count mixed with a calendar length; the error names
    /// the field.
    pub fn parse(text: &str) -> Result<WalkForwardSpec, WalkForwardError> {
        let (mut train, mut test, mut mode) = (None, None, None);
        for part in text.split(',').map(str::trim) {
            let (field, slot, value): (&'static str, _, _) = match part.split_once('=') {
                Some(("train", v)) => ("train", &mut train, v),
                Some(("test", v)) => ("test", &mut test, v),
                None if part == "anchored" || part == "rolling" => {
                    if mode.replace(part == "anchored").is_some() {
                        return Err(spec_error("anchored", "anchored or rolling is given twice"));
                    }
                    continue;
                }
                _ => {
                    let reason =
                        format!("unknown field '{part}'; the fields are train=LEN, test=LEN and anchored or rolling");
                    return Err(WalkForwardError::Spec { field: "", reason });
                }
            };
            if slot.replace(Length::parse(field, value)?).is_some() {
                return Err(spec_error(field, "is given twice"));
            }
        }
        let train = train.ok_or_else(|| spec_error("train", "is missing (e.g. train=500 or train=2y)"))?;
        let test = test.ok_or_else(|| spec_error("test", "is missing (e.g. test=100 or test=6m)"))?;
        if matches!(train, Length::Bars(_)) != matches!(test, Length::Bars(_)) {
            return Err(spec_error(
                "test",
                &format!("is {test} but train is {train}: give both as bar counts or both as calendar lengths"),
            ));
        }
        Ok(WalkForwardSpec { train, test, anchored: mode.unwrap_or(false) })
    }
}

fn spec_error(field: &'static str, reason: &str) -> WalkForwardError {
    WalkForwardError::Spec { field, reason: reason.to_string() }
}

impl fmt::Display for WalkForwardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.anchored { "anchored" } else { "rolling" };
        write!(f, "train {}, test {}, {mode}", self.train, self.test)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_timestamp;

    #[test]
    fn specs_parse_in_bars_or_calendar_lengths() {
        let spec = WalkForwardSpec::parse("train=500,test=100").unwrap();
        assert_eq!(spec, WalkForwardSpec { train: Length::Bars(500), test: Length::Bars(100), anchored: false });
        let spec = WalkForwardSpec::parse("test=6m, train=2y, anchored").unwrap();
        assert_eq!(spec, WalkForwardSpec { train: Length::Months(24), test: Length::Months(6), anchored: true });
        let spec = WalkForwardSpec::parse("train=3w,test=10d,rolling").unwrap();
        assert_eq!((spec.train, spec.test, spec.anchored), (Length::Days(21), Length::Days(10), false));
        assert_eq!(spec.to_string(), "train 21 days, test 10 days, rolling");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("train=500", "--walk-forward test: is missing"),
            ("test=100", "--walk-forward train: is missing"),
            ("train=0,test=100", "--walk-forward train: must be at least 1"),
            ("train=500,test=abc", "--walk-forward test: 'abc' is not a length"),
            ("train=2x,test=1m", "--walk-forward train: unknown unit 'x' in '2x'"),
            ("train=-5,test=1", "--walk-forward train: '-5' is not a length"),
            ("train=500,test=6m", "--walk-forward test: is 6 months but train is 500 bars"),
            ("train=1,train=2,test=1", "--walk-forward train: is given twice"),
            ("train=1,test=1,anchored,rolling", "--walk-forward anchored: anchored or rolling is given twice"),
            ("train=1,test=1,window=3", "--walk-forward: unknown field 'window=3'"),
        ];
        for (text, expected) in cases {
            let err = WalkForwardSpec::parse(text).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{text}: {err}");
        }
    }

    #[test]
    fn calendar_lengths_move_by_the_calendar() {
        let ts = |t: &str| parse_timestamp(t).unwrap();
        assert_eq!(Length::Months(1).after(ts("2024-01-31"), 1), Some(ts("2024-02-29")), "leap February");
        assert_eq!(Length::Months(6).after(ts("2023-08-31"), 2), Some(ts("2024-08-31")), "k times from the anchor");
        assert_eq!(Length::Months(24).before(ts("2024-02-29")), Some(ts("2022-02-28")));
        assert_eq!(Length::Days(7).after(ts("2024-03-01"), 3), Some(ts("2024-03-22")));
        assert_eq!(Length::Bars(5).after(ts("2024-03-01"), 1), None);
    }
}
