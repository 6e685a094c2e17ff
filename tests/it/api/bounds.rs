//! Requests that would hold the service up are bounded: list sizes, pace,
//! and how long a run may take.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::app::{App, Backend};

fn field_of(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

#[test]
fn oversized_lists_and_endless_paces_are_refused_at_once() {
    let app = App::spawn(&Backend::Sqlite, &["--body-limit-mib", "64"]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let symbols: Vec<String> = (0..200_000).map(|i| format!("S{i}")).collect();
    let started = Instant::now();
    let (status, body) =
        field_of(app.post_json("/api/runs", &json!({ "strategy_id": s, "symbols": symbols, "initial_capital": 1000 })));
    // 28 s before (a quadratic check); well under that on a loaded machine.
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!((status, body["field"].as_str()), (422, Some("symbols")), "{body}");

    let params: serde_json::Map<String, Value> = (0..300).map(|i| (format!("p{i}"), json!(i))).collect();
    let (status, body) = field_of(app.post_json(
        "/api/runs",
        &json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 1000, "params": params }),
    ));
    assert_eq!((status, body["field"].as_str()), (422, Some("params")), "{body}");

    for (pace, field) in [
        (json!({ "bars_per_second": 1e-9 }), "pace.bars_per_second"),
        (json!({ "acceleration": 0.5 }), "pace.acceleration"),
        (json!({ "bars_per_second": 1e12 }), "pace.bars_per_second"),
    ] {
        let body = json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 1000, "pace": pace });
        let (status, body) = field_of(app.post_json("/api/runs", &body));
        assert_eq!((status, body["field"].as_str()), (422, Some(field)), "{body}");
    }
    assert_eq!(app.json("/api/runs").as_array().unwrap().len(), 0, "nothing was queued");
}

#[test]
fn a_run_past_its_time_limit_fails_and_names_the_bar() {
    let app = App::spawn(&Backend::Sqlite, &["--run-time-limit", "30"]);
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let paced = |limit: u64| {
        json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 1000, "time_limit_secs": limit,
                "pace": { "bars_per_second": 20 } })
    };
    let (status, body) = field_of(app.post_json("/api/runs", &paced(31)));
    assert_eq!((status, body["field"].as_str()), (422, Some("time_limit_secs")), "above the server's: {body}");

    // 2,148 bars at 20 a second would take 107 s; the limit stops it after 1.
    let id = app.start_run(&paced(1));
    let started = Instant::now();
    let failed = app.wait_status(id, "failed");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(failed["error"]["kind"], "time_limit", "{failed}");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(message.contains("time limit of 1 s") && message.contains("stopped at bar"), "{message}");
}

#[test]
fn run_lists_come_in_pages_without_logs() {
    let app = App::spawn(&Backend::Sqlite, &[]);
    app.upload("GOOG", "data/GOOG.csv");
    let body = json!({ "name": "chatty", "runtime": "rhai", "source": "fn on_bar(ctx) { ctx.log(`bar ${ctx.bar_index()}`); }" });
    let r = app.post_json("/api/strategies", &body);
    assert_eq!(r.status(), 201);
    let s = r.json::<Value>().unwrap()["id"].as_i64().unwrap();
    let ids: Vec<i64> = (0..5)
        .map(|_| app.start_run(&json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 1000 })))
        .collect();
    for &id in &ids {
        app.wait_status(id, "completed");
    }
    let page = |query: &str| app.json(&format!("/api/runs?{query}")).as_array().unwrap().clone();
    let first = page("limit=2");
    assert_eq!(first.iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>(), ids[..2]);
    assert!(first.iter().all(|r| r.get("log").is_none()), "a list leaves logs out");
    let next = page(&format!("limit=2&after={}", ids[1]));
    assert_eq!(next.iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>(), ids[2..4]);
    assert_eq!(page(&format!("after={}", ids[4])).len(), 0);
    assert_eq!(page("").len(), 5, "the default page holds them all");
    for bad in ["limit=0", "limit=5000", "limit=x"] {
        assert_eq!(app.get(&format!("/api/runs?{bad}")).status(), 400, "{bad}");
    }
    // The run's own view has its log; the strategy's view lists its latest runs.
    let run = app.json(&format!("/api/runs/{}", ids[0]));
    assert_eq!(run["log"]["lines"].as_array().unwrap().len(), 2148);
    let shown = app.json(&format!("/api/strategies/{s}"));
    assert_eq!(shown["runs"][4]["id"], ids[4]);
    assert!(shown["runs"][4].get("log").is_none());
}

/// Uploads GOOG and `sma_cross`, and starts a paced run on the server's
/// one slot; returns the paced request (which would queue) and that run.
fn occupy_the_only_slot(app: &App) -> (Value, i64) {
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let slow =
        json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 1000, "pace": { "bars_per_second": 50 } });
    let running = app.start_run(&slow);
    app.wait_status(running, "running");
    (slow, running)
}

