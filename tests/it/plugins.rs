//! Building the example plugins for the tests that need them.
//!
//! The plugins are built from source with `plugins/build.sh` when a wasm32
//! toolchain is present. Without one the tests skip with a message saying
//! how to get one, unless BACKTESTER_REQUIRE_PLUGINS=1 (set by .ci/run),
//! where a missing toolchain fails them.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::helpers::root;

static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The directory of the built `.wasm` files, or `None` (after saying why)
/// when no wasm32 toolchain is available.
pub fn built() -> Option<PathBuf> {
    let result = BUILT.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join("plugins/build.sh"))
            .output()
            .map_err(|e| format!("cannot run plugins/build.sh: {e}"))?;
        match out.status.code() {
            Some(0) => Ok(root().join("plugins/target/wasm32-unknown-unknown/release")),
            Some(2) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
            _ => panic!(
                "plugins/build.sh failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    });
    match result {
        Ok(dir) => Some(dir.clone()),
        Err(why) if std::env::var("BACKTESTER_REQUIRE_PLUGINS").as_deref() == Ok("1") => {
            panic!("BACKTESTER_REQUIRE_PLUGINS=1 but the plugins cannot be built: {why}")
        }
        Err(why) => {
            eprintln!(
                "skipping: no wasm32 toolchain to build the plugins ({}). Enable these tests with \
                 `rustup target add wasm32-unknown-unknown` or `apt-get install rustc cargo libstd-rust-dev-wasm32`.",
                why.trim()
            );
            None
        }
    }
}

/// The path of plugin `name` (e.g. "sma_cross"), if the plugins are built.
pub fn plugin(name: &str) -> Option<String> {
    built().map(|dir| dir.join(format!("{name}.wasm")).display().to_string())
}

/// Regression: under `cargo llvm-cov` the tests pass their coverage flags on
/// to `build.sh`, and a wasm32 build with `-C instrument-coverage` fails (no
/// profiler runtime for wasm32). The script drops them: it succeeds, and finds
/// the plugins built by [`built`] up to date (the flags left no mark on them).
#[test]
fn build_sh_ignores_the_callers_coverage_flags() {
    if built().is_none() {
        return;
    }
    let out = Command::new("bash")
        .arg(root().join("plugins/build.sh"))
        .env("RUSTFLAGS", "-C instrument-coverage")
        .env("CARGO_ENCODED_RUSTFLAGS", "-Cinstrument-coverage")
        .env("LLVM_PROFILE_FILE", "/nonexistent/%p.profraw")
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "build.sh failed:\n{stderr}");
    assert!(!stderr.contains("Compiling"), "the flags changed the build:\n{stderr}");
}
