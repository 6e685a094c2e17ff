//! The run loop: steps through the universe's timeline, fills orders, feeds
//! indicators, calls the strategy and records the equity curve.
//!
//! Order of work within one step t (timestamp `ts`; see `strategy::steps`):
//! 1. each symbol with a bar stamped `ts` gets it as its fresh bar;
//! 2. the broker fills what those bars allow (orders from earlier steps);
//! 3. the indicators of those symbols take their bars;
//! 4. the strategy's `on_bar` runs, seeing bars up to t and nothing later;
//! 5. with trade-on-close, market orders fill at t's close;
//! 6. the account is marked at the close and recorded.
//!
//! A strategy that drives the loop itself (a WASM plugin's `bt_on_bars`)
//! gets runs of steps and takes them one by one, doing the same work.
//!
//! Nothing here reads the clock: the same inputs give the same outputs.

mod config;
mod error;
mod manifest;
mod report;
mod spec;

pub use config::{Benchmark, ParamOverrides, Progress, RunConfig, RunHooks};
pub use error::EngineError;
pub use manifest::{
    DataSource, RunManifest, RunSettings, SandboxLimits, StrategySource, ENGINE_VERSION, RESULTS_VERSION,
};
pub use report::{benchmark_curve, buy_hold_return_pct, RunReport};
pub use spec::{RawRunSpec, RunSpec, SpecError};

use crate::broker::Broker;
use crate::data::Universe;
use crate::domain::EquityCurve;
use crate::strategy::{
    Crossings, IndicatorBank, MarketView, Params, Phase, RunLog, RunState, StepQueue, Strategy, StrategyCtx,
    StrategyError, Timeframes,
};

/// Most steps handed at once to a strategy that drives the loop itself.
const MAX_CHUNK: usize = 1 << 16;

/// Runs `strategy` over `universe` and returns its results.
///
/// # Errors
/// Unknown or mistyped parameters, an empty universe, strategy code that
/// fails (naming the call and the bar), or cancellation.
pub fn run(
    universe: &Universe,
    strategy: &mut dyn Strategy,
    config: &RunConfig,
    mut hooks: RunHooks<'_>,
) -> Result<RunReport, EngineError> {
    let timeline = universe.timeline();
    if timeline.is_empty() {
        return Err(EngineError::NoBars);
    }
    let benchmark = match &config.benchmark {
        Some(b) => Some((
            b.symbol.clone(),
            benchmark_curve(timeline, &b.bars, config.broker.initial_cash)
                .map_err(|reason| EngineError::Benchmark { symbol: b.symbol.to_string(), reason })?,
        )),
        None => None,
    };
    let (ctx, params) = initialized(universe, strategy, config, hooks.cancel.clone())?;
    let name = strategy.name().to_string();
    let fail = |function, step: Option<usize>, ts, error| match error {
        StrategyError::Cancelled => EngineError::Cancelled { step: step.unwrap_or(0) },
        error => EngineError::Strategy { strategy: name.clone(), function, step, ts, error: Box::new(error) },
    };
    {
        let mut state = ctx.state_mut();
        let depth = state.market.lookback();
        state.indicators.set_depth(depth);
        state.indicators.attach_prices(universe);
        state.phase = Phase::Bar;
    }

    let total = timeline.len();
    let progress_every = hooks.progress_every.unwrap_or(total / 200).max(1);
    ctx.state_mut().equity = EquityCurve::with_capacity(total);
    let drives = strategy.drives_bars();
    let mut done = 0;
    while done < total {
        if hooks.cancel.is_cancelled() {
            return Err(EngineError::Cancelled { step: done });
        }
        if drives {
            // Up to the next progress report; the runtime checks for
            // cancellation within the chunk.
            let end = ((done / progress_every + 1) * progress_every).min(total).min(done + MAX_CHUNK);
            ctx.state_mut().queue_steps(done, end);
            let result = strategy.on_bars(&ctx);
            let state = ctx.state();
            let at = (state.step, state.ts);
            if hooks.cancel.is_cancelled() {
                return Err(EngineError::Cancelled { step: at.0 });
            }
            if result.is_ok() && !state.steps.is_done() {
                let message = format!(
                    "the strategy returned from its bar loop at step {} before the engine's steps {done}..{end} were done",
                    at.0
                );
                drop(state);
                return Err(fail(
                    "on_bar",
                    Some(at.0),
                    Some(at.1),
                    StrategyError::Runtime { message, line: None, column: None },
                ));
            }
            drop(state);
            result.map_err(|e| fail("on_bar", Some(at.0), Some(at.1), e))?;
            done = end;
        } else {
            ctx.state_mut().begin_step(done);
            strategy.on_bar(&ctx).map_err(|e| fail("on_bar", Some(done), Some(timeline[done]), e))?;
            ctx.state_mut().end_step();
            done += 1;
        }
        if let Some(report) = hooks.progress.as_mut() {
            if done % progress_every == 0 || done == total {
                let last = ctx.state().equity.amounts()[done - 1];
                report(Progress { step: done, total, equity: last });
            }
        }
    }

    let (last_step, last_ts) = (total - 1, timeline[total - 1]);
    ctx.state_mut().phase = Phase::Finish;
    strategy.on_finish(&ctx).map_err(|e| fail("on_finish", Some(last_step), Some(last_ts), e))?;
    let mut state = ctx.state_mut();
    state.broker.finish(last_step, last_ts);
    // The equity curve ends at what the account holds once everything is
    // closed, so that trade PnL sums to the curve's change.
    let mut equity = std::mem::take(&mut state.equity);
    equity.set_last(state.broker.snapshot());
    let log = std::mem::take(&mut state.log);
    let mut report = RunReport::new(universe, params, equity, benchmark, &mut state.broker, log);
    report.sandbox = strategy.sandbox_usage();
    Ok(report)
}

