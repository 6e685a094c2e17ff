//! The report as one self-contained HTML file: the page template (through
//! minijinja, which escapes the title), the data as JSON, and the chart
//! library, script and styles inlined, so that it opens from disk and asks
//! nothing of the network.

use minijinja::{context, Environment};
use serde_json::Value;

use super::ReportError;

const TEMPLATE: &str = include_str!("../../templates/report.html");
const CHART_LIBRARY: &str =
    include_str!("../../assets/vendor/lightweight-charts/lightweight-charts.standalone.production.js");
const RUN_SCRIPT: &str = include_str!("../../assets/report/report.js");
const SWEEP_SCRIPT: &str = include_str!("../../assets/report/sweep.js");
const CSS: &str = include_str!("../../assets/report/report.css");
/// The DOM helper both page scripts use, inlined before them.
const DOM_SCRIPT: &str = include_str!("../../assets/common/dom.js");

/// Which page: a run's report or a sweep's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// A run's report (`report.js`).
    Run,
    /// A sweep's report (`sweep.js`); reloads itself every `refresh_secs`
    /// while the sweep is partial.
    Sweep {
        /// Seconds between reloads while partial; `None` once final.
        refresh_secs: Option<u32>,
    },
}

/// Text safe inside `<script>`: `</` (which would end the element) and
/// `<!--` (which would start a comment state) cannot occur in it.
fn script_safe(text: &str) -> String {
    text.replace("</", "<\\/").replace("<!--", "<\\!--")
}

/// The page for `data` (a run's or a sweep's report data).
///
/// # Errors
/// The template does not render (a bug: it is part of the binary).
pub fn render(page: Page, title: &str, data: &Value) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)?;
    let json = serde_json::to_string(data).map_err(|e| ReportError::Data(e.to_string()))?;
    let (script, refresh) = match page {
        Page::Run => (RUN_SCRIPT, None),
        Page::Sweep { refresh_secs } => (SWEEP_SCRIPT, refresh_secs),
    };
    let html = env.get_template("report.html")?.render(context! {
        title => title,
        css => minijinja::Value::from_safe_string(CSS.to_string()),
        data => minijinja::Value::from_safe_string(script_safe(&json)),
        chart_library => minijinja::Value::from_safe_string(script_safe(CHART_LIBRARY)),
        script => minijinja::Value::from_safe_string(script_safe(&format!("{DOM_SCRIPT}\n{script}"))),
        refresh_secs => refresh,
    })?;
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_inlines_everything_and_escapes_what_could_end_a_script() {
        let data = serde_json::json!({ "title": "</script><script>alert(1)</script>" });
        let html = render(Page::Run, "a <b> title", &data).unwrap();
        assert!(html.contains("<title>a &lt;b&gt; title</title>"), "the title is escaped");
        assert!(html.contains(r#""<\/script><script>alert(1)<\/script>""#), "the data cannot close its script");
        assert_eq!(html.matches("</script>").count(), 3, "three scripts, each closed once");
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "nothing to fetch");
        assert!(html.contains("createChart"), "the chart library is inlined");
    }
}
