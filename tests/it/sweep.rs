//! `backtester sweep`: each variant's metrics are those of the same run
//! started alone, the output does not depend on how many threads ran it,
//! and bad sweeps are refused before anything runs.

use crate::helpers::{fails, ok};
use crate::plugins::plugin;

/// Runs a sweep with `extra` flags and returns its JSON summary.
fn sweep_json(strategy: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["sweep", strategy, "--data", "data/GOOG.csv", "--json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&args)).expect("sweep --json prints JSON")
}

/// Checks every leaderboard entry against `run --json` with its values.
fn assert_variants_match_runs_alone(strategy: &str, summary: &serde_json::Value) {
    let board = summary["leaderboard"].as_array().expect("a leaderboard");
    assert!(!board.is_empty(), "not vacuous: variants were ranked");
    for entry in board {
        let mut args = vec!["run".to_string(), strategy.to_string(), "--data".into(), "data/GOOG.csv".into()];
        for (name, value) in entry["values"].as_object().expect("values") {
            match name.as_str() {
                "commission" => args.extend(["--commission".into(), value.to_string()]),
                _ => args.extend(["--param".into(), format!("{name}={value}")]),
            }
        }
        args.push("--json".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let alone: serde_json::Value = serde_json::from_str(&ok(&args)).expect("run --json");
        for (metric, value) in entry["metrics"].as_object().expect("metrics") {
            let expected = &alone[metric.as_str()];
            let (Some(got), Some(want)) = (value.as_f64(), number(expected)) else {
                assert!(value.is_null() && expected.is_null(), "{metric}: {value} against {expected}");
                continue;
            };
            // f64 metrics are the same number; decimal ones (net_pnl, ...)
            // are the decimal's nearest f64 either way.
            assert!((got - want).abs() <= want.abs() * 1e-15, "{args:?} {metric}: sweep {got}, run alone {want}");
        }
    }
}

/// A JSON number, or a decimal printed as a string.
fn number(value: &serde_json::Value) -> Option<f64> {
    value.as_f64().or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

#[test]
fn rhai_variants_equal_the_runs_started_alone_whatever_the_thread_count() {
    let flags = [
        "--grid",
        "fast=5:15:5",
        "--grid",
        "slow=20,30",
        "--grid",
        "commission=0,0.001",
        "--constraint",
        "fast * 2 <= slow",
        "--top",
        "20",
    ];
    let two = sweep_json("scripts/sma_cross.rhai", &[&flags[..], &["--jobs", "2"]].concat());
    // fast 5, 10, 15 x slow 20, 30 x 2 commissions = 12; fast * 2 <= slow leaves
    // (5,20) (10,20) (5,30) (10,30) (15,30): 5 pairs x 2 = 10 ran, 2 excluded.
    assert_eq!(
        (two["variants"].as_u64(), two["ran"].as_u64(), two["excluded"].as_u64()),
        (Some(12), Some(10), Some(2))
    );
    assert_eq!(two["leaderboard"].as_array().map(Vec::len), Some(10));
    // Every variant that ran is a trial of the Deflated Sharpe Ratio, which is a probability.
    let deflated = &two["deflated_sharpe"];
    assert_eq!(deflated["trials"].as_u64(), Some(10));
    assert!(deflated["deflated_sharpe"].as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)), "{deflated}");
    let one = sweep_json("scripts/sma_cross.rhai", &[&flags[..], &["--jobs", "1"]].concat());
    assert_eq!(one, two, "the same sweep on one thread and on two");
    assert_variants_match_runs_alone("scripts/sma_cross.rhai", &two);
}

#[test]
fn wasm_variants_equal_the_runs_started_alone() {
    let Some(wasm) = plugin("sma_cross") else { return };
    let summary = sweep_json(&wasm, &["--grid", "fast=5,10", "--grid", "slow=20:40:20", "--objective", "return_pct"]);
    assert_eq!(summary["ran"].as_u64(), Some(4));
    assert_variants_match_runs_alone(&wasm, &summary);
}

#[test]
fn a_batch_of_explicit_variants_runs_as_listed() {
    let summary = sweep_json(
        "scripts/sma_cross.rhai",
        &["--variant", "fast=10,slow=30,commission=0.001", "--variant", "fast=5,slow=20,commission=0", "--top", "5"],
    );
    assert_eq!((summary["variants"].as_u64(), summary["ran"].as_u64()), (Some(2), Some(2)));
    assert_variants_match_runs_alone("scripts/sma_cross.rhai", &summary);
    let err = fails(&[
        "sweep",
        "scripts/sma_cross.rhai",
        "--data",
        "data/GOOG.csv",
        "--variant",
        "fast=10,slow=30",
        "--variant",
        "fast=5",
    ]);
    assert!(err.contains("--variant 'fast=5' names fast, but the first --variant names fast, slow"), "{err}");
    let err = fails(&[
        "sweep",
        "scripts/sma_cross.rhai",
        "--data",
        "data/GOOG.csv",
        "--variant",
        "fast=1",
        "--grid",
        "slow=2",
    ]);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn random_draws_are_reproducible_and_the_csv_has_every_variant() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("all.csv");
    let csv = csv.to_str().unwrap();
    let flags = ["--grid", "fast=2:20:1", "--grid", "slow=20:60:5", "--random", "6", "--seed", "3", "--csv", csv];
    let first = sweep_json("scripts/sma_cross.rhai", &flags);
    let text = std::fs::read_to_string(csv).unwrap();
    let again = sweep_json("scripts/sma_cross.rhai", &flags);
    assert_eq!(first, again, "the same seed draws the same variants");
    assert_eq!(first["variants"].as_u64(), Some(6));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "a header and one row per variant:\n{text}");
    assert!(lines[0].starts_with("variant,fast,slow,status,error,return_pct,"), "{}", lines[0]);
    assert!(lines[1..].iter().all(|l| l.contains(",ran,")), "{text}");
}

