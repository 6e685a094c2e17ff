//! `serve --workers 0` with three `backtester worker` processes on one
//! PostgreSQL database, 200 runs and a sweep of 500 variants: one worker
//! killed (SIGKILL) and one frozen past its lease (SIGSTOP, then SIGCONT)
//! while they hold runs and chunks of the sweep; every run and variant
//! still completes once, as a plain `serve` computes it, the lost ones as
//! attempt 2, and the frozen worker's late completion is refused. A cancel
//! reaches a run and a sweep on workers, and the API streams their
//! progress from the database.
//! PostgreSQL only (skipped without BACKTESTER_TEST_POSTGRES_URL); SQLite
//! refuses workers.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::app::{backends, App, Backend};
use crate::helpers::stop_gracefully;

/// The lease of the test's workers: short, so that lost runs move on fast.
const LEASE_SECS: &str = "2";

/// How long after a signal what a worker holds is read: a commit it sent
/// just before (a chunk's completion) lands in the meantime, while its
/// leases still hold.
const SETTLE: Duration = Duration::from_millis(400);

/// A `backtester worker` process and what it logged.
struct Worker {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Worker {
    fn spawn(database_url: &str) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_backtester"))
            .args(["worker", "--database-url", database_url, "--concurrency", "2"])
            .args(["--lease-secs", LEASE_SECS, "--poll-ms", "200"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the worker starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let log = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in log.lines().map_while(Result::ok) {
                eprintln!("[worker] {line}");
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Worker { child, stderr }
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap().success());
    }

    fn logged(&self, text: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.stderr.lock().unwrap().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.child.id().to_string()]).status();
        stop_gracefully(&mut self.child, "TERM", Duration::from_secs(5));
    }
}

/// The running runs whose lease worker `pid` holds, read from the database.
fn held_by(database_url: &str, pid: u32) -> Vec<i64> {
    held_where(database_url, pid, "TRUE")
}

/// [`held_by`]'s runs that also match `condition` (SQL).
fn held_where(database_url: &str, pid: u32, condition: &str) -> Vec<i64> {
    let sql =
        format!("SELECT id, CAST(0 AS BIGINT) FROM runs WHERE status = 'running' AND lease_owner LIKE $1 AND {condition} ORDER BY id");
    pairs(database_url, &sql, &format!("%:{pid}:%")).into_iter().map(|(id, _)| id).collect()
}

/// The first variant of each chunk of a sweep that worker `pid` holds.
fn chunks_held_by(database_url: &str, pid: u32) -> Vec<i64> {
    let sql = "SELECT first_number, CAST(0 AS BIGINT) FROM sweep_chunks WHERE status = 'running' AND chunk >= 0 \
               AND lease_owner LIKE $1 ORDER BY first_number";
    pairs(database_url, sql, &format!("%:{pid}:%")).into_iter().map(|(first, _)| first).collect()
}

/// The rows of two integer columns that `sql`, given `text` as $1, selects.
fn pairs(database_url: &str, sql: &str, text: &str) -> Vec<(i64, i64)> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query_as(sql).bind(text).fetch_all(&mut conn).await.unwrap()
    })
}

fn wait_until(what: &str, within: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The PostgreSQL server's URL, or `None` (the test is skipped) without one.
fn postgres() -> Option<String> {
    backends().into_iter().find_map(|b| match b {
        Backend::Postgres(url) => Some(url),
        Backend::Sqlite => None,
    })
}

/// Run request number `n`: its own SMA periods; the first six paced so
/// that they last about five seconds.
fn request(strategy: i64, n: usize) -> Value {
    let mut body = json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000,
                           "params": { "fast": 3 + n % 10, "slow": 20 + (n / 10) * 5 } });
    if n < 6 {
        body["pace"] = json!({ "bars_per_second": 400 });
    }
    body
}

const RUNS: usize = 200;

/// The sweep of the test: 50 x 10 = 500 variants.
fn sweep_request(strategy: i64) -> Value {
    json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000,
            "grid": ["fast=2:51:1", "slow=60:105:5"] })
}

