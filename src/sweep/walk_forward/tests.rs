//! A walk-forward against its parts done by hand: each window's choice is
//! the best of a sweep over the training part alone, each test run trades
//! the test part only, and the stitched curve chains them.

use rust_decimal_macros::dec;

use super::*;
use crate::broker::BrokerConfig;
use crate::data::synthetic::random_walk;
use crate::data::Universe;
use crate::domain::{CancelToken, Symbol, Timestamp};
use crate::engine::{ParamOverrides, RawRunSpec};
use crate::strategy::{Runtime, StrategyLimits};
use crate::sweep::{Axis, Selection, VariantSet};

const SCRIPT: &str = r#"
    fn params() { #{ fast: 5, slow: 20 } }
    fn init(ctx) { ctx.sma("f", ctx.param("fast")); ctx.sma("s", ctx.param("slow")); }
    fn on_bar(ctx) {
        let c = ctx.cross("f", "s");
        if c > 0 { ctx.order_target_percent(1.0); } else if c < 0 { ctx.close_position(); }
    }
"#;

fn base() -> RawRunSpec {
    RawRunSpec {
        broker: BrokerConfig::with_cash(dec!(10000)),
        start: None,
        end: None,
        resample: None,
        params: ParamOverrides::Text(Vec::new()),
    }
}

fn job<'a>(universe: &'a Universe, variants: &'a VariantSet, limits: &'a StrategyLimits) -> SweepJob<'a> {
    SweepJob {
        runtime: Runtime::Rhai,
        code: SCRIPT.as_bytes(),
        name: "cross.rhai",
        limits,
        universe,
        benchmark: None,
        base: base(),
        variants,
        constraint: None,
        jobs: 2,
        skip: &[],
        only: None,
        cancel: CancelToken::new(),
    }
}

#[test]
fn each_window_chooses_the_best_of_its_training_part_and_trades_its_test_part() {
    let universe = Universe::new(vec![(Symbol::new("A"), random_walk(1_200, 11, Timestamp(0), 86_400_000))]).unwrap();
    let axes = ["fast=5,10", "slow=20,40"].map(|a| Axis::parse(a).unwrap()).to_vec();
    let variants = VariantSet::new(axes, &Selection::Grid).unwrap();
    let limits = StrategyLimits::default();
    let job = job(&universe, &variants, &limits);
    let objective = Objective::new("return_pct", None, 0).unwrap();
    let spec = WalkForwardSpec::parse("train=500,test=200").unwrap();
    let (mut variant_events, mut window_events) = (0, 0);
    let wf = run(&job, &spec, &objective, &mut |p| match p {
        WalkProgress::Variant { windows, .. } => {
            assert_eq!(windows, 4);
            variant_events += 1;
        }
        WalkProgress::Window { .. } => window_events += 1,
    })
    .unwrap();
    // Tests at 500, 700, 900, 1100 (the last 100 bars long).
    assert_eq!((wf.windows.len(), window_events, variant_events), (4, 4, 16));
    assert!(!wf.cancelled);
    let timeline = universe.timeline();
    let mut chosen = Vec::new();
    for (k, row) in wf.windows.iter().enumerate() {
        let test_start = 500 + 200 * k;
        assert_eq!((row.train_from, row.train_to), (timeline[test_start - 500], timeline[test_start - 1]));
        assert_eq!((row.test_from, row.test_bars), (timeline[test_start], if k == 3 { 100 } else { 200 }));
        // The same sweep over the training part alone.
        let training = universe.slice(Some(row.train_from), Some(row.train_to)).unwrap();
        let alone = crate::sweep::run(
            &SweepJob { universe: &training, ..self::job(&universe, &variants, &limits) },
            &mut |_| {},
        )
        .unwrap();
        let (best, metrics) = alone.leaderboard(&objective, 1)[0];
        assert_eq!(row.variant, Some(best), "window {}", k + 1);
        assert_eq!(row.in_sample, metrics[objective.metric]);
        let oos = row.out_of_sample_metrics.as_ref().unwrap();
        assert_eq!((oos.start, oos.bars, oos.initial_equity), (row.test_from, row.test_bars, dec!(10000)));
        assert_eq!(row.out_of_sample, Some(oos.return_pct));
        chosen.push(best);
    }
    // Not vacuous: the windows do not all choose the same variant.
    assert!(chosen.iter().any(|&c| c != chosen[0]), "{chosen:?}");
    // The stitched curve: 700 test bars from 10000, ending at 10000 × Π (final_k / 10000).
    let stitched = wf.stitched.as_ref().unwrap();
    assert_eq!(stitched.timeline, timeline[500..]);
    let product = wf.windows.iter().fold(dec!(10000), |level, row| {
        (level * row.out_of_sample_metrics.as_ref().unwrap().final_equity / dec!(10000)).round_dp(8)
    });
    assert!(
        (stitched.metrics.final_equity - product).abs() < dec!(0.0001),
        "{} {product}",
        stitched.metrics.final_equity
    );
    let trades: usize = wf.windows.iter().map(|r| r.out_of_sample_metrics.as_ref().unwrap().trades).sum();
    assert_eq!(stitched.metrics.trades, trades);
    // Walk-forward efficiency from its parts.
    let in_sample: Vec<f64> =
        wf.windows.iter().map(|r| r.in_sample_metrics.as_ref().unwrap()[ANNUAL_RETURN].unwrap()).collect();
    let mean = in_sample.iter().sum::<f64>() / 4.0;
    assert_eq!(wf.efficiency, Some(stitched.metrics.annual_return_pct.unwrap() / mean));
}

