//! Upload, run, poll, read results: and the same answer as the CLI.

use serde_json::{json, Value};

use super::app::{backends, App};
use crate::helpers::ok;

#[test]
fn a_run_through_the_api_matches_the_cli() {
    let cli: Value = serde_json::from_str(&ok(&[
        "run",
        "scripts/sma_cross.rhai",
        "--data",
        "data/GOOG.csv",
        "--json",
        "--commission",
        "0.001",
    ]))
    .unwrap();
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        let dataset = app.upload("GOOG", "data/GOOG.csv");
        assert_eq!(dataset["rows"], 2148);
        assert_eq!(dataset["first"], "2004-08-19");
        assert_eq!(dataset["interval_ms"], 86_400_000);
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let id = app.start_run(&json!({
            "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000,
            "commission": { "model": "percent", "rate": 0.001 }
        }));
        let run = app.wait_status(id, "completed");
        for key in ["final_equity", "return_pct", "sharpe", "trades", "max_drawdown_pct", "commission_total"] {
            assert_eq!(run["metrics"][key], cli[key], "{backend:?}: {key}");
        }
        assert_eq!(run["sandbox"]["runtime"], "rhai", "{backend:?}: {}", run["sandbox"]);
        assert_eq!(run["sandbox"], cli["sandbox"], "{backend:?}: the same operations as through the CLI");
        assert_eq!(run["progress_pct"], 100.0);
        assert_eq!(run["bars_processed"], 2148);
        assert!(run["timings"]["simulate_ms"].as_f64().unwrap() > 0.0);
        assert!(run["timings"]["bars_per_second"].as_f64().unwrap() > 0.0);
        let run = app.wait_for(id, "timed", |r| r["timings"]["persist_ms"].as_f64().is_some());
        assert!(run["timings"]["load_data_ms"].as_f64().is_some());
        assert_eq!(run["config"]["slippage_bps"], 0, "every config field is stored");
        assert_eq!(run["config"]["params"], json!({ "fast": 10, "slow": 20 }));
        // The same inputs as the CLI's run: the same fingerprint, stated alike.
        assert_eq!(run["fingerprint"], cli["fingerprint"], "{backend:?}");
        let (manifest, stated) = (&run["manifest"], &cli["config"]);
        for key in ["engine_version", "results_version", "broker", "params", "limits", "resample"] {
            assert_eq!(manifest[key], stated[key], "{backend:?}: manifest.{key}");
        }
        assert_eq!(manifest["strategy"]["name"], "sma v1");
        assert_eq!(manifest["strategy"]["content_hash"], stated["strategy"]["content_hash"]);
        assert_eq!(manifest["data"][0]["source"], format!("dataset {}", dataset["id"]));
        assert_eq!(manifest["data"][0]["content_hash"], stated["data"][0]["content_hash"]);

        let trades = app.json(&format!("/api/runs/{id}/trades"));
        assert_eq!(trades.as_array().unwrap().len(), 47);
        let csv = app.get(&format!("/api/runs/{id}/trades?format=csv")).text().unwrap();
        assert_eq!(csv.lines().count(), 48);
        let sampled = app.json(&format!("/api/runs/{id}/equity"));
        let full = app.json(&format!("/api/runs/{id}/equity?full=true"));
        assert_eq!(full.as_array().unwrap().len(), 2148);
        assert_eq!(sampled.as_array().unwrap().len(), 1000);
        let last = &full[2147];
        assert_eq!(last["equity"], cli["final_equity"]);
        for t in trades.as_array().unwrap() {
            for key in ["entry_time", "exit_time"] {
                let kept = sampled.as_array().unwrap().iter().any(|p| p["time"] == t[key]);
                assert!(kept, "the sample keeps trade point {}", t[key]);
            }
        }

        let events = app.get(&format!("/api/runs/{id}/events")).text().unwrap();
        assert!(events.starts_with("event: completed"), "{events}");

        let shown = app.json(&format!("/api/strategies/{strategy}"));
        assert_eq!(shown["versions"][0]["params"][0]["name"], "fast");
        assert_eq!(shown["runs"][0]["id"], id);
        assert_eq!(app.json("/api/datasets")[0]["symbol"], "GOOG");
        assert_eq!(app.json("/health")["status"], "ok");
        assert_eq!(app.json(&format!("/api/runs?status=completed&strategy={strategy}")).as_array().unwrap().len(), 1);
        assert_eq!(app.json("/api/runs?status=queued").as_array().unwrap().len(), 0);
    }
}

#[test]
fn new_versions_are_kept_and_runs_use_the_one_they_name() {
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        app.upload("GOOG", "data/GOOG.csv");
        let id = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let source = std::fs::read_to_string(super::app::repo_path("scripts/sma_cross.rhai")).unwrap();
        let r = app.post_json(
            &format!("/api/strategies/{id}/versions"),
            &json!({ "source": source.replace("fast: 10", "fast: 5") }),
        );
        assert_eq!(r.status(), 201);
        assert_eq!(r.json::<Value>().unwrap()["version"], 2);
        let latest = app.start_run(&json!({ "strategy_id": id, "symbols": ["GOOG"], "initial_capital": 1000000 }));
        let first =
            app.start_run(&json!({ "strategy_id": id, "version": 1, "symbols": ["GOOG"], "initial_capital": 1000000 }));
        let latest = app.wait_status(latest, "completed");
        let first = app.wait_status(first, "completed");
        assert_eq!(latest["config"]["params"]["fast"], 5);
        assert_eq!(first["config"]["params"]["fast"], 10);
        assert_ne!(latest["metrics"]["trades"], first["metrics"]["trades"]);
    }
}

#[test]
fn a_wasm_strategy_uploaded_as_base64_gives_the_same_metrics_as_the_script() {
    let Some(plugin) = crate::plugins::plugin("sma_cross") else { return };
    use base64::Engine as _;
    let module = base64::engine::general_purpose::STANDARD.encode(std::fs::read(plugin).unwrap());
    let app = App::spawn(&backends().remove(0), &[]);
    app.upload("GOOG", "data/GOOG.csv");
    let r =
        app.post_json("/api/strategies", &json!({ "name": "sma-wasm", "runtime": "wasm", "module_base64": module }));
    assert_eq!(r.status(), 201);
    let wasm = r.json::<Value>().unwrap();
    assert_eq!(wasm["versions"][0]["params"][1]["name"], "slow");
    let rhai = app.rhai_strategy("sma-rhai", "scripts/sma_cross.rhai");
    let run = |s: &Value| app.start_run(&json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000 }));
    let a = app.wait_status(run(&wasm["id"]), "completed");
    let b = app.wait_status(run(&json!(rhai)), "completed");
    assert_eq!(a["metrics"], b["metrics"]);
    let sandbox = &a["sandbox"];
    assert_eq!(sandbox["runtime"], "wasm", "{sandbox}");
    assert!(sandbox["time_used_ms"].as_f64().is_some_and(|t| t > 0.0), "{sandbox}");
    assert!(sandbox["peak_memory_bytes"].as_u64().is_some_and(|m| m >= 1 << 16), "{sandbox}");
    assert_eq!(b["sandbox"]["runtime"], "rhai");
    let r =
        app.post_json("/api/strategies", &json!({ "name": "junk", "runtime": "wasm", "module_base64": "AGFzbQ==" }));
    assert_eq!(r.status(), 422, "a module that is not one is refused");
}