/// Checks the parameters and runs the strategy's `init` against `universe`
/// as [`run`] begins, and stops there: what a run would fail on before its
/// first bar (a mistyped parameter, an indicator declared with a period it
/// cannot have), found without running it.
///
/// # Errors
/// As [`run`], for its parameters and `init`.
pub fn check_init(universe: &Universe, strategy: &mut dyn Strategy, config: &RunConfig) -> Result<(), EngineError> {
    if universe.timeline().is_empty() {
        return Err(EngineError::NoBars);
    }
    initialized(universe, strategy, config, crate::domain::CancelToken::new()).map(|_| ())
}

/// The strategy's context for the run, after its `init`, and the resolved
/// parameters; `universe` has at least one bar.
fn initialized(
    universe: &Universe,
    strategy: &mut dyn Strategy,
    config: &RunConfig,
    cancel: crate::domain::CancelToken,
) -> Result<(StrategyCtx, Params), EngineError> {
    let timeline = universe.timeline();
    let declared = strategy.declared_params().to_vec();
    let params = match &config.params {
        ParamOverrides::Text(list) => Params::from_text(&declared, list)?,
        ParamOverrides::Json(map) => Params::from_json(&declared, map)?,
    };
    let symbols = universe.symbols().to_vec();
    let ctx = StrategyCtx::new(RunState {
        phase: Phase::Init,
        step: 0,
        ts: timeline[0],
        previous_ts: None,
        market: MarketView::new(universe.clone()),
        indicators: IndicatorBank::new(symbols.len()),
        timeframes: Timeframes::default(),
        broker: Broker::new(config.broker.clone(), symbols),
        params: params.clone(),
        declared_params: declared,
        log: RunLog::default(),
        equity: EquityCurve::default(),
        steps: StepQueue::default(),
        cancel,
        crossings: Crossings::default(),
    });
    strategy.init(&ctx).map_err(|error| match error {
        StrategyError::Cancelled => EngineError::Cancelled { step: 0 },
        error => EngineError::Strategy {
            strategy: strategy.name().to_string(),
            function: "init",
            step: None,
            ts: None,
            error: Box::new(error),
        },
    })?;
    Ok((ctx, params))
}

#[cfg(test)]
mod portfolio_tests;
#[cfg(test)]
mod tests;
