//! WASM plugins through the CLI and the library: the same answers as the
//! Rhai scripts, and hostile plugins that fail only their own run.

use std::time::Duration;

use backtester::broker::BrokerConfig;
use backtester::data::{DataSpec, Universe};
use backtester::domain::CancelToken;
use backtester::engine::{self, ParamOverrides, RunConfig, RunHooks};
use backtester::strategy::wasm::{Budget, CompiledPlugin, WasmLimits, WasmStrategy};
use rust_decimal::Decimal;

use crate::helpers::{backtester, ok, repo, results_only};
use crate::plugins::plugin;

/// What `run ... --json --trades-csv` gave.
struct Run {
    /// The JSON output without its `sandbox` block, and without what names the run (`config`, `fingerprint`).
    results: serde_json::Value,
    /// The trades file's text.
    trades: String,
    /// The `sandbox` block: what the run used of its runtime's sandbox, which
    /// differs between a script and a plugin however alike their results.
    sandbox: serde_json::Value,
}

fn run_with_trades(strategy: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let trades = dir.path().join("trades.csv").display().to_string();
    let mut args = vec!["run", strategy, "--json", "--trades-csv", &trades];
    args.extend_from_slice(extra);
    let mut results = results_only(&ok(&args));
    let sandbox = results.as_object_mut().unwrap().remove("sandbox").expect("a sandbox block");
    Run { results, trades: std::fs::read_to_string(&trades).unwrap(), sandbox }
}

/// Asserts that a plugin and a script gave the same results and trades.
fn assert_same(from_wasm: &Run, from_rhai: &Run, case: &str) {
    assert_eq!(from_wasm.results, from_rhai.results, "{case}");
    assert_eq!(from_wasm.trades, from_rhai.trades, "{case}");
    assert_eq!((&from_wasm.sandbox["runtime"], &from_rhai.sandbox["runtime"]), (&"wasm".into(), &"rhai".into()));
}

#[test]
fn sma_cross_gives_the_same_trades_and_metrics_as_the_script() {
    let Some(wasm) = plugin("sma_cross") else { return };
    let cases: [&[&str]; 4] = [
        &["--data", "data/GOOG.csv"],
        &["--data", "data/GOOG.csv", "--param", "fast=5", "--param", "slow=30"],
        &["--data", "data/EURUSD.csv", "--commission", "0.0002", "--slippage-bps", "1", "--fractional"],
        // SMA 10 = SMA 20 exactly at 2017-11-17 08:00: a cross through a tie,
        // which the plugin answers from its own memory and the script from the host's.
        &["--data", "data/EURUSD.csv", "--resample", "4h"],
    ];
    for extra in cases {
        let from_wasm = run_with_trades(&wasm, extra);
        let from_rhai = run_with_trades("scripts/sma_cross.rhai", extra);
        assert_same(&from_wasm, &from_rhai, &format!("{extra:?}"));
        assert!(from_wasm.trades.lines().count() > 10, "the case trades: {extra:?}");
    }
}

#[test]
fn momentum_rotation_gives_the_same_trades_as_the_script() {
    let Some(wasm) = plugin("momentum_rotation") else { return };
    let data = [
        format!("ORCL={}", repo("data/orcl-1995-2014.csv")),
        format!("YHOO={}", repo("data/yhoo-1996-2014.csv")),
        format!("NVDA={}", repo("data/nvda-1999-2014.csv")),
    ];
    let extra = ["--data", &data[0], "--data", &data[1], "--data", &data[2], "--commission", "0.001"];
    let from_wasm = run_with_trades(&wasm, &extra);
    let from_rhai = run_with_trades("scripts/momentum_rotation.rhai", &extra);
    assert_same(&from_wasm, &from_rhai, "momentum_rotation");
}

#[test]
fn portfolio_rotation_gives_the_same_trades_as_the_script() {
    let Some(wasm) = plugin("portfolio_rotation") else { return };
    let data = [
        format!("ORCL={}", repo("data/orcl-1995-2014.csv")),
        format!("YHOO={}", repo("data/yhoo-1996-2014.csv")),
        format!("NVDA={}", repo("data/nvda-1999-2014.csv")),
    ];
    let extra = [
        "--data",
        &data[0],
        "--data",
        &data[1],
        "--data",
        &data[2],
        "--start",
        "2000-01-01",
        "--commission",
        "0.001",
        "--max-positions",
        "2",
        "--param",
        "period=42",
    ];
    let from_wasm = run_with_trades(&wasm, &extra);
    let from_rhai = run_with_trades("scripts/portfolio_rotation.rhai", &extra);
    assert_same(&from_wasm, &from_rhai, "portfolio_rotation");
    assert!(from_wasm.trades.lines().count() > 100, "the rotation trades");
}

