//! Sweeps over the HTTP API: the same variants, metrics, CSV and Deflated
//! Sharpe Ratio as `backtester sweep`; a variant turned into a run gives
//! the variant's metrics; a sweep survives a crash without running a
//! variant twice; bad requests are refused naming the field.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::app::{backends, App};
use crate::helpers::ok;

/// The sweep the CLI test runs too: 12 variants, 2 excluded.
const GRID: [&str; 3] = ["fast=5:15:5", "slow=20,30", "commission=0,0.001"];
const CONSTRAINT: &str = "fast * 2 <= slow";

fn start_sweep(app: &App, body: &Value) -> i64 {
    let r = app.post_json("/api/sweeps", body);
    assert_eq!(r.status(), 202, "{:?}", r.text());
    r.json::<Value>().unwrap()["id"].as_i64().unwrap()
}

fn wait_sweep(app: &App, id: i64, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let sweep = app.json(&format!("/api/sweeps/{id}"));
        if done(&sweep) {
            return sweep;
        }
        assert!(Instant::now() < deadline, "sweep {id} never got there: {sweep}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn setup(app: &App) -> i64 {
    app.upload("GOOG", "data/GOOG.csv");
    app.rhai_strategy("sma", "scripts/sma_cross.rhai")
}

fn body(strategy: i64, extra: Value) -> Value {
    let mut body = json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000 });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body
}

/// Waits for run `run_id` and checks it against the sweep's `variant`:
/// its values, its metrics, its trades.
fn assert_run_is_the_variant(app: &App, run_id: i64, variant: &Value) {
    let run = app.wait_for(run_id, "completed", |r| r["status"] == "completed");
    for (name, value) in variant["values"].as_object().unwrap() {
        match name.as_str() {
            "commission" => assert_eq!(run["config"]["commission"]["rate"].as_f64(), value.as_f64()),
            _ => assert_eq!(&run["config"]["params"][name.as_str()], value, "{name}"),
        }
    }
    for (metric, value) in variant["metrics"].as_object().unwrap() {
        let alone = &run["metrics"][metric.as_str()];
        let alone = alone.as_f64().or_else(|| alone.as_str().and_then(|s| s.parse().ok()));
        match (value.as_f64(), alone) {
            (Some(v), Some(a)) => assert!((v - a).abs() <= a.abs() * 1e-15, "{metric}: {v} against {a}"),
            (v, a) => assert_eq!(v, a, "{metric}"),
        }
    }
    let trades = app.json(&format!("/api/runs/{run_id}/trades"));
    assert_eq!(trades.as_array().unwrap().len() as f64, variant["metrics"]["trades"].as_f64().unwrap());
}