#[test]
fn a_failing_variant_is_recorded_and_the_sweep_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let script = crate::helpers::write(
        dir.path(),
        "picky.rhai",
        "fn params() { #{ n: 1 } }\nfn on_bar(ctx) { if ctx.param(\"n\") == 2 { throw \"n may not be 2\"; } }\n",
    );
    let csv = dir.path().join("picky.csv");
    let summary =
        sweep_json(&script, &["--grid", "n=1:3:1", "--objective", "return_pct", "--csv", csv.to_str().unwrap()]);
    assert_eq!((summary["ran"].as_u64(), summary["failed"].as_u64()), (Some(2), Some(1)));
    let text = std::fs::read_to_string(csv).unwrap();
    assert!(
        text.lines().nth(2).is_some_and(|l| l.starts_with("1,2,failed,") && l.contains("n may not be 2")),
        "{text}"
    );
}

#[test]
fn bad_sweeps_are_refused_before_anything_runs() {
    let rhai = "scripts/sma_cross.rhai";
    for (extra, expected) in [
        (&["--grid", "fats=1,2"][..], "axis 'fats' is not a parameter of the strategy (fast, slow) nor a setting"),
        (&["--grid", "fast=1,2", "--param", "fast=3"][..], "axis 'fast' is also fixed with --param"),
        (&["--grid", "fast=1:10"][..], "--grid 'fast=1:10': a range is FROM:TO:STEP"),
        (&["--grid", "fast=1,2", "--grid", "fast=3"][..], "axis 'fast' is given twice"),
        (&["--grid", "fast=1,2", "--constraint", "fast <"][..], "--constraint 'fast <'"),
        (&["--grid", "fast=1,2", "--constraint", "slow2 > 1"][..], "Variable not found: slow2"),
        (&["--grid", "fast=1,2", "--objective", "sharp"][..], "unknown objective 'sharp'; one of: return_pct"),
        (&["--grid", "fast=1:1000:1", "--grid", "slow=1:1001:1"][..], "more than 1000000 variants"),
        (&["--grid", "fast=1,2", "--random", "0"][..], "--random must be at least 1"),
        (&["--grid", "commission=0,-0.1"][..], "axis 'commission' value -0.1"),
        (&["--grid", "fast=1,2", "--jobs", "0"][..], "--jobs must be at least 1"),
        (&["--grid", "fast=1,2", "--top", "0"][..], "--top must be at least 1"),
        (&["--grid", "fast=5,7.5"][..], "axis 'fast' value 7.5: parameter 'fast'"),
    ] {
        let mut args = vec!["sweep", rhai, "--data", "data/GOOG.csv"];
        args.extend_from_slice(extra);
        let err = fails(&args);
        assert!(err.contains(expected), "{extra:?}: {err}");
    }
}

