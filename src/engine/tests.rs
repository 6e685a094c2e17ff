//! The run loop with native strategies.
//!
//! Invariants: a strategy never sees a bar stamped after the current step;
//! an order placed on step t fills at the earliest on step t + 1; the sum of
//! trade net PnL equals final equity minus initial cash; the same inputs
//! give the same outputs.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::broker::{BrokerConfig, CommissionModel};
use crate::data::synthetic::random_walk;
use crate::domain::{Bar, CancelToken, Symbol, Timestamp};
use crate::session::{BarLoop, ParamSpec, StrategyCtx};
use crate::strategy::native::SmaCross;
use crate::strategy::StrategyError;

pub(super) fn universe(series: Vec<(&str, Vec<Bar>)>) -> Universe {
    Universe::new(series.into_iter().map(|(s, b)| (Symbol::new(s), b)).collect()).unwrap()
}

pub(super) fn walk(n: usize, seed: u64) -> Vec<Bar> {
    random_walk(n, seed, Timestamp(0), 86_400_000)
}

pub(super) fn config() -> RunConfig {
    RunConfig::new(BrokerConfig::with_cash(dec!(100000)), ParamOverrides::default())
}

/// A strategy made of closures, for probing the engine.
pub(super) struct Probe<F: FnMut(&StrategyCtx) -> Result<(), StrategyError>> {
    pub init: fn(&StrategyCtx) -> Result<(), StrategyError>,
    pub on_bar: F,
}