#[test]
fn json_output_says_what_a_plugin_used_of_its_fuel_and_memory() {
    let Some(wasm) = plugin("sma_cross") else { return };
    let args =
        ["run", &wasm, "--data", "data/GOOG.csv", "--json", "--wasm-fuel", "100000000", "--wasm-memory-mib", "16"];
    let m: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    let sandbox = &m["sandbox"];
    assert_eq!(sandbox["runtime"], "wasm", "{sandbox}");
    assert_eq!(sandbox["fuel_limit"], 100_000_000);
    let fuel = sandbox["fuel_used"].as_u64().unwrap();
    assert!(fuel > 2148 && fuel <= 100_000_000, "at least one instruction per bar: {fuel}");
    assert_eq!(sandbox["memory_limit_bytes"], 16 << 20);
    let memory = sandbox["peak_memory_bytes"].as_u64().unwrap();
    assert!((1 << 16..=16 << 20).contains(&memory), "{memory}");
    assert!(sandbox.get("time_used_ms").is_none(), "a fuel run has no time fields: {sandbox}");

    let timed = ok(&["run", &wasm, "--data", "data/GOOG.csv", "--wasm-time-budget", "30"]);
    let line = timed.lines().find(|l| l.starts_with("Sandbox")).expect("a Sandbox line");
    assert!(line.contains(" s of 30 s (") && line.contains("MiB of 64 MiB"), "{line}");
}

#[test]
fn the_raw_wat_example_runs() {
    let json = ok(&["run", "plugins/examples/raw/buy_and_hold.wat", "--data", "data/GOOG.csv", "--json"]);
    let metrics: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(metrics["trades"], 1, "{json}");
}

#[test]
fn hostile_plugins_fail_with_a_clear_message() {
    let Some(wasm) = plugin("hostile") else { return };
    let cases: [(&str, &[&str], &str); 7] = [
        ("1", &["--wasm-time-budget", "0.5"], "exceeded its CPU budget of 0.5 s"),
        ("2", &["--wasm-memory-mib", "16"], "exceeded its memory limit of 16 MiB"),
        ("3", &[], "overflowed its stack"),
        ("4", &[], "trapped: wasm `unreachable` executed"),
        ("5", &[], "hostile plugin panicked on purpose"),
        ("6", &[], "bt.log: pointer"),
        ("7", &[], "hostile plugin failed on purpose"),
    ];
    for (mode, flags, expected) in cases {
        let mode_param = format!("mode={mode}");
        let mut args = vec!["run", &wasm, "--data", "data/GOOG.csv", "--param", &mode_param];
        args.extend_from_slice(flags);
        let out = backtester(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "mode {mode} should fail");
        assert!(stderr.contains("on_bar failed at bar 5"), "mode {mode}: {stderr}");
        assert!(stderr.contains(expected), "mode {mode}: expected {expected:?} in {stderr}");
    }
    ok(&["run", &wasm, "--data", "data/GOOG.csv", "--param", "mode=0"]);
}

#[test]
fn after_each_hostile_run_the_next_run_on_the_same_engine_succeeds() {
    let (Some(hostile), Some(good)) = (plugin("hostile"), plugin("sma_cross")) else { return };
    let universe =
        Universe::load(&[DataSpec::parse(&repo("data/GOOG.csv")).unwrap()], &backtester::data::Loader::default())
            .unwrap();
    let limits = WasmLimits {
        budget: Budget::Time(Duration::from_millis(500)),
        memory_bytes: 16 << 20,
        ..WasmLimits::default()
    };
    let hostile = CompiledPlugin::compile(&std::fs::read(&hostile).unwrap(), "hostile.wasm", &limits).unwrap();
    let good = CompiledPlugin::compile(&std::fs::read(&good).unwrap(), "sma_cross.wasm", &limits).unwrap();
    let run = |plugin: &CompiledPlugin, params: Vec<String>| {
        let mut strategy = WasmStrategy::instantiate(plugin, "plugin", limits, CancelToken::new()).unwrap();
        let config = RunConfig::new(BrokerConfig::with_cash(Decimal::from(100_000)), ParamOverrides::Text(params));
        engine::run(&universe, &mut strategy, &config, RunHooks::default())
    };
    for mode in 1..=7 {
        let err = run(&hostile, vec![format!("mode={mode}")]).expect_err("the hostile run fails");
        assert!(err.to_string().contains("bar 5"), "mode {mode}: {err}");
        let report = run(&good, Vec::new()).expect("the next run succeeds");
        assert_eq!(report.trades.len(), 47, "after mode {mode}");
    }
}
