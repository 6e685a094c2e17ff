//! The [`Caller`] extractor: who a request comes from, as the access guard
//! found it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiError;
use crate::service::accounts::{Actor, Principal};

/// The principal of a request to `/api/*` (put there by the access guard).
pub struct Caller(pub Principal);

impl Caller {
    /// Whose rows the request sees and creates.
    pub fn actor(&self) -> Actor {
        self.0.actor()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            // Only a route outside the guard lacks one: a server bug, told as a refusal.
            .ok_or_else(|| ApiError::Unauthorized("no credentials were checked for this route".into()))
    }
}
