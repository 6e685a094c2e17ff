//! [`DateFormat`]: a user's strftime format for the time column (`--date-format`).

use chrono::format::{parse, Item, ParseErrorKind, Parsed, StrftimeItems};
use chrono::NaiveTime;

use super::options::OptionError;
use crate::domain::Timestamp;

/// A checked strftime format, parsed once and applied to every row.
#[derive(Clone, Debug)]
pub struct DateFormat {
    text: String,
    items: Vec<Item<'static>>,
}

impl DateFormat {
    /// Checks `format`: chrono must read it and it must name a date (a year,
    /// `%F`, `%D`, `%c`, `%+`) or an epoch time (`%s`).
    ///
    /// # Errors
    /// [`OptionError`] naming `--date-format` and the format.
    pub fn new(format: &str) -> Result<DateFormat, OptionError> {
        let fail =
            |reason: &str| OptionError { option: "--date-format", value: format.to_owned(), reason: reason.to_owned() };
        let items = StrftimeItems::new(format)
            .parse_to_owned()
            .map_err(|_| fail("not a strftime format chrono can read (see chrono's format::strftime)"))?;
        let names = |specs: &[&str]| specs.iter().any(|s| format.contains(s));
        if !names(&["%Y", "%y", "%C", "%G", "%g", "%F", "%D", "%x", "%c", "%+", "%s"]) {
            return Err(fail("the format has no year (%Y, %y), no date (%F, %D) and no epoch (%s)"));
        }
        Ok(DateFormat { text: format.to_owned(), items })
    }

    /// The format as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Reads `text` with the format: UTC unless the format has an offset
    /// (`%z`, `%:z`, `%+`); a format without a time of day gives midnight.
    ///
    /// # Errors
    /// Why the text does not match (chrono's reason).
    pub fn parse(&self, text: &str) -> Result<Timestamp, String> {
        let mut parsed = Parsed::new();
        parse(&mut parsed, text, self.items.iter()).map_err(|e| e.to_string())?;
        if parsed.offset().is_some() {
            return parsed.to_datetime().map(|t| Timestamp(t.timestamp_millis())).map_err(|e| e.to_string());
        }
        match parsed.to_naive_datetime_with_offset(0) {
            Ok(t) => Ok(Timestamp(t.and_utc().timestamp_millis())),
            Err(e) if e.kind() == ParseErrorKind::NotEnough && parsed.hour_div_12().is_none() => {
                let date = parsed.to_naive_date().map_err(|e| e.to_string())?;
                Ok(Timestamp(date.and_time(NaiveTime::MIN).and_utc().timestamp_millis()))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(format: &str, text: &str) -> Result<i64, String> {
        DateFormat::new(format).map_err(|e| e.to_string())?.parse(text).map(Timestamp::millis)
    }

    #[test]
    fn the_forms_users_bring_are_read_with_their_format() {
        // 2004-08-19 00:00:00 UTC is 1 092 873 600 s after the epoch.
        let day = 1_092_873_600_000;
        assert_eq!(millis("%m/%d/%Y", "08/19/2004"), Ok(day));
        assert_eq!(millis("%d/%m/%Y", "19/08/2004"), Ok(day));
        assert_eq!(millis("%Y%m%d", "20040819"), Ok(day));
        assert_eq!(millis("%Y/%m/%d", "2004/08/19"), Ok(day));
        assert_eq!(millis("%d.%m.%Y %H:%M", "19.08.2004 09:30"), Ok(day + 9 * 3_600_000 + 30 * 60_000));
        assert_eq!(millis("%Y-%m-%d %H:%M:%S%z", "2004-08-19 02:00:00+0200"), Ok(day));
        assert_eq!(millis("%s", "1092873600"), Ok(day));
    }

    #[test]
    fn texts_that_do_not_match_say_why() {
        for (format, text) in [("%m/%d/%Y", "2004-08-19"), ("%m/%d/%Y", "13/19/2004"), ("%Y%m%d", "200408")] {
            let err = millis(format, text).expect_err(text);
            assert!(!err.is_empty(), "{format} {text}");
        }
    }

    #[test]
    fn formats_must_parse_and_name_a_date() {
        assert!(DateFormat::new("%Y-%m-%d %Q").unwrap_err().reason.contains("not a strftime format"));
        assert!(DateFormat::new("%H:%M").unwrap_err().reason.contains("no year"));
        assert_eq!(DateFormat::new("%D").map(|f| f.as_str().to_owned()), Ok("%D".to_owned()));
    }
}