fn start_sweep(app: &App, body: &Value) -> i64 {
    let r = app.post_json("/api/sweeps", body);
    assert_eq!(r.status(), 202);
    r.json::<Value>().unwrap()["id"].as_i64().unwrap()
}

/// Every variant of sweep `id`, by number.
fn variants(app: &App, id: i64) -> Vec<Value> {
    let all = app.json(&format!("/api/sweeps/{id}/variants?limit=1000"));
    all.as_array().unwrap().clone()
}

fn wait_sweep(app: &App, id: i64, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let sweep = app.json(&format!("/api/sweeps/{id}"));
        if sweep["final"] == true {
            return sweep;
        }
        assert!(Instant::now() < deadline, "sweep {id} still {} after {within:?}", sweep["status"]);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn workers_share_the_queue_and_survive_a_killed_and_a_frozen_worker() {
    let Some(server) = postgres() else { return };
    let app = App::spawn(&Backend::Postgres(server), &["--workers", "0", "--max-queued-per-client", "1000"]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let sweep = start_sweep(&app, &sweep_request(s));
    let ids: Vec<i64> = (0..RUNS).map(|n| app.start_run(&request(s, n))).collect();
    let started = Instant::now();
    let workers: Vec<Worker> = (0..3).map(|_| Worker::spawn(&app.database_url)).collect();

    // Kill the first worker and freeze the second while each holds a chunk
    // of the sweep and a paced run under way (started: frozen before its
    // start, a run would be given up at the start, not at its completion;
    // paced: it is still under way when what the worker holds is read).
    let paced_started = format!("bars_total IS NOT NULL AND id <= {}", ids[5]);
    let pid = |w: &Worker| w.child.id();
    let holds = |w: &Worker, runs: &str| {
        !chunks_held_by(&app.database_url, pid(w)).is_empty() && !held_where(&app.database_url, pid(w), runs).is_empty()
    };
    wait_until("the first worker holding a chunk and a paced run", Duration::from_secs(30), || {
        holds(&workers[0], &paced_started)
    });
    workers[0].signal("KILL");
    // What it held once the writes it had sent before dying are committed.
    std::thread::sleep(SETTLE);
    let killed = held_by(&app.database_url, pid(&workers[0]));
    let killed_chunks = chunks_held_by(&app.database_url, pid(&workers[0]));
    wait_until("the second worker holding a chunk and a paced run", Duration::from_secs(30), || {
        holds(&workers[1], &paced_started)
    });
    workers[1].signal("STOP");
    std::thread::sleep(SETTLE);
    let frozen = held_by(&app.database_url, pid(&workers[1]));
    let frozen_chunks = chunks_held_by(&app.database_url, pid(&workers[1]));
    // A chunk whose completion was on its way when the signal came is done,
    // not held; one of the two still holds one, at the least.
    assert!(!killed.is_empty() && !frozen.is_empty(), "{killed:?} {frozen:?}");
    assert!(!killed_chunks.is_empty() || !frozen_chunks.is_empty(), "no chunk held");

    // The frozen worker's runs and chunks go to another worker once its
    // lease runs out; then it wakes. (Woken before, it would renew a lease
    // nobody took over and go on as if nothing happened.)
    let chunk_attempts = || {
        let sql = "SELECT first_number, attempt FROM sweep_chunks WHERE chunk >= 0 AND sweep_id = CAST($1 AS BIGINT) \
                   ORDER BY first_number";
        pairs(&app.database_url, sql, &sweep.to_string())
    };
    wait_until("the frozen worker's runs and chunks claimed again", Duration::from_secs(60), || {
        let chunks = chunk_attempts();
        frozen.iter().all(|id| app.json(&format!("/api/runs/{id}"))["attempt"].as_i64() >= Some(2))
            && frozen_chunks.iter().all(|first| chunks.iter().any(|&(f, attempt)| f == *first && attempt >= 2))
    });
    workers[1].signal("CONT");
    assert!(
        workers[1].logged("late completion refused", Duration::from_secs(10)),
        "the woken worker's outcome of a run it lost is refused"
    );

    let runs: Vec<Value> = ids.iter().map(|&id| app.wait_status(id, "completed")).collect();
    let swept = wait_sweep(&app, sweep, Duration::from_secs(300));
    eprintln!("{RUNS} runs and a sweep of 500 variants on workers in {:?}", started.elapsed());
    for run in &runs {
        let id = run["id"].as_i64().unwrap();
        let lost = killed.contains(&id) || frozen.contains(&id);
        let attempt = run["attempt"].as_i64().unwrap();
        assert!(if lost { attempt >= 2 } else { attempt == 1 }, "run {id}: attempt {attempt}");
    }
    assert_eq!((&swept["status"], &swept["done"], &swept["total"]), (&json!("completed"), &json!(500), &json!(500)));
    // Its best variants' runs were queued by the finishing worker, caps or not.
    assert!(swept["best"]["run_id"].is_i64(), "{}", swept["best"]);
    let stored = variants(&app, sweep);
    let numbers: Vec<u64> = stored.iter().map(|v| v["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, (0..500).collect::<Vec<u64>>(), "every variant stored once");
    // The lost chunks were claimed again (attempt 2, or 3 had the frozen
    // worker taken the killed one's chunk before it froze): their variants
    // that an earlier attempt had not stored were run by a later one.
    let lost_chunks: Vec<i64> = killed_chunks.iter().chain(&frozen_chunks).copied().collect();
    let chunks = chunk_attempts();
    for &(first, attempt) in &chunks {
        let lost = lost_chunks.contains(&first);
        assert!(if lost { attempt >= 2 } else { attempt == 1 }, "chunk from variant {first}: attempt {attempt}");
    }
    let chunk_of = |number: i64| *chunks.iter().rev().find(|(first, _)| *first <= number).unwrap();
    for v in &stored {
        let (first, chunk_attempt) = chunk_of(v["number"].as_i64().unwrap());
        let attempt = v["attempt"].as_i64().unwrap();
        let lost = lost_chunks.contains(&first);
        assert!(if lost { (1..=chunk_attempt).contains(&attempt) } else { attempt == 1 }, "variant {v}");
    }
    assert!(stored.iter().any(|v| v["attempt"].as_i64() >= Some(2)), "a lost chunk's variants ran again");

    // The same requests on a plain single-process server.
    let reference = App::spawn(&Backend::Sqlite, &["--max-queued-per-client", "1000"]);
    reference.upload("GOOG", "data/GOOG.csv");
    let r = reference.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let mut expected = HashMap::new();
    for n in 0..RUNS {
        let mut body = request(r, n);
        body.as_object_mut().unwrap().remove("pace");
        expected.insert(n, reference.start_run(&body));
    }
    let reference_sweep = start_sweep(&reference, &sweep_request(r));
    for (n, run) in runs.iter().enumerate() {
        let want = reference.wait_status(expected[&n], "completed");
        assert_eq!(run["metrics"], want["metrics"], "run {n}'s metrics");
        assert_eq!(run["fingerprint"], want["fingerprint"], "run {n}'s fingerprint");
        let trades = |app: &App, id: &Value| app.json(&format!("/api/runs/{id}/trades"));
        assert_eq!(trades(&app, &run["id"]), trades(&reference, &want["id"]), "run {n} stored its trades once");
    }
    let want = wait_sweep(&reference, reference_sweep, Duration::from_secs(300));
    for field in ["best", "deflated_sharpe", "ran", "excluded", "failed"] {
        let strip = |v: &Value| {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("attempt");
                o.remove("run_id");
            }
            v
        };
        assert_eq!(strip(&swept[field]), strip(&want[field]), "the sweep's {field}");
    }
    for (got, want) in stored.iter().zip(variants(&reference, reference_sweep)) {
        assert_eq!(
            (&got["values"], &got["outcome"], &got["metrics"]),
            (&want["values"], &want["outcome"], &want["metrics"])
        );
    }

    // A cancel reaches a run executing on a worker; the API streams its progress meanwhile.
    let slow = json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000,
                       "pace": { "bars_per_second": 100 } });
    let id = app.start_run(&slow);
    let stream = app.client.get(format!("{}/api/runs/{id}/events", app.url)).send().unwrap();
    let mut lines = BufReader::new(stream).lines().map_while(Result::ok);
    let progress = lines
        .find(|l| l.starts_with("data:") && l.contains("\"progress\"") && l.contains("\"equity\""))
        .expect("a progress event with the equity its worker reported");
    assert!(progress.contains("\"bars_processed\"") && progress.contains("\"pnl\""), "{progress}");
    let asked = Instant::now();
    assert_eq!(app.post_json(&format!("/api/runs/{id}/cancel"), &json!({})).status(), 202);
    let last = lines.find(|l| l.starts_with("event:") && !l.contains("progress")).expect("a final event");
    assert_eq!(last, "event: cancelled");
    assert!(asked.elapsed() < Duration::from_secs(2), "cancelled within {:?}", asked.elapsed());
    assert_eq!(app.json(&format!("/api/runs/{id}"))["status"], "cancelled");

    // A sweep on workers: its stream follows the database; a cancel stops its workers within a second.
    let big = json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000,
                      "grid": ["fast=2:101:1", "slow=60:155:5"] });
    let id = start_sweep(&app, &big);
    let stream = app.client.get(format!("{}/api/sweeps/{id}/events", app.url)).send().unwrap();
    let mut lines = BufReader::new(stream).lines().map_while(Result::ok);
    let progress = lines.find(|l| l.starts_with("data:") && l.contains("\"progress\"") && !l.contains("\"done\":0"));
    assert!(progress.is_some_and(|p| p.contains("\"total\":2000")), "a progress event with variants done");
    assert_eq!(app.post_json(&format!("/api/sweeps/{id}/cancel"), &json!({})).status(), 202);
    let last = lines.find(|l| l.starts_with("event:") && !l.contains("progress")).expect("a final event");
    assert_eq!(last, "event: cancelled");
    std::thread::sleep(Duration::from_millis(1500));
    let stopped = app.json(&format!("/api/sweeps/{id}"));
    std::thread::sleep(Duration::from_secs(1));
    let later = app.json(&format!("/api/sweeps/{id}"));
    assert_eq!(
        (&later["status"], &later["done"]),
        (&json!("cancelled"), &stopped["done"]),
        "no variant after the cancel"
    );
    assert!(later["done"].as_u64().unwrap() < 2000);
    drop(workers);
}

