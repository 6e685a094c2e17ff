//! Rate of change (ROC), in percent.

use super::error::{check_period, IndicatorError};
use super::ring::Ring;

/// Rate of change over `n` inputs, in percent:
///
/// `ROC(n)_t = (x_t - x_{t-n}) / x_{t-n} * 100`
///
/// Ready after `n + 1` inputs. When `x_{t-n} == 0` the value is `None` (the
/// ratio is undefined), and becomes `Some` again on the next defined input.
#[derive(Clone, Debug)]
pub struct Roc {
    /// The last `n` inputs; the one evicted by a push is `x_{t-n}`.
    window: Ring,
    value: Option<f64>,
}

impl Roc {
    /// A ROC over `period` inputs. Errors if `period` is 0 or above [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("roc", "period", period)?;
        Ok(Roc { window: Ring::new(period), value: None })
    }

    /// Feeds one input and returns the current value (`None` until `period + 1`
    /// inputs, and whenever the input `period` bars ago is 0).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.value = match self.window.push(x) {
            Some(base) if base != 0.0 => Some((x - base) / base * 100.0),
            _ => None,
        };
        self.value
    }

    /// The current value, `None` until `period + 1` inputs have been fed or
    /// when the input `period` bars ago is 0.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_approx, assert_close, first_ready, prices};
    use super::*;

    #[test]
    fn hand_computed() {
        let mut roc = Roc::new(2).unwrap();
        assert_eq!(roc.update(50.0), None);
        assert_eq!(roc.update(0.0), None);
        assert_eq!(roc.update(100.0), Some(100.0)); // (100-50)/50*100
        assert_eq!(roc.update(20.0), None); // base 0: undefined
        assert_eq!(roc.value(), None);
        assert_eq!(roc.update(30.0), Some(-70.0)); // (30-100)/100*100
        assert_approx(roc.update(25.0), 25.0); // (25-20)/20*100
        assert_eq!(roc.value(), Some(25.0));
    }

    #[test]
    fn period_one() {
        let mut roc = Roc::new(1).unwrap();
        assert_eq!(roc.update(4.0), None);
        assert_eq!(roc.update(5.0), Some(25.0)); // (5-4)/4*100
        assert_eq!(roc.update(2.5), Some(-50.0)); // (2.5-5)/5*100
    }

    #[test]
    fn not_ready_for_period_inputs() {
        for n in [1, 2, 10] {
            let mut roc = Roc::new(n).unwrap();
            let out: Vec<_> = (0..n + 3).map(|i| roc.update(1.0 + i as f64)).collect();
            assert_eq!(first_ready(&out), Some(n), "period {n}");
            assert!(out[n..].iter().all(Option::is_some));
        }
    }

    #[test]
    fn matches_naive() {
        let mut xs = prices(500, 13);
        xs[100] = 0.0; // a zero base: undefined `n` bars later
        for n in [1, 2, 3, 10, 100, 499, 500] {
            let mut roc = Roc::new(n).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let got = roc.update(x);
                let expected = (t >= n && xs[t - n] != 0.0).then(|| (x - xs[t - n]) / xs[t - n] * 100.0);
                assert_close(got, expected, &format!("roc({n}) at bar {t}"));
                assert_eq!(roc.value(), got);
            }
        }
    }

    #[test]
    fn invalid_period() {
        assert_eq!(
            Roc::new(0).unwrap_err(),
            IndicatorError::InvalidPeriod { indicator: "roc", argument: "period", value: 0 }
        );
    }
}
