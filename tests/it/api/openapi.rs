//! The generated OpenAPI document against the routers and the served
//! responses: every route documented and every documented operation routed,
//! bodies and responses described, real responses valid under their schemas,
//! and the `/api/docs` page served from local assets only.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::app::{repo_path, App, Backend};

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// (method, path) of every `.route(PATH, METHOD(...)...)` call in
/// `src/api/**/*.rs`, read from the source: axum's `Router` does not list its
/// routes. Static files (`/assets/...`, `/api/docs/...`) are left out: the
/// page that loads them is documented, they are not API operations.
fn routed() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut files = vec![];
    let mut dirs = vec![repo_path("src/api")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for file in files {
        let source = std::fs::read_to_string(file).unwrap();
        for (start, _) in source.match_indices(".route(") {
            let call = balanced(&source[start + ".route".len()..]);
            let path = call.split('"').nth(1).expect("a route's path is a string literal");
            if path.starts_with("/assets/") || path.starts_with("/api/docs/") {
                continue;
            }
            let rest = &call[call.find(path).unwrap() + path.len()..];
            let methods: Vec<&str> = METHODS
                .into_iter()
                .filter(|m| {
                    rest.match_indices(&format!("{m}(")).any(|(i, _)| {
                        let before = rest[..i].chars().last().unwrap_or(' ');
                        !(before.is_alphanumeric() || before == '_')
                    })
                })
                .collect();
            assert!(!methods.is_empty(), "no method in .route{call}");
            for m in methods {
                routes.insert((m.to_string(), path.to_string()));
            }
        }
    }
    routes
}

/// The parenthesised text at the start of `text`, parentheses included.
fn balanced(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..=i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced: {text}")
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().filter(|k| METHODS.contains(&k.as_str())) {
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

/// A `$ref` followed to its schema in `doc`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            doc.pointer(reference.trim_start_matches('#')).unwrap_or_else(|| panic!("{reference} does not resolve"))
        }
        None => schema,
    }
}

/// `path`'s operation `method` in `doc`.
fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    op
}

/// Whether `value` is valid under `schema`, whose `$ref`s point into `doc`.
fn validate(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/$defs/target",
        "$defs": { "target": schema },
        "components": doc["components"],
    });
    let validator = jsonschema::validator_for(&root).map_err(|e| format!("the schema does not compile: {e}"))?;
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// The JSON schema of `method path`'s `status` response.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: &str) -> &'a Value {
    let schema = &operation(doc, method, path)["responses"][status]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} has no JSON schema for {status}");
    schema
}

