//! Trade statistics: win rate, best/worst/average trade, durations, profit factor, expectancy, SQN.

use rust_decimal::{Decimal, RoundingStrategy};

use super::moments::Moments;
use super::{finite, to_f64};
use crate::domain::Trade;

/// Decimal places kept in the expectancy.
const EXPECTANCY_DP: u32 = 10;

/// What one pass over the closed trades gives; all `None` with no trades.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct TradeStats {
    pub win_rate_pct: Option<f64>,
    pub best_trade_pct: Option<f64>,
    pub worst_trade_pct: Option<f64>,
    pub avg_trade_pct: Option<f64>,
    pub avg_duration_bars: Option<f64>,
    pub max_duration_bars: Option<usize>,
    pub avg_duration_secs: Option<f64>,
    pub max_duration_secs: Option<i64>,
    pub profit_factor: Option<f64>,
    pub expectancy: Option<Decimal>,
    pub sqn: Option<f64>,
}

/// One pass over `trades`. Cash sums are exact; only the final ratios are `f64`.
pub(super) fn compute(trades: &[Trade]) -> TradeStats {
    if trades.is_empty() {
        return TradeStats::default();
    }
    let n = trades.len();
    let nf = n as f64;

    let mut winners = 0usize;
    let mut gross_win = Decimal::ZERO;
    let mut gross_loss = Decimal::ZERO; // ≤ 0
    let mut has_loser = false;
    let mut pnl_sum = Decimal::ZERO;
    let mut pnl = Moments::default();
    let mut best = f64::NEG_INFINITY;
    let mut worst = f64::INFINITY;
    let mut return_sum = 0.0f64;
    let mut bars_sum = 0.0f64;
    let mut bars_max = 0usize;
    let mut secs_sum = 0.0f64;
    let mut secs_max = i64::MIN;

    for t in trades {
        if t.net_pnl > Decimal::ZERO {
            winners += 1;
            gross_win += t.net_pnl;
        } else if t.net_pnl < Decimal::ZERO {
            has_loser = true;
            gross_loss += t.net_pnl;
        }
        pnl_sum += t.net_pnl;
        pnl.push(to_f64(t.net_pnl).unwrap_or(f64::NAN));
        // f64::max/min skip a NaN operand, so one bad return cannot hide the others.
        best = best.max(t.return_pct);
        worst = worst.min(t.return_pct);
        return_sum += t.return_pct;
        bars_sum += t.duration_bars as f64;
        bars_max = bars_max.max(t.duration_bars);
        secs_sum += t.duration_secs as f64;
        secs_max = secs_max.max(t.duration_secs);
    }

    let profit_factor =
        if has_loser { gross_win.checked_div(-gross_loss).and_then(to_f64).and_then(finite) } else { None };
    let expectancy = pnl_sum
        .checked_div(Decimal::from(n))
        .map(|e| e.round_dp_with_strategy(EXPECTANCY_DP, RoundingStrategy::MidpointAwayFromZero));
    let sqn = match (pnl.mean(), pnl.stdev()) {
        (Some(mean), Some(sd)) if sd != 0.0 => finite(nf.sqrt() * mean / sd),
        _ => None,
    };

    TradeStats {
        win_rate_pct: Some(winners as f64 / nf * 100.0),
        best_trade_pct: finite(best),
        worst_trade_pct: finite(worst),
        avg_trade_pct: finite(return_sum / nf),
        avg_duration_bars: finite(bars_sum / nf),
        max_duration_bars: Some(bars_max),
        avg_duration_secs: finite(secs_sum / nf),
        max_duration_secs: Some(secs_max),
        profit_factor,
        expectancy,
        sqn,
    }
}
