//! Performance statistics of one run, computed from its equity curve and closed trades.
//!
//! [`compute`] turns a [`MetricsInput`] into [`Metrics`] in O(n) time over the
//! steps and trades, without allocating: returns, drawdowns and trade
//! statistics are each accumulated in a single pass (`returns.rs`,
//! `drawdown.rs`, `trades.rs`). [`Metrics::rows`] (`table.rs`) formats the
//! result for people; `serde` gives the machine-readable form.
//!
//! Conventions: every statistic that can be undefined is an `Option`, and any
//! computation that would give NaN or an infinity gives `None` instead, so the
//! JSON form never holds anything but numbers, strings and `null`. Money stays
//! exact (`Decimal`); ratios and percentages are `f64`.
//!
//! Where these definitions differ from backtesting.py's: annualisation follows
//! the bars' own spacing (see [`Metrics::periods_per_year`]) instead of
//! resampling to days; the annual return is geometric from the first point;
//! Sharpe and Sortino use per-step returns; profit factor uses cash P&L and
//! the average trade is the arithmetic mean of trade returns.

mod benchmark;
mod contribution;
mod drawdown;
mod moments;
mod periods;
mod returns;
mod table;
mod trades;

#[cfg(test)]
mod tests;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::{EquityCurve, Symbol, Timestamp, Trade};

pub use benchmark::{compare, BenchmarkStats};
pub use contribution::SymbolContribution;
pub use periods::{returns_tables, PeriodReturn, ReturnsTables};

/// Everything the metrics are computed from.
#[derive(Clone, Copy, Debug)]
pub struct MetricsInput<'a> {
    /// One timestamp per engine step, ascending.
    pub timeline: &'a [Timestamp],
    /// The account at the close of each step; same length as timeline (≥ 1).
    pub equity: &'a EquityCurve,
    /// The cash the run started with (`C` in [`Metrics`]); the first peak of the drawdowns.
    pub initial_cash: Decimal,
    /// Closed round trips, in exit order.
    pub trades: &'a [Trade],
    /// Buy & hold return of the universe in percent, computed by the caller (None if undefined).
    pub buy_hold_return_pct: Option<f64>,
    /// Total fees paid over the run.
    pub commission_total: Decimal,
    /// The run's symbols, in order.
    pub symbols: &'a [Symbol],
    /// The benchmark's equity curve (one point per step), if the run has one.
    pub benchmark: Option<BenchmarkInput<'a>>,
    /// How many margin calls the run had.
    pub margin_calls: usize,
}

/// A benchmark held from the first step with the same initial cash.
#[derive(Clone, Copy, Debug)]
pub struct BenchmarkInput<'a> {
    /// The benchmark's symbol.
    pub symbol: &'a Symbol,
    /// The benchmark's equity at the close of each step; same length as the timeline.
    pub equity: &'a [Decimal],
}

/// The benchmark's name and how the run compares with it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchmarkMetrics {
    /// The benchmark's symbol.
    pub symbol: Symbol,
    /// How the run compares with it.
    #[serde(flatten)]
    pub stats: BenchmarkStats,
}

