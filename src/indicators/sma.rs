//! Simple moving average (SMA).

use super::error::{check_period, IndicatorError};
use super::ring::Ring;

/// Simple moving average of the last `n` inputs:
///
/// `SMA(n)_t = (x_{t-n+1} + ... + x_t) / n`
///
/// Ready after `n` inputs. Kept as a running sum updated by `+ (new - evicted)`;
/// the sum is recomputed from the window every `n` updates (amortised O(1)) so
/// rounding error cannot accumulate without bound, e.g. after the price level
/// falls by orders of magnitude.
#[derive(Clone, Debug)]
pub struct Sma {
    window: Ring,
    sum: f64,
    period: f64,
    value: Option<f64>,
}

impl Sma {
    /// An SMA over `period` inputs. Errors if `period` is 0 or above [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = check_period("sma", "period", period)?;
        Ok(Sma { window: Ring::new(period), sum: 0.0, period: period as f64, value: None })
    }

    /// Feeds one input and returns the current value (`None` until `period` inputs).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        match self.window.push(x) {
            None => self.sum += x,
            Some(_) if self.window.wrapped() => self.sum = self.window.iter().sum(),
            Some(old) => self.sum += x - old,
        }
        if self.window.is_full() {
            self.value = Some(self.sum / self.period);
        }
        self.value
    }

    /// Feeds each of `xs` in turn and appends the value after each to `out`
    /// (NaN until ready): what [`Sma::update`] gives input by input, bit for
    /// bit, without its per-input checks once the window is full (the
    /// engine runs it over blocks of bars ahead of a run's steps).
    pub fn extend(&mut self, xs: &[f64], out: &mut Vec<f64>) {
        let filling = xs.len().min(self.window.capacity() - self.window.len());
        for &x in &xs[..filling] {
            out.push(self.update(x).unwrap_or(f64::NAN));
        }
        let mut rest = &xs[filling..];
        out.reserve(rest.len());
        let period = self.period;
        while !rest.is_empty() {
            // A run of pushes up to the end of the ring's storage: each adds
            // the new input and drops the evicted one, except a push that
            // wraps, after which the sum is taken afresh (as `update` does).
            let to_end = self.window.slots_to_end();
            let run = rest.len().min(to_end);
            let wraps = run == to_end;
            let slots = self.window.next_slots(run);
            let (now, later) = rest.split_at(run);
            let plain = if wraps { run - 1 } else { run };
            let mut sum = self.sum;
            out.extend(slots.iter_mut().zip(now).take(plain).map(|(slot, &x)| {
                let old = std::mem::replace(slot, x);
                sum += x - old;
                sum / period
            }));
            if wraps {
                slots[plain] = now[plain];
            }
            self.window.advance(run);
            if wraps {
                sum = self.window.iter().sum();
                out.push(sum / period);
            }
            self.sum = sum;
            rest = later;
        }
        if filling < xs.len() {
            self.value = Some(self.sum / period);
        }
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

    fn naive(xs: &[f64], n: usize) -> Vec<Option<f64>> {
        (0..xs.len()).map(|t| (t + 1 >= n).then(|| xs[t + 1 - n..=t].iter().sum::<f64>() / n as f64)).collect()
    }

    #[test]
    fn hand_computed() {
        let mut sma = Sma::new(3).unwrap();
        assert_eq!(sma.update(1.0), None);
        assert_eq!(sma.update(2.0), None);
        assert_eq!(sma.value(), None);
        assert_eq!(sma.update(3.0), Some(2.0)); // (1+2+3)/3
        assert_eq!(sma.update(4.0), Some(3.0)); // (2+3+4)/3
        assert_eq!(sma.update(8.0), Some(5.0)); // (3+4+8)/3
        assert_eq!(sma.update(-6.0), Some(2.0)); // (4+8-6)/3
        assert_eq!(sma.value(), Some(2.0));
    }

    #[test]
    fn extend_gives_what_updating_one_input_at_a_time_gives() {
        let xs = prices(200, 5);
        for period in [1, 3, 7] {
            for split in [0, 2, 9, 200] {
                let mut stepped = Sma::new(period).unwrap();
                let expected: Vec<u64> = xs.iter().map(|&x| stepped.update(x).unwrap_or(f64::NAN).to_bits()).collect();
                let mut extended = Sma::new(period).unwrap();
                let mut out = Vec::new();
                // Part of the series one at a time, the rest at once: extend picks up any state.
                for &x in &xs[..split] {
                    out.push(extended.update(x).unwrap_or(f64::NAN));
                }
                extended.extend(&xs[split..], &mut out);
                let got: Vec<u64> = out.iter().map(|x| x.to_bits()).collect();
                assert_eq!(got, expected, "period {period}, split {split}");
                assert_eq!(extended.value(), stepped.value());
                assert_eq!(extended.update(1.5), stepped.update(1.5), "the state carries on alike");
            }
        }
    }

    #[test]
    fn extend_in_pieces_of_any_length_gives_what_updating_gives() {
        // Pieces shorter and longer than the window, ending before, at and
        // after the point where the ring wraps.
        let xs = prices(300, 11);
        for period in [1, 2, 5, 16] {
            let mut stepped = Sma::new(period).unwrap();
            let expected: Vec<u64> = xs.iter().map(|&x| stepped.update(x).unwrap_or(f64::NAN).to_bits()).collect();
            let mut extended = Sma::new(period).unwrap();
            let mut out = Vec::new();
            let mut rest = &xs[..];
            for len in [1, 5, 13, 2, 16, 17, 40].iter().cycle() {
                let (piece, later) = rest.split_at((*len).min(rest.len()));
                extended.extend(piece, &mut out);
                rest = later;
                if rest.is_empty() {
                    break;
                }
            }
            let got: Vec<u64> = out.iter().map(|x| x.to_bits()).collect();
            assert_eq!(got, expected, "period {period}");
            assert_eq!(extended.value(), stepped.value());
        }
    }

    #[test]
    fn period_one_is_identity() {
        let mut sma = Sma::new(1).unwrap();
        assert_eq!(sma.update(5.0), Some(5.0));
        assert_eq!(sma.update(-2.5), Some(-2.5));
    }

    #[test]
    fn not_ready_for_period_minus_one_inputs() {
        for n in [1, 2, 5, 20] {
            let mut sma = Sma::new(n).unwrap();
            let out: Vec<_> = (0..n + 3).map(|i| sma.update(i as f64)).collect();
            assert_eq!(first_ready(&out), Some(n - 1), "period {n}");
            assert!(out[n - 1..].iter().all(Option::is_some));
        }
    }

    #[test]
    fn matches_naive() {
        let xs = prices(500, 1);
        for n in [1, 2, 3, 10, 50, 499, 500, 501] {
            let expected = naive(&xs, n);
            let mut sma = Sma::new(n).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let got = sma.update(x);
                assert_close(got, expected[t], &format!("sma({n}) at bar {t}"));
                assert_eq!(sma.value(), got);
            }
        }
    }

    #[test]
    fn resync_removes_drift_after_level_change() {
        // Without the periodic recompute, the running sum keeps rounding error
        // of the order of 1e12 * 2^-52 ~ 1e-4 after the big values leave.
        let mut xs: Vec<f64> = (0..100).map(|i| 1e12 + f64::from(i) * 0.37).collect();
        xs.extend(prices(1000, 2).iter().map(|p| p / 100.0));
        let n = 7;
        let expected = naive(&xs, n);
        let mut sma = Sma::new(n).unwrap();
        for (t, &x) in xs.iter().enumerate() {
            let got = sma.update(x);
            if t >= 100 + 2 * n {
                assert_close(got, expected[t], &format!("bar {t}"));
            }
        }
    }

    #[test]
    fn invalid_period() {
        let err = Sma::new(0).unwrap_err();
        assert_eq!(err, IndicatorError::InvalidPeriod { indicator: "sma", argument: "period", value: 0 });
        assert!(err.to_string().contains("sma") && err.to_string().contains("period"));
        assert!(Sma::new(usize::MAX).is_err());
    }
}
