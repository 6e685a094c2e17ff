//! Rolling highest / lowest value of a window (monotonic deque).

use std::collections::VecDeque;

use super::error::{check_period, IndicatorError};

/// Rolling extreme over the last `period` inputs: the maximum if `MAX`, else
/// the minimum.
///
/// Keeps a monotonic deque of `(index, value)`: values strictly better than
/// every later one, in input order, so the front is the extreme of the window.
/// Each input is pushed once and popped at most once: amortised O(1). Entries
/// that left the window are dropped from the front before the new input is
/// pushed, so the deque never holds more than `period` entries and its
/// preallocated capacity is never exceeded (no allocation per update).
#[derive(Clone, Debug)]
struct RollingExtreme<const MAX: bool> {
    period: u64,
    /// Index the next input will get.
    next_index: u64,
    deque: VecDeque<(u64, f64)>,
}

impl<const MAX: bool> RollingExtreme<MAX> {
    fn new(indicator: &'static str, period: usize) -> Result<Self, IndicatorError> {
        let period = check_period(indicator, "period", period)?;
        Ok(RollingExtreme { period: period as u64, next_index: 0, deque: VecDeque::with_capacity(period) })
    }

    /// Whether an older entry `kept` is dominated by a newer input `x`
    /// (ties: the newer one wins, it stays in the window longer).
    #[inline]
    fn dominated(kept: f64, x: f64) -> bool {
        if MAX {
            kept <= x
        } else {
            kept >= x
        }
    }

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let i = self.next_index;
        self.next_index += 1;
        // Oldest index still in the window once `i` is in: i + 1 - period.
        while let Some(&(j, _)) = self.deque.front() {
            if j + self.period > i {
                break;
            }
            self.deque.pop_front();
        }
        while let Some(&(_, kept)) = self.deque.back() {
            if !Self::dominated(kept, x) {
                break;
            }
            self.deque.pop_back();
        }
        self.deque.push_back((i, x));
        self.value()
    }

    #[inline]
    fn value(&self) -> Option<f64> {
        if self.next_index >= self.period {
            self.deque.front().map(|&(_, v)| v)
        } else {
            None
        }
    }
}

/// Highest value of the last `n` inputs: `max(x_{t-n+1}, ..., x_t)`.
/// Ready after `n` inputs. Amortised O(1) per update (monotonic deque).
#[derive(Clone, Debug)]
pub struct Highest(RollingExtreme<true>);

impl Highest {
    /// A rolling maximum over `period` inputs. Errors if `period` is 0 or
    /// above [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        RollingExtreme::new("highest", period).map(Highest)
    }

    /// Feeds one input and returns the current value (`None` until `period` inputs).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.0.update(x)
    }

    /// The current value, `None` until `period` inputs have been fed.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.0.value()
    }
}

/// Lowest value of the last `n` inputs: `min(x_{t-n+1}, ..., x_t)`.
/// Ready after `n` inputs. Amortised O(1) per update (monotonic deque).
#[derive(Clone, Debug)]
pub struct Lowest(RollingExtreme<false>);

impl Lowest {
    /// A rolling minimum over `period` inputs. Errors if `period` is 0 or
    /// above [`super::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        RollingExtreme::new("lowest", period).map(Lowest)
    }

    /// Feeds one input and returns the current value (`None` until `period` inputs).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.0.update(x)
    }

    /// The current value, `None` until `period` inputs have been fed.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.0.value()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, first_ready, prices};
    use super::*;

    #[test]
    fn hand_computed() {
        let xs = [1.0, 3.0, 2.0, 5.0, 4.0, 1.0, 0.0, 0.0];
        let mut hi = Highest::new(3).unwrap();
        let mut lo = Lowest::new(3).unwrap();
        let highs: Vec<_> = xs.iter().map(|&x| hi.update(x)).collect();
        let lows: Vec<_> = xs.iter().map(|&x| lo.update(x)).collect();
        assert_eq!(
            highs,
            [
                None,
                None,
                Some(3.0), // max(1,3,2)
                Some(5.0), // max(3,2,5)
                Some(5.0), // max(2,5,4)
                Some(5.0), // max(5,4,1)
                Some(4.0), // max(4,1,0)
                Some(1.0), // max(1,0,0)
            ]
        );
        assert_eq!(
            lows,
            [
                None,
                None,
                Some(1.0), // min(1,3,2)
                Some(2.0), // min(3,2,5)
                Some(2.0), // min(2,5,4)
                Some(1.0), // min(5,4,1)
                Some(0.0), // min(4,1,0)
                Some(0.0), // min(1,0,0)
            ]
        );
        assert_eq!(hi.value(), Some(1.0));
        assert_eq!(lo.value(), Some(0.0));
    }

    #[test]
    fn period_one_is_identity() {
        let mut hi = Highest::new(1).unwrap();
        let mut lo = Lowest::new(1).unwrap();
        for x in [3.0, 1.0, 2.0] {
            assert_eq!(hi.update(x), Some(x));
            assert_eq!(lo.update(x), Some(x));
        }
    }

    #[test]
    fn not_ready_for_period_minus_one_inputs() {
        for n in [1, 2, 10] {
            let mut hi = Highest::new(n).unwrap();
            let mut lo = Lowest::new(n).unwrap();
            let highs: Vec<_> = (0..n + 3).map(|i| hi.update(i as f64)).collect();
            let lows: Vec<_> = (0..n + 3).map(|i| lo.update(i as f64)).collect();
            assert_eq!(first_ready(&highs), Some(n - 1), "period {n}");
            assert_eq!(first_ready(&lows), Some(n - 1), "period {n}");
        }
    }

    #[test]
    fn matches_naive_and_never_reallocates() {
        let xs = prices(500, 12);
        // also monotone runs, which stress the deque's worst cases
        let up: Vec<f64> = (0..200).map(f64::from).collect();
        let down: Vec<f64> = up.iter().rev().copied().collect();
        for series in [&xs, &up, &down] {
            for n in [1, 2, 3, 14, 50, 200, 500, 501] {
                let mut hi = Highest::new(n).unwrap();
                let mut lo = Lowest::new(n).unwrap();
                let (hi_cap, lo_cap) = (hi.0.deque.capacity(), lo.0.deque.capacity());
                for t in 0..series.len() {
                    let (h, l) = (hi.update(series[t]), lo.update(series[t]));
                    let window = (t + 1 >= n).then(|| &series[t + 1 - n..=t]);
                    let max = window.map(|w| w.iter().copied().fold(f64::MIN, f64::max));
                    let min = window.map(|w| w.iter().copied().fold(f64::MAX, f64::min));
                    assert_close(h, max, &format!("highest({n}) at bar {t}"));
                    assert_close(l, min, &format!("lowest({n}) at bar {t}"));
                    assert_eq!((hi.value(), lo.value()), (h, l));
                    assert!(hi.0.deque.len() <= n && lo.0.deque.len() <= n);
                }
                assert_eq!(hi.0.deque.capacity(), hi_cap);
                assert_eq!(lo.0.deque.capacity(), lo_cap);
            }
        }
    }

    #[test]
    fn invalid_period() {
        for (err, name) in [(Highest::new(0).unwrap_err(), "highest"), (Lowest::new(0).unwrap_err(), "lowest")] {
            assert_eq!(err, IndicatorError::InvalidPeriod { indicator: name, argument: "period", value: 0 });
        }
    }
}
