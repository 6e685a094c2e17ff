//! The error returned when an indicator is built with invalid arguments.

use std::error::Error;
use std::fmt;

/// Largest accepted period (window length) of any indicator.
///
/// Windowed indicators preallocate their whole window at construction
/// (8 bytes per slot, so 80 MB at this limit); the cap turns an absurd period
/// from a strategy into an error instead of an allocation failure.
pub const MAX_PERIOD: usize = 10_000_000;

/// Why an indicator could not be built. The message names the indicator and
/// the offending argument.
#[derive(Clone, Debug, PartialEq)]
pub enum IndicatorError {
    /// A period is 0 or larger than [`MAX_PERIOD`].
    InvalidPeriod {
        /// Kind name of the indicator, e.g. `"sma"`.
        indicator: &'static str,
        /// Name of the argument, e.g. `"period"` or `"slow"`.
        argument: &'static str,
        /// The rejected value.
        value: usize,
    },
    /// MACD's fast period is not strictly less than its slow period.
    FastNotBelowSlow {
        /// The `fast` argument.
        fast: usize,
        /// The `slow` argument.
        slow: usize,
    },
    /// A multiplier is not finite or not strictly positive.
    InvalidMultiplier {
        /// Kind name of the indicator, e.g. `"bollinger"`.
        indicator: &'static str,
        /// Name of the argument, e.g. `"k"`.
        argument: &'static str,
        /// The rejected value.
        value: f64,
    },
}

impl fmt::Display for IndicatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndicatorError::InvalidPeriod { indicator, argument, value: 0 } => {
                write!(f, "{indicator}: argument `{argument}` must be at least 1, got 0")
            }
            IndicatorError::InvalidPeriod { indicator, argument, value } => {
                write!(f, "{indicator}: argument `{argument}` must be at most {MAX_PERIOD}, got {value}")
            }
            IndicatorError::FastNotBelowSlow { fast, slow } => {
                write!(f, "macd: argument `fast` ({fast}) must be less than argument `slow` ({slow})")
            }
            IndicatorError::InvalidMultiplier { indicator, argument, value } => {
                write!(f, "{indicator}: argument `{argument}` must be finite and greater than 0, got {value}")
            }
        }
    }
}

impl Error for IndicatorError {}

/// Checks that `value` is a usable period (1..=[`MAX_PERIOD`]) and returns it.
pub(super) fn check_period(
    indicator: &'static str,
    argument: &'static str,
    value: usize,
) -> Result<usize, IndicatorError> {
    if value == 0 || value > MAX_PERIOD {
        Err(IndicatorError::InvalidPeriod { indicator, argument, value })
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_period_bounds() {
        assert_eq!(check_period("sma", "period", 1), Ok(1));
        assert_eq!(check_period("sma", "period", MAX_PERIOD), Ok(MAX_PERIOD));
        assert!(check_period("sma", "period", 0).is_err());
        assert!(check_period("sma", "period", MAX_PERIOD + 1).is_err());
        assert!(check_period("sma", "period", usize::MAX).is_err());
    }

    #[test]
    fn messages_name_indicator_and_argument() {
        let zero = check_period("ema", "period", 0).unwrap_err();
        assert_eq!(zero.to_string(), "ema: argument `period` must be at least 1, got 0");
        let big = check_period("macd", "slow", MAX_PERIOD + 1).unwrap_err();
        assert_eq!(
            big.to_string(),
            format!("macd: argument `slow` must be at most {MAX_PERIOD}, got {}", MAX_PERIOD + 1)
        );
        let order = IndicatorError::FastNotBelowSlow { fast: 26, slow: 12 };
        assert_eq!(order.to_string(), "macd: argument `fast` (26) must be less than argument `slow` (12)");
        let k = IndicatorError::InvalidMultiplier { indicator: "bollinger", argument: "k", value: -1.0 };
        assert_eq!(k.to_string(), "bollinger: argument `k` must be finite and greater than 0, got -1");
    }

    #[test]
    fn is_a_std_error() {
        let e: Box<dyn Error + Send + Sync> = Box::new(IndicatorError::FastNotBelowSlow { fast: 1, slow: 1 });
        assert!(e.source().is_none());
        assert!(e.to_string().contains("macd"));
    }
}
