//! Average true range (ATR) with Wilder's smoothing.

use super::error::{check_period, IndicatorError};

/// Wilder's average true range over `n` bars, from high, low and close.
///
/// - True range: `TR_0 = high - low` for the first bar; afterwards
///   `TR = max(high - low, |high - prev_close|, |low - prev_close|)`.
/// - The first ATR, after `n` bars, is the mean of the first `n` TRs;
///   afterwards `atr = (atr * (n - 1) + tr) / n`.
///
/// Ready after `n` bars.
#[derive(Clone, Debug)]
pub struct Atr {
    period: usize,
    /// `n` as f64.
    n: f64,
    /// `n - 1` as f64.
    n_minus_1: f64,
    prev_close: Option<f64>,
    /// Bars seen while warming up (stops counting once ready).
    seen: usize,
    /// Sum of the warm-up TRs.
    tr_sum: f64,
    value: Option<f64>,
}

impl Atr {
    /// An ATR over `period` bars. Errors if `period` is 0 or above [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("atr", "period", period)?;
        Ok(Atr {
            period,
            n: period as f64,
            n_minus_1: period as f64 - 1.0,
            prev_close: None,
            seen: 0,
            tr_sum: 0.0,
            value: None,
        })
    }

    /// Feeds one bar and returns the current value (`None` until `period` bars).
    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let range = high - low;
        let tr = match self.prev_close.replace(close) {
            None => range,
            Some(pc) => range.max((high - pc).abs()).max((low - pc).abs()),
        };
        match self.value {
            Some(atr) => self.value = Some((atr * self.n_minus_1 + tr) / self.n),
            None => {
                self.tr_sum += tr;
                self.seen += 1;
                if self.seen == self.period {
                    self.value = Some(self.tr_sum / self.n);
                }
            }
        }
        self.value
    }

    /// The current value, `None` until `period` bars have been fed.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_approx, assert_close, bars, first_ready};
    use super::super::BarInput;
    use super::*;

    /// ATR after the whole prefix `bars`, recomputed from the first bar.
    fn naive_last(bars: &[BarInput], n: usize) -> Option<f64> {
        if bars.len() < n {
            return None;
        }
        let trs: Vec<f64> = bars
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if i == 0 {
                    b.high - b.low
                } else {
                    let pc = bars[i - 1].close;
                    [b.high - b.low, (b.high - pc).abs(), (b.low - pc).abs()].into_iter().fold(f64::MIN, f64::max)
                }
            })
            .collect();
        let mut atr = trs[..n].iter().sum::<f64>() / n as f64;
        for &tr in &trs[n..] {
            atr = (atr * (n as f64 - 1.0) + tr) / n as f64;
        }
        Some(atr)
    }

    #[test]
    fn hand_computed() {
        let mut atr = Atr::new(3).unwrap();
        assert_eq!(atr.update(10.0, 8.0, 9.0), None); // TR = 10-8 = 2
                                                      // TR = max(13-12, |13-9|, |12-9|) = 4
        assert_eq!(atr.update(13.0, 12.0, 12.0), None);
        // TR = max(3, |12-12|, |9-12|) = 3; first ATR = (2+4+3)/3
        assert_eq!(atr.update(12.0, 9.0, 10.0), Some(3.0));
        // TR = max(1, |11-10|, |10-10|) = 1; (3*2 + 1)/3 = 7/3
        assert_approx(atr.update(11.0, 10.0, 10.0), 7.0 / 3.0);
        // TR = max(1, |6-10|, |5-10|) = 5; (7/3*2 + 5)/3 = 29/9
        assert_approx(atr.update(6.0, 5.0, 5.0), 29.0 / 9.0);
        assert_approx(atr.value(), 29.0 / 9.0);
    }

    #[test]
    fn period_one_is_true_range() {
        let mut atr = Atr::new(1).unwrap();
        assert_eq!(atr.update(5.0, 4.0, 4.5), Some(1.0)); // first bar: 5-4
        assert_eq!(atr.update(7.0, 6.5, 7.0), Some(2.5)); // max(0.5, |7-4.5|, |6.5-4.5|)
    }

    #[test]
    fn not_ready_for_period_minus_one_bars() {
        for n in [1, 2, 14] {
            let mut atr = Atr::new(n).unwrap();
            let out: Vec<_> = bars(n + 3, 14).iter().map(|b| atr.update(b.high, b.low, b.close)).collect();
            assert_eq!(first_ready(&out), Some(n - 1), "period {n}");
            assert!(out[n - 1..].iter().all(Option::is_some));
        }
    }

    #[test]
    fn matches_naive() {
        let bars = bars(500, 15);
        for n in [1, 2, 3, 14, 50, 500, 501] {
            let mut atr = Atr::new(n).unwrap();
            for (t, b) in bars.iter().enumerate() {
                let got = atr.update(b.high, b.low, b.close);
                assert_close(got, naive_last(&bars[..=t], n), &format!("atr({n}) at bar {t}"));
                assert_eq!(atr.value(), got);
            }
        }
    }

    #[test]
    fn invalid_period() {
        assert_eq!(
            Atr::new(0).unwrap_err(),
            IndicatorError::InvalidPeriod { indicator: "atr", argument: "period", value: 0 }
        );
    }
}
