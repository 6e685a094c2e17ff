//! A strategy's equity curve against a benchmark's: beta, Jensen's alpha, correlation, tracking error,
//! information ratio.

use rust_decimal::Decimal;
use serde::Serialize;

use super::moments::Moments;
use super::periods::change_pct;
use super::{finite, to_f64};

/// A standard deviation of per-step returns at or below this is rounding noise, not spread.
///
/// Each return `E_i / E_{i−1} − 1` is computed in `f64` from exact amounts,
/// which leaves an error of a few ulps of 1 (≈ 1e-16). A benchmark growing by
/// exactly 10 % a step has no variance, but its computed returns may differ
/// in the last bit, and dividing by that spread would give a meaningless beta.
const NOISE_STDEV: f64 = 64.0 * f64::EPSILON;

/// The strategy's curve measured against a benchmark's.
///
/// Notation in the formulas: `E_i` and `B_i` are the strategy's and the
/// benchmark's equity at step `i` (i = 0..n−1), `C` the initial capital both
/// start from, `r_i = E_i / E_{i−1} − 1` and `b_i = B_i / B_{i−1} − 1`
/// (i ≥ 1) the per-step simple returns (in `f64`), `d_i = r_i − b_i` the
/// excess returns, and `ppy` the steps per year. `mean` is the arithmetic
/// mean, `var`, `stdev` and `cov` are sample statistics (ddof = 1). A result
/// that is not finite is `None`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchmarkStats {
    /// The benchmark's total return, `(B_{n−1} / C − 1) × 100`, computed
    /// exactly and then converted; 0 when `C` is 0 (undefined), as for
    /// `Metrics::return_pct`.
    pub return_pct: f64,
    /// `B_{n−1}`, the benchmark's last value (`C` for an empty curve).
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub final_equity: Decimal,
    /// True when the benchmark returns have no spread: fewer than 2 returns,
    /// or `stdev(b)` at the level of `f64` rounding (≤ 64 ε), which includes a
    /// benchmark that never moves or grows by the same rate every step. Then
    /// `beta`, `alpha_annual_pct`, `correlation` and `information_ratio` are
    /// `None`. False when `stdev(b)` is undefined because a benchmark value
    /// is 0 (the ratios are `None` all the same).
    pub flat: bool,
    /// `cov(r, b) / var(b)`. `None` if `flat`.
    pub beta: Option<f64>,
    /// Jensen's alpha with a risk-free rate of 0, annualised arithmetically:
    /// `(mean(r) − beta × mean(b)) × ppy × 100`. `None` if `beta` is `None`
    /// or there is no `ppy`.
    pub alpha_annual_pct: Option<f64>,
    /// Pearson's `cov(r, b) / (stdev(r) × stdev(b))`, clamped to [−1, 1]
    /// against rounding. `None` if `flat` or `stdev(r)` is at the rounding
    /// level (a strategy that never moves).
    pub correlation: Option<f64>,
    /// `stdev(d) × √ppy × 100`. `None` with fewer than 2 returns or no `ppy`.
    pub tracking_error_pct: Option<f64>,
    /// `mean(d) × ppy / (stdev(d) × √ppy)`, i.e. `mean(d) / stdev(d) × √ppy`.
    /// `None` if `flat`, `stdev(d)` is at the rounding level (the strategy
    /// tracks the benchmark exactly), or there is no `ppy`.
    pub information_ratio: Option<f64>,
}

