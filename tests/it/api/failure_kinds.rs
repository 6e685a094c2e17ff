//! A failed run says why in `error.kind`: a strategy that used up its
//! budget is `budget`, one that trapped is `trap`, one that raised an
//! error is `strategy`, on both backends and in the `failed` event.

use base64::Engine as _;
use serde_json::{json, Value};

use super::app::{backends, App};

/// Creates a strategy from `body` (name, runtime, code); returns its id.
fn strategy(app: &App, body: Value) -> i64 {
    let r = app.post_json("/api/strategies", &body);
    assert_eq!(r.status(), 201, "{body}");
    r.json::<Value>().unwrap()["id"].as_i64().unwrap()
}

/// Runs strategy `id` on GOOG to its failure; returns the run.
fn failed_run(app: &App, id: i64) -> Value {
    let run = app.start_run(&json!({ "strategy_id": id, "symbols": ["GOOG"], "initial_capital": 1000 }));
    app.wait_status(run, "failed")
}

#[test]
fn a_script_out_of_its_operations_fails_as_budget_and_a_trapping_plugin_as_trap() {
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        app.upload("GOOG", "data/GOOG.csv");

        let looping = json!({ "name": "loops", "runtime": "rhai", "source": "fn on_bar(ctx) { loop { } }" });
        let run = failed_run(&app, strategy(&app, looping));
        assert_eq!(run["error"]["kind"], "budget", "{run}");
        let message = run["error"]["message"].as_str().unwrap();
        assert!(message.contains("exceeded the limit of 1000000 operations in one call"), "{message}");
        let events = app.get(&format!("/api/runs/{}/events", run["id"])).text().unwrap();
        assert!(events.contains(r#""error_kind":"budget""#), "the stored run's final event: {events}");

        let wat = r#"(module
            (memory (export "memory") 1)
            (func (export "bt_abi_version") (result i32) i32.const 1)
            (func (export "bt_on_bar") (result i32) unreachable))"#;
        let module = base64::engine::general_purpose::STANDARD.encode(wat);
        let trapping = json!({ "name": "traps", "runtime": "wasm", "module_base64": module });
        let run = failed_run(&app, strategy(&app, trapping));
        assert_eq!(run["error"]["kind"], "trap", "{run}");
        assert!(run["error"]["message"].as_str().unwrap().contains("trapped"), "{run}");

        let throwing = json!({ "name": "throws", "runtime": "rhai", "source": "fn on_bar(ctx) { throw \"no\"; }" });
        let run = failed_run(&app, strategy(&app, throwing));
        assert_eq!(run["error"]["kind"], "strategy", "{run}");
    }
}
