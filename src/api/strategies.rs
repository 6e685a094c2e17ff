//! `/api/strategies`: upload code (compiled before it is stored), add
//! versions, list and read them with their declared parameters and runs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::Caller;
use super::extract::JsonBody;
use super::runs::run_summary_json;
use super::{id, ApiError};
use crate::service::{params_json, Service};
use crate::store::{RunFilter, VersionRow};

pub fn router() -> Router<Service> {
    Router::new()
        .route("/api/strategies", post(create).get(list))
        .route("/api/strategies/{id}", get(show).delete(remove))
        .route("/api/strategies/{id}/versions", post(add_version))
        .route("/api/strategies/{id}/versions/{number}", axum::routing::delete(remove_version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateStrategy {
    name: String,
    runtime: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    module_base64: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVersion {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    module_base64: Option<String>,
}

fn version_json(v: &VersionRow) -> Value {
    let params: Value = params_json::from_json(&v.params)
        .map(|specs| {
            specs
                .iter()
                .map(|p| json!({ "name": p.name, "type": p.default.type_name(), "default": p.default }))
                .collect()
        })
        .unwrap_or_default();
    json!({ "id": v.id, "version": v.version, "content_hash": v.content_hash, "params": params, "created_at": v.created_at })
}

async fn create(
    State(service): State<Service>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateStrategy>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (strategy, version) = service
        .create_strategy(
            caller.actor(),
            &body.name,
            &body.runtime,
            &body.description,
            body.source.as_deref(),
            body.module_base64.as_deref(),
        )
        .await?;
    let mut out = serde_json::to_value(&strategy).unwrap_or_default();
    out["versions"] = json!([version_json(&version)]);
    Ok((StatusCode::CREATED, Json(out)))
}

async fn add_version(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<NewVersion>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (version, added) = service
        .add_version(caller.actor(), id(&raw, "strategy")?, body.source.as_deref(), body.module_base64.as_deref())
        .await?;
    // The latest version's code again is that version, not a new one.
    let status = if added { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(version_json(&version))))
}

async fn list(State(service): State<Service>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let strategies = service.strategies(caller.actor()).await?;
    Ok(Json(serde_json::to_value(strategies).unwrap_or_default()))
}

async fn show(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let strategy = service.strategy(caller.actor(), id(&raw, "strategy")?).await?;
    let versions = service.versions(caller.actor(), strategy.id).await?;
    // The latest runs, oldest first (all of them: `GET /api/runs?strategy=ID`).
    let latest = RunFilter {
        strategy_id: Some(strategy.id),
        limit: Some(super::runs::LIST_LIMIT),
        newest_first: true,
        ..RunFilter::default()
    };
    let mut runs = service.runs(caller.actor(), latest).await?;
    runs.reverse();
    let mut out = serde_json::to_value(&strategy).unwrap_or_default();
    out["versions"] = versions.iter().map(version_json).collect();
    out["runs"] = runs.iter().map(run_summary_json).collect();
    Ok(Json(out))
}

/// `DELETE /api/strategies/{id}`: the strategy and what depends on it (409 while a queued or running run or sweep needs it).
async fn remove(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "strategy")?;
    let deleted = service.delete_strategy(caller.actor(), id).await?;
    Ok(super::deleted_json(&format!("strategy {id}"), &deleted))
}

/// `DELETE /api/strategies/{id}/versions/{number}`: one version and its finished runs and sweeps.
async fn remove_version(
    State(service): State<Service>,
    caller: Caller,
    Path((raw, number)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "strategy")?;
    let number: i64 = number
        .parse()
        .map_err(|_| crate::service::ServiceError::NotFound(format!("version '{number}' of strategy {id}")))?;
    let deleted = service.delete_version(caller.actor(), id, number).await?;
    Ok(super::deleted_json(&format!("version {number} of strategy {id}"), &deleted))
}
