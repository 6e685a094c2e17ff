//! When a token stops working: `--expires 30d`, `12h`, `90m` or a date.

use chrono::NaiveDate;

/// The moment, in milliseconds since the epoch, that `text` names from
/// `now`: a count of minutes (`90m`), hours (`12h`) or days (`30d`), or a
/// UTC date (`2027-01-31`, the start of that day).
///
/// # Errors
/// Text in neither form, or a moment not after `now`.
pub fn parse_expiry(text: &str, now: i64) -> Result<i64, String> {
    let text = text.trim();
    let at = if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        date.and_hms_opt(0, 0, 0).map_or(i64::MAX, |t| t.and_utc().timestamp_millis())
    } else {
        let form = || format!("'{text}' is neither a duration (90m, 12h, 30d) nor a date (2027-01-31)");
        let split = text.len().checked_sub(1).ok_or_else(form)?;
        let (count, unit) = text.split_at(split);
        let count: i64 = count.parse().map_err(|_| form())?;
        let unit_ms: i64 = match unit {
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(form()),
        };
        count.checked_mul(unit_ms).and_then(|ms| now.checked_add(ms)).ok_or_else(form)?
    };
    if at <= now {
        return Err(format!("'{text}' is not in the future"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_dates() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_expiry("90m", now), Ok(now + 90 * 60_000));
        assert_eq!(parse_expiry("12h", now), Ok(now + 12 * 3_600_000));
        assert_eq!(parse_expiry("30d", now), Ok(now + 30 * 86_400_000));
        // 2027-01-31T00:00:00Z
        assert_eq!(parse_expiry("2027-01-31", now), Ok(1_801_353_600_000));
        assert!(parse_expiry("2020-01-01", now).unwrap_err().contains("not in the future"));
        assert!(parse_expiry("0d", now).unwrap_err().contains("not in the future"));
        for bad in ["", "d", "12", "3w", "-5", "x1d", "99999999999999999d"] {
            assert!(parse_expiry(bad, now).unwrap_err().contains("neither a duration"), "{bad}");
        }
    }
}
