//! The OpenAPI document of the API, generated from the handlers'
//! `#[utoipa::path]` attributes and the request and response types' schemas,
//! served at `/api/openapi.json`; the interactive page for it is `/api/docs`.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use super::schemas::{ErrorBody, TableFormat};
use super::{datasets, events, runs, strategies, sweeps, web};
use crate::service::{RunRequest, Service, SweepFields};

/// The generated document.
#[derive(OpenApi)]
#[openapi(
    info(title = "backtester", description = "Backtest trading strategies written as Rhai scripts or sandboxed WASM \
        plugins: upload strategies and datasets, queue runs and sweeps, read their results. Every error is \
        `{\"error\": kind, \"message\", \"field\"?, \"line\"?, \"column\"?}`."),
    paths(
        web::index,
        super::health,
        openapi_json,
        super::docs::page,
        strategies::create,
        strategies::list,
        strategies::show,
        strategies::add_version,
        events::strategy_events,
        datasets::upload,
        datasets::list,
        datasets::show,
        runs::create,
        runs::list,
        runs::show,
        runs::trades,
        runs::equity,
        runs::returns,
        runs::report,
        runs::cancel,
        runs::rerun,
        events::events,
        events::websocket,
        sweeps::create,
        sweeps::list,
        sweeps::show,
        sweeps::variants,
        sweeps::variant_run,
        sweeps::heatmap,
        sweeps::events,
        sweeps::cancel,
        sweeps::report,
        strategies::remove,
        strategies::remove_version,
        datasets::remove,
        runs::remove,
        sweeps::remove,
        super::access::session::create,
        super::access::session::end,
    ),
    components(schemas(ErrorBody, SweepRequestSchema, TableFormat)),
    modifiers(&BearerAuth, &ServerErrors, &ClosedVariants),
    tags(
        (name = "service", description = "The page, health, and this document"),
        (name = "strategies", description = "Strategy code and its versions"),
        (name = "datasets", description = "Bars uploaded as CSV or Parquet"),
        (name = "runs", description = "Backtests: queue, follow, read results"),
        (name = "sweeps", description = "Parameter sweeps and walk-forwards"),
    )
)]
struct ApiDoc;

/// The OpenAPI 3.1 document of every route, as served.
pub fn document() -> Value {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    // Only maps with string keys and plain values: serializing cannot fail.
    let mut json = serde_json::to_value(&doc).expect("the generated document serializes");
    name_link_fields_as_openapi_does(&mut json);
    json
}

/// utoipa 5.5 writes a response link's fields in snake case (`operation_id`),
/// where OpenAPI names them `operationId`, `operationRef` and `requestBody`:
/// renamed here, so that clients and tools (Schemathesis) can follow the
/// links from what an operation creates to what reads or deletes it.
fn name_link_fields_as_openapi_does(doc: &mut Value) {
    const NAMES: [(&str, &str); 3] =
        [("operation_id", "operationId"), ("operation_ref", "operationRef"), ("request_body", "requestBody")];
    let operations = doc["paths"].as_object_mut().into_iter().flat_map(|paths| paths.values_mut());
    let responses = operations
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.get_mut("responses").and_then(Value::as_object_mut))
        .flat_map(|responses| responses.values_mut());
    let links = responses.filter_map(|response| response.get_mut("links").and_then(Value::as_object_mut));
    for link in links.flat_map(|links| links.values_mut()).filter_map(Value::as_object_mut) {
        *link = std::mem::take(link)
            .into_iter()
            .map(|(key, value)| match NAMES.iter().find(|(snake, _)| *snake == key) {
                Some((_, camel)) => ((*camel).to_string(), value),
                None => (key, value),
            })
            .collect();
    }
}

/// `GET /api/openapi.json`.
pub fn router() -> Router<Service> {
    Router::new().route("/api/openapi.json", get(openapi_json))
}

/// This document
#[utoipa::path(get, path = "/api/openapi.json", security(()), operation_id = "openapi", tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
async fn openapi_json() -> Json<Value> {
    Json(document())
}

/// Declares HTTP bearer authentication, required by every operation but
/// the public ones, whose paths say `security(())`: the page at `/`,
/// `/health`, this document and its page. (Declared only: the server checks
/// no token yet.)
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("opaque")
            .description(Some("An API token: `Authorization: Bearer TOKEN`"))
            .build();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        openapi.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

/// The server's own failures, which any route that reads the database may
/// answer: 500 (logged), 503 (the database does not answer), 507 (full).
struct ServerErrors;

/// Routes that never touch the database.
const STATIC_ROUTES: [&str; 3] = ["/", "/api/openapi.json", "/api/docs"];

impl Modify for ServerErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = |description: &str| {
            let content = ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(ErrorBody::name()))));
            ResponseBuilder::new().description(description).content("application/json", content.build()).build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = STATIC_ROUTES.contains(&path.as_str()) || path == "/health";
            let operations: [&mut Option<Operation>; 3] = [&mut item.get, &mut item.post, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                // The access guard's refusals (api/access): a foreign Host, a
                // foreign page's write, a scope too narrow, a missing CSRF header.
                responses.insert(
                    "403".into(),
                    RefOr::T(error(
                        "Refused: the Host or Origin is not this server's, or the token lacks the route's scope",
                    )),
                );
                if public {
                    continue;
                }
                if path != "/api/session" {
                    responses.insert(
                        "401".into(),
                        RefOr::T(error("No token, or one that is not valid, expired or revoked")),
                    );
                }
                responses.insert("500".into(), RefOr::T(error("The server failed; the details are in its log")));
                responses.insert("503".into(), RefOr::T(error("The database does not answer")));
                responses.insert("507".into(), RefOr::T(error("The database is full")));
            }
        }
    }
}

/// Closes the variants of the request enums that serde reads with
/// `deny_unknown_fields` (utoipa closes structs so, not an enum's variants).
struct ClosedVariants;

/// The internally tagged request enums whose unknown fields are refused.
const CLOSED_ENUMS: [&str; 1] = ["CommissionRequest"];

impl Modify for ClosedVariants {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else { return };
        for name in CLOSED_ENUMS {
            if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(name) {
                for item in &mut one_of.items {
                    if let RefOr::T(Schema::Object(object)) = item {
                        object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                    }
                }
            }
        }
    }
}

/// `POST /api/sweeps`' body: a run's fields and a sweep's in one object
/// (unknown fields refused). Its schema merges the two types' schemas: an
/// `allOf` of two closed objects would accept no body at all.
pub struct SweepRequestSchema;

impl PartialSchema for SweepRequestSchema {
    fn schema() -> RefOr<Schema> {
        let mut merged = ObjectBuilder::new()
            .description(Some("A run's fields (as `POST /api/runs`) and the sweep's own, in one object"))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .build();
        for part in [RunRequest::schema(), SweepFields::schema()] {
            if let RefOr::T(Schema::Object(Object { properties, required, .. })) = part {
                merged.properties.extend(properties);
                merged.required.extend(required);
            }
        }
        RefOr::T(Schema::Object(merged))
    }
}

impl ToSchema for SweepRequestSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "SweepRequest".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        RunRequest::schemas(schemas);
        SweepFields::schemas(schemas);
    }
}
