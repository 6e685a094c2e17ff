//! `backtester sweep`: many variants of one run, in parallel, ranked by an
//! objective; a progress bar while it runs, then a leaderboard.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::RunArgs;
use crate::domain::CancelToken;
use crate::report;
use crate::strategy::read_file;
use crate::sweep::{
    self, Axis, Objective, Outcome, Selection, SweepJob, SweepResults, VariantSet, WalkForwardSpec, METRICS,
};

/// `sweep`'s own flags besides those of `run`.
#[derive(Debug, Args)]
pub struct SweepCommand {
    /// The run every variant starts from (`--param`s stay fixed).
    #[command(flatten)]
    pub run: RunArgs,
    /// An axis: `NAME=FROM:TO:STEP` (both ends included) or `NAME=V1,V2,...`;
    /// NAME is a strategy parameter or one of cash, commission, slippage-bps,
    /// leverage. Repeat for more axes: the sweep runs their grid.
    #[arg(long = "grid", value_name = "AXIS", required_unless_present = "variant")]
    pub grid: Vec<String>,
    /// One explicit variant, `NAME=VALUE,NAME=VALUE,...` (a batch: repeat
    /// it, each naming the same parameters and settings), instead of --grid.
    #[arg(long = "variant", value_name = "VALUES", conflicts_with_all = ["grid", "random"])]
    pub variant: Vec<String>,
    /// Run N variants drawn at random from the grid instead of all of it.
    #[arg(long, value_name = "N")]
    pub random: Option<u64>,
    /// The seed of --random (the same seed draws the same variants).
    #[arg(long, value_name = "S", default_value_t = 0, requires = "random")]
    pub seed: u64,
    /// Only variants for which this expression over the axes is true run,
    /// e.g. 'fast < slow' (numbers, + - * / %, comparisons, && || !).
    #[arg(long, value_name = "EXPR")]
    pub constraint: Option<String>,
    /// The metric that ranks the variants.
    #[arg(long, value_name = "METRIC", default_value = "sharpe")]
    pub objective: String,
    /// Rank lower values first (the default follows the metric: only
    /// annual_volatility_pct ranks lower first).
    #[arg(long, conflicts_with = "maximize")]
    pub minimize: bool,
    /// Rank higher values first.
    #[arg(long)]
    pub maximize: bool,
    /// Variants with fewer trades are not ranked.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_trades: usize,
    /// How many of the best variants the leaderboard shows.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Variants run at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Print the leaderboard and counts as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Write every variant (number, values, status, error, metrics) to this
    /// CSV file, in variant order, each row as soon as the variants before
    /// it are done (a sweep that is stopped keeps what finished).
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// Walk-forward instead of one sweep: `train=LEN,test=LEN[,anchored]`,
    /// a LEN being a bar count (500) or a calendar length (90d, 2w, 6m, 2y).
    /// Each window sweeps its training part and runs the best variant on
    /// the test part after it; prints one row per window, then the
    /// stitched out-of-sample metrics and the walk-forward efficiency.
    #[arg(long, value_name = "SPEC", conflicts_with_all = ["csv", "top", "report"])]
    pub walk_forward: Option<String>,
    /// Write the sweep's report to this HTML file (leaderboard, heatmap,
    /// sensitivities, Deflated Sharpe Ratio), with the best `--top`
    /// variants' run reports beside it (`NAME-variant-N.html`).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
}

/// Runs the sweep and prints its leaderboard.
///
/// # Errors
/// Bad flags, axes, constraint, objective, data or strategy, before
/// anything runs; a CSV that cannot be written.
pub fn execute(cmd: &SweepCommand) -> anyhow::Result<()> {
    let args = &cmd.run;
    let variants = if cmd.variant.is_empty() {
        let axes = cmd.grid.iter().map(|a| Axis::parse(a)).collect::<Result<Vec<_>, _>>()?;
        let selection = match cmd.random {
            Some(0) => bail!("--random must be at least 1"),
            Some(count) => Selection::Random { count, seed: cmd.seed },
            None => Selection::Grid,
        };
        VariantSet::new(axes, &selection)?
    } else {
        let listed = cmd.variant.iter().map(|v| sweep::parse_variant(v)).collect::<Result<Vec<_>, _>>()?;
        VariantSet::listed(listed, &cmd.variant)?
    };
    let direction = if cmd.minimize { Some(true) } else { cmd.maximize.then_some(false) };
    let objective = Objective::new(&cmd.objective, direction, cmd.min_trades)?;
    let walk_forward = cmd.walk_forward.as_deref().map(WalkForwardSpec::parse).transpose()?;
    if cmd.jobs == Some(0) {
        bail!("--jobs must be at least 1");
    }
    if cmd.top == 0 {
        bail!("--top must be at least 1");
    }
    let jobs = cmd.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let spec = args.spec()?;
    let (benchmark, universe) = args.load_data(&spec.window, &CancelToken::new())?;
    let name = args.strategy.display().to_string();
    let (runtime, code) = read_file(&args.strategy)?;
    let limits = args.strategy_limits()?;
    let mut csv = cmd.csv.as_deref().map(|path| OrderedCsv::create(path, &variants)).transpose()?;
    let cancel = CancelToken::new();
    let on_interrupt = cancel.clone();
    ctrlc::set_handler(move || on_interrupt.cancel()).context("installing the Ctrl-C handler")?;
    let job = SweepJob {
        runtime,
        code: &code,
        name: &name,
        limits: &limits,
        universe: &universe,
        benchmark,
        base: args.raw_spec(),
        variants: &variants,
        constraint: cmd.constraint.as_deref(),
        jobs,
        skip: &[],
        only: None,
        cancel,
    };
    if let Some(spec) = walk_forward {
        return super::walk_forward::execute(&job, &spec, &objective, cmd.json);
    }
    let results = run_with_progress(&job, &objective, csv.as_mut())?;
    if let Some(csv) = csv {
        csv.finish()?;
    }
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&summary_json(&variants, &results, &objective, cmd.top))?);
    } else {
        print!("{}", leaderboard_table(&variants, &results, &objective, cmd.top));
    }
    if let Some(path) = &cmd.report {
        write_report(path, args, &job, &results, &objective, cmd.top)?;
    }
    if results.cancelled {
        return Err(anyhow!(
            "cancelled after {} of {} variants; the leaderboard above ranks those",
            results.results.len(),
            variants.len()
        ));
    }
    Ok(())
}

