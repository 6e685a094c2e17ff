//! Running mean and sample standard deviation in one pass (Welford's method).

/// Accumulates count, mean and the sum of squared deviations without storing
/// the values. Welford's update avoids the cancellation of the naive
/// `Σx² − n·mean²` formula.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Moments {
    count: usize,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Adds one value.
    pub(super) fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Number of values added.
    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// Arithmetic mean; `None` with no values.
    pub(super) fn mean(&self) -> Option<f64> {
        (self.count > 0).then_some(self.mean)
    }

    /// Sample standard deviation (ddof = 1); `None` with fewer than 2 values.
    pub(super) fn stdev(&self) -> Option<f64> {
        (self.count > 1).then(|| (self.m2 / (self.count - 1) as f64).sqrt())
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
