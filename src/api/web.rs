//! The service's page at `/` and its assets, embedded in the binary: no
//! build step and nothing fetched from elsewhere.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;

use crate::service::Service;

const INDEX: &str = include_str!("../../assets/web/index.html");
const APP_JS: &str = include_str!("../../assets/web/app.js");
const DOM_JS: &str = include_str!("../../assets/common/dom.js");
const APP_CSS: &str = include_str!("../../assets/web/app.css");
const CHARTS_JS: &str =
    include_str!("../../assets/vendor/lightweight-charts/lightweight-charts.standalone.production.js");

pub fn router() -> Router<Service> {
    Router::new()
        .route("/", get(index))
        .route("/assets/app.js", get(|| async { script(APP_JS) }))
        .route("/assets/dom.js", get(|| async { script(DOM_JS) }))
        .route("/assets/lightweight-charts.js", get(|| async { script(CHARTS_JS) }))
        .route("/assets/app.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS) }))
}

/// The service's web page: strategies, datasets, runs, sweeps and a form to start a run
#[utoipa::path(get, path = "/", security(()), operation_id = "index", tag = "service",
    responses((status = 200, description = "The page", body = String, content_type = "text/html")))]
pub(super) async fn index() -> Html<&'static str> {
    Html(INDEX)
}

fn script(text: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], text)
}
