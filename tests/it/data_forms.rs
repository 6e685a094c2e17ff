//! Files in the forms users have: other date formats, separators, column
//! names, descending order, no volume; read once and kept parsed.

use std::path::Path;

use serde_json::Value;

use crate::helpers::{backtester, fails, ok, repo};

/// data/GOOG.csv rewritten as a European spreadsheet might export it:
/// semicolons, US dates, newest first, an `Adj Close` beside `Close` (the
/// middle of high and low, so that reading the wrong one shows), volume in a
/// `Vol.` column.
pub fn goog_as_exported() -> String {
    let text = std::fs::read_to_string(repo("data/GOOG.csv")).unwrap();
    let mut rows: Vec<String> = text
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let (y, m, d) = (&f[0][0..4], &f[0][5..7], &f[0][8..10]);
            let adjusted = (f[2].parse::<f64>().unwrap() + f[3].parse::<f64>().unwrap()) / 2.0;
            format!("{m}/{d}/{y};{};{};{};{};{adjusted};{}", f[1], f[2], f[3], f[4], f[5])
        })
        .collect();
    rows.reverse();
    format!("Datum;Open;High;Low;Close;Adj Close;Vol.\n{}\n", rows.join("\n"))
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("one JSON object")
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("data-forms");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn an_exported_file_read_with_its_options_runs_like_the_original() {
    let file = scratch("GOOG-exported.csv");
    std::fs::write(&file, goog_as_exported()).unwrap();
    let path = file.to_str().unwrap();
    let original = json(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--json"]);

    // Each missing option is refused with the way out.
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", &format!("GOOG={path}"), "--json"]);
    assert!(err.contains("missing required column(s) Date (or Datetime, Timestamp, Time)"), "{err}");
    assert!(err.contains("--column ROLE=NAME"), "{err}");
    let with_time = ["--column", "time=Datum"];
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", &format!("GOOG={path}"), with_time[0], with_time[1]]);
    assert!(err.contains("line 2, column Datum: cannot read timestamp \"03/01/2013\""), "{err}");
    assert!(err.contains("for another form give --date-format"), "{err}");
    let dated = ["--column", "time=Datum", "--date-format", "%m/%d/%Y"];
    let data = format!("GOOG={path}");
    let mut args = vec!["run", "scripts/sma_cross.rhai", "--data", &data];
    args.extend(dated);
    let err = fails(&args);
    assert!(err.contains("line 3, column Datum: timestamp 2013-02-28 is out of order"), "{err}");
    assert!(err.contains("--sort"), "{err}");

    args.extend(["--sort", "--column", "volume=vol.", "--json"]);
    let exported = json(&args);
    for key in ["final_equity", "return_pct", "sharpe", "trades", "max_drawdown_pct", "exposure_pct"] {
        assert_eq!(exported[key], original[key], "{key}");
    }
    let data = &exported["config"]["data"][0];
    assert_eq!(data["options"]["date_format"], "%m/%d/%Y", "the manifest states the options: {data}");
    assert_eq!(data["options"]["columns"]["volume"], "vol.");
    assert_eq!(data["options"]["sort"], true);
    assert_ne!(exported["fingerprint"], original["fingerprint"]);

    // The adjusted close read instead of Close: other prices, other results.
    args.pop();
    args.extend(["--column", "close=Adj Close", "--json"]);
    let adjusted = json(&args);
    assert_ne!(adjusted["final_equity"], original["final_equity"]);
    let err = fails(&[&args[..args.len() - 1], &["--column", "close=Close"]].concat());
    assert!(err.contains("--column close is given twice"), "{err}");
}

#[test]
fn a_file_without_volume_runs_and_a_volume_indicator_is_refused() {
    let text = std::fs::read_to_string(repo("data/GOOG.csv")).unwrap();
    let without: String = text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_owned() + "\n").collect();
    let file = scratch("GOOG-novolume.csv");
    std::fs::write(&file, without).unwrap();
    let data = format!("GOOG={}", file.display());
    let with = json(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--json"]);
    let without = json(&["run", "scripts/sma_cross.rhai", "--data", &data, "--json"]);
    assert_eq!(without["final_equity"], with["final_equity"]);

    let script = scratch("volume.rhai");
    std::fs::write(
        &script,
        "fn init(ctx) { ctx.indicator(\"v\", \"sma\", #{ period: 5, source: \"volume\" }); }\nfn on_bar(ctx) {}\n",
    )
    .unwrap();
    let err = fails(&["run", script.to_str().unwrap(), "--data", &data]);
    assert!(err.contains("reads volume, but the data of GOOG has no Volume column"), "{err}");
    std::fs::write(&script, "fn on_bar(ctx) { if ctx.volume() != () { throw \"a volume\"; } }\n").unwrap();
    ok(&["run", script.to_str().unwrap(), "--data", &data]);
}

#[test]
fn a_second_run_reads_the_parsed_bars_from_the_cache() {
    let file = scratch("GOOG-cached.csv");
    std::fs::copy(repo("data/GOOG.csv"), &file).unwrap();
    let cache = scratch("own-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let run = |extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_backtester"));
        cmd.args(["run", "scripts/sma_cross.rhai", "--data", file.to_str().unwrap(), "--json"])
            .args(extra)
            .current_dir(crate::helpers::root())
            .env("BACKTESTER_CACHE_DIR", &cache);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = run(&[]);
    let kept: Vec<String> =
        std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(kept.iter().any(|n| n.starts_with("bars-")), "the parsed bars are kept: {kept:?}");
    // The cached bars give the same run; so does parsing again.
    let second = run(&[]);
    assert_eq!(second, first);
    assert_eq!(run(&["--no-cache"]), first);
    // A damaged cache entry is passed over, not trusted.
    for name in &kept {
        if name.starts_with("bars-") {
            std::fs::write(cache.join(name), b"BTBARS\n\x01\x05\x00").unwrap();
        }
    }
    assert_eq!(run(&[]), first);
    // The same bytes under another name share the entry; a change is read again.
    std::fs::write(&file, std::fs::read_to_string(repo("data/GOOG.csv")).unwrap().replace("100.34", "100.35")).unwrap();
    let changed = run(&[]);
    assert_ne!(changed["config"]["data"][0]["content_hash"], first["config"]["data"][0]["content_hash"]);
}

#[test]
fn bad_loading_options_are_refused_naming_the_flag() {
    for (args, needle) in [
        (vec!["--date-format", "%H:%M"], "--date-format \"%H:%M\": the format has no year"),
        (vec!["--delimiter", ";;"], "--delimiter"),
        (vec!["--column", "price=Close"], "the role is not one of time, open, high, low, close, volume"),
        (vec!["--column", "close=Adj Closee"], "--column close=\"Adj Closee\" names a column the header does not have"),
    ] {
        let mut all = vec!["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv"];
        all.extend(args);
        let out = backtester(&all);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{all:?}: {err}");
    }
}