/// The statistics of one run.
///
/// Notation in the formulas: `E_i` is `equity[i].equity` (the account at the
/// close of step `i`, i = 0..n−1), `n` the number of steps, `C` the initial
/// cash, `r_i = E_i / E_{i−1} − 1` (i ≥ 1) the per-step simple returns, and
/// `ppy` is [`Metrics::periods_per_year`]. Ratios are computed in `f64` from
/// the exact amounts; a result that is not finite is `None`.
///
/// Serialises with the field names as keys; money is written as exact JSON
/// numbers (`100.10`, via serde_json's `arbitrary_precision`), timestamps as
/// their text, undefined values as `null`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    /// Timestamp of the first step.
    pub start: Timestamp,
    /// Timestamp of the last step.
    pub end: Timestamp,
    /// `end − start` in whole seconds (rounded towards zero).
    pub duration_secs: i64,
    /// `n`, the number of engine steps.
    pub bars: usize,
    /// Share of steps with a position open at the close:
    /// `count(exposed) / n × 100`.
    pub exposure_pct: f64,
    /// `C`, the initial cash.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub initial_equity: Decimal,
    /// `E_{n−1}`, the equity at the close of the last step.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub final_equity: Decimal,
    /// `max(C, E_0, …, E_{n−1})`.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub peak_equity: Decimal,
    /// `(E_{n−1} / C − 1) × 100`, computed exactly and then converted; 0 when
    /// `C` is 0 (undefined).
    pub return_pct: f64,
    /// Buy & hold return of the universe in percent, as given by the caller.
    pub buy_hold_return_pct: Option<f64>,
    /// Steps per year, from the bars' own spacing:
    /// `ppy = (n − 1) / (duration / (365.25 × 86400 s))`, with the duration
    /// taken to the millisecond.
    ///
    /// Measuring the timeline itself needs no calendar, exchange or
    /// session assumptions and works for any bar size: daily stock data
    /// (≈ 252 per year: weekends and holidays are simply absent), monthly
    /// data (≈ 12), hourly FX closed at weekends (≈ 6000), hourly 24/7
    /// crypto (8766). It is the number of steps the run actually had per
    /// year, which is what the per-step returns must be scaled by. Over very
    /// short runs it inherits their irregularity (two weeks of weekday bars
    /// give 9 steps in 11 days, ≈ 299 per year).
    ///
    /// `None` with fewer than 2 steps or a duration ≤ 0.
    pub periods_per_year: Option<f64>,
    /// Geometric annual growth from the first point:
    /// `((E_{n−1} / E_0)^(ppy / (n − 1)) − 1) × 100`, i.e. CAGR over the
    /// timeline's years. `None` if `ppy` is `None`, `E_0 ≤ 0` or `E_{n−1} < 0`.
    pub annual_return_pct: Option<f64>,
    /// `stdev(r) × √ppy × 100`, sample standard deviation (ddof = 1).
    /// `None` with fewer than 2 returns or no `ppy`.
    pub annual_volatility_pct: Option<f64>,
    /// `mean(r) / stdev(r) × √ppy` (risk-free rate 0, ddof = 1).
    /// `None` if the standard deviation is 0 or undefined, or no `ppy`.
    pub sharpe: Option<f64>,
    /// `mean(r) / DD × √ppy` with the downside deviation
    /// `DD = √(mean over all returns of min(r_i, 0)²)` (target 0).
    /// `None` if `DD` is 0 (no losing step), no returns, or no `ppy`.
    pub sortino: Option<f64>,
    /// Deepest fall below the running peak, as a negative percentage:
    /// `min_i (E_i / P_i − 1) × 100` with `P_i = max(C, E_0, …, E_i)`;
    /// 0 when equity never falls below its running peak. Steps whose
    /// running peak is ≤ 0 are skipped (undefined ratio).
    pub max_drawdown_pct: f64,
    /// The longest drawdown in steps: from a peak step to the step where
    /// equity first gets back to that peak (`E_j ≥ P`), or to the last step
    /// if it never does. A peak set by the initial cash counts as step 0.
    /// 0 without drawdowns.
    pub max_drawdown_duration_bars: usize,
    /// The longest drawdown in seconds, defined like
    /// `max_drawdown_duration_bars` but measured on the timeline
    /// (`timeline[j] − timeline[peak]`). Each unit takes its own maximum; on a
    /// regular timeline both describe the same stretch.
    pub max_drawdown_duration_secs: i64,
    /// Mean depth of the drawdown episodes: an episode is a maximal run of
    /// steps with `E_i < P_i`, its depth is `min (E_i / P_i − 1) × 100` over
    /// the run (negative). `None` if there are no episodes.
    pub avg_drawdown_pct: Option<f64>,
    /// `annual_return_pct / |max_drawdown_pct|`.
    /// `None` if the max drawdown is 0 or the annual return is `None`.
    pub calmar: Option<f64>,
    /// Number of closed trades.
    pub trades: usize,
    /// `count(net_pnl > 0) / trades × 100`. `None` with no trades.
    pub win_rate_pct: Option<f64>,
    /// `max(return_pct)` over trades. `None` with no trades.
    pub best_trade_pct: Option<f64>,
    /// `min(return_pct)` over trades. `None` with no trades.
    pub worst_trade_pct: Option<f64>,
    /// Arithmetic mean of `return_pct` over trades. `None` with no trades.
    pub avg_trade_pct: Option<f64>,
    /// Mean of `duration_bars` over trades. `None` with no trades.
    pub avg_trade_duration_bars: Option<f64>,
    /// `max(duration_bars)` over trades. `None` with no trades.
    pub max_trade_duration_bars: Option<usize>,
    /// Mean of `duration_secs` over trades. `None` with no trades.
    pub avg_trade_duration_secs: Option<f64>,
    /// `max(duration_secs)` over trades. `None` with no trades.
    pub max_trade_duration_secs: Option<i64>,
    /// `Σ net_pnl of winners / |Σ net_pnl of losers|` in cash (winners:
    /// `net_pnl > 0`, losers: `net_pnl < 0`). `None` if there is no losing
    /// trade (including no trades at all).
    pub profit_factor: Option<f64>,
    /// `Σ net_pnl / trades`: mean cash result per trade, exact, rounded to 10
    /// decimal places (midpoint away from zero). `None` with no trades.
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub expectancy: Option<Decimal>,
    /// System Quality Number: `√trades × mean(net_pnl) / stdev(net_pnl)`
    /// (ddof = 1). `None` with fewer than 2 trades or a standard deviation of 0.
    pub sqn: Option<f64>,
    /// Total fees paid over the run, as given by the caller.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub commission_total: Decimal,
    /// `E_{n−1} − C`, exact.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub net_pnl: Decimal,
    /// Margin calls (liquidations) during the run.
    pub margin_calls: usize,
    /// Each symbol's share of the net PnL, in the run's symbol order.
    pub contributions: Vec<SymbolContribution>,
    /// The run against its benchmark; `None` without one.
    pub benchmark: Option<BenchmarkMetrics>,
}

