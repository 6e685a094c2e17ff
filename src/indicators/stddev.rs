//! Rolling population standard deviation, numerically stable.

use super::error::{check_period, IndicatorError};
use super::ring::Ring;

/// Population standard deviation (ddof = 0) of the last `n` inputs:
///
/// `mean = (x_{t-n+1} + ... + x_t) / n`,
/// `StdDev(n)_t = sqrt(((x_{t-n+1} - mean)^2 + ... + (x_t - mean)^2) / n)`
///
/// Ready after `n` inputs.
///
/// Numerics (O(1) per update, no allocation):
/// - The naive `sum(x^2)/n - mean^2` cancels catastrophically on prices like
///   1e4 with moves of 1e-4 (the two terms agree to ~16 digits) and can even
///   go negative. Instead this keeps the mean and `M2 = sum((x - mean)^2)` and
///   slides them with Welford's replacement update (`x_old` leaves, `x_new`
///   enters): `mean' = mean + (x_new - x_old) / n`,
///   `M2' = M2 + (x_new - x_old) * ((x_new - mean') + (x_old - mean))`,
///   which multiplies small differences, never large squares.
/// - All of it runs on inputs shifted by a reference `K` (a recent window
///   mean), so the rounding of the running mean scales with the local moves,
///   not with the price level (1e4 or 1e-4 alike).
/// - Rounding can still leave `M2` slightly off (a few ulps below 0 when the
///   true variance is 0, hence the clamp at 0), so the mean and `M2` are
///   recomputed exactly with a two-pass sum over the window when it first
///   fills and then every `n` updates (amortised O(1)): drift cannot build up
///   over millions of bars.
/// - A window of `n` identical inputs (a flat market) has variance exactly 0;
///   since `sqrt` turns a residual `r` in `M2` into an error `sqrt(r / n)`,
///   such windows are detected with a run-length counter and reported as an
///   exact 0 (the state is reset to the exact values at the same time).
#[derive(Clone, Debug)]
pub struct StdDev {
    window: Ring,
    period: f64,
    /// Window length as a count, for the run-length check.
    len: usize,
    /// Reference subtracted from every input before the running updates.
    shift: f64,
    /// Mean of the shifted window (`mean - shift`).
    mean: f64,
    /// Sum of squared deviations from the mean.
    m2: f64,
    /// Last input, and how many consecutive inputs (capped at `len`) equal it.
    last: f64,
    run: usize,
    value: Option<f64>,
}

