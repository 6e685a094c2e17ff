//! Accounts over the HTTP API: tokens made with `backtester user add` and
//! `token create`; every route × (owner, another user, admin, no token, a
//! bad, expired or revoked token, too narrow a scope); another user's rows
//! are 404; names are per user; the service's page signs in with a cookie
//! whose writes need the CSRF header; a foreign Host or page is refused; a
//! server on a non-loopback address will not start without accounts.

use std::io::{Read, Write};
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::Method;
use serde_json::{json, Value};

use super::app::{backends, fresh_postgres_database, App, Backend};
use crate::helpers::{backtester, root};

/// A database with users alice, bob and the migrations' admin, and tokens.
struct Accounts {
    database_url: String,
    alice: String,
    alice_read: String,
    bob: String,
    admin: String,
    expired: String,
    revoked: String,
    _dir: tempfile::TempDir,
}

pub fn cli(args: &[&str], database_url: &str) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--database-url", database_url]);
    let out = backtester(&all);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub fn token(database_url: &str, user: &str, extra: &[&str]) -> String {
    let mut args = vec!["token", "create", "--user", user];
    args.extend(extra);
    let token = cli(&args, database_url);
    assert!(token.starts_with("btk_") && token.len() == 68, "{token}");
    token
}

/// Makes a token expired a moment ago, straight in the database.
fn expire(database_url: &str, token_id: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
        sqlx::query(&format!("UPDATE tokens SET expires_at = 1 WHERE id = {token_id}")).execute(&pool).await.unwrap();
        pool.close().await;
    });
}

fn accounts(backend: &Backend) -> Accounts {
    let dir = tempfile::tempdir().unwrap();
    let database_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("accounts.db").display()),
        Backend::Postgres(url) => fresh_postgres_database(url),
    };
    assert!(cli(&["user", "add", "alice"], &database_url).contains("added user 'alice'"));
    cli(&["user", "add", "bob"], &database_url);
    let alice = token(&database_url, "alice", &[]);
    let alice_read = token(&database_url, "alice", &["--scope", "read"]);
    let bob = token(&database_url, "bob", &["--expires", "30d"]);
    let admin = token(&database_url, "admin", &["--scope", "read,run,write,admin"]);
    let expired = token(&database_url, "alice", &["--expires", "1h"]);
    let revoked = token(&database_url, "alice", &[]);
    let listed = cli(&["token", "list"], &database_url);
    let id_of = |hint_of: &str| -> String {
        let line = listed.lines().find(|l| l.contains(&hint_of[..12])).unwrap();
        line.split_whitespace().next().unwrap().to_string()
    };
    expire(&database_url, &id_of(&expired));
    assert_eq!(
        cli(&["token", "revoke", &id_of(&revoked)], &database_url),
        format!("token {} revoked", id_of(&revoked))
    );
    // Only hints are listed, never a token.
    assert!(!listed.contains(&alice[12..]), "{listed}");
    Accounts { database_url, alice, alice_read, bob, admin, expired, revoked, _dir: dir }
}