#[test]
fn sqlite_refuses_workers() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    for args in [vec!["worker", "--database-url", &url], vec!["serve", "--workers", "0", "--database-url", &url]] {
        let out = Command::new(env!("CARGO_BIN_EXE_backtester")).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("needs PostgreSQL"), "{args:?}: {stderr}");
    }
    assert!(!dir.path().join("t.db").exists(), "no SQLite file was created for nothing");
}

#[test]
fn a_server_that_executes_runs_and_a_worker_share_the_queue_without_running_one_twice() {
    let Some(server) = postgres() else { return };
    // The server executes runs itself (its default); the worker takes what it claims first.
    let app = App::spawn(&Backend::Postgres(server), &["--max-concurrent-runs", "1"]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let worker = Worker::spawn(&app.database_url);
    let ids: Vec<i64> = (6..26).map(|n| app.start_run(&request(s, n))).collect();
    let runs: Vec<Value> = ids.iter().map(|&id| app.wait_status(id, "completed")).collect();
    let on_worker = runs.iter().filter(|r| r["attempt"] == 1).count();
    let on_server = runs.iter().filter(|r| r["attempt"] == 0).count();
    assert_eq!(on_worker + on_server, ids.len(), "each run executed by one of them, once");
    assert!(on_worker > 0, "the worker took some runs");
    assert!(!worker.logged("late completion refused", Duration::ZERO));
    for run in &runs {
        let trades = app.json(&format!("/api/runs/{}/trades", run["id"]));
        assert!(trades.as_array().is_some_and(|t| !t.is_empty()), "run {} stored its trades", run["id"]);
    }
}

#[test]
fn a_cancel_reaches_a_run_the_servers_queue_held_and_a_worker_claimed() {
    let Some(server) = postgres() else { return };
    // The server's one slot is busy, so the second run waits in its queue, and the worker takes it.
    let app = App::spawn(&Backend::Postgres(server), &["--max-concurrent-runs", "1"]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let paced = json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000,
                        "pace": { "bars_per_second": 100 } });
    let busy = app.start_run(&paced);
    app.wait_status(busy, "running");
    let _worker = Worker::spawn(&app.database_url);
    let id = app.start_run(&paced);
    let run =
        app.wait_for(id, "under way on the worker", |r| r["attempt"] == 1 && r["bars_processed"].as_i64() > Some(0));
    assert_eq!(run["status"], "running");
    let asked = Instant::now();
    assert_eq!(app.post_json(&format!("/api/runs/{id}/cancel"), &json!({})).status(), 202);
    app.wait_status(id, "cancelled");
    assert!(asked.elapsed() < Duration::from_secs(2), "cancelled within {:?}", asked.elapsed());
    assert_eq!(app.post_json(&format!("/api/runs/{busy}/cancel"), &json!({})).status(), 202);
    app.wait_status(busy, "cancelled");
}

