//! `POST /api/session`: the service's page exchanges a token for an
//! HttpOnly, SameSite=Strict cookie, which its event streams (a browser's
//! `EventSource` sends no headers) and requests then carry; `DELETE`
//! clears it. Never a token in a URL.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::super::extract::JsonBody;
use super::super::ApiError;
use super::{Guarded, CSRF_COOKIE, SESSION_COOKIE};
use crate::service::accounts::random_hex16;

/// How long the page's session lasts: a working day.
const SESSION_SECS: u64 = 12 * 3600;

/// The body of `POST /api/session`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// A token of this server (`btk_...`).
    pub token: String,
}

/// The session routes.
pub fn router() -> Router<Guarded> {
    Router::new().route("/api/session", post(create).delete(end))
}

/// Sign the service's page in: a token for an HttpOnly, SameSite=Strict session cookie
///
/// Sets `bt_session` (HttpOnly) and `bt_csrf`, which a write made with the
/// cookie must echo as the `X-CSRF-Token` header.
#[utoipa::path(post, path = "/api/session", operation_id = "sign_in", tag = "service", security(()),
    request_body = NewSession,
    responses(
        (status = 200, description = "Signed in; the cookies are set", body = super::super::schemas::SessionBody),
        (status = 400, description = "The body is not JSON, or not sent as application/json", body = super::super::schemas::ErrorBody),
        (status = 422, description = "The JSON is not `{\"token\": ...}`", body = super::super::schemas::ErrorBody),
        (status = 401, description = "The token is not valid, expired or revoked", body = super::super::schemas::ErrorBody),
        (status = 409, description = "This server has no tokens (one local user)", body = super::super::schemas::ErrorBody),
    ))]
pub async fn create(State(state): State<Guarded>, JsonBody(body): JsonBody<NewSession>) -> Result<Response, ApiError> {
    if !state.access.tokens {
        return Err(ApiError::Service(crate::service::ServiceError::Conflict(
            "this server has no tokens: it serves one local user, with nothing to log in to".into(),
        )));
    }
    let principal = match state.service.authenticate(body.token.trim()).await {
        Ok(Ok(principal)) => principal,
        Ok(Err(e)) => return Err(ApiError::Unauthorized(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let csrf = random_hex16().map_err(|e| crate::service::ServiceError::Internal(e.to_string()))?;
    let token = body.token.trim();
    let secure = if state.access.secure_cookies { "; Secure" } else { "" };
    let session =
        format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECS}{secure}");
    let csrf_cookie = format!("{CSRF_COOKIE}={csrf}; SameSite=Strict; Path=/; Max-Age={SESSION_SECS}{secure}");
    tracing::info!(target: "audit", user = principal.user_name, "session started");
    let body = json!({ "user": principal.user_name, "scopes": principal.scopes.to_string() });
    let cookies = AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, csrf_cookie)]);
    Ok((StatusCode::OK, cookies, Json(body)).into_response())
}

/// Sign the page out: the session cookies are cleared
#[utoipa::path(delete, path = "/api/session", operation_id = "sign_out", tag = "service", security(()),
    responses((status = 204, description = "The cookies are cleared")))]
pub async fn end() -> Response {
    let gone = |name: &str| format!("{name}=; SameSite=Strict; Path=/; Max-Age=0");
    let cookies = AppendHeaders([(header::SET_COOKIE, gone(SESSION_COOKIE)), (header::SET_COOKIE, gone(CSRF_COOKIE))]);
    (StatusCode::NO_CONTENT, cookies).into_response()
}
