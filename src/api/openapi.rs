//! The OpenAPI document of the API, written by hand next to the routes it
//! describes (a test checks that every path it lists is routed).

use serde_json::{json, Value};

/// (method, path, summary) of every route.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("get", "/", "The service's web page: strategies, datasets, runs, sweeps and a form to start a run"),
    ("get", "/health", "Whether the service and its database answer (503 when the database does not)"),
    ("get", "/api/openapi.json", "This document"),
    ("post", "/api/strategies", "Create a strategy from source (rhai) or a base64 module (wasm); compiled first"),
    ("get", "/api/strategies", "List strategies"),
    ("get", "/api/strategies/{id}", "A strategy with its versions, declared parameters and runs"),
    ("post", "/api/strategies/{id}/versions", "Add a version"),
    (
        "get",
        "/api/strategies/{id}/events",
        "Server-Sent Events of the strategy's runs and of its watched file's reloads",
    ),
    ("post", "/api/datasets", "Upload a CSV or Parquet file of bars for ?symbol=...; validated by the engine's loader"),
    ("get", "/api/datasets", "List datasets"),
    ("get", "/api/datasets/{id}", "A dataset: symbol, interval, rows, first and last timestamp, content hash"),
    ("post", "/api/runs", "Queue a run (202)"),
    ("get", "/api/runs", "List runs (?status=, ?strategy=)"),
    ("get", "/api/runs/{id}", "A run: status, progress, queue position, timings, error, metrics, sandbox usage"),
    ("get", "/api/runs/{id}/trades", "Trades (JSON, or CSV with ?format=csv)"),
    ("get", "/api/runs/{id}/equity", "At most 1000 points of the equity curve, or all with ?full=true"),
    ("get", "/api/runs/{id}/returns", "Daily, monthly and yearly returns of a completed run"),
    ("get", "/api/runs/{id}/report", "The HTML report of a completed run (self-contained, opens offline)"),
    ("post", "/api/runs/{id}/cancel", "Cancel a queued or running run"),
    ("post", "/api/runs/{id}/rerun", "Queue the same run again"),
    ("get", "/api/runs/{id}/events", "Server-Sent Events: progress, then completed, failed or cancelled"),
    ("get", "/api/runs/{id}/ws", "The same events on a WebSocket, one JSON text message each, then a close"),
    (
        "post",
        "/api/sweeps",
        "Queue a sweep: a run's fields plus grid or variants, random, constraint, objective, top (202)",
    ),
    ("get", "/api/sweeps", "List sweeps, newest first"),
    (
        "get",
        "/api/sweeps/{id}",
        "A sweep: status, counts, final, the (partial) leaderboard, best, Deflated Sharpe Ratio",
    ),
    (
        "get",
        "/api/sweeps/{id}/variants",
        "Finished variants (?sort=METRIC&order=&outcome=&offset=&limit=, ?format=csv)",
    ),
    ("post", "/api/sweeps/{id}/variants/{number}/run", "Queue one variant as an ordinary run with full results"),
    (
        "get",
        "/api/sweeps/{id}/heatmap",
        "A metric over two axes (?x=&y=&metric=; other axes best, or fixed as ?NAME=VALUE)",
    ),
    ("get", "/api/sweeps/{id}/events", "Server-Sent Events: variant, progress, then completed, cancelled or failed"),
    ("post", "/api/sweeps/{id}/cancel", "Cancel a sweep; its finished variants are kept"),
    ("get", "/api/sweeps/{id}/report", "The sweep's HTML report; partial, reloading itself, until it ends"),
];

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in ROUTES {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        let mut op = json!({
            "summary": summary,
            "responses": { "default": { "description": "JSON; errors are {\"error\": kind, \"message\": text}" } }
        });
        let parameters: Vec<Value> = ["id", "number"]
            .iter()
            .filter(|name| path.contains(&format!("{{{name}}}")))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "integer" } }))
            .collect();
        if !parameters.is_empty() {
            op["parameters"] = Value::Array(parameters);
        }
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "backtester", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
    })
}
