//! The `run --json` output of a dozen example runs, pinned: Rhai and WASM,
//! one to three symbols, fees, slippage, fractional units, trade-on-close,
//! leverage, brackets, resampling and a benchmark. A change that alters any
//! byte of any of them fails here; one that is meant to (it changes results,
//! and raises `RESULTS_VERSION`) records the new outputs with
//! `BACKTESTER_BLESS=1 cargo test --test it golden`.
//!
//! What is kept is each output's SHA-256 and its headline figures
//! (`tests/golden/runs.json`), not the outputs themselves (a third of a MB
//! each); on a mismatch the new output is written beside the test's
//! temporary files and its path printed.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::{ok, repo};
use crate::plugins::plugin;

/// Each case: a name, the strategy (a script, or `wasm:NAME` for a built plugin) and the rest of the flags.
const CASES: &[(&str, &str, &[&str])] = &[
    ("sma_cross_goog", "scripts/sma_cross.rhai", &["--data", "data/GOOG.csv"]),
    (
        "sma_cross_fees_slippage",
        "scripts/sma_cross.rhai",
        &["--data", "data/GOOG.csv", "--commission", "0.001", "--slippage-bps", "5"],
    ),
    (
        "sma_cross_eurusd_fractional",
        "scripts/sma_cross.rhai",
        &[
            "--data",
            "data/EURUSD.csv",
            "--fractional",
            "--cash",
            "10000",
            "--commission-per-unit",
            "0.0001",
            "--commission-min",
            "1",
        ],
    ),
    (
        "sma_cross_trade_on_close",
        "scripts/sma_cross.rhai",
        &["--data", "data/GOOG.csv", "--trade-on-close", "--commission-fixed", "4.95"],
    ),
    (
        "sma_cross_leverage",
        "scripts/sma_cross.rhai",
        &["--data", "data/BTCUSD.csv", "--leverage", "3", "--maintenance-margin", "0.2", "--fractional"],
    ),
    ("sma_cross_eurusd_4h", "scripts/sma_cross.rhai", &["--data", "data/EURUSD.csv", "--resample", "4h"]),
    ("rsi_reversion", "scripts/rsi_reversion.rhai", &["--data", "data/GOOG.csv", "--benchmark", "data/GOOG.csv"]),
    ("bracket_breakout", "scripts/bracket_breakout.rhai", &["--data", "data/GOOG.csv", "--commission", "0.0005"]),
    (
        "momentum_rotation",
        "scripts/momentum_rotation.rhai",
        &[
            "--data",
            "ORCL=data/orcl-1995-2014.csv",
            "--data",
            "YHOO=data/yhoo-1996-2014.csv",
            "--data",
            "NVDA=data/nvda-1999-2014.csv",
        ],
    ),
    (
        "portfolio_rotation_weekly",
        "scripts/portfolio_rotation.rhai",
        &[
            "--data",
            "data/orcl-1995-2014.csv",
            "--data",
            "data/yhoo-1996-2014.csv",
            "--data",
            "data/nvda-1999-2014.csv",
            "--start",
            "2000-01-01",
            "--max-positions",
            "2",
            "--resample",
            "1w",
            "--benchmark",
            "GOOG=data/GOOG.csv",
        ],
    ),
    ("wasm_sma_cross", "wasm:sma_cross", &["--data", "data/GOOG.csv", "--commission", "0.001"]),
    (
        "wasm_portfolio_rotation",
        "wasm:portfolio_rotation",
        &[
            "--data",
            "data/orcl-1995-2014.csv",
            "--data",
            "data/yhoo-1996-2014.csv",
            "--data",
            "data/nvda-1999-2014.csv",
            "--start",
            "2000-01-01",
            "--commission",
            "0.001",
        ],
    ),
];

/// The output without what depends on the machine: the strategy's path (a
/// plugin is built in a machine's own directory) and a time budget's use.
fn normalized(output: &str) -> String {
    let mut value: Value = serde_json::from_str(output).expect("JSON output");
    if let Some(strategy) = value.pointer_mut("/config/strategy") {
        strategy["name"] = json!("<strategy file>");
    }
    if let Some(sandbox) = value.get_mut("sandbox").and_then(Value::as_object_mut) {
        sandbox.remove("time_used_ms");
    }
    serde_json::to_string_pretty(&value).expect("serialises")
}

fn record(output: &str) -> Value {
    let value: Value = serde_json::from_str(output).unwrap();
    json!({
        "sha256": backtester::domain::content_hash(output.as_bytes()),
        "trades": value["trades"],
        "final_equity": value["final_equity"],
        "fingerprint": value["fingerprint"],
    })
}

#[test]
fn example_runs_give_their_recorded_output_byte_for_byte() {
    let path = repo("tests/golden/runs.json");
    let bless = std::env::var_os("BACKTESTER_BLESS").is_some();
    let recorded: BTreeMap<String, Value> =
        if bless { BTreeMap::new() } else { serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap() };
    let mut now = BTreeMap::new();
    let mut differ = Vec::new();
    for (name, strategy, flags) in CASES {
        let strategy = match strategy.strip_prefix("wasm:") {
            Some(plugin_name) => match plugin(plugin_name) {
                Some(built) => built,
                None => {
                    assert!(!bless, "recording needs the plugins built (plugins/build.sh)");
                    eprintln!("golden: {name} skipped, the plugins are not built here");
                    continue;
                }
            },
            None => strategy.to_string(),
        };
        let mut args = vec!["run", strategy.as_str(), "--json"];
        args.extend_from_slice(flags);
        let output = normalized(&ok(&args));
        let got = record(&output);
        if !bless && recorded.get(*name) != Some(&got) {
            let file = std::env::temp_dir().join(format!("backtester-golden-{name}.json"));
            std::fs::write(&file, &output).unwrap();
            differ.push(format!(
                "{name}: recorded {}, now {got} (output in {})",
                recorded.get(*name).unwrap_or(&Value::Null),
                file.display()
            ));
        }
        now.insert(name.to_string(), got);
    }
    if bless {
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
        return;
    }
    assert!(differ.is_empty(), "outputs changed (BACKTESTER_BLESS=1 records them if meant):\n{}", differ.join("\n"));
}