#[test]
fn every_routed_path_and_method_is_documented_and_every_documented_one_is_routed() {
    let app = App::spawn(&Backend::Sqlite, &[]);
    let doc = app.json("/api/openapi.json");
    let (routed, documented) = (routed(), documented(&doc));
    assert!(routed.len() >= 30, "{routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(undocumented.is_empty(), "routed, not documented: {undocumented:?}");
    assert!(unrouted.is_empty(), "documented, not routed: {unrouted:?}");
    // And the server agrees: axum answers an unrouted path with a bare 404
    // and an unrouted method with 405; ours answer with JSON.
    for (method, path) in &documented {
        let url = format!("{}{}", app.url, path.replace("{id}", "999999").replace("{number}", "0"));
        let r = app.client.request(method.to_uppercase().parse().unwrap(), &url).send().unwrap();
        assert_ne!(r.status(), 405, "{method} {path}");
        if r.status() == 404 {
            let body: Value = r.json().unwrap_or(Value::Null);
            assert_eq!(body["error"], "not_found", "{method} {path} is routed");
        }
    }
}

#[test]
fn json_routes_document_their_bodies_responses_errors_and_the_bearer_scheme() {
    let app = App::spawn(&Backend::Sqlite, &[]);
    let doc = app.json("/api/openapi.json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({
            "type": "http", "scheme": "bearer", "bearerFormat": "opaque",
            "description": "An API token: `Authorization: Bearer TOKEN`"
        })
    );
    assert_eq!(doc["security"], json!([{ "bearer": [] }]));
    // Closed request bodies say so, with their required fields.
    for (path, required) in [
        ("/api/strategies", vec!["name", "runtime"]),
        ("/api/strategies/{id}/versions", vec![]),
        ("/api/runs", vec!["strategy_id", "symbols", "initial_capital"]),
        ("/api/sweeps", vec!["strategy_id", "symbols", "initial_capital"]),
    ] {
        let body = &operation(&doc, "post", path)["requestBody"]["content"]["application/json"]["schema"];
        let schema = resolve(&doc, body);
        assert_eq!(schema["additionalProperties"], false, "POST {path}: {schema}");
        let listed: Vec<&str> =
            schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        assert_eq!(listed, required, "POST {path}");
        assert!(schema["properties"].as_object().is_some_and(|p| !p.is_empty()), "POST {path}");
    }
    // So do the variants of a tagged enum read with deny_unknown_fields.
    let commission = resolve(&doc, &json!({ "$ref": "#/components/schemas/CommissionRequest" })).clone();
    let variants = commission["oneOf"].as_array().unwrap();
    assert_eq!(variants.len(), 4, "{commission}");
    assert!(variants.iter().all(|v| v["additionalProperties"] == false), "{commission}");
    // A sweep takes a run's fields and its own in one object.
    let sweep =
        resolve(&doc, &operation(&doc, "post", "/api/sweeps")["requestBody"]["content"]["application/json"]["schema"]);
    assert!(sweep["properties"]["grid"].is_object() && sweep["properties"]["commission"].is_object(), "{sweep}");
    // Decimals are JSON numbers, enums their serde spelling.
    let run = resolve(&doc, &json!({ "$ref": "#/components/schemas/RunRequest" })).clone();
    assert_eq!(run["properties"]["initial_capital"]["type"], "number");
    assert_eq!(
        resolve(&doc, &json!({ "$ref": "#/components/schemas/RunStatus" }))["enum"],
        json!(["queued", "running", "completed", "failed", "cancelled"])
    );
    assert!(resolve(&doc, &json!({ "$ref": "#/components/schemas/FailureKind" }))["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("time_limit")));
    // The upload is the raw file, with its options in the query.
    let upload = operation(&doc, "post", "/api/datasets");
    for content_type in ["text/csv", "application/vnd.apache.parquet", "application/octet-stream"] {
        assert!(upload["requestBody"]["content"][content_type].is_object(), "{content_type}");
    }
    let params: Vec<&str> =
        upload["parameters"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(params.contains(&"symbol") && params.contains(&"close_column"), "{params:?}");
    // Every operation has a description, a 2xx with a body (but the
    // WebSocket's 101), and its errors in the one error shape.
    for (method, path) in documented(&doc) {
        let op = operation(&doc, &method, &path);
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path}");
        let responses = op["responses"].as_object().unwrap();
        let ok: Vec<&String> = responses.keys().filter(|s| s.starts_with('2') || *s == "101").collect();
        assert!(!ok.is_empty(), "{method} {path} has no success response");
        // A 204 (signing out) has no body by definition.
        for status in ok.into_iter().filter(|s| s.starts_with('2') && *s != "204") {
            assert!(
                responses[status]["content"].as_object().is_some_and(|c| !c.is_empty()),
                "{method} {path} {status}"
            );
        }
        for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('4') || s.starts_with('5')) {
            if let Some(schema) = response["content"].get("application/json") {
                let is_error_body = schema["schema"]["$ref"] == "#/components/schemas/ErrorBody";
                assert!(is_error_body || path == "/health", "{method} {path} {status}: {schema}");
            }
        }
        if path.contains("{id}") && path != "/api/runs/{id}/ws" {
            assert!(responses.contains_key("404"), "{method} {path} documents no 404");
        }
    }
}

