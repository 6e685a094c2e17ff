//! Exponential moving average (EMA), seeded with an SMA.

use super::error::{check_period, IndicatorError};

/// Exponential moving average with `alpha = 2 / (n + 1)`:
///
/// - the first value, after `n` inputs, is the SMA of those `n` inputs;
/// - afterwards `ema_t = alpha * x_t + (1 - alpha) * ema_{t-1}`.
///
/// Ready after `n` inputs. No window is stored.
#[derive(Clone, Debug)]
pub struct Ema {
    period: usize,
    alpha: f64,
    one_minus_alpha: f64,
    /// Inputs seen while warming up (stops counting once ready).
    seen: usize,
    /// Sum of the warm-up inputs.
    seed_sum: f64,
    value: Option<f64>,
}

impl Ema {
    /// An EMA over `period` inputs. Errors if `period` is 0 or above [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("ema", "period", period)?;
        let alpha = 2.0 / (period as f64 + 1.0);
        Ok(Ema { period, alpha, one_minus_alpha: 1.0 - alpha, seen: 0, seed_sum: 0.0, value: None })
    }

    /// Feeds one input and returns the current value (`None` until `period` inputs).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        match self.value {
            Some(prev) => self.value = Some(self.alpha * x + self.one_minus_alpha * prev),
            None => {
                self.seed_sum += x;
                self.seen += 1;
                if self.seen == self.period {
                    self.value = Some(self.seed_sum / self.period as f64);
                }
            }
        }
        self.value
    }

    /// The current value, `None` until `period` inputs have been fed.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, first_ready, prices};
    use super::*;

    /// EMA of the whole prefix `xs`, recomputed from the first input.
    fn naive_last(xs: &[f64], n: usize) -> Option<f64> {
        if xs.len() < n {
            return None;
        }
        let alpha = 2.0 / (n as f64 + 1.0);
        let mut ema = xs[..n].iter().sum::<f64>() / n as f64;
        for &x in &xs[n..] {
            ema = alpha * x + (1.0 - alpha) * ema;
        }
        Some(ema)
    }

    #[test]
    fn hand_computed() {
        // n = 3, alpha = 2/4 = 0.5
        let mut ema = Ema::new(3).unwrap();
        assert_eq!(ema.update(1.0), None);
        assert_eq!(ema.update(2.0), None);
        assert_eq!(ema.update(3.0), Some(2.0)); // seed: (1+2+3)/3
        assert_eq!(ema.update(4.0), Some(3.0)); // 0.5*4 + 0.5*2
        assert_eq!(ema.update(10.0), Some(6.5)); // 0.5*10 + 0.5*3
        assert_eq!(ema.update(0.5), Some(3.5)); // 0.5*0.5 + 0.5*6.5
        assert_eq!(ema.value(), Some(3.5));
    }

    #[test]
    fn period_one_is_identity() {
        // alpha = 2/2 = 1
        let mut ema = Ema::new(1).unwrap();
        assert_eq!(ema.update(5.0), Some(5.0));
        assert_eq!(ema.update(7.0), Some(7.0));
    }

    #[test]
    fn not_ready_for_period_minus_one_inputs() {
        for n in [1, 2, 9, 26] {
            let mut ema = Ema::new(n).unwrap();
            let out: Vec<_> = (0..n + 3).map(|i| ema.update(i as f64)).collect();
            assert_eq!(first_ready(&out), Some(n - 1), "period {n}");
            assert!(out[n - 1..].iter().all(Option::is_some));
        }
    }

    #[test]
    fn matches_naive() {
        let xs = prices(500, 3);
        for n in [1, 2, 3, 12, 26, 100, 500, 501] {
            let mut ema = Ema::new(n).unwrap();
            for t in 0..xs.len() {
                let got = ema.update(xs[t]);
                assert_close(got, naive_last(&xs[..=t], n), &format!("ema({n}) at bar {t}"));
                assert_eq!(ema.value(), got);
            }
        }
    }

    #[test]
    fn invalid_period() {
        let err = Ema::new(0).unwrap_err();
        assert_eq!(err, IndicatorError::InvalidPeriod { indicator: "ema", argument: "period", value: 0 });
        assert!(Ema::new(super::super::MAX_PERIOD + 1).is_err());
    }
}
