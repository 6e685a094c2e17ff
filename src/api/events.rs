//! `GET /api/runs/{id}/events`: a run's progress as Server-Sent Events, then
//! one final `completed`, `failed` or `cancelled` event.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::caller::Caller;
use super::schemas::{ErrorBody, ServerSentEvent};
use super::{id, ApiError};
use crate::service::accounts::Actor;
use crate::service::{RunEvent, Service};
use crate::store::RunStatus;

pub fn router() -> Router<Service> {
    Router::new()
        .route("/api/runs/{id}/events", get(events))
        .route("/api/runs/{id}/ws", get(websocket))
        .route("/api/strategies/{id}/events", get(strategy_events))
}

fn sse(event: &RunEvent) -> Event {
    Event::default().event(event.name()).data(serde_json::to_string(event).unwrap_or_default())
}

/// The final event of a run that has ended, from what is stored.
fn final_event(row: &crate::store::RunRow) -> RunEvent {
    RunEvent::ended(row)
}

/// Server-Sent Events: progress, then completed, failed or cancelled
///
/// Each event's `data` is one JSON object with its `event` name and the
/// run's id; a run that has ended sends its final event only.
#[utoipa::path(get, path = "/api/runs/{id}/events", operation_id = "run_events", tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "An event stream that ends after the final event", body = ServerSentEvent,
            content_type = "text/event-stream"),
        (status = 404, description = "No such run", body = ErrorBody),
    ))]
async fn events(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let view = service.run_view(caller.actor(), id(&raw, "run")?).await?;
    let run_id = view.row.id;
    let receiver = if view.row.status.is_final() { None } else { service.subscribe(run_id) };
    let stream: stream::BoxStream<'static, Result<Event, Infallible>> = match receiver {
        Some(rx) => {
            let ended = Arc::new(AtomicBool::new(false));
            let seen = Arc::clone(&ended);
            let follow = service.clone();
            stream::unfold((rx, false, service.clone()), move |(mut rx, done, service)| {
                let seen = Arc::clone(&seen);
                async move {
                    if done {
                        return None;
                    }
                    loop {
                        match rx.recv().await {
                            Ok(event) => {
                                let last = !matches!(event, RunEvent::Progress { .. } | RunEvent::Persisting { .. });
                                seen.store(last, Ordering::Relaxed);
                                return Some((Ok(sse(&event)), (rx, last, service)));
                            }
                            Err(RecvError::Lagged(_)) => continue,
                            // Ended between our check and the subscription, or
                            // claimed by a worker process: the chained poll follows
                            // its stored row.
                            Err(RecvError::Closed) => return None,
                        }
                    }
                }
            })
            .chain(
                stream::once(async move {
                    if ended.load(Ordering::Relaxed) {
                        stream::empty().boxed()
                    } else {
                        polled(follow, run_id)
                    }
                })
                .flatten(),
            )
            .boxed()
        }
        None if !view.row.status.is_final() => polled(service, run_id),
        None => {
            // Ended (or ended just now): its final state is stored.
            let row = service.run_view(caller.actor(), run_id).await.ok().map(|view| view.row);
            let events: Vec<Result<Event, Infallible>> =
                row.filter(|r| r.status.is_final()).map(|r| vec![Ok(sse(&final_event(&r)))]).unwrap_or_default();
            stream::iter(events).boxed()
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// How often the stored row of a run executing in another process (a
/// worker) is read for its events.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The events of a run executing in another process, from its stored row
/// (its worker writes the bars done twice a second): a progress event
/// whenever they change, then the final event.
fn polled(service: Service, run_id: i64) -> stream::BoxStream<'static, Result<Event, Infallible>> {
    polled_events(service, run_id).map(|event| Ok(sse(&event))).boxed()
}

/// [`polled`]'s events, for the SSE stream and the WebSocket alike.
fn polled_events(service: Service, run_id: i64) -> stream::BoxStream<'static, RunEvent> {
    stream::unfold((service, -1i64, false), move |(service, last, done)| async move {
        if done {
            return None;
        }
        loop {
            let row = service.run_view(Actor::SYSTEM, run_id).await.ok()?.row;
            if row.status.is_final() {
                return Some((final_event(&row), (service, last, true)));
            }
            if row.bars_processed != last && row.status == RunStatus::Running {
                return Some((RunEvent::stored_progress(&row), (service, row.bars_processed, false)));
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    })
    .boxed()
}

/// The same events on a WebSocket, one JSON text message each, then a close
///
/// `GET /api/runs/{id}/ws`: the events of `GET /api/runs/{id}/events` on a
/// WebSocket, one JSON text message each (`{"event": "progress", ...}`),
/// then a close once the final one is sent. A request that is not a
/// WebSocket handshake is refused by axum's upgrade extractor, in plain text.
#[utoipa::path(get, path = "/api/runs/{id}/ws", operation_id = "run_websocket", tag = "runs",
    params(
        ("id" = i64, Path, description = "The run's id"),
        ("Connection" = String, Header, description = "`Upgrade`"),
        ("Upgrade" = String, Header, description = "`websocket`"),
        ("Sec-WebSocket-Version" = String, Header, description = "`13`"),
        ("Sec-WebSocket-Key" = String, Header, description = "The handshake's key (RFC 6455)"),
    ),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket handshake (a header is missing or wrong)", body = String,
            content_type = "text/plain"),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 426, description = "The connection cannot be upgraded (HTTP/2)", body = String,
            content_type = "text/plain"),
    ))]
async fn websocket(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let view = service.run_view(caller.actor(), id(&raw, "run")?).await?;
    let run_id = view.row.id;
    let receiver = if view.row.status.is_final() { None } else { service.subscribe(run_id) };
    Ok(upgrade.on_upgrade(move |mut socket| async move {
        let text = |event: &RunEvent| Message::Text(serde_json::to_string(event).unwrap_or_default().into());
        if let Some(mut rx) = receiver {
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        let last = !matches!(event, RunEvent::Progress { .. } | RunEvent::Persisting { .. });
                        if socket.send(text(&event)).await.is_err() {
                            return;
                        }
                        if last {
                            let _ = socket.send(Message::Close(None)).await;
                            return;
                        }
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    // Ended between our look and the subscription: its final state is stored.
                    Err(RecvError::Closed) => break,
                }
            }
        }
        // Ended (its final state is stored), or executing on a worker
        // process: its stored row, followed to the end.
        let mut rest = polled_events(service, run_id);
        while let Some(event) = rest.next().await {
            if socket.send(text(&event)).await.is_err() {
                return;
            }
        }
        let _ = socket.send(Message::Close(None)).await;
    }))
}

/// Server-Sent Events of the strategy's runs and of its watched file's reloads
///
/// `GET /api/strategies/{id}/events`: the events of every run of the
/// strategy that starts from now on, plus new versions and reload errors of
/// its watched file. The stream stays open.
#[utoipa::path(get, path = "/api/strategies/{id}/events", operation_id = "strategy_events", tag = "strategies",
    params(("id" = i64, Path, description = "The strategy's id")),
    responses(
        (status = 200, description = "An event stream that stays open", body = ServerSentEvent,
            content_type = "text/event-stream"),
        (status = 404, description = "No such strategy", body = ErrorBody),
    ))]
async fn strategy_events(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let strategy = service.strategy(caller.actor(), id(&raw, "strategy")?).await?;
    let rx = service.strategy_channel(strategy.id).subscribe();
    let stream = stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) => return Some((Ok(sse(&event)), rx)),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
