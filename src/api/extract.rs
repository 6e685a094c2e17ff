//! Request extractors whose rejections are [`ApiError`]s with a message that
//! names the problem (the field, the limit).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_path_to_error::Segment;

use super::ApiError;

/// JSON body: malformed JSON is 400, JSON that does not fit (an unknown
/// field, a wrong type) is 422 naming the field by its path, too large is 413.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::BadJson("expected a request with `Content-Type: application/json`".into()));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(bytes_rejection)?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The media type of a request's `Content-Type`, lowercase, without its
/// parameters (`text/csv; charset=utf-8` → `text/csv`); empty when absent.
pub(super) fn media_type(headers: &axum::http::HeaderMap) -> String {
    let value = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// `application/json`, or any `application/...+json`, with parameters.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let essence = media_type(headers);
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The key under which serde_json (with `arbitrary_precision`, which keeps
/// money exact) hands a number to a type that reads it; not a field of ours.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Reads `bytes` as a `T`; a data error names its path (`commission.rate`)
/// without the number token that axum's extractor put in it
/// (`initial_capital.$serde_json::private::Number: ...`).
pub(super) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path: Vec<String> = e
            .path()
            .iter()
            .filter(|segment| !matches!(segment, Segment::Map { key } if key == NUMBER_TOKEN))
            .map(ToString::to_string)
            .collect();
        let inner = e.into_inner();
        let message = match path.join(".") {
            path if path.is_empty() || path == "?" => inner.to_string(),
            path => format!("{path}: {inner}"),
        };
        match inner.classify() {
            Category::Data => ApiError::BadRequestBody(message),
            Category::Syntax | Category::Eof | Category::Io => ApiError::BadJson(message),
        }
    })?;
    json.end().map_err(|e| ApiError::BadJson(e.to_string()))?;
    Ok(value)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::RunRequest;

    fn refusal(body: &str) -> (&'static str, String) {
        match parse_json::<RunRequest>(body.as_bytes()) {
            Ok(_) => panic!("{body} was accepted"),
            Err(ApiError::BadRequestBody(message)) => ("422", message),
            Err(ApiError::BadJson(message)) => ("400", message),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn messages_leaked_the_number_token_of_serde_json() {
        let (status, message) = refusal(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1e400}"#);
        assert_eq!(status, "422");
        assert!(message.starts_with("initial_capital: Scale exceeds"), "{message}");
        assert!(!message.contains("serde_json"), "{message}");
        let (status, message) = refusal(
            r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1,"commission":{"model":"fixed","amount":"x"}}"#,
        );
        assert_eq!((status, message.starts_with("commission")), ("422", true), "{message}");
        let (status, message) = refusal(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1,"margin":2}"#);
        assert!(status == "422" && message.contains("unknown field `margin`"), "{message}");
        let (status, message) = refusal(
            r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1,"pace":{"bars_per_second":5,"acceleration":3}}"#,
        );
        assert!(status == "422" && message.starts_with("pace: pace takes one of"), "{message}");
        assert_eq!(refusal(r#"{"strategy_id": "#).0, "400");
        assert_eq!(refusal(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1} x"#).0, "400");
    }

    #[test]
    fn json_content_types_are_application_json_or_a_json_suffix() {
        let with = |value: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(axum::http::header::CONTENT_TYPE, value.parse().unwrap());
            json_content_type(&headers)
        };
        assert!(with("application/json") && with("Application/JSON; charset=utf-8") && with("application/x+json"));
        assert!(!with("text/json") && !with("text/csv"));
        assert!(!json_content_type(&axum::http::HeaderMap::new()));
    }
}
