//! Portfolio runs from the command line: a three-symbol rotation on the
//! real files against an independent naive computation, brackets, a
//! benchmark, a second timeframe, and settings that are refused.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::helpers::{fails, ok, repo, write};

const FILES: [&str; 3] = ["data/orcl-1995-2014.csv", "data/yhoo-1996-2014.csv", "data/nvda-1999-2014.csv"];

struct Row {
    date: String,
    open: Decimal,
    close: Decimal,
}

/// The rows of a daily CSV from `start` (a `YYYY-MM-DD` date) on.
fn rows_from(path: &str, start: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(repo(path)).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split(',').collect();
            Row {
                date: c[0].to_string(),
                open: Decimal::from_str(c[1]).unwrap(),
                close: Decimal::from_str(c[4]).unwrap(),
            }
        })
        .filter(|r| r.date.as_str() >= start)
        .collect()
}

/// The rotation of `scripts/portfolio_rotation.rhai`, computed directly: on
/// the first day of each month once every 63-day rate of change exists, the
/// best two symbols get half of equity each; orders fill at the next open
/// as floor(0.5 × equity / open), sales before purchases; everything is
/// closed at the last close. Returns the final equity and trades per symbol.
fn naive_rotation(series: &[Vec<Row>], period: usize, hold: usize, cash: Decimal) -> (Decimal, Vec<usize>) {
    let n = series[0].len();
    let mut cash = cash;
    let mut qty = vec![Decimal::ZERO; series.len()];
    let mut round_trips = vec![0usize; series.len()];
    let mut pending: Option<Vec<Decimal>> = None;
    let half = Decimal::ONE / Decimal::from(hold as u64);
    for t in 0..n {
        if let Some(weights) = pending.take() {
            let equity = cash + (0..series.len()).map(|s| qty[s] * series[s][t].open).sum::<Decimal>();
            let target: Vec<Decimal> =
                (0..series.len()).map(|s| (weights[s] * equity / series[s][t].open).floor()).collect();
            for s in 0..series.len() {
                if target[s] < qty[s] {
                    cash += (qty[s] - target[s]) * series[s][t].open;
                    round_trips[s] += 1; // each sale closes (part of) the position: one or more trades
                    qty[s] = target[s];
                }
            }
            for s in 0..series.len() {
                if target[s] > qty[s] {
                    let cost = (target[s] - qty[s]) * series[s][t].open;
                    assert!(cost <= cash, "a purchase after the sales always fits");
                    cash -= cost;
                    qty[s] = target[s];
                }
            }
        }
        let new_month = t == 0 || series[0][t].date[..7] != series[0][t - 1].date[..7];
        if new_month && t >= period {
            let mut roc: Vec<(usize, f64)> = (0..series.len())
                .map(|s| {
                    let (now, then) = (series[s][t].close, series[s][t - period].close);
                    let (now, then) =
                        (now.to_string().parse::<f64>().unwrap(), then.to_string().parse::<f64>().unwrap());
                    (s, (now - then) / then * 100.0)
                })
                .collect();
            roc.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
            let mut weights = vec![Decimal::ZERO; series.len()];
            for &(s, _) in &roc[..hold] {
                weights[s] = half;
            }
            pending = Some(weights);
        }
    }
    for s in 0..series.len() {
        if !qty[s].is_zero() {
            cash += qty[s] * series[s][n - 1].close;
            round_trips[s] += 1;
        }
    }
    (cash, round_trips)
}