fn wait_sweep(app: &App, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sweep = app.json(&format!("/api/sweeps/{id}"));
        if sweep["status"] == "completed" {
            return sweep;
        }
        assert!(Instant::now() < deadline, "sweep {id} never completed: {sweep}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn served_responses_validate_against_their_schemas() {
    let app = App::spawn(&Backend::Sqlite, &[]);
    let doc = app.json("/api/openapi.json");
    let dataset = app.upload("GOOG", "data/GOOG.csv");
    validate(&doc, response_schema(&doc, "post", "/api/datasets", "201"), &dataset).unwrap();
    let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let run = app.start_run(&json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 10000,
        "commission": { "model": "percent", "rate": 0.001 } }));
    app.wait_status(run, "completed");
    let r = app.post_json(
        "/api/sweeps",
        &json!({ "strategy_id": strategy, "symbols": ["GOOG"],
        "initial_capital": 10000, "grid": ["fast=5,10", "slow=20,30"] }),
    );
    assert_eq!(r.status(), 202);
    let sweep_id = r.json::<Value>().unwrap()["id"].as_i64().unwrap();
    let sweep = wait_sweep(&app, sweep_id);
    assert!(sweep["leaderboard"]["variants"].as_array().is_some_and(|v| v.len() == 4), "{sweep}");
    let checks = [
        ("/health", "/health".to_string()),
        ("/api/strategies", "/api/strategies".into()),
        ("/api/strategies/{id}", format!("/api/strategies/{strategy}")),
        ("/api/datasets", "/api/datasets".into()),
        ("/api/datasets/{id}", "/api/datasets/1".into()),
        ("/api/runs", "/api/runs".into()),
        ("/api/runs/{id}", format!("/api/runs/{run}")),
        ("/api/runs/{id}/trades", format!("/api/runs/{run}/trades")),
        ("/api/runs/{id}/equity", format!("/api/runs/{run}/equity")),
        ("/api/runs/{id}/returns", format!("/api/runs/{run}/returns")),
        ("/api/sweeps", "/api/sweeps".into()),
        ("/api/sweeps/{id}", format!("/api/sweeps/{sweep_id}")),
        ("/api/sweeps/{id}/variants", format!("/api/sweeps/{sweep_id}/variants")),
        ("/api/sweeps/{id}/heatmap", format!("/api/sweeps/{sweep_id}/heatmap?x=fast&y=slow")),
    ];
    for (path, url) in checks {
        let body = app.json(&url);
        validate(&doc, response_schema(&doc, "get", path, "200"), &body).unwrap_or_else(|e| panic!("GET {url}: {e}"));
    }
    // The schema can fail: a run without its status is not a run.
    let mut broken = app.json(&format!("/api/runs/{run}"));
    broken.as_object_mut().unwrap().remove("status");
    assert!(validate(&doc, response_schema(&doc, "get", "/api/runs/{id}", "200"), &broken).is_err());
    // Errors, created resources and queued work, too.
    let r = app.get("/api/runs/999999");
    assert_eq!(r.status(), 404);
    validate(&doc, response_schema(&doc, "get", "/api/runs/{id}", "404"), &r.json().unwrap()).unwrap();
    let r = app.post_json("/api/runs", &json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": -1 }));
    assert_eq!(r.status(), 422);
    let error: Value = r.json().unwrap();
    assert_eq!(error["field"], "initial_capital");
    validate(&doc, response_schema(&doc, "post", "/api/runs", "422"), &error).unwrap();
    let r =
        app.post_json("/api/strategies", &json!({ "name": "broken", "runtime": "rhai", "source": "fn on_bar(ctx) {" }));
    assert_eq!(r.status(), 422);
    validate(&doc, response_schema(&doc, "post", "/api/strategies", "422"), &r.json().unwrap()).unwrap();
    let source = std::fs::read_to_string(repo_path("scripts/rsi_reversion.rhai")).unwrap();
    let r = app.post_json("/api/strategies", &json!({ "name": "rsi", "runtime": "rhai", "source": source }));
    assert_eq!(r.status(), 201);
    let created: Value = r.json().unwrap();
    validate(&doc, response_schema(&doc, "post", "/api/strategies", "201"), &created).unwrap();
    let r = app.post_json(&format!("/api/runs/{run}/rerun"), &json!({}));
    assert_eq!(r.status(), 202);
    validate(&doc, response_schema(&doc, "post", "/api/runs/{id}/rerun", "202"), &r.json().unwrap()).unwrap();
}

