//! Return-based statistics: annualisation factor, annual return and volatility, Sharpe, Sortino.

use rust_decimal::Decimal;

use super::moments::Moments;
use super::{finite, to_f64};
#[cfg(test)]
use crate::domain::EquityPoint;

/// Milliseconds in a Julian year of 365.25 days.
const MS_PER_YEAR: f64 = 365.25 * 86_400.0 * 1000.0;

/// What the per-step returns give.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct ReturnStats {
    pub annual_return_pct: Option<f64>,
    pub annual_volatility_pct: Option<f64>,
    pub sharpe: Option<f64>,
    pub sortino: Option<f64>,
}

/// Steps per year from the timeline's own spacing: `(n − 1) / years`, where
/// `years = duration / 365.25 days`. `None` with fewer than 2 steps or a
/// duration ≤ 0.
pub(super) fn periods_per_year(steps: usize, duration_ms: i64) -> Option<f64> {
    if steps < 2 || duration_ms <= 0 {
        return None;
    }
    finite((steps - 1) as f64 / (duration_ms as f64 / MS_PER_YEAR))
}

/// The per-step simple returns `r_i = E_i / E_{i−1} − 1`, accumulated one
/// point at a time (mean, sample spread, downside squares), so that the
/// metrics read the equity curve once.
#[derive(Clone, Copy, Debug)]
pub(super) struct Returns {
    moments: Moments,
    downside_sq: f64,
    prev: f64,
}

impl Returns {
    /// Starts at the first point's equity (in f64).
    pub(super) fn new(first: f64) -> Self {
        Returns { moments: Moments::default(), downside_sq: 0.0, prev: first }
    }

    /// Adds the next point's equity (in f64).
    #[inline]
    pub(super) fn push(&mut self, cur: f64) {
        let r = cur / self.prev - 1.0;
        self.moments.push(r);
        let down = r.min(0.0);
        self.downside_sq += down * down;
        self.prev = cur;
    }

    /// Adds the next points' equities (in f64), in order: the same
    /// arithmetic as [`Returns::push`] on each, with the sums held in locals.
    pub(super) fn extend(&mut self, values: &[f64]) {
        let Some((&head, rest)) = values.split_first() else { return };
        self.push(head);
        let (mut moments, mut prev, mut downside_sq) = (self.moments, self.prev, self.downside_sq);
        for &cur in rest {
            let r = cur / prev - 1.0;
            moments.push_next(r);
            let down = r.min(0.0);
            downside_sq += down * down;
            prev = cur;
        }
        (self.moments, self.prev, self.downside_sq) = (moments, prev, downside_sq);
    }

    /// The annualised figures with `ppy` steps per year; `first` and `last`
    /// are the curve's end points, `steps` its length.
    pub(super) fn finish(self, first: Decimal, last: Decimal, steps: usize, ppy: Option<f64>) -> ReturnStats {
        let Some(ppy) = ppy else {
            return ReturnStats::default();
        };
        let sqrt_ppy = ppy.sqrt();
        let moments = self.moments;
        let mean = moments.mean();
        let stdev = moments.stdev();
        let downside_dev = (moments.count() > 0).then(|| (self.downside_sq / moments.count() as f64).sqrt());

        ReturnStats {
            annual_return_pct: annual_return_pct(first, last, steps, ppy),
            annual_volatility_pct: stdev.and_then(|s| finite(s * sqrt_ppy * 100.0)),
            sharpe: ratio(mean, stdev).and_then(|x| finite(x * sqrt_ppy)),
            sortino: ratio(mean, downside_dev).and_then(|x| finite(x * sqrt_ppy)),
        }
    }
}

/// [`Returns`] over a whole curve.
#[cfg(test)]
pub(super) fn compute(equity: &[EquityPoint], ppy: Option<f64>) -> ReturnStats {
    let (Some(first), Some(last)) = (equity.first(), equity.last()) else {
        return ReturnStats::default();
    };
    let mut returns = Returns::new(to_f64(first.equity).unwrap_or(f64::NAN));
    for point in &equity[1..] {
        returns.push(to_f64(point.equity).unwrap_or(f64::NAN));
    }
    returns.finish(first.equity, last.equity, equity.len(), ppy)
}

