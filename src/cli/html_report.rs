//! `--report PATH` of `run`, `dev` and `sweep`: the HTML report written
//! from the command's own results (the service writes the same page from
//! its stored ones).

use std::path::Path;

use anyhow::Context;
use serde_json::json;

use super::RunArgs;
use crate::domain::num::to_f64;
use crate::engine::RunReport;
use crate::report::{self, CurvePoint, Page, RunInput, TradeLine};

/// The report of one run.
///
/// # Errors
/// The manifest or the page cannot be made.
pub fn run_html(args: &RunArgs, report: &RunReport) -> anyhow::Result<String> {
    let manifest = super::manifest::of_run(args, report)?;
    let mut manifest_json = serde_json::to_value(&manifest)?;
    manifest_json["fingerprint"] = json!(manifest.fingerprint);
    let drawdown = report.drawdown_pct();
    let benchmark = report.benchmark.as_ref().map(|(_, curve)| curve);
    let curve = report
        .timeline()
        .iter()
        .zip(report.equity.amounts())
        .enumerate()
        .map(|(i, (&time, equity))| CurvePoint {
            time,
            equity: to_f64(equity),
            drawdown_pct: drawdown[i],
            benchmark: benchmark.and_then(|b| b.get(i)).map(|&d| to_f64(d)),
        })
        .collect();
    let returns = report.returns();
    let input = RunInput {
        title: format!("{}: backtest report", args.strategy.display()),
        manifest: manifest_json,
        metrics: serde_json::to_value(&report.metrics)?,
        log: json!({ "lines": report.log.lines, "dropped": report.log.dropped, "rejections": report.rejections }),
        curve,
        universe: Some(report.universe()),
        trades: report.trades.iter().map(TradeLine::from).collect(),
        monthly: &returns.monthly,
        yearly: &returns.yearly,
    };
    Ok(report::render(Page::Run, &input.title, &report::run_data(&input))?)
}

/// Writes `html` to `path`, whole or not at all (through a file beside it,
/// renamed: a browser reloading it never sees half a page).
///
/// # Errors
/// The file cannot be written.
pub fn write(path: &Path, html: &str) -> anyhow::Result<()> {
    let partial = path.with_extension("html.partial");
    std::fs::write(&partial, html).with_context(|| format!("writing {}", path.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
