//! Dataset uploads (CSV or Parquet): read with the same options as the CLI, validated as they
//! stream in, within their own size limit, kept parsed.

use serde_json::{json, Value};

use super::app::{backends, App, Backend};
use crate::data_forms::goog_as_exported;
use crate::helpers::ok;
use crate::parquet_files::goog_as_pandas;

const EXPORTED_QUERY: &str =
    "symbol=GOOG&time_column=Datum&date_format=%25m%2F%25d%2F%25Y&sort=true&volume_column=Vol.";

#[test]
fn an_upload_read_with_options_runs_like_the_cli_on_the_same_file() {
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("GOOG-exported-api.csv");
    std::fs::write(&file, goog_as_exported()).unwrap();
    let cli: Value = serde_json::from_str(&ok(&[
        "run",
        "scripts/sma_cross.rhai",
        "--data",
        &format!("GOOG={}", file.display()),
        "--column",
        "time=Datum",
        "--date-format",
        "%m/%d/%Y",
        "--sort",
        "--column",
        "volume=Vol.",
        "--json",
    ]))
    .unwrap();
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        let r = app.post_raw(&format!("/api/datasets?{EXPORTED_QUERY}"), "text/csv", goog_as_exported().into_bytes());
        assert_eq!(r.status(), 201, "{backend:?}");
        let dataset: Value = r.json().unwrap();
        assert_eq!(dataset["rows"], 2148);
        assert_eq!(dataset["first"], "2004-08-19");
        assert_eq!(dataset["interval_ms"], 86_400_000);
        assert_eq!(dataset["options"]["date_format"], "%m/%d/%Y");
        assert_eq!(dataset["options"]["columns"]["time"], "Datum");
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let id = app.start_run(&json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000 }));
        let run = app.wait_status(id, "completed");
        for key in ["final_equity", "return_pct", "sharpe", "trades", "max_drawdown_pct"] {
            assert_eq!(run["metrics"][key], cli[key], "{backend:?}: {key}");
        }
        // The same bytes read the same way: the same inputs, the same fingerprint.
        assert_eq!(run["fingerprint"], cli["fingerprint"], "{backend:?}");
        assert_eq!(run["manifest"]["data"][0]["options"], cli["config"]["data"][0]["options"]);
        assert_eq!(run["manifest"]["data"][0]["content_hash"], cli["config"]["data"][0]["content_hash"]);

        // After a restart the bars are read back from the database, not parsed.
        let app = app.restart(&[]);
        let id = app.start_run(&json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000 }));
        let again = app.wait_status(id, "completed");
        assert_eq!(again["metrics"], run["metrics"], "{backend:?}");
    }
}

#[test]
fn the_same_bytes_read_with_other_options_are_other_bars() {
    let app = App::spawn(&Backend::Sqlite, &[]);
    let text = goog_as_exported().into_bytes();
    for query in [EXPORTED_QUERY.to_owned(), EXPORTED_QUERY.replace("GOOG", "ADJ") + "&close_column=Adj%20Close"] {
        let r = app.post_raw(&format!("/api/datasets?{query}"), "text/csv", text.clone());
        assert_eq!(r.status(), 201, "{query}");
    }
    let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let run = |symbol: &str| {
        let id = app.start_run(&json!({ "strategy_id": strategy, "symbols": [symbol], "initial_capital": 100000 }));
        app.wait_status(id, "completed")
    };
    // The first run keeps GOOG's bars in memory; ADJ's, from the same bytes, are not those.
    let (plain, adjusted) = (run("GOOG"), run("ADJ"));
    assert_ne!(plain["metrics"]["final_equity"], adjusted["metrics"]["final_equity"]);
    assert_eq!(adjusted["manifest"]["data"][0]["options"]["columns"]["close"], "Adj Close");
}

