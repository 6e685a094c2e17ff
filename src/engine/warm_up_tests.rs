//! Runs with a warm-up ([`RunConfig::trade_from`]).
//!
//! Invariants: from the first traded step on, the strategy sees the bars
//! and indicator values a run over the whole data sees at the same bar;
//! the results (curve, trades, metrics) start there with the initial cash;
//! the strategy is not called on the warm-up bars, whether the engine calls
//! it per bar or it drives the loop itself.

use rust_decimal_macros::dec;

use super::tests::{config, universe, walk, Driven, Probe};
use super::*;
use crate::indicators::{IndicatorSpec, Source};
use crate::session::StrategyCtx;
use crate::strategy::native::SmaCross;

/// What a probe saw on each bar it was called on: the time, SMA(20) now
/// and one bar back, and the close 25 bars back.
type Seen = Vec<(Timestamp, Option<f64>, Option<f64>, Option<Decimal>)>;

fn probe_run(u: &Universe, cfg: &RunConfig) -> (Seen, RunReport) {
    let mut seen = Seen::new();
    let mut probe = Probe {
        init: |ctx| {
            ctx.set_lookback(30)?;
            ctx.declare_indicator("sma", 0, IndicatorSpec::Sma { period: 20, source: Source::Close })?;
            Ok(())
        },
        on_bar: |ctx: &StrategyCtx| {
            let back = ctx.bar(0, 25)?.map(|b| b.close());
            seen.push((ctx.time(), ctx.indicator("sma", 0)?, ctx.indicator("sma", 1)?, back));
            Ok(())
        },
    };
    let report = run(u, &mut probe, cfg, RunHooks::default()).unwrap();
    (seen, report)
}

#[test]
fn the_first_traded_bar_sees_the_indicators_and_bars_of_the_whole_run() {
    let u = universe(vec![("A", walk(200, 3))]);
    let timeline = u.timeline().to_vec();
    let (whole, _) = probe_run(&u, &config());
    // Between two bars: the first traded step is the next bar, step 50.
    let from = Timestamp(timeline[49].millis() + 1);
    let cfg = RunConfig { trade_from: Some(from), ..config() };
    let (warm, report) = probe_run(&u, &cfg);
    assert_eq!(warm.len(), 150, "called on steps 50..200 only");
    assert_eq!(warm[..], whole[50..]);
    // Not vacuous: SMA(20) is ready at the first traded bar, so are the
    // previous value and the bar 25 back, which a run starting there lacks.
    assert!(warm[0].1.is_some() && warm[0].2.is_some() && warm[0].3.is_some(), "{:?}", warm[0]);
    let (cold, _) = probe_run(&u.slice(Some(from), None).unwrap(), &config());
    assert_eq!((cold[0].1, cold[0].3), (None, None));
    // The results are those of steps 50..200.
    assert_eq!(report.timeline(), &timeline[50..]);
    assert_eq!(report.equity.len(), 150);
    assert_eq!(report.equity.amount(0).unwrap(), dec!(100000), "starts with the initial cash");
    assert_eq!((report.metrics.start, report.metrics.bars), (timeline[50], 150));
}

