//! ABI version 4: a plugin that drives the bar loop with `bt.next_bar` gets
//! exactly the run a plugin called once per bar gets, and misuse fails the
//! run with a clear message.

use rust_decimal_macros::dec;

use super::tests::{limits, load, run_plugin, universe};
use super::*;
use crate::broker::BrokerConfig;
use crate::engine::{self, EngineError, ParamOverrides, Progress, RunConfig, RunHooks, RunReport};

/// A strategy in WebAssembly text whose per-bar logic is `$bar`: it buys on
/// bars where the index is a multiple of 7 and sells on the others that are
/// multiples of 5, and checks its shared SMA(5) against `bt.ind` bit for bit.
/// With `driven`, it exports `bt_on_bars` (version 4); otherwise `bt_on_bar`
/// (version 3).
fn strategy(driven: bool, loop_body: &str) -> String {
    let (version, entry) = if driven {
        (
            4,
            format!(
                r#"(func (export "bt_on_bars") (result i32)
                     (block $done (loop $bars
                       (br_if $done (i32.eqz (call $next_bar)))
                       {loop_body}
                       (br $bars)))
                     i32.const 0)"#
            ),
        )
    } else {
        (3, r#"(func (export "bt_on_bar") (result i32) (call $bar))"#.to_string())
    };
    format!(
        r#"(module
        (import "bt" "indicator" (func $indicator
            (param i32 i32 i32 i32 i32 i32 i32 i32 i32 f64) (result i32)))
        (import "bt" "ind" (func $ind (param i32 i32) (result f64)))
        (import "bt" "share_indicators" (func $share (param i32 i32) (result i32)))
        (import "bt" "bar_index" (func $bar_index (result i64)))
        (import "bt" "order" (func $order (param i32 i32 f64 i32 f64) (result i64)))
        (import "bt" "fail" (func $fail (param i32 i32)))
        {next_bar}
        (memory (export "memory") 1)
        (data (i32.const 0) "smashared value differs")
        (func (export "bt_abi_version") (result i32) i32.const {version})
        (func (export "bt_init") (result i32)
          (drop (call $indicator (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 3)
                                 (i32.const 0) (i32.const 3) (i32.const 5) (i32.const 0) (i32.const 0) (f64.const 0)))
          (drop (call $share (i32.const 1024) (i32.const 1)))
          i32.const 0)
        (func $same (param f64 f64) (result i32)
          (i64.eq (i64.reinterpret_f64 (local.get 0)) (i64.reinterpret_f64 (local.get 1))))
        (func $bar (result i32) (local $i i64)
          (if (i32.eqz (i32.and (call $same (f64.load (i32.const 1024)) (call $ind (i32.const 0) (i32.const 0)))
                                (call $same (f64.load (i32.const 1032)) (call $ind (i32.const 0) (i32.const 1)))))
            (then (call $fail (i32.const 3) (i32.const 20)) (return (i32.const 1))))
          (local.set $i (call $bar_index))
          (if (i64.eqz (i64.rem_u (local.get $i) (i64.const 7)))
            (then (drop (call $order (i32.const 0) (i32.const 1) (f64.const 3) (i32.const 0) (f64.const 0))))
            (else (if (i64.eqz (i64.rem_u (local.get $i) (i64.const 5)))
              (then (drop (call $order (i32.const 0) (i32.const -1) (f64.const 2) (i32.const 0) (f64.const 0)))))))
          i32.const 0)
        {entry})"#,
        next_bar = if driven { r#"(import "bt" "next_bar" (func $next_bar (result i32)))"# } else { "" },
    )
}

/// The usual loop body: the per-bar logic, failing the run on its status.
const LOOP: &str = "(if (call $bar) (then (return (i32.const 1))))";

/// Runs `wat` reporting progress every `every` steps, filling market orders
/// at the close or not; the report and the progress seen.
fn run_with_progress(wat: &str, every: usize, on_close: bool) -> (RunReport, Vec<(usize, rust_decimal::Decimal)>) {
    let mut strategy = load(wat, limits(), CancelToken::new()).expect("the plugin loads");
    let mut seen = Vec::new();
    let mut record = |p: Progress| seen.push((p.step, p.equity));
    let broker = BrokerConfig { trade_on_close: on_close, ..BrokerConfig::with_cash(dec!(100000)) };
    let config = RunConfig::new(broker, ParamOverrides::default());
    let hooks = RunHooks {
        cancel: CancelToken::new(),
        progress: Some(&mut record),
        progress_every: Some(every),
        shared_indicators: None,
    };
    let report = engine::run(&universe(), &mut strategy, &config, hooks).expect("the run succeeds");
    (report, seen)
}

#[test]
fn driving_the_loop_gives_the_same_run_as_being_called_per_bar() {
    for (every, on_close) in [(1, false), (7, false), (64, false), (1000, false), (7, true), (1000, true)] {
        let case = format!("progress every {every}, trade on close {on_close}");
        let (per_bar, per_bar_progress) = run_with_progress(&strategy(false, LOOP), every, on_close);
        let (driven, driven_progress) = run_with_progress(&strategy(true, LOOP), every, on_close);
        assert!(per_bar.trades.len() > 20, "not vacuous: {} trades", per_bar.trades.len());
        assert_eq!(driven.trades, per_bar.trades, "trades, {case}");
        assert_eq!(driven.equity, per_bar.equity, "equity curve, {case}");
        assert_eq!(driven.metrics, per_bar.metrics, "metrics, {case}");
        assert_eq!(driven_progress, per_bar_progress, "progress reports, {case}");
    }
    // Filling at the close is not the same run as filling at the next open.
    let (at_open, _) = run_with_progress(&strategy(true, LOOP), 7, false);
    let (at_close, _) = run_with_progress(&strategy(true, LOOP), 7, true);
    assert_ne!(at_open.trades, at_close.trades);
}