#[test]
fn a_window_without_a_ranked_variant_says_so_and_holds_cash() {
    let universe = Universe::new(vec![(Symbol::new("A"), random_walk(700, 4, Timestamp(0), 86_400_000))]).unwrap();
    let variants = VariantSet::new(vec![Axis::parse("fast=5").unwrap()], &Selection::Grid).unwrap();
    let limits = StrategyLimits::default();
    let job = job(&universe, &variants, &limits);
    // No variant makes a million trades.
    let objective = Objective::new("sharpe", None, 1_000_000).unwrap();
    let wf = run(&job, &WalkForwardSpec::parse("train=500,test=100").unwrap(), &objective, &mut |_| {}).unwrap();
    assert_eq!(wf.windows.len(), 2);
    for row in &wf.windows {
        assert_eq!((row.variant, row.out_of_sample_metrics.is_none()), (None, true));
        assert!(row.note.as_deref().is_some_and(|n| n.starts_with("no variant was ranked")), "{:?}", row.note);
    }
    let stitched = wf.stitched.unwrap();
    assert!(stitched.equity.amounts().all(|e| e == dec!(10000)));
    assert_eq!((stitched.metrics.bars, wf.efficiency), (200, None));
}

#[test]
fn cancelling_keeps_the_windows_done() {
    let universe = Universe::new(vec![(Symbol::new("A"), random_walk(900, 4, Timestamp(0), 86_400_000))]).unwrap();
    let variants = VariantSet::new(vec![Axis::parse("fast=5,8").unwrap()], &Selection::Grid).unwrap();
    let limits = StrategyLimits::default();
    let job = job(&universe, &variants, &limits);
    let cancel = job.cancel.clone();
    let objective = Objective::new("return_pct", None, 0).unwrap();
    let spec = WalkForwardSpec::parse("train=500,test=100").unwrap();
    let wf = run(&job, &spec, &objective, &mut |p| {
        if let WalkProgress::Window { .. } = p {
            cancel.cancel();
        }
    })
    .unwrap();
    assert!(wf.cancelled);
    assert_eq!(wf.windows.len(), 1);
    assert_eq!(wf.stitched.unwrap().metrics.bars, 100);
}

#[test]
fn efficiency_is_out_of_sample_over_the_mean_in_sample_annual_return() {
    assert_eq!(efficiency(Some(10.0), &[20.0, 30.0]), Some(0.4)); // 10 / ((20 + 30) / 2)
    assert_eq!(efficiency(Some(-5.0), &[10.0]), Some(-0.5));
    assert_eq!(efficiency(Some(10.0), &[]), None);
    assert_eq!(efficiency(Some(10.0), &[5.0, -5.0]), None, "a mean of 0");
    assert_eq!(efficiency(None, &[10.0]), None);
}

#[test]
fn a_spec_too_long_for_the_data_is_refused_before_anything_runs() {
    let universe = Universe::new(vec![(Symbol::new("A"), random_walk(300, 4, Timestamp(0), 86_400_000))]).unwrap();
    let variants = VariantSet::new(vec![Axis::parse("fast=5").unwrap()], &Selection::Grid).unwrap();
    let limits = StrategyLimits::default();
    let objective = Objective::new("sharpe", None, 0).unwrap();
    let err = run(
        &job(&universe, &variants, &limits),
        &WalkForwardSpec::parse("train=300,test=10").unwrap(),
        &objective,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("--walk-forward train: 300 bars leaves nothing to test"), "{err}");
}
