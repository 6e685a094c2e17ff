//! Walk-forward optimisation: the sweep run on a training part of the
//! data, its best variant then run on the test part that follows, window
//! after window, and the test runs chained into one out-of-sample curve.
//!
//! - [`WalkForwardSpec`]: the lengths of the training and test parts
//!   (`train=2y,test=6m` or bar counts) and rolling or anchored training;
//! - [`windows`]: where the parts fall on the data's timeline;
//! - [`run`]: for each window, the sweep over the training part alone (as
//!   `backtester sweep` with `--start` and `--end` at its first and last
//!   bar, without `--resample`), the best variant by the objective (min trades honoured), then
//!   that variant's run over the training and test parts with trading from
//!   the test part's first bar ([`RunConfig::trade_from`](crate::engine::RunConfig::trade_from)):
//!   its indicators warm up on the training bars, its results are the test
//!   part's alone;
//! - [`Stitched`]: the test runs chained by their returns, with the
//!   project's run metrics of that curve;
//! - [`efficiency`]: the walk-forward efficiency.

mod results;
mod spec;
mod stitch;
mod windows;

pub use results::{WalkForward, WalkProgress, WindowResult};
pub use spec::{Length, WalkForwardSpec};
pub use stitch::Stitched;
pub use windows::{windows, Window};

use super::objective::ANNUAL_RETURN;
use super::runner::variant_spec;
use super::{metric_values, Objective, SweepError, SweepJob, VariantResult};
use crate::domain::{EquityCurve, EquityPoint};
use crate::engine::{self, buy_hold_return_pct, EngineError, RunHooks, RunReport, RunSpec};
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
/// through `job.cancel`, it stops and returns the windows done. Each
/// window's sweep runs every variant: `job.skip` is not used.
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
        values: serde_json::Value::Object(serde_json::Map::new()),
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
        skip: &[],
        only: None,
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
    row.values = super::values_json(job.variants, best);
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

#[cfg(test)]
mod tests;
