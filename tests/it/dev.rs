//! `backtester dev`: the real binary watching a temporary copy of a script and its data.
//!
//! Each test waits for outcomes by polling the captured output against a
//! deadline; the only sleeps are the pauses that make two edits two saves.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::helpers::{root, stop_gracefully};

/// How long an expected outcome may take.
const DEADLINE: Duration = Duration::from_secs(20);
/// How long an unexpected extra run is watched for.
const QUIET: Duration = Duration::from_millis(1200);
const POLL: Duration = Duration::from_millis(50);

/// A `backtester dev` child in a temporary directory holding `sma_cross.rhai` and `GOOG.csv`.
struct Dev {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    dir: TempDir,
}

impl Dev {
    /// Starts `dev` and waits for its first run to finish.
    fn start() -> Dev {
        Dev::start_with(&[], |_| {})
    }

    /// Starts `dev` with `extra` flags, after `prepare` has written any
    /// further files into the directory, and waits for its first run to finish.
    fn start_with(extra: &[&str], prepare: impl FnOnce(&Path)) -> Dev {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::copy(root().join("scripts/sma_cross.rhai"), dir.path().join("sma_cross.rhai")).expect("script copied");
        std::fs::copy(root().join("data/GOOG.csv"), dir.path().join("GOOG.csv")).expect("data copied");
        prepare(dir.path());
        let mut child = Command::new(env!("CARGO_BIN_EXE_backtester"))
            .args(["dev", "sma_cross.rhai", "--data", "GOOG.csv"])
            .args(extra)
            .current_dir(dir.path())
            .env("BACKTESTER_CACHE_DIR", crate::helpers::bars_cache())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = capture(child.stdout.take().expect("piped stdout"));
        let stderr = capture(child.stderr.take().expect("piped stderr"));
        let dev = Dev { child, stdout, stderr, dir };
        dev.wait_until("the first run", |out| finished(out) == 1);
        dev
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Polls stdout until `done` holds; returns it. Fails after [`DEADLINE`].
    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        self.poll(what, Self::stdout, Self::stderr, done)
    }

    /// Polls stderr until `done` holds; returns it. Fails after [`DEADLINE`]
    /// (stderr is read by its own thread, so it may lag stdout).
    fn wait_until_stderr(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        self.poll(what, Self::stderr, Self::stdout, done)
    }

    /// Polls `read` until `done` holds; returns it. Fails after [`DEADLINE`],
    /// showing both streams.
    fn poll(
        &self,
        what: &str,
        read: fn(&Self) -> String,
        other: fn(&Self) -> String,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let text = read(self);
            if done(&text) {
                return text;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no {what} within {DEADLINE:?}:\n{text}\nother stream:\n{}",
                other(self)
            );
            thread::sleep(POLL);
        }
    }

    /// Checks that `holds` stays true of stdout for [`QUIET`].
    fn stays(&self, what: &str, holds: impl Fn(&str) -> bool) {
        let start = Instant::now();
        while start.elapsed() < QUIET {
            let out = self.stdout();
            assert!(holds(&out), "{what} broke:\n{out}\nstderr:\n{}", self.stderr());
            thread::sleep(POLL);
        }
    }

    /// Rewrites a file in place with `from` replaced by `to`.
    fn edit(&self, name: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.path(name)).expect("file read");
        assert!(text.contains(from), "{name} has no {from:?}");
        std::fs::write(self.path(name), text.replace(from, to)).expect("file written");
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        // Ctrl-C, as a person stops `dev`, so that a coverage run measures it.
        stop_gracefully(&mut self.child, "INT", DEADLINE);
    }
}

/// Reads `stream` on a thread into a shared buffer.
fn capture(mut stream: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&buffer);
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n @ 1..) = stream.read(&mut chunk) {
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    buffer
}

/// How many runs started (one header line each).
fn runs(out: &str) -> usize {
    out.lines().filter(|l| l.starts_with("--- run ")).count()
}

/// How many runs finished, well or not.
fn finished(out: &str) -> usize {
    out.lines()
        .filter(|l| {
            l.starts_with("ran in ") || l.starts_with("keeping the last good results") || *l == "no good run yet"
        })
        .count()
}

/// The output of run `n`, from its header to the next one.
fn section(out: &str, n: usize) -> &str {
    let header = format!("--- run {n} (");
    let start = out.find(&header).unwrap_or_else(|| panic!("no run {n} in:\n{out}"));
    let rest = &out[start + header.len()..];
    &rest[..rest.find("--- run ").unwrap_or(rest.len())]
}

/// The value of the table row `label` in a run's output, change included.
fn row<'a>(section: &'a str, label: &str) -> &'a str {
    section
        .lines()
        .find_map(|l| l.strip_prefix(label).filter(|rest| rest.starts_with("  ")))
        .unwrap_or_else(|| panic!("no row {label} in:\n{section}"))
        .trim()
}