#[test]
fn without_workers_the_queue_caps_count_the_runs_waiting_in_the_database() {
    let Some(server) = postgres() else { return };
    // (whole queue, per user, which limit the third submit meets)
    for (all, per_user, refusal) in [("3", "2", "limit per user"), ("2", "10", "the server's limit")] {
        let app = App::spawn(
            &Backend::Postgres(server.clone()),
            &["--workers", "0", "--max-queued-runs", all, "--max-queued-per-client", per_user],
        );
        app.upload("GOOG", "data/GOOG.csv");
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        // No worker runs: everything submitted waits in the database.
        for n in 0..2 {
            app.start_run(&request(strategy, n));
        }
        let refused = app.post_json("/api/runs", &request(strategy, 2));
        assert_eq!(refused.status(), 429);
        assert!(refused.headers().contains_key("retry-after"));
        let text = refused.text().unwrap();
        assert!(text.contains(refusal), "{text}");
        let runs = app.json("/api/runs");
        assert_eq!(runs.as_array().unwrap().len(), 2, "the refused run was not stored: {runs}");
    }
}

#[test]
fn a_walk_forward_on_a_worker_gives_what_a_single_server_gives() {
    let Some(server) = postgres() else { return };
    let request = |strategy: i64| {
        json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000,
                "grid": ["fast=5,10", "slow=20,40"], "walk_forward": "train=500,test=250" })
    };
    let app = App::spawn(&Backend::Postgres(server), &["--workers", "0"]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let id = start_sweep(&app, &request(s));
    let _worker = Worker::spawn(&app.database_url);
    let on_worker = wait_sweep(&app, id, Duration::from_secs(120));

    let reference = App::spawn(&Backend::Sqlite, &[]);
    reference.upload("GOOG", "data/GOOG.csv");
    let r = reference.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let want = wait_sweep(&reference, start_sweep(&reference, &request(r)), Duration::from_secs(120));
    assert_eq!(on_worker["status"], "completed", "{on_worker}");
    assert!(on_worker["walk_forward"].is_object(), "{on_worker}");
    for field in ["kind", "total", "done", "walk_forward"] {
        assert_eq!(on_worker[field], want[field], "{field}");
    }
}

