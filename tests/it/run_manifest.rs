//! `run --json` states what was run (`config`) and fingerprints it: runs
//! with one fingerprint give byte-identical results.

use backtester::domain::content_hash;

use crate::helpers::{ok, repo, results_only, write};

/// `run --json --trades-csv` of `script` on `data` with `extra`: the JSON and the trades.
fn run(script: &str, data: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let trades = dir.path().join("trades.csv").display().to_string();
    let mut args = vec!["run", script, "--data", data, "--json", "--trades-csv", &trades];
    args.extend_from_slice(extra);
    let json = serde_json::from_str(&ok(&args)).expect("one JSON object");
    (json, std::fs::read_to_string(&trades).unwrap())
}

fn hash_of(path: &str) -> String {
    content_hash(&std::fs::read(repo(path)).unwrap())
}

#[test]
fn json_states_the_whole_configuration() {
    let (m, _) = run("scripts/sma_cross.rhai", "data/GOOG.csv", &["--commission", "0.001", "--param", "fast=5"]);
    let config = &m["config"];
    assert_eq!(config["engine_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(config["results_version"], backtester::engine::RESULTS_VERSION);
    assert_eq!(config["strategy"]["name"], "scripts/sma_cross.rhai");
    assert_eq!(config["strategy"]["runtime"], "rhai");
    assert_eq!(config["strategy"]["content_hash"], hash_of("scripts/sma_cross.rhai"));
    assert_eq!(config["data"][0]["symbol"], "GOOG");
    assert_eq!(config["data"][0]["source"], "data/GOOG.csv");
    assert_eq!(config["data"][0]["content_hash"], hash_of("data/GOOG.csv"));
    assert_eq!(config["benchmark"], serde_json::Value::Null);
    // Parameters after defaults: the override and the default.
    assert_eq!(config["params"], serde_json::json!({ "fast": 5, "slow": 20 }));
    let broker = &config["broker"];
    assert_eq!(broker["commission"], serde_json::json!({ "model": "percent", "rate": 0.001 }));
    for key in ["initial_cash", "slippage_bps", "fractional", "trade_on_close", "leverage", "maintenance_margin"] {
        assert!(broker.get(key).is_some(), "broker.{key} is stated: {broker}");
    }
    assert_eq!(config["limits"]["max_operations_per_call"], 1_000_000);
    let fingerprint = m["fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 64);
    assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn runs_with_one_fingerprint_give_byte_identical_results() {
    // The same bytes under other names and paths.
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "copy.rhai", &std::fs::read_to_string(repo("scripts/sma_cross.rhai")).unwrap());
    let data = write(dir.path(), "prices.csv", &std::fs::read_to_string(repo("data/GOOG.csv")).unwrap());
    let data = format!("GOOG={data}");
    let (a, trades_a) = run("scripts/sma_cross.rhai", "data/GOOG.csv", &[]);
    let (b, trades_b) = run(&script, &data, &[]);
    assert_eq!(a["fingerprint"], b["fingerprint"]);
    assert_eq!(results_only(&a.to_string()), results_only(&b.to_string()));
    assert_eq!(trades_a, trades_b);
    // A parameter, a setting or the data that differs is another fingerprint.
    let differs = [
        run("scripts/sma_cross.rhai", "data/GOOG.csv", &["--param", "slow=21"]).0,
        run("scripts/sma_cross.rhai", "data/GOOG.csv", &["--slippage-bps", "1"]).0,
        // The same cash with a scale prints its results with it.
        run("scripts/sma_cross.rhai", "data/GOOG.csv", &["--cash", "100000.00"]).0,
        run("scripts/sma_cross.rhai", "data/GOOG.csv", &["--start", "2010-01-01"]).0,
        run("scripts/sma_cross.rhai", "GOOG=data/EURUSD.csv", &[]).0,
    ];
    for other in differs {
        assert_ne!(other["fingerprint"], a["fingerprint"], "{}", other["config"]);
    }
}
