//! `/api/datasets`: CSV and Parquet uploads validated by the engine's own loader as they stream in.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::Caller;
use super::extract::QueryParams;
use super::{id, ApiError};
use crate::data::{parse_delimiter, LoadOptions, Role};
use crate::domain::Timestamp;
use crate::service::{Service, ServiceError};
use crate::store::DatasetRow;

/// The dataset routes; an upload may be up to `upload_limit` bytes, read as
/// a stream (the JSON routes' limit does not apply here).
pub fn router(upload_limit: usize) -> Router<Service> {
    Router::new()
        .route("/api/datasets", post(upload).get(list))
        .route("/api/datasets/{id}", get(show).delete(remove))
        .layer(axum::Extension(UploadLimit(upload_limit as u64)))
}

/// The largest upload, in bytes.
#[derive(Clone, Copy)]
struct UploadLimit(u64);

/// The upload's query: the symbol, and how to read the file (the CLI's
/// `--date-format`, `--delimiter`, `--column ROLE=NAME` as `ROLE_column`, `--sort`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    symbol: Option<String>,
    date_format: Option<String>,
    delimiter: Option<String>,
    time_column: Option<String>,
    open_column: Option<String>,
    high_column: Option<String>,
    low_column: Option<String>,
    close_column: Option<String>,
    volume_column: Option<String>,
    sort: Option<bool>,
    /// Add the upload as the next version of the user's dataset of the
    /// symbol (runs then read it) instead of refusing a second one.
    replace: Option<bool>,
}

impl UploadQuery {
    fn options(&self) -> Result<LoadOptions, ApiError> {
        let invalid = |field: &str, message: String| ApiError::Service(ServiceError::invalid(field, message));
        let delimiter = match &self.delimiter {
            Some(text) => Some(parse_delimiter(text).map_err(|e| invalid("delimiter", e.reason))?),
            None => None,
        };
        let mut options = LoadOptions {
            date_format: self.date_format.clone(),
            delimiter,
            sort: self.sort.unwrap_or(false),
            ..LoadOptions::default()
        };
        let named = [
            (Role::Time, &self.time_column),
            (Role::Open, &self.open_column),
            (Role::High, &self.high_column),
            (Role::Low, &self.low_column),
            (Role::Close, &self.close_column),
            (Role::Volume, &self.volume_column),
        ];
        for (role, name) in named {
            if let Some(name) = name {
                if name.trim().is_empty() {
                    return Err(invalid(&format!("{role}_column"), "the column name is empty".into()));
                }
                options.columns.insert(role, name.trim().to_owned());
            }
        }
        Ok(options)
    }
}

fn dataset_json(d: &DatasetRow) -> Value {
    json!({
        "id": d.id,
        "owner_id": d.owner_id,
        "symbol": d.symbol,
        "version": d.version,
        "rows": d.rows,
        "first": Timestamp(d.first_ts),
        "last": Timestamp(d.last_ts),
        "interval_ms": d.interval_ms,
        "content_hash": d.content_hash,
        "options": serde_json::from_str::<Value>(&d.load_options).unwrap_or_else(|_| json!({})),
        "created_at": d.created_at,
    })
}

/// The types an upload may be sent as. None of them is one a page may
/// send to another site without asking first (a CORS preflight), unlike
/// `text/plain` or a form's.
const UPLOAD_TYPES: [&str; 4] =
    ["text/csv", "application/octet-stream", "application/vnd.apache.parquet", "application/x-parquet"];

/// Refuses an upload whose `Content-Type` is missing or not one of [`UPLOAD_TYPES`].
fn check_upload_type(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let given = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = given.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if UPLOAD_TYPES.contains(&essence.as_str()) {
        return Ok(());
    }
    let shown = if given.is_empty() {
        "none".to_string()
    } else {
        format!("'{}'", given.chars().take(100).collect::<String>())
    };
    Err(ApiError::MediaType(format!(
        "an upload needs `Content-Type: text/csv` (or application/octet-stream, application/vnd.apache.parquet); \
         it has {shown}"
    )))
}

async fn upload(
    State(service): State<Service>,
    caller: Caller,
    axum::Extension(UploadLimit(limit)): axum::Extension<UploadLimit>,
    headers: axum::http::HeaderMap,
    QueryParams(query): QueryParams<UploadQuery>,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let checked = check_upload_type(&headers).and_then(|()| query.options()).and_then(|options| {
        let symbol =
            query.symbol.ok_or_else(|| ApiError::BadQuery("the query parameter 'symbol' is required".into()))?;
        Ok((options, symbol))
    });
    let (options, symbol) = match checked {
        Ok(checked) => checked,
        Err(refused) => {
            service.discard_upload(body.into_data_stream(), limit).await;
            return Err(refused);
        }
    };
    let replace = query.replace.unwrap_or(false);
    let row = service.create_dataset(caller.actor(), &symbol, replace, options, body.into_data_stream(), limit).await?;
    Ok((StatusCode::CREATED, Json(dataset_json(&row))))
}

async fn list(State(service): State<Service>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let rows = service.datasets(caller.actor()).await?;
    Ok(Json(rows.iter().map(dataset_json).collect()))
}

async fn show(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "dataset")?;
    let row = service.dataset(caller.actor(), id).await?;
    Ok(Json(dataset_json(&row)))
}

/// `DELETE /api/datasets/{id}`: the dataset and what depends on it (409 while a queued or running run or sweep needs it).
async fn remove(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "dataset")?;
    let deleted = service.delete_dataset(caller.actor(), id).await?;
    Ok(super::deleted_json(&format!("dataset {id}"), &deleted))
}
