//! The report and the service's page in a real browser: Debian's headless
//! Chromium driven over the DevTools protocol. Skipped, saying how to
//! enable them, where no Chromium is found; `.ci/run` installs it and sets
//! BACKTESTER_REQUIRE_BROWSER=1, so that there they run.
//!
//! Screenshots go to `$CARGO_TARGET_TMPDIR/screenshots/` for a person to look at.

mod cdp;

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::api::accounts::{cli, token};
use crate::api::app::{backends, App};
use crate::helpers::ok;
use cdp::Chromium;

/// The Chromium to drive: BACKTESTER_CHROMIUM, else Debian's.
fn chromium() -> Option<PathBuf> {
    let path =
        std::env::var_os("BACKTESTER_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("BACKTESTER_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("BACKTESTER_REQUIRE_BROWSER=1 but there is no Chromium at {}", path.display());
    }
    eprintln!("skipping the browser tests: install Chromium (apt-get install -y chromium) or set BACKTESTER_CHROMIUM");
    None
}

/// Where screenshots are written.
fn screenshot_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Whether some canvas under `selector` has a pixel that is not blank.
const DREW: &str = r#"(sel) => [...document.querySelectorAll(sel + ' canvas')].some((c) => {
    if (!c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
    return false;
})"#;

#[test]
fn the_report_of_the_goog_sma_cross_draws_offline_with_every_trade_and_month() {
    let Some(executable) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("goog.html");
    let json: Value = serde_json::from_str(&ok(&[
        "run",
        "scripts/sma_cross.rhai",
        "--data",
        "data/GOOG.csv",
        "--json",
        "--report",
        report.to_str().unwrap(),
    ]))
    .unwrap();
    let trades = json["trades"].as_u64().unwrap();
    assert!(trades > 0);
    let mut s = Chromium::launch(&executable);
    s.navigate(&format!("file://{}", report.display()));
    s.wait_for("document.body.dataset.rendered === 'true'", "rendered");
    for chart in ["#equity-chart", "#drawdown-chart", "#price-GOOG"] {
        s.wait_for(&format!("({DREW})('{chart}')"), &format!("{chart} drawn"));
    }
    // Every trade: they fit on the first page of 50.
    assert!(trades <= 50);
    assert_eq!(s.eval("document.querySelectorAll('#trades tbody tr').length"), json!(trades));
    // Every month's cell shows that month's return.
    let cells = s.eval(
        "Object.fromEntries([...document.querySelectorAll('#monthly td[data-period]')].map((td) => [td.dataset.period, td.textContent]))",
    );
    let monthly = json["returns"]["monthly"].as_array().unwrap();
    assert!(monthly.len() > 100);
    for month in monthly {
        let period = month["period"].as_str().unwrap();
        let expected = month["return_pct"].as_f64().map_or(String::new(), |x| format!("{x:.2}"));
        assert_eq!(cells[period], json!(expected), "{period}");
    }
    // Sorting by net PnL puts a loss first.
    s.eval("[...document.querySelectorAll('#trades th')].find((th) => th.textContent === 'net_pnl').click()");
    let first = s.eval("document.querySelector('#trades tbody tr td:nth-child(9)').textContent");
    assert!(first.as_str().unwrap().starts_with('-'), "{first}");
    s.screenshot(&screenshot_path("report-goog-sma-cross.png"));
    let file_requests = s.requests.iter().filter(|u| u.starts_with("file://")).count();
    assert!(s.requests.iter().all(|u| u.starts_with("file://") || u.starts_with("data:")), "{:?}", s.requests);
    assert_eq!(file_requests, 1, "only the file itself: {:?}", s.requests);
    assert!(s.errors.is_empty() && s.failed_loads.is_empty(), "{:?} {:?}", s.errors, s.failed_loads);
}

#[test]
fn the_services_page_starts_a_run_follows_it_to_completed_and_opens_its_report() {
    let Some(executable) = chromium() else { return };
    let app = App::spawn(&backends().remove(0), &[]);
    app.upload("GOOG", "data/GOOG.csv");
    let strategy = app.rhai_strategy("sma", "scripts/sma_cross.rhai");
    let mut s = Chromium::launch(&executable);
    s.navigate(&format!("{}/", app.url));
    s.wait_for("document.body.dataset.ready === 'true'", "ready");
    assert_eq!(s.eval("document.querySelector('#strategies tbody tr td:nth-child(2)').textContent"), json!("sma"));
    assert_eq!(s.eval("document.querySelectorAll('[data-param]').length"), json!(2), "fast and slow");

    // A bad field: the API's error shows next to it, and nothing runs.
    s.eval("document.querySelector('#f-symbols option[value=GOOG]').selected = true");
    s.eval("document.querySelector('#f-capital').value = '-5'");
    s.eval("document.querySelector('#f-submit').click()");
    s.wait_for("document.querySelector('.field[data-field=initial_capital]').textContent !== ''", "an error");
    let message = s.eval("document.querySelector('.field[data-field=initial_capital]').textContent");
    assert!(message.as_str().unwrap().starts_with("initial_capital:"), "{message}");
    assert_eq!(s.eval("document.querySelectorAll('#runs tbody tr').length"), json!(0));
    s.screenshot(&screenshot_path("page-form-error.png"));

    // A good one: the run appears, its progress reaches 100 % and it completes, without a reload.
    s.eval("document.querySelector('#f-capital').value = '100000'");
    s.eval("document.querySelector('[data-param=fast]').value = '12'");
    s.eval("window.notReloaded = true");
    s.eval("document.querySelector('#f-submit').click()");
    s.wait_for(
        "(() => { const r = document.querySelector('#runs tbody tr'); return !!r && r.querySelector('.status').textContent === 'completed' && r.querySelector('progress').value === 100; })()",
        "completed at 100 %",
    );
    assert_eq!(s.eval("window.notReloaded === true"), json!(true), "no reload");
    assert_eq!(s.eval("document.querySelector('.field[data-field=initial_capital]').textContent"), json!(""));
    let run_id = s.eval("Number(document.querySelector('#runs tbody tr').dataset.run)").as_i64().unwrap();
    let run = app.json(&format!("/api/runs/{run_id}"));
    assert_eq!(
        (&run["status"], &run["config"]["params"]["fast"], &run["strategy_id"]),
        (&json!("completed"), &json!(12), &json!(strategy))
    );
    s.screenshot(&screenshot_path("page-run-completed.png"));

    // Its report, from the link.
    let href = s.eval("document.querySelector('#runs tbody tr a.report').href");
    s.navigate(href.as_str().unwrap());
    s.wait_for("document.body && document.body.dataset.rendered === 'true'", "the report rendered");
    s.wait_for(&format!("({DREW})('#equity-chart')"), "the equity drawn");
    let trades = s.eval("document.querySelectorAll('#trades tbody tr').length");
    assert_eq!(trades, json!(run["metrics"]["trades"].as_u64().unwrap().min(50)));
    s.screenshot(&screenshot_path("report-from-the-service.png"));
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    // The one load that failed is the refused run (its 422 is the form's error).
    assert_eq!(s.failed_loads.len(), 1, "{:?}", s.failed_loads);
    assert!(s.failed_loads[0].contains("/api/runs") && s.failed_loads[0].contains("422"), "{:?}", s.failed_loads);
}

