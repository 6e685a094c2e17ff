//! Running the built binary and reading the bundled files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path inside the repository.
pub fn repo(path: &str) -> String {
    root().join(path).display().to_string()
}

/// Runs `backtester` with `args` from the repository root.
pub fn backtester(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backtester"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
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
