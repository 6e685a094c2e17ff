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

/// stdout of `run ... --json --trades-csv` and the trades file's text.
fn run_with_trades(strategy: &str, extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let trades = dir.path().join("trades.csv").display().to_string();
    let mut args = vec!["run", strategy, "--json", "--trades-csv", &trades];
    args.extend_from_slice(extra);
    let json = ok(&args);
    (json, std::fs::read_to_string(&trades).unwrap())
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
        assert_eq!(results_only(&from_wasm.0), results_only(&from_rhai.0), "{extra:?}");
        assert_eq!(from_wasm.1, from_rhai.1, "{extra:?}");
        assert!(from_wasm.1.lines().count() > 10, "the case trades: {extra:?}");
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
    assert_eq!(results_only(&from_wasm.0), results_only(&from_rhai.0));
    assert_eq!(from_wasm.1, from_rhai.1);
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
    assert_eq!(results_only(&from_wasm.0), results_only(&from_rhai.0));
    assert_eq!(from_wasm.1, from_rhai.1);
    assert!(from_wasm.1.lines().count() > 100, "the rotation trades");
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
    let universe = Universe::load(&[DataSpec::parse(&repo("data/GOOG.csv")).unwrap()]).unwrap();
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
