//! `serve --watch DIR --rerun-on-change`: files become strategies, saved
//! changes become versions (and re-runs), errors are shown and recovered,
//! and a watcher with nothing new to see stays quiet.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify::event::AccessKind;
use notify::{EventKind, RecursiveMode, Watcher};
use serde_json::{json, Value};

use super::app::{App, Backend};
use crate::helpers::root;

/// Polls `check` until it holds or 30 s pass.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How long a watcher must stay quiet after it handled a save (it used to
/// act again about every 300 ms).
const QUIET: Duration = Duration::from_secs(3);

/// A script that does not compile (line 2).
const BROKEN: &str = "fn on_bar(ctx) {\n  let x = ;\n}\n";

/// The names of the events `GET /api/strategies/{id}/events` sends from now on.
fn strategy_events(app: &App, id: i64) -> Arc<Mutex<Vec<String>>> {
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = events.clone();
    let stream = app.get(&format!("/api/strategies/{id}/events"));
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(event) = line.strip_prefix("event: ") {
                sink.lock().unwrap().push(event.to_string());
            }
        }
    });
    events
}

/// A server watching a directory that holds `sma.rhai` (the SMA cross
/// script); returns the directory, the file, the script and the strategy id.
fn watching_sma() -> (tempfile::TempDir, PathBuf, String, App, i64) {
    let dir = tempfile::tempdir().unwrap();
    let script = std::fs::read_to_string(root().join("scripts/sma_cross.rhai")).unwrap();
    let file = dir.path().join("sma.rhai");
    std::fs::write(&file, &script).unwrap();
    let watch = dir.path().display().to_string();
    let app = App::spawn(&Backend::Sqlite, &["--watch", &watch, "--rerun-on-change"]);
    let id = app.json("/api/strategies")[0]["id"].as_i64().unwrap();
    (dir, file, script, app, id)
}

fn versions(app: &App, id: i64) -> usize {
    app.json(&format!("/api/strategies/{id}"))["versions"].as_array().unwrap().len()
}

/// How many times any process opens `file` during `period`. inotify reports
/// every open; platforms whose watchers report none count 0.
fn opens_of(file: &Path, period: Duration) -> usize {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).unwrap();
    watcher.watch(file.parent().unwrap(), RecursiveMode::NonRecursive).unwrap();
    let deadline = Instant::now() + period;
    let mut opens = 0;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(Ok(event)) => {
                if matches!(event.kind, EventKind::Access(AccessKind::Open(_))) && event.paths.iter().any(|p| p == file)
                {
                    opens += 1;
                }
            }
            Ok(Err(_)) => {}
            Err(_) => break,
        }
    }
    opens
}

#[test]
fn reading_a_watched_file_triggered_another_read_forever() {
    let (_dir, file, script, app, id) = watching_sma();
    std::fs::write(&file, script.replace("fast: 10", "fast: 5")).unwrap();
    eventually("version 2", || versions(&app, id) == 2);
    // Room for the last events of the save to be handled.
    std::thread::sleep(Duration::from_millis(500));
    let opens = opens_of(&file, QUIET);
    assert_eq!(opens, 0, "the server kept reading {} while it did not change", file.display());
    assert_eq!(versions(&app, id), 2);
}

#[test]
fn a_broken_save_was_reported_every_300_ms() {
    let (_dir, file, _script, app, id) = watching_sma();
    let events = strategy_events(&app, id);
    let reported = || events.lock().unwrap().iter().filter(|e| *e == "reload_failed").count();
    let warned = || app.stderr().lines().filter(|l| l.contains("a watched file does not compile")).count();

    std::fs::write(&file, BROKEN).unwrap();
    eventually("the reload error", || reported() == 1);
    // Saving the same broken content again is no news either.
    std::fs::write(&file, BROKEN).unwrap();
    std::thread::sleep(QUIET);
    let seen = events.lock().unwrap().clone();
    assert_eq!(reported(), 1, "events: {seen:?}");
    assert_eq!(warned(), 1, "WARN lines:\n{}", app.stderr());

    // Another broken content is reported, once.
    std::fs::write(&file, BROKEN.replace("let x", "let y")).unwrap();
    eventually("the second reload error", || reported() == 2 && warned() == 2);
    assert_eq!(versions(&app, id), 1);
}

