//! Moving average convergence/divergence (MACD): line, signal and histogram.

use super::ema::Ema;
use super::error::{check_period, IndicatorError};

/// One MACD reading. `signal` and `hist` become available `signal - 1` inputs
/// after `line`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MacdValue {
    /// `EMA_fast(x) - EMA_slow(x)`.
    pub line: f64,
    /// EMA of the line values, `None` until `signal` line values exist.
    pub signal: Option<f64>,
    /// `line - signal`, `None` while `signal` is.
    pub hist: Option<f64>,
}

/// MACD(fast, slow, signal), with [`Ema`]s as documented there (SMA-seeded):
///
/// - `line = EMA_fast(x) - EMA_slow(x)`; both EMAs are fed from the first
///   input, so the line is ready after `slow` inputs;
/// - `signal = EMA_signal(line)`, fed from the first ready line value, so it
///   is ready after `slow + signal - 1` inputs;
/// - `hist = line - signal`.
///
/// Requires `fast < slow`.
#[derive(Clone, Debug)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    value: Option<MacdValue>,
}

impl Macd {
    /// A MACD with the given periods. Errors if any period is 0 or above
    /// [`super::MAX_PERIOD`], or if `fast >= slow`.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, IndicatorError> {
        let fast = check_period("macd", "fast", fast)?;
        let slow = check_period("macd", "slow", slow)?;
        let signal = check_period("macd", "signal", signal)?;
        if fast >= slow {
            return Err(IndicatorError::FastNotBelowSlow { fast, slow });
        }
        Ok(Macd { fast: Ema::new(fast)?, slow: Ema::new(slow)?, signal: Ema::new(signal)?, value: None })
    }

    /// Feeds one input and returns the current reading (`None` until `slow` inputs).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<MacdValue> {
        let fast = self.fast.update(x);
        let slow = self.slow.update(x);
        // fast < slow, so the fast EMA is ready whenever the slow one is.
        if let (Some(fast), Some(slow)) = (fast, slow) {
            let line = fast - slow;
            let signal = self.signal.update(line);
            self.value = Some(MacdValue { line, signal, hist: signal.map(|s| line - s) });
        }
        self.value
    }

    /// The current reading, `None` until `slow` inputs have been fed.
    #[inline]
    pub fn value(&self) -> Option<MacdValue> {
        self.value
    }

    /// The current MACD line, `None` until `slow` inputs.
    #[inline]
    pub fn line(&self) -> Option<f64> {
        self.value.map(|v| v.line)
    }

    /// The current signal line, `None` until `slow + signal - 1` inputs.
    #[inline]
    pub fn signal(&self) -> Option<f64> {
        self.value.and_then(|v| v.signal)
    }

    /// The current histogram, `None` until `slow + signal - 1` inputs.
    #[inline]
    pub fn hist(&self) -> Option<f64> {
        self.value.and_then(|v| v.hist)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_approx, assert_close, first_ready, prices};
    use super::*;

    /// SMA-seeded EMA of every prefix of `xs`.
    fn naive_ema(xs: &[f64], n: usize) -> Vec<Option<f64>> {
        let alpha = 2.0 / (n as f64 + 1.0);
        (0..xs.len())
            .map(|t| {
                (t + 1 >= n).then(|| {
                    let mut ema = xs[..n].iter().sum::<f64>() / n as f64;
                    for &x in &xs[n..=t] {
                        ema = alpha * x + (1.0 - alpha) * ema;
                    }
                    ema
                })
            })
            .collect()
    }

    /// (line, signal, hist) at every input, from full recomputations.
    #[allow(clippy::type_complexity)]
    fn naive(xs: &[f64], fast: usize, slow: usize, signal: usize) -> Vec<(Option<f64>, Option<f64>, Option<f64>)> {
        let f = naive_ema(xs, fast);
        let s = naive_ema(xs, slow);
        let line: Vec<Option<f64>> = f.iter().zip(&s).map(|(f, s)| Some((*f)? - (*s)?)).collect();
        let ready_lines: Vec<f64> = line.iter().flatten().copied().collect();
        let sig = naive_ema(&ready_lines, signal);
        let first = slow - 1;
        (0..xs.len())
            .map(|t| {
                let l = line[t];
                let g = if t >= first { sig[t - first] } else { None };
                (l, g, l.zip(g).map(|(l, g)| l - g))
            })
            .collect()
    }

    #[test]
    fn hand_computed() {
        // fast 2 (alpha 2/3), slow 3 (alpha 1/2), signal 2 (alpha 2/3)
        let mut macd = Macd::new(2, 3, 2).unwrap();
        assert_eq!(macd.update(1.0), None);
        // fast seeds at (1+2)/2 = 1.5; slow not ready yet
        assert_eq!(macd.update(2.0), None);
        // fast 2/3*3 + 1/3*1.5 = 2.5; slow seeds at (1+2+3)/3 = 2; line 0.5
        let v = macd.update(3.0).unwrap();
        assert_approx(Some(v.line), 0.5);
        assert_eq!((v.signal, v.hist), (None, None));
        // fast 2/3*4 + 1/3*2.5 = 3.5; slow 0.5*4 + 0.5*2 = 3; line 0.5;
        // signal seeds at (0.5+0.5)/2 = 0.5; hist 0
        let v = macd.update(4.0).unwrap();
        assert_approx(Some(v.line), 0.5);
        assert_approx(v.signal, 0.5);
        assert!(v.hist.unwrap().abs() < 1e-12);
        // fast 2/3*10 + 1/3*3.5 = 23.5/3; slow 0.5*10 + 0.5*3 = 6.5; line 23.5/3 - 6.5 = 4/3;
        // signal 2/3*4/3 + 1/3*0.5 = 19/18; hist 4/3 - 19/18 = 5/18
        macd.update(10.0);
        assert_approx(macd.line(), 4.0 / 3.0);
        assert_approx(macd.signal(), 19.0 / 18.0);
        assert_approx(macd.hist(), 5.0 / 18.0);
    }

    #[test]
    fn readiness() {
        for (fast, slow, signal) in [(1, 2, 1), (12, 26, 9), (3, 10, 5)] {
            let mut macd = Macd::new(fast, slow, signal).unwrap();
            let xs = prices(60, 7);
            let mut lines = Vec::new();
            let mut signals = Vec::new();
            for &x in &xs {
                macd.update(x);
                lines.push(macd.line());
                signals.push(macd.signal());
                assert_eq!(macd.signal().is_some(), macd.hist().is_some());
            }
            assert_eq!(first_ready(&lines), Some(slow - 1));
            assert_eq!(first_ready(&signals), Some(slow + signal - 2));
        }
    }

    #[test]
    fn matches_naive() {
        let xs = prices(500, 8);
        for (fast, slow, signal) in [(12, 26, 9), (1, 2, 1), (2, 3, 2), (5, 35, 5), (50, 200, 30)] {
            let expected = naive(&xs, fast, slow, signal);
            let mut macd = Macd::new(fast, slow, signal).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let got = macd.update(x);
                let ctx = format!("macd({fast},{slow},{signal}) at bar {t}");
                assert_eq!(got, macd.value());
                assert_close(macd.line(), expected[t].0, &format!("{ctx} line"));
                assert_close(macd.signal(), expected[t].1, &format!("{ctx} signal"));
                assert_close(macd.hist(), expected[t].2, &format!("{ctx} hist"));
            }
        }
    }

    #[test]
    fn invalid_arguments() {
        let zero = |argument| IndicatorError::InvalidPeriod { indicator: "macd", argument, value: 0 };
        assert_eq!(Macd::new(0, 26, 9).unwrap_err(), zero("fast"));
        assert_eq!(Macd::new(12, 0, 9).unwrap_err(), zero("slow"));
        assert_eq!(Macd::new(12, 26, 0).unwrap_err(), zero("signal"));
        assert_eq!(Macd::new(26, 12, 9).unwrap_err(), IndicatorError::FastNotBelowSlow { fast: 26, slow: 12 });
        assert_eq!(Macd::new(12, 12, 9).unwrap_err(), IndicatorError::FastNotBelowSlow { fast: 12, slow: 12 });
    }
}
