//! Reports from the service, and a run's events on a WebSocket.

use std::time::Duration;

use serde_json::{json, Value};

use super::app::{backends, App};

fn setup(app: &App) -> i64 {
    app.upload("GOOG", "data/GOOG.csv");
    app.rhai_strategy("sma", "scripts/sma_cross.rhai")
}

/// The JSON data a report page carries.
fn report_data(html: &str) -> Value {
    let tag = r#"<script id="report-data" type="application/json">"#;
    let start = html.find(tag).expect("the data element") + tag.len();
    let end = start + html[start..].find("</script>").expect("its end");
    serde_json::from_str(&html[start..end].replace("<\\/", "</")).expect("the data is JSON")
}

#[test]
fn a_completed_run_has_a_self_contained_report_of_its_stored_results() {
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        let strategy = setup(&app);
        let body = json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000,
                           "pace": { "bars_per_second": 400 } });
        let id = app.start_run(&body);
        let r = app.get(&format!("/api/runs/{id}/report"));
        assert_eq!(r.status(), 409, "not yet: the run is running");
        let run = app.wait_for(id, "completed", |r| r["status"] == "completed");
        let r = app.get(&format!("/api/runs/{id}/report"));
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = r.text().unwrap();
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "nothing to fetch");
        let data = report_data(&html);
        assert_eq!(data["trade_count"], run["metrics"]["trades"]);
        assert_eq!(data["trades"]["rows"].as_array().unwrap().len() as u64, run["metrics"]["trades"].as_u64().unwrap());
        assert_eq!(data["header"]["fingerprint"], run["fingerprint"]);
        assert_eq!(data["equity"]["points"], json!(2148));
        assert_eq!(data["symbols"][0]["symbol"], json!("GOOG"));
        assert_eq!(data["symbols"][0]["candles"].as_array().unwrap().len(), 2148, "daily GOOG fits undrawn-merged");
        let returns = app.json(&format!("/api/runs/{id}/returns"));
        let first = &returns["monthly"][0];
        assert_eq!(first["period"], json!("2004-08"));
        assert_eq!(data["monthly"]["cells"][0][7], first["return_pct"]);
        assert_eq!(app.get("/api/runs/999/report").status(), 404);
    }
}

#[test]
fn a_sweeps_report_is_partial_until_it_ends_and_links_its_best_runs_reports() {
    let app = App::spawn(&backends().remove(0), &["--max-concurrent-runs", "1"]);
    let strategy = setup(&app);
    let body = json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000,
                       "grid": ["fast=2:60:1", "slow=70:200:1"], "top": 3 });
    let r = app.post_json("/api/sweeps", &body);
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().unwrap()["id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while app.json(&format!("/api/sweeps/{id}"))["done"].as_u64() < Some(3) {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    let html = app.get(&format!("/api/sweeps/{id}/report")).text().unwrap();
    assert!(html.contains(r#"id="partial" data-secs="3""#), "a partial page reloads itself");
    let data = report_data(&html);
    assert_eq!(data["final"], json!(false));
    assert!(data["variants"]["rows"].as_array().unwrap().len() >= 3);
    app.post_json(&format!("/api/sweeps/{id}/cancel"), &json!({}));

    let small = json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000,
                        "grid": ["fast=5,10", "slow=20,30"], "top": 2 });
    let id = app.post_json("/api/sweeps", &small).json::<Value>().unwrap()["id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let sweep = loop {
        let sweep = app.json(&format!("/api/sweeps/{id}"));
        if sweep["status"] == "completed" {
            break sweep;
        }
        assert!(std::time::Instant::now() < deadline, "{sweep}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let html = app.get(&format!("/api/sweeps/{id}/report")).text().unwrap();
    assert!(!html.contains(r#"id="partial""#));
    let data = report_data(&html);
    assert_eq!(data["final"], json!(true));
    assert_eq!(data["counts"]["ran"], json!(4));
    assert_eq!(data["deflated_sharpe"], sweep["deflated_sharpe"]);
    let leaders = data["leaderboard"].as_array().unwrap();
    assert_eq!(leaders.len(), 2);
    for (entry, best) in leaders.iter().zip(sweep["leaderboard"]["variants"].as_array().unwrap()) {
        assert_eq!(entry["number"], best["number"]);
        let link = format!("/api/runs/{}/report", best["run_id"]);
        assert_eq!(entry["report"], json!(link));
        let run_id = best["run_id"].as_i64().unwrap();
        app.wait_for(run_id, "completed", |r| r["status"] == "completed");
        assert_eq!(app.get(&link).status(), 200);
    }
}

#[test]
fn a_runs_events_come_on_a_websocket_too() {
    let app = App::spawn(&backends().remove(0), &[]);
    let strategy = setup(&app);
    let body = json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000,
                       "pace": { "bars_per_second": 1000 } });
    let id = app.start_run(&body);
    let ws_url = format!("{}/api/runs/{id}/ws", app.url.replacen("http", "ws", 1));
    let (mut socket, _) = tungstenite::connect(ws_url.as_str()).expect("the WebSocket opens");
    let mut events = Vec::new();
    loop {
        match socket.read() {
            Ok(tungstenite::Message::Text(text)) => events.push(serde_json::from_str::<Value>(&text).unwrap()),
            Ok(tungstenite::Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(names.iter().filter(|n| **n == "progress").count() >= 2, "{names:?}");
    assert_eq!(names.last(), Some(&"completed"), "{names:?}");
    assert_eq!(events.last().unwrap()["metrics"]["trades"], app.json(&format!("/api/runs/{id}"))["metrics"]["trades"]);
    // A run that has ended sends its final event at once, then closes.
    let (mut socket, _) = tungstenite::connect(ws_url.as_str()).unwrap();
    let first = socket.read().unwrap();
    let event: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(event["event"], json!("completed"));
    assert!(matches!(socket.read(), Ok(tungstenite::Message::Close(_)) | Err(_)));
}