#[test]
fn a_sweep_over_the_api_gives_what_the_cli_gives_and_its_variants_run_alone_alike() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("cli.csv");
    let mut args = vec!["sweep", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--json", "--top", "20"];
    for axis in GRID {
        args.extend(["--grid", axis]);
    }
    args.extend(["--constraint", CONSTRAINT, "--csv", csv_path.to_str().unwrap()]);
    let cli: Value = serde_json::from_str(&ok(&args)).unwrap();
    let cli_csv = std::fs::read_to_string(&csv_path).unwrap();

    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        let strategy = setup(&app);
        let id = start_sweep(&app, &body(strategy, json!({ "grid": GRID, "constraint": CONSTRAINT, "top": 20 })));
        let sweep = wait_sweep(&app, id, Duration::from_secs(120), |s| s["status"] == "completed");
        assert_eq!(sweep["final"], true);
        assert_eq!(sweep["leaderboard"]["partial"], false);
        assert_eq!(
            (&sweep["total"], &sweep["done"], &sweep["ran"], &sweep["excluded"], &sweep["failed"]),
            (&json!(12), &json!(12), &cli["ran"], &cli["excluded"], &cli["failed"]),
            "{backend:?}"
        );
        // The same ranking, values and metrics to the last bit, and the same overfitting measure.
        let api_board = sweep["leaderboard"]["variants"].as_array().unwrap();
        let cli_board = cli["leaderboard"].as_array().unwrap();
        assert_eq!(api_board.len(), cli_board.len());
        for (a, c) in api_board.iter().zip(cli_board) {
            assert_eq!((&a["number"], &a["values"], &a["metrics"]), (&c["variant"], &c["values"], &c["metrics"]));
        }
        assert_eq!(sweep["deflated_sharpe"], cli["deflated_sharpe"], "{backend:?}");
        assert_eq!(sweep["best"]["number"], cli_board[0]["variant"]);
        assert_eq!(sweep["indicators_computed"], json!(5), "SMAs of 5, 10, 15, 20, 30: each once");

        // Every variant, as the CLI's --csv writes it, byte for byte.
        let r = app.get(&format!("/api/sweeps/{id}/variants?format=csv"));
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().unwrap(), cli_csv, "{backend:?}");

        // Sorted by a metric, paged.
        let page: Value = app.json(&format!("/api/sweeps/{id}/variants?sort=return_pct&outcome=ran&limit=3&offset=1"));
        let returns: Vec<f64> =
            page.as_array().unwrap().iter().map(|v| v["metrics"]["return_pct"].as_f64().unwrap()).collect();
        assert_eq!(returns.len(), 3);
        assert!(returns.windows(2).all(|w| w[0] >= w[1]), "best first: {returns:?}");
        let all: Value = app.json(&format!("/api/sweeps/{id}/variants?outcome=ran&limit=100"));
        let mut sorted: Vec<f64> =
            all.as_array().unwrap().iter().map(|v| v["metrics"]["return_pct"].as_f64().unwrap()).collect();
        sorted.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(returns, sorted[1..4], "offset 1 skips the best");

        // A heatmap takes each cell's best over the other axis, or the value where it is fixed.
        let map = app.json(&format!("/api/sweeps/{id}/heatmap?x=fast&y=slow&metric=return_pct"));
        assert_eq!((&map["x"]["values"], &map["y"]["values"]), (&json!([5, 10, 15]), &json!([20, 30])));
        let of = |fast: i64, slow: i64, commission: Option<f64>| {
            all.as_array()
                .unwrap()
                .iter()
                .filter(|v| v["values"]["fast"] == fast && v["values"]["slow"] == slow)
                .filter(|v| commission.is_none_or(|c| v["values"]["commission"].as_f64() == Some(c)))
                .filter_map(|v| v["metrics"]["return_pct"].as_f64())
                .fold(None, |best: Option<f64>, x| Some(best.map_or(x, |b| b.max(x))))
        };
        assert_eq!(map["cells"][1][1].as_f64(), of(10, 30, None));
        assert_eq!(map["cells"][0][2], Value::Null, "fast 15, slow 20 was excluded");
        let fixed = app.json(&format!("/api/sweeps/{id}/heatmap?x=fast&y=slow&metric=return_pct&commission=0.001"));
        assert_eq!(fixed["cells"][1][0].as_f64(), of(5, 30, Some(0.001)));
        assert_ne!(fixed["cells"], map["cells"], "not vacuous: commission changes returns");

        // The best variants' results are kept as ordinary runs, and any
        // variant becomes one on request: each with the variant's metrics.
        for entry in api_board {
            let run_id = entry["run_id"].as_i64().unwrap_or_else(|| panic!("a kept run: {entry}"));
            assert_run_is_the_variant(&app, run_id, entry);
        }
        let last = &api_board[api_board.len() - 1];
        let r = app.post_json(&format!("/api/sweeps/{id}/variants/{}/run", last["number"]), &json!({}));
        assert_eq!(r.status(), 202, "{:?}", r.text());
        assert_run_is_the_variant(&app, r.json::<Value>().unwrap()["id"].as_i64().unwrap(), last);

        // A finished sweep's stream holds its final event.
        let events = app.get(&format!("/api/sweeps/{id}/events")).text().unwrap();
        assert!(events.contains("event: completed"), "{events}");
        let listed = app.json("/api/sweeps");
        assert_eq!(listed[0]["id"], json!(id));
    }
}

#[test]
fn a_sweep_survives_a_crash_and_runs_no_variant_twice() {
    for backend in backends() {
        let app = App::spawn(&backend, &["--max-concurrent-runs", "2"]);
        let strategy = setup(&app);
        let grid = json!(["fast=2:41:1", "slow=50:90:10"]);
        let extra = json!({ "grid": grid, "objective": "return_pct", "jobs": 2 });
        let id = start_sweep(&app, &body(strategy, extra));
        let before = wait_sweep(&app, id, Duration::from_secs(120), |s| s["done"].as_u64() >= Some(10));
        assert!(before["final"] == false && before["leaderboard"]["partial"] == true, "{before}");
        let total = before["total"].as_u64().unwrap();
        assert_eq!(total, 200);
        let mut app = app;
        app.kill();
        // Restarted with fewer slots than the sweep's `jobs`: it runs on fewer threads.
        let app = app.restart(&["--max-concurrent-runs", "1"]);
        let after = wait_sweep(&app, id, Duration::from_secs(300), |s| s["status"] == "completed");
        assert_eq!((after["done"].as_u64(), after["ran"].as_u64()), (Some(total), Some(total)));
        let resumed = after["resumed_from"].as_u64().unwrap();
        assert!(resumed >= before["done"].as_u64().unwrap() && resumed < total, "{after}");
        assert_eq!(after["ran_this_start"].as_u64(), Some(total - resumed), "only the rest ran again");
        // The resumed sweep ranks as one that ran at once.
        let once = start_sweep(&app, &body(strategy, json!({ "grid": grid, "objective": "return_pct" })));
        let once = wait_sweep(&app, once, Duration::from_secs(300), |s| s["status"] == "completed");
        // The same variants and metrics; each keeps its results in runs of its own.
        let without_runs = |sweep: &Value| {
            let mut board = sweep["leaderboard"].clone();
            for v in board["variants"].as_array_mut().unwrap() {
                v.as_object_mut().unwrap().remove("run_id");
            }
            board
        };
        assert_eq!(without_runs(&once), without_runs(&after));
        assert_eq!(once["deflated_sharpe"], after["deflated_sharpe"]);
    }
}