/// The first number of a row's value.
fn first_number(value: &str) -> i64 {
    value.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no number in {value:?}"))
}

#[test]
fn an_in_place_write_runs_once_and_shows_changes() {
    let dev = Dev::start();
    assert!(dev.stdout().contains("press Ctrl-C to stop"));
    let first = dev.stdout();
    assert!(!section(&first, 1).contains("(+") && !section(&first, 1).contains("(-"), "no change on the first run");
    dev.edit("sma_cross.rhai", "fast: 10", "fast: 5");
    let out = dev.wait_until("second run", |out| finished(out) == 2);
    dev.stays("exactly two runs", |out| runs(out) == 2);
    let trades = row(section(&out, 2), "Trades");
    assert!(trades.contains("(+") || trades.contains("(-"), "Trades shows no change: {trades:?}");
    assert!(section(&out, 2).contains("ran in "));
    assert!(!out.contains("reloaded"), "only the strategy changed, the data stays loaded:\n{out}");
}

#[test]
fn writing_a_temporary_file_and_renaming_it_over_runs_once() {
    let dev = Dev::start();
    let text = std::fs::read_to_string(dev.path("sma_cross.rhai")).unwrap();
    std::fs::write(dev.path("sma_cross.rhai.tmp"), text.replace("fast: 10", "fast: 5")).unwrap();
    std::fs::rename(dev.path("sma_cross.rhai.tmp"), dev.path("sma_cross.rhai")).unwrap();
    let out = dev.wait_until("second run", |out| finished(out) == 2);
    dev.stays("exactly two runs", |out| runs(out) == 2);
    assert!(row(section(&out, 2), "Parameters").contains("fast=5"));
}

#[test]
fn deleting_and_recreating_runs_once() {
    let dev = Dev::start();
    let text = std::fs::read_to_string(dev.path("sma_cross.rhai")).unwrap();
    std::fs::remove_file(dev.path("sma_cross.rhai")).unwrap();
    std::fs::write(dev.path("sma_cross.rhai"), text.replace("fast: 10", "fast: 5")).unwrap();
    let out = dev.wait_until("second run", |out| finished(out) == 2);
    dev.stays("exactly two runs", |out| runs(out) == 2);
    assert!(row(section(&out, 2), "Parameters").contains("fast=5"));
    assert!(!dev.stderr().contains("error"), "{}", dev.stderr());
}

#[test]
fn a_deleted_file_is_waited_for_not_run() {
    let dev = Dev::start();
    let text = std::fs::read_to_string(dev.path("sma_cross.rhai")).unwrap();
    std::fs::remove_file(dev.path("sma_cross.rhai")).unwrap();
    dev.wait_until("waiting message", |out| out.contains("waiting for sma_cross.rhai"));
    assert_eq!(runs(&dev.stdout()), 1, "a delete is not a run");
    std::fs::write(dev.path("sma_cross.rhai"), text.replace("fast: 10", "fast: 5")).unwrap();
    let out = dev.wait_until("second run", |out| finished(out) == 2);
    dev.stays("exactly two runs", |out| runs(out) == 2);
    assert!(row(section(&out, 2), "Parameters").contains("fast=5"));
}

#[test]
fn a_syntax_error_keeps_watching_and_the_fix_is_compared_with_the_last_good_run() {
    let dev = Dev::start();
    let good = std::fs::read_to_string(dev.path("sma_cross.rhai")).unwrap();
    let trades_before = first_number(row(section(&dev.stdout(), 1), "Trades"));
    std::fs::write(dev.path("sma_cross.rhai"), "fn on_bar(ctx) {\n    let x = ;\n}\n").unwrap();
    let out = dev.wait_until("failed run", |out| finished(out) == 2);
    assert!(section(&out, 2).contains("keeping the last good results ("), "{out}");
    dev.wait_until_stderr("located error", |err| err.contains("syntax error") && err.contains("(line 2, column"));

    std::fs::write(dev.path("sma_cross.rhai"), good.replace("fast: 10", "fast: 5")).unwrap();
    let out = dev.wait_until("good run after the fix", |out| finished(out) == 3);
    dev.stays("exactly three runs", |out| runs(out) == 3);
    let trades = row(section(&out, 3), "Trades");
    let trades_after = first_number(trades);
    let change = trades_after - trades_before;
    assert_ne!(change, 0, "fast 5 trades differently from fast 10");
    assert!(trades.ends_with(&format!("({change:+})")), "{trades:?} is not compared with run 1 ({trades_before})");
}

#[test]
fn rewriting_the_same_content_does_not_run() {
    let dev = Dev::start();
    let text = std::fs::read(dev.path("sma_cross.rhai")).unwrap();
    std::fs::write(dev.path("sma_cross.rhai"), &text).unwrap();
    std::fs::write(dev.path("GOOG.csv"), std::fs::read(dev.path("GOOG.csv")).unwrap()).unwrap();
    dev.stays("a single run", |out| runs(out) == 1);
    // Still watching: a real change is one run.
    dev.edit("sma_cross.rhai", "fast: 10", "fast: 5");
    dev.wait_until("second run", |out| finished(out) == 2);
    dev.stays("exactly two runs", |out| runs(out) == 2);
}

