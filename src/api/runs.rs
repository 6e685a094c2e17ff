//! `/api/runs`: queue runs, read their state and results, cancel and rerun.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::caller::Caller;
use super::extract::{JsonBody, QueryParams};
use super::schemas::{Accepted, ErrorBody, Run, TableFormat};
use super::stream;
use super::{id, ApiError};
use crate::service::{RunRequest, RunView, Service};
use crate::store::{EquityRow, RunFilter, RunStatus, TradeRow};

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

/// Queue a run (202)
#[utoipa::path(post, path = "/api/runs", operation_id = "create_run", tag = "runs",
    request_body(content = RunRequest, example = json!({
        "strategy_id": 1, "symbols": ["GOOG"], "initial_capital": 10000,
        "commission": { "model": "percent", "rate": 0.001 }, "params": { "fast": 5 }
    })),
    responses(
        (status = 202, description = "Queued", body = Accepted, links(
            ("ShowRun" = (operation_id = "show_run", parameters(("id" = "$response.body#/id")))),
            ("CancelRun" = (operation_id = "cancel_run", parameters(("id" = "$response.body#/id")))),
            ("DeleteRun" = (operation_id = "delete_run", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 404, description = "No such strategy or version", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "A field is invalid (named), or a symbol has no dataset", body = ErrorBody),
        (status = 429, description = "Too many runs are waiting; see Retry-After", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn create(
    State(service): State<Service>,
    caller: Caller,
    client: Client,
    JsonBody(request): JsonBody<RunRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok(queued(&service.submit_from(caller.actor(), ip(client), request, None).await?))
}

/// Queue the same run again
#[utoipa::path(post, path = "/api/runs/{id}/rerun", operation_id = "rerun_run", tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 202, description = "Queued", body = Accepted, links(
            ("ShowRun" = (operation_id = "show_run", parameters(("id" = "$response.body#/id")))),
            ("CancelRun" = (operation_id = "cancel_run", parameters(("id" = "$response.body#/id")))),
            ("DeleteRun" = (operation_id = "delete_run", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "Its stored request cannot be read", body = ErrorBody),
        (status = 422, description = "Its request no longer checks (a dataset deleted since)", body = ErrorBody),
        (status = 429, description = "Too many runs are waiting; see Retry-After", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn rerun(
    State(service): State<Service>,
    caller: Caller,
    client: Client,
    Path(raw): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok(queued(&service.rerun(caller.actor(), id(&raw, "run")?, ip(client)).await?))
}

/// Cancel a queued or running run
#[utoipa::path(post, path = "/api/runs/{id}/cancel", operation_id = "cancel_run", tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 202, description = "Cancelled, or cancelling", body = Accepted),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The run has ended already", body = ErrorBody),
    ))]
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only runs with this status.
    #[param(value_type = Option<RunStatus>)]
    status: Option<String>,
    /// Only runs of this strategy.
    strategy: Option<i64>,
    /// At most this many runs (100 by default, at most 1000).
    // MAX_LIST_LIMIT: the attribute takes a literal (Schemathesis checks that the two agree).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Only runs with a higher id: the last id of the previous page.
    after: Option<i64>,
}

/// Runs in a page of `GET /api/runs` unless `limit` says otherwise, and the most it may ask for.
pub const LIST_LIMIT: usize = 100;
pub const MAX_LIST_LIMIT: usize = 1000;

/// List runs (?status=, ?strategy=)
///
/// Oldest first, a page at a time: `after` is the last id of the previous page.
#[utoipa::path(get, path = "/api/runs", operation_id = "list_runs", tag = "runs",
    params(ListQuery),
    responses(
        (status = 200, description = "Runs, without their logs", body = Vec<Run>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    ))]
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

/// A run: status, progress, queue position, timings, error, metrics, sandbox usage
#[utoipa::path(get, path = "/api/runs/{id}", operation_id = "show_run", tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run", body = Run),
        (status = 404, description = "No such run", body = ErrorBody),
    ))]
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TradesQuery {
    /// `json` (the default) or `csv`.
    #[param(value_type = Option<TableFormat>)]
    format: Option<String>,
}

/// Trades (JSON, or CSV with ?format=csv)
#[utoipa::path(get, path = "/api/runs/{id}/trades", operation_id = "run_trades", tag = "runs",
    params(("id" = i64, Path, description = "The run's id"), TradesQuery),
    responses(
        (status = 200, description = "The run's trades, in the order they closed", content(
            (Vec<TradeRow> = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
    ))]
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EquityQuery {
    /// Every point instead of at most 1000.
    full: Option<bool>,
}

/// At most 1000 points of the equity curve, or all with ?full=true
#[utoipa::path(get, path = "/api/runs/{id}/equity", operation_id = "run_equity", tag = "runs",
    params(("id" = i64, Path, description = "The run's id"), EquityQuery),
    responses(
        (status = 200, description = "Points of the curve, in time order", body = Vec<EquityRow>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
    ))]
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

/// The HTML report of a completed run (self-contained, opens offline)
#[utoipa::path(get, path = "/api/runs/{id}/report", operation_id = "run_report", tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "One self-contained HTML page", body = String, content_type = "text/html"),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The run has not completed", body = ErrorBody),
    ))]
async fn report(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Html<String>, ApiError> {
    Ok(Html(service.run_report(caller.actor(), id(&raw, "run")?).await?))
}

/// Daily, monthly and yearly returns of a completed run
#[utoipa::path(get, path = "/api/runs/{id}/returns", operation_id = "run_returns", tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "Returns by day, month and year", body = crate::metrics::ReturnsTables),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The run has not completed", body = ErrorBody),
    ))]
async fn returns(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let stored = service.returns(caller.actor(), id(&raw, "run")?).await?;
    Ok(Json(parse(&Some(stored))))
}

/// Delete a finished run and its results (409 while it is queued or running)
#[utoipa::path(delete, path = "/api/runs/{id}", operation_id = "delete_run", tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "Deleted", body = super::schemas::DeletedBody),
        (status = 404, description = "No such run (or another user's)", body = super::schemas::ErrorBody),
        (status = 409, description = "A queued or running run or sweep needs it", body = super::schemas::ErrorBody),
    ))]
async fn remove(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "run")?;
    let deleted = service.delete_run(caller.actor(), id).await?;
    Ok(super::deleted_json(&format!("run {id}"), &deleted))
}
