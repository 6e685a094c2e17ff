//! `/api/sweeps`: queue sweeps, read their status, variants and heatmaps,
//! follow their events, cancel them, and turn a variant into a run.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;

use super::caller::Caller;
use super::extract::{parse_json, JsonBody, QueryParams};
use super::runs::{ip, Client};
use super::schemas::{Accepted, ErrorBody, Heatmap, ServerSentEvent, Sweep, SweepAccepted, SweepSummary, Variant};
use super::{id, ApiError};
use crate::service::accounts::Actor;
use crate::service::{
    HeatmapQuery, Service, SweepEvent, SweepFields, SweepRequest, VariantsQuery, RUN_FIELDS, SWEEP_FIELDS,
};
use crate::store::RunStatus;

pub fn router() -> Router<Service> {
    Router::new()
        .route("/api/sweeps", post(create).get(list))
        .route("/api/sweeps/{id}", get(show).delete(remove))
        .route("/api/sweeps/{id}/variants", get(variants))
        .route("/api/sweeps/{id}/variants/{number}/run", post(variant_run))
        .route("/api/sweeps/{id}/heatmap", get(heatmap))
        .route("/api/sweeps/{id}/report", get(report))
        .route("/api/sweeps/{id}/events", get(events))
        .route("/api/sweeps/{id}/cancel", post(cancel))
}

/// Queue a sweep: a run's fields plus grid or variants, random, constraint, objective, top (202)
#[utoipa::path(post, path = "/api/sweeps", operation_id = "create_sweep", tag = "sweeps",
    request_body(content = super::openapi::SweepRequestSchema, example = json!({
        "strategy_id": 1, "symbols": ["GOOG"], "initial_capital": 10000,
        "grid": ["fast=5:15:5", "slow=20,30"], "objective": "sharpe", "top": 5
    })),
    responses(
        (status = 202, description = "Queued", body = SweepAccepted, links(
            ("ShowSweep" = (operation_id = "show_sweep", parameters(("id" = "$response.body#/id")))),
            ("CancelSweep" = (operation_id = "cancel_sweep", parameters(("id" = "$response.body#/id")))),
            ("DeleteSweep" = (operation_id = "delete_sweep", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 404, description = "No such strategy or version", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "A field is invalid (named)", body = ErrorBody),
        (status = 429, description = "Too many sweeps are waiting; see Retry-After", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn create(
    State(service): State<Service>,
    caller: Caller,
    JsonBody(object): JsonBody<Map<String, Value>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if let Some(unknown) =
        object.keys().find(|k| !RUN_FIELDS.contains(&k.as_str()) && !SWEEP_FIELDS.contains(&k.as_str()))
    {
        return Err(ApiError::BadRequestBody(format!(
            "unknown field `{unknown}`: a sweep takes a run's fields ({}) and {}",
            RUN_FIELDS.join(", "),
            SWEEP_FIELDS.join(", ")
        )));
    }
    let (run, sweep) = SweepRequest::split(object);
    // Each part read as its own type, so that an error names its field.
    let bytes = |map: Map<String, Value>| serde_json::to_vec(&Value::Object(map)).unwrap_or_default();
    let request = SweepRequest { run: parse_json(&bytes(run))?, sweep: parse_json::<SweepFields>(&bytes(sweep))? };
    let row = service.submit_sweep(caller.actor(), request).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": row.id, "status": row.status, "total": row.total }))))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// At most this many sweeps, newest first (100 by default, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// List sweeps, newest first
#[utoipa::path(get, path = "/api/sweeps", operation_id = "list_sweeps", tag = "sweeps",
    params(ListQuery),
    responses(
        (status = 200, description = "Sweeps, without their leaderboards", body = Vec<SweepSummary>),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
    ))]
async fn list(
    State(service): State<Service>,
    caller: Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadQuery(format!("limit: from 1 to 1000, not {limit}")));
    }
    Ok(Json(Value::Array(service.sweeps_json(caller.actor(), limit).await?)))
}

/// A sweep: status, counts, final, the (partial) leaderboard, best, Deflated Sharpe Ratio
#[utoipa::path(get, path = "/api/sweeps/{id}", operation_id = "show_sweep", tag = "sweeps",
    params(("id" = i64, Path, description = "The sweep's id")),
    responses(
        (status = 200, description = "The sweep", body = Sweep),
        (status = 404, description = "No such sweep", body = ErrorBody),
    ))]
