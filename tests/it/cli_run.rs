//! `backtester run` on the bundled data: output formats, files, determinism.

use crate::helpers::{ok, repo};

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).expect("one JSON object")
}

#[test]
fn json_output_has_the_documented_keys() {
    let m = json(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--json"]);
    for key in [
        "final_equity",
        "return_pct",
        "buy_hold_return_pct",
        "max_drawdown_pct",
        "sharpe",
        "sortino",
        "win_rate_pct",
        "trades",
        "exposure_pct",
        "commission_total",
    ] {
        assert!(m.get(key).is_some(), "missing {key}");
    }
    assert_eq!(m["trades"], 47);
    assert_eq!(m["params"]["fast"], 10);
}

#[test]
fn the_same_run_twice_prints_byte_identical_json() {
    let args = [
        "run",
        "scripts/sma_cross.rhai",
        "--data",
        "data/EURUSD.csv",
        "--json",
        "--commission",
        "0.0002",
        "--slippage-bps",
        "1",
        "--fractional",
        "--cash",
        "10000",
    ];
    assert_eq!(ok(&args), ok(&args));
}

#[test]
fn undefined_metrics_are_null_not_zero() {
    // slow > the number of bars: no signal, no trade.
    let m = json(&["run", "scripts/sma_cross.rhai", "--data", "data/BTCUSD.csv", "--param", "slow=500", "--json"]);
    assert_eq!(m["trades"], 0);
    assert!(m["win_rate_pct"].is_null());
    assert!(m["profit_factor"].is_null());
    assert!(m["sharpe"].is_null(), "flat equity has no volatility");
}

#[test]
fn params_change_the_result() {
    let base = json(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--json"]);
    let other = json(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--json", "--param", "fast=5"]);
    assert_ne!(base["trades"], other["trades"]);
    assert_eq!(other["params"]["fast"], 5);
}

#[test]
fn trades_and_equity_csv_files_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let trades = dir.path().join("trades.csv").display().to_string();
    let equity = dir.path().join("equity.csv").display().to_string();
    ok(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--trades-csv", &trades, "--equity-csv", &equity]);
    let trades = std::fs::read_to_string(trades).unwrap();
    assert_eq!(trades.lines().count(), 1 + 47);
    assert!(trades.starts_with("symbol,side,qty,entry_time,entry_price,exit_time"));
    let equity = std::fs::read_to_string(equity).unwrap();
    assert_eq!(equity.lines().count(), 1 + 2148, "one row per bar");
    assert!(equity.lines().nth(1).unwrap().starts_with("2004-08-19,100000,100000,0"));
}

#[test]
fn the_table_shows_the_run_and_its_metrics() {
    let out = ok(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv"]);
    assert!(out.contains("Return [%]"));
    assert!(out.contains("Parameters               fast=10, slow=20"), "{out}");
}

#[test]
fn a_multi_symbol_rotation_trades_every_symbol() {
    let orcl = format!("ORCL={}", repo("data/orcl-1995-2014.csv"));
    let yhoo = format!("YHOO={}", repo("data/yhoo-1996-2014.csv"));
    let nvda = format!("NVDA={}", repo("data/nvda-1999-2014.csv"));
    let dir = tempfile::tempdir().unwrap();
    let trades = dir.path().join("t.csv").display().to_string();
    ok(&[
        "run",
        "scripts/momentum_rotation.rhai",
        "--data",
        &orcl,
        "--data",
        &yhoo,
        "--data",
        &nvda,
        "--trades-csv",
        &trades,
    ]);
    let trades = std::fs::read_to_string(trades).unwrap();
    for symbol in ["ORCL", "YHOO", "NVDA"] {
        assert!(trades.lines().any(|l| l.starts_with(&format!("{symbol},"))), "no trade in {symbol}");
    }
}

#[test]
fn start_and_end_restrict_the_bars() {
    let m = json(&[
        "run",
        "scripts/sma_cross.rhai",
        "--data",
        "data/GOOG.csv",
        "--json",
        "--start",
        "2010-01-01",
        "--end",
        "2010-12-31",
    ]);
    assert_eq!(m["start"], "2010-01-04");
    assert_eq!(m["end"], "2010-12-31");
    assert_eq!(m["bars"], 252);
}

#[test]
fn json_output_says_what_a_script_used_of_its_operations() {
    let m = json(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--json"]);
    let sandbox = &m["sandbox"];
    assert_eq!(sandbox["runtime"], "rhai", "{sandbox}");
    assert_eq!(sandbox["operations_limit"], 1_000_000);
    let used = sandbox["max_operations_per_call"].as_u64().unwrap();
    assert!(used > 0 && used < 1_000, "a few host calls and a comparison per bar: {used}");
    let table = ok(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv"]);
    let line = table.lines().find(|l| l.starts_with("Sandbox")).expect("a Sandbox line");
    assert!(line.ends_with(&format!("{used} of 1,000,000 operations per call (< 0.01 %)")), "{line}");
}

#[test]
fn semicolon_tab_and_minute_stamped_exports_of_goog_run_as_goog_does() {
    let dir = tempfile::tempdir().unwrap();
    let goog = std::fs::read_to_string(crate::helpers::root().join("data/GOOG.csv")).unwrap();
    let semicolon = crate::helpers::write(dir.path(), "goog_semicolon.csv", &goog.replace(',', ";"));
    let tab = crate::helpers::write(dir.path(), "goog_tab.csv", &goog.replace(',', "\t"));
    // Every date as a date-time without seconds, as minute-bar exports write it.
    let minutes: String = goog
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 0 { format!("{l}\n") } else { format!("{}\n", l.replacen(',', " 00:00,", 1)) })
        .collect();
    let minutes = crate::helpers::write(dir.path(), "goog_minutes.csv", &minutes);
    let run = |data: &str| {
        let json: serde_json::Value = serde_json::from_str(&crate::helpers::ok(&[
            "run",
            "scripts/sma_cross.rhai",
            "--data",
            &format!("GOOG={data}"),
            "--json",
        ]))
        .unwrap();
        (json["trades"].clone(), json["final_equity"].clone(), json["sharpe"].clone())
    };
    let expected = run("data/GOOG.csv");
    assert!(expected.0.as_u64().unwrap() > 0);
    for data in [&semicolon, &tab, &minutes] {
        assert_eq!(run(data), expected, "{data}");
    }
}
