//! The HTTP API (axum): strategies, datasets and runs under `/api`, plus
//! `/health` and the OpenAPI document. Each module exposes its routes;
//! [`router`] merges them.

mod datasets;
mod error;
mod events;
mod extract;
mod openapi;
mod runs;
mod server;
mod strategies;
mod stream;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub use error::ApiError;
pub use openapi::document as openapi_document;
pub use server::{serve, ServerLimits};

use crate::service::Service;

/// Default largest request body: 16 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

/// The whole API over `service`, refusing bodies above `body_limit` bytes.
pub fn router(service: Service, body_limit: usize) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/api/openapi.json", get(|| async { Json(openapi::document()) }))
        .merge(strategies::router())
        .merge(datasets::router())
        .merge(runs::router())
        .merge(events::router())
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(service)
}

/// Reads an id from a path segment, as a 404 when it is not one.
fn id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| crate::service::ServiceError::NotFound(format!("{what} '{text}'")).into())
}