fn call(app: &App, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
    let mut request: RequestBuilder = app.client.request(method, format!("{}{path}", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().unwrap()
}

fn upload(app: &App, token: &str, symbol: &str, replace: bool) -> Response {
    let body = std::fs::read(root().join("data/GOOG.csv")).unwrap();
    let path = format!("{}/api/datasets?symbol={symbol}{}", app.url, if replace { "&replace=true" } else { "" });
    app.client.post(path).bearer_auth(token).header("content-type", "text/csv").body(body).send().unwrap()
}

fn created_id(r: Response, status: u16) -> i64 {
    assert_eq!(r.status(), status);
    r.json::<Value>().unwrap()["id"].as_i64().unwrap()
}

fn wait_final(app: &App, token: &str, path: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let v: Value = call(app, Method::GET, path, Some(token), None).json().unwrap();
        if ["completed", "failed", "cancelled"].contains(&v["status"].as_str().unwrap_or_default()) {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "{path} never ended: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Who calls, in the matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Owner,
    Other,
    Admin,
    NoToken,
    BadToken,
    Expired,
    Revoked,
    ReadOnly,
}

#[test]
fn every_route_answers_each_caller_as_its_rights_say() {
    for backend in backends() {
        let acc = accounts(&backend);
        let app = App::spawn_on(acc.database_url.clone(), &[]);
        let source = std::fs::read_to_string(root().join("scripts/sma_cross.rhai")).unwrap();
        let strategy = created_id(
            call(
                &app,
                Method::POST,
                "/api/strategies",
                Some(&acc.alice),
                Some(&json!({"name": "sma", "runtime": "rhai", "source": source})),
            ),
            201,
        );
        let dataset = created_id(upload(&app, &acc.alice, "GOOG", false), 201);
        // An administrator's own runs read the administrator's datasets.
        assert_eq!(upload(&app, &acc.admin, "GOOG", false).status(), 201);
        let run_body = json!({"strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 10000});
        let run = created_id(call(&app, Method::POST, "/api/runs", Some(&acc.alice), Some(&run_body)), 202);
        assert_eq!(wait_final(&app, &acc.alice, &format!("/api/runs/{run}"))["status"], "completed");
        let sweep_body = json!({"strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 10000,
                                "grid": ["fast=5,10", "slow=20,30"]});
        let sweep = created_id(call(&app, Method::POST, "/api/sweeps", Some(&acc.alice), Some(&sweep_body)), 202);
        assert_eq!(wait_final(&app, &acc.alice, &format!("/api/sweeps/{sweep}"))["status"], "completed");

        let version_body = json!({"source": format!("{source}\n// v2")});
        // (method, path, body, status for the owner; 0: any 2xx)
        let routes: Vec<(Method, String, Option<Value>, u16)> = vec![
            (Method::GET, "/api/strategies".into(), None, 200),
            (Method::GET, format!("/api/strategies/{strategy}"), None, 200),
            (Method::POST, format!("/api/strategies/{strategy}/versions"), Some(version_body), 0),
            (Method::GET, format!("/api/strategies/{strategy}/events"), None, 200),
            (Method::GET, "/api/datasets".into(), None, 200),
            (Method::GET, format!("/api/datasets/{dataset}"), None, 200),
            (Method::GET, "/api/runs".into(), None, 200),
            (Method::POST, "/api/runs".into(), Some(run_body.clone()), 202),
            (Method::GET, format!("/api/runs/{run}"), None, 200),
            (Method::GET, format!("/api/runs/{run}/trades"), None, 200),
            (Method::GET, format!("/api/runs/{run}/equity"), None, 200),
            (Method::GET, format!("/api/runs/{run}/returns"), None, 200),
            (Method::GET, format!("/api/runs/{run}/report"), None, 200),
            (Method::GET, format!("/api/runs/{run}/events"), None, 200),
            (Method::POST, format!("/api/runs/{run}/cancel"), None, 409),
            (Method::POST, format!("/api/runs/{run}/rerun"), None, 202),
            (Method::GET, "/api/sweeps".into(), None, 200),
            (Method::POST, "/api/sweeps".into(), Some(sweep_body.clone()), 202),
            (Method::GET, format!("/api/sweeps/{sweep}"), None, 200),
            (Method::GET, format!("/api/sweeps/{sweep}/variants"), None, 200),
            (Method::GET, format!("/api/sweeps/{sweep}/heatmap?x=fast&y=slow"), None, 200),
            (Method::GET, format!("/api/sweeps/{sweep}/report"), None, 200),
            (Method::GET, format!("/api/sweeps/{sweep}/events"), None, 200),
            (Method::POST, format!("/api/sweeps/{sweep}/cancel"), None, 409),
            (Method::POST, format!("/api/sweeps/{sweep}/variants/0/run"), None, 202),
        ];
        let callers = [
            (Who::Owner, Some(acc.alice.as_str())),
            (Who::Other, Some(acc.bob.as_str())),
            (Who::Admin, Some(acc.admin.as_str())),
            (Who::NoToken, None),
            (Who::BadToken, Some("btk_0000000000000000000000000000000000000000000000000000000000000000")),
            (Who::Expired, Some(acc.expired.as_str())),
            (Who::Revoked, Some(acc.revoked.as_str())),
            (Who::ReadOnly, Some(acc.alice_read.as_str())),
        ];
        for (method, path, body, owner_status) in &routes {
            let is_list = !path.trim_start_matches("/api/").contains('/');
            let by_id = !is_list && path.split('/').nth(3).is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()));
            for (who, token) in &callers {
                let r = call(&app, method.clone(), path, *token, body.as_ref());
                let status = r.status().as_u16();
                let what = format!("{backend:?} {who:?} {method} {path}");
                let ok = |s: u16| if *owner_status == 0 { (200..300).contains(&s) } else { s == *owner_status };
                match who {
                    Who::Owner | Who::Admin => assert!(ok(status), "{what}: {status} {:?}", r.text()),
                    Who::Other if by_id => assert_eq!(status, 404, "{what}: {:?}", r.text()),
                    Who::Other if *method == Method::POST => {
                        // Her strategy is not his: a body naming it is refused as unknown.
                        assert_eq!(status, 422, "{what}");
                        let text = r.text().unwrap();
                        assert!(text.contains("no strategy"), "{what}: {text}");
                    }
                    Who::Other => {
                        assert_eq!(status, 200, "{what}");
                        assert_eq!(r.json::<Value>().unwrap(), json!([]), "{what}: another user's rows are listed");
                    }
                    Who::NoToken | Who::BadToken | Who::Expired | Who::Revoked => {
                        assert_eq!(status, 401, "{what}");
                        assert_eq!(r.headers()["www-authenticate"], "Bearer", "{what}");
                        let text = r.text().unwrap();
                        let expected = match who {
                            Who::NoToken => "needs a token",
                            Who::Expired => "expired",
                            Who::Revoked => "revoked",
                            _ => "not valid",
                        };
                        assert!(text.contains(expected), "{what}: {text}");
                    }
                    Who::ReadOnly if *method == Method::GET => assert!(ok(status), "{what}: {status}"),
                    Who::ReadOnly => {
                        assert_eq!(status, 403, "{what}");
                        assert!(r.text().unwrap().contains("scope"), "{what}");
                    }
                }
            }
        }
        // The admin lists everyone's rows; bob's upload of the same symbol is his own.
        let all: Value = call(&app, Method::GET, "/api/runs", Some(&acc.admin), None).json().unwrap();
        assert!(all.as_array().unwrap().iter().any(|r| r["id"] == run), "alice's run {run} in the admin's list: {all}");
        assert_eq!(upload(&app, &acc.bob, "GOOG", false).status(), 201, "symbols are per user");
        let theirs = json!({"name": "sma", "runtime": "rhai", "source": "fn on_bar(ctx) {}"});
        assert_eq!(call(&app, Method::POST, "/api/strategies", Some(&acc.bob), Some(&theirs)).status(), 201);
        // No token in the server's log, and every write in the audit log.
        let log = app.stderr();
        for secret in [&acc.alice, &acc.bob, &acc.admin, &acc.expired, &acc.revoked, &acc.alice_read] {
            assert!(!log.contains(&secret[4..]), "a token is in the log");
        }
        assert!(log.contains("audit") && log.contains("user=\"alice\"") && log.contains("path=\"/api/runs\""), "{log}");
    }
}

#[test]
fn a_dataset_is_replaced_by_a_new_version_that_runs_then_read() {
    let backend = Backend::Sqlite;
    let acc = accounts(&backend);
    let app = App::spawn_on(acc.database_url.clone(), &[]);
    let first: Value = upload(&app, &acc.alice, "GOOG", false).json().unwrap();
    assert_eq!(first["version"], 1);
    let again = upload(&app, &acc.alice, "GOOG", false);
    assert_eq!(again.status(), 409);
    assert!(again.text().unwrap().contains("replace=true"));
    let second = upload(&app, &acc.alice, "GOOG", true);
    assert_eq!(second.status(), 201);
    let second: Value = second.json().unwrap();
    assert_eq!(second["version"], 2);
    assert_ne!(first["id"], second["id"]);
    let source = std::fs::read_to_string(root().join("scripts/sma_cross.rhai")).unwrap();
    let strategy = created_id(
        call(
            &app,
            Method::POST,
            "/api/strategies",
            Some(&acc.alice),
            Some(&json!({"name": "s", "runtime": "rhai", "source": source})),
        ),
        201,
    );
    let run_body = json!({"strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 10000});
    let run = created_id(call(&app, Method::POST, "/api/runs", Some(&acc.alice), Some(&run_body)), 202);
    let done = wait_final(&app, &acc.alice, &format!("/api/runs/{run}"));
    assert_eq!(done["manifest"]["data"][0]["source"], format!("dataset {}", second["id"]), "{done}");
}

fn cookies_of(r: &Response) -> Vec<String> {
    r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect()
}

#[test]
fn the_page_signs_in_with_a_cookie_whose_writes_need_the_csrf_header() {
    let acc = accounts(&Backend::Sqlite);
    let app = App::spawn_on(acc.database_url.clone(), &[]);
    let bad = app.client.post(format!("{}/api/session", app.url)).json(&json!({"token": "btk_nope"})).send().unwrap();
    assert_eq!(bad.status(), 401);
    let r = app.client.post(format!("{}/api/session", app.url)).json(&json!({"token": acc.alice})).send().unwrap();
    assert_eq!(r.status(), 200);
    let cookies = cookies_of(&r);
    let session = cookies.iter().find(|c| c.starts_with("bt_session=")).unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
    assert!(!session.contains("Secure"), "plain HTTP unless told: {session}");
    let csrf = cookies.iter().find(|c| c.starts_with("bt_csrf=")).unwrap();
    let csrf_value = csrf.split(';').next().unwrap().trim_start_matches("bt_csrf=").to_string();
    let jar = format!("{}; bt_csrf={csrf_value}", session.split(';').next().unwrap());
    let with_cookie =
        |method: Method, path: &str| app.client.request(method, format!("{}{path}", app.url)).header("cookie", &jar);

    assert_eq!(with_cookie(Method::GET, "/api/runs").send().unwrap().status(), 200);
    let source = "fn on_bar(ctx) {}";
    let body = json!({"name": "c", "runtime": "rhai", "source": source});
    let refused = with_cookie(Method::POST, "/api/strategies").json(&body).send().unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().unwrap().contains("x-csrf-token"));
    let wrong = with_cookie(Method::POST, "/api/strategies").header("x-csrf-token", "0000").json(&body).send().unwrap();
    assert_eq!(wrong.status(), 403);
    let made =
        with_cookie(Method::POST, "/api/strategies").header("x-csrf-token", &csrf_value).json(&body).send().unwrap();
    assert_eq!(made.status(), 201);
    // An event stream (EventSource sends no headers) is read with the cookie.
    let id = made.json::<Value>().unwrap()["id"].as_i64().unwrap();
    let events = with_cookie(Method::GET, &format!("/api/strategies/{id}/events")).send().unwrap();
    assert_eq!(events.status(), 200);
    assert!(events.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let out = app.client.delete(format!("{}/api/session", app.url)).send().unwrap();
    assert_eq!(out.status(), 204);
    assert!(cookies_of(&out).iter().all(|c| c.contains("Max-Age=0")));
}

/// Sends `request` as raw HTTP and returns the status line and the rest.
fn raw(app: &App, request: &str) -> (String, String) {
    let address = app.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let (status, rest) = answer.split_once("\r\n").unwrap_or((&answer, ""));
    (status.to_string(), rest.to_string())
}

#[test]
fn foreign_hosts_and_pages_cannot_use_a_local_server() {
    // The quick start: a loopback server without tokens, one local user.
    let app = App::spawn(&Backend::Sqlite, &[]);
    assert!(app.stderr_matches("serving one local user without tokens", Duration::from_secs(5)));
    assert_eq!(app.get("/api/runs").status(), 200);
    // DNS rebinding: a page whose name points here reads nothing.
    let (status, body) = raw(&app, "GET /api/runs HTTP/1.1\r\nHost: evil.example:8080\r\nConnection: close\r\n\r\n");
    assert!(status.contains(" 403 "), "{status}");
    assert!(body.contains("is not this server's"), "{body}");
    // A page elsewhere posting as text/plain (no preflight) or a form changes nothing.
    let host = app.url.trim_start_matches("http://").to_string();
    let csv = "Date,Open,High,Low,Close,Volume\n2020-01-02,1,1,1,1,1\n";
    let plain = format!(
        "POST /api/datasets?symbol=X HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{csv}",
        csv.len()
    );
    let (status, body) = raw(&app, &plain);
    assert!(status.contains(" 415 "), "{status} {body}");
    let foreign = format!(
        "POST /api/runs/1/cancel HTTP/1.1\r\nHost: {host}\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (status, body) = raw(&app, &foreign);
    assert!(status.contains(" 403 ") && body.contains("http://evil.example"), "{status} {body}");
    let as_json = app
        .client
        .post(format!("{}/api/strategies", app.url))
        .header("content-type", "text/plain")
        .body(r#"{"name":"x","runtime":"rhai","source":"fn on_bar(ctx) {}"}"#)
        .send()
        .unwrap();
    assert_eq!(as_json.status(), 400);
    assert_eq!(app.json("/api/datasets"), json!([]));
    assert_eq!(app.json("/api/strategies"), json!([]));
    // No CORS unless asked: a preflight gets no permission.
    let preflight = app
        .client
        .request(Method::OPTIONS, format!("{}/api/runs", app.url))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn a_named_origin_gets_cors_and_a_named_host_is_served() {
    let app = App::spawn(&Backend::Sqlite, &["--cors-origin", "http://app.example", "--allowed-host", "bt.internal"]);
    let preflight = app
        .client
        .request(Method::OPTIONS, format!("{}/api/runs", app.url))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,authorization")
        .send()
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], "http://app.example");
    let (status, _) = raw(&app, "GET /api/runs HTTP/1.1\r\nHost: bt.internal:80\r\nConnection: close\r\n\r\n");
    assert!(status.contains(" 200 "), "{status}");
}

#[test]
fn a_server_other_machines_reach_needs_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("open.db").display());
    let out = backtester(&["serve", "--bind", "0.0.0.0:0", "--database-url", &database_url]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs accounts") && stderr.contains("backtester user add"), "{stderr}");
    cli(&["user", "add", "ops", "--admin"], &database_url);
    let token = token(&database_url, "ops", &[]);
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_backtester"))
        .args(["serve", "--bind", "0.0.0.0:0", "--database-url", &database_url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut line).unwrap();
    let port = line.trim().rsplit(':').next().unwrap().to_string();
    assert!(line.starts_with("listening on http://0.0.0.0:"), "{line}");
    let local = format!("http://127.0.0.1:{port}");
    let client = Client::new();
    let _stop = Kill(server);
    assert_eq!(client.get(format!("{local}/api/runs")).send().unwrap().status(), 401);
    assert_eq!(client.get(format!("{local}/api/runs")).bearer_auth(&token).send().unwrap().status(), 200);
    // The page, the health check and the contract need no token.
    assert_eq!(client.get(format!("{local}/health")).send().unwrap().status(), 200);
    assert_eq!(client.get(format!("{local}/")).send().unwrap().status(), 200);
}

/// Kills a server child when dropped (a failing assertion included).
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        crate::helpers::stop_gracefully(&mut self.0, "TERM", Duration::from_secs(10));
    }
}

#[test]
fn account_commands_refuse_bad_input_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let fails = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database-url", &database_url]);
        let out = backtester(&all);
        assert!(!out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(fails(&["user", "add", "no spaces"]).contains("user name 'no spaces'"));
    cli(&["user", "add", "dave"], &database_url);
    assert!(fails(&["user", "add", "dave"]).contains("already exists"));
    assert!(fails(&["token", "create", "--user", "nobody"]).contains("user 'nobody' not found"));
    assert!(fails(&["token", "create", "--user", "dave", "--scope", "admin"]).contains("not an administrator"));
    assert!(fails(&["token", "create", "--user", "dave", "--scope", "root"]).contains("unknown scope 'root'"));
    assert!(fails(&["token", "create", "--user", "dave", "--expires", "tomorrow"]).contains("--expires"));
    assert!(fails(&["token", "revoke", "99"]).contains("not found"));
    let users = cli(&["user", "list"], &database_url);
    assert!(users.contains("admin") && users.contains("dave"), "{users}");
}

#[test]
fn deletions_are_refused_while_needed_and_take_what_depends_on_them() {
    for backend in backends() {
        let acc = accounts(&backend);
        let app = App::spawn_on(acc.database_url.clone(), &[]);
        let alice = Some(acc.alice.as_str());
        let source = std::fs::read_to_string(root().join("scripts/sma_cross.rhai")).unwrap();
        let body = json!({"name": "sma", "runtime": "rhai", "source": source});
        let strategy = created_id(call(&app, Method::POST, "/api/strategies", alice, Some(&body)), 201);
        let dataset = created_id(upload(&app, &acc.alice, "GOOG", false), 201);
        let paced = json!({"strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 10000,
                           "pace": {"bars_per_second": 5}});
        let running = created_id(call(&app, Method::POST, "/api/runs", alice, Some(&paced)), 202);
        let delete = |path: &str, token: Option<&str>| call(&app, Method::DELETE, path, token, None);
        for path in
            [format!("/api/strategies/{strategy}"), format!("/api/datasets/{dataset}"), format!("/api/runs/{running}")]
        {
            let r = delete(&path, alice);
            assert_eq!(r.status(), 409, "{backend:?} {path}");
            assert!(r.text().unwrap().contains(&format!("run {running}")), "{path}");
            assert_eq!(delete(&path, Some(&acc.bob)).status(), 404, "another user's");
            assert_eq!(delete(&path, Some(&acc.alice_read)).status(), 403, "a read-only token");
            assert_eq!(delete(&path, None).status(), 401);
        }
        assert_eq!(call(&app, Method::POST, &format!("/api/runs/{running}/cancel"), alice, None).status(), 202);
        assert_eq!(wait_final(&app, &acc.alice, &format!("/api/runs/{running}"))["status"], "cancelled");
        // A finished run goes with its results.
        let r = delete(&format!("/api/runs/{running}"), alice);
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().unwrap()["deleted"], format!("run {running}"));
        assert_eq!(call(&app, Method::GET, &format!("/api/runs/{running}"), alice, None).status(), 404);
        // A version with its runs; never the only one.
        let run_body = json!({"strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 10000});
        let v1_run = created_id(call(&app, Method::POST, "/api/runs", alice, Some(&run_body)), 202);
        wait_final(&app, &acc.alice, &format!("/api/runs/{v1_run}"));
        let v2 = json!({"source": format!("{source}\n// v2")});
        assert_eq!(
            call(&app, Method::POST, &format!("/api/strategies/{strategy}/versions"), alice, Some(&v2)).status(),
            201
        );
        let r = delete(&format!("/api/strategies/{strategy}/versions/1"), alice);
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().unwrap()["runs"], 1);
        assert_eq!(call(&app, Method::GET, &format!("/api/runs/{v1_run}"), alice, None).status(), 404);
        let only = delete(&format!("/api/strategies/{strategy}/versions/2"), alice);
        assert_eq!(only.status(), 409);
        assert!(only.text().unwrap().contains("only version"));
        assert_eq!(delete(&format!("/api/strategies/{strategy}/versions/7"), alice).status(), 404);
        // A sweep, then the strategy with its runs and sweeps, then the dataset.
        let sweep_body = json!({"strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 10000,
                                "grid": ["fast=5,10"]});
        let sweep = created_id(call(&app, Method::POST, "/api/sweeps", alice, Some(&sweep_body)), 202);
        wait_final(&app, &acc.alice, &format!("/api/sweeps/{sweep}"));
        let v2_run = created_id(call(&app, Method::POST, "/api/runs", alice, Some(&run_body)), 202);
        wait_final(&app, &acc.alice, &format!("/api/runs/{v2_run}"));
        // The sweep kept its best variants as runs too: every run of hers is this strategy's.
        let runs = call(&app, Method::GET, "/api/runs", alice, None).json::<Value>().unwrap().as_array().unwrap().len();
        assert!(runs >= 2);
        let r = delete(&format!("/api/strategies/{strategy}"), alice);
        assert_eq!(r.status(), 200);
        let gone: Value = r.json().unwrap();
        assert_eq!((gone["runs"].as_u64(), gone["sweeps"].as_u64()), (Some(runs as u64), Some(1)), "{gone}");
        assert_eq!(call(&app, Method::GET, "/api/runs", alice, None).json::<Value>().unwrap(), json!([]));
        for path in
            [format!("/api/strategies/{strategy}"), format!("/api/sweeps/{sweep}"), format!("/api/runs/{v2_run}")]
        {
            assert_eq!(call(&app, Method::GET, &path, alice, None).status(), 404, "{path}");
        }
        assert_eq!(delete(&format!("/api/datasets/{dataset}"), alice).status(), 200);
        assert_eq!(call(&app, Method::GET, "/api/datasets", alice, None).json::<Value>().unwrap(), json!([]));
        // The name and the symbol are free again.
        assert_eq!(call(&app, Method::POST, "/api/strategies", alice, Some(&body)).status(), 201);
        assert_eq!(upload(&app, &acc.alice, "GOOG", false).status(), 201);
    }
}

#[test]
fn rows_from_before_accounts_belong_to_the_first_admin() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, mut migrator) = match &backend {
            Backend::Sqlite => (
                format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display()),
                sqlx::migrate!("migrations/sqlite"),
            ),
            Backend::Postgres(url) => (fresh_postgres_database(url), sqlx::migrate!("migrations/postgres")),
        };
        // The schema as it was before accounts (migrations 1 to 7), with rows.
        let before: Vec<_> = migrator.migrations.iter().filter(|m| m.version <= 7).cloned().collect();
        migrator.migrations = std::borrow::Cow::Owned(before);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&database_url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            for sql in [
                "INSERT INTO strategies (name, runtime, created_at) VALUES ('old', 'rhai', 1)",
                "INSERT INTO strategy_versions (strategy_id, version, source, content_hash, params, created_at) \
                 VALUES (1, 1, 'fn on_bar(ctx) {}', 'h', '[]', 1)",
                "INSERT INTO datasets (symbol, content, content_hash, rows, first_ts, last_ts, created_at) \
                 VALUES ('OLD', 'x', 'h', 0, 0, 0, 1)",
                "INSERT INTO runs (strategy_id, version_id, status, config, created_at) VALUES (1, 1, 'completed', '{}', 1)",
            ] {
                let sql = if matches!(backend, Backend::Postgres(_)) { sql.replace("'fn on_bar(ctx) {}'", "'\\x00'::bytea").replace("'x'", "'\\x00'::bytea") } else { sql.to_string() };
                sqlx::query(&sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        });
        // Migrating on start gives them to `admin`, whose token sees them.
        let admin = token(&database_url, "admin", &["--scope", "read,admin"]);
        cli(&["user", "add", "eve"], &database_url);
        let eve = token(&database_url, "eve", &[]);
        let app = App::spawn_on(database_url, &[]);
        let strategies: Value = call(&app, Method::GET, "/api/strategies", Some(&admin), None).json().unwrap();
        assert_eq!(strategies[0]["name"], "old", "{backend:?}");
        assert_eq!(strategies[0]["owner_id"], 1);
        let datasets: Value = call(&app, Method::GET, "/api/datasets", Some(&admin), None).json().unwrap();
        assert_eq!((&datasets[0]["symbol"], &datasets[0]["version"]), (&json!("OLD"), &json!(1)));
        assert_eq!(call(&app, Method::GET, "/api/runs/1", Some(&admin), None).status(), 200);
        assert_eq!(call(&app, Method::GET, "/api/runs/1", Some(&eve), None).status(), 404);
        // Names are per user now: eve may have an `old` too.
        let body = json!({"name": "old", "runtime": "rhai", "source": "fn on_bar(ctx) {}"});
        assert_eq!(call(&app, Method::POST, "/api/strategies", Some(&eve), Some(&body)).status(), 201);
    }
}

#[test]
fn behind_a_tls_proxy_the_session_cookies_are_secure() {
    let acc = accounts(&Backend::Sqlite);
    let app = App::spawn_on(acc.database_url.clone(), &["--secure-cookies"]);
    let r = app.client.post(format!("{}/api/session", app.url)).json(&json!({"token": acc.alice})).send().unwrap();
    assert_eq!(r.status(), 200);
    let cookies = cookies_of(&r);
    assert_eq!(cookies.len(), 2);
    assert!(cookies.iter().all(|c| c.ends_with("; Secure")), "{cookies:?}");
}
