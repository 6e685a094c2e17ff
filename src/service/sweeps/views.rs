//! Sweeps as clients see them: the status with the (partial) leaderboard,
//! pages of variants in any metric's order, and heatmaps over two axes.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::request::CheckedSweep;
use super::{stored_request, Service, ServiceError};
use crate::service::accounts::Actor;
use crate::store::{SweepRow, VariantOrder, VariantPage, VariantRow};
use crate::sweep::{self, AxisValue, Outcome, VariantResult, VariantSet, METRICS};

/// The most variants one page may hold.
pub const MAX_PAGE: u64 = 10_000;

/// `GET /api/sweeps/{id}/variants`: which variants, in which order.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VariantsQuery {
    /// A metric name, or `number` (the default).
    pub sort: Option<String>,
    /// `asc` or `desc`; for a metric, its better values first when absent.
    #[param(pattern = "^(asc|desc)$")]
    pub order: Option<String>,
    /// Only `ran`, `excluded` or `failed` variants.
    #[param(pattern = "^(ran|excluded|failed)$")]
    pub outcome: Option<String>,
    /// Skip this many.
    pub offset: Option<u64>,
    /// At most this many (1 to 10,000; 100 when absent for JSON, all for CSV).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u64>,
    /// `json` (the default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

/// `GET /api/sweeps/{id}/heatmap`: two axes, a metric, and values for
/// axes to hold fixed (the rest are aggregated by their best value).
#[derive(Clone, Debug, Default)]
pub struct HeatmapQuery {
    /// The axis along the columns.
    pub x: String,
    /// The axis along the rows.
    pub y: String,
    /// The metric in the cells; the sweep's objective when absent.
    pub metric: Option<String>,
    /// Other axes held at one value, by name.
    pub fixed: BTreeMap<String, String>,
}

impl VariantsQuery {
    /// The store's page for this query, checked.
    ///
    /// # Errors
    /// A field out of range or unknown, named.
    pub fn page(&self, default_limit: Option<u64>, checked: &CheckedSweep) -> Result<VariantPage<'_>, ServiceError> {
        let order = match self.sort.as_deref() {
            None | Some("number") => {
                if self.order.as_deref().is_some_and(|o| o != "asc") {
                    return Err(ServiceError::invalid("order", "variants sorted by number come in ascending order"));
                }
                VariantOrder::Number
            }
            Some(name) => {
                let metric = metric_index(name, "sort")?;
                let better_first = if metric == checked.objective.metric {
                    !checked.objective.minimize
                } else {
                    METRICS[metric].higher_is_better
                };
                let descending = match self.order.as_deref() {
                    None => better_first,
                    Some("desc") => true,
                    Some("asc") => false,
                    Some(other) => {
                        return Err(ServiceError::invalid("order", format!("use asc or desc, not '{other}'")))
                    }
                };
                VariantOrder::Metric { metric, descending }
            }
        };
        if let Some(outcome) = self.outcome.as_deref() {
            if !["ran", "excluded", "failed"].contains(&outcome) {
                return Err(ServiceError::invalid("outcome", format!("use ran, excluded or failed, not '{outcome}'")));
            }
        }
        let offset = self.offset.unwrap_or(0);
        if i64::try_from(offset).is_err() {
            // The store counts in i64 (as SQL does): a larger offset was
            // read as the largest, silently.
            return Err(ServiceError::invalid("offset", format!("at most {}, not {offset}", i64::MAX)));
        }
        let limit = match self.limit {
            Some(n) if !(1..=MAX_PAGE).contains(&n) => {
                return Err(ServiceError::invalid("limit", format!("from 1 to {MAX_PAGE}, not {n}")))
            }
            Some(n) => Some(n),
            None => default_limit,
        };
        Ok(VariantPage { order, outcome: self.outcome.as_deref(), min_trades: None, offset, limit })
    }
}

