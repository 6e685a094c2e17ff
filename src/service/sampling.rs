//! Thinning an equity curve for charts without losing what matters.

/// Most points in a sampled equity curve.
pub const EQUITY_SAMPLE: usize = 1000;

/// The steps of a run's curve that charts show: at most [`EQUITY_SAMPLE`],
/// keeping its ends, its low and high, and its trades' entries and exits.
pub fn sample_run(report: &crate::engine::RunReport) -> Vec<usize> {
    let values: Vec<f64> = report.equity.iter().map(|p| crate::domain::num::to_f64(p.equity)).collect();
    let must: Vec<usize> = report.trades.iter().flat_map(|t| [t.entry_step, t.exit_step]).collect();
    sample(values.len(), &values, &must, EQUITY_SAMPLE)
}

/// At most `budget` step indexes out of `n`, ascending, always keeping the
/// first and last steps, the lowest and highest equity, and `must` (trade
/// entries and exits); the rest of the budget is spread evenly. If `must`
/// alone exceeds the budget it is thinned evenly too, so the budget holds.
pub fn sample(n: usize, equity: &[f64], must: &[usize], budget: usize) -> Vec<usize> {
    if n <= budget {
        return (0..n).collect();
    }
    let (mut lo, mut hi) = (0, 0);
    for (i, e) in equity.iter().enumerate() {
        if *e < equity[lo] {
            lo = i;
        }
        if *e > equity[hi] {
            hi = i;
        }
    }
    let mut kept = vec![0, n - 1, lo, hi];
    kept.sort_unstable();
    kept.dedup();
    let mut trades: Vec<usize> = must.iter().copied().filter(|&i| i < n && !kept.contains(&i)).collect();
    trades.sort_unstable();
    trades.dedup();
    let room = budget.saturating_sub(kept.len());
    kept.extend(evenly(&trades, room.min(trades.len())));
    kept.sort_unstable();
    let left = budget.saturating_sub(kept.len());
    if left > 0 {
        let others: Vec<usize> = (0..n).filter(|i| kept.binary_search(i).is_err()).collect();
        kept.extend(evenly(&others, left.min(others.len())));
        kept.sort_unstable();
    }
    kept
}

/// `k` of `items`, spread evenly (all of them when `k` is their number).
fn evenly(items: &[usize], k: usize) -> Vec<usize> {
    (0..k).map(|j| items[j * items.len() / k]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_extremes_and_trades_within_budget() {
        let n = 10_000;
        let equity: Vec<f64> = (0..n).map(|i| ((i as f64) / 300.0).sin() * 100.0 + i as f64 * 0.001).collect();
        let must = [17, 4_242, 9_998];
        let kept = sample(n, &equity, &must, 1000);
        assert_eq!(kept.len(), 1000, "the budget is used");
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "ascending, no duplicates");
        let lo = (0..n).min_by(|&a, &b| equity[a].total_cmp(&equity[b])).unwrap();
        let hi = (0..n).max_by(|&a, &b| equity[a].total_cmp(&equity[b])).unwrap();
        for i in [0, n - 1, lo, hi, 17, 4_242, 9_998] {
            assert!(kept.contains(&i), "step {i} kept");
        }
    }

    #[test]
    fn short_curves_are_kept_whole_and_too_many_trades_are_thinned() {
        assert_eq!(sample(5, &[1.0; 5], &[], 1000), vec![0, 1, 2, 3, 4]);
        let must: Vec<usize> = (0..5000).collect();
        let kept = sample(5000, &vec![1.0; 5000], &must, 100);
        assert_eq!(kept.len(), 100);
    }
}