async fn show(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(service.sweep_json(caller.actor(), id(&raw, "sweep")?).await?))
}

/// Variants read from the store per chunk of a CSV of all of them.
const CSV_CHUNK: u64 = 5000;

/// Finished variants (?sort=METRIC&order=&outcome=&offset=&limit=, ?format=csv)
#[utoipa::path(get, path = "/api/sweeps/{id}/variants", operation_id = "sweep_variants", tag = "sweeps",
    params(("id" = i64, Path, description = "The sweep's id"), VariantsQuery),
    responses(
        (status = 200, description = "A page of finished variants", content(
            (Vec<Variant> = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A query parameter is invalid", body = ErrorBody),
        (status = 404, description = "No such sweep", body = ErrorBody),
        (status = 409, description = "The sweep is a walk-forward: its results are in its status", body = ErrorBody),
        (status = 422, description = "A query field is out of range or unknown (named)", body = ErrorBody),
    ))]
async fn variants(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
    QueryParams(query): QueryParams<VariantsQuery>,
) -> Result<Response, ApiError> {
    let id = id(&raw, "sweep")?;
    match query.format.as_deref() {
        None | Some("json") => {
            let (set, rows) = service.sweep_variants(caller.actor(), id, &query, Some(100)).await?;
            let items: Vec<Value> = rows
                .iter()
                .map(|(r, attempt)| {
                    let mut v = crate::service::variant_json(&set, r);
                    v["attempt"] = json!(attempt);
                    v
                })
                .collect();
            Ok(Json(Value::Array(items)).into_response())
        }
        Some("csv") => csv(service, caller.actor(), id, query).await,
        Some(other) => Err(ApiError::BadQuery(format!("format: use json or csv, not '{other}'"))),
    }
}

/// Every variant the query selects as CSV (all when it sets no limit),
/// read from the store a chunk at a time as the body is sent.
async fn csv(service: Service, actor: Actor, id: i64, query: VariantsQuery) -> Result<Response, ApiError> {
    // Checks the query and reads the header's axes before anything is sent.
    let first = VariantsQuery { limit: Some(CSV_CHUNK.min(query.limit.unwrap_or(CSV_CHUNK))), ..query.clone() };
    let (set, rows) = service.sweep_variants(actor, id, &first, None).await?;
    let header = crate::sweep::csv_header(&set);
    let wanted = query.limit.unwrap_or(u64::MAX);
    let start = query.offset.unwrap_or(0);
    let mut head = format!("{header}\n");
    for (r, _) in &rows {
        head.push_str(&crate::sweep::csv_row(&set, r));
        head.push('\n');
    }
    let sent = rows.len() as u64;
    let more = sent == first.limit.unwrap_or(0) && sent < wanted;
    let state = (service, query, set, start + sent, wanted - sent, more);
    let rest = stream::unfold(state, move |(service, query, set, offset, left, more)| async move {
        if !more || left == 0 {
            return None;
        }
        let limit = CSV_CHUNK.min(left);
        let page = VariantsQuery { offset: Some(offset), limit: Some(limit), ..query.clone() };
        let rows = match service.sweep_variants(actor, id, &page, None).await {
            Ok((_, rows)) => rows,
            Err(e) => {
                return Some((Err(std::io::Error::other(e.to_string())), (service, query, set, offset, 0, false)))
            }
        };
        let mut out = String::new();
        for (r, _) in &rows {
            out.push_str(&crate::sweep::csv_row(&set, r));
            out.push('\n');
        }
        let n = rows.len() as u64;
        Some((Ok(out), (service, query, set, offset + n, left - n, n == limit)))
    });
    let body = stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(rest);
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], Body::from_stream(body)).into_response())
}