/// The index in [`METRICS`] of `name`, or an error naming `field`.
fn metric_index(name: &str, field: &str) -> Result<usize, ServiceError> {
    METRICS.iter().position(|m| m.name == name).ok_or_else(|| {
        let known = METRICS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ");
        ServiceError::invalid(field, format!("unknown metric '{name}'; use one of {known}"))
    })
}

/// A variant as JSON: number, values, outcome, error, metrics.
pub fn variant_json(variants: &VariantSet, r: &VariantResult) -> Value {
    let (outcome, error, metrics) = match &r.outcome {
        Outcome::Ran(ran) => ("ran", Value::Null, sweep::metrics_json(&ran.metrics)),
        Outcome::Excluded => ("excluded", Value::Null, Value::Null),
        Outcome::Failed(message) => ("failed", json!(message), Value::Null),
    };
    json!({
        "number": r.number,
        "values": sweep::values_json(variants, r.number),
        "outcome": outcome,
        "error": error,
        "metrics": metrics,
    })
}

fn result(row: VariantRow) -> VariantResult {
    VariantResult { number: u64::try_from(row.number).unwrap_or(0), outcome: row.outcome }
}

impl Service {
    /// A stored sweep with its checked request.
    async fn sweep_parts(
        &self,
        actor: Actor,
        id: i64,
    ) -> Result<(SweepRow, super::SweepRequest, CheckedSweep), ServiceError> {
        let row = self.sweep_row(actor, id).await?;
        let request = stored_request(&row)?;
        let checked = request.check(usize::MAX)?;
        Ok((row, request, checked))
    }

    /// [`Service::sweep_parts`] of a sweep that ranks its variants over the
    /// whole data: a walk-forward has no variants of its own to list.
    pub(in crate::service) async fn plain_sweep_parts(
        &self,
        actor: Actor,
        id: i64,
    ) -> Result<(SweepRow, super::SweepRequest, CheckedSweep), ServiceError> {
        let parts = self.sweep_parts(actor, id).await?;
        if parts.2.walk_forward.is_some() {
            return Err(ServiceError::Conflict(format!(
                "sweep {id} is a walk-forward: each window chose its own variant; its results are in `walk_forward`"
            )));
        }
        Ok(parts)
    }

    /// Sweep `id` as JSON: status, counts, the leaderboard so far (marked
    /// partial until every variant finished), the best variant, the
    /// Deflated Sharpe Ratio once complete, timings.
    ///
    /// # Errors
    /// NotFound, database failures.
    pub async fn sweep_json(&self, actor: Actor, id: i64) -> Result<Value, ServiceError> {
        let (row, request, checked) = self.sweep_parts(actor, id).await?;
        let store = &self.inner.store;
        let (ran, excluded, failed) = store.variant_counts(id).await?;
        let objective = checked.objective;
        let page = VariantPage::ranked(&objective, checked.top);
        let summary: Value = row.summary.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or(Value::Null);
        let leaders: Vec<Value> = store
            .variant_page(id, &page)
            .await?
            .into_iter()
            .enumerate()
            .map(|(rank, row)| {
                let run = summary["top_runs"].get(row.number.to_string()).cloned().unwrap_or(Value::Null);
                let attempt = row.attempt;
                let mut v = variant_json(&checked.variants, &result(row));
                v["attempt"] = json!(attempt);
                v["rank"] = json!(rank + 1);
                // The run that holds its trades and equity curve, once the sweep completed.
                v["run_id"] = run;
                v
            })
            .collect();
        let is_final = row.status.is_final();
        let walk_forward = summary.get("walk_forward").cloned().unwrap_or(Value::Null);
        let done = match (&checked.walk_forward, self.inner.sweeps.live(id)) {
            // A walk-forward's variants are not stored one by one: counted live, then in its summary.
            (Some(_), Some(live)) => live.done.load(std::sync::atomic::Ordering::Relaxed),
            (Some(_), None) => summary.get("done").and_then(Value::as_u64).unwrap_or(0),
            (None, _) => ran + excluded + failed,
        };
        let elapsed_ms = summary.get("elapsed_ms").and_then(Value::as_f64);
        let config: Value = serde_json::from_str(&row.config).unwrap_or(Value::Null);
        Ok(json!({
            "id": row.id,
            "strategy_id": row.strategy_id,
            "version": request.run.version,
            "status": row.status,
            "queue_position": self.inner.sweeps.position(id),
            "final": is_final,
            "total": row.total,
            "done": done,
            "ran": ran,
            "excluded": excluded,
            "failed": failed,
            "objective": { "metric": objective.name(), "minimize": objective.minimize, "min_trades": objective.min_trades },
            "kind": if checked.walk_forward.is_some() { "walk_forward" } else { "sweep" },
            "best": leaders.first().cloned(),
            "leaderboard": if checked.walk_forward.is_some() {
                Value::Null
            } else {
                json!({ "partial": !is_final || done < row.total as u64, "variants": leaders })
            },
            "walk_forward": walk_forward,
            "deflated_sharpe": summary.get("deflated_sharpe").cloned().unwrap_or(Value::Null),
            "indicators_computed": summary.get("indicators_computed").cloned().unwrap_or(Value::Null),
            "resumed_from": summary.get("resumed_from").cloned().unwrap_or(Value::Null),
            "ran_this_start": summary.get("ran_this_start").cloned().unwrap_or(Value::Null),
            "timings": {
                "created_at": row.created_at,
                "started_at": row.started_at,
                "finished_at": row.finished_at,
                "elapsed_ms": elapsed_ms,
            },
            "error": row.error_message,
            "config": config,
        }))
    }

