//! Running mean and sample standard deviation in one pass.

/// Accumulates count, mean and spread without storing the values, using
/// the shifted-data method: sums of `x − K` and `(x − K)²` with `K` the first
/// value. Shifting by a value near the mean avoids the cancellation of the
/// naive `Σx² − n·mean²`, and unlike Welford's update there is no division
/// carried from one value to the next, which matters over a million bars.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Moments {
    count: usize,
    shift: f64,
    sum: f64,
    sum_sq: f64,
}

impl Moments {
    /// Adds one value.
    #[inline]
    pub(super) fn push(&mut self, x: f64) {
        if self.count == 0 {
            self.shift = x;
        }
        self.accumulate(x);
    }

    /// Adds one value after the first: [`Moments::push`] without the
    /// first-value test, for tight loops (on a local copy, whose fields then
    /// stay in registers).
    #[inline]
    pub(super) fn push_next(&mut self, x: f64) {
        debug_assert!(self.count > 0, "the first value sets the shift");
        self.accumulate(x);
    }

    #[inline]
    fn accumulate(&mut self, x: f64) {
        self.count += 1;
        let d = x - self.shift;
        self.sum += d;
        self.sum_sq += d * d;
    }

    /// Number of values added.
    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// Arithmetic mean; `None` with no values.
    pub(super) fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.shift + self.sum / self.count as f64)
    }

    /// Sample standard deviation (ddof = 1); `None` with fewer than 2 values.
    pub(super) fn stdev(&self) -> Option<f64> {
        (self.count > 1).then(|| {
            let n = self.count as f64;
            let m2 = self.sum_sq - self.sum * self.sum / n;
            // Rounding can leave a tiny negative; NaN must stay NaN.
            let m2 = if m2 < 0.0 { 0.0 } else { m2 };
            (m2 / (n - 1.0)).sqrt()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_stdev() {
        let mut m = Moments::default();
        assert_eq!((m.mean(), m.stdev()), (None, None));
        m.push(2.0);
        assert_eq!((m.mean(), m.stdev()), (Some(2.0), None));
        for x in [4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            m.push(x);
        }
        // 2,4,4,4,5,5,7,9: mean 40/8 = 5; Σ(x−5)² = 9+1+1+1+0+0+4+16 = 32;
        // sample variance 32/7, stdev √(32/7) = 2.138089935...
        assert_eq!(m.count(), 8);
        assert_eq!(m.mean(), Some(5.0));
        assert!((m.stdev().unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn constant_values_have_exactly_zero_spread() {
        let mut m = Moments::default();
        for _ in 0..1000 {
            m.push(0.1);
        }
        assert_eq!(m.stdev(), Some(0.0));
    }
}
