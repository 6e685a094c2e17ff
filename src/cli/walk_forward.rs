//! `backtester sweep --walk-forward`: one row per window (its parts, the
//! variant its training chose, the objective in and out of sample), then
//! the stitched out-of-sample metrics and the walk-forward efficiency.

use std::io::IsTerminal;

use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};

use super::output::format_table;
use crate::sweep::walk_forward::{self, WalkProgress};
use crate::sweep::{Objective, SweepJob, WalkForward, WalkForwardSpec};

/// Runs the walk-forward of `spec` with a progress bar on a terminal and
/// prints its table, or its JSON with `json`.
///
/// # Errors
/// A spec that leaves no window, what the sweep refuses before it starts;
/// a cancelled walk-forward, after printing the windows done.
pub fn execute(job: &SweepJob<'_>, spec: &WalkForwardSpec, objective: &Objective, json: bool) -> anyhow::Result<()> {
    let windows = walk_forward::windows(spec, job.universe.timeline())?.len();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(windows as u64 * job.variants.len());
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} variants {per_sec} eta {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let result = walk_forward::run(job, spec, objective, &mut |p| {
        let Some(bar) = &bar else { return };
        match p {
            WalkProgress::Variant { .. } => bar.inc(1),
            WalkProgress::Window { windows, result } => bar.set_message(format!("{}/{windows} windows", result.window)),
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let result = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", table(job, &result));
    }
    if result.cancelled {
        return Err(anyhow!(
            "cancelled after {} of {windows} windows; the results above hold those",
            result.windows.len()
        ));
    }
    Ok(())
}

/// The windows' table, the notes, the stitched metrics and the efficiency.
fn table(job: &SweepJob<'_>, wf: &WalkForward) -> String {
    let direction = if wf.minimize { "min" } else { "max" };
    let min_trades = match wf.min_trades {
        0 => String::new(),
        n => format!(", at least {n} trades"),
    };
    let mut out = format!(
        "walk-forward: {}; objective {} ({direction}{min_trades}); {} variants per window\n",
        wf.spec,
        wf.objective,
        job.variants.len()
    );
    let mut header: Vec<String> = ["window", "train", "test", "variant"].map(String::from).to_vec();
    header.extend(job.variants.axes().iter().map(|a| a.name.clone()));
    header.extend([
        format!("IS {}", wf.objective),
        format!("OOS {}", wf.objective),
        "OOS return_pct".into(),
        "OOS trades".into(),
    ]);
    let mut rows = vec![header];
    let number = |x: Option<f64>| x.map_or_else(|| "n/a".to_string(), |x| format!("{x:.4}"));
    for w in &wf.windows {
        let mut row = vec![
            w.window.to_string(),
            format!("{}..{}", w.train_from, w.train_to),
            format!("{}..{}", w.test_from, w.test_to),
            w.variant.map_or_else(|| "-".to_string(), |v| v.to_string()),
        ];
        match w.variant {
            Some(number) => row.extend(job.variants.get(number).values.iter().map(|(_, v)| v.text.clone())),
            None => row.extend(job.variants.axes().iter().map(|_| "-".to_string())),
        }
        let oos = w.out_of_sample_metrics.as_ref();
        row.extend([
            number(w.in_sample),
            number(w.out_of_sample),
            number(oos.map(|m| m.return_pct)),
            oos.map_or_else(|| "-".to_string(), |m| m.trades.to_string()),
        ]);
        rows.push(row);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    for w in &wf.windows {
        if let Some(note) = &w.note {
            out.push_str(&format!("window {}: {note}\n", w.window));
        }
    }
    if let Some(stitched) = &wf.stitched {
        out.push_str("\nOut of sample, the test runs stitched:\n");
        let rows: Vec<(String, String)> =
            stitched.metrics.rows().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        out.push_str(&format_table(&rows));
    }
    out.push_str(&match wf.efficiency {
        Some(e) => format!(
            "\nWalk-forward efficiency: {e:.4} (out-of-sample annual return over the mean in-sample annual return of the chosen variants)\n"
        ),
        None => "\nWalk-forward efficiency: n/a (no test run, or an annual return undefined or averaging 0)\n".to_string(),
    });
    out
}
