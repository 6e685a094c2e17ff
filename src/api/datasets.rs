//! `/api/datasets`: CSV and Parquet uploads validated by the engine's own loader as they stream in.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::caller::Caller;
use super::extract::QueryParams;
use super::schemas::ErrorBody;
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
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// The symbol the bars are for (required; a user has one dataset per symbol, in versions).
    #[param(required = true)]
    symbol: Option<String>,
    /// A chrono format of the time column, when it is not one the loader knows.
    date_format: Option<String>,
    /// The CSV delimiter (one character, or `tab`); guessed when absent.
    delimiter: Option<String>,
    /// The name of the time column, when not a usual one.
    time_column: Option<String>,
    /// The name of the open column.
    open_column: Option<String>,
    /// The name of the high column.
    high_column: Option<String>,
    /// The name of the low column.
    low_column: Option<String>,
    /// The name of the close column (`Adj Close`, say).
    close_column: Option<String>,
    /// The name of the volume column.
    volume_column: Option<String>,
    /// Sort the rows by time instead of refusing a file out of order.
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

/// A dataset as the API shows it.
#[derive(Serialize, ToSchema)]
pub(super) struct DatasetView {
    /// The dataset's id.
    id: i64,
    /// The user it belongs to.
    owner_id: i64,
    /// The symbol its bars are for.
    symbol: String,
    /// Its number among its owner's datasets of the symbol (1, then one more per replacement).
    version: i64,
    /// Number of bars.
    rows: i64,
    /// Timestamp of the first bar (`2004-08-19`, or with a time of day for intraday bars).
    #[schema(value_type = String)]
    first: Timestamp,
    /// Timestamp of the last bar, as `first`.
    #[schema(value_type = String)]
    last: Timestamp,
    /// Median spacing of the bars in milliseconds (null for a single bar).
    interval_ms: Option<i64>,
    /// Lowercase hex SHA-256 of the uploaded bytes.
    content_hash: String,
    /// How the upload was read (the query's options).
    options: Value,
    /// When it was uploaded, in milliseconds since the epoch.
    created_at: i64,
}

fn dataset_json(d: &DatasetRow) -> Value {
    let view = DatasetView {
        id: d.id,
        owner_id: d.owner_id,
        symbol: d.symbol.clone(),
        version: d.version,
        rows: d.rows,
        first: Timestamp(d.first_ts),
        last: Timestamp(d.last_ts),
        interval_ms: d.interval_ms,
        content_hash: d.content_hash.clone(),
        options: serde_json::from_str::<Value>(&d.load_options).unwrap_or_else(|_| json!({})),
        created_at: d.created_at,
    };
    serde_json::to_value(view).unwrap_or_default()
}

/// The types an upload may be sent as. None of them is one a page may
/// send to another site without asking first (a CORS preflight), unlike
/// `text/plain` or a form's.
const UPLOAD_TYPES: [&str; 4] =
    ["text/csv", "application/octet-stream", "application/vnd.apache.parquet", "application/x-parquet"];

/// Refuses an upload whose `Content-Type` is missing or not one of [`UPLOAD_TYPES`].
fn check_upload_type(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    if UPLOAD_TYPES.contains(&super::extract::media_type(headers).as_str()) {
        return Ok(());
    }
    let given = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
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

/// Upload a CSV or Parquet file of bars for ?symbol=...; validated by the engine's loader
///
/// The body is the file itself (not a form), read as a stream: CSV as
/// `text/csv`, Parquet as `application/vnd.apache.parquet` or
/// `application/octet-stream` (the content, not the type, decides).
#[utoipa::path(post, path = "/api/datasets", operation_id = "upload_dataset", tag = "datasets",
    params(UploadQuery),
    request_body(description = "The file's bytes", content(
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.apache.parquet"),
        (Vec<u8> = "application/octet-stream"),
    )),
    responses(
        (status = 201, description = "Stored", body = DatasetView, links(
            ("ShowDataset" = (operation_id = "show_dataset", parameters(("id" = "$response.body#/id")))),
            ("DeleteDataset" = (operation_id = "delete_dataset", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "A query parameter is missing or invalid", body = ErrorBody),
        (status = 409, description = "The user has a dataset of this symbol and `replace` is not set", body = ErrorBody),
        (status = 413, description = "Larger than the upload limit", body = ErrorBody),
        (status = 415, description = "A Content-Type other than text/csv, application/octet-stream or application/vnd.apache.parquet", body = ErrorBody),
        (status = 422, description = "The file is not valid bars (the error names the line and column), or an option is invalid", body = ErrorBody),
    ))]
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

/// List datasets
#[utoipa::path(get, path = "/api/datasets", operation_id = "list_datasets", tag = "datasets",
    responses((status = 200, description = "The caller's datasets (every user's for an admin), every version", body = Vec<DatasetView>)))]
async fn list(State(service): State<Service>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let rows = service.datasets(caller.actor()).await?;
    Ok(Json(rows.iter().map(dataset_json).collect()))
}

/// A dataset: symbol, interval, rows, first and last timestamp, content hash
#[utoipa::path(get, path = "/api/datasets/{id}", operation_id = "show_dataset", tag = "datasets",
    params(("id" = i64, Path, description = "The dataset's id")),
    responses(
        (status = 200, description = "The dataset", body = DatasetView),
        (status = 404, description = "No such dataset", body = ErrorBody),
    ))]
async fn show(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "dataset")?;
    let row = service.dataset(caller.actor(), id).await?;
    Ok(Json(dataset_json(&row)))
}

/// Delete a dataset version and its bars (409 while a queued or running run or sweep reads its symbol)
#[utoipa::path(delete, path = "/api/datasets/{id}", operation_id = "delete_dataset", tag = "datasets",
    params(("id" = i64, Path, description = "The dataset's id")),
    responses(
        (status = 200, description = "Deleted", body = super::schemas::DeletedBody),
        (status = 404, description = "No such dataset (or another user's)", body = super::schemas::ErrorBody),
        (status = 409, description = "A queued or running run or sweep needs it", body = super::schemas::ErrorBody),
    ))]
async fn remove(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "dataset")?;
    let deleted = service.delete_dataset(caller.actor(), id).await?;
    Ok(super::deleted_json(&format!("dataset {id}"), &deleted))
}