fn symbol_of(path: &str) -> String {
    std::path::Path::new(path).file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn a_three_symbol_rotation_matches_a_naive_computation_and_trades_every_symbol() {
    let series: Vec<Vec<Row>> = FILES.iter().map(|f| rows_from(f, "2000-01-01")).collect();
    let dates: Vec<&str> = series[0].iter().map(|r| r.date.as_str()).collect();
    for s in &series[1..] {
        assert!(s.iter().map(|r| r.date.as_str()).eq(dates.iter().copied()), "the files share their trading days");
    }
    let (final_equity, sales) = naive_rotation(&series, 63, 2, Decimal::from(100_000));

    let dir = tempfile::tempdir().unwrap();
    let trades_csv = dir.path().join("trades.csv").display().to_string();
    let mut args = vec!["run", "scripts/portfolio_rotation.rhai", "--start", "2000-01-01", "--json"];
    args.extend(["--trades-csv", &trades_csv]);
    for f in FILES {
        args.extend(["--data", f]);
    }
    let metrics: Value = serde_json::from_str(&ok(&args)).unwrap();
    assert_eq!(metrics["final_equity"].to_string(), final_equity.normalize().to_string());
    assert_eq!(metrics["rejected_orders"], 0, "sales always free the cash the purchases need");

    let text = std::fs::read_to_string(&trades_csv).unwrap();
    let mut per_symbol: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines().skip(1) {
        *per_symbol.entry(line.split(',').next().unwrap().to_string()).or_default() += 1;
    }
    for (i, f) in FILES.iter().enumerate() {
        let traded = per_symbol.get(&symbol_of(f)).copied().unwrap_or(0);
        assert!(traded >= sales[i] && sales[i] > 0, "{f}: {traded} trades, {} sales in the naive run", sales[i]);
    }
    let contributions = metrics["contributions"].as_array().unwrap();
    assert_eq!(contributions.len(), 3, "every symbol of the run is reported");
    let total: Decimal = contributions.iter().map(|c| Decimal::from_str(&c["net_pnl"].to_string()).unwrap()).sum();
    assert_eq!(total, final_equity - Decimal::from(100_000));
}

#[test]
fn brackets_exit_by_stop_or_target_and_pnl_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let trades_csv = dir.path().join("trades.csv").display().to_string();
    let json =
        ok(&["run", "scripts/bracket_breakout.rhai", "--data", "data/GOOG.csv", "--json", "--trades-csv", &trades_csv]);
    let metrics: Value = serde_json::from_str(&json).unwrap();
    let text = std::fs::read_to_string(&trades_csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let reason = header.iter().position(|h| *h == "exit_reason").unwrap();
    let net = header.iter().position(|h| *h == "net_pnl").unwrap();
    let mut reasons = BTreeMap::new();
    let mut sum = Decimal::ZERO;
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        *reasons.entry(c[reason].to_string()).or_insert(0) += 1;
        sum += Decimal::from_str(c[net]).unwrap();
    }
    assert!(reasons.get("stop_loss").copied().unwrap_or(0) > 0, "{reasons:?}");
    assert!(reasons.get("take_profit").copied().unwrap_or(0) > 0, "{reasons:?}");
    assert!(reasons.keys().all(|r| ["stop_loss", "take_profit", "end_of_run"].contains(&r.as_str())), "{reasons:?}");
    assert_eq!(sum.normalize().to_string(), metrics["net_pnl"].to_string());
}

/// Runs sma_cross on `data` with `data` itself as its benchmark and `extra`
/// flags; returns (the benchmark's return, the data's buy-and-hold return).
fn own_benchmark(data: &str, extra: &[&str]) -> (f64, f64) {
    let mut args = vec!["run", "scripts/sma_cross.rhai", "--data", data, "--benchmark", data, "--json"];
    args.extend_from_slice(extra);
    let metrics: Value = serde_json::from_str(&ok(&args)).unwrap();
    (metrics["benchmark"]["return_pct"].as_f64().unwrap(), metrics["buy_hold_return_pct"].as_f64().unwrap())
}

#[test]
fn a_resampled_benchmark_takes_in_no_bar_after_end() {
    // Weekly, ending on a Wednesday: the benchmark's last week must close on
    // that Wednesday too, as the run's does.
    let (benchmark, held) = own_benchmark("data/GOOG.csv", &["--resample", "1w", "--end", "2010-06-16"]);
    assert!((benchmark - held).abs() < 1e-6, "benchmark {benchmark} vs the data held {held}");
    // Monthly bars: a few months' usual gap (30 days) differs from the whole
    // file's (31), and the benchmark must still be the data's own month.
    let (benchmark, held) = own_benchmark("data/BTCUSD.csv", &["--start", "2014-03-31", "--end", "2014-07-31"]);
    assert!((benchmark - held).abs() < 1e-6, "monthly: benchmark {benchmark} vs the data held {held}");
}

#[test]
fn a_benchmark_is_held_beside_the_strategy_and_a_flat_one_is_flagged() {
    let rows = rows_from("data/GOOG.csv", "0000");
    let (first, last) = (rows[0].close, rows[rows.len() - 1].close);
    let expected = ((last / first - Decimal::ONE) * Decimal::ONE_HUNDRED).to_string().parse::<f64>().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let equity_csv = dir.path().join("equity.csv").display().to_string();
    let returns_csv = dir.path().join("returns.csv").display().to_string();
    let json = ok(&[
        "run",
        "scripts/sma_cross.rhai",
        "--data",
        "data/GOOG.csv",
        "--benchmark",
        "BENCH=data/GOOG.csv",
        "--json",
        "--equity-csv",
        &equity_csv,
        "--returns-csv",
        &returns_csv,
    ]);
    let metrics: Value = serde_json::from_str(&json).unwrap();
    let b = &metrics["benchmark"];
    assert_eq!(b["symbol"], "BENCH");
    assert!((b["return_pct"].as_f64().unwrap() - expected).abs() < 1e-9, "{b}");
    assert_eq!(b["flat"], false);
    for key in ["alpha_annual_pct", "beta", "correlation", "tracking_error_pct", "information_ratio"] {
        assert!(b[key].is_number(), "{key}: {b}");
    }
    let equity = std::fs::read_to_string(&equity_csv).unwrap();
    assert!(equity.starts_with("time,equity,cash,drawdown_pct,benchmark_equity\n"));
    assert!(equity.lines().nth(1).unwrap().ends_with(",100000"), "bought with the whole cash at the first close");
    let returns = std::fs::read_to_string(&returns_csv).unwrap();
    let years: Vec<&str> = returns.lines().filter(|l| l.starts_with("year,")).collect();
    assert_eq!(years.len(), 10, "2004 to 2013");
    assert!(years[0].starts_with("year,2004,100000,"));

    let flat: String = std::iter::once("date,open,high,low,close,volume\n".to_string())
        .chain(rows.iter().map(|r| format!("{},5,5,5,5,100\n", r.date)))
        .collect();
    let flat_path = write(dir.path(), "FLAT.csv", &flat);
    let out = crate::helpers::backtester(&[
        "run",
        "scripts/sma_cross.rhai",
        "--data",
        "data/GOOG.csv",
        "--benchmark",
        &flat_path,
        "--json",
    ]);
    assert!(out.status.success());
    let metrics: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(metrics["benchmark"]["flat"], true);
    assert!(metrics["benchmark"]["beta"].is_null());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("benchmark FLAT is flat"), "{stderr}");
}

