//! What a new user sees when a command cannot start: one clear line, fast.

use std::time::{Duration, Instant};

use crate::helpers::fails;

#[test]
fn a_missing_data_file_is_named_once() {
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", "data/goog.csv"]);
    assert_eq!(err.trim(), "error: data/goog.csv: cannot read: No such file or directory (os error 2)");
}

#[test]
fn an_unreachable_database_fails_within_seconds_naming_host_and_port() {
    // Nothing listens on a port just released: refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://nobody@127.0.0.1:{port}/x");
    let started = Instant::now();
    let err = fails(&["migrate", "--database-url", &url]);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(err.contains(&format!("cannot connect to the database at 127.0.0.1:{port}: connection refused")), "{err}");
    assert_eq!(err.matches("connection refused").count(), 1, "said once: {err}");

    // A server that takes the connection and never answers: given up after 5 s.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://nobody@127.0.0.1:{port}/x");
    let started = Instant::now();
    let err = fails(&["serve", "--bind", "127.0.0.1:0", "--database-url", &url]);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(4) && took < Duration::from_secs(10), "took {took:?}");
    assert!(err.contains(&format!("at 127.0.0.1:{port}: no answer within 5 s")), "{err}");
}

#[test]
fn serve_binds_a_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backtester"))
        .args(["serve", "--bind", "localhost:0", "--database-url", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    crate::helpers::stop_gracefully(&mut child, "TERM", Duration::from_secs(10));
    assert!(
        line.starts_with("listening on http://127.0.0.1:") || line.starts_with("listening on http://[::1]:"),
        "{line}"
    );
}

#[test]
fn a_body_limit_of_17592186044416_mib_overflowed_to_0() {
    for (flag, value, range) in [
        ("--body-limit-mib", "17592186044416", "1..=4096"),
        ("--body-limit-mib", "0", "1..=4096"),
        ("--max-concurrent-runs", "18446744073709551615", "1..=1024"),
        ("--max-concurrent-runs", "0", "1..=1024"),
    ] {
        // A URL no server can open: without the check, the server would fail on it, not hang.
        let err = fails(&["serve", "--bind", "127.0.0.1:0", "--database-url", "nope://x", flag, value]);
        assert!(err.contains(&format!("invalid value '{value}' for '{flag} <")), "{err}");
        assert!(err.contains(range), "{flag} {value}: {err}");
    }
}
