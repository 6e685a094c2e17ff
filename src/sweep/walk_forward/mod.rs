//! Walk-forward optimisation: the sweep run on a training part of the
//! data, its best variant then run on the test part that follows, window
//! after window, and the test runs chained into one out-of-sample curve.
//!
//! - [`WalkForwardSpec`]: the lengths of the training and test parts
//!   (`train=2y,test=6m` or bar counts) and rolling or anchored training;
//! - [`windows`]: where the parts fall on the data's timeline;
//! - [`run`]: for each window, the sweep over the training part alone (as
//!   `backtester sweep` with `--start` and `--end` at its first and last
//!   bar), the best variant by the objective (min trades honoured), then
//!   that variant's run over the training and test parts with trading from
//!   the test part's first bar ([`RunConfig::trade_from`](crate::engine::RunConfig::trade_from)):
//!   its indicators warm up on the training bars, its results are the test
//!   part's alone;
//! - [`Stitched`]: the test runs chained by their returns, with the
//!   project's run metrics of that curve;
//! - [`efficiency`]: the walk-forward efficiency.

mod spec;
mod stitch;
mod windows;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

pub use spec::{Length, WalkForwardSpec};
pub use stitch::Stitched;
pub use windows::{windows, Window};

use super::objective::ANNUAL_RETURN;
use super::runner::variant_spec;
use super::{metric_values, AxisValue, Number, Objective, SweepError, SweepJob, VariantResult, METRICS};
use crate::domain::{EquityCurve, EquityPoint, Timestamp};
use crate::engine::{self, buy_hold_return_pct, EngineError, RunHooks, RunReport, RunSpec};
use crate::metrics::Metrics;
use crate::strategy::build;
use stitch::{stitch, Piece};

/// Why a walk-forward cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WalkForwardError {
    /// A spec that does not parse, or leaves no window on the data; names
    /// the field (`train`, `test`, `anchored`; empty for the whole spec).
    #[error("--walk-forward{}{field}: {reason}", if field.is_empty() { "" } else { " " })]
    Spec {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// What the sweep refuses before it starts (axes, constraint, strategy).
    #[error(transparent)]
    Sweep(#[from] SweepError),
}

/// One window's row: where its parts fall, the variant its training chose,
/// and how that variant did in and out of sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowResult {
    /// The window's number, from 1.
    pub window: usize,
    /// The training part's first bar.
    pub train_from: Timestamp,
    /// The training part's last bar.
    pub train_to: Timestamp,
    /// Steps in the training part.
    pub train_bars: usize,
    /// The test part's first bar (the step after `train_to`).
    pub test_from: Timestamp,
    /// The test part's last bar.
    pub test_to: Timestamp,
    /// Steps in the test part.
    pub test_bars: usize,
    /// Variants that ran on the training part.
    pub ran: u64,
    /// Variants the constraint excluded.
    pub excluded: u64,
    /// Variants whose training run failed.
    pub failed: u64,
    /// The chosen variant's number; `None` when no variant was ranked.
    pub variant: Option<u64>,
    /// The chosen variant's axis values (parameters and settings), by name.
    #[serde(serialize_with = "values_map")]
    pub values: Vec<(String, AxisValue)>,
    /// The objective's value of the chosen variant on the training part.
    pub in_sample: Option<f64>,
    /// The objective's value of its run on the test part.
    pub out_of_sample: Option<f64>,
    /// The chosen variant's metrics on the training part, as a sweep keeps them.
    #[serde(serialize_with = "metrics_map")]
    pub in_sample_metrics: Option<Vec<Option<f64>>>,
    /// The metrics of its run on the test part.
    pub out_of_sample_metrics: Option<Metrics>,
    /// Why the window has no test run (no variant ranked, or the run failed);
    /// the stitched curve then holds cash over its test part.
    pub note: Option<String>,
}

/// The whole walk-forward: its rows, the stitched out-of-sample run and
/// the walk-forward efficiency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WalkForward {
    /// The spec, as text (`train 500 bars, test 100 bars, rolling`).
    pub spec: String,
    /// The objective's metric.
    pub objective: &'static str,
    /// Whether the objective ranks lower values first.
    pub minimize: bool,
    /// The least trades a variant needed to be ranked.
    pub min_trades: usize,
    /// One row per window done, in order.
    pub windows: Vec<WindowResult>,
    /// The test runs chained (see [`Stitched`]); `None` without any window done.
    pub stitched: Option<Stitched>,
    /// See [`efficiency`].
    pub efficiency: Option<f64>,
    /// Whether it was cancelled before every window was done (the rows and
    /// the stitched curve then hold the windows done).
    pub cancelled: bool,
}