#[test]
fn a_full_queue_refuses_more_runs_with_429_and_retry_after() {
    let app = App::spawn(&Backend::Sqlite, &["--max-concurrent-runs", "1", "--max-queued-runs", "2"]);
    let (slow, _) = occupy_the_only_slot(&app);
    let waiting: Vec<i64> = (0..2).map(|_| app.start_run(&slow)).collect();
    let r = app.post_json("/api/runs", &slow);
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "5");
    let body: Value = r.json().unwrap();
    assert!(body["message"].as_str().unwrap().contains("2 runs are queued"), "{body}");
    // A place freed in the queue takes a run again.
    app.post_json(&format!("/api/runs/{}/cancel", waiting[1]), &json!({}));
    let again = app.post_json("/api/runs", &slow);
    assert_eq!(again.status(), 202);
}

#[test]
fn one_client_may_queue_only_its_share() {
    let app = App::spawn(&Backend::Sqlite, &["--max-concurrent-runs", "1", "--max-queued-per-client", "2"]);
    let (slow, running) = occupy_the_only_slot(&app);
    let waiting: Vec<i64> = (0..2).map(|_| app.start_run(&slow)).collect();
    let r = app.post_json("/api/runs", &slow);
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().unwrap();
    assert!(body["message"].as_str().unwrap().contains("127.0.0.1 has 2 runs queued"), "{body}");
    assert_eq!(app.post_json(&format!("/api/runs/{running}/rerun"), &json!({})).status(), 429, "reruns count too");
    // Once one of them has left the queue (cancelled here), the client may queue again.
    app.post_json(&format!("/api/runs/{}/cancel", waiting[0]), &json!({}));
    assert_eq!(app.post_json("/api/runs", &slow).status(), 202);
}

#[test]
fn idle_and_slow_connections_are_capped_and_timed_out() {
    use std::io::{BufRead, BufReader, Read, Write};
    let app = App::spawn(&Backend::Sqlite, &["--max-connections", "2", "--header-timeout-secs", "1"]);
    let address = app.url.trim_start_matches("http://").to_string();
    // Two clients that connect and never send a whole request take both slots.
    let mut idle: Vec<std::net::TcpStream> = (0..2).map(|_| std::net::TcpStream::connect(&address).unwrap()).collect();
    idle[1].write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n").unwrap(); // headers never finished
    std::thread::sleep(Duration::from_millis(200));
    let quick = reqwest::blocking::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    assert!(quick.get(format!("{}/health", app.url)).send().is_err(), "a third connection waits");
    // Past the header deadline the server closes both, and the next client gets in.
    for stream in &mut idle {
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    }
    assert_eq!(app.get("/health").status(), 200);

    // An event stream is not a slow request: it goes on past the header deadline.
    app.upload("GOOG", "data/GOOG.csv");
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let id = app.start_run(&json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 1000,
                                    "pace": { "bars_per_second": 1000 } }));
    let started = Instant::now();
    let events = app.get(&format!("/api/runs/{id}/events"));
    let last = BufReader::new(events).lines().map_while(Result::ok).filter(|l| l.starts_with("event: ")).last();
    assert!(started.elapsed() > Duration::from_millis(1500), "the stream lasted {:?}", started.elapsed());
    assert_eq!(last.as_deref(), Some("event: completed"));
}

#[test]
fn a_strategy_error_holding_a_nul_character_fails_its_run_on_every_backend() {
    // PostgreSQL's TEXT refuses NUL: the run's error could never be stored,
    // and the run stayed running, holding its slot.
    for backend in super::app::backends() {
        let app = App::spawn(&backend, &[]);
        app.upload("GOOG", "data/GOOG.csv");
        let source = r#"fn on_bar(ctx) { if ctx.bar_index() == 3 { throw "bad\x00byte"; } }"#;
        let r = app.post_json("/api/strategies", &json!({ "name": "nul", "runtime": "rhai", "source": source }));
        assert_eq!(r.status(), 201, "{backend:?}");
        let s = r.json::<Value>().unwrap()["id"].as_i64().unwrap();
        let id = app.start_run(&json!({ "strategy_id": s, "symbols": ["GOOG"], "initial_capital": 1000 }));
        let failed = app.wait_status(id, "failed");
        let message = failed["error"]["message"].as_str().unwrap();
        assert!(message.contains("bad\u{FFFD}byte"), "{backend:?}: {message}");
    }
}

