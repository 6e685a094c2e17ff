//! The one mapping from errors to HTTP responses.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::service::ServiceError;
use crate::store::StoreError;

/// An error as the API reports it: a status and a JSON body
/// `{"error": kind, "message": ..., "field"?, "line"?, "column"?}`.
#[derive(Debug)]
pub enum ApiError {
    /// The service refused or failed the request: 404, 409, 422, 429, 503,
    /// 507 or 500 by its kind (a database's or an internal error's text is
    /// logged, never sent).
    Service(ServiceError),
    /// The body is not JSON at all (400).
    BadJson(String),
    /// The JSON does not fit the request (unknown field, wrong type): 422.
    BadRequestBody(String),
    /// A query parameter is missing or invalid (400).
    BadQuery(String),
    /// The body is larger than the limit (413).
    TooLarge(String),
    /// No credentials, or ones that do not work (401, with
    /// `WWW-Authenticate: Bearer`); never names the token.
    Unauthorized(String),
    /// A body of a type the route does not take (415).
    MediaType(String),
    /// Credentials that work but do not allow this, or a request from a
    /// foreign host or page (403).
    Forbidden(String),
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError::Service(e)
    }
}

/// The `Retry-After` of a 429: a few seconds, in which queued runs start.
const RETRY_BUSY_AFTER_SECS: u64 = 5;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Service(ServiceError::NotFound(what)) => {
                (StatusCode::NOT_FOUND, json!({ "error": "not_found", "message": format!("{what} not found") }))
            }
            ApiError::Service(ServiceError::Invalid { field, message }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": "invalid", "field": field, "message": format!("{field}: {message}") }),
            ),
            ApiError::Service(ServiceError::Compile { message, line, column }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": "compile", "message": message, "line": line, "column": column }),
            ),
            ApiError::Service(ServiceError::Conflict(message)) => {
                (StatusCode::CONFLICT, json!({ "error": "conflict", "message": message }))
            }
            ApiError::Service(ServiceError::Store(e @ (StoreError::Unavailable(_) | StoreError::FileGone(_)))) => {
                tracing::warn!(error = %e, "database unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, json!({ "error": "unavailable", "message": e.summary() }))
            }
            ApiError::Service(ServiceError::Store(e @ StoreError::Full(_))) => {
                tracing::error!(error = %e, "database full");
                (StatusCode::INSUFFICIENT_STORAGE, json!({ "error": "full", "message": e.summary() }))
            }
            ApiError::Service(ServiceError::Store(e)) => {
                // Database errors are logged, never sent to the client.
                tracing::error!(error = %e, "store error");
                (StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "internal", "message": "internal error" }))
            }
            ApiError::Service(ServiceError::TooLarge(message)) => {
                (StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": "too_large", "message": message }))
            }
            ApiError::Service(ServiceError::Busy(message)) => {
                let body = json!({ "error": "busy", "message": message });
                let retry = [(header::RETRY_AFTER, RETRY_BUSY_AFTER_SECS.to_string())];
                return (StatusCode::TOO_MANY_REQUESTS, retry, Json(body)).into_response();
            }
            ApiError::Service(ServiceError::Unsupported(message)) => {
                (StatusCode::NOT_IMPLEMENTED, json!({ "error": "unsupported", "message": message }))
            }
            ApiError::Service(ServiceError::Internal(detail)) => {
                tracing::error!(error = %detail, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "internal", "message": "internal error" }))
            }
            ApiError::BadJson(message) => (StatusCode::BAD_REQUEST, json!({ "error": "bad_json", "message": message })),
            ApiError::BadRequestBody(message) => {
                (StatusCode::UNPROCESSABLE_ENTITY, json!({ "error": "invalid", "message": message }))
            }
            ApiError::BadQuery(message) => {
                (StatusCode::BAD_REQUEST, json!({ "error": "bad_query", "message": message }))
            }
            ApiError::TooLarge(message) => {
                (StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": "too_large", "message": message }))
            }
            ApiError::Unauthorized(message) => {
                let body = json!({ "error": "unauthorized", "message": message });
                let challenge = [(header::WWW_AUTHENTICATE, "Bearer")];
                return (StatusCode::UNAUTHORIZED, challenge, Json(body)).into_response();
            }
            ApiError::MediaType(message) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, json!({ "error": "media_type", "message": message }))
            }
            ApiError::Forbidden(message) => {
                (StatusCode::FORBIDDEN, json!({ "error": "forbidden", "message": message }))
            }
        };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(e: StoreError) -> (StatusCode, String) {
        let response = ApiError::from(ServiceError::Store(e)).into_response();
        let status = response.status();
        let body = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async { axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap() });
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[test]
    fn a_full_database_was_a_bare_500() {
        let (status, body) = answer(StoreError::Full(sqlx::Error::Protocol("database or disk is full".into())));
        assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
        assert!(body.contains("the database is full") && !body.contains("disk is full"), "{body}");
        let (status, body) = answer(StoreError::FileGone("/srv/bt.db".into()));
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("restart the server") && !body.contains("/srv"), "{body}");
        let (status, body) = answer(StoreError::Db(sqlx::Error::Protocol("no such table: runs".into())));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.contains("runs"), "{body}");
    }
}