/// What [`run`] reports while it runs.
#[derive(Clone, Copy, Debug)]
pub enum WalkProgress<'a> {
    /// A variant of window `window`'s training sweep finished.
    Variant {
        /// The window's number, from 1.
        window: usize,
        /// How many windows there are.
        windows: usize,
        /// The variant's result.
        result: &'a VariantResult,
    },
    /// Window `window` is done.
    Window {
        /// How many windows there are.
        windows: usize,
        /// Its row.
        result: &'a WindowResult,
    },
}

/// The walk-forward efficiency: the stitched out-of-sample curve's annual
/// return divided by the mean of the chosen variants' in-sample annual
/// returns (both `annual_return_pct`, geometric, in percent), over the
/// windows with a test run. `None` when either is undefined, the mean is
/// 0, or no window had a test run. Near 1, the out-of-sample runs kept
/// what the training promised; near 0 or below, they did not.
pub fn efficiency(out_of_sample_annual: Option<f64>, in_sample_annuals: &[f64]) -> Option<f64> {
    if in_sample_annuals.is_empty() {
        return None;
    }
    let mean = in_sample_annuals.iter().sum::<f64>() / in_sample_annuals.len() as f64;
    let ratio = out_of_sample_annual? / mean;
    (mean != 0.0 && ratio.is_finite()).then_some(ratio)
}

