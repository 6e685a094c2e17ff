//! Linearly weighted moving average (WMA).

use super::error::{check_period, IndicatorError};
use super::ring::Ring;

/// Weighted moving average of the last `n` inputs, weights `1..=n` with the
/// newest input weighted `n`:
///
/// `WMA(n)_t = (1*x_{t-n+1} + 2*x_{t-n+2} + ... + n*x_t) / (n(n+1)/2)`
///
/// Ready after `n` inputs. O(1) update from two running sums: with `S` the
/// plain window sum and `N` the weighted numerator, both before the update,
/// `N' = N + n*x_new - S` and `S' = S + x_new - x_evicted`. Both are
/// recomputed from the window every `n` updates (amortised O(1)) to bound the
/// rounding drift of the sliding updates.
#[derive(Clone, Debug)]
pub struct Wma {
    window: Ring,
    period: f64,
    /// `n(n+1)/2`.
    denominator: f64,
    sum: f64,
    numerator: f64,
    value: Option<f64>,
}

impl Wma {
    /// A WMA over `period` inputs. Errors if `period` is 0 or above [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("wma", "period", period)?;
        let n = period as f64;
        Ok(Wma {
            window: Ring::new(period),
            period: n,
            denominator: n * (n + 1.0) / 2.0,
            sum: 0.0,
            numerator: 0.0,
            value: None,
        })
    }

    /// Feeds one input and returns the current value (`None` until `period` inputs).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        match self.window.push(x) {
            None => {
                // Warming up: the k-th input (1-based) has weight k for now and
                // is the newest, so the weights line up once the window is full.
                self.numerator += self.window.len() as f64 * x;
                self.sum += x;
            }
            Some(_) if self.window.wrapped() => self.resync(),
            Some(old) => {
                self.numerator += self.period * x - self.sum;
                self.sum += x - old;
            }
        }
        if self.window.is_full() {
            self.value = Some(self.numerator / self.denominator);
        }
        self.value
    }

    /// The current value, `None` until `period` inputs have been fed.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Recomputes both running sums from the window.
    fn resync(&mut self) {
        let (mut sum, mut numerator) = (0.0, 0.0);
        for (i, x) in self.window.iter().enumerate() {
            sum += x;
            numerator += (i + 1) as f64 * x;
        }
        self.sum = sum;
        self.numerator = numerator;
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, first_ready, prices};
    use super::*;

    fn naive(xs: &[f64], n: usize) -> Vec<Option<f64>> {
        let denominator = (n * (n + 1) / 2) as f64;
        (0..xs.len())
            .map(|t| {
                (t + 1 >= n).then(|| {
                    let window = &xs[t + 1 - n..=t];
                    let weighted: f64 = window.iter().enumerate().map(|(i, x)| (i + 1) as f64 * x).sum();
                    weighted / denominator
                })
            })
            .collect()
    }

    #[test]
    fn hand_computed() {
        // n = 3, denominator 3*4/2 = 6
        let mut wma = Wma::new(3).unwrap();
        assert_eq!(wma.update(3.0), None);
        assert_eq!(wma.update(6.0), None);
        assert_eq!(wma.update(9.0), Some(7.0)); // (1*3 + 2*6 + 3*9)/6 = 42/6
        assert_eq!(wma.update(12.0), Some(10.0)); // (1*6 + 2*9 + 3*12)/6 = 60/6
        assert_eq!(wma.update(0.0), Some(5.5)); // (1*9 + 2*12 + 3*0)/6 = 33/6
        assert_eq!(wma.update(6.0), Some(5.0)); // (1*12 + 2*0 + 3*6)/6 = 30/6
        assert_eq!(wma.value(), Some(5.0));
    }

    #[test]
    fn period_one_is_identity() {
        let mut wma = Wma::new(1).unwrap();
        assert_eq!(wma.update(4.0), Some(4.0));
        assert_eq!(wma.update(-1.0), Some(-1.0));
    }

    #[test]
    fn not_ready_for_period_minus_one_inputs() {
        for n in [1, 2, 7, 30] {
            let mut wma = Wma::new(n).unwrap();
            let out: Vec<_> = (0..n + 3).map(|i| wma.update(i as f64)).collect();
            assert_eq!(first_ready(&out), Some(n - 1), "period {n}");
            assert!(out[n - 1..].iter().all(Option::is_some));
        }
    }

    #[test]
    fn matches_naive() {
        let xs = prices(500, 4);
        for n in [1, 2, 3, 10, 50, 499, 500, 501] {
            let expected = naive(&xs, n);
            let mut wma = Wma::new(n).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let got = wma.update(x);
                assert_close(got, expected[t], &format!("wma({n}) at bar {t}"));
                assert_eq!(wma.value(), got);
            }
        }
    }

    #[test]
    fn resync_removes_drift_after_level_change() {
        let mut xs: Vec<f64> = (0..100).map(|i| 1e12 + f64::from(i) * 0.37).collect();
        xs.extend(prices(1000, 5).iter().map(|p| p / 100.0));
        let n = 9;
        let expected = naive(&xs, n);
        let mut wma = Wma::new(n).unwrap();
        for (t, &x) in xs.iter().enumerate() {
            let got = wma.update(x);
            if t >= 100 + 2 * n {
                assert_close(got, expected[t], &format!("bar {t}"));
            }
        }
    }

    #[test]
    fn invalid_period() {
        let err = Wma::new(0).unwrap_err();
        assert_eq!(err, IndicatorError::InvalidPeriod { indicator: "wma", argument: "period", value: 0 });
    }
}