#[test]
fn parallel_submits_from_one_client_cannot_all_pass_the_cap() {
    let app = App::spawn(&Backend::Sqlite, &["--max-concurrent-runs", "1", "--max-queued-per-client", "3"]);
    let (slow, _) = occupy_the_only_slot(&app);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let posts: Vec<_> =
            (0..10).map(|_| scope.spawn(|| app.post_json("/api/runs", &slow).status().as_u16())).collect();
        posts.into_iter().map(|p| p.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|&&s| s == 202).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 7, "{statuses:?}");
}

#[test]
fn one_client_holds_at_most_its_share_of_connections() {
    use std::io::Read;
    let app = App::spawn(&Backend::Sqlite, &["--max-connections-per-client", "2", "--header-timeout-secs", "30"]);
    let address = app.url.trim_start_matches("http://").to_string();
    let held: Vec<std::net::TcpStream> = (0..2).map(|_| std::net::TcpStream::connect(&address).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    // A third from the same address is closed at once: no answer, and no wait for one.
    let mut third = std::net::TcpStream::connect(&address).unwrap();
    third.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(third.read(&mut buf).unwrap_or(0), 0, "closed by the server");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(app.get("/health").status(), 200, "its connections ended, the client gets in again");
}

/// Sends `head` (and nothing else) on a new connection; returns what the
/// server answered within `wait` and how long until it answered or closed.
fn raw_exchange(address: &str, head: &str, wait: Duration) -> (String, Duration) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

#[test]
fn a_declared_oversize_body_is_refused_unread_and_a_stalled_one_is_cut() {
    let app = App::spawn(&Backend::Sqlite, &["--stall-timeout-secs", "1"]);
    let address = app.url.trim_start_matches("http://").to_string();
    // 10 GB declared, none sent: a 413 at once, not after the body.
    let head = "POST /api/datasets?symbol=X HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\nContent-Length: 10000000000\r\n\r\n";
    let (answer, took) = raw_exchange(&address, head, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // 100 bytes declared, 10 sent, then nothing: cut after the stall timeout.
    let head = "POST /api/datasets?symbol=X HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\nDate,Open,";
    let (answer, took) = raw_exchange(&address, head, Duration::from_secs(10));
    assert!(took < Duration::from_secs(8), "took {took:?}: {answer}");
    assert!(!answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert_eq!(app.json("/api/datasets").as_array().unwrap().len(), 0, "nothing was stored");
}

#[test]
fn a_client_that_stops_reading_its_response_is_cut_and_frees_its_slot() {
    use std::io::Write;
    let app = App::spawn(&Backend::Sqlite, &["--stall-timeout-secs", "1", "--body-limit-mib", "64"]);
    let r = app.post_raw("/api/datasets?symbol=SYN", "text/csv", super::load::minute_bars(200_000));
    assert_eq!(r.status(), 201);
    let s = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let id = app.start_run(&json!({ "strategy_id": s, "symbols": ["SYN"], "initial_capital": 100000 }));
    app.wait_status(id, "completed");
    // The whole curve (tens of MB of JSON), asked for and never read.
    let address = app.url.trim_start_matches("http://").to_string();
    let mut stalled = std::net::TcpStream::connect(&address).unwrap();
    write!(stalled, "GET /api/runs/{id}/equity?full=true HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let started = Instant::now();
    let cut = app.stderr_matches("the client read nothing for 1 s", Duration::from_secs(20));
    assert!(cut, "the server cut the connection (after {:?})", started.elapsed());
}

#[test]
fn uploads_of_a_plugin_that_never_loads_do_not_hold_up_other_requests() {
    use base64::Engine as _;
    let app = App::spawn(&Backend::Sqlite, &[]);
    let wat = r#"(module
        (memory (export "memory") 1)
        (func (export "bt_abi_version") (result i32) i32.const 1)
        (func (export "bt_params") (loop $l (br $l)))
        (func (export "bt_on_bar") (result i32) i32.const 0))"#;
    let module = base64::engine::general_purpose::STANDARD.encode(wat);
    std::thread::scope(|scope| {
        let uploads: Vec<_> = (0..2)
            .map(|i| {
                let (app, module) = (&app, &module);
                scope.spawn(move || {
                    let body = json!({ "name": format!("loops{i}"), "runtime": "wasm", "module_base64": module });
                    app.post_json("/api/strategies", &body).status().as_u16()
                })
            })
            .collect();
        // While both compile and time out (5 s each), the server answers at once.
        std::thread::sleep(Duration::from_millis(500));
        for _ in 0..5 {
            let asked = Instant::now();
            assert_eq!(app.get("/health").status(), 200);
            // Blocked for the whole 5 s load limit before; other tests share the cores.
            assert!(asked.elapsed() < Duration::from_secs(2), "/health took {:?}", asked.elapsed());
            std::thread::sleep(Duration::from_millis(300));
        }
        for upload in uploads {
            assert_eq!(upload.join().unwrap(), 422, "refused after the load limit");
        }
    });
}
