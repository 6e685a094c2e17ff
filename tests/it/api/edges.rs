//! The service at its edges: concurrent writes to one strategy, a database
//! that goes away, settings at the ends of their ranges.

use serde_json::{json, Value};

use super::app::{backends, App};

#[test]
fn parallel_versions_of_one_strategy_all_get_a_number() {
    // Regression: 16 parallel posts gave 11-12 errors 500 (duplicate key:
    // the next number was read, then inserted) on PostgreSQL.
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let path = format!("/api/strategies/{strategy}/versions");
        let mut numbers: Vec<i64> = std::thread::scope(|s| {
            let posts: Vec<_> = (0..16)
                .map(|i| {
                    let (app, path, backend) = (&app, &path, &backend);
                    s.spawn(move || {
                        let source = format!("// version {i}\nfn on_bar(ctx) {{}}");
                        let r = app.post_json(path, &json!({ "source": source }));
                        assert_eq!(r.status(), 201, "{backend:?} post {i}: {:?}", r.text());
                        r.json::<Value>().unwrap()["version"].as_i64().unwrap()
                    })
                })
                .collect();
            posts.into_iter().map(|p| p.join().unwrap()).collect()
        });
        numbers.sort_unstable();
        assert_eq!(numbers, (2..=17).collect::<Vec<_>>(), "{backend:?}");
    }
}

#[test]
fn the_latest_code_posted_again_is_the_latest_version_not_a_new_one() {
    for backend in backends() {
        let app = App::spawn(&backend, &[]);
        let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
        let path = format!("/api/strategies/{strategy}/versions");
        let body = json!({ "source": "fn on_bar(ctx) {}" });
        let first = app.post_json(&path, &body);
        assert_eq!(first.status(), 201);
        let first: Value = first.json().unwrap();
        let again = app.post_json(&path, &body);
        assert_eq!(again.status(), 200, "{backend:?}: nothing added");
        assert_eq!(again.json::<Value>().unwrap(), first);
        let versions = app.json(&format!("/api/strategies/{strategy}"))["versions"].as_array().unwrap().len();
        assert_eq!(versions, 2, "{backend:?}: the upload and one posted version");
    }
}