#[test]
fn a_second_timeframe_shows_only_completed_bars() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(
        dir.path(),
        "weekly.rhai",
        r#"
        fn init(ctx) { this.weekly = ctx.timeframe("1w"); this.seen = 0; this.last = (); }
        fn on_bar(ctx) {
            let week = ctx.tf_bar(this.weekly);
            if week == () { return; }
            // A weekly bar starting on Monday T covers T..T+7d; the daily bar now ends at time + 1d.
            if week.time + 7 * 86400 > ctx.time() + 86400 { throw `week of ${week.time} is still forming at ${ctx.time()}`; }
            if week.time != this.last { this.seen += 1; this.last = week.time; }
        }
        fn on_finish(ctx) { ctx.log(`weeks ${this.seen}`); }
        "#,
    );
    let out = crate::helpers::backtester(&["run", &script, "--data", "data/GOOG.csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let weeks: usize = stderr.lines().find_map(|l| l.split("weeks ").nth(1)).unwrap().trim().parse().unwrap();
    // 2004-08-19 (a Thursday) to 2013-03-01: every week but the last, still forming, completes.
    assert!((440..=447).contains(&weeks), "{weeks} weekly bars");

    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--resample", "1h"]);
    assert!(err.contains("GOOG: cannot resample to 1h: it is not coarser than the data's spacing of 1d"), "{err}");
    // --end on a Wednesday: the last weekly bar stops there and takes nothing after it.
    let last =
        write(dir.path(), "last.rhai", "fn on_bar(ctx) {} fn on_finish(ctx) { ctx.log(`last close ${ctx.close()}`); }");
    let out = crate::helpers::backtester(&[
        "run",
        &last,
        "--data",
        "data/GOOG.csv",
        "--resample",
        "1w",
        "--end",
        "2013-02-27",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("last close 799.78"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let weekly = ok(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--resample", "1w", "--json"]);
    let metrics: Value = serde_json::from_str(&weekly).unwrap();
    assert!((440..=447).contains(&metrics["bars"].as_u64().unwrap()));
}

#[test]
fn unknown_and_invalid_settings_are_refused() {
    let base = ["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv"];
    let with = |extra: &[&str]| fails(&base.iter().chain(extra).copied().collect::<Vec<_>>());
    assert!(with(&["--max-position", "2"]).contains("unexpected argument '--max-position'"));
    assert!(with(&["--leverage", "0.5"]).contains("--leverage must be between 1 and 100, got 0.5"));
    let err = with(&["--leverage", "2", "--maintenance-margin", "0.6"]);
    assert!(err.contains("--maintenance-margin must be between 0 and 1/leverage (0.5), got 0.6"), "{err}");
    assert!(with(&["--max-positions", "0"]).contains("--max-positions must be at least 1"));
    assert!(with(&["--resample", "5x"]).contains("invalid interval \"5x\""));

    let dir = tempfile::tempdir().unwrap();
    let script = write(
        dir.path(),
        "typo.rhai",
        r#"fn on_bar(ctx) { if ctx.bar_index() == 5 { ctx.buy_bracket(1, #{ stop_loss: 90.0, take_proft: 120.0 }); } }"#,
    );
    let err = fails(&["run", &script, "--data", "data/GOOG.csv"]);
    assert!(err.contains("a bracket does not take option 'take_proft'"), "{err}");
    let script = write(dir.path(), "sched.rhai", r#"fn on_bar(ctx) { ctx.schedule("yearly"); }"#);
    assert!(fails(&["run", &script, "--data", "data/GOOG.csv"]).contains("unknown schedule 'yearly'"));
}
