//! Running the built binary and reading the bundled files.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path inside the repository.
pub fn repo(path: &str) -> String {
    root().join(path).display().to_string()
}

/// The cache of parsed bars the tests' runs use (not the user's).
pub fn bars_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bars-cache")
}

/// Runs `backtester` with `args` from the repository root.
pub fn backtester(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backtester"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("BACKTESTER_CACHE_DIR", bars_cache())
        .output()
        .expect("the binary runs")
}

/// Runs and expects success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = backtester(args);
    assert!(out.status.success(), "backtester {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs and expects failure; returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = backtester(args);
    assert!(!out.status.success(), "backtester {args:?} should have failed");
    String::from_utf8(out.stderr).expect("utf-8 output")
}

/// Writes `text` to a new file called `name` in `dir`.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp file written");
    path.display().to_string()
}

/// A `run --json` output without what names the run rather than states its
/// results (`config`, `fingerprint`), for comparing runs of different files.
pub fn results_only(json: &str) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(json).expect("JSON output");
    let object = value.as_object_mut().expect("a JSON object");
    object.remove("config");
    object.remove("fingerprint");
    value
}

/// Ends a `serve` or `dev` child the way a person would: sends `signal`
/// (`INT`, `TERM`), waits up to `within` for it to exit, and only then kills
/// it.
///
/// A killed process never writes its coverage profile, so ending the children
/// with SIGKILL left everything they ran (the service, the routes, `dev`)
/// out of a coverage run's figures (see `.ci/run`).
pub fn stop_gracefully(child: &mut Child, signal: &str, within: Duration) {
    // Reaped already (a test stopped it itself): its pid may belong to another process now.
    if !matches!(child.try_wait(), Ok(None)) {
        return;
    }
    let pid = child.id().to_string();
    let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status().is_ok_and(|s| s.success());
    let deadline = Instant::now() + within;
    while sent && Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