#[test]
fn a_strategys_event_stream_carries_its_runs_on_workers() {
    let Some(server) = postgres() else { return };
    let app = App::spawn(&Backend::Postgres(server), &["--workers", "0"]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    // A run that ended before the stream opened is not on it; one queued before it is.
    let worker = Worker::spawn(&app.database_url);
    let done = app.start_run(&request(s, 9));
    app.wait_status(done, "completed");
    drop(worker);
    let before = app.start_run(&request(s, 7));
    let stream = app.client.get(format!("{}/api/strategies/{s}/events", app.url)).send().unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(600));
    let _worker = Worker::spawn(&app.database_url);
    let paced = app.start_run(&request(s, 0));
    let short = app.start_run(&request(s, 8));
    let ended = |seen: &[String], id: i64| {
        seen.iter().filter(|l| l.contains(&format!("\"completed\",\"run_id\":{id},"))).count()
    };
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while [before, paced, short].iter().any(|&id| ended(&seen, id) == 0) {
        let left = deadline.saturating_duration_since(Instant::now());
        match receive.recv_timeout(left) {
            Ok(line) if line.starts_with("data:") => seen.push(line),
            Ok(_) => {}
            Err(_) => panic!("three runs' completions within a minute; seen {seen:#?}"),
        }
    }
    // Anything sent twice would have come by now.
    std::thread::sleep(Duration::from_millis(600));
    seen.extend(receive.try_iter().filter(|l| l.starts_with("data:")));
    let progress = format!("\"progress\",\"run_id\":{paced},");
    assert!(
        seen.iter().any(|l| l.contains(&progress) && l.contains("\"equity\"")),
        "the paced run's progress with its equity: {seen:#?}"
    );
    assert_eq!([before, paced, short].map(|id| ended(&seen, id)), [1, 1, 1], "each completion once: {seen:#?}");
    assert!(!seen.iter().any(|l| l.contains(&format!("\"run_id\":{done},"))), "a run ended before: {seen:#?}");
}

