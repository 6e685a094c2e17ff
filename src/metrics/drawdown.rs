//! Drawdown statistics: peak equity, deepest and average drawdown, longest drawdown.

use rust_decimal::Decimal;

use super::to_f64;
#[cfg(test)]
use crate::domain::EquityPoint;
use crate::domain::Timestamp;

/// What one pass over the equity curve against its running peak gives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct DrawdownStats {
    /// `max(C, E_0, …)`.
    pub peak_equity: Decimal,
    /// Most negative `(E_i / P_i − 1) × 100`, or 0.
    pub max_drawdown_pct: f64,
    /// Longest peak-to-recovery stretch in steps.
    pub max_duration_bars: usize,
    /// Longest peak-to-recovery stretch in seconds.
    pub max_duration_secs: i64,
    /// Mean episode depth in percent; `None` without episodes.
    pub avg_drawdown_pct: Option<f64>,
}

/// The running peak `P_i = max(initial, E_0, …, E_i)` starts at the initial
/// cash, placed at step 0. A step with `E_i < P_i` is in drawdown; a maximal
/// run of such steps is an episode, which ends at the first step with
/// `E_j ≥ P` (its duration reaches that step) or at the last step.
///
/// Fed one point at a time, so that the metrics read the equity curve once.
#[derive(Clone, Copy, Debug)]
pub(super) struct Drawdown<'a> {
    timeline: &'a [Timestamp],
    peak: Decimal,
    peak_f: f64,
    peak_step: usize,
    max_drawdown_pct: f64,
    max_duration_bars: usize,
    max_duration_secs: i64,
    depth_sum: f64,
    episodes: usize,
    /// The lowest equity (in f64) of the current episode, while in one.
    /// The depth `(E / P − 1) × 100` is monotonic in `E`, so the episode's
    /// deepest point is the depth of its lowest equity, computed once when
    /// the episode closes rather than at every step.
    episode: Option<f64>,
}

impl<'a> Drawdown<'a> {
    /// Starts at the initial cash; `timeline` has one timestamp per point.
    pub(super) fn new(timeline: &'a [Timestamp], initial: Decimal) -> Self {
        Drawdown {
            timeline,
            peak: initial,
            peak_f: to_f64(initial).unwrap_or(f64::NAN),
            peak_step: 0,
            max_drawdown_pct: 0.0,
            max_duration_bars: 0,
            max_duration_secs: 0,
            depth_sum: 0.0,
            episodes: 0,
            episode: None,
        }
    }

    fn close_episode(&mut self, lowest: f64, from: usize, to: usize) {
        self.max_duration_bars = self.max_duration_bars.max(to - from);
        let secs = (self.timeline[to].millis() - self.timeline[from].millis()) / 1000;
        self.max_duration_secs = self.max_duration_secs.max(secs);
        // Undefined below a peak ≤ 0 (and for equity that has no f64).
        let depth = (self.peak_f > 0.0 && lowest.is_finite())
            .then(|| (lowest / self.peak_f - 1.0) * 100.0)
            .filter(|d| d.is_finite());
        if let Some(d) = depth {
            self.depth_sum += d;
            self.episodes += 1;
            self.max_drawdown_pct = self.max_drawdown_pct.min(d);
        }
    }

    /// Adds point `i`: its equity `e`, and `e_f` the same in f64.
    #[inline]
    pub(super) fn push(&mut self, i: usize, e: Decimal, e_f: f64) {
        // Compare in f64 first (the conversion is monotonic, so a new peak
        // is never missed) and in Decimal only on a tie: exact, and cheap on
        // a million points. On a tie, identical representations (a flat
        // curve) need no Decimal comparison.
        if e_f > self.peak_f || (e_f == self.peak_f && (e.serialize() == self.peak.serialize() || e >= self.peak)) {
            if let Some(lowest) = self.episode.take() {
                self.close_episode(lowest, self.peak_step, i);
            }
            self.peak = e;
            self.peak_f = e_f;
            self.peak_step = i;
            return;
        }
        // f64::min skips a NaN (an amount without an f64), as the depth did.
        let lowest = self.episode.get_or_insert(f64::INFINITY);
        *lowest = lowest.min(e_f);
    }

    /// Adds points `start..start + converted.len()`, given in f64
    /// (`converted`), `exact` giving the equity of a point as it is. The
    /// same as [`Drawdown::push`] on each, with runs of points strictly
    /// below the peak (in f64, so never NaN) taken in a tight loop: they
    /// only lower the episode's lowest equity, and a minimum does not depend
    /// on the order; `exact` is asked only for the other points.
    pub(super) fn extend(&mut self, start: usize, converted: &[f64], exact: impl Fn(usize) -> Decimal) {
        let mut j = 0;
        while j < converted.len() {
            let (peak_f, mut lowest, from) = (self.peak_f, f64::INFINITY, j);
            while let Some(&e_f) = converted.get(j).filter(|&&e_f| e_f < peak_f) {
                // Neither is NaN here, so a comparison is the minimum
                // without f64::min's NaN handling.
                if e_f < lowest {
                    lowest = e_f;
                }
                j += 1;
            }
            if j > from {
                let episode = self.episode.get_or_insert(f64::INFINITY);
                *episode = episode.min(lowest);
            }
            if let Some(&e_f) = converted.get(j) {
                self.push(start + j, exact(start + j), e_f);
                j += 1;
            }
        }
    }

