//! Resampling: aggregates bars into coarser, calendar-aligned [`Interval`]s (1m bars into 5m, hourly into daily).

use std::fmt;
use std::str::FromStr;

use crate::domain::{Bar, Timestamp};

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// Whole weeks start on Mondays: the epoch (1970-01-01) was a Thursday, so
/// the first Monday after it, 1970-01-05 00:00 UTC, is 4 days later.
const FIRST_MONDAY: i64 = 4 * DAY;

/// The units [`Interval::parse`] accepts, largest first (so [`Interval`]'s
/// `Display` can pick the largest that divides exactly).
const UNITS: [(&str, i64); 5] = [("w", WEEK), ("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", SECOND)];

/// The interval forms [`Interval::parse`] accepts, as shown in error messages.
pub const INTERVAL_FORMS: &str = "a positive whole number followed by s (seconds), m (minutes), h (hours), \
                                  d (days) or w (weeks), e.g. 30s, 5m, 1h, 4h, 1d, 1w";

/// A bar length to resample to, such as `5m` or `1d`: a positive number of milliseconds.
///
/// Two intervals of the same length are equal however they were written
/// (`60m` and `1h`, `7d` and `1w`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Interval {
    millis: i64,
}

impl Interval {
    /// Reads `<positive whole number><unit>` with unit `s`, `m` (minutes),
    /// `h`, `d` or `w` (weeks), e.g. `30s`, `5m`, `4h`, `1w`; no sign, spaces
    /// or fractions.
    ///
    /// Returns the interval.
    ///
    /// # Errors
    /// [`ResampleError::InvalidInterval`] quoting `text` and saying what is wrong.
    pub fn parse(text: &str) -> Result<Interval, ResampleError> {
        let invalid = |reason| ResampleError::InvalidInterval { text: text.to_owned(), reason };
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        if number.is_empty() {
            return Err(invalid("it does not start with a whole number"));
        }
        let unit_millis = match unit {
            "" => return Err(invalid("the unit is missing")),
            _ if unit.starts_with(['.', ',']) => return Err(invalid("the number must be whole")),
            _ => UNITS.iter().find(|(u, _)| unit == *u).map(|&(_, ms)| ms),
        };
        let unit_millis = unit_millis.ok_or_else(|| invalid("the unit is not one of s, m, h, d, w"))?;
        // Only ASCII digits are left, so the only way this parse fails is overflow.
        let count: i64 = number.parse().map_err(|_| invalid("the number is too large"))?;
        if count == 0 {
            return Err(invalid("the number must be positive"));
        }
        let millis = count.checked_mul(unit_millis).ok_or_else(|| invalid("the interval is too large"))?;
        Ok(Interval { millis })
    }

    /// The spacing of some data, which may be sub-second (then it displays as e.g. `250ms`).
    pub(crate) fn from_millis(millis: i64) -> Interval {
        debug_assert!(millis > 0, "an interval is positive");
        Interval { millis }
    }

    /// Returns the length in milliseconds (always positive).
    pub fn millis(self) -> i64 {
        self.millis
    }

    /// Returns the start of the interval containing `ts`.
    ///
    /// Intervals that are whole weeks (`1w`, `2w`, `7d`, ...) start on Monday
    /// 00:00 UTC, counted from Monday 1970-01-05; all others are counted from
    /// the Unix epoch, so `1d` starts at midnight UTC and `4h` at 00:00,
    /// 04:00, ... UTC. Timestamps before the epoch round down too. A start
    /// before `i64::MIN` milliseconds (not representable) saturates to it.
    pub fn bucket_start(self, ts: Timestamp) -> Timestamp {
        let anchor = if self.millis % WEEK == 0 { FIRST_MONDAY } else { 0 };
        // Both remainders lie in 0..millis, so neither this nor the subtraction overflows.
        let into_bucket =
            (ts.millis().rem_euclid(self.millis) - anchor.rem_euclid(self.millis)).rem_euclid(self.millis);
        Timestamp(ts.millis().saturating_sub(into_bucket))
    }
}