#[test]
fn a_worker_goes_on_after_its_database_connections_are_cut() {
    let Some(server) = postgres() else { return };
    let app = App::spawn(&Backend::Postgres(server), &["--workers", "0"]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    // Polling once a minute: within the test, only a notification wakes it.
    let mut worker = Command::new(env!("CARGO_BIN_EXE_backtester"))
        .args(["worker", "--database-url", &app.database_url, "--concurrency", "2"])
        .args(["--lease-secs", "3", "--poll-ms", "60000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let paced = app.start_run(&request(s, 0));
    app.wait_for(paced, "under way on the worker", |r| r["attempt"] == 1 && r["bars_processed"].as_i64() > Some(0));

    // Every connection to the database but this one is cut: the worker's
    // pool, its listening connection, the server's pool.
    let cut = "SELECT CAST(COUNT(pg_terminate_backend(pid)) AS BIGINT), CAST(0 AS BIGINT) FROM pg_stat_activity \
               WHERE datname = current_database() AND pid <> pg_backend_pid() AND $1 <> ''";
    let cut = pairs(&app.database_url, cut, "x");
    assert!(cut[0].0 >= 2, "connections cut: {cut:?}");

    // The run under way goes on (its lease renewed over a new connection)
    // and a run queued now wakes the worker through its listener, listening again.
    let queued = Instant::now();
    let short = app.start_run(&request(s, 8));
    app.wait_status(short, "completed");
    assert!(queued.elapsed() < Duration::from_secs(20), "woken within {:?}", queued.elapsed());
    let run = app.wait_status(paced, "completed");
    assert_eq!(run["attempt"], 1, "its lease held: {run}");
    stop_gracefully(&mut worker, "TERM", Duration::from_secs(5));
}

#[test]
fn a_finishing_worker_queues_the_best_variants_runs_however_many_runs_wait() {
    let Some(server) = postgres() else { return };
    let app = App::spawn(&Backend::Postgres(server), &["--workers", "0", "--max-queued-per-client", "1000"]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    // More runs wait than a server lets one user queue by default (100)
    // when the sweep's one chunk and its finish run.
    for n in 0..110 {
        app.start_run(&request(s, n % 20 + 6));
    }
    let small = json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 100000,
                        "grid": ["fast=5,10", "slow=20,40"] });
    let id = start_sweep(&app, &small);
    let worker = Worker::spawn(&app.database_url);
    let swept = wait_sweep(&app, id, Duration::from_secs(60));
    assert_eq!(swept["status"], "completed");
    assert!(swept["best"]["run_id"].is_i64(), "the best variant's run was queued: {}", swept["best"]);
    assert!(!worker.logged("cannot queue a best variant", Duration::ZERO));
}