impl StdDev {
    /// A rolling standard deviation over `period` inputs. Errors if `period`
    /// is 0 or above [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Self::named("stddev", period)
    }

    /// As [`StdDev::new`], reporting errors under the given indicator name.
    pub(super) fn named(indicator: &'static str, period: usize) -> Result<Self, IndicatorError> {
        let period = check_period(indicator, "period", period)?;
        Ok(StdDev {
            window: Ring::new(period),
            period: period as f64,
            len: period,
            shift: 0.0,
            mean: 0.0,
            m2: 0.0,
            last: f64::NAN,
            run: 0,
            value: None,
        })
    }

    /// Feeds one input and returns the current value (`None` until `period` inputs).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if x == self.last {
            self.run = (self.run + 1).min(self.len);
        } else {
            self.last = x;
            self.run = 1;
        }
        let evicted = self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        if self.run == self.len {
            // n identical inputs: the exact state is mean = x, M2 = 0.
            self.shift = x;
            self.mean = 0.0;
            self.m2 = 0.0;
        } else {
            match evicted {
                Some(old) if !self.window.wrapped() => {
                    let delta = x - old;
                    let old_mean = self.mean;
                    self.mean = old_mean + delta / self.period;
                    self.m2 += delta * ((x - self.shift - self.mean) + (old - self.shift - old_mean));
                    if self.m2 < 0.0 {
                        self.m2 = 0.0;
                    }
                }
                // First fill, or the ring wrapped (every n updates).
                _ => self.resync(),
            }
        }
        self.value = Some((self.m2 / self.period).sqrt());
        self.value
    }

    /// The current value, `None` until `period` inputs have been fed.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Mean of the current window, `None` until `period` inputs have been fed.
    #[inline]
    pub fn mean(&self) -> Option<f64> {
        self.value.map(|_| self.shift + self.mean)
    }

    /// Recomputes the mean and `M2` from the window and re-centres the shift
    /// on the mean. The shifted mean is computed from the shifted inputs rather
    /// than set to 0: the rounded mean used as shift is off by up to half an
    /// ulp of the price level, and that offset, multiplied by every later move,
    /// would otherwise bias `M2` (corrected two-pass algorithm).
    fn resync(&mut self) {
        let shift = self.window.iter().sum::<f64>() / self.period;
        let mean = self.window.iter().map(|x| x - shift).sum::<f64>() / self.period;
        self.m2 = self
            .window
            .iter()
            .map(|x| {
                let d = (x - shift) - mean;
                d * d
            })
            .sum();
        self.shift = shift;
        self.mean = mean;
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, first_ready, prices, Lcg};
    use super::*;

    /// Two-pass population standard deviation of each full window, recomputed
    /// from scratch. The window is first shifted by its first value (exact for
    /// nearby prices), so the rounding of the mean scales with the moves, not
    /// the price level: otherwise the reference itself is off by ~1e-9 on
    /// windows like 1e4 +- 1e-8.
    fn naive(xs: &[f64], n: usize) -> Vec<Option<f64>> {
        (0..xs.len())
            .map(|t| {
                (t + 1 >= n).then(|| {
                    let w = &xs[t + 1 - n..=t];
                    let y: Vec<f64> = w.iter().map(|x| x - w[0]).collect();
                    let mean = y.iter().sum::<f64>() / n as f64;
                    (y.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / n as f64).sqrt()
                })
            })
            .collect()
    }

    #[test]
    fn hand_computed() {
        // classic example: 2,4,4,4,5,5,7,9 has mean 5 and population sd 2
        // (squared deviations 9+1+1+1+0+0+4+16 = 32; 32/8 = 4)
        let mut sd = StdDev::new(8).unwrap();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0] {
            assert_eq!(sd.update(x), None);
        }
        assert_eq!(sd.update(9.0), Some(2.0));
        assert_eq!(sd.mean(), Some(5.0));

        let mut sd = StdDev::new(2).unwrap();
        assert_eq!(sd.update(1.0), None);
        assert_eq!(sd.mean(), None);
        assert_eq!(sd.update(3.0), Some(1.0)); // mean 2, ((1-2)^2 + (3-2)^2)/2 = 1
        assert_eq!(sd.update(7.0), Some(2.0)); // mean 5, (4 + 4)/2 = 4
        assert_eq!(sd.mean(), Some(5.0));
        assert_eq!(sd.update(7.0), Some(0.0)); // constant window
        assert_eq!(sd.value(), Some(0.0));
    }

    #[test]
    fn period_one_is_zero() {
        let mut sd = StdDev::new(1).unwrap();
        assert_eq!(sd.update(3.0), Some(0.0));
        assert_eq!(sd.update(-8.0), Some(0.0));
    }

    #[test]
    fn not_ready_for_period_minus_one_inputs() {
        for n in [1, 2, 20] {
            let mut sd = StdDev::new(n).unwrap();
            let out: Vec<_> = (0..n + 3).map(|i| sd.update(i as f64)).collect();
            assert_eq!(first_ready(&out), Some(n - 1), "period {n}");
            assert!(out[n - 1..].iter().all(Option::is_some));
        }
    }

    #[test]
    fn matches_naive() {
        let xs = prices(500, 9);
        for n in [1, 2, 3, 20, 64, 499, 500, 501] {
            let expected = naive(&xs, n);
            let mut sd = StdDev::new(n).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let got = sd.update(x);
                assert_close(got, expected[t], &format!("stddev({n}) at bar {t}"));
                assert_eq!(sd.value(), got);
            }
        }
    }

    #[test]
    fn stable_on_large_level_with_tiny_moves() {
        // 10000.0001, 10000.0002, ...: any 5 consecutive values are an
        // arithmetic progression with step 1e-4, so sd = 1e-4 * sqrt(2).
        let n = 5;
        let xs: Vec<f64> = (1..=2000).map(|i| 10000.0 + f64::from(i) * 1e-4).collect();
        let expected_sd = 1e-4 * 2f64.sqrt();
        let two_pass = naive(&xs, n);
        let mut sd = StdDev::new(n).unwrap();
        for (t, &x) in xs.iter().enumerate() {
            let Some(v) = sd.update(x) else { continue };
            assert!(v >= 0.0 && v.is_finite(), "bar {t}: {v}");
            // the inputs themselves carry ~1e-12 rounding error, so compare loosely
            assert!((v - expected_sd).abs() < 1e-3 * expected_sd, "bar {t}: {v}");
            assert!((v - two_pass[t].unwrap()).abs() < 1e-6 * expected_sd, "bar {t}: {v}");
        }

        // random tiny moves around 1e4: relative to the sd itself (not to 1),
        // within 1e-9 of the two-pass value. Catches any error that scales with
        // the price level rather than with the moves.
        let mut rng = Lcg::new(18);
        let mut p = 10000.0;
        let xs: Vec<f64> = (0..3000)
            .map(|_| {
                p += (rng.next_f64() - 0.5) * 2e-4;
                p
            })
            .collect();
        for n in [2, 3, 5, 20, 100] {
            let two_pass = naive(&xs, n);
            let mut sd = StdDev::new(n).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let (Some(v), Some(e)) = (sd.update(x), two_pass[t]) else {
                    continue;
                };
                assert!((v - e).abs() <= 1e-9 * e, "stddev({n}) at bar {t}: {v} vs {e}");
            }
        }

        // constant 1e4 + tiny value: exactly zero, never NaN from a negative variance
        let mut sd = StdDev::new(3).unwrap();
        for _ in 0..100 {
            if let Some(v) = sd.update(10000.0001) {
                assert_eq!(v, 0.0);
            }
        }
        // alternating tiny moves around 1e4
        let mut sd = StdDev::new(4).unwrap();
        for i in 0..1000 {
            let x = if i % 2 == 0 { 10000.0001 } else { 10000.0003 };
            if let Some(v) = sd.update(x) {
                assert!((v - 1e-4).abs() < 1e-3 * 1e-4, "bar {i}: {v}");
            }
        }
    }

    #[test]
    fn flat_window_after_moves_is_exactly_zero() {
        for n in [2, 3, 10] {
            let mut sd = StdDev::new(n).unwrap();
            for x in prices(37, 17) {
                sd.update(x);
            }
            for i in 0..3 * n {
                let v = sd.update(101.37);
                if i + 1 >= n {
                    assert_eq!(v, Some(0.0), "period {n}, flat input {i}");
                    assert_eq!(sd.mean(), Some(101.37));
                } else {
                    assert!(v.unwrap() > 0.0);
                }
            }
            // one move of a cent off the flat: sd = 0.01 * sqrt(n - 1) / n
            let v = sd.update(101.38).unwrap();
            let expected = 0.01 * ((n - 1) as f64).sqrt() / n as f64;
            assert!((v - expected).abs() < 1e-9 * expected, "period {n}: {v} vs {expected}");
        }
    }

    #[test]
    fn resync_removes_drift_after_level_change() {
        let mut xs: Vec<f64> = (0..100).map(|i| 1e9 + f64::from(i % 7) * 1234.5).collect();
        xs.extend(prices(1000, 10).iter().map(|p| p / 100.0));
        let n = 6;
        let expected = naive(&xs, n);
        let mut sd = StdDev::new(n).unwrap();
        for (t, &x) in xs.iter().enumerate() {
            let got = sd.update(x);
            if t >= 100 + 2 * n {
                assert_close(got, expected[t], &format!("bar {t}"));
            }
        }
    }

    #[test]
    fn invalid_period() {
        let err = StdDev::new(0).unwrap_err();
        assert_eq!(err, IndicatorError::InvalidPeriod { indicator: "stddev", argument: "period", value: 0 });
    }
}