/// Computes all statistics. O(n) time and memory in the number of steps and trades.
///
/// # Panics
/// If `equity` is empty or `timeline` and `equity` differ in length: both
/// are the caller's invariants (one point per engine step, at least one step).
pub fn compute(input: &MetricsInput) -> Metrics {
    let n = input.equity.len();
    assert!(n > 0, "metrics need at least one equity point");
    assert_eq!(input.timeline.len(), n, "metrics need one timestamp per equity point");

    let start = input.timeline[0];
    let end = input.timeline[n - 1];
    let duration_ms = end.millis() - start.millis();

    let amounts = input.equity.amounts();
    let (Some(first), Some(last)) = (input.equity.amount(0), input.equity.amount(n - 1)) else {
        unreachable!("the curve has n > 0 points")
    };
    let initial = input.initial_cash;

    // One pass over the equity, a chunk at a time: each point is read as
    // f64 (from the curve's packed form, without building its Decimal) into
    // a small buffer that then feeds the returns and the drawdowns in turn
    // (short loops keep their state in registers; one loop doing both
    // spilled it on every point). The drawdowns read the exact amount only
    // of points at or above the running peak.
    let ppy = returns::periods_per_year(n, duration_ms);
    let exposed = input.equity.exposed_steps();
    let mut rets = returns::Returns::new(to_f64(first).unwrap_or(f64::NAN));
    let mut drawdown = drawdown::Drawdown::new(input.timeline, initial);
    let mut buffer = [0.0; CONVERT_CHUNK];
    let mut points = input.equity.amounts_f64();
    // The drawdowns ask only for steps of the points read (below n).
    let exact = |step| input.equity.amount(step).expect("a step the curve has");
    for c in 0.. {
        let len = buffer.iter_mut().zip(points.by_ref()).map(|(slot, e)| *slot = finite(e).unwrap_or(f64::NAN)).count();
        if len == 0 {
            break;
        }
        let converted = &buffer[..len];
        // The first point starts the returns; each later one adds one.
        rets.extend(if c == 0 { &converted[1..] } else { converted });
        drawdown.extend(c * CONVERT_CHUNK, converted, exact);
    }
    let ret = rets.finish(first, last, n, ppy);
    let dd = drawdown.finish(n);
    let tr = trades::compute(input.trades);

    // Exact until the final conversion, so 100.10 on 100 is 0.1 %, not 0.0999….
    let return_pct = (last - initial)
        .checked_div(initial)
        .and_then(|q| q.checked_mul(Decimal::ONE_HUNDRED))
        .and_then(to_f64)
        .and_then(finite)
        .unwrap_or(0.0);
    let calmar = match ret.annual_return_pct {
        Some(a) if dd.max_drawdown_pct < 0.0 => finite(a / dd.max_drawdown_pct.abs()),
        _ => None,
    };

    Metrics {
        start,
        end,
        duration_secs: duration_ms / 1000,
        bars: n,
        exposure_pct: exposed as f64 / n as f64 * 100.0,
        initial_equity: initial,
        final_equity: last,
        peak_equity: dd.peak_equity,
        return_pct,
        buy_hold_return_pct: input.buy_hold_return_pct.and_then(finite),
        periods_per_year: ppy,
        annual_return_pct: ret.annual_return_pct,
        annual_volatility_pct: ret.annual_volatility_pct,
        sharpe: ret.sharpe,
        sortino: ret.sortino,
        max_drawdown_pct: dd.max_drawdown_pct,
        max_drawdown_duration_bars: dd.max_duration_bars,
        max_drawdown_duration_secs: dd.max_duration_secs,
        avg_drawdown_pct: dd.avg_drawdown_pct,
        calmar,
        trades: input.trades.len(),
        win_rate_pct: tr.win_rate_pct,
        best_trade_pct: tr.best_trade_pct,
        worst_trade_pct: tr.worst_trade_pct,
        avg_trade_pct: tr.avg_trade_pct,
        avg_trade_duration_bars: tr.avg_duration_bars,
        max_trade_duration_bars: tr.max_duration_bars,
        avg_trade_duration_secs: tr.avg_duration_secs,
        max_trade_duration_secs: tr.max_duration_secs,
        profit_factor: tr.profit_factor,
        expectancy: tr.expectancy,
        sqn: tr.sqn,
        commission_total: input.commission_total,
        net_pnl: last - initial,
        margin_calls: input.margin_calls,
        contributions: contribution::contributions(input.symbols, input.trades, initial),
        benchmark: input.benchmark.map(|b| BenchmarkMetrics {
            symbol: b.symbol.clone(),
            stats: benchmark::compare(amounts, b.equity, initial, ppy),
        }),
    }
}

/// Points of the equity curve read as f64 at a time by [`compute`].
const CONVERT_CHUNK: usize = 256;

/// `Some(x)` if `x` is finite, else `None`: the one gate every `f64` result passes.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// An amount as `f64`; `None` only if the conversion fails.
fn to_f64(d: Decimal) -> Option<f64> {
    let x = crate::domain::num::to_f64(d);
    x.is_finite().then_some(x)
}
