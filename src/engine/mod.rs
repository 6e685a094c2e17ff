//! The run loop: steps through the universe's timeline, fills orders, feeds
//! indicators, calls the strategy and records the equity curve.
//!
//! Order of work within one step t (timestamp `ts`):
//! 1. each symbol with a bar stamped `ts` gets it as its fresh bar;
//! 2. the broker fills what those bars allow (orders from earlier steps);
//! 3. the indicators of those symbols take their bars;
//! 4. the strategy's `on_bar` runs, seeing bars up to t and nothing later;
//! 5. with trade-on-close, market orders fill at t's close;
//! 6. the account is marked at the close and recorded.
//!
//! Nothing here reads the clock: the same inputs give the same outputs.

mod config;
mod error;
mod report;

pub use config::{Benchmark, ParamOverrides, Progress, RunConfig, RunHooks};
pub use error::EngineError;
pub use report::{benchmark_curve, buy_hold_return_pct, RunReport};

use crate::broker::Broker;
use crate::data::Universe;
use crate::domain::EquityCurve;
use crate::strategy::{
    IndicatorBank, MarketView, Params, Phase, RunLog, RunState, Strategy, StrategyCtx, StrategyError, Timeframes,
};

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
    });
    let name = strategy.name().to_string();
    let fail = |function, step: Option<usize>, ts, error| match error {
        StrategyError::Cancelled => EngineError::Cancelled { step: step.unwrap_or(0) },
        error => EngineError::Strategy { strategy: name.clone(), function, step, ts, error: Box::new(error) },
    };

    strategy.init(&ctx).map_err(|e| fail("init", None, None, e))?;
    {
        let mut state = ctx.state_mut();
        let depth = state.market.lookback();
        state.indicators.set_depth(depth);
        state.phase = Phase::Bar;
    }

    let total = timeline.len();
    let progress_every = hooks.progress_every.unwrap_or(total / 200).max(1);
    let mut equity = EquityCurve::with_capacity(total);
    for (step, &ts) in timeline.iter().enumerate() {
        if hooks.cancel.is_cancelled() {
            return Err(EngineError::Cancelled { step });
        }
        {
            let mut guard = ctx.state_mut();
            let state = &mut *guard;
            state.previous_ts = (step > 0).then(|| timeline[step - 1]);
            state.step = step;
            state.ts = ts;
            state.market.advance(ts);
            state.broker.on_bar_open(step, ts, state.market.fresh());
            state.indicators.update(state.market.fresh());
            state.timeframes.advance(state.market.fresh());
        }
        strategy.on_bar(&ctx).map_err(|e| fail("on_bar", Some(step), Some(ts), e))?;
        {
            let mut guard = ctx.state_mut();
            let state = &mut *guard;
            state.broker.on_bar_close(step, ts, state.market.fresh());
            equity.push(state.broker.snapshot());
        }
        if let Some(report) = hooks.progress.as_mut() {
            if (step + 1) % progress_every == 0 || step + 1 == total {
                let last = equity.amounts()[step];
                report(Progress { step: step + 1, total, equity: last });
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
    equity.set_last(state.broker.snapshot());
    let log = std::mem::take(&mut state.log);
    Ok(RunReport::new(universe, params, equity, benchmark, &mut state.broker, log))
}

#[cfg(test)]
mod portfolio_tests;
#[cfg(test)]
mod tests;