#[test]
fn a_fix_back_to_the_latest_version_left_the_reload_error_set() {
    let (_dir, file, script, app, id) = watching_sma();
    let error = || app.json(&format!("/api/strategies/{id}"))["last_reload_error"].clone();
    std::fs::write(&file, BROKEN).unwrap();
    eventually("the reload error", || error().as_str().is_some_and(|e| e.contains("line 2")));

    // The broken save undone: the content of version 1, which compiles.
    std::fs::write(&file, &script).unwrap();
    eventually("the reload error cleared", || error() == Value::Null);
    assert_eq!(versions(&app, id), 1, "the same content adds no version");
}

#[test]
fn watched_files_become_versions_and_reruns() {
    let dir = tempfile::tempdir().unwrap();
    let script = std::fs::read_to_string(root().join("scripts/sma_cross.rhai")).unwrap();
    let file = dir.path().join("sma.rhai");
    std::fs::write(&file, &script).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a strategy").unwrap();
    let watch = dir.path().display().to_string();
    let app = App::spawn(&Backend::Sqlite, &["--watch", &watch, "--rerun-on-change"]);

    let strategies = app.json("/api/strategies");
    assert_eq!(strategies.as_array().unwrap().len(), 1, "only the .rhai file: {strategies}");
    assert_eq!(strategies[0]["name"], "sma");
    let id = strategies[0]["id"].as_i64().unwrap();
    let versions = |app: &App| app.json(&format!("/api/strategies/{id}"))["versions"].as_array().unwrap().len();
    let strategy = |app: &App| app.json(&format!("/api/strategies/{id}"));

    app.upload("GOOG", "data/GOOG.csv");
    let first = app.start_run(&json!({ "strategy_id": id, "symbols": ["GOOG"], "initial_capital": 100000 }));
    app.wait_status(first, "completed");

    let events = strategy_events(&app, id);

    // A save in place: a new version, and the latest run re-run on it.
    std::fs::write(&file, script.replace("fast: 10", "fast: 5")).unwrap();
    eventually("version 2", || versions(&app) == 2);
    eventually("a re-run on version 2", || {
        let runs = strategy(&app)["runs"].as_array().unwrap().clone();
        runs.len() == 2 && runs[1]["status"] == "completed"
    });
    let rerun = &strategy(&app)["runs"][1];
    assert_eq!(rerun["config"]["version"], 2);
    assert_eq!(rerun["config"]["params"]["fast"], 5);
    assert_eq!(rerun["rerun_of"], first);

    // A syntax error: no version, the error shown on the strategy.
    std::fs::write(&file, "fn on_bar(ctx) {\n  let x = ;\n}\n").unwrap();
    eventually("the reload error", || {
        strategy(&app)["last_reload_error"].as_str().is_some_and(|e| e.contains("line 2"))
    });
    assert_eq!(versions(&app), 2);

    // The fix, saved by writing a temporary file and renaming it over.
    let tmp = dir.path().join(".sma.rhai.tmp");
    std::fs::write(&tmp, script.replace("fast: 10", "fast: 7")).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    eventually("version 3", || versions(&app) == 3);
    assert_eq!(strategy(&app)["last_reload_error"], Value::Null);

    // Deleted and re-created.
    std::fs::remove_file(&file).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    std::fs::write(&file, script.replace("fast: 10", "fast: 8")).unwrap();
    eventually("version 4", || versions(&app) == 4);

    // The same content again: nothing new.
    std::fs::write(&file, script.replace("fast: 10", "fast: 8")).unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(versions(&app), 4);

    eventually("all re-runs completed", || {
        let runs = strategy(&app)["runs"].as_array().unwrap().clone();
        runs.len() == 4 && runs.iter().all(|r| r["status"] == "completed")
    });
    let seen = events.lock().unwrap().clone();
    for expected in ["version_created", "reload_failed", "progress", "completed"] {
        assert!(seen.iter().any(|e| e == expected), "no {expected} event in {seen:?}");
    }
}
