//! A crash (SIGKILL) leaves no run stuck in `running`: at the next start the
//! interrupted run is failed and the queued one runs. A shutdown signal
//! stops the server promptly even with an event stream open and a run going.

use std::time::Duration;

use serde_json::json;

use super::app::{backends, App};

#[test]
fn a_killed_server_fails_the_interrupted_run_and_resumes_the_queue() {
    for backend in backends() {
        let mut app = App::spawn(&backend, &["--max-concurrent-runs", "1"]);
        app.upload("GOOG", "data/GOOG.csv");
        let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let slow = app.start_run(&json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000,
                                           "pace": { "bars_per_second": 100 } }));
        app.wait_status(slow, "running");
        let queued = app.start_run(&json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000 }));
        assert_eq!(app.json(&format!("/api/runs/{queued}"))["status"], "queued");

        app.kill();
        let app = app.restart(&["--max-concurrent-runs", "1"]);
        let interrupted = app.json(&format!("/api/runs/{slow}"));
        assert_eq!(interrupted["status"], "failed", "{backend:?}");
        assert_eq!(interrupted["error"]["kind"], "interrupted");
        let resumed = app.wait_status(queued, "completed");
        assert_eq!(resumed["metrics"]["trades"], 47);
        assert_eq!(app.json(&format!("/api/runs/{slow}/trades")).as_array().unwrap().len(), 0, "no half results");
    }
}

#[test]
fn a_shutdown_signal_stops_the_server_despite_open_streams_and_runs() {
    for backend in backends() {
        for signal in ["INT", "TERM"] {
            let mut app = App::spawn(&backend, &[]);
            app.upload("GOOG", "data/GOOG.csv");
            let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
            let slow = app.start_run(&json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000,
                                               "pace": { "bars_per_second": 20 } }));
            app.wait_status(slow, "running");
            // Two streams that would never end on their own.
            let run_events = app.get(&format!("/api/runs/{slow}/events"));
            let strategy_events = app.get(&format!("/api/strategies/{s}/events"));
            assert_eq!((run_events.status().as_u16(), strategy_events.status().as_u16()), (200, 200));

            let status = app.stop_with(signal, Duration::from_secs(15));
            assert!(status.success(), "SIG{signal}: {status:?}");
            drop((run_events, strategy_events));
            let app = app.restart(&[]);
            let run = app.json(&format!("/api/runs/{slow}"));
            assert_eq!(run["status"], "failed", "{backend:?} SIG{signal}: {run}");
            assert_eq!(run["error"]["kind"], "interrupted");
        }
    }
}
