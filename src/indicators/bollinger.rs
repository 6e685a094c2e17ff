//! Bollinger bands: a moving average with standard-deviation bands.

use super::error::IndicatorError;
use super::stddev::StdDev;

/// One Bollinger reading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BollingerValue {
    /// SMA of the window.
    pub middle: f64,
    /// `middle + k * sd`.
    pub upper: f64,
    /// `middle - k * sd`.
    pub lower: f64,
}

/// Bollinger bands over the last `n` inputs with width `k`:
///
/// `middle = SMA(n)`, `upper = middle + k * sd`, `lower = middle - k * sd`,
/// where `sd` is the population standard deviation (ddof = 0) of the same
/// window (see [`StdDev`], whose stable running mean is the middle band).
///
/// Ready after `n` inputs. `k` must be finite and greater than 0.
#[derive(Clone, Debug)]
pub struct Bollinger {
    stats: StdDev,
    k: f64,
    value: Option<BollingerValue>,
}

impl Bollinger {
    /// Bands over `period` inputs, `k` standard deviations wide. Errors if
    /// `period` is 0 or above [`super::MAX_PERIOD`], or `k` is not finite and > 0.
    pub fn new(period: usize, k: f64) -> Result<Self, IndicatorError> {
        let stats = StdDev::named("bollinger", period)?;
        if !(k.is_finite() && k > 0.0) {
            return Err(IndicatorError::InvalidMultiplier { indicator: "bollinger", argument: "k", value: k });
        }
        Ok(Bollinger { stats, k, value: None })
    }

    /// Feeds one input and returns the current bands (`None` until `period` inputs).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<BollingerValue> {
        if let (Some(sd), Some(middle)) = (self.stats.update(x), self.stats.mean()) {
            let width = self.k * sd;
            self.value = Some(BollingerValue { middle, upper: middle + width, lower: middle - width });
        }
        self.value
    }

    /// The current bands, `None` until `period` inputs have been fed.
    #[inline]
    pub fn value(&self) -> Option<BollingerValue> {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, first_ready, prices};
    use super::*;

    #[test]
    fn hand_computed() {
        let mut bb = Bollinger::new(2, 2.0).unwrap();
        assert_eq!(bb.update(1.0), None);
        // window 1,3: middle 2, sd sqrt((1+1)/2) = 1, bands 2 ± 2*1
        assert_eq!(bb.update(3.0), Some(BollingerValue { middle: 2.0, upper: 4.0, lower: 0.0 }));
        // window 3,7: middle 5, sd sqrt((4+4)/2) = 2, bands 5 ± 2*2
        assert_eq!(bb.update(7.0), Some(BollingerValue { middle: 5.0, upper: 9.0, lower: 1.0 }));
        // window 7,7: sd 0, bands collapse onto the middle
        assert_eq!(bb.update(7.0), Some(BollingerValue { middle: 7.0, upper: 7.0, lower: 7.0 }));

        // 2,4,4,4,5,5,7,9: middle 5, sd 2; k = 1.5 -> 5 ± 3
        let mut bb = Bollinger::new(8, 1.5).unwrap();
        let mut last = None;
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            last = bb.update(x);
        }
        assert_eq!(last, Some(BollingerValue { middle: 5.0, upper: 8.0, lower: 2.0 }));
        assert_eq!(bb.value(), last);
    }

    #[test]
    fn not_ready_for_period_minus_one_inputs() {
        for n in [1, 2, 20] {
            let mut bb = Bollinger::new(n, 2.0).unwrap();
            let out: Vec<_> = (0..n + 3).map(|i| bb.update(i as f64).map(|v| v.middle)).collect();
            assert_eq!(first_ready(&out), Some(n - 1), "period {n}");
            assert!(out[n - 1..].iter().all(Option::is_some));
        }
    }

    #[test]
    fn matches_naive() {
        let xs = prices(500, 11);
        for (n, k) in [(1, 2.0), (2, 1.0), (20, 2.0), (50, 2.5), (500, 0.5), (501, 2.0)] {
            let mut bb = Bollinger::new(n, k).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let got = bb.update(x);
                assert_eq!(bb.value(), got);
                let expected = (t + 1 >= n).then(|| {
                    let w = &xs[t + 1 - n..=t];
                    let mean = w.iter().sum::<f64>() / n as f64;
                    let sd = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
                    (mean, mean + k * sd, mean - k * sd)
                });
                let ctx = format!("bollinger({n},{k}) at bar {t}");
                assert_close(got.map(|v| v.middle), expected.map(|e| e.0), &ctx);
                assert_close(got.map(|v| v.upper), expected.map(|e| e.1), &ctx);
                assert_close(got.map(|v| v.lower), expected.map(|e| e.2), &ctx);
            }
        }
    }

    #[test]
    fn invalid_arguments() {
        assert_eq!(
            Bollinger::new(0, 2.0).unwrap_err(),
            IndicatorError::InvalidPeriod { indicator: "bollinger", argument: "period", value: 0 }
        );
        for k in [0.0, -1.0, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                Bollinger::new(20, k).unwrap_err(),
                IndicatorError::InvalidMultiplier { indicator: "bollinger", argument: "k", value: k }
            );
        }
        let nan = Bollinger::new(20, f64::NAN).unwrap_err();
        assert!(matches!(nan, IndicatorError::InvalidMultiplier { indicator: "bollinger", argument: "k", .. }));
        assert!(nan.to_string().contains("bollinger") && nan.to_string().contains("`k`"));
    }
}
