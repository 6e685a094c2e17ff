//! The service under ordinary load: results of runs that finish together
//! are all stored while other writes go on (SQLite, the default).

use std::fmt::Write as _;

use backtester::data::synthetic::random_walk;
use backtester::domain::Timestamp;
use serde_json::{json, Value};

use super::app::{App, Backend};

/// A CSV of `n` synthetic minute bars.
pub fn minute_bars(n: usize) -> Vec<u8> {
    let mut csv = String::from("Timestamp,Open,High,Low,Close,Volume\n");
    for b in random_walk(n, 7, Timestamp(1_600_000_000_000), 60_000) {
        let _ = writeln!(csv, "{},{},{},{},{},{}", b.ts.millis(), b.open(), b.high(), b.low(), b.close(), b.volume);
    }
    csv.into_bytes()
}

#[test]
fn twenty_runs_finishing_at_once_on_sqlite_are_all_stored_beside_other_writes() {
    let app = App::spawn(&Backend::Sqlite, &["--max-concurrent-runs", "20", "--body-limit-mib", "64"]);
    let r = app.post_raw("/api/datasets?symbol=SYN", "text/csv", minute_bars(50_000));
    assert_eq!(r.status(), 201);
    let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let run = json!({ "strategy_id": strategy, "symbols": ["SYN"], "initial_capital": 100000 });
    let ids: Vec<i64> = (0..20).map(|_| app.start_run(&run)).collect();
    // Writes of every kind while the runs finish and store their results.
    std::thread::scope(|s| {
        for i in 0..4 {
            let app = &app;
            s.spawn(move || {
                for j in 0..5 {
                    let r = app.post_raw(&format!("/api/datasets?symbol=X{i}_{j}"), "text/csv", minute_bars(2_000));
                    assert_eq!(r.status(), 201, "upload {i}.{j}: {:?}", r.text());
                    let body = json!({ "name": format!("s{i}_{j}"), "runtime": "rhai", "source": "fn on_bar(ctx) {}" });
                    let r = app.post_json("/api/strategies", &body);
                    assert_eq!(r.status(), 201, "strategy {i}.{j}: {:?}", r.text());
                }
            });
        }
    });
    let mut metrics: Option<Value> = None;
    for id in ids {
        let done = app.wait_for(id, "finished", |r| r["status"] != "queued" && r["status"] != "running");
        assert_eq!(done["status"], "completed", "{done}");
        let points = app.json(&format!("/api/runs/{id}/equity?full=true"));
        assert_eq!(points.as_array().unwrap().len(), 50_000, "run {id}'s whole curve is stored");
        // The same run twenty times: the same results each time.
        match &metrics {
            None => metrics = Some(done["metrics"].clone()),
            Some(first) => assert_eq!(&done["metrics"], first),
        }
    }
}