#[test]
fn a_failure_inside_the_loop_names_the_bar() {
    let body = "(if (i64.eq (call $bar_index) (i64.const 123)) (then unreachable)) (drop (call $bar))";
    let err = run_plugin(&strategy(true, body), limits(), CancelToken::new()).unwrap_err().to_string();
    assert!(err.contains("bt_on_bars"), "{err}");
    assert!(err.contains("failed at bar 123"), "{err}");
}

#[test]
fn returning_before_the_bars_are_done_fails_the_run() {
    // Takes one bar per call and returns 0 without hearing next_bar say 0.
    let wat = strategy(true, "(drop (call $bar)) (return (i32.const 0))");
    let err = run_plugin(&wat, limits(), CancelToken::new()).unwrap_err().to_string();
    assert!(err.contains("returned from its bar loop at step 0 before the engine's steps"), "{err}");
}

#[test]
fn next_bar_is_only_available_inside_bt_on_bars() {
    let wat = strategy(true, LOOP).replace(
        "(drop (call $share (i32.const 1024) (i32.const 1)))",
        "(drop (call $share (i32.const 1024) (i32.const 1))) (drop (call $next_bar))",
    );
    let err = run_plugin(&wat, limits(), CancelToken::new()).unwrap_err().to_string();
    assert!(err.contains("bt.next_bar: only available inside bt_on_bars"), "{err}");
}

#[test]
fn an_endless_loop_inside_bt_on_bars_runs_out_of_its_budget() {
    let wat = strategy(true, "(loop $forever (br $forever))");
    let err = run_plugin(&wat, limits(), CancelToken::new()).unwrap_err().to_string();
    assert!(err.contains("bt_on_bars"), "{err}");
    assert!(err.contains("exceeded its CPU budget"), "{err}");
}

#[test]
fn cancelling_reaches_a_plugin_inside_its_loop() {
    // Spins forever on bar 40. Loaded (compiled) before the clock starts.
    let body = "(if (i64.eq (call $bar_index) (i64.const 40)) (then (loop $spin (br $spin)))) (drop (call $bar))";
    let cancel = CancelToken::new();
    let limits = WasmLimits { budget: Budget::Time(std::time::Duration::from_secs(30)), ..limits() };
    let mut plugin = load(&strategy(true, body), limits, cancel.clone()).expect("the plugin loads");
    let token = cancel.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        token.cancel();
    });
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(100000)), ParamOverrides::default());
    let hooks = RunHooks { cancel, progress: None, progress_every: None, shared_indicators: None };
    let err = engine::run(&universe(), &mut plugin, &config, hooks).unwrap_err();
    canceller.join().unwrap();
    assert!(matches!(err, EngineError::Cancelled { step: 40 }), "{err}");
}

#[test]
fn older_versions_may_not_use_the_driven_loop() {
    let wat = strategy(true, LOOP).replace(
        "i32.const 4)\n        (func (export \"bt_init\")",
        "i32.const 3)\n        (func (export \"bt_init\")",
    );
    let err = load(&wat, limits(), CancelToken::new()).err().expect("refused").to_string();
    assert!(err.contains("declares ABI version 3 but exports 'bt_on_bars', which ABI version 4 added"), "{err}");
}

#[test]
fn a_plugin_without_either_bar_export_is_refused() {
    let wat = strategy(false, LOOP).replace(r#"(func (export "bt_on_bar") (result i32) (call $bar))"#, "");
    let err = load(&wat, limits(), CancelToken::new()).err().expect("refused").to_string();
    assert!(err.contains("does not export 'bt_on_bar' (nor 'bt_on_bars'"), "{err}");
}

#[test]
fn a_plugin_driving_the_loop_starts_warmed_up_after_trade_from() {
    // Traps on its first bar unless its shared SMA(5) has a value one bar back.
    let warmed = "(if (i64.eqz (call $bar_index)) (then
                    (if (f64.ne (f64.load (i32.const 1032)) (f64.load (i32.const 1032))) (then unreachable))))";
    let wat = strategy(true, &format!("{warmed} {LOOP}"));
    let from = universe().timeline()[100];
    let run = |wat: &str, trade_from| {
        let mut plugin = load(wat, limits(), CancelToken::new()).expect("the plugin loads");
        let config = RunConfig {
            trade_from,
            ..RunConfig::new(BrokerConfig::with_cash(dec!(100000)), ParamOverrides::default())
        };
        engine::run(&universe(), &mut plugin, &config, RunHooks::default())
    };
    let driven = run(&wat, Some(from)).expect("warmed up on bars 0..100");
    assert!(run(&wat, None).is_err(), "not vacuous: without a warm-up SMA(5) has no value on the first bar");
    let per_bar = run(&strategy(false, LOOP), Some(from)).unwrap();
    assert!(per_bar.trades.len() > 5, "not vacuous: {} trades", per_bar.trades.len());
    assert_eq!((per_bar.timeline()[0], per_bar.equity.amount(0).unwrap()), (from, dec!(100000)));
    assert_eq!((driven.trades, driven.equity), (per_bar.trades, per_bar.equity));
}
