//! `/api/datasets`: CSV and Parquet uploads validated by the engine's own loader as they stream in.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

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
        .route("/api/datasets/{id}", get(show))
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
    /// The symbol the bars are for (required; one dataset per symbol).
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
    /// The symbol its bars are for.
    symbol: String,
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
        symbol: d.symbol.clone(),
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
        (status = 201, description = "Stored", body = DatasetView),
        (status = 400, description = "A query parameter is missing or invalid", body = ErrorBody),
        (status = 409, description = "A dataset of this symbol exists", body = ErrorBody),
        (status = 413, description = "Larger than the upload limit", body = ErrorBody),
        (status = 422, description = "The file is not valid bars (the error names the line and column), or an option is invalid", body = ErrorBody),
    ))]
async fn upload(
    State(service): State<Service>,
    axum::Extension(UploadLimit(limit)): axum::Extension<UploadLimit>,
    QueryParams(query): QueryParams<UploadQuery>,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let checked = query.options().and_then(|options| {
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
    let row = service.create_dataset(&symbol, options, body.into_data_stream(), limit).await?;
    Ok((StatusCode::CREATED, Json(dataset_json(&row))))
}

/// List datasets
#[utoipa::path(get, path = "/api/datasets", operation_id = "list_datasets", tag = "datasets",
    responses((status = 200, description = "Every dataset", body = Vec<DatasetView>)))]
async fn list(State(service): State<Service>) -> Result<Json<Value>, ApiError> {
    let rows = service.datasets().await?;
    Ok(Json(rows.iter().map(dataset_json).collect()))
}

/// A dataset: symbol, interval, rows, first and last timestamp, content hash
#[utoipa::path(get, path = "/api/datasets/{id}", operation_id = "show_dataset", tag = "datasets",
    params(("id" = i64, Path, description = "The dataset's id")),
    responses(
        (status = 200, description = "The dataset", body = DatasetView),
        (status = 404, description = "No such dataset", body = ErrorBody),
    ))]
async fn show(State(service): State<Service>, Path(raw): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "dataset")?;
    let row = service.dataset(id).await?;
    Ok(Json(dataset_json(&row)))
}
