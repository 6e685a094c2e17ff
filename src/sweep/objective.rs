//! What a sweep ranks its variants by: one of the run metrics, maximised or
//! minimised, with an optional minimum number of trades. The metrics a
//! sweep keeps per variant are the ones listed here.

use rust_decimal::prelude::ToPrimitive;

use super::SweepError;
use crate::metrics::Metrics;

/// A metric a sweep keeps for every variant, and can rank by.
pub struct MetricColumn {
    /// Its name, as in `run --json`.
    pub name: &'static str,
    /// Its value in a run's metrics (`None` where the run has none).
    pub get: fn(&Metrics) -> Option<f64>,
    /// Whether more is better (the default direction of an objective).
    pub higher_is_better: bool,
}

fn dec(d: rust_decimal::Decimal) -> Option<f64> {
    d.to_f64()
}

/// The metrics kept per variant, in the order of a sweep's tables and CSV.
pub static METRICS: [MetricColumn; 16] = [
    MetricColumn { name: "return_pct", get: |m| Some(m.return_pct), higher_is_better: true },
    MetricColumn { name: "annual_return_pct", get: |m| m.annual_return_pct, higher_is_better: true },
    MetricColumn { name: "annual_volatility_pct", get: |m| m.annual_volatility_pct, higher_is_better: false },
    MetricColumn { name: "sharpe", get: |m| m.sharpe, higher_is_better: true },
    MetricColumn { name: "sortino", get: |m| m.sortino, higher_is_better: true },
    MetricColumn { name: "calmar", get: |m| m.calmar, higher_is_better: true },
    MetricColumn { name: "max_drawdown_pct", get: |m| Some(m.max_drawdown_pct), higher_is_better: true },
    MetricColumn { name: "trades", get: |m| Some(m.trades as f64), higher_is_better: true },
    MetricColumn { name: "win_rate_pct", get: |m| m.win_rate_pct, higher_is_better: true },
    MetricColumn { name: "profit_factor", get: |m| m.profit_factor, higher_is_better: true },
    MetricColumn { name: "avg_trade_pct", get: |m| m.avg_trade_pct, higher_is_better: true },
    MetricColumn { name: "sqn", get: |m| m.sqn, higher_is_better: true },
    MetricColumn { name: "expectancy", get: |m| m.expectancy.and_then(dec), higher_is_better: true },
    MetricColumn { name: "net_pnl", get: |m| dec(m.net_pnl), higher_is_better: true },
    MetricColumn { name: "final_equity", get: |m| dec(m.final_equity), higher_is_better: true },
    MetricColumn { name: "exposure_pct", get: |m| Some(m.exposure_pct), higher_is_better: true },
];

/// The index in [`METRICS`] of `trades`.
pub const TRADES: usize = 7;

/// The index in [`METRICS`] of `annual_return_pct`.
pub const ANNUAL_RETURN: usize = 1;

/// The metrics of one run, in the order of [`METRICS`].
pub fn metric_values(metrics: &Metrics) -> Vec<Option<f64>> {
    METRICS.iter().map(|c| (c.get)(metrics).filter(|x| x.is_finite())).collect()
}

/// Which metric ranks the variants, which way, and how many trades a
/// variant needs to be ranked at all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// Index into [`METRICS`].
    pub metric: usize,
    /// Whether lower values rank first.
    pub minimize: bool,
    /// Variants with fewer trades are kept but not ranked.
    pub min_trades: usize,
}

impl Objective {
    /// The objective named `name`, in the metric's own direction unless
    /// `minimize` says otherwise.
    ///
    /// # Errors
    /// `name` is not one of [`METRICS`]; the message lists them.
    pub fn new(name: &str, minimize: Option<bool>, min_trades: usize) -> Result<Objective, SweepError> {
        let metric = METRICS.iter().position(|c| c.name == name).ok_or_else(|| SweepError::UnknownObjective {
            name: name.to_string(),
            known: METRICS.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
        })?;
        let minimize = minimize.unwrap_or(!METRICS[metric].higher_is_better);
        Ok(Objective { metric, minimize, min_trades })
    }

    /// The metric's name.
    pub fn name(&self) -> &'static str {
        METRICS[self.metric].name
    }

    /// The score a variant with `values` (in [`METRICS`] order) is ranked
    /// by, higher first; `None` when it is not ranked (no value, or too few trades).
    pub fn score(&self, values: &[Option<f64>]) -> Option<f64> {
        self.score_of(values[self.metric], values[TRADES])
    }

    /// [`Objective::score`] from the objective's metric and the trades
    /// alone (as a store reads them, without the other metrics).
    pub fn score_of(&self, value: Option<f64>, trades: Option<f64>) -> Option<f64> {
        if trades.unwrap_or(0.0) < self.min_trades as f64 {
            return None;
        }
        value.map(|x| if self.minimize { -x } else { x })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_objective_ranks_in_its_metrics_direction_and_needs_its_trades() {
        assert_eq!(METRICS[TRADES].name, "trades");
        assert_eq!(METRICS[ANNUAL_RETURN].name, "annual_return_pct");
        let sharpe = Objective::new("sharpe", None, 3).unwrap();
        let mut values = vec![None; METRICS.len()];
        values[sharpe.metric] = Some(1.5);
        values[TRADES] = Some(2.0);
        assert_eq!(sharpe.score(&values), None, "2 trades, 3 needed");
        values[TRADES] = Some(3.0);
        assert_eq!(sharpe.score(&values), Some(1.5));
        let vol = Objective::new("annual_volatility_pct", None, 0).unwrap();
        assert!(vol.minimize, "less volatility is better");
        values[vol.metric] = Some(20.0);
        assert_eq!(vol.score(&values), Some(-20.0));
        assert!(!Objective::new("annual_volatility_pct", Some(false), 0).unwrap().minimize);
        let err = Objective::new("sharp", None, 0).unwrap_err().to_string();
        assert!(err.contains("'sharp'") && err.contains("sharpe, sortino"), "{err}");
    }
}
