//! Series reduced for drawing: a chart of a million points is no clearer
//! than one of a few thousand, and far heavier. Lines keep, per bucket of
//! consecutive points, the first, the lowest, the highest and the last, plus
//! every point asked for (a trade's); candles merge a bucket into one
//! (first open, highest high, lowest low, last close), so that no extreme
//! is lost either way.

/// Indices of `values` to draw: all of them when there are at most
/// `budget`; else per bucket its first, lowest, highest and last point,
/// plus every index in `keep` (ascending), the whole ascending and distinct.
pub fn line_indices(values: &[f64], budget: usize, keep: &[usize]) -> Vec<usize> {
    let n = values.len();
    if n <= budget.max(4) {
        return (0..n).collect();
    }
    // Four points a bucket at most.
    let buckets = (budget / 4).max(1);
    let size = n.div_ceil(buckets);
    let mut picked = Vec::with_capacity(buckets * 4 + keep.len());
    for start in (0..n).step_by(size) {
        let end = (start + size).min(n);
        let (mut low, mut high) = (start, start);
        for i in start..end {
            // NaN never wins a comparison: a bucket of NaN keeps its ends.
            if values[i] < values[low] {
                low = i;
            }
            if values[i] > values[high] {
                high = i;
            }
        }
        picked.extend([start, low, high, end - 1]);
    }
    picked.extend(keep.iter().copied().filter(|&i| i < n));
    picked.sort_unstable();
    picked.dedup();
    picked
}

/// One candle: time (epoch seconds), open, high, low, close.
pub type Candle = (i64, f64, f64, f64, f64);

/// `candles` merged into at most `budget` candles of consecutive ones
/// (each stamped with its first's time); unchanged when they fit.
pub fn merge_candles(candles: &[Candle], budget: usize) -> Vec<Candle> {
    let n = candles.len();
    if n <= budget.max(1) {
        return candles.to_vec();
    }
    let size = n.div_ceil(budget.max(1));
    candles
        .chunks(size)
        .map(|chunk| {
            let first = chunk[0];
            let last = chunk[chunk.len() - 1];
            let high = chunk.iter().map(|c| c.2).fold(f64::NEG_INFINITY, f64::max);
            let low = chunk.iter().map(|c| c.3).fold(f64::INFINITY, f64::min);
            (first.0, first.1, high, low, last.4)
        })
        .collect()
}

/// The time of the candle (of `merged`, ascending) that holds time `t`:
/// the last one starting at or before it.
pub fn candle_time(merged: &[Candle], t: i64) -> Option<i64> {
    let at = merged.partition_point(|c| c.0 <= t);
    at.checked_sub(1).map(|i| merged[i].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_line_is_kept_whole() {
        assert_eq!(line_indices(&[1.0, 2.0, 3.0], 10, &[]), [0, 1, 2]);
    }

    #[test]
    fn a_long_line_keeps_each_buckets_ends_and_extremes_and_the_points_asked_for() {
        // 12 points, budget 8: 2 buckets of 6.
        let values = [5.0, 9.0, 1.0, 4.0, 4.0, 6.0, 3.0, 3.0, 8.0, 0.5, 2.0, 7.0];
        let picked = line_indices(&values, 8, &[3]);
        // Bucket 0..6: first 0, low 2 (1.0), high 1 (9.0), last 5; bucket 6..12:
        // first 6, low 9 (0.5), high 8 (8.0), last 11; and 3, asked for.
        assert_eq!(picked, [0, 1, 2, 3, 5, 6, 8, 9, 11]);
        let big: Vec<f64> = (0..1_000_000u64).map(|i| ((i * 7919) % 1000) as f64).collect();
        let picked = line_indices(&big, 4000, &[123_457]);
        assert!(picked.len() <= 4001, "{}", picked.len());
        assert!(picked.contains(&123_457));
        let max = picked.iter().map(|&i| big[i]).fold(f64::MIN, f64::max);
        assert_eq!(max, 999.0, "the extremes survive");
    }

    #[test]
    fn candles_merge_keeping_open_high_low_close() {
        let c = |t, o, h, l, cl| (t, o, h, l, cl);
        let candles = [c(0, 10.0, 12.0, 9.0, 11.0), c(60, 11.0, 15.0, 10.0, 14.0), c(120, 14.0, 14.5, 8.0, 9.0)];
        assert_eq!(merge_candles(&candles, 5), candles);
        let merged = merge_candles(&candles, 2);
        assert_eq!(merged, [c(0, 10.0, 15.0, 9.0, 14.0), c(120, 14.0, 14.5, 8.0, 9.0)]);
        assert_eq!(candle_time(&merged, 90), Some(0));
        assert_eq!(candle_time(&merged, 120), Some(120));
        assert_eq!(candle_time(&merged, -5), None);
    }
}