/// A metric over two axes (?x=&y=&metric=; other axes best, or fixed as ?NAME=VALUE)
///
/// Any other query parameter holds the axis of its name at its value.
#[utoipa::path(get, path = "/api/sweeps/{id}/heatmap", operation_id = "sweep_heatmap", tag = "sweeps",
    params(
        ("id" = i64, Path, description = "The sweep's id"),
        ("x" = String, Query, description = "The axis along the columns"),
        ("y" = String, Query, description = "The axis along the rows"),
        ("metric" = Option<String>, Query, description = "The metric in the cells; the sweep's objective when absent"),
    ),
    responses(
        (status = 200, description = "The heatmap", body = Heatmap),
        (status = 400, description = "x or y is missing", body = ErrorBody),
        (status = 404, description = "No such sweep", body = ErrorBody),
        (status = 409, description = "The sweep is a walk-forward", body = ErrorBody),
        (status = 422, description = "An axis or metric the sweep does not have (named)", body = ErrorBody),
    ))]
async fn heatmap(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
    QueryParams(mut query): QueryParams<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "sweep")?;
    let x = query.remove("x").ok_or_else(|| ApiError::BadQuery("x: name the axis along the columns".into()))?;
    let y = query.remove("y").ok_or_else(|| ApiError::BadQuery("y: name the axis along the rows".into()))?;
    let metric = query.remove("metric");
    // Every other parameter holds an axis at a value.
    let fixed: BTreeMap<String, String> = query.into_iter().collect();
    Ok(Json(service.sweep_heatmap(caller.actor(), id, &HeatmapQuery { x, y, metric, fixed }).await?))
}

/// The sweep's HTML report; partial, reloading itself, until it ends
#[utoipa::path(get, path = "/api/sweeps/{id}/report", operation_id = "sweep_report", tag = "sweeps",
    params(("id" = i64, Path, description = "The sweep's id")),
    responses(
        (status = 200, description = "One self-contained HTML page", body = String, content_type = "text/html"),
        (status = 404, description = "No such sweep", body = ErrorBody),
        (status = 409, description = "The sweep is a walk-forward", body = ErrorBody),
    ))]
async fn report(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Html<String>, ApiError> {
    Ok(Html(service.sweep_report(caller.actor(), id(&raw, "sweep")?).await?))
}

/// Cancel a sweep; its finished variants are kept
#[utoipa::path(post, path = "/api/sweeps/{id}/cancel", operation_id = "cancel_sweep", tag = "sweeps",
    params(("id" = i64, Path, description = "The sweep's id")),
    responses(
        (status = 202, description = "Cancelled, or cancelling", body = Accepted),
        (status = 404, description = "No such sweep", body = ErrorBody),
        (status = 409, description = "The sweep has ended already", body = ErrorBody),
    ))]
async fn cancel(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = id(&raw, "sweep")?;
    let status = service.cancel_sweep(caller.actor(), id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id, "status": status }))))
}

