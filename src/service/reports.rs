//! Reports from stored results: a completed run's page and a sweep's
//! (partial while it runs: the page reloads itself until it is final).

use serde_json::Value;

use super::accounts::Actor;
use super::{RunRequest, Service, ServiceError};
use crate::domain::num::to_f64;
use crate::metrics::ReturnsTables;
use crate::report::{self, CurvePoint, Leader, Page, RunInput, SweepInput, TradeLine};
use crate::store::{RunStatus, VariantPage};
use crate::sweep::{Deflated, Outcome};

/// Seconds between two reloads of a partial sweep's report.
const SWEEP_REFRESH_SECS: u32 = 3;

fn parse(text: &Option<String>) -> Value {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null)
}

impl Service {
    /// The report of completed run `id`, from its stored results and the
    /// datasets it read.
    ///
    /// # Errors
    /// NotFound; Conflict when the run has not completed.
    pub async fn run_report(&self, actor: Actor, id: i64) -> Result<String, ServiceError> {
        let row = self.run_row(actor, id).await?;
        if row.status != RunStatus::Completed {
            return Err(ServiceError::Conflict(format!(
                "run {id} is {}: a report exists once it completes",
                row.status
            )));
        }
        let trades = self.trades(actor, id).await?;
        let points = self.equity(actor, id, true).await?;
        let returns: ReturnsTables = serde_json::from_str(&self.returns(actor, id).await?)
            .map_err(|e| ServiceError::Internal(format!("run {id}'s stored returns do not read back: {e}")))?;
        // The price charts need the bars the run read: rebuilt from its config.
        let universe = match self.run_universe(row.owner_id, &row.config).await {
            Ok(universe) => Some(universe),
            Err(e) => {
                tracing::warn!(run = id, error = %e, "a report without price charts: its data cannot be loaded");
                None
            }
        };
        let strategy = self.strategy(Actor::SYSTEM, row.strategy_id).await?;
        let mut manifest = parse(&row.manifest);
        if let (Some(object), Some(fingerprint)) = (manifest.as_object_mut(), &row.fingerprint) {
            object.insert("fingerprint".into(), Value::from(fingerprint.clone()));
        }
        let curve = points
            .iter()
            .map(|p| CurvePoint {
                time: p.time,
                equity: to_f64(p.equity),
                drawdown_pct: p.drawdown_pct,
                benchmark: p.benchmark_equity.map(to_f64),
            })
            .collect();
        let input = RunInput {
            title: format!("{}: run {id}", strategy.name),
            manifest,
            metrics: parse(&row.metrics),
            log: parse(&row.log),
            curve,
            universe: universe.as_ref(),
            trades: trades.iter().map(TradeLine::from).collect(),
            monthly: &returns.monthly,
            yearly: &returns.yearly,
        };
        let data = report::run_data(&input);
        report::render(Page::Run, &input.title, &data).map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// The data a run with the stored `config` reads, as it read them.
    async fn run_universe(&self, owner_id: i64, config: &str) -> Result<crate::data::Universe, String> {
        let request: RunRequest = serde_json::from_str(config).map_err(|e| e.to_string())?;
        let checked = request.check().map_err(|e| e.to_string())?;
        let (universe, _, _) = self.market_data(owner_id, &request, &checked).await.map_err(|e| e.to_string())?;
        Ok(universe)
    }

    /// The report of sweep `id`: its leaderboard (with links to the best
    /// variants' run reports once they are kept), heatmap, sensitivities
    /// and Deflated Sharpe Ratio; partial, and reloading itself, until the
    /// sweep has ended.
    ///
    /// # Errors
    /// NotFound; Conflict for a walk-forward (its results are in its status).
    pub async fn sweep_report(&self, actor: Actor, id: i64) -> Result<String, ServiceError> {
        let (row, _, checked) = self.plain_sweep_parts(actor, id).await?;
        let store = &self.inner.store;
        let (ran, excluded, failed) = store.variant_counts(id).await?;
        let objective = checked.objective;
        let summary = parse(&row.summary);
        let leaders = store
            .variant_page(id, &VariantPage::ranked(&objective, checked.top))
            .await?
            .into_iter()
            .filter_map(|v| match v.outcome {
                Outcome::Ran(ran) => {
                    let run = summary["top_runs"].get(v.number.to_string()).and_then(Value::as_i64);
                    Some(Leader {
                        number: v.number as u64,
                        metrics: ran.metrics,
                        report: run.map(|run| format!("/api/runs/{run}/report")),
                    })
                }
                _ => None,
            })
            .collect();
        let ran_rows = store
            // Every variant that ran, for the heatmaps: unranked ones too, last.
            .variant_page(
                id,
                &VariantPage { min_trades: None, ..VariantPage::ranked(&objective, report::sweep::VARIANT_BUDGET) },
            )
            .await?
            .into_iter()
            .filter_map(|v| match v.outcome {
                Outcome::Ran(ran) => Some((v.number as u64, ran.metrics)),
                _ => None,
            })
            .collect();
        let deflated: Option<Deflated> = serde_json::from_value(summary["deflated_sharpe"].clone()).ok();
        let is_final = row.status.is_final();
        let input = SweepInput {
            title: format!("sweep {id}"),
            is_final,
            counts: [row.total as u64, ran + excluded + failed, ran, excluded, failed],
            objective,
            deflated,
            variants: &checked.variants,
            leaders,
            ran: ran_rows,
        };
        let page = Page::Sweep { refresh_secs: (!is_final).then_some(SWEEP_REFRESH_SECS) };
        report::render(page, &input.title, &report::sweep_data(&input))
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }
}
