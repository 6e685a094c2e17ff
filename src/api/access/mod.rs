//! Who may call the API, and from where: every request passes [`guard`].
//!
//! - The `Host` header must be an IP address, `localhost` or a name given
//!   with `--allowed-host` (a page whose name was pointed at this server,
//!   DNS rebinding, is refused).
//! - A request that changes something and comes from a browser page
//!   (`Origin` set) must come from the service's own page or an origin given
//!   with `--cors-origin`.
//! - `/api/*` needs credentials when the server has tokens: `Authorization:
//!   Bearer btk_...`, or the session cookie that `POST /api/session` sets
//!   for the service's page (HttpOnly, SameSite=Strict; writes made with it
//!   also need the `X-CSRF-Token` header equal to the `bt_csrf` cookie).
//!   A server without tokens serves one local user (loopback only).
//! - The credentials' scopes must cover the route ([`rules::required_scope`]).
//! - Every request that changes something is logged with who made it
//!   (target `audit`).

mod cookies;
mod rules;
pub mod session;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use cookies::{CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE};

use super::ApiError;
use crate::service::accounts::{AuthError, Principal};
use crate::service::Service;

/// How the server admits requests.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// Whether requests need a token (the database has some); without,
    /// every request acts as the one local user.
    pub tokens: bool,
    /// Host names the server is reached by, besides IP addresses and `localhost`.
    pub hosts: Vec<String>,
    /// Origins whose pages may call the API (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// Whether the page's session cookies are marked `Secure` (sent over
    /// HTTPS only): for a server behind a TLS proxy.
    pub secure_cookies: bool,
}

/// The state [`guard`] runs with.
#[derive(Clone)]
pub struct Guarded {
    /// The service, to look tokens up.
    pub service: Service,
    /// The rules.
    pub access: Arc<Access>,
}

/// Checks a request's host, origin, credentials and scope, puts its
/// [`Principal`] in the request's extensions, and logs the writes.
pub async fn guard(State(state): State<Guarded>, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let access = &state.access;
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    if !rules::host_allowed(&host, &access.hosts) {
        let shown: String = host.chars().take(100).collect();
        return ApiError::Forbidden(format!(
            "the Host '{shown}' is not this server's; start it with --allowed-host NAME to be reached by a name"
        ))
        .into_response();
    }
    let safe = rules::is_safe(&method);
    if !safe {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("(unreadable)");
            if !rules::origin_allowed(origin, &host, &access.cors_origins) {
                return ApiError::Forbidden(format!(
                    "a request from the page at {} may not change anything here (start the server with \
                     --cors-origin to allow an origin)",
                    origin.chars().take(100).collect::<String>()
                ))
                .into_response();
            }
        }
    }
    if rules::is_public(&path) {
        return next.run(request).await;
    }
    let principal = match identify(&state, request.headers(), safe).await {
        Ok(principal) => principal,
        Err(e) => return e.into_response(),
    };
    if let Some(scope) = rules::required_scope(&method, &path) {
        if !principal.scopes.has(scope) {
            return ApiError::Forbidden(format!(
                "this token does not have the '{scope}' scope ({method} {path} needs it); it has {}",
                principal.scopes
            ))
            .into_response();
        }
    }
    let user = principal.user_name.clone();
    request.extensions_mut().insert(principal);
    let response = next.run(request).await;
    if !safe {
        tracing::info!(target: "audit", user, %method, path, status = response.status().as_u16(), "write");
    }
    response
}

/// The principal behind a request's credentials.
async fn identify(state: &Guarded, headers: &HeaderMap, safe: bool) -> Result<Principal, ApiError> {
    if !state.access.tokens {
        return Ok(Principal::local());
    }
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(|v| {
        let v = v.trim();
        v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")).unwrap_or(v).trim().to_string()
    });
    let (secret, from_cookie) = match bearer {
        Some(secret) => (secret, false),
        None => match cookies::get(headers, SESSION_COOKIE) {
            Some(secret) => (secret, true),
            None => return Err(ApiError::Unauthorized(AuthError::Missing.to_string())),
        },
    };
    if from_cookie && !safe {
        // A cookie is sent by the browser on its own: a write made with it
        // must also prove it comes from the page that can read bt_csrf.
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let expected = cookies::get(headers, CSRF_COOKIE);
        if sent.is_none() || sent != expected.as_deref() {
            return Err(ApiError::Forbidden(format!(
                "a write with the session cookie needs the {CSRF_HEADER} header, equal to the {CSRF_COOKIE} cookie"
            )));
        }
    }
    match state.service.authenticate(&secret).await {
        Ok(Ok(principal)) => Ok(principal),
        Ok(Err(e)) => Err(ApiError::Unauthorized(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// A CORS layer for the origins given (none: no layer, browsers refuse
/// cross-origin calls).
pub fn cors(access: &Access) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if access.cors_origins.is_empty() {
        return None;
    }
    let origins: Vec<header::HeaderValue> =
        access.cors_origins.iter().filter_map(|o| o.trim_end_matches('/').parse().ok()).collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::HeaderName::from_static(CSRF_HEADER)])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