impl fmt::Display for Interval {
    /// Writes the canonical text with the largest unit that divides exactly
    /// (`60m` gives `1h`, `7d` gives `1w`); it reads back with [`Interval::parse`].
    /// A sub-second data spacing (only seen in errors) is written in `ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match UNITS.iter().find(|(_, ms)| self.millis % ms == 0) {
            Some((unit, ms)) => write!(f, "{}{unit}", self.millis / ms),
            None => write!(f, "{}ms", self.millis),
        }
    }
}

impl FromStr for Interval {
    type Err = ResampleError;

    /// As [`Interval::parse`].
    fn from_str(text: &str) -> Result<Interval, ResampleError> {
        Interval::parse(text)
    }
}

/// An error from parsing an [`Interval`] or from [`resample`].
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ResampleError {
    /// The interval text is not `<positive whole number><unit>`.
    #[error("invalid interval {text:?}: {reason}; accepted: {}", INTERVAL_FORMS)]
    InvalidInterval {
        /// The interval text as given.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The target interval is shorter than the data's spacing.
    #[error(
        "cannot resample to {target}: it is not coarser than the data's spacing of {data} \
         (the smallest gap between consecutive bars)"
    )]
    NotCoarser {
        /// The interval asked for.
        target: Interval,
        /// The smallest gap between consecutive bars.
        data: Interval,
    },

    /// The target interval is not a whole multiple of the data's spacing
    /// (e.g. 1m data to 90s), so buckets would split source bars.
    #[error(
        "cannot resample to {target}: it is not a whole multiple of the data's spacing of {data} \
         (the smallest gap between consecutive bars)"
    )]
    NotMultiple {
        /// The interval asked for.
        target: Interval,
        /// The smallest gap between consecutive bars.
        data: Interval,
    },

    /// The bars are not in strictly increasing time order.
    #[error("bars are not in strictly increasing time order: bar {index} at {ts} follows {prev_ts}")]
    UnsortedBars {
        /// 0-based index of the offending bar.
        index: usize,
        /// The offending bar's timestamp.
        ts: Timestamp,
        /// The previous bar's timestamp, not earlier than `ts`.
        prev_ts: Timestamp,
    },
}

/// Aggregates `bars` (strictly increasing in time, as the loader returns
/// them) into one bar per [`Interval::bucket_start`] bucket that holds at
/// least one of them: stamped with the bucket start, it takes the first bar's
/// open, the highest high, the lowest low, the last bar's close and the sum
/// of the volumes. Empty buckets give no bar; nothing is filled in.
///
/// Returns the coarser bars in time order; none for no bars, one for one bar.
///
/// # Errors
/// [`ResampleError::UnsortedBars`] for bars out of order;
/// [`ResampleError::NotCoarser`] when `interval` is shorter than the
/// smallest gap between consecutive bars, and [`ResampleError::NotMultiple`]
/// when it is not a whole multiple of it. The data's own interval is allowed
/// (each bar its own bucket), so that symbols of different intervals can be
/// brought to the coarsest of them.
pub fn resample(bars: &[Bar], interval: Interval) -> Result<Vec<Bar>, ResampleError> {
    let (Some(first), Some(last)) = (bars.first(), bars.last()) else {
        return Ok(Vec::new());
    };
    if let Some(data) = data_spacing(bars)? {
        if interval.millis < data.millis {
            return Err(ResampleError::NotCoarser { target: interval, data });
        }
        if interval.millis % data.millis != 0 {
            return Err(ResampleError::NotMultiple { target: interval, data });
        }
    }
    // The buckets from the first bar's to the last bar's: an upper bound on the output.
    let span =
        i128::from(interval.bucket_start(last.ts).millis()) - i128::from(interval.bucket_start(first.ts).millis());
    let buckets = usize::try_from(span / i128::from(interval.millis) + 1).unwrap_or(usize::MAX);
    let mut out: Vec<Bar> = Vec::with_capacity(buckets.min(bars.len()));
    for bar in bars {
        let start = interval.bucket_start(bar.ts);
        match out.last_mut() {
            Some(acc) if acc.ts == start => {
                let ([open, high, low, _], [_, next_high, next_low, close]) = (acc.prices(), bar.prices());
                // Ties keep what `Decimal::max` and `min` kept: the earlier
                // high and low (`101.5` stays `101.5` beside a later `101.50`).
                let high = if high < next_high { next_high } else { high };
                let low = if low > next_low { next_low } else { low };
                *acc = Bar::new(start, [open, high, low, close], acc.volume + bar.volume);
            }
            _ => out.push(bar.with_ts(start)),
        }
    }
    Ok(out)
}