#[test]
fn ctrl_c_stops_a_sweep_and_keeps_the_variants_that_finished() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("stopped.csv");
    // 39 x 191 = 7,449 variants: minutes of work, stopped after the first rows are written.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backtester"))
        .args(["sweep", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--grid", "fast=2:40:1"])
        .args(["--grid", "slow=10:200:1", "--jobs", "2", "--csv", csv.to_str().unwrap()])
        .current_dir(crate::helpers::root())
        .env("BACKTESTER_CACHE_DIR", crate::helpers::bars_cache())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = std::time::Instant::now();
    let rows = || std::fs::read_to_string(&csv).map_or(0, |t| t.lines().count().saturating_sub(1));
    while rows() < 3 && started.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(rows() >= 3, "rows were written as variants finished");
    crate::helpers::stop_gracefully(&mut child, "INT", std::time::Duration::from_secs(30));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a stopped sweep is not a success");
    assert!(stderr.contains("cancelled after") && stderr.contains("of 7449 variants"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("rank"), "the partial leaderboard is printed:\n{stdout}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let numbers: Vec<u64> = text.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert!(numbers.len() < 7449, "stopped early: {} rows", numbers.len());
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "rows in variant order");
    assert!(text.lines().skip(1).all(|l| l.contains(",ran,")), "no half-run variant is recorded");
}

/// The dates of data/GOOG.csv, one per bar: the walk-forward's timeline.
fn goog_dates() -> Vec<String> {
    let text = std::fs::read_to_string(crate::helpers::root().join("data/GOOG.csv")).expect("data/GOOG.csv");
    text.lines().skip(1).map(|l| l.split(',').next().unwrap_or_default().to_string()).collect()
}

/// (entry time, entry price, exit time) of the trades `run` makes over
/// `from..=to` with `values`, entered after `after`.
fn trades_of_run(
    values: &serde_json::Map<String, serde_json::Value>,
    from: &str,
    to: &str,
    after: &str,
) -> Vec<(String, f64, String)> {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("trades.csv").display().to_string();
    let mut args = vec!["run".to_string(), "scripts/sma_cross.rhai".into(), "--data".into(), "data/GOOG.csv".into()];
    for (name, value) in values {
        args.extend(["--param".into(), format!("{name}={value}")]);
    }
    args.extend(["--start".into(), from.into(), "--end".into(), to.into(), "--trades-csv".into(), csv.clone()]);
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let text = std::fs::read_to_string(&csv).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[3] > after)
        .map(|c| (c[3].to_string(), c[4].parse().unwrap(), c[5].to_string()))
        .collect()
}

#[test]
fn walk_forward_windows_follow_each_other_and_each_chooses_the_best_of_its_training_part() {
    let grid = ["--grid", "fast=5,10", "--grid", "slow=20,40"];
    let wf = sweep_json("scripts/sma_cross.rhai", &[&grid[..], &["--walk-forward", "train=500,test=400"]].concat());
    let dates = goog_dates();
    assert_eq!(dates.len(), 2148);
    let windows = wf["windows"].as_array().expect("windows");
    // Tests from bars 500, 900, 1300, 1700 and 2100, the last 48 bars long.
    assert_eq!(windows.len(), 5);
    let mut chosen = Vec::new();
    let mut oos_trades = 0;
    for (k, w) in windows.iter().enumerate() {
        let start = 500 + 400 * k;
        let end = (start + 400).min(2148);
        assert_eq!(w["window"].as_u64(), Some(k as u64 + 1));
        assert_eq!(
            (w["train_from"].as_str(), w["train_to"].as_str()),
            (Some(&*dates[start - 500]), Some(&*dates[start - 1]))
        );
        assert_eq!((w["test_from"].as_str(), w["test_to"].as_str()), (Some(&*dates[start]), Some(&*dates[end - 1])));
        assert_eq!((w["train_bars"].as_u64(), w["test_bars"].as_u64()), (Some(500), Some((end - start) as u64)));
        // The best of the same sweep with --start and --end at the training part's ends.
        let train =
            ["--start", w["train_from"].as_str().unwrap(), "--end", w["train_to"].as_str().unwrap(), "--top", "1"];
        let alone = sweep_json("scripts/sma_cross.rhai", &[&grid[..], &train[..]].concat());
        let best = &alone["leaderboard"][0];
        assert_eq!(w["values"], best["values"], "window {}", k + 1);
        assert_eq!(w["in_sample"].as_f64(), best["metrics"]["sharpe"].as_f64(), "window {}", k + 1);
        let oos = &w["out_of_sample_metrics"];
        assert_eq!((oos["start"].as_str(), oos["bars"].as_u64()), (Some(&*dates[start]), w["test_bars"].as_u64()));
        assert_eq!(w["out_of_sample"].as_f64(), oos["sharpe"].as_f64());
        // The test run, warmed up on the training part, makes the trades a
        // run over both parts makes once the test part has begun.
        let values = w["values"].as_object().unwrap();
        let expected = trades_of_run(values, &dates[start - 500], &dates[end - 1], &dates[start]);
        let made: Vec<(String, f64, String)> = wf["stitched"]["trades"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| {
                t["entry_ts"].as_str() >= Some(&*dates[start]) && t["entry_ts"].as_str() <= Some(&*dates[end - 1])
            })
            .map(|t| {
                (
                    t["entry_ts"].as_str().unwrap().to_string(),
                    t["entry_price"].as_f64().unwrap(),
                    t["exit_ts"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(made, expected, "window {}", k + 1);
        oos_trades += made.len();
        chosen.push(w["values"].clone());
    }
    assert!(oos_trades > 10, "not vacuous: {oos_trades} trades out of sample");
    assert!(chosen.iter().any(|c| c != &chosen[0]), "not vacuous: the windows choose differently: {chosen:?}");
    // The stitched curve covers the test parts, from the initial cash.
    let stitched = &wf["stitched"];
    let equity = stitched["equity"].as_array().unwrap();
    assert_eq!(equity.len(), 2148 - 500);
    assert_eq!((equity[0]["time"].as_str(), equity[0]["equity"].as_f64()), (Some(&*dates[500]), Some(100_000.0)));
    assert_eq!(stitched["metrics"]["trades"].as_u64(), Some(oos_trades as u64));
    assert!(wf["efficiency"].as_f64().is_some(), "{}", wf["efficiency"]);
}

#[test]
fn walk_forward_with_a_plugin_gives_what_the_script_gives() {
    let Some(wasm) = plugin("sma_cross") else { return };
    let flags = ["--grid", "fast=5,10", "--grid", "slow=20,40", "--walk-forward", "train=1y,test=6m"];
    let from_wasm = sweep_json(&wasm, &flags);
    let from_rhai = sweep_json("scripts/sma_cross.rhai", &flags);
    assert!(from_rhai["windows"].as_array().is_some_and(|w| w.len() > 10), "not vacuous");
    assert_eq!(from_wasm, from_rhai);
}

#[test]
fn bad_walk_forwards_are_refused_naming_the_field() {
    for (extra, expected) in [
        (&["--walk-forward", "train=500"][..], "--walk-forward test: is missing"),
        (&["--walk-forward", "train=500,test=0"][..], "--walk-forward test: must be at least 1"),
        (&["--walk-forward", "train=2y,test=100"][..], "--walk-forward test: is 100 bars but train is 24 months"),
        (&["--walk-forward", "train=2148,test=100"][..], "--walk-forward train: 2148 bars leaves nothing to test"),
        (&["--walk-forward", "train=500,test=100", "--csv", "x.csv"][..], "cannot be used with"),
    ] {
        let mut args = vec!["sweep", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--grid", "fast=5,10"];
        args.extend_from_slice(extra);
        let err = fails(&args);
        assert!(err.contains(expected), "{extra:?}: {err}");
    }
}

#[test]
fn an_anchored_calendar_walk_forward_trains_from_the_first_bar_and_tests_year_after_year() {
    let wf = sweep_json(
        "scripts/sma_cross.rhai",
        &["--grid", "fast=5,10", "--walk-forward", "train=2y,test=1y,anchored", "--objective", "return_pct"],
    );
    let dates = goog_dates();
    let windows = wf["windows"].as_array().expect("windows");
    // 2004-08-19 + 2 years: tests from 2006-08-19 (a Saturday: the 21st), then each 19 August, to 2013-03-01.
    let firsts: Vec<&str> = windows.iter().map(|w| w["test_from"].as_str().unwrap()).collect();
    assert_eq!(
        firsts,
        ["2006-08-21", "2007-08-20", "2008-08-19", "2009-08-19", "2010-08-19", "2011-08-19", "2012-08-20"]
    );
    for (k, w) in windows.iter().enumerate() {
        let test_from = dates.iter().position(|d| d == w["test_from"].as_str().unwrap()).unwrap();
        assert_eq!((w["train_from"].as_str(), w["train_bars"].as_u64()), (Some(&*dates[0]), Some(test_from as u64)));
        assert_eq!(w["train_to"].as_str(), Some(&*dates[test_from - 1]));
        let next = windows
            .get(k + 1)
            .map_or(dates.len(), |n| dates.iter().position(|d| d == n["test_from"].as_str().unwrap()).unwrap());
        assert_eq!(w["test_to"].as_str(), Some(&*dates[next - 1]), "window {}: consecutive test parts", k + 1);
    }
}

/// The JSON data a report page carries.
fn report_data(html: &str) -> serde_json::Value {
    let tag = r#"<script id="report-data" type="application/json">"#;
    let start = html.find(tag).expect("the data element") + tag.len();
    let end = start + html[start..].find("</script>").expect("its end");
    serde_json::from_str(&html[start..end].replace("<\\/", "</")).expect("the data is JSON")
}

#[test]
fn a_sweeps_report_links_the_run_reports_of_its_best_variants() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("sma.html");
    let summary = sweep_json(
        "scripts/sma_cross.rhai",
        &["--grid", "fast=5,10", "--grid", "slow=20,30", "--top", "2", "--report", report.to_str().unwrap()],
    );
    let data = report_data(&std::fs::read_to_string(&report).unwrap());
    assert_eq!((data["final"].as_bool(), data["counts"]["ran"].as_u64()), (Some(true), Some(4)));
    assert_eq!(data["deflated_sharpe"], summary["deflated_sharpe"]);
    for (entry, best) in data["leaderboard"].as_array().unwrap().iter().zip(summary["leaderboard"].as_array().unwrap())
    {
        assert_eq!(entry["number"], best["variant"]);
        let link = entry["report"].as_str().unwrap();
        assert_eq!(link, format!("sma-variant-{}.html", best["variant"]));
        // The variant's own report: its trades, as many as its metrics say.
        let run = report_data(&std::fs::read_to_string(dir.path().join(link)).unwrap());
        assert_eq!(run["trade_count"].as_f64(), best["metrics"]["trades"].as_f64());
        assert_eq!(run["header"]["params"], best["values"]);
    }
    let err = fails(&[
        "run",
        "scripts/sma_cross.rhai",
        "--data",
        "data/GOOG.csv",
        "--report",
        "/nonexistent/dir/report.html",
    ]);
    assert!(err.contains("/nonexistent/dir/report.html"), "{err}");
}
