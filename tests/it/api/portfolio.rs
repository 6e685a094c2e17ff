//! A portfolio run through the API: the CLI's answer, with its benchmark,
//! returns tables and exit reasons stored; portfolio settings checked.

use serde_json::{json, Value};

use super::app::{backends, App};
use crate::helpers::ok;

#[test]
fn a_portfolio_run_through_the_api_matches_the_cli() {
    let cli: Value = serde_json::from_str(&ok(&[
        "run",
        "scripts/portfolio_rotation.rhai",
        "--start",
        "2005-01-01",
        // A Wednesday: the weekly benchmark bar must stop there too.
        "--end",
        "2012-06-13",
        "--data",
        "ORCL=data/orcl-1995-2014.csv",
        "--data",
        "YHOO=data/yhoo-1996-2014.csv",
        "--data",
        "NVDA=data/nvda-1999-2014.csv",
        "--benchmark",
        "GOOG=data/GOOG.csv",
        "--max-positions",
        "2",
        "--resample",
        "1w",
        "--json",
    ]))
    .unwrap();
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        for (symbol, file) in [
            ("ORCL", "data/orcl-1995-2014.csv"),
            ("YHOO", "data/yhoo-1996-2014.csv"),
            ("NVDA", "data/nvda-1999-2014.csv"),
            ("GOOG", "data/GOOG.csv"),
        ] {
            app.upload(symbol, file);
        }
        let strategy = app.rhai_strategy("rotation", "scripts/portfolio_rotation.rhai");
        let id = app.start_run(&json!({
            "strategy_id": strategy, "symbols": ["ORCL", "YHOO", "NVDA"], "initial_capital": 100000,
            "start": "2005-01-01", "end": "2012-06-13", "benchmark": "GOOG", "max_positions": 2, "resample": "1w"
        }));
        let run = app.wait_status(id, "completed");
        for key in ["final_equity", "return_pct", "sharpe", "trades", "contributions", "benchmark", "margin_calls"] {
            assert_eq!(run["metrics"][key], cli[key], "{backend:?}: {key}");
        }
        assert_eq!(run["config"]["leverage"], 1, "defaults are stored with the run");
        let returns = app.json(&format!("/api/runs/{id}/returns"));
        assert_eq!(returns, cli["returns"], "{backend:?}");
        let trades = app.json(&format!("/api/runs/{id}/trades"));
        assert!(trades.as_array().unwrap().iter().all(|t| t["exit_reason"].is_string()));
        let full = app.json(&format!("/api/runs/{id}/equity?full=true"));
        let points = full.as_array().unwrap();
        assert_eq!(points.len() as u64, cli["bars"].as_u64().unwrap());
        assert!(points.iter().all(|p| p["benchmark_equity"].is_number()));
    }
}

#[test]
fn portfolio_settings_are_checked_and_name_the_field() {
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        app.upload("GOOG", "data/GOOG.csv");
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let base = json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 1000 });
        let with = |key: &str, value: Value| {
            let mut body = base.clone();
            body[key] = value;
            let response = app.post_json("/api/runs", &body);
            let status = response.status().as_u16();
            (status, response.json::<Value>().unwrap())
        };
        let (status, body) = with("max_position", json!(2));
        assert_eq!(status, 422, "{body}");
        assert!(body["message"].as_str().unwrap().contains("unknown field `max_position`"), "{body}");
        for (key, value, field, text) in [
            ("leverage", json!(0.5), "leverage", "must be between 1 and 100"),
            ("max_positions", json!(0), "max_positions", "must be at least 1"),
            ("resample", json!("5x"), "resample", "invalid interval"),
            // GOOG is daily: an hour is not coarser than its bars.
            ("resample", json!("1h"), "resample", "not coarser"),
            ("benchmark", json!("SPY"), "benchmark", "no dataset for symbol 'SPY'"),
        ] {
            let (status, body) = with(key, value);
            assert_eq!(status, 422, "{key}: {body}");
            assert_eq!(body["field"], field, "{body}");
            assert!(body["message"].as_str().unwrap().contains(text), "{body}");
        }
        // A weekend: inside the data's span, but without a bar, resampled or not.
        for resample in [json!("1w"), Value::Null] {
            let mut body = base.clone();
            body["start"] = json!("2010-01-02");
            body["end"] = json!("2010-01-03");
            if !resample.is_null() {
                body["resample"] = resample;
            }
            let response = app.post_json("/api/runs", &body);
            assert_eq!(response.status().as_u16(), 422);
            let body: Value = response.json().unwrap();
            assert_eq!(body["field"], "start", "{body}");
            assert!(body["message"].as_str().unwrap().contains("has no bars from 2010-01-02"), "{body}");
        }
        // A benchmark without a bar up to the run's end (BTCUSD starts in 2012).
        app.upload("BTC", "data/BTCUSD.csv");
        let mut body = base.clone();
        body["end"] = json!("2006-01-01");
        body["benchmark"] = json!("BTC");
        let response = app.post_json("/api/runs", &body);
        let body: Value = response.json().unwrap();
        assert_eq!(body["field"], "benchmark", "{body}");
        assert!(body["message"].as_str().unwrap().contains("has no bar at or before the run's last step"), "{body}");
        // Daily beside monthly bars: refused until resampled to one interval.
        let (status, body) = with("symbols", json!(["GOOG", "BTC"]));
        assert_eq!((status, body["field"].as_str()), (422, Some("symbols")), "{body}");
        assert!(body["message"].as_str().unwrap().contains("GOOG has bars 1d apart and BTC 31d apart"), "{body}");
        // A commission model without fields takes none.
        let (status, body) = with("commission", json!({ "model": "none", "rate": 0.001 }));
        assert_eq!(status, 422, "{body}");
        assert!(body["message"].as_str().unwrap().contains("unknown field `rate`"), "{body}");
        let mut body = base.clone();
        body["leverage"] = json!(2);
        body["maintenance_margin"] = json!(0.6);
        let response = app.post_json("/api/runs", &body);
        assert_eq!(response.status().as_u16(), 422);
        let body: Value = response.json().unwrap();
        assert_eq!(body["field"], "maintenance_margin", "{body}");
        assert!(app.json("/api/runs").as_array().unwrap().is_empty(), "nothing was queued");
    }
}