    /// The statistics once all `points` points were added.
    pub(super) fn finish(mut self, points: usize) -> DrawdownStats {
        if let Some(lowest) = self.episode.take() {
            self.close_episode(lowest, self.peak_step, points - 1);
        }
        DrawdownStats {
            peak_equity: self.peak,
            max_drawdown_pct: self.max_drawdown_pct,
            max_duration_bars: self.max_duration_bars,
            max_duration_secs: self.max_duration_secs,
            avg_drawdown_pct: (self.episodes > 0).then(|| self.depth_sum / self.episodes as f64),
        }
    }
}

/// [`Drawdown`] over a whole curve (`timeline` and `equity` have the same length).
#[cfg(test)]
pub(super) fn compute(timeline: &[Timestamp], equity: &[EquityPoint], initial: Decimal) -> DrawdownStats {
    let mut drawdown = Drawdown::new(timeline, initial);
    for (i, point) in equity.iter().enumerate() {
        drawdown.push(i, point.equity, to_f64(point.equity).unwrap_or(f64::NAN));
    }
    drawdown.finish(equity.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn run(initial: Decimal, values: &[Decimal]) -> DrawdownStats {
        // One step per day.
        let timeline: Vec<Timestamp> = (0..values.len() as i64).map(|d| Timestamp::from_secs(d * 86_400)).collect();
        let equity: Vec<EquityPoint> =
            values.iter().map(|&equity| EquityPoint { equity, cash: equity, exposed: false }).collect();
        compute(&timeline, &equity, initial)
    }

    #[test]
    fn touching_the_peak_again_ends_the_episode() {
        // 100 → 90 (−10 %) → 100 (regained at step 2) → 95 (−5 %) → 95.
        let s = run(dec!(100), &[dec!(100), dec!(90), dec!(100), dec!(95), dec!(95)]);
        assert!((s.max_drawdown_pct - -10.0).abs() < 1e-12);
        // Episodes: steps 0→2 (2 bars) and 2→4 unrecovered (2 bars).
        assert_eq!(s.max_duration_bars, 2);
        assert_eq!(s.max_duration_secs, 2 * 86_400);
        // Mean depth (−10 + −5) / 2 = −7.5.
        assert!((s.avg_drawdown_pct.unwrap() - -7.5).abs() < 1e-12);
        assert_eq!(s.peak_equity, dec!(100));
    }

    /// A seeded walk around 100 with flat stretches, returns to the exact
    /// peak (also in another representation) and new peaks.
    fn walk(len: usize) -> Vec<Decimal> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut equity = dec!(100);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                equity = match state % 5 {
                    0 => equity, // flat
                    1 => equity + Decimal::new((state % 300) as i64, 2),
                    2 => equity - Decimal::new((state % 250) as i64, 2),
                    3 => (equity * dec!(1.00)).round_dp(2), // same value, scale 2
                    _ => equity - Decimal::new((state % 40) as i64, 1),
                };
                equity
            })
            .collect()
    }

    #[test]
    fn extending_by_chunks_equals_pushing_each_point() {
        let values = walk(2_000);
        let timeline: Vec<Timestamp> = (0..values.len() as i64).map(|d| Timestamp::from_secs(d * 60)).collect();
        let converted: Vec<f64> = values.iter().map(|&e| to_f64(e).unwrap_or(f64::NAN)).collect();
        let mut one_by_one = Drawdown::new(&timeline, dec!(100));
        for (i, (&e, &e_f)) in values.iter().zip(&converted).enumerate() {
            one_by_one.push(i, e, e_f);
        }
        let expected = one_by_one.finish(values.len());
        assert!(expected.avg_drawdown_pct.is_some() && expected.max_duration_bars > 0, "{expected:?}");
        for chunk in [1, 7, 256, 5_000] {
            let mut chunked = Drawdown::new(&timeline, dec!(100));
            for (c, converted) in converted.chunks(chunk).enumerate() {
                chunked.extend(c * chunk, converted, |i| values[i]);
            }
            assert_eq!(chunked.finish(values.len()), expected, "chunks of {chunk}");
        }
    }

    #[test]
    fn non_positive_peak_gives_no_depth() {
        // Initial cash 0 is a degenerate run: drawdowns below a peak of 0 have
        // no percentage, but the stretch is still measured (0 → step 1).
        let s = run(dec!(0), &[dec!(-1), dec!(0)]);
        assert_eq!(s.max_drawdown_pct, 0.0);
        assert_eq!(s.avg_drawdown_pct, None);
        assert_eq!(s.max_duration_bars, 1);
    }
}
