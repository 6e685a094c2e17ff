//! How a run's results are printed and written: table, JSON, CSV.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use super::RunArgs;
use crate::engine::{RunManifest, RunReport};

/// Writes the strategy's log lines and the broker's rejections to stderr.
pub fn print_log(report: &RunReport) {
    for line in &report.log.lines {
        match line.ts {
            Some(ts) => eprintln!("[{ts}] {}", line.message),
            None => eprintln!("[init] {}", line.message),
        }
    }
    if report.log.dropped > 0 {
        eprintln!("({} more log lines dropped)", report.log.dropped);
    }
    for r in &report.rejections {
        eprintln!("[{}] order {} on {} rejected: {}", r.ts, r.order_id.0, r.symbol, r.reason);
    }
    for call in &report.margin_calls {
        eprintln!(
            "[{}] margin call: equity {} below the maintenance requirement {}; every position liquidated",
            call.ts, call.equity, call.requirement
        );
    }
}

/// The metrics as a readable two-column table.
pub fn metrics_table(args: &RunArgs, report: &RunReport) -> String {
    format_table(&table_rows(args, report))
}

/// The rows of [`metrics_table`]: (label, formatted value), labels unique.
pub fn table_rows(args: &RunArgs, report: &RunReport) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = vec![
        ("Strategy".into(), args.strategy.display().to_string()),
        (
            "Data".into(),
            args.data.iter().map(|d| format!("{}={}", d.symbol, d.path.display())).collect::<Vec<_>>().join(", "),
        ),
    ];
    if report.params.iter().next().is_some() {
        let params: Vec<String> = report.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        rows.push(("Parameters".into(), params.join(", ")));
    }
    rows.extend(report.metrics.rows().into_iter().map(|(k, v)| (k.to_string(), v)));
    rows.extend(report.metrics.contribution_rows());
    for year in &report.returns().yearly {
        let value = year.return_pct.map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}"));
        rows.push((format!("Return {} [%]", year.period), value));
    }
    rows.push(("Rejected orders".into(), report.rejections.len().to_string()));
    rows.push(("Orders cancelled at end".into(), report.cancelled_at_end.to_string()));
    if let Some(sandbox) = &report.sandbox {
        rows.push(("Sandbox".into(), sandbox.to_string()));
    }
    rows
}

/// Lays out (label, value) rows as two columns, one row per line.
pub fn format_table(rows: &[(String, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<width$}  {v}");
    }
    out
}

/// The metrics as one JSON object with snake_case keys, plus the run's
/// parameters and order counts, what it used of its sandbox (`sandbox`,
/// `null` for a native strategy) and, with a manifest, the run's whole
/// configuration (`config`) and its `fingerprint`.
///
/// # Errors
/// Serialisation failures (none are expected).
pub fn metrics_json(report: &RunReport, manifest: Option<&RunManifest>) -> anyhow::Result<String> {
    let mut value = serde_json::to_value(&report.metrics)?;
    let object = value.as_object_mut().context("metrics serialise to an object")?;
    object.insert("rejected_orders".into(), report.rejections.len().into());
    object.insert("orders_cancelled_at_end".into(), report.cancelled_at_end.into());
    object.insert("params".into(), serde_json::to_value(&report.params)?);
    object.insert("margin_call_events".into(), serde_json::to_value(&report.margin_calls)?);
    object.insert("returns".into(), serde_json::to_value(report.returns())?);
    object.insert("sandbox".into(), serde_json::to_value(&report.sandbox)?);
    if let Some(manifest) = manifest {
        object.insert("fingerprint".into(), manifest.fingerprint.clone().into());
        object.insert("config".into(), serde_json::to_value(manifest)?);
    }
    Ok(serde_json::to_string_pretty(&value)?)
}

/// Writes one row per trade.
///
/// # Errors
/// The file cannot be written.
pub fn write_trades_csv(path: &Path, report: &RunReport) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    w.write_record([
        "symbol",
        "side",
        "qty",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "commission",
        "gross_pnl",
        "net_pnl",
        "return_pct",
        "duration_bars",
        "duration_secs",
        "closed_at_end",
        "exit_reason",
    ])?;
    for t in &report.trades {
        let side = match t.side {
            crate::domain::PositionSide::Long => "long",
            crate::domain::PositionSide::Short => "short",
        };
        w.write_record([
            t.symbol.to_string(),
            side.to_string(),
            t.qty.to_string(),
            t.entry_ts.to_string(),
            t.entry_price.to_string(),
            t.exit_ts.to_string(),
            t.exit_price.to_string(),
            t.commission.to_string(),
            t.gross_pnl.to_string(),
            t.net_pnl.to_string(),
            t.return_pct.to_string(),
            t.duration_bars.to_string(),
            t.duration_secs.to_string(),
            t.closed_at_end.to_string(),
            t.exit_reason.as_str().to_string(),
        ])?;
    }
    w.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Writes one row per bar: time, equity, cash, drawdown in percent, and
/// the benchmark's equity when the run has one.
///
/// # Errors
/// The file cannot be written.
pub fn write_equity_csv(path: &Path, report: &RunReport) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    let benchmark = report.benchmark.as_ref().map(|(_, curve)| curve);
    let mut header = vec!["time", "equity", "cash", "drawdown_pct"];
    if benchmark.is_some() {
        header.push("benchmark_equity");
    }
    w.write_record(&header)?;
    let drawdown = report.drawdown_pct();
    for (i, ((ts, point), dd)) in report.timeline().iter().zip(report.equity.iter()).zip(drawdown).enumerate() {
        let mut row = vec![ts.to_string(), point.equity.to_string(), point.cash.to_string(), dd.to_string()];
        if let Some(curve) = benchmark {
            row.push(curve[i].to_string());
        }
        w.write_record(&row)?;
    }
    w.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Writes the returns tables: one row per day, month and year.
///
/// # Errors
/// The file cannot be written.
pub fn write_returns_csv(path: &Path, report: &RunReport) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    w.write_record(["period_type", "period", "start_equity", "end_equity", "return_pct"])?;
    let returns = report.returns();
    let tables = [("day", &returns.daily), ("month", &returns.monthly), ("year", &returns.yearly)];
    for (kind, rows) in tables {
        for r in rows {
            let ret = r.return_pct.map_or_else(String::new, |x| x.to_string());
            w.write_record([kind, &r.period, &r.start_equity.to_string(), &r.end_equity.to_string(), &ret])?;
        }
    }
    w.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
