//! `/api/runs`: queue runs, read their state and results, cancel and rerun.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::Caller;
use super::extract::{JsonBody, QueryParams};
use super::stream;
use super::{id, ApiError};
use crate::service::{RunRequest, RunView, Service};
use crate::store::{RunFilter, RunStatus};

pub fn router() -> Router<Service> {
    Router::new()
        .route("/api/runs", post(create).get(list))
        .route("/api/runs/{id}", get(show).delete(remove))
        .route("/api/runs/{id}/trades", get(trades))
        .route("/api/runs/{id}/equity", get(equity))
        .route("/api/runs/{id}/returns", get(returns))
        .route("/api/runs/{id}/report", get(report))
        .route("/api/runs/{id}/cancel", post(cancel))
        .route("/api/runs/{id}/rerun", post(rerun))
}

fn parse(text: &Option<String>) -> Value {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null)
}

/// A run as a list shows it: without its log (see the run's own view).
pub fn run_summary_json(view: &RunView) -> Value {
    let mut run = run_json(view);
    if let Some(object) = run.as_object_mut() {
        object.remove("log");
    }
    run
}

/// A run as JSON.
pub fn run_json(view: &RunView) -> Value {
    let r = &view.row;
    let config: Value = serde_json::from_str(&r.config).unwrap_or(Value::Null);
    let error = r.error_kind.as_ref().map(|kind| json!({ "kind": kind, "message": r.error_message }));
    json!({
        "id": r.id,
        "strategy_id": r.strategy_id,
        "version": config.get("version").cloned().unwrap_or(Value::Null),
        "rerun_of": r.rerun_of,
        "status": r.status,
        "attempt": r.attempt,
        "queue_position": view.queue_position,
        "progress_pct": view.progress_pct,
        "bars_processed": view.bars_processed,
        "bars_total": r.bars_total,
        "created_at": r.created_at,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "config": config,
        "fingerprint": r.fingerprint,
        "manifest": parse(&r.manifest),
        "timings": parse(&r.timings),
        "error": error,
        "metrics": parse(&r.metrics),
        "log": parse(&r.log),
        "sandbox": parse(&r.sandbox),
    })
}

fn queued(row: &crate::store::RunRow) -> (StatusCode, Json<Value>) {
    (StatusCode::ACCEPTED, Json(json!({ "id": row.id, "status": "queued" })))
}

/// The client's address, as the server recorded it for the connection.
pub(super) type Client = Option<Extension<ConnectInfo<SocketAddr>>>;

pub(super) fn ip(client: Client) -> Option<IpAddr> {
    client.map(|Extension(ConnectInfo(address))| address.ip())
}

async fn create(
    State(service): State<Service>,
    caller: Caller,
    client: Client,
    JsonBody(request): JsonBody<RunRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok(queued(&service.submit_from(caller.actor(), ip(client), request, None).await?))
}

async fn rerun(
    State(service): State<Service>,
    caller: Caller,
    client: Client,
    Path(raw): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok(queued(&service.rerun(caller.actor(), id(&raw, "run")?, ip(client)).await?))
}

async fn cancel(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = id(&raw, "run")?;
    service.cancel(caller.actor(), id).await?;
    let view = service.run_view(caller.actor(), id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id, "status": view.row.status }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    strategy: Option<i64>,
    /// At most this many runs ([`LIST_LIMIT`] by default, at most [`MAX_LIST_LIMIT`]).
    limit: Option<usize>,
    /// Only runs with a higher id: the last id of the previous page.
    after: Option<i64>,
}

/// Runs in a page of `GET /api/runs` unless `limit` says otherwise, and the most it may ask for.
pub const LIST_LIMIT: usize = 100;
pub const MAX_LIST_LIMIT: usize = 1000;

async fn list(
    State(service): State<Service>,
    caller: Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(|s| s.parse::<RunStatus>())
        .transpose()
        .map_err(|e| ApiError::BadQuery(format!("status: {e}")))?;
    let limit = query.limit.unwrap_or(LIST_LIMIT);
    if !(1..=MAX_LIST_LIMIT).contains(&limit) {
        return Err(ApiError::BadQuery(format!("limit: from 1 to {MAX_LIST_LIMIT}, not {limit}")));
    }
    let filter = RunFilter {
        status,
        strategy_id: query.strategy,
        after: query.after,
        limit: Some(limit),
        newest_first: false,
        owner_id: None,
    };
    let runs = service.runs(caller.actor(), filter).await?;
    Ok(Json(runs.iter().map(run_summary_json).collect()))
}

async fn show(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(run_json(&service.run_view(caller.actor(), id(&raw, "run")?).await?)))
}

/// The columns of `GET /api/runs/{id}/trades?format=csv`.
const TRADES_CSV_HEADER: &str = "symbol,side,qty,entry_time,entry_price,exit_time,exit_price,commission,gross_pnl,\
                                 net_pnl,return_pct,duration_bars,duration_secs,closed_at_end,exit_reason";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TradesQuery {
    format: Option<String>,
}

async fn trades(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
    QueryParams(query): QueryParams<TradesQuery>,
) -> Result<Response, ApiError> {
    let trades = service.trades(caller.actor(), id(&raw, "run")?).await?;
    match query.format.as_deref() {
        None | Some("json") => Ok(stream::json_array(trades)),
        Some("csv") => Ok(stream::csv(TRADES_CSV_HEADER, trades, |t| {
            format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                t.symbol,
                t.side,
                t.qty,
                t.entry_time,
                t.entry_price,
                t.exit_time,
                t.exit_price,
                t.commission,
                t.gross_pnl,
                t.net_pnl,
                t.return_pct,
                t.duration_bars,
                t.duration_secs,
                t.closed_at_end,
                t.exit_reason
            )
        })),
        Some(other) => Err(ApiError::BadQuery(format!("format: use json or csv, not '{other}'"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EquityQuery {
    full: Option<bool>,
}

async fn equity(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
    QueryParams(query): QueryParams<EquityQuery>,
) -> Result<Response, ApiError> {
    let full = query.full.unwrap_or(false);
    let points = service.equity(caller.actor(), id(&raw, "run")?, full).await?;
    if full {
        return Ok(stream::json_array(points));
    }
    Ok(Json(serde_json::to_value(&points).unwrap_or_default()).into_response())
}

/// The HTML report of a completed run: one self-contained page.
async fn report(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Html<String>, ApiError> {
    Ok(Html(service.run_report(caller.actor(), id(&raw, "run")?).await?))
}

/// The daily, monthly and yearly returns of a completed run.
async fn returns(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let stored = service.returns(caller.actor(), id(&raw, "run")?).await?;
    Ok(Json(parse(&Some(stored))))
}

/// `DELETE /api/runs/{id}`: the run and what depends on it (409 while a queued or running run or sweep needs it).
async fn remove(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "run")?;
    let deleted = service.delete_run(caller.actor(), id).await?;
    Ok(super::deleted_json(&format!("run {id}"), &deleted))
}