#[test]
fn on_a_server_with_tokens_the_page_signs_in_and_runs_with_its_cookie() {
    let Some(executable) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("signed.db").display());
    cli(&["user", "add", "alice"], &database_url);
    let token = token(&database_url, "alice", &[]);
    let app = App::spawn_on(database_url, &[]);
    let source = std::fs::read_to_string(crate::helpers::root().join("scripts/sma_cross.rhai")).unwrap();
    let created = app
        .client
        .post(format!("{}/api/strategies", app.url))
        .bearer_auth(&token)
        .json(&json!({"name": "sma", "runtime": "rhai", "source": source}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let csv = std::fs::read(crate::helpers::root().join("data/GOOG.csv")).unwrap();
    let uploaded = app
        .client
        .post(format!("{}/api/datasets?symbol=GOOG", app.url))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .unwrap();
    assert_eq!(uploaded.status(), 201);

    let mut s = Chromium::launch(&executable);
    s.navigate(&format!("{}/", app.url));
    s.wait_for("!document.querySelector('#sign-in').hidden", "the sign-in form");
    s.eval("document.querySelector('#f-token').value = 'btk_wrong'");
    s.eval("document.querySelector('#sign-in-form button').click()");
    s.wait_for("document.querySelector('#sign-in-error').textContent.includes('not valid')", "the refusal");
    s.eval(&format!("document.querySelector('#f-token').value = '{token}'"));
    s.eval("document.querySelector('#sign-in-form button').click()");
    s.wait_for("document.body.dataset.ready === 'true'", "ready after signing in");
    assert_eq!(s.eval("document.querySelector('#sign-in').hidden"), json!(true));
    assert_eq!(s.eval("document.cookie.includes('bt_session')"), json!(false), "the session cookie is HttpOnly");
    assert_eq!(s.eval("document.querySelector('#strategies tbody tr td:nth-child(2)').textContent"), json!("sma"));
    // A write with the cookie (and the CSRF header), followed live on its event stream.
    s.eval("document.querySelector('#f-symbols option[value=GOOG]').selected = true");
    s.eval("document.querySelector('#f-submit').click()");
    s.wait_for(
        "(() => { const r = document.querySelector('#runs tbody tr'); return !!r && r.querySelector('.status').textContent === 'completed'; })()",
        "the run completed",
    );
    s.screenshot(&screenshot_path("page-signed-in.png"));
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let log = app.stderr();
    assert!(
        log.contains("user=\"alice\"") && log.contains("path=\"/api/runs\"") && log.contains("status=202"),
        "{log}"
    );
}

#[test]
fn the_api_docs_page_renders_every_operation_from_the_server_alone() {
    let Some(executable) = chromium() else { return };
    let app = App::spawn(&backends().remove(0), &[]);
    let doc = app.json("/api/openapi.json");
    let operations: usize =
        doc["paths"].as_object().unwrap().values().map(|item| item.as_object().unwrap().len()).sum();
    let mut s = Chromium::launch(&executable);
    s.navigate(&format!("{}/api/docs", app.url));
    s.wait_for("document.querySelectorAll('.opblock').length > 0", "Swagger UI drew the operations");
    assert_eq!(s.eval("document.querySelectorAll('.opblock').length"), json!(operations));
    assert_eq!(s.eval("document.querySelector('.info .title').textContent.startsWith('backtester')"), json!(true));
    // The bearer scheme is offered.
    assert_eq!(s.eval("!!document.querySelector('.btn.authorize')"), json!(true));
    s.screenshot(&screenshot_path("api-docs.png"));
    assert!(s.requests.iter().all(|u| u.starts_with(&app.url) || u.starts_with("data:")), "{:?}", s.requests);
    assert!(s.errors.is_empty() && s.failed_loads.is_empty(), "{:?} {:?}", s.errors, s.failed_loads);
}
