//! Helpers shared by the indicator tests: deterministic pseudo-random series and float comparisons.

use super::BarInput;

/// Relative tolerance of the checks against the naive implementations
/// (absolute for expected values below 1 in magnitude).
pub(super) const REL_TOL: f64 = 1e-9;

/// Small 64-bit linear congruential generator (Knuth's MMIX constants).
pub(super) struct Lcg(u64);

impl Lcg {
    /// A generator started from `seed`.
    pub(super) fn new(seed: u64) -> Self {
        Lcg(seed)
    }

    /// Uniform in `[0, 1)`, from the top 53 bits of the state.
    pub(super) fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `len` prices of a mean-reverting random walk around 100, rounded to cents.
/// About one step in ten is unchanged, so ties and zero changes occur.
pub(super) fn prices(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = Lcg::new(seed);
    let mut p = 100.0_f64;
    (0..len)
        .map(|_| {
            if rng.next_f64() >= 0.1 {
                p += (rng.next_f64() - 0.5) * 2.0 + (100.0 - p) * 0.01;
            }
            (p * 100.0).round() / 100.0
        })
        .collect()
}

/// `len` OHLCV bars whose closes follow [`prices`]; opens gap away from the
/// previous close so that true range differs from high - low.
pub(super) fn bars(len: usize, seed: u64) -> Vec<BarInput> {
    let closes = prices(len, seed);
    let mut rng = Lcg::new(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut prev_close = closes.first().copied().unwrap_or(100.0);
    closes
        .into_iter()
        .map(|close| {
            let open = prev_close + (rng.next_f64() - 0.5) * 1.5;
            let high = open.max(close) + rng.next_f64() * 0.8;
            let low = open.min(close) - rng.next_f64() * 0.8;
            let volume = 1000.0 + (rng.next_f64() * 500.0).round();
            prev_close = close;
            BarInput { open, high, low, close, volume }
        })
        .collect()
}

/// Whether `a` is within [`REL_TOL`] of `e`, relative to `max(|e|, 1)`.
pub(super) fn close_enough(a: f64, e: f64) -> bool {
    (a - e).abs() <= REL_TOL * e.abs().max(1.0)
}

/// Asserts that both are `None`, or both are `Some` and [`close_enough`].
#[track_caller]
pub(super) fn assert_close(actual: Option<f64>, expected: Option<f64>, ctx: &str) {
    match (actual, expected) {
        (None, None) => {}
        (Some(a), Some(e)) => assert!(close_enough(a, e), "{ctx}: got {a}, expected {e}"),
        _ => panic!("{ctx}: readiness differs: got {actual:?}, expected {expected:?}"),
    }
}

/// Asserts `actual` is `Some` value within 1e-12 (relative) of `expected`, for
/// hand-computed values that are not exact in binary floating point.
#[track_caller]
pub(super) fn assert_approx(actual: Option<f64>, expected: f64) {
    let a = actual.unwrap_or_else(|| panic!("expected Some({expected}), got None"));
    assert!((a - expected).abs() <= 1e-12 * expected.abs().max(1.0), "got {a}, expected {expected}");
}

/// Index of the first `Some` in `values`, if any.
pub(super) fn first_ready(values: &[Option<f64>]) -> Option<usize> {
    values.iter().position(Option::is_some)
}
