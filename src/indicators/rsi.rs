//! Relative strength index (RSI) with Wilder's smoothing.

use super::error::{check_period, IndicatorError};

/// Wilder's relative strength index over `n` changes.
///
/// With changes `d_i = x_i - x_{i-1}`, gains `max(d_i, 0)` and losses `max(-d_i, 0)`:
/// - the first average gain / loss is the simple mean of the first `n` gains / losses,
///   so the RSI is ready after `n + 1` inputs;
/// - afterwards `avg = (avg * (n - 1) + current) / n`, for gains and losses alike;
/// - `RSI = 100 - 100 / (1 + avg_gain / avg_loss)`; when `avg_loss == 0` it is
///   100 if `avg_gain > 0`, and 50 if both averages are 0 (a flat series).
#[derive(Clone, Debug)]
pub struct Rsi {
    period: usize,
    /// `n` as f64.
    n: f64,
    /// `n - 1` as f64.
    n_minus_1: f64,
    prev: Option<f64>,
    /// Changes seen while warming up (stops counting once ready).
    changes: usize,
    avg_gain: f64,
    avg_loss: f64,
    value: Option<f64>,
}

impl Rsi {
    /// An RSI over `period` changes. Errors if `period` is 0 or above [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("rsi", "period", period)?;
        Ok(Rsi {
            period,
            n: period as f64,
            n_minus_1: period as f64 - 1.0,
            prev: None,
            changes: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
            value: None,
        })
    }

    /// Feeds one input and returns the current value (`None` until `period + 1` inputs).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let prev = self.prev.replace(x)?;
        let d = x - prev;
        let gain = if d > 0.0 { d } else { 0.0 };
        let loss = if d < 0.0 { -d } else { 0.0 };
        if self.value.is_some() {
            self.avg_gain = (self.avg_gain * self.n_minus_1 + gain) / self.n;
            self.avg_loss = (self.avg_loss * self.n_minus_1 + loss) / self.n;
        } else {
            // Warming up: avg_gain / avg_loss hold the sums until the n-th change.
            self.avg_gain += gain;
            self.avg_loss += loss;
            self.changes += 1;
            if self.changes < self.period {
                return None;
            }
            self.avg_gain /= self.n;
            self.avg_loss /= self.n;
        }
        self.value = Some(rsi_from_averages(self.avg_gain, self.avg_loss));
        self.value
    }

    /// The current value, `None` until `period + 1` inputs have been fed.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

/// `100 - 100 / (1 + gain / loss)`, with the flat (50) and no-loss (100) cases.
#[inline]
fn rsi_from_averages(avg_gain: f64, avg_loss: f64) -> f64 {
    if avg_loss == 0.0 {
        if avg_gain > 0.0 {
            100.0
        } else {
            50.0
        }
    } else {
        100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_approx, assert_close, first_ready, prices};
    use super::*;

    /// RSI of the whole prefix `xs`, recomputed from the first input.
    fn naive_last(xs: &[f64], n: usize) -> Option<f64> {
        if xs.len() < n + 1 {
            return None;
        }
        let gains: Vec<f64> = xs.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect();
        let losses: Vec<f64> = xs.windows(2).map(|w| (w[0] - w[1]).max(0.0)).collect();
        let mut g = gains[..n].iter().sum::<f64>() / n as f64;
        let mut l = losses[..n].iter().sum::<f64>() / n as f64;
        for i in n..gains.len() {
            g = (g * (n as f64 - 1.0) + gains[i]) / n as f64;
            l = (l * (n as f64 - 1.0) + losses[i]) / n as f64;
        }
        Some(if l == 0.0 {
            if g > 0.0 {
                100.0
            } else {
                50.0
            }
        } else {
            100.0 - 100.0 / (1.0 + g / l)
        })
    }

    #[test]
    fn hand_computed() {
        // n = 3; inputs 10, 11, 10, 12, 13, 12; changes +1, -1, +2, +1, -1
        let mut rsi = Rsi::new(3).unwrap();
        assert_eq!(rsi.update(10.0), None);
        assert_eq!(rsi.update(11.0), None);
        assert_eq!(rsi.update(10.0), None);
        // gains 1,0,2 -> avg 1; losses 0,1,0 -> avg 1/3; RS = 3; 100 - 100/4
        assert_eq!(rsi.update(12.0), Some(75.0));
        // gain 1: avg_gain (1*2+1)/3 = 1; avg_loss (1/3*2+0)/3 = 2/9; RS = 4.5; 100 - 100/5.5
        assert_approx(rsi.update(13.0), 100.0 - 100.0 / 5.5);
        // loss 1: avg_gain (1*2+0)/3 = 2/3; avg_loss (2/9*2+1)/3 = 13/27; RS = 18/13;
        // 100 - 100/(31/13) = 1800/31
        assert_approx(rsi.update(12.0), 1800.0 / 31.0);
        assert_approx(rsi.value(), 1800.0 / 31.0);
    }

    #[test]
    fn edge_cases() {
        let mut flat = Rsi::new(2).unwrap();
        for _ in 0..2 {
            assert_eq!(flat.update(5.0), None);
        }
        assert_eq!(flat.update(5.0), Some(50.0)); // no gains, no losses
        assert_eq!(flat.update(5.0), Some(50.0));

        let mut rising = Rsi::new(2).unwrap();
        rising.update(1.0);
        rising.update(2.0);
        assert_eq!(rising.update(3.0), Some(100.0)); // avg_loss 0, avg_gain 1
        assert_eq!(rising.update(3.0), Some(100.0)); // avg_gain 0.5, avg_loss 0

        let mut falling = Rsi::new(2).unwrap();
        falling.update(3.0);
        falling.update(2.0);
        assert_eq!(falling.update(1.0), Some(0.0)); // RS = 0 -> 100 - 100/1
    }

    #[test]
    fn period_one() {
        // n = 1: each RSI reflects only the latest change
        let mut rsi = Rsi::new(1).unwrap();
        assert_eq!(rsi.update(1.0), None);
        assert_eq!(rsi.update(2.0), Some(100.0));
        assert_eq!(rsi.update(1.5), Some(0.0));
        assert_eq!(rsi.update(1.5), Some(50.0));
    }

    #[test]
    fn not_ready_for_period_inputs() {
        for n in [1, 2, 14, 30] {
            let mut rsi = Rsi::new(n).unwrap();
            let out: Vec<_> = (0..n + 4).map(|i| rsi.update(if i % 3 == 0 { 1.0 } else { 2.0 })).collect();
            assert_eq!(first_ready(&out), Some(n), "period {n}");
            assert!(out[n..].iter().all(Option::is_some));
        }
    }

    #[test]
    fn matches_naive() {
        let xs = prices(500, 6);
        for n in [1, 2, 3, 14, 50, 498, 499, 500] {
            let mut rsi = Rsi::new(n).unwrap();
            for t in 0..xs.len() {
                let got = rsi.update(xs[t]);
                assert_close(got, naive_last(&xs[..=t], n), &format!("rsi({n}) at bar {t}"));
                assert_eq!(rsi.value(), got);
                if let Some(v) = got {
                    assert!((0.0..=100.0).contains(&v));
                }
            }
        }
    }

    #[test]
    fn invalid_period() {
        let err = Rsi::new(0).unwrap_err();
        assert_eq!(err, IndicatorError::InvalidPeriod { indicator: "rsi", argument: "period", value: 0 });
    }
}
