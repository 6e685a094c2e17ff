//! The run loop: steps through the universe's timeline, fills orders, feeds
//! indicators, calls the strategy and records the equity curve.
//!
//! Order of work within one step t (timestamp `ts`; see `session::steps`):
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
//! With [`RunConfig::trade_from`], the steps are those from that timestamp
//! on; the bars before it are a warm-up, taken in before the first step
//! by the strategy's view of the bars and its indicators only (see
//! [`Session::warm_up`]): results are those of the traded part alone.
//!
//! Nothing here reads the clock: the same inputs give the same outputs.

mod bar_loop;
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

use rust_decimal::Decimal;

use crate::data::Universe;
use crate::domain::{CancelToken, Symbol, Timestamp};
use crate::session::{Params, Session};
use crate::strategy::{Strategy, StrategyError};

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
    if universe.timeline().is_empty() {
        return Err(EngineError::NoBars);
    }
    let traded = traded_part(universe, config)?;
    let benchmark = benchmark(&traded, config)?;
    let first_step = universe.len() - traded.len();
    let (session, params) = initialized(universe, first_step, strategy, config, hooks.cancel.clone())?;
    session.start_bars(hooks.shared_indicators.as_deref());
    session.warm_up();
    bar_loop::run_bars(&session, strategy, &mut hooks)?;
    finished(&traded, &session, strategy, params, benchmark)
}

/// The part of `universe` the run trades: from [`RunConfig::trade_from`]
/// on, or all of it.
///
/// # Errors
/// No step at or after `trade_from`, or a symbol without a bar from then on.
fn traded_part(universe: &Universe, config: &RunConfig) -> Result<Universe, EngineError> {
    let Some(from) = config.trade_from else {
        return Ok(universe.clone());
    };
    let last = universe.timeline()[universe.len() - 1];
    if from > last {
        return Err(EngineError::TradeFrom { trade_from: from, reason: format!("after the last bar ({last})") });
    }
    universe.slice(Some(from), None).map_err(|e| EngineError::TradeFrom { trade_from: from, reason: e.to_string() })
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
    initialized(universe, 0, strategy, config, CancelToken::new()).map(|_| ())
}

/// The benchmark's buy-and-hold curve on the run's timeline, if the run has one.
fn benchmark(universe: &Universe, config: &RunConfig) -> Result<Option<(Symbol, Vec<Decimal>)>, EngineError> {
    let Some(b) = &config.benchmark else {
        return Ok(None);
    };
    let curve = benchmark_curve(universe.timeline(), &b.bars, config.broker.initial_cash)
        .map_err(|reason| EngineError::Benchmark { symbol: b.symbol.to_string(), reason })?;
    Ok(Some((b.symbol.clone(), curve)))
}

/// The run's session after the strategy's `init`, and the resolved
/// parameters; `universe` has at least one bar, and steps from index
/// `first_step` of its timeline on.
fn initialized(
    universe: &Universe,
    first_step: usize,
    strategy: &mut dyn Strategy,
    config: &RunConfig,
    cancel: CancelToken,
) -> Result<(Session, Params), EngineError> {
    let declared = strategy.declared_params().to_vec();
    let params = match &config.params {
        ParamOverrides::Text(list) => Params::from_text(&declared, list)?,
        ParamOverrides::Json(map) => Params::from_json(&declared, map)?,
    };
    let session = Session::new(universe, first_step, config.broker.clone(), declared, params.clone(), cancel);
    strategy.init(session.ctx()).map_err(|error| failed(strategy.name(), "init", None, error))?;
    Ok((session, params))
}

/// Runs the strategy's `on_finish`, closes what is open and builds the report.
fn finished(
    universe: &Universe,
    session: &Session,
    strategy: &mut dyn Strategy,
    params: Params,
    benchmark: Option<(Symbol, Vec<Decimal>)>,
) -> Result<RunReport, EngineError> {
    let timeline = universe.timeline();
    let last = (timeline.len() - 1, timeline[timeline.len() - 1]);
    session.start_finish();
    strategy.on_finish(session.ctx()).map_err(|error| failed(strategy.name(), "on_finish", Some(last), error))?;
    let mut report = session.finish(|end| RunReport::new(universe, params, end.equity, benchmark, end.broker, end.log));
    report.sandbox = strategy.sandbox_usage();
    Ok(report)
}

/// The engine's error for `error`, raised by `strategy`'s `function` at
/// step `at` (`None` in `init`).
fn failed(strategy: &str, function: &'static str, at: Option<(usize, Timestamp)>, error: StrategyError) -> EngineError {
    match error {
        StrategyError::Cancelled => EngineError::Cancelled { step: at.map_or(0, |(step, _)| step) },
        error => EngineError::Strategy {
            strategy: strategy.to_string(),
            function,
            step: at.map(|(step, _)| step),
            ts: at.map(|(_, ts)| ts),
            error: Box::new(error),
        },
    }
}

#[cfg(test)]
mod portfolio_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod warm_up_tests;
