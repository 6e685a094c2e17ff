//! A crash (SIGKILL) leaves no run stuck in `running`: the interrupted run
//! is failed (at the next start on SQLite; on PostgreSQL once its server
//! lease runs out) and the queued one runs. A shutdown signal stops the
//! server promptly even with an event stream open and a run going. On
//! PostgreSQL a server starting beside another leaves that one's runs alone.

use std::time::Duration;

use serde_json::json;

use super::app::{backends, App, Backend};

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
        // At once on SQLite; on PostgreSQL within the server lease (10 s) of the kill.
        let interrupted = app.wait_status(slow, "failed");
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

/// A server on a fresh PostgreSQL database with GOOG and the SMA strategy
/// (its id), or `None` (skipped, with a message) without PostgreSQL: only
/// there do servers share a database, and hold leases.
fn server_on_postgres() -> Option<(App, i64)> {
    let Some(backend) = backends().into_iter().find(|b| matches!(b, Backend::Postgres(_))) else {
        eprintln!("skipping: servers share a database only on PostgreSQL (set BACKTESTER_TEST_POSTGRES_URL)");
        return None;
    };
    let app = App::spawn(&backend, &[]);
    app.upload("GOOG", "data/GOOG.csv");
    let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    Some((app, strategy))
}

#[test]
fn a_server_starting_beside_another_on_postgres_leaves_its_running_run_alone() {
    let Some((first, s)) = server_on_postgres() else { return };
    // About seven seconds of bars.
    let slow = first.start_run(&json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000,
                                         "pace": { "bars_per_second": 300 } }));
    first.wait_status(slow, "running");
    // An API server and another executing one start on the same database:
    // each recovers what a crash left and looks for lost servers' runs.
    let api_only = App::spawn_on(first.database_url.clone(), &["--workers", "0"]);
    let executing = App::spawn_on(first.database_url.clone(), &[]);
    std::thread::sleep(Duration::from_secs(3));
    let run = api_only.json(&format!("/api/runs/{slow}"));
    assert_eq!(run["status"], "running", "{run}");
    let done = executing.wait_status(slow, "completed");
    assert_eq!(done["metrics"]["trades"], 47, "{done}");
}

#[test]
fn a_run_failed_elsewhere_as_interrupted_stays_so_and_its_stream_says_so() {
    let Some((app, s)) = server_on_postgres() else { return };
    let slow = app.start_run(&json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000,
                                       "pace": { "bars_per_second": 100 } }));
    app.wait_status(slow, "running");
    let events = app.get(&format!("/api/runs/{slow}/events"));
    // What another server does to a run whose server lease ran out (this
    // server cut off from the database for longer than its lease).
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::postgres::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query(
            "UPDATE runs SET status = 'failed', error_kind = 'interrupted', \
             error_message = 'failed elsewhere', lease_owner = NULL WHERE id = $1",
        )
        .bind(slow)
        .execute(&pool)
        .await
        .unwrap();
    });
    // The server's renewal finds the lease lost and stops the run; its own
    // ending is refused, and its stream ends as the row says, not "cancelled".
    let last = std::io::BufRead::lines(std::io::BufReader::new(events))
        .map_while(Result::ok)
        .filter_map(|line| line.strip_prefix("data: ").map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap()))
        .last()
        .unwrap();
    assert_eq!((last["event"].as_str(), last["error_kind"].as_str()), (Some("failed"), Some("interrupted")), "{last}");
    let run = app.json(&format!("/api/runs/{slow}"));
    assert_eq!((run["status"].as_str(), run["error"]["message"].as_str()), (Some("failed"), Some("failed elsewhere")));
}

#[test]
fn a_server_starting_beside_another_on_postgres_leaves_its_running_sweep_alone() {
    let Some((first, s)) = server_on_postgres() else { return };
    // Thousands of variants: still running when the second server is up.
    let r = first.post_json(
        "/api/sweeps",
        &json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000,
                 "grid": ["fast=2:60:1", "slow=20:100:1"] }),
    );
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().unwrap()["id"].as_i64().unwrap();
    let held = || {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let pool = sqlx::postgres::PgPool::connect(&first.database_url).await.unwrap();
            let row: (String, Option<String>, Option<i64>) =
                sqlx::query_as("SELECT status, lease_owner, started_at FROM sweeps WHERE id = $1")
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            row
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while held().0 != "running" {
        assert!(std::time::Instant::now() < deadline, "the sweep never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = held();
    assert!(before.1.as_deref().is_some_and(|owner| owner.starts_with("serve/")), "{before:?}");
    // An API server starts beside it, recovers and looks for lost servers' work.
    let api_only = App::spawn_on(first.database_url.clone(), &["--workers", "0"]);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(held(), before, "still the first server's, started once");
    // A cancel through the other server reaches the one executing it.
    assert_eq!(api_only.post_json(&format!("/api/sweeps/{id}/cancel"), &json!({})).status(), 202);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while first.json(&format!("/api/sweeps/{id}"))["status"] != "cancelled" {
        assert!(std::time::Instant::now() < deadline, "the cancel never reached the sweep");
        std::thread::sleep(Duration::from_millis(50));
    }
}