#[test]
fn an_sma_cross_makes_the_trades_of_the_whole_run_from_the_first_traded_bar() {
    let u = universe(vec![("A", walk(2_000, 5))]);
    let timeline = u.timeline().to_vec();
    let whole = run(&u, &mut SmaCross::default(), &config(), RunHooks::default()).unwrap();
    // Trading from 3 bars before an entry of the whole run (which is flat then).
    let k = whole.trades.iter().position(|t| t.entry_step > 700).unwrap();
    let entry = whole.trades[k].entry_step;
    assert!(whole.trades[k - 1].exit_step < entry - 3);
    let from = timeline[entry - 3];
    let cfg = RunConfig { trade_from: Some(from), ..config() };
    let warm = run(&u, &mut SmaCross::default(), &cfg, RunHooks::default()).unwrap();
    // An entry filled on step t comes from a cross seen on step t - 1: the
    // warm run sees the crosses from step 700 on, so it enters where the
    // whole run enters after step 700 (and exits where it exits; the
    // quantities differ, the cash does).
    let times = |r: &RunReport, after: Timestamp| -> Vec<(Timestamp, Timestamp, Decimal)> {
        r.trades.iter().filter(|t| t.entry_ts > after).map(|t| (t.entry_ts, t.exit_ts, t.entry_price)).collect()
    };
    let expected = times(&whole, from);
    assert!(expected.len() > 5, "not vacuous");
    assert_eq!(times(&warm, Timestamp(i64::MIN)), expected);
    assert_eq!(warm.equity.amount(0).unwrap(), dec!(100000));
    assert_eq!(warm.trades.iter().map(|t| t.net_pnl).sum::<Decimal>(), warm.metrics.final_equity - dec!(100000));
    // Trade steps count from the first traded bar.
    assert_eq!(warm.timeline()[warm.trades[0].entry_step], warm.trades[0].entry_ts);
    assert_eq!(warm.trades[0].entry_step, 3);
    // Without the warm-up that entry is missed: SMA(20) is not ready for 20 bars.
    let cold = run(&u.slice(Some(from), None).unwrap(), &mut SmaCross::default(), &config(), RunHooks::default());
    assert!(cold.unwrap().trades[0].entry_step > 3);
}

#[test]
fn a_strategy_driving_the_loop_warms_up_the_same_way() {
    let u = universe(vec![("A", walk(2_000, 5))]);
    let cfg = RunConfig { trade_from: Some(u.timeline()[900]), ..config() };
    let per_bar = run(&u, &mut SmaCross::default(), &cfg, RunHooks::default()).unwrap();
    let mut driven = Driven { inner: SmaCross::default(), cancel_at: None };
    let report = run(&u, &mut driven, &cfg, RunHooks::default()).unwrap();
    assert!(per_bar.trades.len() > 5, "not vacuous");
    assert_eq!(report.trades, per_bar.trades);
    assert_eq!(report.equity, per_bar.equity);
    assert_eq!(report.metrics, per_bar.metrics);
}

#[test]
fn trading_from_the_first_bar_or_before_is_a_plain_run_and_after_the_last_is_refused() {
    let u = universe(vec![("A", walk(500, 8))]);
    let plain = run(&u, &mut SmaCross::default(), &config(), RunHooks::default()).unwrap();
    for from in [u.timeline()[0], Timestamp(-1_000)] {
        let cfg = RunConfig { trade_from: Some(from), ..config() };
        let same = run(&u, &mut SmaCross::default(), &cfg, RunHooks::default()).unwrap();
        assert_eq!(
            (same.trades, same.equity, same.metrics),
            (plain.trades.clone(), plain.equity.clone(), plain.metrics.clone())
        );
    }
    let last = u.timeline()[499];
    let cfg = RunConfig { trade_from: Some(Timestamp(last.millis() + 1)), ..config() };
    let err = run(&u, &mut SmaCross::default(), &cfg, RunHooks::default()).unwrap_err();
    assert!(matches!(err, EngineError::TradeFrom { .. }), "{err}");
    assert!(err.to_string().contains("after the last bar"), "{err}");
}

#[test]
fn the_first_traded_bar_is_bar_0_and_starts_every_period() {
    let u = universe(vec![("A", walk(60, 2))]);
    // Daily bars from 1970-01-01: step 40 is 1970-02-10, inside a month.
    let cfg = RunConfig { trade_from: Some(u.timeline()[40]), ..config() };
    let mut seen = Vec::new();
    let mut probe = Probe {
        init: |_| Ok(()),
        on_bar: |ctx: &StrategyCtx| {
            seen.push((ctx.step(), ctx.schedule(crate::session::Period::Month)));
            Ok(())
        },
    };
    run(&u, &mut probe, &cfg, RunHooks::default()).unwrap();
    assert_eq!(seen[..3], [(0, true), (1, false), (2, false)]);
    // 1970-03-01 is step 59, bar 19 of the traded part.
    assert_eq!(seen[19], (19, true));
}