#[test]
fn a_changed_data_file_is_reloaded() {
    let dev = Dev::start();
    let csv = std::fs::read_to_string(dev.path("GOOG.csv")).unwrap();
    let without_last: String = csv.lines().take(csv.lines().count() - 1).map(|l| format!("{l}\n")).collect();
    std::fs::write(dev.path("GOOG.csv"), without_last).unwrap();
    let out = dev.wait_until("second run", |out| finished(out) == 2);
    dev.stays("exactly two runs", |out| runs(out) == 2);
    assert!(out.contains("reloaded GOOG.csv (2147 bars)"), "{out}");
    let bars: Vec<&str> = row(section(&out, 2), "Bars").split_whitespace().collect();
    assert_eq!(bars, ["2147", "(-1)"]); // 2148 bars, the last row removed
}

/// GOOG.csv without its last `drop` rows.
fn goog_without_last(drop: usize) -> String {
    let csv = std::fs::read_to_string(root().join("data/GOOG.csv")).expect("GOOG.csv read");
    let keep = csv.lines().count() - drop;
    csv.lines().take(keep).map(|l| format!("{l}\n")).collect()
}

#[test]
fn a_changed_benchmark_file_is_reloaded() {
    let dev = Dev::start_with(&["--benchmark", "BENCH=bench.csv"], |dir| {
        std::fs::copy(root().join("data/GOOG.csv"), dir.join("bench.csv")).expect("benchmark copied");
    });
    assert!(dev.stdout().contains("bench.csv (BENCH, benchmark)"), "the banner lists the benchmark file");
    let before = row(section(&dev.stdout(), 1), "Benchmark return [%]").to_string();
    std::fs::write(dev.path("bench.csv"), goog_without_last(1000)).unwrap();
    let out = dev.wait_until("second run", |out| finished(out) == 2);
    dev.stays("exactly two runs", |out| runs(out) == 2);
    assert!(out.contains("reloaded bench.csv (1148 bars, benchmark)"), "{out}");
    assert!(section(&out, 2).contains("): bench.csv changed ---"), "{out}");
    let after = row(section(&out, 2), "Benchmark return [%]");
    assert!(after.contains("(+") || after.contains("(-"), "{after:?} shows no change from {before:?}");
    let trades = row(section(&out, 2), "Trades");
    assert!(!trades.contains('('), "the strategy's own results do not change: {trades:?}");
}

#[test]
fn a_broken_benchmark_file_is_reported_and_watched() {
    let dev = Dev::start_with(&["--benchmark", "bench.csv"], |dir| {
        std::fs::write(dir.join("bench.csv"), goog_without_last(0).replacen("\n2", "\nnot a date", 1)).unwrap();
    });
    let out = dev.stdout();
    assert!(section(&out, 1).contains("no good run yet"), "{out}");
    let stderr = dev.stderr();
    assert!(stderr.contains("loading --benchmark") && stderr.contains("line 2"), "no located error:\n{stderr}");
    std::fs::write(dev.path("bench.csv"), goog_without_last(0)).unwrap();
    let out = dev.wait_until("good run after the fix", |out| out.contains("ran in "));
    dev.stays("exactly two runs", |out| runs(out) == 2);
    assert!(row(section(&out, 2), "Benchmark").starts_with("bench"), "{out}");
}

#[test]
fn ctrl_c_exits_with_status_0() {
    let mut dev = Dev::start();
    let pid = dev.child.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = dev.child.try_wait().expect("child status") {
            break exit;
        }
        assert!(start.elapsed() < DEADLINE, "still running {DEADLINE:?} after SIGINT");
        thread::sleep(POLL);
    };
    assert!(exit.success(), "exit status {exit:?}\nstderr:\n{}", dev.stderr());
    dev.wait_until("goodbye", |out| out.ends_with("stopped\n"));
}

#[test]
fn the_report_is_rewritten_on_each_good_run() {
    let dev = Dev::start_with(&["--report", "report.html"], |_| {});
    dev.wait_until("the first report", |out| out.matches("report: report.html").count() == 1);
    let first = std::fs::read_to_string(dev.path("report.html")).expect("the report is written");
    assert!(first.contains(r#""params":{"fast":10,"slow":20}"#), "the script's own parameters");
    dev.edit("sma_cross.rhai", "fast: 10", "fast: 5");
    dev.wait_until("the second report", |out| out.matches("report: report.html").count() == 2);
    let second = std::fs::read_to_string(dev.path("report.html")).unwrap();
    assert!(second.contains(r#""params":{"fast":5,"slow":20}"#), "the new run's");
    assert!(!dev.path("report.html.partial").exists(), "written whole, through a file renamed over it");
}
