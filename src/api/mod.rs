//! The HTTP API (axum): strategies, datasets and runs under `/api`, plus
//! `/health`, the OpenAPI document and its interactive page. Each module
//! exposes its routes; [`router`] merges them.

mod access;
mod caller;
mod datasets;
mod deadlines;
mod docs;
mod error;
mod events;
mod extract;
mod openapi;
mod runs;
mod schemas;
mod server;
mod strategies;
mod stream;
mod sweeps;
mod web;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub use access::Access;
pub use error::ApiError;
pub use openapi::document as openapi_document;
pub use server::{serve, ServerLimits};

use crate::service::Service;

/// Default largest request body: 16 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

/// Default largest dataset upload: 1 GiB (read as a stream, never held whole).
pub const DEFAULT_UPLOAD_LIMIT: usize = 1 << 30;

/// The whole API over `service`, admitting requests as `access` says,
/// refusing bodies above `body_limit` bytes, and dataset uploads above
/// `upload_limit`.
pub fn router(service: Service, access: Access, body_limit: usize, upload_limit: usize) -> Router {
    let others = Router::new()
        .route("/health", get(health))
        .merge(openapi::router())
        .merge(docs::router())
        .merge(strategies::router())
        .merge(runs::router())
        .merge(events::router())
        .merge(sweeps::router())
        .merge(web::router())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(body_limit, refuse_declared_oversize));
    let uploads = datasets::router(upload_limit)
        .layer(axum::middleware::from_fn_with_state(upload_limit, refuse_declared_oversize));
    let access = std::sync::Arc::new(access);
    let guarded = access::Guarded { service: service.clone(), access: access.clone() };
    let session = access::session::router().layer(DefaultBodyLimit::max(body_limit)).with_state(guarded.clone());
    let app = others
        .merge(uploads)
        .with_state(service)
        .merge(session)
        .layer(axum::middleware::from_fn_with_state(guarded, access::guard));
    match access::cors(&access) {
        Some(cors) => app.layer(cors),
        None => app,
    }
}

/// Refuses a body whose declared length is over `limit` before reading any
/// of it (a client claiming 10 GB is answered at once, not after sending them).
async fn refuse_declared_oversize(
    State(limit): State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => {
            ApiError::TooLarge(format!("the request body is {n} bytes; the server takes at most {limit}"))
                .into_response()
        }
        _ => next.run(request).await,
    }
}

/// Whether the service and its database answer (503 when the database does not)
///
/// `200 {"status": "ok"}` when the database answers, else `503
/// {"status": "unavailable", "message"}` (so that a load balancer or a
/// supervisor sees what clients would).
#[utoipa::path(get, path = "/health", security(()), operation_id = "health", tag = "service",
    responses(
        (status = 200, description = "The database answers", body = schemas::Health),
        (status = 503, description = "The database does not answer", body = schemas::Health),
    ))]
async fn health(State(service): State<Service>) -> (StatusCode, Json<serde_json::Value>) {
    match service.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            let body = json!({ "status": "unavailable", "message": e.summary() });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        }
    }
}

/// The answer to a deletion: what was deleted, and the finished runs and
/// sweeps that went with it.
fn deleted_json(what: &str, deleted: &crate::service::Deleted) -> Json<serde_json::Value> {
    Json(json!({ "deleted": what, "runs": deleted.runs, "sweeps": deleted.sweeps }))
}

/// Reads an id from a path segment, as a 404 when it is not one.
fn id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| crate::service::ServiceError::NotFound(format!("{what} '{text}'")).into())
}