/// Runs the walk-forward of `spec` over `job.universe` (the whole data),
/// choosing each window's variant by `objective`, and calling `progress`
/// (on the calling thread) as variants and windows finish. Cancelled
/// through `job.cancel`, it stops and returns the windows done.
///
/// # Errors
/// A spec that leaves no window on the data, and what [`super::check`]
/// refuses, before anything runs.
pub fn run(
    job: &SweepJob<'_>,
    spec: &WalkForwardSpec,
    objective: &Objective,
    progress: &mut dyn FnMut(WalkProgress<'_>),
) -> Result<WalkForward, WalkForwardError> {
    let timeline = job.universe.timeline();
    let plan = windows(spec, timeline)?;
    super::check(job)?;
    let mut rows = Vec::new();
    let mut runs = Vec::new();
    let mut cancelled = false;
    for (i, window) in plan.iter().enumerate() {
        let number = i + 1;
        let mut on_variant =
            |result: &VariantResult| progress(WalkProgress::Variant { window: number, windows: plan.len(), result });
        let Some((row, report)) = one_window(job, objective, window, number, &mut on_variant)? else {
            cancelled = true;
            break;
        };
        progress(WalkProgress::Window { windows: plan.len(), result: &row });
        rows.push(row);
        runs.push(report);
    }
    let stitched = stitched(job, &plan, &runs);
    let in_sample: Vec<f64> = rows
        .iter()
        .filter(|r| r.out_of_sample_metrics.is_some())
        .filter_map(|r| r.in_sample_metrics.as_ref()?[ANNUAL_RETURN])
        .collect();
    let efficiency = efficiency(stitched.as_ref().and_then(|s| s.metrics.annual_return_pct), &in_sample);
    Ok(WalkForward {
        spec: spec.to_string(),
        objective: objective.name(),
        minimize: objective.minimize,
        min_trades: objective.min_trades,
        windows: rows,
        stitched,
        efficiency,
        cancelled,
    })
}

/// One window: its training sweep, then its chosen variant's test run.
/// `None` when cancelled meanwhile.
fn one_window(
    job: &SweepJob<'_>,
    objective: &Objective,
    window: &Window,
    number: usize,
    on_variant: &mut dyn FnMut(&VariantResult),
) -> Result<Option<(WindowResult, Option<RunReport>)>, WalkForwardError> {
    let timeline = job.universe.timeline();
    let at = |i: usize| timeline[i];
    let mut row = WindowResult {
        window: number,
        train_from: at(window.train.start),
        train_to: at(window.train.end - 1),
        train_bars: window.train.len(),
        test_from: at(window.test.start),
        test_to: at(window.test.end - 1),
        test_bars: window.test.len(),
        ran: 0,
        excluded: 0,
        failed: 0,
        variant: None,
        values: Vec::new(),
        in_sample: None,
        out_of_sample: None,
        in_sample_metrics: None,
        out_of_sample_metrics: None,
        note: None,
    };
    let training = match job.universe.slice(Some(row.train_from), Some(row.train_to)) {
        Ok(u) => u,
        Err(e) => {
            row.note = Some(format!("training part: {e}"));
            return Ok(Some((row, None)));
        }
    };
    let sweep = SweepJob {
        runtime: job.runtime,
        code: job.code,
        name: job.name,
        limits: job.limits,
        universe: &training,
        benchmark: job.benchmark.clone(),
        base: job.base.clone(),
        variants: job.variants,
        constraint: job.constraint,
        jobs: job.jobs,
        cancel: job.cancel.clone(),
    };
    let results = super::run(&sweep, on_variant)?;
    if results.cancelled {
        return Ok(None);
    }
    (row.ran, row.excluded, row.failed) = results.counts();
    let Some(&(best, metrics)) = results.leaderboard(objective, 1).first() else {
        row.note = Some("no variant was ranked (none ran, or none had a value and enough trades)".into());
        return Ok(Some((row, None)));
    };
    let variant = job.variants.get(best);
    row.variant = Some(best);
    row.values = variant.values.iter().map(|(n, v)| (n.to_string(), (*v).clone())).collect();
    row.in_sample = metrics[objective.metric];
    row.in_sample_metrics = Some(metrics.to_vec());
    match test_run(job, window, variant_spec(job, &variant)) {
        Ok(report) => {
            row.out_of_sample = metric_values(&report.metrics)[objective.metric];
            row.out_of_sample_metrics = Some(report.metrics.clone());
            Ok(Some((row, Some(report))))
        }
        Err(None) => Ok(None),
        Err(Some(message)) => {
            row.note = Some(format!("test run failed: {message}"));
            Ok(Some((row, None)))
        }
    }
}

/// The chosen variant's run over the window's training and test parts,
/// trading from the test part's first bar; `Err(None)` when cancelled.
fn test_run(job: &SweepJob<'_>, window: &Window, raw: engine::RawRunSpec) -> Result<RunReport, Option<String>> {
    let timeline = job.universe.timeline();
    let spec = RunSpec::try_from(raw).map_err(|e| Some(e.to_string()))?;
    let data = job
        .universe
        .slice(Some(timeline[window.train.start]), Some(timeline[window.test.end - 1]))
        .map_err(|e| Some(e.to_string()))?;
    let mut strategy =
        build(job.runtime, job.code, job.name, job.limits, job.cancel.clone()).map_err(|e| Some(e.to_string()))?;
    let mut config = spec.run_config();
    config.benchmark = job.benchmark.clone();
    config.trade_from = Some(timeline[window.test.start]);
    let hooks = RunHooks { cancel: job.cancel.clone(), ..RunHooks::default() };
    engine::run(&data, strategy.as_mut(), &config, hooks).map_err(|e| match e {
        EngineError::Cancelled { .. } => None,
        e => Some(e.to_string()),
    })
}

/// The test runs of the windows done chained from the base cash; a window
/// without a test run holds cash (its part of the curve is flat).
fn stitched(job: &SweepJob<'_>, plan: &[Window], runs: &[Option<RunReport>]) -> Option<Stitched> {
    let timeline = job.universe.timeline();
    let cash = job.base.broker.initial_cash;
    let flats: Vec<EquityCurve> = plan
        .iter()
        .zip(runs)
        .map(|(w, run)| match run {
            Some(_) => EquityCurve::default(),
            None => {
                let point = EquityPoint { equity: cash, cash, exposed: false };
                std::iter::repeat_n(point, w.test.len()).collect()
            }
        })
        .collect();
    let pieces: Vec<Piece<'_>> = plan
        .iter()
        .zip(runs)
        .zip(&flats)
        .map(|((w, run), flat)| match run {
            Some(r) => Piece {
                timeline: r.timeline(),
                equity: &r.equity,
                trades: &r.trades,
                initial_cash: r.broker_config.initial_cash,
                margin_calls: r.margin_calls.len(),
            },
            None => Piece {
                timeline: &timeline[w.test.clone()],
                equity: flat,
                trades: &[],
                initial_cash: cash,
                margin_calls: 0,
            },
        })
        .collect();
    let (first, last) = (plan.first()?, plan.get(runs.len().checked_sub(1)?)?);
    let span = job.universe.slice(Some(timeline[first.test.start]), Some(timeline[last.test.end - 1])).ok();
    let buy_hold = span.as_ref().and_then(buy_hold_return_pct);
    stitch(&pieces, cash, job.universe.symbols(), buy_hold)
}

/// The axis values as a JSON object of name → number, in the axes' order.
fn values_map<S: Serializer>(values: &[(String, AxisValue)], serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(values.len()))?;
    for (name, value) in values {
        match value.number {
            Number::Int(i) => map.serialize_entry(name, &i)?,
            Number::Float(x) => map.serialize_entry(name, &x)?,
        }
    }
    map.end()
}

/// A sweep's metrics as a JSON object of name → value, in [`METRICS`] order.
fn metrics_map<S: Serializer>(values: &Option<Vec<Option<f64>>>, serializer: S) -> Result<S::Ok, S::Error> {
    let Some(values) = values else { return serializer.serialize_none() };
    let mut map = serializer.serialize_map(Some(values.len()))?;
    for (column, value) in METRICS.iter().zip(values) {
        map.serialize_entry(column.name, value)?;
    }
    map.end()
}

#[cfg(test)]
mod tests;