#[test]
fn a_cancelled_sweep_keeps_what_finished() {
    let app = App::spawn(&backends().remove(0), &["--max-concurrent-runs", "1"]);
    let strategy = setup(&app);
    let id = start_sweep(&app, &body(strategy, json!({ "grid": ["fast=2:60:1", "slow=70:200:1"] })));
    wait_sweep(&app, id, Duration::from_secs(120), |s| s["done"].as_u64() >= Some(5));
    // Live events while it runs: each variant as it is stored, and progress.
    let stream = app.get(&format!("/api/sweeps/{id}/events"));
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stream));
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 2 {
        let line = lines.next().expect("the stream goes on").unwrap();
        if let Some(name) = line.strip_prefix("event: ") {
            seen.insert(name.to_string());
        }
        if let Some(data) = line.strip_prefix("data: ") {
            let event: Value = serde_json::from_str(data).unwrap();
            assert_eq!(event["sweep_id"], json!(id), "{event}");
        }
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["progress", "variant"]);
    let r = app.post_json(&format!("/api/sweeps/{id}/cancel"), &json!({}));
    assert_eq!(r.status(), 202);
    let last = lines.map(Result::unwrap).filter(|l| l.starts_with("event: ")).last();
    assert_eq!(last.as_deref(), Some("event: cancelled"), "the stream ends with the cancellation");
    let sweep = wait_sweep(&app, id, Duration::from_secs(60), |s| s["status"] == "cancelled");
    let done = sweep["done"].as_u64().unwrap();
    assert!(done >= 5 && done < sweep["total"].as_u64().unwrap(), "{sweep}");
    assert_eq!(sweep["leaderboard"]["partial"], true);
    let r = app.post_json(&format!("/api/sweeps/{id}/cancel"), &json!({}));
    assert_eq!(r.status(), 409, "already cancelled");
    let events = app.get(&format!("/api/sweeps/{id}/events")).text().unwrap();
    assert!(events.contains("event: cancelled"), "{events}");
}

#[test]
fn bad_sweeps_and_queries_are_refused_naming_the_field() {
    let app = App::spawn(&backends().remove(0), &[]);
    let strategy = setup(&app);
    let refused = |extra: Value, status: u16, field: &str| {
        let r = app.post_json("/api/sweeps", &body(strategy, extra.clone()));
        assert_eq!(r.status(), status, "{extra}");
        let message = r.json::<Value>().unwrap()["message"].as_str().unwrap_or_default().to_string();
        assert!(message.starts_with(field), "{extra}: {message}");
    };
    refused(json!({ "grid": ["fast=5"], "gird": 1 }), 422, "unknown field `gird`");
    refused(json!({ "grid": "fast=5" }), 422, "grid");
    refused(json!({ "grid": ["fast=5:1:1"] }), 422, "grid");
    refused(json!({ "grid": ["fats=5,10"] }), 422, "grid");
    refused(json!({ "grid": ["fast=5"], "params": { "fast": 3 } }), 422, "grid");
    refused(json!({ "grid": ["fast=5"], "constraint": "fast <" }), 422, "constraint");
    refused(json!({ "grid": ["fast=5"], "objective": "sharp" }), 422, "objective");
    refused(json!({ "grid": ["fast=1:1000:1", "slow=1:1001:1"] }), 422, "grid: the grid has more than");
    refused(json!({ "grid": ["fast=5"], "symbols": ["NOPE"] }), 422, "symbols");
    refused(json!({ "grid": ["fast=5"], "random": { "count": 3, "sed": 1 } }), 422, "random");
    let id = start_sweep(&app, &body(strategy, json!({ "grid": ["fast=5,10"] })));
    wait_sweep(&app, id, Duration::from_secs(60), |s| s["status"] == "completed");
    let status = |path: &str| app.get(path).status().as_u16();
    assert_eq!(status(&format!("/api/sweeps/{id}/heatmap?x=fast&y=slow")), 422, "slow is not an axis");
    assert_eq!(status(&format!("/api/sweeps/{id}/heatmap?x=fast")), 400);
    assert_eq!(status(&format!("/api/sweeps/{id}/variants?sort=nope")), 422);
    assert_eq!(status(&format!("/api/sweeps/{id}/variants?limit=0")), 422);
    assert_eq!(status(&format!("/api/sweeps/{id}/variants?colour=red")), 400);
    assert_eq!(status("/api/sweeps/999/variants"), 404);
    let r = app.post_json(&format!("/api/sweeps/{id}/variants/2/run"), &json!({}));
    assert_eq!(r.status(), 404, "the sweep has variants 0 and 1");
}

