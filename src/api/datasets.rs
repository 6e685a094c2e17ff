//! `/api/datasets`: CSV and Parquet uploads validated by the engine's own loader as they stream in.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

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
        .route("/api/datasets/{id}", get(show))
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
        "symbol": d.symbol,
        "rows": d.rows,
        "first": Timestamp(d.first_ts),
        "last": Timestamp(d.last_ts),
        "interval_ms": d.interval_ms,
        "content_hash": d.content_hash,
        "options": serde_json::from_str::<Value>(&d.load_options).unwrap_or_else(|_| json!({})),
        "created_at": d.created_at,
    })
}

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

async fn list(State(service): State<Service>) -> Result<Json<Value>, ApiError> {
    let rows = service.datasets().await?;
    Ok(Json(rows.iter().map(dataset_json).collect()))
}

async fn show(State(service): State<Service>, Path(raw): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "dataset")?;
    let row = service.dataset(id).await?;
    Ok(Json(dataset_json(&row)))
}
