//! Bad input gets a 4xx naming the problem, and changes nothing.

use serde_json::{json, Value};

use super::app::{backends, App};

fn counts(app: &App) -> (usize, usize, usize) {
    let len = |path: &str| app.json(path).as_array().unwrap().len();
    (len("/api/strategies"), len("/api/datasets"), len("/api/runs"))
}

#[test]
fn bad_requests_are_refused_and_change_nothing() {
    for backend in backends() {
        let app = App::spawn(&backend, &["--body-limit-mib", "1", "--upload-limit-mib", "1"]);
        app.upload("GOOG", "data/GOOG.csv");
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let before = counts(&app);

        let r = app.post_json(
            "/api/strategies",
            &json!({ "name": "broken", "runtime": "rhai", "source": "fn on_bar(ctx) {\n  let x = ;\n}" }),
        );
        assert_eq!(r.status(), 422);
        let body: Value = r.json().unwrap();
        assert_eq!((body["error"].as_str(), body["line"].as_i64()), (Some("compile"), Some(2)), "{body}");
        assert!(body["column"].as_i64().is_some());
        let typo = "fn on_bar(ctx) {\n  if ctx.bar_index() < 0 { ctx.smaa(\"f\", 3); }\n}";
        let r = app.post_json("/api/strategies", &json!({ "name": "typo", "runtime": "rhai", "source": typo }));
        assert_eq!(r.status(), 422, "a misspelled ctx function");
        let body: Value = r.json().unwrap();
        assert_eq!(
            (body["error"].as_str(), body["line"].as_i64(), body["column"].as_i64()),
            (Some("compile"), Some(2), Some(32))
        );
        assert_eq!(body["message"], "unknown ctx function `smaa`; did you mean `sma`?", "{body}");

        let r = app
            .post_json("/api/strategies", &json!({ "name": "sma", "runtime": "rhai", "source": "fn on_bar(ctx) {}" }));
        assert_eq!(r.status(), 409, "duplicate name");
        let r = app.post_json("/api/strategies", &json!({ "name": "x", "runtime": "lua", "source": "" }));
        assert_eq!(r.status(), 422);
        let r = app.post_json(
            "/api/strategies",
            &json!({ "name": "x", "runtime": "rhai", "source": "fn on_bar(ctx) {}", "color": 1 }),
        );
        assert_eq!(r.status(), 422);
        assert!(r.text().unwrap().contains("color"));

        let r = app.post_raw(
            "/api/datasets?symbol=BAD",
            "text/csv",
            b"Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,x,1,5\n".to_vec(),
        );
        assert_eq!(r.status(), 422);
        let text = r.text().unwrap();
        assert!(text.contains("line 2, column Low"), "{text}");
        let r = app.post_raw(
            "/api/datasets?symbol=GOOG",
            "text/csv",
            std::fs::read(super::app::repo_path("data/GOOG.csv")).unwrap(),
        );
        assert_eq!(r.status(), 409, "duplicate symbol");
        let r = app.post_raw("/api/datasets", "text/csv", b"x".to_vec());
        assert_eq!(r.status(), 400, "symbol missing");
        // The server answers 413 before reading the whole body and closes the
        // connection, so this request gets a client of its own.
        let once = reqwest::blocking::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        // It answers from the declared length without reading the body, so the
        // client may see the 413 or, still writing, a closed connection
        // (`bounds.rs` reads the 413 off the wire).
        match once.post(format!("{}/api/datasets?symbol=BIG", app.url)).body(vec![b'1'; 2 << 20]).send() {
            Ok(r) => assert_eq!(r.status(), 413, "over the upload limit"),
            Err(e) => assert!(e.is_request(), "the upload was cut, not answered otherwise: {e}"),
        }

        let run = |body: Value| app.post_json("/api/runs", &body);
        let base = json!({ "strategy_id": strategy, "symbols": ["GOOG"], "initial_capital": 1000 });
        let with = |key: &str, value: Value| {
            let mut b = base.clone();
            b[key] = value;
            b
        };
        let r = run(with("margin", json!(2)));
        assert_eq!(r.status(), 422);
        assert!(r.text().unwrap().contains("unknown field `margin`"));
        let r = run(with("initial_capital", json!("lots")));
        assert_eq!(r.status(), 422, "wrong type");
        let r = run(with("initial_capital", json!(0)));
        assert_eq!(r.json::<Value>().unwrap()["field"], "initial_capital");
        let r = run(with("symbols", json!(["NOPE"])));
        assert_eq!(r.json::<Value>().unwrap()["field"], "symbols");
        let r = run(with("strategy_id", json!(999)));
        assert_eq!(r.json::<Value>().unwrap()["field"], "strategy_id");
        let r = run(with("params", json!({ "fats": 3 })));
        let body: Value = r.json().unwrap();
        assert_eq!(body["field"], "params");
        assert!(body["message"].as_str().unwrap().contains("unknown parameter 'fats'"));
        let r = app.post_raw("/api/runs", "application/json", b"{\"strategy_id\": ".to_vec());
        assert_eq!(r.status(), 400, "malformed JSON");

        assert_eq!(app.get("/api/runs/424242").status(), 404);
        assert_eq!(app.get("/api/strategies/abc").status(), 404);
        assert_eq!(app.get("/api/datasets/77").status(), 404);
        assert_eq!(app.post_json("/api/runs/424242/cancel", &json!({})).status(), 404);
        assert_eq!(app.get("/api/runs?status=lost").status(), 400);

        assert_eq!(counts(&app), before, "nothing was stored");
    }
}