#[test]
fn a_wasm_sweep_over_the_api_gives_what_the_cli_gives() {
    let Some(plugin) = crate::plugins::plugin("sma_cross") else { return };
    let cli: Value = serde_json::from_str(&ok(&[
        "sweep",
        &plugin,
        "--data",
        "data/GOOG.csv",
        "--json",
        "--grid",
        "fast=5,10",
        "--grid",
        "slow=20:40:20",
    ]))
    .unwrap();
    let app = App::spawn(&backends().remove(0), &[]);
    app.upload("GOOG", "data/GOOG.csv");
    use base64::Engine as _;
    let module = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&plugin).unwrap());
    let r =
        app.post_json("/api/strategies", &json!({ "name": "sma-wasm", "runtime": "wasm", "module_base64": module }));
    assert_eq!(r.status(), 201);
    let strategy = r.json::<Value>().unwrap()["id"].as_i64().unwrap();
    let id = start_sweep(&app, &body(strategy, json!({ "grid": ["fast=5,10", "slow=20:40:20"] })));
    let sweep = wait_sweep(&app, id, Duration::from_secs(120), |s| s["status"] == "completed");
    assert_eq!(sweep["ran"], json!(4));
    let board = sweep["leaderboard"]["variants"].as_array().unwrap();
    let cli_board = cli["leaderboard"].as_array().unwrap();
    assert_eq!(board.len(), cli_board.len());
    for (a, c) in board.iter().zip(cli_board) {
        assert_eq!((&a["number"], &a["values"], &a["metrics"]), (&c["variant"], &c["values"], &c["metrics"]));
        assert_run_is_the_variant(&app, a["run_id"].as_i64().unwrap(), a);
    }
    assert_eq!(sweep["deflated_sharpe"], cli["deflated_sharpe"]);
}

#[test]
fn a_walk_forward_over_the_api_gives_what_the_cli_gives() {
    let cli: Value = serde_json::from_str(&ok(&[
        "sweep",
        "scripts/sma_cross.rhai",
        "--data",
        "data/GOOG.csv",
        "--json",
        "--grid",
        "fast=5,10",
        "--grid",
        "slow=20,40",
        "--walk-forward",
        "train=500,test=250",
    ]))
    .unwrap();
    let windows = cli["windows"].as_array().unwrap().len() as u64;
    assert!(windows >= 6, "{cli}");
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        let strategy = setup(&app);
        let extra = json!({ "grid": ["fast=5,10", "slow=20,40"], "walk_forward": "train=500,test=250" });
        let id = start_sweep(&app, &body(strategy, extra));
        let sweep = wait_sweep(&app, id, Duration::from_secs(120), |s| s["status"] == "completed");
        assert_eq!(
            (&sweep["kind"], &sweep["total"], &sweep["done"]),
            (&json!("walk_forward"), &json!(4 * windows), &json!(4 * windows))
        );
        assert_eq!(sweep["walk_forward"], cli, "{backend:?}");
        assert_eq!(sweep["leaderboard"], Value::Null);
        // Each window chose its own variant: there is no one set of variants to list.
        assert_eq!(app.get(&format!("/api/sweeps/{id}/variants")).status(), 409);
        assert_eq!(app.post_json(&format!("/api/sweeps/{id}/variants/0/run"), &json!({})).status(), 409);
    }
    let app = App::spawn(&backends().remove(0), &[]);
    let strategy = setup(&app);
    let too_long = json!({ "grid": ["fast=5"], "walk_forward": "train=5000,test=100" });
    let r = app.post_json("/api/sweeps", &body(strategy, too_long));
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("walk_forward"));
}