#[test]
fn the_docs_page_loads_only_local_assets() {
    let app = App::spawn(&Backend::Sqlite, &[]);
    let r = app.get("/api/docs");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = r.text().unwrap();
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("//cdn"), "{page}");
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|part| part.starts_with('/') || part.ends_with(".js") || part.ends_with(".css"))
        .collect();
    assert_eq!(assets, ["/api/docs/swagger-ui.css", "/api/docs/swagger-ui-bundle.js", "/api/docs/init.js"]);
    for asset in assets {
        let r = app.get(asset);
        assert_eq!(r.status(), 200, "{asset}");
        let kind = if asset.ends_with(".css") { "text/css" } else { "text/javascript" };
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(kind), "{asset}");
        let text = r.text().unwrap();
        assert!(text.len() > 100, "{asset}");
        if asset.ends_with("init.js") {
            // Our document, and no validator badge (it sends the document to validator.swagger.io).
            assert!(text.contains("url: \"/api/openapi.json\"") && text.contains("validatorUrl: null"), "{text}");
        }
    }
}

#[test]
fn a_variants_offset_past_i64_was_read_as_the_largest() {
    // Found by Schemathesis: `?offset=9223372036854775808` answered 200 `[]`
    // (the store clamps to i64), so a client paging past the end could not
    // tell a bad offset from an empty page.
    let app = App::spawn(&Backend::Sqlite, &[]);
    app.upload("GOOG", "data/GOOG.csv");
    let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let r = app.post_json(
        "/api/sweeps",
        &json!({ "strategy_id": strategy, "symbols": ["GOOG"],
        "initial_capital": 10000, "grid": ["fast=5,10"] }),
    );
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().unwrap()["id"].as_i64().unwrap();
    wait_sweep(&app, id);
    let r = app.get(&format!("/api/sweeps/{id}/variants?offset={}", i64::MAX as u64 + 1));
    assert_eq!(r.status(), 422);
    let error: Value = r.json().unwrap();
    assert_eq!(error["field"], "offset", "{error}");
    let page = app.json(&format!("/api/sweeps/{id}/variants?offset={}", i64::MAX));
    assert_eq!(page, json!([]));
    let page = app.json(&format!("/api/sweeps/{id}/variants?offset=1"));
    assert_eq!(page.as_array().map(Vec::len), Some(1)); // 2 variants, the first skipped
}

#[test]
fn the_documented_request_examples_are_accepted() {
    let app = App::spawn(&Backend::Sqlite, &[]);
    let doc = app.json("/api/openapi.json");
    app.upload("GOOG", "data/GOOG.csv");
    let example =
        |path: &str| operation(&doc, "post", path)["requestBody"]["content"]["application/json"]["example"].clone();
    // In order: the strategy is id 1, which the run and the sweep name.
    for (path, status) in [("/api/strategies", 201), ("/api/runs", 202), ("/api/sweeps", 202)] {
        let body = example(path);
        assert!(body.is_object(), "POST {path} has no example");
        let schema = &operation(&doc, "post", path)["requestBody"]["content"]["application/json"]["schema"];
        validate(&doc, schema, &body).unwrap_or_else(|e| panic!("POST {path}'s example: {e}"));
        let r = app.post_json(path, &body);
        assert_eq!(r.status(), status, "POST {path}: {:?}", r.text());
    }
}

/// Every operation of `doc` by its `operationId`: (method, path, its parameters' names).
fn operations_by_id(doc: &Value) -> std::collections::BTreeMap<String, (String, String, BTreeSet<String>)> {
    let mut ops = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap().iter().filter(|(k, _)| METHODS.contains(&k.as_str())) {
            let params = op["parameters"].as_array().into_iter().flatten();
            let names = params.map(|p| p["name"].as_str().unwrap().to_string()).collect();
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ops.insert(id.to_string(), (method.clone(), path.clone(), names)).is_none(), "{id} twice");
        }
    }
    ops
}

