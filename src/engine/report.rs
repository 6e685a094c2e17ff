//! What a finished run hands back: its curve, trades, log and metrics.

use rust_decimal::Decimal;

use crate::broker::{Broker, BrokerConfig, MarginCall, Rejection};
use crate::data::{same_interval, usual_spacing, Universe};
use crate::domain::num::to_f64;
use crate::domain::{Bar, EquityCurve, Symbol, Timestamp, Trade};
use crate::metrics::{self, BenchmarkInput, Metrics, MetricsInput, ReturnsTables};
use crate::session::{Params, RunLog};
use crate::strategy::SandboxUsage;

/// The results of one run.
#[derive(Debug)]
pub struct RunReport {
    universe: Universe,
    /// The parameter values the run used (defaults plus overrides).
    pub params: Params,
    /// The broker settings the run used.
    pub broker_config: BrokerConfig,
    /// The account at the close of each step, aligned with [`RunReport::timeline`].
    pub equity: EquityCurve,
    /// Closed round trips, in the order they closed.
    pub trades: Vec<Trade>,
    /// Accepted orders that could not fill when their price came.
    pub rejections: Vec<Rejection>,
    /// Orders still open at the end, cancelled.
    pub cancelled_at_end: usize,
    /// What the strategy logged, bounded in size.
    pub log: RunLog,
    /// Performance statistics from the equity curve and the trades.
    pub metrics: Metrics,
    /// The benchmark's name and equity at the close of each step.
    pub benchmark: Option<(Symbol, Vec<Decimal>)>,
    /// Each margin call, with the account at the close that triggered it.
    pub margin_calls: Vec<MarginCall>,
    /// What the strategy used of its sandbox; `None` for a native one.
    pub sandbox: Option<SandboxUsage>,
}

impl RunReport {
    pub(super) fn new(
        universe: &Universe,
        params: Params,
        equity: EquityCurve,
        benchmark: Option<(Symbol, Vec<Decimal>)>,
        broker: &mut Broker,
        mut log: RunLog,
    ) -> Self {
        let (trades, rejections) = broker.take_records();
        let initial = broker.config().initial_cash;
        let metrics = metrics::compute(&MetricsInput {
            timeline: universe.timeline(),
            equity: &equity,
            initial_cash: initial,
            trades: &trades,
            buy_hold_return_pct: buy_hold_return_pct(universe),
            commission_total: broker.commission_total(),
            symbols: universe.symbols(),
            benchmark: benchmark.as_ref().map(|(symbol, equity)| BenchmarkInput { symbol, equity }),
            margin_calls: broker.margin_calls().len(),
        });
        if let Some(b) = metrics.benchmark.as_ref().filter(|b| b.stats.flat) {
            log.push(None, None, &format!(
                "benchmark {} is flat (its returns have no variance): alpha, beta, correlation and information ratio are undefined",
                b.symbol
            ));
        }
        RunReport {
            universe: universe.clone(),
            params,
            broker_config: broker.config().clone(),
            equity,
            trades,
            rejections,
            cancelled_at_end: broker.cancelled_at_end(),
            log,
            metrics,
            benchmark,
            margin_calls: broker.margin_calls().to_vec(),
            sandbox: None,
        }
    }

    /// The returns per UTC day, month and year, computed when asked (a
    /// sweep's variants never need them).
    pub fn returns(&self) -> ReturnsTables {
        metrics::returns_tables(self.timeline(), &self.equity, self.broker_config.initial_cash)
    }

    /// The data the run traded.
    pub fn universe(&self) -> &Universe {
        &self.universe
    }

    /// One timestamp per step.
    pub fn timeline(&self) -> &[Timestamp] {
        self.universe.timeline()
    }

    /// Drawdown at each step in percent (≤ 0), from the running peak of
    /// equity (starting at the initial cash).
    pub fn drawdown_pct(&self) -> Vec<f64> {
        let mut peak = self.broker_config.initial_cash;
        self.equity
            .amounts()
            .map(|equity| {
                peak = peak.max(equity);
                if peak <= Decimal::ZERO {
                    0.0
                } else {
                    to_f64((equity / peak - Decimal::ONE) * Decimal::ONE_HUNDRED)
                }
            })
            .collect()
    }
}

/// The equity of a benchmark bought with `initial` and held, at each step of
/// `timeline`: `initial × close_t / close_0`, where `close_t` is the close of
/// the benchmark's latest bar that has ended by the end of step t and
/// `close_0` the one at the purchase (the run's first step, or the first
/// such bar inside the run, with cash held until then). Rounded to 8 decimal
/// places.
///
/// Bars are stamped at their start and end one interval later (each
/// series' most common spacing), so a benchmark as fine as the run takes
/// its bar at or before the step, a coarser one (daily against hourly) only
/// once its bar is complete, a finer one its close at the end of the step.
///
/// # Errors
/// The benchmark has no bar at or before the run's last step, or a close ≤ 0.
pub fn benchmark_curve(timeline: &[Timestamp], bars: &[Bar], initial: Decimal) -> Result<Vec<Decimal>, String> {
    let step_len = usual_spacing(timeline.iter().map(|t| t.millis()));
    let bar_len = usual_spacing(bars.iter().map(|b| b.ts.millis()));
    // A bar counts at step t once start + bar_len ≤ t + step_len; series of
    // one interval (months of 28 to 31 days) are taken as aligned.
    let lag = match step_len.zip(bar_len) {
        Some((step, bar)) if !same_interval(step, bar) => bar - step,
        _ => 0,
    };
    let mut curve = Vec::with_capacity(timeline.len());
    let mut next = 0;
    let mut last: Option<Decimal> = None;
    let mut bought_at: Option<Decimal> = None;
    for &ts in timeline {
        while let Some(bar) = bars.get(next).filter(|b| b.ts.millis().saturating_add(lag) <= ts.millis()) {
            last = Some(bar.close());
            next += 1;
        }
        let value = match (bought_at, last) {
            (None, Some(close)) => {
                if close <= Decimal::ZERO {
                    return Err(format!("close {close} at {} is not a positive price", bars[next - 1].ts));
                }
                bought_at = Some(close);
                initial
            }
            (Some(start), Some(close)) => (initial * close / start).round_dp(8),
            _ => initial,
        };
        curve.push(value);
    }
    if bought_at.is_none() {
        let last_step = timeline.last().map_or_else(String::new, |t| t.to_string());
        return Err(format!("has no bar at or before the run's last step ({last_step})"));
    }
    Ok(curve)
}

/// Buy and hold of the universe in percent: the equal-weight mean over
/// symbols of (last close / first close − 1) × 100.
pub fn buy_hold_return_pct(universe: &Universe) -> Option<f64> {
    let n = universe.symbols().len();
    let mut sum = 0.0;
    for s in 0..n {
        let bars = universe.bars(s);
        let (first, last) = (bars.first()?, bars.last()?);
        sum += to_f64((last.close() / first.close() - Decimal::ONE) * Decimal::ONE_HUNDRED);
    }
    (n > 0).then(|| sum / n as f64)
}
