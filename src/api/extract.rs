//! Request extractors whose rejections are [`ApiError`]s with a message that
//! names the problem (the field, the limit).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::ApiError;

/// JSON body: malformed JSON is 400, JSON that does not fit (an unknown
/// field, a wrong type) is 422 naming the field, too large is 413.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::BadRequestBody(e.body_text())),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::BadJson(e.body_text())),
            Err(JsonRejection::MissingJsonContentType(e)) => Err(ApiError::BadJson(e.body_text())),
            Err(JsonRejection::BytesRejection(e)) => Err(bytes_rejection(e)),
            Err(e) => Err(ApiError::BadJson(e.body_text())),
        }
    }
}

/// A raw body, with the size limit reported as 413.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(bytes_rejection)
    }
}

fn bytes_rejection(e: BytesRejection) -> ApiError {
    match e {
        BytesRejection::FailedToBufferBody(inner) if inner.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge("the request body is larger than the server's limit".into())
        }
        other => ApiError::BadJson(other.body_text()),
    }
}

/// Query string: unknown or invalid parameters are 400, naming them.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| QueryParams(value))
            .map_err(|e| ApiError::BadQuery(e.body_text()))
    }
}
