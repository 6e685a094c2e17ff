//! Timestamps: milliseconds since the Unix epoch, UTC.

use std::fmt;

use chrono::{DateTime, Timelike};
use serde::{Serialize, Serializer};

/// A point in time as milliseconds since the Unix epoch (UTC).
///
/// Naive timestamps in input files carry no zone and are read as UTC, so a
/// timestamp always round-trips to the text it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from whole seconds since the epoch.
    pub fn from_secs(secs: i64) -> Self {
        Timestamp(secs * 1000)
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded towards negative infinity).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// True when the timestamp falls exactly on midnight UTC (a daily bar).
    pub fn is_midnight(self) -> bool {
        self.0.rem_euclid(86_400_000) == 0
    }

    /// `YYYY-MM-DD` at midnight, `YYYY-MM-DD HH:MM:SS` otherwise (with
    /// milliseconds only when there are some).
    pub fn to_text(self) -> String {
        match DateTime::from_timestamp_millis(self.0) {
            None => self.0.to_string(),
            Some(dt) if self.is_midnight() => dt.format("%Y-%m-%d").to_string(),
            Some(dt) if dt.nanosecond() == 0 => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
            Some(dt) => dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_daily_and_intraday_stamps() {
        assert_eq!(Timestamp(1_092_873_600_000).to_text(), "2004-08-19");
        assert_eq!(Timestamp(1_492_592_400_000).to_text(), "2017-04-19 09:00:00");
        assert_eq!(Timestamp(1_492_592_400_250).to_text(), "2017-04-19 09:00:00.250");
    }

    #[test]
    fn secs_round_down_before_the_epoch() {
        assert_eq!(Timestamp(-1).secs(), -1);
        assert_eq!(Timestamp::from_secs(7).millis(), 7000);
    }
}
