//! The service at its edges: concurrent writes to one strategy, a database
//! that goes away, settings at the ends of their ranges.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::app::{backends, fresh_postgres_database, App, Backend};

#[test]
fn parallel_versions_of_one_strategy_all_get_a_number() {
    // Regression: 16 parallel posts gave 11-12 errors 500 (duplicate key:
    // the next number was read, then inserted) on PostgreSQL.
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let path = format!("/api/strategies/{strategy}/versions");
        let mut numbers: Vec<i64> = std::thread::scope(|s| {
            let posts: Vec<_> = (0..16)
                .map(|i| {
                    let (app, path, backend) = (&app, &path, &backend);
                    s.spawn(move || {
                        let source = format!("// version {i}\nfn on_bar(ctx) {{}}");
                        let r = app.post_json(path, &json!({ "source": source }));
                        assert_eq!(r.status(), 201, "{backend:?} post {i}: {:?}", r.text());
                        r.json::<Value>().unwrap()["version"].as_i64().unwrap()
                    })
                })
                .collect();
            posts.into_iter().map(|p| p.join().unwrap()).collect()
        });
        numbers.sort_unstable();
        assert_eq!(numbers, (2..=17).collect::<Vec<_>>(), "{backend:?}");
    }
}

#[test]
fn the_latest_code_posted_again_is_the_latest_version_not_a_new_one() {
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let path = format!("/api/strategies/{strategy}/versions");
        let body = json!({ "source": "fn on_bar(ctx) {}" });
        let first = app.post_json(&path, &body);
        assert_eq!(first.status(), 201);
        let first: Value = first.json().unwrap();
        let again = app.post_json(&path, &body);
        assert_eq!(again.status(), 200, "{backend:?}: nothing added");
        assert_eq!(again.json::<Value>().unwrap(), first);
        let versions = app.json(&format!("/api/strategies/{strategy}"))["versions"].as_array().unwrap().len();
        assert_eq!(versions, 2, "{backend:?}: the upload and one posted version");
    }
}

/// A TCP proxy to PostgreSQL that a test can take down (every connection
/// cut, the port refusing new ones) and bring back on the same port, as a
/// database server that stops and restarts would look to the service.
struct Proxy {
    port: u16,
    upstream: SocketAddr,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    accepting: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    fn start(port: u16, upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (stopping, opened) = (stop.clone(), open.clone());
        let accepting = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let (Ok(client), Ok(server)) = (client, TcpStream::connect(upstream)) else { continue };
                let mut all = opened.lock().unwrap();
                for (mut from, mut to) in [(&client, &server), (&server, &client)]
                    .map(|(a, b)| (a.try_clone().unwrap(), b.try_clone().unwrap()))
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
                all.extend([client, server]);
            }
        });
        Proxy { port, upstream, stop, open, accepting: Some(accepting) }
    }

    /// Cuts every connection and closes the port.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
        if let Some(accepting) = self.accepting.take() {
            accepting.join().unwrap();
        }
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// `url` with its host and port replaced by `127.0.0.1:port`.
fn through(url: &str, port: u16) -> (String, SocketAddr) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, rest) = rest.rsplit_once('@').map_or(("", rest), |(u, r)| (u, r));
    let (host, path) = rest.split_once('/').unwrap();
    let upstream = host.to_socket_addrs().unwrap().next().unwrap();
    let at = if user.is_empty() { String::new() } else { format!("{user}@") };
    (format!("{scheme}://{at}127.0.0.1:{port}/{path}"), upstream)
}

#[test]
fn a_database_that_goes_away_is_a_quick_503_and_health_says_so() {
    // Regression: /health said 200 while PostgreSQL was down, and requests
    // waited 30 s for a connection before a bare 500.
    for backend in backends() {
        let Backend::Postgres(server) = backend else { continue };
        let direct = fresh_postgres_database(&server);
        let (_, upstream) = through(&direct, 0);
        let mut proxy = Proxy::start(0, upstream);
        let (url, _) = through(&direct, proxy.port);
        let app = App::spawn_on(url, &[]);
        app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        assert_eq!(app.json("/health")["status"], "ok");

        proxy.stop();
        let timed = |what: &str, r: &dyn Fn() -> reqwest::blocking::Response| {
            let started = Instant::now();
            let response = r();
            let took = started.elapsed();
            assert!(took < Duration::from_secs(10), "{what} took {took:?}");
            assert_eq!(response.status(), 503, "{what}");
            response.json::<Value>().unwrap()
        };
        let health = timed("/health", &|| app.get("/health"));
        assert_eq!(health["status"], "unavailable", "{health}");
        let listed = timed("GET /api/strategies", &|| app.get("/api/strategies"));
        assert_eq!(listed["error"], "unavailable", "{listed}");
        assert_eq!(listed["message"], "the database is unavailable; try again shortly");
        let body = json!({ "name": "later", "runtime": "rhai", "source": "fn on_bar(ctx) {}" });
        let created = timed("POST /api/strategies", &|| app.post_json("/api/strategies", &body));
        assert_eq!(created["error"], "unavailable", "{created}");

        // Back on the same port: the service answers again without a restart.
        let _proxy = Proxy::start(proxy.port, proxy.upstream);
        let deadline = Instant::now() + Duration::from_secs(15);
        while app.get("/health").status() != 200 {
            assert!(Instant::now() < deadline, "/health never recovered");
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(app.json("/api/strategies").as_array().unwrap().len(), 1);
    }
}

#[test]
fn a_parameter_the_strategy_cannot_use_is_refused_at_submit_naming_it() {
    // Regression: `fast: -5` was accepted and the run failed when it started.
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        app.upload("GOOG", "data/GOOG.csv");
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let run = |params: Value| {
            app.post_json(
                "/api/runs",
                &json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 1000, "params": params }),
            )
        };
        let r = run(json!({ "fast": -5, "slow": 20 }));
        assert_eq!(r.status(), 422, "{backend:?}");
        let body: Value = r.json().unwrap();
        assert_eq!(body["field"], "params.fast", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with("params.fast: sma v1: init failed: "), "{message}");
        assert!(app.json("/api/runs").as_array().unwrap().is_empty(), "nothing queued");

        let id = app.start_run(&json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 1000,
                                         "params": { "fast": 5 } }));
        assert_eq!(app.wait_status(id, "completed")["status"], "completed");
    }
}

#[test]
fn a_deleted_sqlite_file_kept_answering_201_and_lost_everything() {
    let app = App::spawn(&Backend::Sqlite, &[]);
    app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let file = app.database_url.strip_prefix("sqlite://").unwrap().to_string();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{file}{suffix}"));
    }
    let body = json!({ "name": "lost", "runtime": "rhai", "source": "fn on_bar(ctx) {}" });
    let r = app.post_json("/api/strategies", &body);
    assert_eq!(r.status(), 503, "a write to a deleted file is refused");
    let refused: Value = r.json().unwrap();
    assert_eq!(refused["error"], "unavailable");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("deleted or replaced while the server ran; restart the server"), "{message}");
    assert!(!message.contains(&file), "no server path in a response: {message}");
    let health = app.get("/health");
    assert_eq!(health.status(), 503);
    assert_eq!(health.json::<Value>().unwrap()["message"], message);
    assert!(app.stderr().contains("the database file is gone"), "logged");
}
