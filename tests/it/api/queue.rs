//! The run queue: FIFO beyond the concurrency limit, cancel, rerun, live
//! progress events.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::app::{backends, App};

fn paced(strategy: i64, bars_per_second: f64) -> Value {
    json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000,
            "pace": { "bars_per_second": bars_per_second } })
}

#[test]
fn runs_queue_beyond_the_limit_and_can_be_cancelled_and_rerun() {
    for backend in backends() {
        let app = App::spawn(&backend, &["--max-concurrent-runs", "1"]);
        app.upload("GOOG", "data/GOOG.csv");
        let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let fast = json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000 });

        let slow = app.start_run(&paced(s, 300.0));
        app.wait_status(slow, "running");
        let second = app.start_run(&fast);
        let third = app.start_run(&fast);
        assert_eq!(app.json(&format!("/api/runs/{second}"))["queue_position"], 1);
        assert_eq!(app.json(&format!("/api/runs/{third}"))["queue_position"], 2);

        let r = app.post_json(&format!("/api/runs/{second}/cancel"), &json!({}));
        assert_eq!(r.status(), 202);
        assert_eq!(app.json(&format!("/api/runs/{second}"))["status"], "cancelled");
        assert_eq!(app.json(&format!("/api/runs/{third}"))["queue_position"], 1);

        let running = app.wait_for(slow, "under way", |r| r["bars_processed"].as_i64() > Some(100));
        let pct = running["progress_pct"].as_f64().unwrap();
        let bars = running["bars_processed"].as_f64().unwrap();
        assert!((pct - bars / 2148.0 * 100.0).abs() < 1.0, "progress within 1 % of truth: {pct} vs {bars} bars");

        let asked = Instant::now();
        app.post_json(&format!("/api/runs/{slow}/cancel"), &json!({}));
        app.wait_status(slow, "cancelled");
        assert!(asked.elapsed() < Duration::from_secs(1), "cancelled within a second");
        assert_eq!(app.post_json(&format!("/api/runs/{slow}/cancel"), &json!({})).status(), 409);

        let done = app.wait_status(third, "completed");
        let r = app.post_json(&format!("/api/runs/{third}/rerun"), &json!({}));
        assert_eq!(r.status(), 202);
        let again = r.json::<Value>().unwrap()["id"].as_i64().unwrap();
        let again = app.wait_status(again, "completed");
        assert_eq!(again["metrics"], done["metrics"]);
        assert_eq!(again["rerun_of"], third);
        assert_eq!(again["config"], done["config"]);
    }
}

#[test]
fn events_stream_progress_then_the_final_state() {
    let backend = backends().remove(0);
    let app = App::spawn(&backend, &[]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let id = app.start_run(&paced(s, 1000.0));
    let response = app.get(&format!("/api/runs/{id}/events"));
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut progress = Vec::new();
    let mut after = Vec::new();
    for line in BufReader::new(response).lines() {
        let line = line.unwrap();
        if let Some(data) = line.strip_prefix("data: ") {
            let event: Value = serde_json::from_str(data).unwrap();
            match event["event"].as_str() {
                Some("progress") if after.is_empty() => progress.push(event["progress_pct"].as_f64().unwrap()),
                other => after.push(other.unwrap_or_default().to_string()),
            }
        }
    }
    // The stream ends with the final state, after a phase for storing the results.
    assert_eq!(after, ["persisting", "completed"]);
    assert_eq!(progress.last(), Some(&100.0), "the last progress is the last bar");
    assert!(progress.len() >= 5, "progress events: {progress:?}");
    assert!(progress.len() <= 60, "bounded rate: {} events in about 2 s", progress.len());
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress only grows");
}