/// Writes the sweep's report to `path` and, beside it, the run report of
/// each of the best `top` variants (run again alone: the sweep keeps their
/// metrics, not their trades).
fn write_report(
    path: &Path,
    args: &super::RunArgs,
    job: &SweepJob<'_>,
    results: &SweepResults,
    objective: &Objective,
    top: usize,
) -> anyhow::Result<()> {
    let stem = path.file_stem().map_or_else(|| "sweep".to_string(), |s| s.to_string_lossy().into_owned());
    let mut leaders = Vec::new();
    for (number, metrics) in results.leaderboard(objective, top) {
        let name = format!("{stem}-variant-{number}.html");
        let report = sweep::rerun(job, number).map_err(|e| anyhow!("variant {number}: {e}"))?;
        let html = super::html_report::run_html(args, &report)?;
        super::html_report::write(&path.with_file_name(&name), &html)?;
        leaders.push(report::Leader { number, metrics: metrics.to_vec(), report: Some(name) });
    }
    let mut ran: Vec<(f64, u64, Vec<Option<f64>>)> = results
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Ran(ran) => {
                Some((objective.score(&ran.metrics).unwrap_or(f64::NEG_INFINITY), r.number, ran.metrics.clone()))
            }
            _ => None,
        })
        .collect();
    ran.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let (done, excluded, failed) = results.counts();
    let input = report::SweepInput {
        title: format!("{}: sweep report", args.strategy.display()),
        is_final: !results.cancelled,
        counts: [job.variants.len(), done + excluded + failed, done, excluded, failed],
        objective: *objective,
        deflated: results.deflated(objective),
        variants: job.variants,
        leaders,
        ran: ran.into_iter().map(|(_, n, m)| (n, m)).collect(),
    };
    let html = report::render(report::Page::Sweep { refresh_secs: None }, &input.title, &report::sweep_data(&input))?;
    super::html_report::write(path, &html)
}

/// Runs the sweep with a progress bar on a terminal: variants done, rate,
/// time left and the best so far.
fn run_with_progress(
    job: &SweepJob<'_>,
    objective: &Objective,
    mut csv: Option<&mut OrderedCsv<'_>>,
) -> anyhow::Result<SweepResults> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(job.variants.len());
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} variants {per_sec} eta {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut best: Option<(f64, u64)> = None;
    let mut csv_error = None;
    let mut on_done = |r: &sweep::VariantResult| {
        if let Some(csv) = csv.as_deref_mut() {
            if let Err(e) = csv.push(r.clone()) {
                // Reported once the sweep is over; the sweep stops now.
                csv_error.get_or_insert(e);
                job.cancel.cancel();
            }
        }
        let Some(bar) = &bar else { return };
        bar.inc(1);
        if let Outcome::Ran(ran) = &r.outcome {
            if let Some(score) = objective.score(&ran.metrics) {
                if best.is_none_or(|(b, n)| score > b || (score == b && r.number < n)) {
                    best = Some((score, r.number));
                    let shown = if objective.minimize { -score } else { score };
                    bar.set_message(format!(
                        "best {} {shown:.4} ({})",
                        objective.name(),
                        values_text(job.variants, r.number)
                    ));
                }
            }
        }
    };
    let results = sweep::run(job, &mut on_done);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(e) = csv_error {
        return Err(e);
    }
    Ok(results?)
}

/// `fast=10 slow=30`: variant `number`'s values.
fn values_text(variants: &VariantSet, number: u64) -> String {
    variants.get(number).values.iter().map(|(n, v)| format!("{n}={}", v.text)).collect::<Vec<_>>().join(" ")
}

fn counts_line(variants: &VariantSet, results: &SweepResults) -> String {
    let (ran, excluded, failed) = results.counts();
    format!(
        "{} variants: {ran} ran, {excluded} excluded by the constraint, {failed} failed, in {:.2} s\n",
        variants.len(),
        results.elapsed.as_secs_f64()
    )
}