/// The path parameters of a request, by name.
type PathParams = Vec<(&'static str, i64)>;

/// The value of a link's runtime expression for a response `body` to a
/// request whose path parameters were `request_path`.
fn link_value(expression: &str, body: &Value, request_path: &[(&'static str, i64)]) -> i64 {
    if let Some(pointer) = expression.strip_prefix("$response.body#") {
        return body.pointer(pointer).and_then(Value::as_i64).unwrap_or_else(|| panic!("{expression} in {body}"));
    }
    let name = expression.strip_prefix("$request.path.").unwrap_or_else(|| panic!("unknown expression {expression}"));
    request_path.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{expression}: no such parameter")).1
}

#[test]
fn every_link_names_an_operation_and_leads_there_from_a_real_response() {
    let app = App::spawn(&Backend::Sqlite, &[]);
    let doc = app.json("/api/openapi.json");
    let ops = operations_by_id(&doc);
    // Statically: each link names an operation, and gives exactly its path parameters.
    let mut linked = BTreeSet::new();
    for (id, (method, path, _)) in &ops {
        let op = operation(&doc, method, path);
        for (status, response) in op["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let target = link["operationId"].as_str().unwrap();
                let (_, target_path, params) =
                    ops.get(target).unwrap_or_else(|| panic!("{id} {status} link {name}: no operation {target}"));
                let given: BTreeSet<String> = link["parameters"].as_object().unwrap().keys().cloned().collect();
                let in_path: BTreeSet<String> =
                    params.iter().filter(|p| target_path.contains(&format!("{{{p}}}"))).cloned().collect();
                assert_eq!(given, in_path, "{id} {status} link {name} to {target}");
                linked.insert((id.clone(), status.clone()));
            }
        }
    }
    let creating = ["create_strategy", "add_strategy_version", "upload_dataset", "create_run", "rerun_run"];
    for creating in creating.into_iter().chain(["sweep_variant_run", "create_sweep"]) {
        assert!(linked.iter().any(|(id, _)| id == creating), "{creating} links to nothing");
    }
    // From real responses: each link's values lead to the operation it names.
    // Throwaway rows first, so that no two kinds of id (nor a version's id
    // and number) are equal: a pointer at the wrong field cannot pass.
    let source = std::fs::read_to_string(repo_path("scripts/sma_cross.rhai")).unwrap();
    let r = app.post_json("/api/strategies", &json!({ "name": "throwaway", "runtime": "rhai", "source": source }));
    assert_eq!(r.status(), 201);
    for symbol in ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"] {
        app.upload(symbol, "data/GOOG.csv");
    }
    let dataset = app.upload("GOOG", "data/GOOG.csv");
    let r = app.post_json("/api/strategies", &json!({ "name": "sma", "runtime": "rhai", "source": source }));
    assert_eq!(r.status(), 201);
    let strategy: Value = r.json().unwrap();
    let id = strategy["id"].as_i64().unwrap();
    let r = app.post_json(&format!("/api/strategies/{id}/versions"), &json!({ "source": format!("{source}\n// v2") }));
    assert_eq!(r.status(), 201);
    let version: Value = r.json().unwrap();
    let run_body = json!({ "strategy_id": id, "symbols": ["GOOG"], "initial_capital": 10000 });
    let mut sweep_body = run_body.clone();
    sweep_body["grid"] = json!(["fast=5,10"]);
    let r = app.post_json("/api/sweeps", &sweep_body);
    assert_eq!(r.status(), 202);
    let sweep: Value = r.json().unwrap();
    let sweep_id = sweep["id"].as_i64().unwrap();
    wait_sweep(&app, sweep_id);
    let queue = |path: &str, body: &Value| {
        let r = app.post_json(path, body);
        assert_eq!(r.status(), 202, "POST {path}");
        r.json::<Value>().unwrap()
    };
    let run = queue("/api/runs", &run_body);
    let run_id = run["id"].as_i64().unwrap();
    let rerun = queue(&format!("/api/runs/{run_id}/rerun"), &json!({}));
    let variant_run = queue(&format!("/api/sweeps/{sweep_id}/variants/0/run"), &json!({}));
    // The sweep's best variants' runs too: nothing is busy when the links
    // below cancel (409, finished) or delete (200) what they lead to.
    let deadline = Instant::now() + Duration::from_secs(60);
    let busy = |r: &Value| ["queued", "running"].contains(&r["status"].as_str().unwrap());
    while app.json("/api/runs").as_array().unwrap().iter().any(busy) {
        assert!(Instant::now() < deadline, "the runs never ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kinds = [&strategy["id"], &dataset["id"], &sweep["id"], &run["id"], &rerun["id"], &variant_run["id"]];
    assert_eq!(kinds.iter().map(|v| v.as_i64().unwrap()).collect::<BTreeSet<_>>().len(), kinds.len(), "{kinds:?}");
    assert_ne!(version["id"], version["version"]);
    assert_ne!(strategy["versions"][0]["id"], strategy["versions"][0]["version"]);
    // (operation, status, its answer, the path parameters of its request)
    let answers: [(&str, &str, &Value, PathParams); 7] = [
        ("create_run", "202", &run, vec![]),
        ("rerun_run", "202", &rerun, vec![("id", run_id)]),
        ("sweep_variant_run", "202", &variant_run, vec![("id", sweep_id), ("number", 0)]),
        ("create_sweep", "202", &sweep, vec![]),
        ("add_strategy_version", "201", &version, vec![("id", id)]),
        ("upload_dataset", "201", &dataset, vec![]),
        ("create_strategy", "201", &strategy, vec![]),
    ];
    let mut calls = Vec::new();
    for (op_id, status, body, request_path) in &answers {
        let (method, path, _) = &ops[*op_id];
        let links = &operation(&doc, method, path)["responses"][*status]["links"];
        for (name, link) in links.as_object().unwrap() {
            let target = link["operationId"].as_str().unwrap();
            let (target_method, target_path, _) = &ops[target];
            let mut url = target_path.clone();
            for (param, expression) in link["parameters"].as_object().unwrap() {
                let value = link_value(expression.as_str().unwrap(), body, request_path);
                url = url.replace(&format!("{{{param}}}"), &value.to_string());
            }
            // A finished run or sweep cannot be cancelled; an empty version is
            // no version; the first version is the only one once the second is
            // deleted; everything else answers 200.
            let expected = match (target, name.as_str()) {
                ("cancel_run" | "cancel_sweep", _) => 409,
                ("add_strategy_version", _) => 422,
                ("delete_version", "DeleteFirstVersion") => 409,
                _ => 200,
            };
            calls.push((target_method.clone(), target == "delete_strategy", url, expected, format!("{op_id} {name}")));
        }
    }
    // Reads, then the other calls, then deletions, the strategy's last.
    calls.sort_by_key(|(method, last, ..)| (["get", "post", "delete"].iter().position(|m| m == method), *last));
    for (method, _, url, expected, what) in calls {
        let r = match method.as_str() {
            "get" => app.get(&url),
            "post" => app.post_json(&url, &json!({})),
            "delete" => app.client.delete(format!("{}{url}", app.url)).send().unwrap(),
            other => panic!("{what}: a link to {other}"),
        };
        assert_eq!(r.status().as_u16(), expected, "{what}: {method} {url}: {:?}", r.text());
    }
    // The deletions the links led to were done.
    for url in [
        format!("/api/runs/{run_id}"),
        format!("/api/runs/{}", rerun["id"]),
        format!("/api/sweeps/{sweep_id}"),
        format!("/api/datasets/{}", dataset["id"]),
        format!("/api/strategies/{id}"),
    ] {
        assert_eq!(app.get(&url).status(), 404, "GET {url} after its deletion");
    }
}
