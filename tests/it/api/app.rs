//! A real `backtester serve` on a random port, with a fresh database: a
//! SQLite file in a temp dir, or a new PostgreSQL database when
//! BACKTESTER_TEST_POSTGRES_URL names a server (set by .ci/run).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use serde_json::Value;

use crate::helpers::{root, stop_gracefully};

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// Which database a test app uses.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

/// The backends to test: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    match std::env::var("BACKTESTER_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => all.push(Backend::Postgres(url)),
        _ if std::env::var("BACKTESTER_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("BACKTESTER_REQUIRE_POSTGRES=1 but BACKTESTER_TEST_POSTGRES_URL is not set")
        }
        _ => eprintln!(
            "skipping the PostgreSQL half: set BACKTESTER_TEST_POSTGRES_URL=postgres://user@host:5432/db to run it"
        ),
    }
    all
}

/// A running server and its database.
pub struct App {
    child: Child,
    pub url: String,
    pub database_url: String,
    pub client: Client,
    /// What the server logged so far.
    stderr: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl App {
    /// Starts a server on a fresh database.
    pub fn spawn(backend: &Backend, extra: &[&str]) -> App {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
            Backend::Postgres(url) => fresh_postgres_database(url),
        };
        App::start(database_url, dir, extra)
    }

    /// Starts a server on the database at `database_url`.
    pub fn spawn_on(database_url: String, extra: &[&str]) -> App {
        App::start(database_url, tempfile::tempdir().unwrap(), extra)
    }

    /// Starts a server on an existing database (e.g. after a crash).
    pub fn restart(mut self, extra: &[&str]) -> App {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().unwrap());
        App::start(self.database_url.clone(), dir, extra)
    }

    fn start(database_url: String, dir: tempfile::TempDir, extra: &[&str]) -> App {
        let mut child = Command::new(env!("CARGO_BIN_EXE_backtester"))
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &database_url])
            .args(extra)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let log = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in log.lines().map_while(Result::ok) {
                // Passed on, so a failing test still shows the server's log.
                eprintln!("{line}");
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the server prints its address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        let client = Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        App { child, url, database_url, client, stderr, _dir: dir }
    }

    /// Kills the server at once, as a crash would (SIGKILL).
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends `signal` (`INT`, `TERM`) to the server and waits for it to
    /// exit; fails if it is still running after `within`.
    pub fn stop_with(&mut self, signal: &str, within: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap().success());
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server still runs {within:?} after SIG{signal}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server logged to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Whether the server logs `text` within `within`.
    pub fn stderr_matches(&self, text: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.stderr().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.url)).send().unwrap()
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(format!("{}{path}", self.url)).json(body).send().unwrap()
    }

    pub fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        self.client.post(format!("{}{path}", self.url)).header("content-type", content_type).body(body).send().unwrap()
    }

    /// GET that must answer 200; returns the JSON.
    pub fn json(&self, path: &str) -> Value {
        let r = self.get(path);
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().unwrap()
    }

    /// Uploads a bundled data file as `symbol`.
    pub fn upload(&self, symbol: &str, file: &str) -> Value {
        let body = std::fs::read(root().join(file)).unwrap();
        let r = self.post_raw(&format!("/api/datasets?symbol={symbol}"), "text/csv", body);
        assert_eq!(r.status(), 201, "upload {file}");
        r.json().unwrap()
    }

    /// Creates a Rhai strategy from a bundled script.
    pub fn rhai_strategy(&self, name: &str, script: &str) -> i64 {
        let source = std::fs::read_to_string(root().join(script)).unwrap();
        let body = serde_json::json!({ "name": name, "runtime": "rhai", "source": source });
        let r = self.post_json("/api/strategies", &body);
        assert_eq!(r.status(), 201);
        r.json::<Value>().unwrap()["id"].as_i64().unwrap()
    }

    /// Queues a run; returns its id.
    pub fn start_run(&self, body: &Value) -> i64 {
        let r = self.post_json("/api/runs", body);
        assert_eq!(r.status(), 202, "{:?}", r.text());
        r.json::<Value>().unwrap()["id"].as_i64().unwrap()
    }

    /// Polls run `id` until `done(run)` or the deadline.
    pub fn wait_for(&self, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let run = self.json(&format!("/api/runs/{id}"));
            if done(&run) {
                return run;
            }
            assert!(Instant::now() < deadline, "run {id} never became {what}: {run}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_status(&self, id: i64, status: &str) -> Value {
        self.wait_for(id, status, |r| r["status"] == status)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // Gracefully, so that a coverage run measures the server; the bound is
        // the server's own shutdown grace (5 s) with room to spare.
        stop_gracefully(&mut self.child, "TERM", Duration::from_secs(10));
    }
}

/// Whether this process has dropped the databases of ended test runs yet.
static CLEANED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Drops the databases that earlier test processes (no longer running)
/// left behind: each test makes its own, and a CI machine runs the suite
/// again and again.
async fn drop_databases_of_ended_runs(conn: &mut sqlx::PgConnection) {
    let names: Vec<(String,)> = sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'bt\\_test\\_%'")
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
    for (name,) in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        let alive = pid == std::process::id().to_string() || std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !alive {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut *conn).await;
        }
    }
}

/// Creates an empty database on the server at `url`; returns its URL.
pub fn fresh_postgres_database(url: &str) -> String {
    let name = format!("bt_test_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await.expect("PostgreSQL is reachable");
        if !CLEANED.swap(true, Ordering::Relaxed) {
            drop_databases_of_ended_runs(&mut conn).await;
        }
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    });
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{name}")
}

/// A path in the repository.
pub fn repo_path(path: &str) -> PathBuf {
    root().join(path)
}
