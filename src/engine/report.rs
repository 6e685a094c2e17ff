//! What a finished run hands back: its curve, trades, log and metrics.

use rust_decimal::Decimal;

use crate::broker::{Broker, BrokerConfig, Rejection};
use crate::data::Universe;
use crate::domain::num::to_f64;
use crate::domain::{EquityPoint, Timestamp, Trade};
use crate::metrics::{self, Metrics, MetricsInput};
use crate::strategy::{Params, RunLog};

/// The results of one run.
#[derive(Debug)]
pub struct RunReport {
    universe: Universe,
    /// The parameter values the run used (defaults plus overrides).
    pub params: Params,
    pub broker_config: BrokerConfig,
    /// The account at the close of each step, aligned with [`RunReport::timeline`].
    pub equity: Vec<EquityPoint>,
    pub trades: Vec<Trade>,
    pub rejections: Vec<Rejection>,
    /// Orders still open at the end, cancelled.
    pub cancelled_at_end: usize,
    pub log: RunLog,
    pub metrics: Metrics,
}

impl RunReport {
    pub(super) fn new(
        universe: &Universe,
        params: Params,
        equity: Vec<EquityPoint>,
        broker: &mut Broker,
        log: RunLog,
    ) -> Self {
        let (trades, rejections) = broker.take_records();
        let metrics = metrics::compute(&MetricsInput {
            timeline: universe.timeline(),
            equity: &equity,
            initial_cash: broker.config().initial_cash,
            trades: &trades,
            buy_hold_return_pct: buy_hold_return_pct(universe),
            commission_total: broker.commission_total(),
        });
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
        }
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
            .iter()
            .map(|p| {
                peak = peak.max(p.equity);
                if peak <= Decimal::ZERO {
                    0.0
                } else {
                    to_f64((p.equity / peak - Decimal::ONE) * Decimal::ONE_HUNDRED)
                }
            })
            .collect()
    }
}

/// Buy and hold of the universe in percent: the equal-weight mean over
/// symbols of (last close / first close − 1) × 100.
pub fn buy_hold_return_pct(universe: &Universe) -> Option<f64> {
    let n = universe.symbols().len();
    let mut sum = 0.0;
    for s in 0..n {
        let bars = universe.bars(s);
        let (first, last) = (bars.first()?, bars.last()?);
        sum += to_f64((last.close / first.close - Decimal::ONE) * Decimal::ONE_HUNDRED);
    }
    (n > 0).then(|| sum / n as f64)
}
