//! Runs a sweep's variants on several threads over one loaded universe:
//! each variant is the run `backtester run` would make with the variant's
//! parameters and settings, so its metrics are those of that run alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use super::axis::{AxisValue, Setting, Target};
use super::constraint::Constraint;
use super::deflated::{best_and_deflated, Deflated, ReturnShape};
use super::objective::{metric_values, Objective};
use super::variants::{Variant, VariantSet};
use super::SweepError;
use crate::broker::CommissionModel;
use crate::data::Universe;
use crate::domain::num::to_f64;
use crate::domain::CancelToken;
use crate::engine::{self, Benchmark, EngineError, ParamOverrides, RawRunSpec, RunHooks, RunSpec};
use crate::session::{Params, SharedIndicators};
use crate::strategy::{build, Runtime, Strategy, StrategyLimits};

/// What a sweep runs: one strategy, one universe, base settings, the variants.
pub struct SweepJob<'a> {
    /// The strategy's runtime.
    pub runtime: Runtime,
    /// The strategy's source or module bytes.
    pub code: &'a [u8],
    /// The strategy's name in errors (its file name).
    pub name: &'a str,
    /// The sandbox limits of each variant's run.
    pub limits: &'a StrategyLimits,
    /// The data, already windowed and resampled.
    pub universe: &'a Universe,
    /// The benchmark, if the runs have one.
    pub benchmark: Option<Benchmark>,
    /// The settings every variant starts from (its `--param`s as text).
    pub base: RawRunSpec,
    /// The variants.
    pub variants: &'a VariantSet,
    /// The constraint on the variants, as given.
    pub constraint: Option<&'a str>,
    /// How many variants run at once (at least 1).
    pub jobs: usize,
    /// Numbers of variants that finished before (a sweep resumed after a
    /// restart), ascending: they are not run again.
    pub skip: &'a [u64],
    /// Only the variants numbered in this range (a worker's chunk of a
    /// sweep); every variant when `None`.
    pub only: Option<std::ops::Range<u64>>,
    /// Stops the sweep between variants (and the variants running, between bars).
    pub cancel: CancelToken,
}

/// What became of one variant.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The constraint excluded it: it did not run.
    Excluded,
    /// It ran.
    Ran(Ran),
    /// Its run failed: the error as a person reads it.
    Failed(String),
}

/// What a sweep keeps of a variant that ran.
#[derive(Clone, Debug, PartialEq)]
pub struct Ran {
    /// Its metrics, in [`super::METRICS`] order.
    pub metrics: Vec<Option<f64>>,
    /// Its returns' Sharpe ratio and shape, for the Deflated Sharpe Ratio.
    pub shape: Option<ReturnShape>,
}

/// One variant's number and outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantResult {
    /// The variant's number (see [`VariantSet::get`]).
    pub number: u64,
    /// What became of it.
    pub outcome: Outcome,
}

/// Every finished variant's result, in variant order, and how long the sweep took.
#[derive(Debug)]
pub struct SweepResults {
    /// One per variant finished now, by number: every variant not skipped
    /// unless cancelled.
    pub results: Vec<VariantResult>,
    /// Wall time of the whole sweep.
    pub elapsed: Duration,
    /// Whether the sweep was cancelled before every variant finished (the
    /// results then hold those that finished; a variant stopped midway is
    /// not among them).
    pub cancelled: bool,
    /// How many distinct indicators (kind, arguments, symbol) were computed:
    /// each once per sweep, shared by every variant that declares it.
    pub indicators_computed: usize,
}

impl SweepResults {
    /// How many variants ran, were excluded, and failed.
    pub fn counts(&self) -> (u64, u64, u64) {
        let mut counts = (0, 0, 0);
        for r in &self.results {
            match r.outcome {
                Outcome::Ran(_) => counts.0 += 1,
                Outcome::Excluded => counts.1 += 1,
                Outcome::Failed(_) => counts.2 += 1,
            }
        }
        counts
    }

    /// The `top` best variants by `objective`, best first (ties by number):
    /// each with its metrics.
    pub fn leaderboard(&self, objective: &Objective, top: usize) -> Vec<(u64, &[Option<f64>])> {
        let mut ranked: Vec<(f64, u64, &Ran)> = self.scored(objective).collect();
        ranked.sort_by(better_first);
        ranked.into_iter().take(top).map(|(_, n, ran)| (n, ran.metrics.as_slice())).collect()
    }