    /// Sweep `id` as stored, and its progress from its stored variants:
    /// what the event stream of a sweep on worker processes follows.
    ///
    /// # Errors
    /// NotFound, database failures.
    pub async fn stored_sweep_progress(&self, id: i64) -> Result<(SweepRow, super::SweepEvent), ServiceError> {
        let (row, _, checked) = self.sweep_parts(Actor::SYSTEM, id).await?;
        let store = &self.inner.store;
        let (ran, excluded, failed) = store.variant_counts(id).await?;
        let objective = checked.objective;
        let leader = store.variant_page(id, &VariantPage::ranked(&objective, 1)).await?.into_iter().next();
        let best = leader.and_then(|v| match &v.outcome {
            Outcome::Ran(ran) => objective
                .score(&ran.metrics)
                .map(|s| (u64::try_from(v.number).unwrap_or(0), if objective.minimize { -s } else { s })),
            _ => None,
        });
        let progress = super::SweepEvent::Progress {
            sweep_id: id,
            done: ran + excluded + failed,
            total: u64::try_from(row.total).unwrap_or(0),
            failed,
            excluded,
            best,
        };
        Ok((row, progress))
    }

    /// The newest sweeps, as [`Service::sweep_json`] shows them without
    /// their leaderboard.
    ///
    /// # Errors
    /// Database failures.
    pub async fn sweeps_json(&self, actor: Actor, limit: usize) -> Result<Vec<Value>, ServiceError> {
        let rows = self.inner.store.sweeps(actor.owner_filter(), limit).await?;
        let mut all = Vec::with_capacity(rows.len());
        for row in rows {
            let (ran, excluded, failed) = self.inner.store.variant_counts(row.id).await?;
            all.push(json!({
                "id": row.id,
                "strategy_id": row.strategy_id,
                "status": row.status,
                "total": row.total,
                "done": ran + excluded + failed,
                "created_at": row.created_at,
                "finished_at": row.finished_at,
            }));
        }
        Ok(all)
    }

    /// A page of sweep `id`'s finished variants, with the variant set that
    /// names their values.
    ///
    /// # Errors
    /// NotFound, a bad query field, database failures.
    pub async fn sweep_variants(
        &self,
        actor: Actor,
        id: i64,
        query: &VariantsQuery,
        default_limit: Option<u64>,
    ) -> Result<(VariantSet, Vec<(VariantResult, i64)>), ServiceError> {
        let (_, _, checked) = self.plain_sweep_parts(actor, id).await?;
        let page = query.page(default_limit, &checked)?;
        let rows = self.inner.store.variant_page(id, &page).await?;
        Ok((
            checked.variants,
            rows.into_iter().map(|row| (row.attempt, result(row))).map(|(attempt, r)| (r, attempt)).collect(),
        ))
    }

