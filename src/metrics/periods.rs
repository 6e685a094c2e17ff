//! Returns by calendar period (UTC day, month and year) from the per-step equity curve.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{finite, to_f64};
use crate::domain::{EquityCurve, Timestamp};

/// The run's returns per UTC day, month and year, in time order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReturnsTables {
    /// One row per UTC day with at least one step (`"2024-03-05"`).
    pub daily: Vec<PeriodReturn>,
    /// One row per UTC month with at least one step (`"2024-03"`).
    pub monthly: Vec<PeriodReturn>,
    /// One row per UTC year with at least one step (`"2024"`).
    pub yearly: Vec<PeriodReturn>,
}

/// The return over one calendar period.
///
/// Rows chain: a row's `start_equity` is the previous row's `end_equity`, so
/// the product of `1 + return_pct / 100` over a table is the run's total
/// growth `E_{n−1} / C`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PeriodReturn {
    /// The period in UTC: `"2024-03-05"`, `"2024-03"` or `"2024"`.
    pub period: String,
    /// `S`: the previous period's `end_equity`, or the initial capital `C`
    /// for the first period.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub start_equity: Decimal,
    /// `F`: the equity at the close of the period's last step.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub end_equity: Decimal,
    /// `(F / S − 1) × 100`, computed exactly and then converted.
    /// `None` if `S ≤ 0`.
    pub return_pct: Option<f64>,
}

/// Groups the steps by UTC day, month and year and gives each period's
/// return, in one pass over the steps (O(n) time; memory for the rows only).
/// Periods without steps (a weekend without bars) get no row; empty input
/// gives empty tables.
///
/// `timeline` is ascending, as the engine produces it; steps are grouped by
/// runs of the same period, so an out-of-order step would open a new row.
///
/// # Panics
/// If `timeline` and `equity` differ in length (one point per engine step is
/// the caller's invariant).
pub fn returns_tables(timeline: &[Timestamp], equity: &EquityCurve, initial: Decimal) -> ReturnsTables {
    assert_eq!(timeline.len(), equity.len(), "returns tables need one timestamp per equity point");

    let mut daily = Table::new(Period::Day, initial);
    let mut monthly = Table::new(Period::Month, initial);
    let mut yearly = Table::new(Period::Year, initial);
    // Steps come in runs of one UTC day (1 440 for minute bars): the
    // calendar is consulted once per day, with the day's last equity.
    let mut i = 0;
    while i < timeline.len() {
        let next_day = (timeline[i].millis().div_euclid(DAY_MS) + 1).saturating_mul(DAY_MS);
        let mut last = i;
        while last + 1 < timeline.len() && timeline[last + 1].millis() < next_day {
            last += 1;
        }
        let (date, e) = (utc_date(timeline[i]), equity.amount(last).unwrap_or(Decimal::ZERO));
        daily.push(date, e);
        monthly.push(date, e);
        yearly.push(date, e);
        i = last + 1;
    }
    ReturnsTables { daily: daily.finish(), monthly: monthly.finish(), yearly: yearly.finish() }
}

/// Milliseconds in a UTC day.
const DAY_MS: i64 = 86_400_000;

/// `(to − from) / from × 100`, exact until the conversion to `f64`; `None`
/// if `from` is 0 or the result overflows or is not finite.
pub(super) fn change_pct(from: Decimal, to: Decimal) -> Option<f64> {
    (to - from).checked_div(from).and_then(|q| q.checked_mul(Decimal::ONE_HUNDRED)).and_then(to_f64).and_then(finite)
}

