//! Schedule helpers: whether the current step opens a new day, week or
//! month of the run's clock (UTC), i.e. is the first trading step of it.

use chrono::{DateTime, Datelike, NaiveDate};

use crate::domain::Timestamp;

use super::CtxError;

/// A calendar period a strategy can act on once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// UTC calendar days.
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    /// UTC calendar months.
    Month,
}

impl Period {
    /// `daily`, `weekly` or `monthly` (also `day`, `week`, `month`).
    ///
    /// # Errors
    /// Any other name.
    pub fn parse(name: &str) -> Result<Period, CtxError> {
        match name {
            "daily" | "day" => Ok(Period::Day),
            "weekly" | "week" => Ok(Period::Week),
            "monthly" | "month" => Ok(Period::Month),
            other => Err(CtxError::UnknownSchedule(other.to_string())),
        }
    }

    /// The period by its ABI number: 0 day, 1 week, 2 month.
    pub fn from_code(code: i32) -> Option<Period> {
        [Period::Day, Period::Week, Period::Month].get(usize::try_from(code).ok()?).copied()
    }
}

/// True when `now` is the first step of its period: the run's first step,
/// or a step whose period differs from the previous step's (`previous`).
/// On daily stock data, `Week` is true on the first trading day of each
/// week (a Tuesday after a Monday holiday) and `Month` on the first trading
/// day of each month.
pub fn starts_period(period: Period, previous: Option<Timestamp>, now: Timestamp) -> bool {
    let Some(previous) = previous else { return true };
    let (a, b) = (date(previous), date(now));
    match period {
        Period::Day => a != b,
        Period::Week => a.iso_week() != b.iso_week(),
        Period::Month => (a.year(), a.month()) != (b.year(), b.month()),
    }
}

fn date(ts: Timestamp) -> NaiveDate {
    DateTime::from_timestamp_millis(ts.millis()).map_or(NaiveDate::MIN, |d| d.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_timestamp;

    fn ts(text: &str) -> Timestamp {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn the_first_trading_day_of_each_period_starts_it() {
        // 2024-01-01 (Mon) is a holiday: the week and the month start on Tuesday the 2nd.
        let days = ["2023-12-28", "2023-12-29", "2024-01-02", "2024-01-03", "2024-01-05", "2024-01-08"];
        let mut prev = None;
        let mut weekly = Vec::new();
        let mut monthly = Vec::new();
        for d in days {
            let now = ts(d);
            weekly.push(starts_period(Period::Week, prev, now));
            monthly.push(starts_period(Period::Month, prev, now));
            assert!(starts_period(Period::Day, prev, now));
            prev = Some(now);
        }
        assert_eq!(weekly, [true, false, true, false, false, true]);
        assert_eq!(monthly, [true, false, true, false, false, false]);
    }

    #[test]
    fn intraday_steps_start_a_day_once() {
        let a = ts("2024-03-05 15:59:00");
        let b = ts("2024-03-06 09:30:00");
        assert!(starts_period(Period::Day, Some(a), b));
        assert!(!starts_period(Period::Day, Some(b), ts("2024-03-06 09:31:00")));
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(Period::parse("weekly"), Ok(Period::Week));
        assert!(Period::parse("yearly").unwrap_err().to_string().contains("daily, weekly or monthly"));
        assert_eq!(Period::from_code(2), Some(Period::Month));
        assert_eq!(Period::from_code(3), None);
    }
}