impl<F: FnMut(&StrategyCtx) -> Result<(), StrategyError>> Strategy for Probe<F> {
    fn name(&self) -> &str {
        "probe"
    }
    fn declared_params(&self) -> &[ParamSpec] {
        &[]
    }
    fn init(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError> {
        (self.init)(ctx)
    }
    fn on_bar(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError> {
        (self.on_bar)(ctx)
    }
    fn on_finish(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        Ok(())
    }
}

#[test]
fn a_strategy_sees_no_bar_after_the_current_step() {
    let u = universe(vec![("A", walk(300, 1))]);
    let mut checked = 0;
    let mut probe = Probe {
        init: |ctx| Ok(ctx.set_lookback(50)?),
        on_bar: |ctx: &StrategyCtx| {
            let now = ctx.time();
            for k in 0..50 {
                if let Some(bar) = ctx.bar(0, k)? {
                    assert!(bar.ts <= now, "bar {k} back is stamped {} after now {now}", bar.ts);
                    if k == 0 {
                        assert_eq!(bar.ts, now);
                    }
                }
            }
            assert!(ctx.bar(0, 50).is_err(), "beyond the lookback");
            checked += 1;
            Ok(())
        },
    };
    run(&u, &mut probe, &config(), RunHooks::default()).unwrap();
    assert_eq!(checked, 300);
}

#[test]
fn an_order_placed_on_a_bar_fills_at_the_next_open() {
    let bars = walk(10, 2);
    let u = universe(vec![("A", bars.clone())]);
    let mut probe = Probe {
        init: |_| Ok(()),
        on_bar: |ctx: &StrategyCtx| {
            if ctx.step() == 3 {
                ctx.order(0, crate::domain::Side::Buy, 1.0, crate::session::PriceKind::Market)?;
            }
            Ok(())
        },
    };
    let report = run(&u, &mut probe, &config(), RunHooks::default()).unwrap();
    let t = &report.trades[0];
    assert_eq!((t.entry_step, t.entry_price), (4, bars[4].open()));
    assert!(t.closed_at_end);
    assert_eq!((t.exit_step, t.exit_price), (9, bars[9].close()));
}

#[test]
fn trade_pnl_sums_to_the_change_in_equity_with_costs() {
    let u = universe(vec![("A", walk(3_000, 3))]);
    let mut cfg = config();
    cfg.broker.commission = CommissionModel::Percent { rate: dec!(0.001) };
    cfg.broker.slippage_bps = dec!(5);
    let report = run(&u, &mut SmaCross::default(), &cfg, RunHooks::default()).unwrap();
    assert!(report.trades.len() > 20, "enough trades to mean something");
    let pnl: Decimal = report.trades.iter().map(|t| t.net_pnl).sum();
    let last = report.equity.last().unwrap();
    assert_eq!(pnl, last.equity - dec!(100000));
    assert_eq!(last.equity, last.cash, "everything is closed at the end");
    assert!(report.equity.iter().all(|p| p.cash >= Decimal::ZERO));
}

#[test]
fn the_same_run_twice_gives_identical_results() {
    let u = universe(vec![("A", walk(2_000, 4))]);
    let once = run(&u, &mut SmaCross::default(), &config(), RunHooks::default()).unwrap();
    let twice = run(&u, &mut SmaCross::default(), &config(), RunHooks::default()).unwrap();
    assert_eq!(once.trades, twice.trades);
    assert_eq!(once.equity, twice.equity);
    assert_eq!(once.metrics, twice.metrics);
}

#[test]
fn symbols_only_get_bars_at_their_own_timestamps() {
    let a = walk(6, 5);
    let b: Vec<Bar> = walk(6, 6).into_iter().step_by(2).collect(); // days 0, 2, 4
    let u = universe(vec![("A", a), ("B", b)]);
    let mut seen = Vec::new();
    let mut probe = Probe {
        init: |_| Ok(()),
        on_bar: |ctx: &StrategyCtx| {
            seen.push((ctx.has_bar(0), ctx.has_bar(1), ctx.bar(1, 0)?.map(|b| b.ts)));
            Ok(())
        },
    };
    run(&u, &mut probe, &config(), RunHooks::default()).unwrap();
    let day = |d: i64| Some(Timestamp(d * 86_400_000));
    assert_eq!(
        seen,
        vec![
            (true, true, day(0)),
            (true, false, day(0)), // B's latest bar is still day 0: no new bar, no forward fill
            (true, true, day(2)),
            (true, false, day(2)),
            (true, true, day(4)),
            (true, false, day(4)),
        ]
    );
}

#[test]
fn a_failing_strategy_names_the_call_and_the_bar() {
    let u = universe(vec![("A", walk(20, 7))]);
    let mut probe = Probe {
        init: |_| Ok(()),
        on_bar: |ctx: &StrategyCtx| {
            ctx.indicator("nope", 0)?;
            Ok(())
        },
    };
    let err = run(&u, &mut probe, &config(), RunHooks::default()).unwrap_err().to_string();
    assert_eq!(err, "probe: on_bar failed at bar 0 (1970-01-01): unknown indicator 'nope'; declared: (none)");
}

#[test]
fn unknown_parameters_fail_before_anything_runs() {
    let u = universe(vec![("A", walk(20, 8))]);
    let mut cfg = config();
    cfg.params = ParamOverrides::Text(vec!["fats=3".into()]);
    let err = run(&u, &mut SmaCross::default(), &cfg, RunHooks::default()).unwrap_err();
    assert_eq!(err.to_string(), "unknown parameter 'fats'; the strategy declares: fast, slow");
}

#[test]
fn a_cancelled_run_stops() {
    let u = universe(vec![("A", walk(5_000, 9))]);
    let cancel = CancelToken::new();
    let token = cancel.clone();
    let mut probe = Probe {
        init: |_| Ok(()),
        on_bar: move |ctx: &StrategyCtx| {
            if ctx.step() == 100 {
                token.cancel();
            }
            Ok(())
        },
    };
    let err = run(
        &u,
        &mut probe,
        &config(),
        RunHooks { cancel, progress: None, progress_every: None, shared_indicators: None },
    )
    .unwrap_err();
    assert!(matches!(err, EngineError::Cancelled { step: 101 }), "{err}");
}

#[test]
fn progress_reaches_the_last_step() {
    let u = universe(vec![("A", walk(1_000, 10))]);
    let mut last = None;
    let mut on_progress = |p: Progress| last = Some((p.step, p.total));
    let hooks = RunHooks {
        cancel: CancelToken::new(),
        progress: Some(&mut on_progress),
        progress_every: None,
        shared_indicators: None,
    };
    run(&u, &mut SmaCross::default(), &config(), hooks).unwrap();
    assert_eq!(last, Some((1_000, 1_000)));
}

/// Runs an inner strategy's `on_bar` from a loop of its own, as a WASM
/// plugin's `bt_on_bars` does; `cancel_at` cancels the run from inside the
/// loop once that step has begun.
pub(super) struct Driven<S> {
    pub inner: S,
    pub cancel_at: Option<(usize, CancelToken)>,
}

impl<S: Strategy> Strategy for Driven<S> {
    fn name(&self) -> &str {
        "driven"
    }
    fn declared_params(&self) -> &[ParamSpec] {
        self.inner.declared_params()
    }
    fn init(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError> {
        self.inner.init(ctx)
    }
    fn on_bar(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        unreachable!("the engine calls on_bars")
    }
    fn drives_bars(&self) -> bool {
        true
    }
    fn on_bars(&mut self, ctx: &StrategyCtx, bars: &BarLoop) -> Result<(), StrategyError> {
        while bars.next() {
            if let Some((step, token)) = &self.cancel_at {
                if ctx.step() == *step {
                    token.cancel();
                }
            }
            self.inner.on_bar(ctx)?;
        }
        Ok(())
    }
    fn on_finish(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError> {
        self.inner.on_finish(ctx)
    }
}

#[test]
fn a_strategy_driving_the_loop_gets_the_run_the_engine_gives() {
    let u = universe(vec![("A", walk(2_000, 5))]);
    let cfg = config();
    let per_bar = run(&u, &mut SmaCross::default(), &cfg, RunHooks::default()).unwrap();
    let mut driven = Driven { inner: SmaCross::default(), cancel_at: None };
    let report = run(&u, &mut driven, &cfg, RunHooks::default()).unwrap();
    assert!(per_bar.trades.len() > 10, "not vacuous");
    assert_eq!(report.trades, per_bar.trades);
    assert_eq!(report.equity, per_bar.equity);
    assert_eq!(report.metrics, per_bar.metrics);
}

#[test]
fn cancelling_stops_a_driving_strategy_between_bars() {
    let u = universe(vec![("A", walk(2_000, 5))]);
    let cancel = CancelToken::new();
    let mut driven = Driven { inner: SmaCross::default(), cancel_at: Some((700, cancel.clone())) };
    let hooks = RunHooks { cancel, progress: None, progress_every: None, shared_indicators: None };
    let err = run(&u, &mut driven, &config(), hooks).unwrap_err();
    assert!(matches!(err, EngineError::Cancelled { step: 700 }), "{err}");
}