#[test]
fn upload_errors_name_the_field_and_store_nothing() {
    let app = App::spawn(&Backend::Sqlite, &["--upload-limit-mib", "2", "--body-limit-mib", "1"]);
    let text = goog_as_exported().into_bytes();
    let cases: [(&str, u16, &str); 6] = [
        ("symbol=G&date_format=%25H", 422, "date_format: --date-format \"%H\": the format has no year"),
        ("symbol=G&delimiter=%3B%3B", 422, "delimiter: give one character"),
        ("symbol=G&close_column=%20", 422, "close_column: the column name is empty"),
        ("symbol=G&colour=red", 400, "colour"),
        ("symbol=G&time_column=Datum", 422, "line 2, column Datum: cannot read timestamp \"03/01/2013\""),
        ("symbol=G&time_column=Datum&date_format=%25m%2F%25d%2F%25Y", 422, "--sort (sort=true on upload)"),
    ];
    for (query, status, needle) in cases {
        let r = app.post_raw(&format!("/api/datasets?{query}"), "text/csv", text.clone());
        assert_eq!(r.status(), status, "{query}");
        let body: Value = r.json().unwrap();
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{query}: {body}");
    }
    // Over the upload limit without a declared length (chunked): cut at the
    // limit, answered 413 or the connection closed, and nothing stored.
    let mut big = String::from("Date,Open,High,Low,Close\n");
    let mut minutes = chrono_free_days();
    while big.len() <= 2 << 20 {
        big.push_str(&format!("{},1,2,0.5,1.5\n", minutes.next().unwrap()));
    }
    let big = big.into_bytes();
    let once = reqwest::blocking::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let chunked = reqwest::blocking::Body::new(std::io::Cursor::new(big));
    match once
        .post(format!("{}/api/datasets?symbol=BIG", app.url))
        .header("content-type", "text/csv")
        .body(chunked)
        .send()
    {
        Ok(r) => {
            let status = r.status();
            let body = r.text().unwrap_or_default();
            assert_eq!(status, 413, "{body}");
            assert!(body.contains("larger than the server's limit of 2097152 bytes"), "{body}");
        }
        Err(e) => assert!(e.is_request() || e.is_body(), "the upload was cut, not answered otherwise: {e}"),
    }
    assert_eq!(app.json("/api/datasets").as_array().unwrap().len(), 0, "nothing was stored");
    // The JSON routes' 1 MiB limit does not apply to uploads: a 1.5 MiB file goes in.
    let mut bigger = String::from("Date,Open,High,Low,Close\n");
    let mut day = chrono_free_days();
    while bigger.len() < 1_500_000 {
        bigger.push_str(&format!("{},1,2,0.5,1.5\n", day.next().unwrap()));
    }
    let r = app.post_raw("/api/datasets?symbol=NOVOL", "text/csv", bigger.into_bytes());
    assert_eq!(r.status(), 201, "{:?}", r.text());
}

/// Consecutive epoch-second timestamps a minute apart.
fn chrono_free_days() -> impl Iterator<Item = i64> {
    (0..).map(|i| 1_600_000_000 + i * 60)
}

#[test]
fn a_parquet_upload_runs_like_the_cli_on_the_same_file() {
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("GOOG-api.parquet");
    goog_as_pandas(&file, |_| {});
    let cli: Value = serde_json::from_str(&ok(&[
        "run",
        "scripts/sma_cross.rhai",
        "--data",
        &format!("GOOG={}", file.display()),
        "--json",
    ]))
    .unwrap();
    let bytes = std::fs::read(&file).unwrap();
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        // A delimiter means nothing to Parquet: refused, nothing stored.
        let r = app.post_raw("/api/datasets?symbol=GOOG&delimiter=%3B", "application/octet-stream", bytes.clone());
        assert_eq!(r.status(), 422, "{backend:?}");
        let body: Value = r.json().unwrap();
        assert!(body["message"].as_str().unwrap_or_default().contains("a Parquet file has no delimiter"), "{body}");

        let r = app.post_raw("/api/datasets?symbol=GOOG", "application/octet-stream", bytes.clone());
        assert_eq!(r.status(), 201, "{backend:?}");
        let dataset: Value = r.json().unwrap();
        assert_eq!((dataset["rows"].clone(), dataset["first"].clone()), (json!(2148), json!("2004-08-19")));
        assert_eq!(dataset["content_hash"], cli["config"]["data"][0]["content_hash"], "{backend:?}");
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let id = app.start_run(&json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 100000 }));
        let run = app.wait_status(id, "completed");
        for key in ["final_equity", "return_pct", "sharpe", "trades", "max_drawdown_pct"] {
            assert_eq!(run["metrics"][key], cli[key], "{backend:?}: {key}");
        }
        assert_eq!(run["fingerprint"], cli["fingerprint"], "{backend:?}");
    }
}
