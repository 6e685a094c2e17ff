//! `/api/strategies`: upload code (compiled before it is stored), add
//! versions, list and read them with their declared parameters and runs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::caller::Caller;
use super::extract::JsonBody;
use super::runs::run_summary_json;
use super::schemas::{ErrorBody, StrategyDetail};
use super::{id, ApiError};
use crate::service::{params_json, Service};
use crate::store::{RunFilter, StrategyRow, VersionRow};

pub fn router() -> Router<Service> {
    Router::new()
        .route("/api/strategies", post(create).get(list))
        .route("/api/strategies/{id}", get(show).delete(remove))
        .route("/api/strategies/{id}/versions", post(add_version))
        .route("/api/strategies/{id}/versions/{number}", axum::routing::delete(remove_version))
}

/// `POST /api/strategies`: a name, a runtime, and the code (compiled before it is stored).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateStrategy {
    /// Unique among strategies.
    name: String,
    /// `rhai` (give `source`) or `wasm` (give `module_base64`).
    runtime: String,
    /// Free text; empty when absent.
    #[serde(default)]
    description: String,
    /// The Rhai script.
    #[serde(default)]
    source: Option<String>,
    /// The WebAssembly module, base64.
    #[serde(default)]
    module_base64: Option<String>,
}

/// `POST /api/strategies/{id}/versions`: the new code, as at creation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewVersion {
    /// The Rhai script.
    #[serde(default)]
    source: Option<String>,
    /// The WebAssembly module, base64.
    #[serde(default)]
    module_base64: Option<String>,
}

/// A parameter a version declares.
#[derive(Serialize, ToSchema)]
pub(super) struct ParamView {
    /// Its name.
    name: String,
    /// `int`, `float`, `bool` or `string`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// Its default value, of that type.
    default: Value,
}

/// A version of a strategy's code, as the API shows it.
#[derive(Serialize, ToSchema)]
pub(super) struct VersionView {
    /// The version's id, unique across strategies.
    id: i64,
    /// Its number within the strategy, from 1.
    version: i64,
    /// Lowercase hex SHA-256 of the code.
    content_hash: String,
    /// The parameters it declares.
    params: Vec<ParamView>,
    /// When it was added, in milliseconds since the epoch.
    created_at: i64,
}

fn version_json(v: &VersionRow) -> Value {
    let params = params_json::from_json(&v.params)
        .map(|specs| {
            specs
                .iter()
                .map(|p| ParamView {
                    name: p.name.clone(),
                    kind: p.default.type_name(),
                    default: serde_json::to_value(&p.default).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let view = VersionView {
        id: v.id,
        version: v.version,
        content_hash: v.content_hash.clone(),
        params,
        created_at: v.created_at,
    };
    serde_json::to_value(view).unwrap_or_default()
}

/// Create a strategy from source (rhai) or a base64 module (wasm); compiled first
#[utoipa::path(post, path = "/api/strategies", operation_id = "create_strategy", tag = "strategies",
    request_body(content = CreateStrategy, example = json!({
        "name": "sma_cross", "runtime": "rhai", "description": "SMA crossover",
        "source": "fn params() { #{ fast: 10, slow: 20 } }\nfn init(ctx) { ctx.sma(\"fast\", ctx.param(\"fast\")); ctx.sma(\"slow\", ctx.param(\"slow\")); }\nfn on_bar(ctx) { let c = ctx.cross(\"fast\", \"slow\"); if c > 0 { ctx.order_target_percent(1.0); } else if c < 0 { ctx.close_position(); } }"
    })),
    responses(
        (status = 201, description = "Created, with its first version", body = StrategyDetail, links(
            ("ShowStrategy" = (operation_id = "show_strategy", parameters(("id" = "$response.body#/id")))),
            ("AddVersion" = (operation_id = "add_strategy_version", parameters(("id" = "$response.body#/id")))),
            ("DeleteFirstVersion" = (operation_id = "delete_version",
                parameters(("id" = "$response.body#/id"), ("number" = "$response.body#/versions/0/version")))),
            ("DeleteStrategy" = (operation_id = "delete_strategy", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the code does not compile", body = ErrorBody),
    ))]
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

/// Add a version
///
/// The latest version's code again is that version (200), not a new one (201).
#[utoipa::path(post, path = "/api/strategies/{id}/versions", operation_id = "add_strategy_version", tag = "strategies",
    params(("id" = i64, Path, description = "The strategy's id")),
    request_body = NewVersion,
    responses(
        (status = 201, description = "A new version", body = VersionView, links(
            ("DeleteVersion" = (operation_id = "delete_version",
                parameters(("id" = "$request.path.id"), ("number" = "$response.body#/version")))),
        )),
        (status = 200, description = "The same code as the latest version: that version", body = VersionView, links(
            ("DeleteVersion" = (operation_id = "delete_version",
                parameters(("id" = "$request.path.id"), ("number" = "$response.body#/version")))),
        )),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 404, description = "No such strategy", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the code does not compile", body = ErrorBody),
    ))]
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

/// List strategies
#[utoipa::path(get, path = "/api/strategies", operation_id = "list_strategies", tag = "strategies",
    responses((status = 200, description = "Every strategy", body = Vec<StrategyRow>)))]
async fn list(State(service): State<Service>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let strategies = service.strategies(caller.actor()).await?;
    Ok(Json(serde_json::to_value(strategies).unwrap_or_default()))
}

/// A strategy with its versions, declared parameters and runs
#[utoipa::path(get, path = "/api/strategies/{id}", operation_id = "show_strategy", tag = "strategies",
    params(("id" = i64, Path, description = "The strategy's id")),
    responses(
        (status = 200, description = "The strategy, its versions and its latest runs", body = StrategyDetail),
        (status = 404, description = "No such strategy", body = ErrorBody),
    ))]
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

/// Delete a strategy with its versions and finished runs and sweeps (409 while one is queued or running)
#[utoipa::path(delete, path = "/api/strategies/{id}", operation_id = "delete_strategy", tag = "strategies",
    params(("id" = i64, Path, description = "The strategy's id")),
    responses(
        (status = 200, description = "Deleted", body = super::schemas::DeletedBody),
        (status = 404, description = "No such strategy (or another user's)", body = super::schemas::ErrorBody),
        (status = 409, description = "A queued or running run or sweep needs it", body = super::schemas::ErrorBody),
    ))]
async fn remove(
    State(service): State<Service>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw, "strategy")?;
    let deleted = service.delete_strategy(caller.actor(), id).await?;
    Ok(super::deleted_json(&format!("strategy {id}"), &deleted))
}

/// Delete one version of a strategy with its finished runs and sweeps (409 for the only version, or while one is queued or running)
#[utoipa::path(delete, path = "/api/strategies/{id}/versions/{number}", operation_id = "delete_version", tag = "strategies",
    params(("id" = i64, Path, description = "The strategy's id"),
        ("number" = i64, Path, description = "The version's number")),
    responses(
        (status = 200, description = "Deleted", body = super::schemas::DeletedBody),
        (status = 404, description = "No such strategy (or another user's)", body = super::schemas::ErrorBody),
        (status = 409, description = "A queued or running run or sweep needs it", body = super::schemas::ErrorBody),
    ))]
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