/// The smallest gap between consecutive bars, or `None` with fewer than two bars.
fn data_spacing(bars: &[Bar]) -> Result<Option<Interval>, ResampleError> {
    let mut smallest: Option<i64> = None;
    for (i, pair) in bars.windows(2).enumerate() {
        let (prev, bar) = (pair[0].ts, pair[1].ts);
        if bar <= prev {
            return Err(ResampleError::UnsortedBars { index: i + 1, ts: bar, prev_ts: prev });
        }
        // A gap wider than i64 (bars at both ends of time) is as coarse as it gets.
        let gap = bar.millis().checked_sub(prev.millis()).unwrap_or(i64::MAX);
        smallest = Some(smallest.map_or(gap, |s| s.min(gap)));
    }
    Ok(smallest.map(Interval::from_millis))
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;

    /// 2024-01-01 00:00 UTC, a Monday.
    const MON_2024_01_01: i64 = 1_704_067_200_000;

    fn bar(ts: i64, open: Decimal, high: Decimal, low: Decimal, close: Decimal, volume: f64) -> Bar {
        Bar::from_decimals(Timestamp(ts), [open, high, low, close], volume).unwrap()
    }

    /// A flat bar at `price`, for tests about timing only.
    fn flat(ts: i64, price: Decimal) -> Bar {
        bar(ts, price, price, price, price, 1.0)
    }

    fn iv(text: &str) -> Interval {
        Interval::parse(text).unwrap()
    }

    #[test]
    fn ties_keep_the_earlier_high_and_low_with_their_scales() {
        let bars = [
            bar(MON_2024_01_01, dec!(100), dec!(101.5), dec!(99.0), dec!(100), 1.0),
            bar(MON_2024_01_01 + MINUTE, dec!(100), dec!(101.50), dec!(99.00), dec!(100.25), 1.0),
        ];
        let out = resample(&bars, iv("5m")).unwrap();
        assert_eq!(out.len(), 1);
        // As `Decimal::max` and `min` kept them before bars held `Price`s.
        assert_eq!(out[0].high().to_string(), dec!(101.5).max(dec!(101.50)).to_string());
        assert_eq!(out[0].low().to_string(), dec!(99.0).min(dec!(99.00)).to_string());
        assert_eq!((out[0].high().to_string(), out[0].low().to_string()), ("101.5".into(), "99.0".into()));
        assert_eq!(out[0].close().to_string(), "100.25");
    }

    fn stamps(bars: &[Bar]) -> Vec<String> {
        bars.iter().map(|b| b.ts.to_text()).collect()
    }

    #[test]
    fn parses_and_displays_canonical_text() {
        let cases = [
            ("30s", 30 * SECOND, "30s"),
            ("5m", 5 * MINUTE, "5m"),
            ("1h", HOUR, "1h"),
            ("4h", 4 * HOUR, "4h"),
            ("1d", DAY, "1d"),
            ("1w", WEEK, "1w"),
            ("90s", 90 * SECOND, "90s"),
            ("120s", 2 * MINUTE, "2m"),
            ("90m", 90 * MINUTE, "90m"),
            ("60m", HOUR, "1h"),
            ("24h", DAY, "1d"),
            ("7d", WEEK, "1w"),
            ("14d", 2 * WEEK, "2w"),
            ("05m", 5 * MINUTE, "5m"),
        ];
        for (text, millis, canonical) in cases {
            let interval = iv(text);
            assert_eq!(interval.millis(), millis, "{text}");
            assert_eq!(interval.to_string(), canonical, "{text}");
            assert_eq!(iv(canonical), interval, "{text} round trip");
            assert_eq!(text.parse::<Interval>(), Ok(interval), "{text} via FromStr");
        }
    }

    #[test]
    fn rejects_every_other_form_quoting_the_text() {
        let cases = [
            ("", "it is empty"),
            ("5x", "the unit is not one of s, m, h, d, w"),
            ("5M", "the unit is not one of s, m, h, d, w"),
            ("5ms", "the unit is not one of s, m, h, d, w"),
            ("1hh", "the unit is not one of s, m, h, d, w"),
            ("5m ", "the unit is not one of s, m, h, d, w"),
            ("5 m", "the unit is not one of s, m, h, d, w"),
            ("0m", "the number must be positive"),
            ("000s", "the number must be positive"),
            ("-1h", "it does not start with a whole number"),
            ("+1h", "it does not start with a whole number"),
            (" 5m", "it does not start with a whole number"),
            ("m", "it does not start with a whole number"),
            ("1.5h", "the number must be whole"),
            ("5", "the unit is missing"),
            ("99999999999999999999s", "the number is too large"),
            ("15250284453w", "the interval is too large"), // × 604_800_000 > i64::MAX
        ];
        for (text, reason) in cases {
            let err = Interval::parse(text).unwrap_err();
            assert_eq!(err, ResampleError::InvalidInterval { text: text.to_owned(), reason }, "{text:?}");
            let message = err.to_string();
            assert!(message.starts_with(&format!("invalid interval {text:?}: {reason}; accepted: ")), "{message}");
            assert!(message.ends_with("e.g. 30s, 5m, 1h, 4h, 1d, 1w"), "{message}");
        }
        // The largest count of weeks that fits still parses.
        assert_eq!(iv("15250284452w").millis(), 15_250_284_452 * WEEK);
    }

    #[test]
    fn buckets_align_to_the_epoch_and_weeks_to_monday() {
        let t = MON_2024_01_01;
        assert_eq!(iv("5m").bucket_start(Timestamp(t + 7 * MINUTE + 59_999)), Timestamp(t + 5 * MINUTE));
        assert_eq!(iv("4h").bucket_start(Timestamp(t + 23 * HOUR)), Timestamp(t + 20 * HOUR));
        assert_eq!(iv("1d").bucket_start(Timestamp(t + 23 * HOUR)), Timestamp(t));
        // Monday 00:00 starts its own week; Sunday 23:59:59.999 still belongs to it.
        assert_eq!(iv("1w").bucket_start(Timestamp(t)), Timestamp(t));
        assert_eq!(iv("1w").bucket_start(Timestamp(t + WEEK - 1)), Timestamp(t));
        assert_eq!(iv("1w").bucket_start(Timestamp(t - 1)).to_text(), "2023-12-25"); // the Monday before
        assert_eq!(iv("7d").bucket_start(Timestamp(t + 3 * DAY)), Timestamp(t));
        // The epoch, a Thursday, is in the week of Monday 1969-12-29 (3 days earlier).
        assert_eq!(iv("1w").bucket_start(Timestamp(0)), Timestamp(-3 * DAY));
        assert_eq!(iv("1w").bucket_start(Timestamp(FIRST_MONDAY)).to_text(), "1970-01-05");
        // 2w buckets count from Monday 1970-01-05: 2024-01-01 is 2817 weeks later, an odd number,
        // so its 2-week bucket began on Monday 2023-12-25 and the next begins on Monday 2024-01-08.
        assert_eq!((t - FIRST_MONDAY) / WEEK, 2817); // (1_704_067_200_000 - 345_600_000) / 604_800_000
        assert_eq!(iv("2w").bucket_start(Timestamp(t + 6 * DAY)).to_text(), "2023-12-25");
        assert_eq!(iv("2w").bucket_start(Timestamp(t + 7 * DAY)).to_text(), "2024-01-08");
    }

    #[test]
    fn negative_timestamps_round_down() {
        let five = iv("5m");
        assert_eq!(five.bucket_start(Timestamp(-1)), Timestamp(-5 * MINUTE));
        assert_eq!(five.bucket_start(Timestamp(-5 * MINUTE)), Timestamp(-5 * MINUTE));
        assert_eq!(five.bucket_start(Timestamp(-5 * MINUTE - 1)), Timestamp(-10 * MINUTE));
        assert_eq!(iv("1d").bucket_start(Timestamp(-1)).to_text(), "1969-12-31");
        assert_eq!(iv("1w").bucket_start(Timestamp(-4 * DAY)).to_text(), "1969-12-22");
        assert_eq!(five.bucket_start(Timestamp(i64::MIN)), Timestamp(i64::MIN)); // saturates

        // 30s bars from -90s to +30s into 1m: [-120s, -60s) ← -90s; [-60s, 0) ← -60s, -30s; [0, 60s) ← 0s, 30s.
        let bars: Vec<Bar> = [-90, -60, -30, 0, 30].iter().zip(1..).map(|(&s, p)| flat(s * SECOND, p.into())).collect();
        let out = resample(&bars, iv("1m")).unwrap();
        let got: Vec<(i64, Decimal, Decimal, f64)> =
            out.iter().map(|b| (b.ts.0, b.open(), b.close(), b.volume)).collect();
        assert_eq!(
            got,
            [(-2 * MINUTE, dec!(1), dec!(1), 1.0), (-MINUTE, dec!(2), dec!(3), 2.0), (0, dec!(4), dec!(5), 2.0)]
        );
    }

    #[test]
    fn minutes_into_five_minutes_with_gaps_and_a_partial_last_bucket() {
        let m = |i: i64| MON_2024_01_01 + i * MINUTE;
        let bars = [
            bar(m(0), dec!(10), dec!(12), dec!(9), dec!(11), 100.0),
            bar(m(1), dec!(11), dec!(13), dec!(10), dec!(12), 150.0),
            bar(m(2), dec!(12), dec!(12.5), dec!(8.5), dec!(9), 200.0),
            bar(m(3), dec!(9), dec!(10), dec!(9), dec!(10), 50.0),
            bar(m(4), dec!(10), dec!(11), dec!(9.5), dec!(10.5), 25.5),
            // minute 5 missing: the bucket still starts at 09:05
            bar(m(6), dec!(10.5), dec!(11), dec!(10), dec!(10.8), 10.0),
            bar(m(7), dec!(10.8), dec!(14), dec!(10.7), dec!(13), 20.0),
            // minute 8 missing
            bar(m(9), dec!(13), dec!(13.5), dec!(12), dec!(12.5), 5.0),
            // minutes 10-14 missing: no bar for that bucket
            bar(m(16), dec!(12.5), dec!(12.6), dec!(12.4), dec!(12.6), 7.0),
        ];
        let out = resample(&bars, iv("5m")).unwrap();
        assert_eq!(
            out,
            [
                // open of m0, high 13 (m1), low 8.5 (m2), close of m4; 100 + 150 + 200 + 50 + 25.5
                bar(m(0), dec!(10), dec!(13), dec!(8.5), dec!(10.5), 525.5),
                // open of m6, high 14 (m7), low 10 (m6), close of m9; 10 + 20 + 5
                bar(m(5), dec!(10.5), dec!(14), dec!(10), dec!(12.5), 35.0),
                // m16 alone, stamped 00:15
                bar(m(15), dec!(12.5), dec!(12.6), dec!(12.4), dec!(12.6), 7.0),
            ]
        );
        assert_eq!(out.capacity(), 4); // buckets 00:00 to 00:15, counted once up front
    }

    #[test]
    fn hours_into_days_across_midnight() {
        let h = |i: i64| MON_2024_01_01 + i * HOUR;
        let bars = [
            bar(h(22), dec!(100), dec!(102), dec!(99), dec!(101), 1.0),
            bar(h(23), dec!(101), dec!(105), dec!(100), dec!(104), 2.0),
            bar(h(24), dec!(104), dec!(104), dec!(95), dec!(96), 4.0), // 2024-01-02 00:00
            bar(h(25), dec!(96), dec!(98), dec!(96), dec!(97), 8.0),
        ];
        let out = resample(&bars, iv("1d")).unwrap();
        assert_eq!(stamps(&out), ["2024-01-01", "2024-01-02"]);
        assert_eq!(out[0], bar(h(0), dec!(100), dec!(105), dec!(99), dec!(104), 3.0)); // 1 + 2
        assert_eq!(out[1], bar(h(24), dec!(104), dec!(104), dec!(95), dec!(97), 12.0));
        // 4 + 8
    }

    #[test]
    fn days_into_weeks_starting_monday() {
        // Thu 2023-12-28, Fri 12-29, Mon 2024-01-01 to Fri 01-05, Mon 01-08; weekends missing.
        let days = [-4, -3, 0, 1, 2, 3, 4, 7];
        let bars: Vec<Bar> = days.iter().zip(1..).map(|(&d, p)| flat(MON_2024_01_01 + d * DAY, p.into())).collect();
        let out = resample(&bars, iv("1w")).unwrap();
        assert_eq!(stamps(&out), ["2023-12-25", "2024-01-01", "2024-01-08"]);
        let got: Vec<(Decimal, Decimal, f64)> = out.iter().map(|b| (b.open(), b.close(), b.volume)).collect();
        assert_eq!(got, [(dec!(1), dec!(2), 2.0), (dec!(3), dec!(7), 5.0), (dec!(8), dec!(8), 1.0)]);
    }

    #[test]
    fn empty_and_single_bar_inputs() {
        assert_eq!(resample(&[], iv("1h")), Ok(vec![]));
        let one = flat(MON_2024_01_01 + 90 * MINUTE, dec!(5));
        assert_eq!(resample(&[one], iv("1h")), Ok(vec![one.with_ts(Timestamp(MON_2024_01_01 + HOUR))]));
    }

    #[test]
    fn refuses_targets_not_coarser_than_the_data() {
        // Mostly 5m apart, but one 1m gap: the data's spacing is 1m.
        let minutes = [0, 5, 6, 11];
        let bars: Vec<Bar> = minutes.iter().map(|&i| flat(MON_2024_01_01 + i * MINUTE, dec!(1))).collect();
        // The data's own spacing: each bar is its own bucket.
        assert_eq!(resample(&bars, iv("1m")).unwrap(), bars);
        assert_eq!(resample(&bars, iv("30s")), Err(ResampleError::NotCoarser { target: iv("30s"), data: iv("1m") }));
        assert_eq!(
            resample(&bars, iv("30s")).unwrap_err().to_string(),
            "cannot resample to 30s: it is not coarser than the data's spacing of 1m \
             (the smallest gap between consecutive bars)"
        );
    }

    #[test]
    fn refuses_targets_not_a_multiple_of_the_data() {
        let bars: Vec<Bar> = (0..4).map(|i| flat(MON_2024_01_01 + i * MINUTE, dec!(1))).collect();
        let err = resample(&bars, iv("90s")).unwrap_err();
        assert_eq!(err, ResampleError::NotMultiple { target: iv("90s"), data: iv("1m") });
        assert_eq!(
            err.to_string(),
            "cannot resample to 90s: it is not a whole multiple of the data's spacing of 1m \
             (the smallest gap between consecutive bars)"
        );
        let hourly: Vec<Bar> = (0..4).map(|i| flat(MON_2024_01_01 + i * HOUR, dec!(1))).collect();
        assert!(matches!(resample(&hourly, iv("90m")), Err(ResampleError::NotMultiple { .. })));
        assert!(resample(&hourly, iv("2h")).is_ok());
        // A sub-second spacing is named in milliseconds.
        let subsecond = [flat(0, dec!(1)), flat(300, dec!(1))];
        assert_eq!(
            resample(&subsecond, iv("1s")).unwrap_err().to_string(),
            "cannot resample to 1s: it is not a whole multiple of the data's spacing of 300ms \
             (the smallest gap between consecutive bars)"
        );
    }

    #[test]
    fn refuses_unsorted_bars() {
        let bars = [flat(0, dec!(1)), flat(MINUTE, dec!(1)), flat(MINUTE, dec!(1))];
        assert_eq!(
            resample(&bars, iv("5m")),
            Err(ResampleError::UnsortedBars { index: 2, ts: Timestamp(MINUTE), prev_ts: Timestamp(MINUTE) })
        );
    }
}
