//! `/api/datasets`: CSV uploads validated by the engine's own loader.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{QueryParams, RawBody};
use super::{id, ApiError};
use crate::domain::Timestamp;
use crate::service::Service;
use crate::store::DatasetRow;

pub fn router() -> Router<Service> {
    Router::new().route("/api/datasets", post(upload).get(list)).route("/api/datasets/{id}", get(show))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    symbol: Option<String>,
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
        "created_at": d.created_at,
    })
}

async fn upload(
    State(service): State<Service>,
    QueryParams(query): QueryParams<UploadQuery>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let symbol = query.symbol.ok_or_else(|| ApiError::BadQuery("the query parameter 'symbol' is required".into()))?;
    let row = service.create_dataset(&symbol, body.to_vec()).await?;
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