/// `((last / first)^(ppy / (steps − 1)) − 1) × 100`; `None` if `first ≤ 0`
/// or `last < 0` (no real growth rate).
fn annual_return_pct(first: Decimal, last: Decimal, steps: usize, ppy: f64) -> Option<f64> {
    if first <= Decimal::ZERO || last < Decimal::ZERO || steps < 2 {
        return None;
    }
    let growth = to_f64(last)? / to_f64(first)?;
    let exponent = ppy / (steps - 1) as f64;
    finite((growth.powf(exponent) - 1.0) * 100.0)
}

/// `num / den`, `None` if either is undefined or `den` is 0.
fn ratio(num: Option<f64>, den: Option<f64>) -> Option<f64> {
    match (num, den) {
        (Some(n), Some(d)) if d != 0.0 => finite(n / d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn points(values: &[Decimal]) -> Vec<EquityPoint> {
        values.iter().map(|&equity| EquityPoint { equity, cash: equity, exposed: false }).collect()
    }

    #[test]
    fn periods_per_year_needs_two_steps_and_elapsed_time() {
        assert_eq!(periods_per_year(1, 1000), None);
        assert_eq!(periods_per_year(5, 0), None);
        assert_eq!(periods_per_year(5, -1000), None);
        // 24/7 hourly: 8767 steps span 8766 hours = 365.25 days → 8766 per year.
        let ppy = periods_per_year(8767, 8766 * 3_600_000).unwrap();
        assert!((ppy - 8766.0).abs() < 1e-9);
    }

    #[test]
    fn extending_equals_pushing_each_point() {
        let values: Vec<f64> = (0..1_000).map(|i| 100.0 + ((i * 37) % 101) as f64 / 7.0 - (i % 13) as f64).collect();
        let mut one_by_one = Returns::new(values[0]);
        for &v in &values[1..] {
            one_by_one.push(v);
        }
        let (first, last) = (dec!(100), dec!(90));
        let expected = one_by_one.finish(first, last, values.len(), Some(252.0));
        let defined = [expected.annual_volatility_pct, expected.sharpe, expected.sortino];
        assert!(defined.iter().all(Option::is_some), "not vacuous: {expected:?}");
        for chunk in [1, 3, 256, 2_000] {
            let mut chunked = Returns::new(values[0]);
            for (c, part) in values.chunks(chunk).enumerate() {
                chunked.extend(if c == 0 { &part[1..] } else { part });
            }
            assert_eq!(chunked.finish(first, last, values.len(), Some(252.0)), expected, "chunks of {chunk}");
        }
    }

    #[test]
    fn single_point_has_no_return_stats() {
        assert_eq!(compute(&points(&[dec!(100)]), None), ReturnStats::default());
    }

    #[test]
    fn zero_equity_makes_ratios_undefined_not_infinite() {
        // r_1 = 0/100 − 1 = −1; r_2 = 50/0 − 1 = +inf → mean, stdev not finite.
        let s = compute(&points(&[dec!(100), dec!(0), dec!(50)]), Some(252.0));
        assert_eq!(s.sharpe, None);
        assert_eq!(s.sortino, None);
        assert_eq!(s.annual_volatility_pct, None);
        // The endpoints alone are fine: (50/100)^(252/2) − 1 ≈ −100 %.
        assert!(s.annual_return_pct.is_some());
    }

    #[test]
    fn negative_final_equity_has_no_annual_return() {
        let s = compute(&points(&[dec!(100), dec!(-5)]), Some(12.0));
        assert_eq!(s.annual_return_pct, None);
        // Wiped out exactly: (0/100)^12 − 1 = −100 %.
        let s = compute(&points(&[dec!(100), dec!(0)]), Some(12.0));
        assert_eq!(s.annual_return_pct, Some(-100.0));
    }
}