    /// A heatmap of sweep `id`: `metric` per value of axis `x` and of axis
    /// `y`; variants differing in other axes are aggregated by their best
    /// value of the metric (in its direction), unless those axes are fixed.
    ///
    /// # Errors
    /// NotFound, an axis or metric the sweep does not have (named),
    /// database failures.
    pub async fn sweep_heatmap(&self, actor: Actor, id: i64, query: &HeatmapQuery) -> Result<Value, ServiceError> {
        let (row, _, checked) = self.plain_sweep_parts(actor, id).await?;
        let axes = checked.variants.axes();
        let axis_index = |name: &str, field: &str| {
            axes.iter().position(|a| a.name == name).ok_or_else(|| {
                let names = axes.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
                ServiceError::invalid(field, format!("the sweep has no axis '{name}'; its axes are {names}"))
            })
        };
        let (xi, yi) = (axis_index(&query.x, "x")?, axis_index(&query.y, "y")?);
        if xi == yi {
            return Err(ServiceError::invalid("y", "must be another axis than x"));
        }
        let mut fixed = Vec::new();
        for (name, text) in &query.fixed {
            let i = axis_index(name, name)?;
            if i == xi || i == yi {
                return Err(ServiceError::invalid(name.as_str(), "is x or y; it cannot also be held fixed"));
            }
            let wanted: f64 =
                text.parse().map_err(|_| ServiceError::invalid(name.as_str(), format!("'{text}' is not a number")))?;
            if !axes[i].values.iter().any(|v| v.number.as_f64() == wanted) {
                return Err(ServiceError::invalid(name.as_str(), format!("the axis has no value {text}")));
            }
            fixed.push((i, wanted));
        }
        let metric = match &query.metric {
            Some(name) => metric_index(name, "metric")?,
            None => checked.objective.metric,
        };
        let higher_better = if metric == checked.objective.metric {
            !checked.objective.minimize
        } else {
            METRICS[metric].higher_is_better
        };
        // Distinct values of each axis, in the order they first appear.
        let distinct = |i: usize| {
            let mut seen: Vec<&AxisValue> = Vec::new();
            for v in &axes[i].values {
                if !seen.iter().any(|s| s.text == v.text) {
                    seen.push(v);
                }
            }
            seen
        };
        let (xs, ys) = (distinct(xi), distinct(yi));
        let mut cells: Vec<Vec<Option<f64>>> = vec![vec![None; xs.len()]; ys.len()];
        for (number, value) in self.inner.store.variant_metric(id, metric).await? {
            let Some(value) = value else { continue };
            let variant = checked.variants.get(number);
            if fixed.iter().any(|&(i, wanted)| variant.values[i].1.number.as_f64() != wanted) {
                continue;
            }
            let column = xs.iter().position(|v| v.text == variant.values[xi].1.text);
            let line = ys.iter().position(|v| v.text == variant.values[yi].1.text);
            if let (Some(c), Some(l)) = (column, line) {
                let cell = &mut cells[l][c];
                let better = cell.is_none_or(|old| if higher_better { value > old } else { value < old });
                if better {
                    *cell = Some(value);
                }
            }
        }
        let fixed_json: serde_json::Map<String, Value> =
            fixed.iter().map(|&(i, v)| (axes[i].name.clone(), json!(v))).collect();
        Ok(json!({
            "sweep_id": id,
            "final": row.status.is_final(),
            "metric": METRICS[metric].name,
            "aggregate": if higher_better { "max" } else { "min" },
            "x": { "axis": axes[xi].name, "values": xs.iter().map(|v| v.number.to_json()).collect::<Vec<_>>() },
            "y": { "axis": axes[yi].name, "values": ys.iter().map(|v| v.number.to_json()).collect::<Vec<_>>() },
            "fixed": fixed_json,
            "cells": cells,
        }))
    }
}
