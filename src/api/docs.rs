//! `/api/docs`: Swagger UI over `/api/openapi.json`, from files vendored in
//! `assets/vendor/swagger-ui` and embedded in the binary (nothing fetched
//! at build or run time).

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;

use crate::service::Service;

const PAGE: &str = include_str!("../../assets/docs/index.html");
const INIT_JS: &str = include_str!("../../assets/docs/init.js");
const BUNDLE_JS: &str = include_str!("../../assets/vendor/swagger-ui/swagger-ui-bundle.js");
const CSS: &str = include_str!("../../assets/vendor/swagger-ui/swagger-ui.css");

/// The page and its three assets.
pub fn router() -> Router<Service> {
    Router::new()
        .route("/api/docs", get(page))
        .route("/api/docs/init.js", get(|| async { script(INIT_JS) }))
        .route("/api/docs/swagger-ui-bundle.js", get(|| async { script(BUNDLE_JS) }))
        .route("/api/docs/swagger-ui.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }))
}

/// An interactive page for this document (Swagger UI)
#[utoipa::path(get, path = "/api/docs", security(()), operation_id = "docs", tag = "service",
    responses((status = 200, description = "The page", body = String, content_type = "text/html")))]
pub(super) async fn page() -> Html<&'static str> {
    Html(PAGE)
}

fn script(text: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], text)
}