/// Queue one variant as an ordinary run with full results
#[utoipa::path(post, path = "/api/sweeps/{id}/variants/{number}/run", operation_id = "sweep_variant_run", tag = "sweeps",
    params(
        ("id" = i64, Path, description = "The sweep's id"),
        ("number" = u64, Path, description = "The variant's number"),
    ),
    responses(
        (status = 202, description = "The run is queued", body = Accepted, links(
            ("ShowRun" = (operation_id = "show_run", parameters(("id" = "$response.body#/id")))),
            ("CancelRun" = (operation_id = "cancel_run", parameters(("id" = "$response.body#/id")))),
            ("DeleteRun" = (operation_id = "delete_run", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 404, description = "No such sweep or variant", body = ErrorBody),
        (status = 409, description = "The variant cannot run (excluded, or the sweep is a walk-forward)", body = ErrorBody),
        (status = 422, description = "Its request no longer checks", body = ErrorBody),
        (status = 429, description = "Too many runs are waiting; see Retry-After", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn variant_run(
    State(service): State<Service>,
    caller: Caller,
    client: Client,
    Path((raw, number)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = id(&raw, "sweep")?;
    let number: u64 = number
        .parse()
        .map_err(|_| crate::service::ServiceError::NotFound(format!("variant '{number}' of sweep {id}")))?;
    let row = service.variant_run(caller.actor(), id, number, ip(client)).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": row.id, "status": "queued" }))))
}

fn sse(event: &SweepEvent) -> Event {
    Event::default().event(event.name()).data(serde_json::to_string(event).unwrap_or_default())
}

/// The final event of a sweep that has ended, from what is stored.
fn final_event(id: i64, status: RunStatus, error: Option<String>) -> SweepEvent {
    match status {
        RunStatus::Completed => SweepEvent::Completed { sweep_id: id },
        RunStatus::Cancelled => SweepEvent::Cancelled { sweep_id: id },
        _ => SweepEvent::Failed { sweep_id: id, message: error.unwrap_or_default() },
    }
}

/// Server-Sent Events: variant, progress, then completed, cancelled or failed
///
/// `GET /api/sweeps/{id}/events`: each variant as it is stored, progress at
/// most ten times a second, then one final `completed`, `cancelled` or `failed`.
/// A sweep on worker processes (`serve --workers 0`) streams progress only,
/// read from the database four times a second, and the final event.
#[utoipa::path(get, path = "/api/sweeps/{id}/events", operation_id = "sweep_events", tag = "sweeps",
    params(("id" = i64, Path, description = "The sweep's id")),
    responses(
        (status = 200, description = "An event stream that ends after the final event", body = ServerSentEvent,
            content_type = "text/event-stream"),
        (status = 404, description = "No such sweep", body = ErrorBody),
    ))]
async fn events(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let id = id(&raw, "sweep")?;
    let row = service.sweep_row(caller.actor(), id).await?;
    let receiver = if row.status.is_final() { None } else { service.subscribe_sweep(id) };
    let stream: stream::BoxStream<'static, Result<Event, Infallible>> = match receiver {
        Some(rx) => stream::unfold((rx, false, service.clone()), move |(mut rx, done, service)| async move {
            if done {
                return None;
            }
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        let last = event.is_last();
                        return Some((Ok(sse(&event)), (rx, last, service)));
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => {
                        let row = service.sweep_row(Actor::SYSTEM, id).await.ok()?;
                        let event = final_event(id, row.status, row.error_message);
                        return Some((Ok(sse(&event)), (rx, true, service)));
                    }
                }
            }
        })
        .boxed(),
        None if row.on_workers && !row.status.is_final() => follow_stored(service.clone(), id),
        None => {
            let row = service.sweep_row(caller.actor(), id).await.ok().filter(|r| r.status.is_final());
            let events: Vec<Result<Event, Infallible>> =
                row.map(|r| vec![Ok(sse(&final_event(id, r.status, r.error_message)))]).unwrap_or_default();
            stream::iter(events).boxed()
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// How often the event stream of a sweep on worker processes reads its row.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The events of a sweep on worker processes, from the database: progress
/// whenever its stored variants change, then the final event.
fn follow_stored(service: Service, id: i64) -> stream::BoxStream<'static, Result<Event, Infallible>> {
    stream::unfold((service, None::<u64>, false), move |(service, last, ended)| async move {
        if ended {
            return None;
        }
        loop {
            let (row, progress) = service.stored_sweep_progress(id).await.ok()?;
            if row.status.is_final() {
                let event = final_event(id, row.status, row.error_message);
                return Some((Ok(sse(&event)), (service, last, true)));
            }
            let done = match &progress {
                SweepEvent::Progress { done, .. } => Some(*done),
                _ => None,
            };
            if done != last {
                return Some((Ok(sse(&progress)), (service, done, false)));
            }
            tokio::time::sleep(FOLLOW_EVERY).await;
        }
    })
    .boxed()
}

/// Delete a finished sweep and its variants (409 while it is queued or running)
#[utoipa::path(delete, path = "/api/sweeps/{id}", operation_id = "delete_sweep", tag = "sweeps",
    params(("id" = i64, Path, description = "The sweep's id")),
    responses(
        (status = 200, description = "Deleted", body = super::schemas::DeletedBody),
        (status = 404, description = "No such sweep (or another user's)", body = super::schemas::ErrorBody),
        (status = 409, description = "A queued or running run or sweep needs it", body = super::schemas::ErrorBody),
    ))]
async fn remove(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "sweep")?;
    let deleted = service.delete_sweep(caller.actor(), id).await?;
    Ok(super::deleted_json(&format!("sweep {id}"), &deleted))
}