/// The UTC calendar date of a timestamp. One beyond chrono's range (about
/// ±262 000 years, which no parsed bar can have) is clamped to that range.
fn utc_date(ts: Timestamp) -> NaiveDate {
    let dt = DateTime::from_timestamp_millis(ts.millis()).unwrap_or(if ts.millis() < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    dt.date_naive()
}

#[derive(Clone, Copy, Debug)]
enum Period {
    Day,
    Month,
    Year,
}

impl Period {
    /// Equal for two dates in the same period.
    fn key(self, date: NaiveDate) -> (i32, u32, u32) {
        match self {
            Period::Day => (date.year(), date.month(), date.day()),
            Period::Month => (date.year(), date.month(), 0),
            Period::Year => (date.year(), 0, 0),
        }
    }

    /// `2024-03-05`, `2024-03` or `2024`, as chrono's `%Y-%m-%d` writes
    /// them: digits by hand for years 0 to 9999 (chrono's formatter took a
    /// quarter of a sweep's time, one label per day), chrono beyond.
    fn label(self, date: NaiveDate) -> String {
        let year = date.year();
        if !(0..=9999).contains(&year) {
            let format = match self {
                Period::Day => "%Y-%m-%d",
                Period::Month => "%Y-%m",
                Period::Year => "%Y",
            };
            return date.format(format).to_string();
        }
        let mut label = String::with_capacity(10);
        push_digits(&mut label, year as u32, 4);
        if !matches!(self, Period::Year) {
            label.push('-');
            push_digits(&mut label, date.month(), 2);
        }
        if matches!(self, Period::Day) {
            label.push('-');
            push_digits(&mut label, date.day(), 2);
        }
        label
    }
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// One table being built: the rows closed so far and the open period.
struct Table {
    period: Period,
    rows: Vec<PeriodReturn>,
    /// Key and first date of the open period, if a step has been seen.
    open: Option<((i32, u32, u32), NaiveDate)>,
    /// Start equity of the open period.
    start: Decimal,
    /// Equity at the latest step of the open period.
    end: Decimal,
}

impl Table {
    fn new(period: Period, initial: Decimal) -> Self {
        Table { period, rows: Vec::new(), open: None, start: initial, end: initial }
    }

    fn push(&mut self, date: NaiveDate, equity: Decimal) {
        let key = self.period.key(date);
        if !matches!(self.open, Some((open, _)) if open == key) {
            self.close();
            self.open = Some((key, date));
        }
        self.end = equity;
    }

    /// Turns the open period, if any, into a row; the next one starts where it ended.
    fn close(&mut self) {
        if let Some((_, date)) = self.open.take() {
            let return_pct = if self.start > Decimal::ZERO { change_pct(self.start, self.end) } else { None };
            self.rows.push(PeriodReturn {
                period: self.period.label(date),
                start_equity: self.start,
                end_equity: self.end,
                return_pct,
            });
            self.start = self.end;
        }
    }

    fn finish(mut self) -> Vec<PeriodReturn> {
        self.close();
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// A curve of these equities (cash equal to each, flat).
    fn curve(amounts: &[Decimal]) -> EquityCurve {
        use crate::domain::EquityPoint;
        amounts.iter().map(|&equity| EquityPoint { equity, cash: equity, exposed: false }).collect()
    }

    const HOUR_MS: i64 = 3_600_000;

    #[track_caller]
    fn approx(a: Option<f64>, b: f64) {
        let a = a.expect("value is None");
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} != {b}");
    }

    fn row(t: &[PeriodReturn], i: usize) -> (&str, Decimal, Decimal) {
        (t[i].period.as_str(), t[i].start_equity, t[i].end_equity)
    }

    #[test]
    fn labels_are_chronos_own() {
        for (y, m, d) in
            [(2024, 3, 5), (1999, 12, 31), (0, 1, 1), (9999, 12, 31), (10000, 1, 1), (-1, 6, 9), (205, 11, 20)]
        {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            for (period, format) in [(Period::Day, "%Y-%m-%d"), (Period::Month, "%Y-%m"), (Period::Year, "%Y")] {
                assert_eq!(period.label(date), date.format(format).to_string(), "{date:?}");
            }
        }
    }

    #[test]
    fn dates_beyond_chronos_range_are_clamped_to_it() {
        assert_eq!(utc_date(Timestamp(i64::MIN)), NaiveDate::MIN); // about 262 000 BC
        assert_eq!(utc_date(Timestamp(i64::MAX)), NaiveDate::MAX);
        assert_eq!(utc_date(Timestamp(-1)), NaiveDate::from_ymd_opt(1969, 12, 31).unwrap());
        // 1 ms before the epoch
    }

    #[test]
    fn intraday_steps_across_day_month_and_year_boundaries() {
        let secs = [
            1_704_060_000, // 2023-12-31 22:00 UTC
            1_704_063_600, // 2023-12-31 23:00
            1_704_067_200, // 2024-01-01 00:00 (2023-12-31 00:00 + 86 400)
            1_704_110_400, // 2024-01-01 12:00
            1_706_742_000, // 2024-01-31 23:00 (2024-01-01 00:00 + 30 days + 23 h); no steps for 29 days
            1_706_749_200, // 2024-02-01 01:00
        ];
        let timeline: Vec<Timestamp> = secs.iter().map(|&s| Timestamp::from_secs(s)).collect();
        let equity = [dec!(101), dec!(102), dec!(99), dec!(103), dec!(105), dec!(104)];
        let t = returns_tables(&timeline, &curve(&equity), dec!(100));

        assert_eq!(t.daily.len(), 4);
        assert_eq!(row(&t.daily, 0), ("2023-12-31", dec!(100), dec!(102)));
        assert_eq!(row(&t.daily, 1), ("2024-01-01", dec!(102), dec!(103)));
        assert_eq!(row(&t.daily, 2), ("2024-01-31", dec!(103), dec!(105)));
        assert_eq!(row(&t.daily, 3), ("2024-02-01", dec!(105), dec!(104)));
        assert_eq!(t.daily[0].return_pct, Some(2.0)); // 102 / 100 − 1
        approx(t.daily[1].return_pct, 100.0 / 102.0); // 103 / 102 − 1 = 0.980392…%
        approx(t.daily[2].return_pct, 200.0 / 103.0); // 105 / 103 − 1 = 1.941747…%
        approx(t.daily[3].return_pct, -100.0 / 105.0); // 104 / 105 − 1 = −0.952380…%

        assert_eq!(t.monthly.len(), 3);
        assert_eq!(row(&t.monthly, 0), ("2023-12", dec!(100), dec!(102)));
        assert_eq!(row(&t.monthly, 1), ("2024-01", dec!(102), dec!(105)));
        assert_eq!(row(&t.monthly, 2), ("2024-02", dec!(105), dec!(104)));
        approx(t.monthly[1].return_pct, 300.0 / 102.0); // 105 / 102 − 1 = 2.941176…%

        assert_eq!(t.yearly.len(), 2);
        assert_eq!(row(&t.yearly, 0), ("2023", dec!(100), dec!(102)));
        assert_eq!(row(&t.yearly, 1), ("2024", dec!(102), dec!(104)));
        approx(t.yearly[1].return_pct, 200.0 / 102.0); // 104 / 102 − 1 = 1.960784…%
    }

    #[test]
    fn rows_chain_to_the_total_return_and_skip_days_without_steps() {
        // Four steps a day (every 6 h) on weekdays only, for 800 days from
        // Monday 2023-01-02 00:00 UTC (day 0) to 2025-03-11 (day 799).
        let first_day = 1_672_617_600_000 / DAY_MS; // days since 1970-01-01, a Thursday
        let mut timeline = Vec::new();
        for day in first_day..first_day + 800 {
            let weekday = (day + 3) % 7; // Monday = 0
            if weekday < 5 {
                timeline.extend((0..4).map(|q| Timestamp(day * DAY_MS + q * 6 * HOUR_MS)));
            }
        }
        let equity: Vec<Decimal> = (0..timeline.len() as i64)
            .map(|i| Decimal::from(1000 + (i * 7919) % 211 - 105) + Decimal::new(i, 2))
            .collect();
        let initial = dec!(1000);
        let growth = 1.0 + change(initial, *equity.last().unwrap());
        let t = returns_tables(&timeline, &curve(&equity), initial);

        assert_eq!(t.daily.len(), timeline.len() / 4);
        assert_eq!(t.monthly.len(), 27); // Jan 2023 … Mar 2025
        let years: Vec<&str> = t.yearly.iter().map(|r| r.period.as_str()).collect();
        assert_eq!(years, ["2023", "2024", "2025"]);
        assert_eq!(t.daily[0].period, "2023-01-02");
        assert_eq!(t.daily[5].period, "2023-01-09"); // Saturday and Sunday have no rows
        for table in [&t.daily, &t.monthly, &t.yearly] {
            assert_eq!(table[0].start_equity, initial);
            assert_eq!(table.last().unwrap().end_equity, *equity.last().unwrap());
            for w in table.windows(2) {
                assert_eq!(w[1].start_equity, w[0].end_equity);
            }
            let product: f64 = table.iter().map(|r| 1.0 + r.return_pct.unwrap() / 100.0).product();
            assert!((product - growth).abs() < 1e-9, "{product} != {growth}");
        }
    }

    /// `to / from − 1` in `f64`, independently of `change_pct`.
    fn change(from: Decimal, to: Decimal) -> f64 {
        to.to_string().parse::<f64>().unwrap() / from.to_string().parse::<f64>().unwrap() - 1.0
    }

    #[test]
    fn empty_input_gives_empty_tables() {
        let t = returns_tables(&[], &curve(&[]), dec!(100));
        assert!(t.daily.is_empty() && t.monthly.is_empty() && t.yearly.is_empty());
    }

    #[test]
    fn no_return_from_a_non_positive_start() {
        let timeline = [Timestamp(0), Timestamp(DAY_MS), Timestamp(2 * DAY_MS)];
        let t = returns_tables(&timeline, &curve(&[dec!(-5), dec!(10), dec!(12)]), dec!(0));
        let returns: Vec<Option<f64>> = t.daily.iter().map(|r| r.return_pct).collect();
        assert_eq!(returns, [None, None, Some(20.0)]); // starts 0, −5, 10
    }

    #[test]
    fn serialises_money_exactly() {
        let t = returns_tables(&[Timestamp(0)], &curve(&[dec!(100.10)]), dec!(100));
        let json = serde_json::to_string(&t.yearly).unwrap();
        assert_eq!(json, r#"[{"period":"1970","start_equity":100,"end_equity":100.10,"return_pct":0.1}]"#);
    }
}