/// Compares a strategy's equity curve with a benchmark's, both one point per
/// step and starting from the same capital `initial`, with
/// `periods_per_year` steps per year (`None`, or a value that is not a
/// positive number, leaves the annualised figures `None`). One pass, O(n)
/// time, no allocation.
///
/// # Panics
/// If the two curves differ in length: one point per engine step is the
/// caller's invariant.
pub fn compare(
    strategy: impl ExactSizeIterator<Item = Decimal>,
    benchmark: &[Decimal],
    initial: Decimal,
    periods_per_year: Option<f64>,
) -> BenchmarkStats {
    assert_eq!(strategy.len(), benchmark.len(), "strategy and benchmark need one point per step each");

    let final_equity = benchmark.last().copied().unwrap_or(initial);
    let ppy = periods_per_year.filter(|p| p.is_finite() && *p > 0.0);

    let mut pair = CoMoments::default();
    let mut excess = Moments::default();
    let mut prev: Option<(f64, f64)> = None;
    for (e, &b) in strategy.zip(benchmark) {
        let cur = (to_f64(e).unwrap_or(f64::NAN), to_f64(b).unwrap_or(f64::NAN));
        if let Some((prev_e, prev_b)) = prev {
            let r = cur.0 / prev_e - 1.0;
            let rb = cur.1 / prev_b - 1.0;
            pair.push(r, rb);
            excess.push(r - rb);
        }
        prev = Some(cur);
    }

    let stdev_b = pair.var_y().map(f64::sqrt);
    let flat = stdev_b.is_none_or(|s| s <= NOISE_STDEV);
    let cov = pair.cov();

    let beta = match (flat, cov, pair.var_y()) {
        (false, Some(c), Some(v)) => finite(c / v),
        _ => None,
    };
    let alpha_annual_pct = match (beta, pair.mean_x(), pair.mean_y(), ppy) {
        (Some(beta), Some(mr), Some(mb), Some(ppy)) => finite((mr - beta * mb) * ppy * 100.0),
        _ => None,
    };
    let stdev_r = pair.var_x().map(f64::sqrt);
    let correlation = match (flat, cov, stdev_r, stdev_b) {
        (false, Some(c), Some(sr), Some(sb)) if sr > NOISE_STDEV => finite(c / (sr * sb)).map(|x| x.clamp(-1.0, 1.0)),
        _ => None,
    };
    let stdev_d = excess.stdev();
    let tracking_error_pct = match (stdev_d, ppy) {
        (Some(s), Some(ppy)) => finite(s * ppy.sqrt() * 100.0),
        _ => None,
    };
    let information_ratio = match (flat, excess.mean(), stdev_d, ppy) {
        (false, Some(m), Some(s), Some(ppy)) if s > NOISE_STDEV => finite(m / s * ppy.sqrt()),
        _ => None,
    };

    BenchmarkStats {
        return_pct: change_pct(initial, final_equity).unwrap_or(0.0),
        final_equity,
        flat,
        beta,
        alpha_annual_pct,
        correlation,
        tracking_error_pct,
        information_ratio,
    }
}

/// Means, sample variances and covariance of pairs `(x, y)` in one pass,
/// with the same shifted-data method as [`Moments`] (each coordinate shifted
/// by its first value; covariance does not change under a shift).
#[derive(Clone, Copy, Debug, Default)]
struct CoMoments {
    count: usize,
    shift_x: f64,
    shift_y: f64,
    sum_x: f64,
    sum_y: f64,
    sum_xx: f64,
    sum_yy: f64,
    sum_xy: f64,
}

impl CoMoments {
    fn push(&mut self, x: f64, y: f64) {
        if self.count == 0 {
            self.shift_x = x;
            self.shift_y = y;
        }
        self.count += 1;
        let dx = x - self.shift_x;
        let dy = y - self.shift_y;
        self.sum_x += dx;
        self.sum_y += dy;
        self.sum_xx += dx * dx;
        self.sum_yy += dy * dy;
        self.sum_xy += dx * dy;
    }

    fn mean_x(&self) -> Option<f64> {
        (self.count > 0).then(|| self.shift_x + self.sum_x / self.count as f64)
    }

    fn mean_y(&self) -> Option<f64> {
        (self.count > 0).then(|| self.shift_y + self.sum_y / self.count as f64)
    }

    /// Sample variance of `x`; `None` with fewer than 2 pairs.
    fn var_x(&self) -> Option<f64> {
        self.co_moment(self.sum_xx, self.sum_x, self.sum_x).map(non_negative)
    }

    /// Sample variance of `y`; `None` with fewer than 2 pairs.
    fn var_y(&self) -> Option<f64> {
        self.co_moment(self.sum_yy, self.sum_y, self.sum_y).map(non_negative)
    }

    /// Sample covariance; `None` with fewer than 2 pairs.
    fn cov(&self) -> Option<f64> {
        self.co_moment(self.sum_xy, self.sum_x, self.sum_y)
    }

    /// `(Σ dx·dy − Σdx · Σdy / n) / (n − 1)`.
    fn co_moment(&self, sum_products: f64, sum_a: f64, sum_b: f64) -> Option<f64> {
        (self.count > 1).then(|| {
            let n = self.count as f64;
            (sum_products - sum_a * sum_b / n) / (n - 1.0)
        })
    }
}