    /// The variants ranked by `objective`, with their scores, in variant order.
    fn scored(&self, objective: &Objective) -> impl Iterator<Item = (f64, u64, &Ran)> + '_ {
        let objective = *objective;
        self.results.iter().filter_map(move |r| match &r.outcome {
            Outcome::Ran(ran) => objective.score(&ran.metrics).map(|s| (s, r.number, ran)),
            _ => None,
        })
    }

    /// The Deflated Sharpe Ratio of the best variant by `objective`, over
    /// every variant that ran with a Sharpe ratio (see [`super::deflated`]).
    pub fn deflated(&self, objective: &Objective) -> Option<Deflated> {
        let trials = self.results.iter().filter_map(|r| match &r.outcome {
            Outcome::Ran(ran) => Some((r.number, objective.score(&ran.metrics), ran.shape)),
            _ => None,
        });
        best_and_deflated(trials).1
    }
}

/// The order of a leaderboard: higher scores first, ties by variant number.
fn better_first(a: &(f64, u64, &Ran), b: &(f64, u64, &Ran)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// Checks `job`'s axes against the strategy and settings before anything runs.
///
/// # Errors
/// The strategy does not load, an axis names neither one of its parameters
/// nor a setting, or also a `--param`, or a setting value the broker
/// refuses, or a constraint that does not compile or evaluate.
pub fn check(job: &SweepJob<'_>) -> Result<(), SweepError> {
    let strategy = build(job.runtime, job.code, job.name, job.limits, job.cancel.clone())?;
    let declared = strategy.declared_params();
    let fixed: Vec<&str> = match &job.base.params {
        ParamOverrides::Text(list) => list.iter().filter_map(|p| p.split_once('=').map(|(n, _)| n.trim())).collect(),
        ParamOverrides::Json(map) => map.keys().map(String::as_str).collect(),
    };
    for axis in job.variants.axes() {
        match axis.target {
            Target::Param if !declared.iter().any(|p| p.name == axis.name) => {
                return Err(SweepError::UnknownAxis {
                    name: axis.name.clone(),
                    declared: crate::session::declared_names(declared),
                    settings: Setting::ALL.map(Setting::name).join(", "),
                })
            }
            Target::Param if fixed.contains(&axis.name.as_str()) => {
                return Err(SweepError::AxisAndParam(axis.name.clone()))
            }
            Target::Param => {
                // A value the parameter cannot take (1.5 for an int) would
                // fail every variant that has it: refused here instead.
                for value in &axis.values {
                    let mut params = ParamOverrides::Text(Vec::new());
                    add_param(&mut params, &axis.name, value);
                    let ParamOverrides::Text(list) = params else { continue };
                    Params::from_text(declared, &list).map_err(|e| SweepError::BadValue {
                        name: axis.name.clone(),
                        value: value.text.clone(),
                        reason: e.to_string(),
                    })?;
                }
            }
            Target::Setting(setting) => {
                for value in &axis.values {
                    let mut raw = job.base.clone();
                    apply(&mut raw, setting, &value.text);
                    raw.broker.check().map_err(|e| SweepError::BadValue {
                        name: axis.name.clone(),
                        value: value.text.clone(),
                        reason: e.reason,
                    })?;
                }
            }
        }
    }
    if let Some(text) = job.constraint {
        Constraint::parse(text)?.allows(&job.variants.get(0))?;
    }
    Ok(())
}

/// Runs every variant of `job`, calling `done` (on the calling thread) as
/// each finishes, in whatever order they finish. Cancelled, it stops
/// starting variants, stops those running between bars, and returns those
/// that finished.
///
/// # Errors
/// What [`check`] refuses.
pub fn run(job: &SweepJob<'_>, done: &mut dyn FnMut(&VariantResult)) -> Result<SweepResults, SweepError> {
    check(job)?;
    let started = Instant::now();
    let numbers = job.only.clone().map_or(0..job.variants.len(), |r| r.start..r.end.min(job.variants.len()));
    let end = numbers.end;
    let skipped = job.skip.iter().filter(|n| numbers.contains(n)).count() as u64;
    let expected = (end.saturating_sub(numbers.start)).saturating_sub(skipped);
    let shared = Arc::new(SharedIndicators::new());
    let next = AtomicU64::new(numbers.start);
    let mut results = Vec::with_capacity(usize::try_from(expected).unwrap_or(0).min(1 << 20));
    std::thread::scope(|scope| -> Result<(), SweepError> {
        let (send, receive) = mpsc::channel::<VariantResult>();
        for _ in 0..job.jobs.max(1) {
            let send = send.clone();
            let next = &next;
            let shared = &shared;
            scope.spawn(move || {
                // A constraint per thread: Rhai's engine stays on its thread.
                let constraint = job.constraint.map(Constraint::parse).transpose();
                // Compiled once per thread; each variant runs a fresh copy
                // where the runtime makes one (a Rhai script), else its own build.
                let template = build(job.runtime, job.code, job.name, job.limits, job.cancel.clone()).ok();
                loop {
                    let number = next.fetch_add(1, Ordering::Relaxed);
                    if number >= end || job.cancel.is_cancelled() {
                        break;
                    }
                    if job.skip.binary_search(&number).is_ok() {
                        continue;
                    }
                    let variant = job.variants.get(number);
                    let outcome = match &constraint {
                        Ok(c) => run_variant(job, c.as_ref(), &variant, shared, template.as_deref()),
                        Err(e) => Some(Outcome::Failed(e.to_string())),
                    };
                    // None: cancelled midway, not a result.
                    let Some(outcome) = outcome else { break };
                    if send.send(VariantResult { number, outcome }).is_err() {
                        break;
                    }
                }
            });
        }
        drop(send);
        for result in receive {
            done(&result);
            results.push(result);
        }
        Ok(())
    })?;
    let cancelled = job.cancel.is_cancelled() && (results.len() as u64) < expected;
    results.sort_unstable_by_key(|r| r.number);
    Ok(SweepResults { results, elapsed: started.elapsed(), cancelled, indicators_computed: shared.computed() })
}

/// Runs one variant as `backtester run` would with its values; `None`
/// when the sweep was cancelled while it ran.
fn run_variant(
    job: &SweepJob<'_>,
    constraint: Option<&Constraint>,
    variant: &Variant<'_>,
    shared: &Arc<SharedIndicators>,
    template: Option<&dyn Strategy>,
) -> Option<Outcome> {
    match constraint.map(|c| c.allows(variant)) {
        Some(Ok(false)) => return Some(Outcome::Excluded),
        Some(Err(e)) => return Some(Outcome::Failed(e.to_string())),
        _ => {}
    }
    let result = RunSpec::try_from(variant_spec(job, variant)).map_err(|e| Some(e.to_string())).and_then(|spec| {
        let mut strategy = match template.and_then(|t| t.fresh()) {
            Some(fresh) => fresh,
            None => build(job.runtime, job.code, job.name, job.limits, job.cancel.clone())
                .map_err(|e| Some(e.to_string()))?,
        };
        let mut config = spec.run_config();
        config.benchmark = job.benchmark.clone();
        let hooks = RunHooks {
            cancel: job.cancel.clone(),
            progress: None,
            progress_every: None,
            shared_indicators: Some(shared.clone()),
        };
        engine::run(job.universe, strategy.as_mut(), &config, hooks).map_err(|e| match e {
            EngineError::Cancelled { .. } => None,
            e => Some(e.to_string()),
        })
    });
    Some(match result {
        Ok(report) => {
            let equity: Vec<f64> = report.equity.amounts().map(to_f64).collect();
            Outcome::Ran(Ran { metrics: metric_values(&report.metrics), shape: ReturnShape::of(&equity) })
        }
        Err(message) => Outcome::Failed(message?),
    })
}

/// The settings of `variant`'s run: `job`'s base with the variant's values.
pub(super) fn variant_spec(job: &SweepJob<'_>, variant: &Variant<'_>) -> RawRunSpec {
    let mut raw = job.base.clone();
    for (axis, (_, value)) in job.variants.axes().iter().zip(&variant.values) {
        match axis.target {
            Target::Param => add_param(&mut raw.params, &axis.name, value),
            Target::Setting(setting) => apply(&mut raw, setting, &value.text),
        }
    }
    raw
}

/// Runs variant `number` of `job` again, alone, for its full results (the
/// trades and equity curve a sweep does not keep): the run the sweep made,
/// the engine being deterministic.
///
/// # Errors
/// Its settings are refused, its strategy does not load, or its run fails.
pub fn rerun(job: &SweepJob<'_>, number: u64) -> Result<engine::RunReport, String> {
    let variant = job.variants.get(number);
    let spec = RunSpec::try_from(variant_spec(job, &variant)).map_err(|e| e.to_string())?;
    let mut strategy =
        build(job.runtime, job.code, job.name, job.limits, job.cancel.clone()).map_err(|e| e.to_string())?;
    let mut config = spec.run_config();
    config.benchmark = job.benchmark.clone();
    let hooks = RunHooks { cancel: job.cancel.clone(), ..RunHooks::default() };
    engine::run(job.universe, strategy.as_mut(), &config, hooks).map_err(|e| e.to_string())
}

/// Adds `name` = `value` to the overrides, in their own form: text as
/// `run --param` gives it, or a JSON number.
fn add_param(params: &mut ParamOverrides, name: &str, value: &AxisValue) {
    match params {
        ParamOverrides::Text(list) => list.push(format!("{name}={}", value.text)),
        ParamOverrides::Json(map) => {
            map.insert(name.to_string(), value.number.to_json());
        }
    }
}

/// Sets `setting` to `text` (a decimal, checked by [`super::Axis::parse`]).
fn apply(raw: &mut RawRunSpec, setting: Setting, text: &str) {
    let Ok(value) = text.parse::<Decimal>() else { return };
    match setting {
        Setting::Cash => raw.broker.initial_cash = value,
        Setting::Commission => raw.broker.commission = CommissionModel::Percent { rate: value },
        Setting::SlippageBps => raw.broker.slippage_bps = value,
        Setting::Leverage => raw.broker.leverage = value,
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::broker::BrokerConfig;
    use crate::data::synthetic::random_walk;
    use crate::domain::{Symbol, Timestamp};
    use crate::sweep::{Axis, Selection};

    const SCRIPT: &str = r#"
        fn params() { #{ fast: 5, slow: 20 } }
        fn init(ctx) { ctx.sma("f", ctx.param("fast")); ctx.sma("s", ctx.param("slow")); }
        fn on_bar(ctx) {
            let c = ctx.cross("f", "s");
            if c > 0 { ctx.order_target_percent(1.0); } else if c < 0 { ctx.close_position(); }
        }
    "#;

    #[test]
    fn each_distinct_indicator_is_computed_once_per_sweep_and_results_match_runs_alone() {
        let universe = Universe::new(vec![(Symbol::new("A"), random_walk(3_000, 5, Timestamp(0), 60_000))]).unwrap();
        let axes = ["fast=5,10", "slow=20,30,40"].map(|a| Axis::parse(a).unwrap()).to_vec();
        let variants = VariantSet::new(axes, &Selection::Grid).unwrap();
        let limits = StrategyLimits::default();
        let base = RawRunSpec {
            broker: BrokerConfig::with_cash(dec!(10000)),
            start: None,
            end: None,
            resample: None,
            params: ParamOverrides::Text(Vec::new()),
        };
        let job = SweepJob {
            runtime: Runtime::Rhai,
            code: SCRIPT.as_bytes(),
            name: "cross.rhai",
            limits: &limits,
            universe: &universe,
            benchmark: None,
            base: base.clone(),
            variants: &variants,
            constraint: None,
            jobs: 2,
            skip: &[],
            only: None,
            cancel: CancelToken::new(),
        };
        let results = run(&job, &mut |_| {}).unwrap();
        // 6 variants declare 12 SMAs, of 5 distinct periods: 5, 10, 20, 30, 40.
        assert_eq!(results.indicators_computed, 5);
        // A worker's chunk: only the variants in its range, less those stored before, as the whole sweep ran them.
        let chunk = SweepJob {
            benchmark: None,
            base: base.clone(),
            skip: &[2],
            only: Some(1..5),
            cancel: CancelToken::new(),
            ..job
        };
        let chunk = run(&chunk, &mut |_| {}).unwrap();
        assert_eq!(chunk.results.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 3, 4]);
        assert!(chunk.results.iter().all(|r| results.results.contains(r)));
        assert!(!chunk.cancelled);
        // Overrides given as JSON (as the API gives them) take the axes' values as JSON numbers.
        let json_base = RawRunSpec { params: ParamOverrides::Json(serde_json::Map::new()), ..base.clone() };
        let from_json = run(&SweepJob { base: json_base, ..job }, &mut |_| {}).unwrap();
        assert_eq!(from_json.results, results.results);
        for r in &results.results {
            let Outcome::Ran(ran) = &r.outcome else { panic!("variant {} did not run: {:?}", r.number, r.outcome) };
            let mut raw = base.clone();
            let values = variants.get(r.number).values;
            raw.params = ParamOverrides::Text(values.iter().map(|(n, v)| format!("{n}={}", v.text)).collect());
            let spec = RunSpec::try_from(raw).unwrap();
            let mut alone = build(Runtime::Rhai, SCRIPT.as_bytes(), "cross.rhai", &limits, CancelToken::new()).unwrap();
            let report = engine::run(&universe, alone.as_mut(), &spec.run_config(), RunHooks::default()).unwrap();
            assert_eq!(ran.metrics, metric_values(&report.metrics), "variant {}", r.number);
            assert!(report.metrics.trades > 0, "not vacuous: variant {} traded", r.number);
        }
    }
}