/// The leaderboard as a text table, after a line of counts.
fn leaderboard_table(variants: &VariantSet, results: &SweepResults, objective: &Objective, top: usize) -> String {
    let shown = ["return_pct", "sharpe", "max_drawdown_pct", "trades"];
    let column = |name: &str| METRICS.iter().position(|m| m.name == name).unwrap_or(0);
    let mut header: Vec<String> = vec!["rank".into(), "variant".into()];
    header.extend(variants.axes().iter().map(|a| a.name.clone()));
    header.push(format!("{} ({})", objective.name(), if objective.minimize { "min" } else { "max" }));
    header.extend(shown.iter().map(|s| s.to_string()));
    let mut rows = vec![header];
    for (rank, (number, values)) in results.leaderboard(objective, top).into_iter().enumerate() {
        let mut row = vec![(rank + 1).to_string(), number.to_string()];
        row.extend(variants.get(number).values.iter().map(|(_, v)| v.text.clone()));
        let cell = |i: usize| match values[i] {
            None => "n/a".to_string(),
            Some(x) if METRICS[i].name == "trades" => format!("{x:.0}"),
            Some(x) => format!("{x:.4}"),
        };
        row.push(cell(objective.metric));
        row.extend(shown.iter().map(|s| cell(column(s))));
        rows.push(row);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = counts_line(variants, results);
    if rows.len() == 1 {
        out.push_str("no variant could be ranked (none ran, or none had a value and enough trades)\n");
        return out;
    }
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&deflated_line(results.deflated(objective)));
    out
}

/// The counts and the leaderboard as JSON.
fn summary_json(variants: &VariantSet, results: &SweepResults, objective: &Objective, top: usize) -> serde_json::Value {
    let (ran, excluded, failed) = results.counts();
    let leaderboard: Vec<serde_json::Value> = results
        .leaderboard(objective, top)
        .into_iter()
        .enumerate()
        .map(|(rank, (number, values))| {
            json!({
                "rank": rank + 1,
                "variant": number,
                "values": sweep::values_json(variants, number),
                "metrics": sweep::metrics_json(values),
            })
        })
        .collect();
    json!({
        "variants": variants.len(),
        "ran": ran,
        "excluded": excluded,
        "failed": failed,
        "objective": { "metric": objective.name(), "minimize": objective.minimize, "min_trades": objective.min_trades },
        "leaderboard": leaderboard,
        "deflated_sharpe": results.deflated(objective),
    })
}

/// The `--csv` file: one row per variant, in variant order, written as
/// soon as every variant before it is done.
struct OrderedCsv<'a> {
    path: PathBuf,
    out: BufWriter<File>,
    /// Values of each variant's axes are read from here.
    variants: &'a VariantSet,
    /// The next variant to write.
    next: u64,
    /// Results that finished before an earlier variant did.
    waiting: BTreeMap<u64, sweep::VariantResult>,
}

impl<'a> OrderedCsv<'a> {
    /// Creates the file and writes its header.
    fn create(path: &Path, variants: &'a VariantSet) -> anyhow::Result<OrderedCsv<'a>> {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut csv = OrderedCsv {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            variants,
            next: 0,
            waiting: BTreeMap::new(),
        };
        writeln!(csv.out, "{}", sweep::csv_header(variants)).with_context(|| format!("writing {}", path.display()))?;
        Ok(csv)
    }

    /// Takes one finished variant; writes it and those waiting behind it
    /// once every earlier variant is written.
    fn push(&mut self, result: sweep::VariantResult) -> anyhow::Result<()> {
        self.waiting.insert(result.number, result);
        let mut wrote = false;
        while let Some(result) = self.waiting.remove(&self.next) {
            self.write_row(&result)?;
            self.next += 1;
            wrote = true;
        }
        if wrote {
            self.out.flush().with_context(|| format!("writing {}", self.path.display()))?;
        }
        Ok(())
    }

    /// Writes what is still waiting (after a cancelled sweep: the variants
    /// that finished after one that did not) and closes the file.
    fn finish(mut self) -> anyhow::Result<()> {
        for result in std::mem::take(&mut self.waiting).into_values() {
            self.write_row(&result)?;
        }
        self.out.flush().with_context(|| format!("writing {}", self.path.display()))
    }

    fn write_row(&mut self, r: &sweep::VariantResult) -> anyhow::Result<()> {
        writeln!(self.out, "{}", sweep::csv_row(self.variants, r))
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// The overfitting line under the leaderboard.
fn deflated_line(deflated: Option<sweep::Deflated>) -> String {
    match deflated {
        Some(d) => format!(
            "Deflated Sharpe ratio of the best: {:.4} (the probability that its Sharpe ratio beats the best of {} \
             unskilled tries: per-bar Sharpe {:.4} against {:.4} expected of that best)\n",
            d.deflated_sharpe, d.trials, d.best_sharpe, d.expected_max_sharpe
        ),
        None => "Deflated Sharpe ratio: n/a (it needs two variants with a Sharpe ratio)\n".to_string(),
    }
}