/// Rounding can leave a variance a hair below 0; NaN must stay NaN.
fn non_negative(v: f64) -> f64 {
    if v < 0.0 {
        0.0
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_variance_rounded_below_zero_is_zero_and_nan_stays_nan() {
        assert_eq!(non_negative(-1e-18), 0.0);
        assert_eq!(non_negative(2.5), 2.5);
        assert!(non_negative(f64::NAN).is_nan());
    }

    /// Asserts `a ≈ b` within 1e-9 relative (or absolute near zero).
    #[track_caller]
    fn approx(a: Option<f64>, b: f64) {
        let a = a.expect("value is None");
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} != {b}");
    }

    #[test]
    fn twice_the_benchmark_has_beta_2_correlation_1_and_no_alpha() {
        // b = 0.1, −0.05, 0.2, 0 (100 → 110 → 104.5 → 125.4 → 125.4)
        // r = 0.2, −0.1,  0.4, 0 (100 → 120 → 108   → 151.2 → 151.2), r = 2b
        let bench = [dec!(100), dec!(110), dec!(104.5), dec!(125.4), dec!(125.4)];
        let strat = [dec!(100), dec!(120), dec!(108), dec!(151.2), dec!(151.2)];
        let s = compare(strat.iter().copied(), &bench, dec!(100), Some(252.0));

        assert_eq!(s.return_pct, 25.4); // 125.4 / 100 − 1
        assert_eq!(s.final_equity, dec!(125.4));
        assert!(!s.flat);
        approx(s.beta, 2.0); // cov(2b, b) / var(b)
        approx(s.correlation, 1.0);
        approx(s.alpha_annual_pct, 0.0); // mean r = 0.125 = 2 × mean b = 2 × 0.0625
                                         // d = r − b = b: mean 0.0625; deviations 0.0375, −0.1125, 0.1375, −0.0625,
                                         // squares sum to 0.036875, sample variance 0.036875 / 3.
        let stdev_d = (0.036875f64 / 3.0).sqrt();
        approx(s.tracking_error_pct, stdev_d * 252f64.sqrt() * 100.0);
        approx(s.information_ratio, 0.0625 / stdev_d * 252f64.sqrt());
    }

    #[test]
    fn hand_computed_beta_alpha_correlation_tracking_error_information_ratio() {
        // b = 0.1, −0.1, 0, 0.2     (100 → 110 → 99 → 99 → 118.8)
        // r = 0.05, −0.1, 0.1, 0.25 (100 → 105 → 94.5 → 103.95 → 129.9375)
        let bench = [dec!(100), dec!(110), dec!(99), dec!(99), dec!(118.8)];
        let strat = [dec!(100), dec!(105), dec!(94.5), dec!(103.95), dec!(129.9375)];
        let s = compare(strat.iter().copied(), &bench, dec!(100), Some(12.0));

        // mean b = 0.2 / 4 = 0.05, deviations 0.05, −0.15, −0.05, 0.15, Σ² = 0.05
        // mean r = 0.3 / 4 = 0.075, deviations −0.025, −0.175, 0.025, 0.175, Σ² = 0.0625
        // Σ products of deviations = −0.00125 + 0.02625 − 0.00125 + 0.02625 = 0.05
        // (the common 1/3 of the sample statistics cancels in the ratios)
        assert_eq!(s.return_pct, 18.8); // 118.8 / 100 − 1
        assert!(!s.flat);
        approx(s.beta, 1.0); // 0.05 / 0.05
        approx(s.alpha_annual_pct, 30.0); // (0.075 − 1 × 0.05) × 12 × 100
        approx(s.correlation, 2.0 / 5f64.sqrt()); // 0.05 / √(0.0625 × 0.05) = 0.894427…
                                                  // d = −0.05, 0, 0.1, 0.05: mean 0.025, deviations −0.075, −0.025, 0.075, 0.025,
                                                  // Σ² = 0.0125, stdev √(0.0125 / 3); TE = √(0.0125 / 3 × 12) × 100 = √0.05 × 100 = 10√5
        approx(s.tracking_error_pct, 10.0 * 5f64.sqrt()); // 22.36…
                                                          // IR = 0.025 × 12 / √0.05 = 0.3 / 0.2236… = 3 / √5 = 1.3416…
        approx(s.information_ratio, 3.0 / 5f64.sqrt());
    }

    #[test]
    fn identical_curves_track_exactly() {
        let curve = [dec!(100), dec!(103), dec!(97), dec!(101)];
        let s = compare(curve.iter().copied(), &curve, dec!(100), Some(252.0));
        approx(s.beta, 1.0);
        approx(s.correlation, 1.0);
        approx(s.alpha_annual_pct, 0.0);
        assert_eq!(s.tracking_error_pct, Some(0.0)); // d_i = 0 exactly
        assert_eq!(s.information_ratio, None); // 0 / 0
    }

    #[test]
    fn flat_benchmark_leaves_only_the_tracking_error() {
        let bench = [dec!(100); 4];
        let strat = [dec!(100), dec!(110), dec!(99), dec!(108.9)]; // r = 0.1, −0.1, 0.1
        let s = compare(strat.iter().copied(), &bench, dec!(100), Some(252.0));
        assert!(s.flat);
        assert_eq!((s.beta, s.alpha_annual_pct, s.correlation, s.information_ratio), (None, None, None, None));
        assert_eq!(s.return_pct, 0.0);
        // d = r: mean 1/30, deviations 2/30, −4/30, 2/30, Σ² = 24/900, variance 12/900.
        approx(s.tracking_error_pct, (12.0f64 / 900.0).sqrt() * 252f64.sqrt() * 100.0);
    }

    #[test]
    fn benchmark_growing_at_a_constant_rate_is_flat() {
        // b = 10 % every step: no variance, whatever the last bits of the f64 returns say.
        let bench = [dec!(100), dec!(110), dec!(121), dec!(133.1), dec!(146.41), dec!(161.051)];
        let strat = [dec!(100), dec!(102), dec!(99), dec!(104), dec!(103), dec!(108)];
        let s = compare(strat.iter().copied(), &bench, dec!(100), Some(252.0));
        assert!(s.flat);
        assert_eq!((s.beta, s.correlation, s.information_ratio), (None, None, None));
    }

    #[test]
    fn single_point_is_flat_with_nothing_defined() {
        let s = compare([dec!(100)].iter().copied(), &[dec!(105)], dec!(100), Some(252.0));
        assert!(s.flat);
        assert_eq!(s.return_pct, 5.0);
        assert_eq!(s.final_equity, dec!(105));
        assert_eq!((s.beta, s.alpha_annual_pct, s.correlation), (None, None, None));
        assert_eq!((s.tracking_error_pct, s.information_ratio), (None, None));
    }

    #[test]
    fn empty_curves_compare_as_an_unmoved_benchmark() {
        let s = compare([].iter().copied(), &[], dec!(100), None);
        assert!(s.flat);
        assert_eq!((s.return_pct, s.final_equity), (0.0, dec!(100)));
    }

    #[test]
    fn without_periods_per_year_only_unannualised_figures_remain() {
        let bench = [dec!(100), dec!(110), dec!(99), dec!(99), dec!(118.8)];
        let strat = [dec!(100), dec!(105), dec!(94.5), dec!(103.95), dec!(129.9375)];
        for ppy in [None, Some(0.0), Some(f64::NAN)] {
            let s = compare(strat.iter().copied(), &bench, dec!(100), ppy);
            approx(s.beta, 1.0);
            approx(s.correlation, 2.0 / 5f64.sqrt());
            assert_eq!((s.alpha_annual_pct, s.tracking_error_pct, s.information_ratio), (None, None, None));
        }
    }

    #[test]
    fn zero_benchmark_value_makes_ratios_undefined_not_infinite() {
        // b_2 = 50 / 0 − 1 = +inf: the spread is undefined, not zero.
        let s = compare(
            [dec!(100), dec!(90), dec!(95)].iter().copied(),
            &[dec!(100), dec!(0), dec!(50)],
            dec!(100),
            Some(252.0),
        );
        assert!(!s.flat);
        assert_eq!((s.beta, s.alpha_annual_pct, s.correlation), (None, None, None));
        assert_eq!((s.tracking_error_pct, s.information_ratio), (None, None));
    }

    #[test]
    fn serialises_money_exactly_and_undefined_as_null() {
        let s = compare([dec!(100), dec!(101)].iter().copied(), &[dec!(100), dec!(100.10)], dec!(100), None);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""final_equity":100.10"#), "{json}");
        assert!(json.contains(r#""beta":null"#), "{json}");
    }

    #[test]
    #[should_panic(expected = "one point per step")]
    fn curves_of_different_lengths_are_a_caller_bug() {
        compare([dec!(100)].iter().copied(), &[dec!(100), dec!(101)], dec!(100), None);
    }
}
