//! Plugins written inline in WebAssembly text: the ABI checks, the sandbox
//! and the host functions. Each hostile plugin fails its own run with a
//! clear message, and a well-behaved run on the same engine follows it.

use std::time::Duration;

use rust_decimal_macros::dec;

use super::*;
use crate::broker::BrokerConfig;
use crate::data::synthetic::random_walk;
use crate::data::Universe;
use crate::domain::{Symbol, Timestamp};
use crate::engine::{self, EngineError, ParamOverrides, RunConfig, RunHooks, RunReport};

pub(super) fn universe() -> Universe {
    let bars = random_walk(300, 21, Timestamp(0), 86_400_000);
    Universe::new(vec![(Symbol::new("A"), bars)]).unwrap()
}

pub(super) fn limits() -> WasmLimits {
    WasmLimits { budget: Budget::Time(Duration::from_millis(300)), memory_bytes: 2 << 20, ..WasmLimits::default() }
}

/// A module with the usual imports and memory around `body`.
fn module(body: &str) -> String {
    format!(
        r#"(module
             (import "bt" "log" (func $log (param i32 i32)))
             (import "bt" "fail" (func $fail (param i32 i32)))
             (import "bt" "bar_index" (func $bar_index (result i64)))
             (import "bt" "order_target_percent" (func $target (param i32 f64) (result i64)))
             (memory (export "memory") 1)
             (data (i32.const 16) "hello from wat")
             {body})"#
    )
}

const VERSION_1: &str = r#"(func (export "bt_abi_version") (result i32) i32.const 1)"#;

pub(super) fn load(wat: &str, limits: WasmLimits, cancel: CancelToken) -> Result<WasmStrategy, StrategyError> {
    let plugin = CompiledPlugin::compile(wat.as_bytes(), "test.wat", &limits)?;
    WasmStrategy::instantiate(&plugin, "test.wat", limits, cancel)
}

pub(super) fn run_plugin(wat: &str, limits: WasmLimits, cancel: CancelToken) -> Result<RunReport, EngineError> {
    let mut strategy = load(wat, limits, cancel.clone()).expect("the plugin loads");
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(100000)), ParamOverrides::default());
    engine::run(
        &universe(),
        &mut strategy,
        &config,
        RunHooks { cancel, progress: None, progress_every: None, shared_indicators: None },
    )
}

fn run_error(body: &str) -> String {
    run_plugin(&module(&format!("{VERSION_1} {body}")), limits(), CancelToken::new())
        .expect_err("the run fails")
        .to_string()
}

/// Buys on the first bar and logs from its data segment.
fn good() -> String {
    module(&format!(
        r#"{VERSION_1}
           (func (export "bt_on_bar") (result i32)
             (if (i64.eqz (call $bar_index))
               (then (drop (call $target (i32.const 0) (f64.const 1)))
                     (call $log (i32.const 16) (i32.const 14))))
             i32.const 0)"#
    ))
}

fn assert_next_run_succeeds() {
    let report = run_plugin(&good(), limits(), CancelToken::new()).expect("a good plugin runs after a bad one");
    assert_eq!(report.trades.len(), 1);
    assert_eq!(report.log.lines[0].message, "hello from wat");
}

#[test]
fn a_well_behaved_plugin_trades_and_logs() {
    assert_next_run_succeeds();
}

#[test]
fn an_endless_loop_runs_out_of_its_time_budget() {
    let err = run_error(r#"(func (export "bt_on_bar") (result i32) (loop $l (br $l)) i32.const 0)"#);
    assert!(err.contains("on_bar failed at bar 0"), "{err}");
    assert!(err.contains("exceeded its CPU budget of 0.3 s"), "{err}");
    assert_next_run_succeeds();
}

#[test]
fn an_endless_loop_runs_out_of_fuel_when_fuel_is_the_budget() {
    let wat = module(&format!(r#"{VERSION_1} (func (export "bt_on_bar") (result i32) (loop $l (br $l)) i32.const 0)"#));
    let limits = WasmLimits { budget: Budget::Fuel(1_000_000), ..limits() };
    let err = run_plugin(&wat, limits, CancelToken::new()).unwrap_err().to_string();
    assert!(err.contains("ran out of fuel: its budget is 1000000 instructions"), "{err}");
    assert_next_run_succeeds();
}

#[test]
fn unbounded_memory_growth_hits_the_memory_limit() {
    let err = run_error(
        r#"(func (export "bt_on_bar") (result i32)
             (loop $l (drop (memory.grow (i32.const 1))) (br $l)) i32.const 0)"#,
    );
    assert!(err.contains("exceeded its memory limit of 2 MiB"), "{err}");
    assert_next_run_succeeds();
}

#[test]
fn deep_recursion_overflows_the_stack() {
    let err = run_error(
        r#"(func $down (param i32) (result i32) (i32.add (call $down (local.get 0)) (i32.const 1)))
           (func (export "bt_on_bar") (result i32) (drop (call $down (i32.const 0))) i32.const 0)"#,
    );
    assert!(err.contains("overflowed its stack of 512 KiB"), "{err}");
    assert_next_run_succeeds();
}

#[test]
fn an_explicit_trap_names_the_function() {
    let err = run_error(r#"(func $boom (export "bt_on_bar") (result i32) unreachable)"#);
    assert!(err.contains("trapped: wasm `unreachable` executed"), "{err}");
    assert!(err.contains("in `boom`"), "{err}");
    assert_next_run_succeeds();
}

#[test]
fn a_failure_status_reports_the_plugins_message() {
    let err =
        run_error(r#"(func (export "bt_on_bar") (result i32) (call $fail (i32.const 16) (i32.const 5)) i32.const 3)"#);
    assert!(err.contains("plugin bt_on_bar() returned 3: hello"), "{err}");
}

#[test]
fn an_out_of_bounds_pointer_is_refused_by_the_host() {
    let err = run_error(
        r#"(func (export "bt_on_bar") (result i32) (call $log (i32.const 65530) (i32.const 64)) i32.const 0)"#,
    );
    assert!(err.contains("bt.log: pointer 65530 with length 64 is outside the plugin's memory (65536 bytes)"), "{err}");
    assert_next_run_succeeds();
}

#[test]
fn a_wrong_abi_version_is_refused_before_anything_runs() {
    let wat = module(
        r#"(func (export "bt_abi_version") (result i32) i32.const 5) (func (export "bt_on_bar") (result i32) i32.const 0)"#,
    );
    let err = load(&wat, limits(), CancelToken::new()).err().unwrap().to_string();
    assert!(err.contains("built for ABI version 5, but this host speaks versions 1 to 4"), "{err}");
}

#[test]
fn a_version_1_plugin_may_not_import_version_2_functions() {
    let wat = r#"(module
        (import "bt" "schedule" (func (param i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "bt_abi_version") (result i32) i32.const 1)
        (func (export "bt_on_bar") (result i32) i32.const 0))"#;
    let err = load(wat, limits(), CancelToken::new()).err().unwrap().to_string();
    assert!(err.contains("declares ABI version 1 but imports 'bt.schedule', which ABI version 2 added"), "{err}");
}

#[test]
fn version_2_functions_work_from_raw_wasm() {
    // Monthly on the first step of each month: a bracket with a 5 % stop and
    // a 5 % target, and a count of schedule hits in the log via fail-free runs.
    let wat = r#"(module
        (import "bt" "schedule" (func $schedule (param i32) (result i32)))
        (import "bt" "order_bracket" (func $bracket
            (param i32 i32 f64 i32 f64 i32 f64 i32 f64 i32 f64) (result i64)))
        (import "bt" "rebalance" (func $rebalance (param i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "bt_abi_version") (result i32) i32.const 2)
        (func (export "bt_on_bar") (result i32)
          (if (call $schedule (i32.const 2))
            (then (drop (call $bracket (i32.const 0) (i32.const 1) (f64.const 10) (i32.const 0) (f64.const 0)
                                      (i32.const 2) (f64.const 0.05) (i32.const 2) (f64.const 0.05)
                                      (i32.const 0) (f64.const 0)))))
          i32.const 0))"#;
    let report = run_plugin(wat, limits(), CancelToken::new()).expect("the run succeeds");
    assert!(!report.trades.is_empty());
    assert!(report.trades.iter().all(|t| t.qty == dec!(10)));
    assert!(report.trades.iter().any(|t| t.exit_reason != crate::domain::ExitReason::EndOfRun));
}

/// A version-4 plugin that rebalances fully into the symbol on bar 3 with
/// its output area for ids at `out`, cancels the order whose id it got back
/// (so that nothing ever fills), and fails unless exactly one id came back
/// and the cancellation found that order open.
fn rebalance_ids(out: i32) -> String {
    format!(
        r#"(module
        (import "bt" "rebalance_ids" (func $rebalance_ids (param i32 i32 i32) (result i32)))
        (import "bt" "cancel" (func $cancel (param i64) (result i32)))
        (import "bt" "bar_index" (func $bar_index (result i64)))
        (import "bt" "fail" (func $fail (param i32 i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "\00\00\00\00\00\00\f0\3f")
        (data (i32.const 16) "wrong count or id")
        (func (export "bt_abi_version") (result i32) i32.const 4)
        (func (export "bt_on_bar") (result i32)
          (if (i64.eq (call $bar_index) (i64.const 3))
            (then
              (if (i32.ne (call $rebalance_ids (i32.const 0) (i32.const 1) (i32.const {out})) (i32.const 1))
                (then (call $fail (i32.const 16) (i32.const 17)) (return (i32.const 1))))
              (if (i32.ne (call $cancel (i64.load (i32.const {out}))) (i32.const 1))
                (then (call $fail (i32.const 16) (i32.const 17)) (return (i32.const 1))))))
          i32.const 0))"#
    )
}

#[test]
fn rebalance_ids_hands_back_the_ids_of_the_orders_it_placed() {
    let report = run_plugin(&rebalance_ids(64), limits(), CancelToken::new()).expect("the id was right");
    assert!(report.trades.is_empty(), "the order was cancelled before it could fill");
    // Without the cancellation, the same rebalance buys.
    let uncancelled = rebalance_ids(64).replace("(call $cancel (i64.load (i32.const 64)))", "(i32.const 1)");
    let report = run_plugin(&uncancelled, limits(), CancelToken::new()).expect("the run succeeds");
    assert_eq!(report.trades.len(), 1);
}

#[test]
fn rebalance_ids_refuses_an_output_area_outside_memory() {
    let err = run_plugin(&rebalance_ids(65532), limits(), CancelToken::new()).unwrap_err().to_string();
    assert!(err.contains("bt.rebalance_ids: pointer 65532 with length 8 is outside the plugin's memory"), "{err}");
    let v3 = rebalance_ids(64).replace(
        "i32.const 4)\n        (func (export \"bt_on_bar\")",
        "i32.const 3)\n        (func (export \"bt_on_bar\")",
    );
    let err = load(&v3, limits(), CancelToken::new()).err().expect("refused").to_string();
    assert!(err.contains("declares ABI version 3 but imports 'bt.rebalance_ids', which ABI version 4 added"), "{err}");
}

#[test]
fn a_missing_export_is_named() {
    let err = load(&module(VERSION_1), limits(), CancelToken::new()).err().unwrap().to_string();
    assert!(err.contains("does not export 'bt_on_bar'"), "{err}");
    let no_version = module(r#"(func (export "bt_on_bar") (result i32) i32.const 0)"#);
    let err = load(&no_version, limits(), CancelToken::new()).err().unwrap().to_string();
    assert!(err.contains("does not export 'bt_abi_version'"), "{err}");
}

#[test]
fn imports_from_outside_the_host_api_are_refused() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "bt_abi_version") (result i32) i32.const 1)
        (func (export "bt_on_bar") (result i32) i32.const 0))"#;
    let err = load(wat, limits(), CancelToken::new()).err().unwrap().to_string();
    assert!(err.contains("imports 'wasi_snapshot_preview1::fd_write'"), "{err}");
    let typo = r#"(module (import "bt" "lgo" (func (param i32 i32))) (memory (export "memory") 1)
        (func (export "bt_abi_version") (result i32) i32.const 1)
        (func (export "bt_on_bar") (result i32) i32.const 0))"#;
    let err = load(typo, limits(), CancelToken::new()).err().unwrap().to_string();
    assert!(err.contains("bt::lgo"), "{err}");
}

#[test]
fn cancelling_interrupts_a_running_plugin() {
    let wat = module(&format!(r#"{VERSION_1} (func (export "bt_on_bar") (result i32) (loop $l (br $l)) i32.const 0)"#));
    let cancel = CancelToken::new();
    let token = cancel.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        token.cancel();
    });
    let limits = WasmLimits { budget: Budget::Time(Duration::from_secs(30)), ..limits() };
    let err = run_plugin(&wat, limits, cancel).unwrap_err();
    canceller.join().unwrap();
    assert!(matches!(err, EngineError::Cancelled { step: 0 }), "{err}");
}

#[test]
fn params_are_declared_in_bt_params_and_read_back() {
    let wat = r#"(module
        (import "bt" "declare_int" (func $declare (param i32 i32 i64)))
        (import "bt" "param_int" (func $param (param i32 i32) (result i64)))
        (import "bt" "fail" (func $fail (param i32 i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "period")
        (func (export "bt_abi_version") (result i32) i32.const 1)
        (func (export "bt_params") (call $declare (i32.const 0) (i32.const 6) (i64.const 14)))
        (func (export "bt_on_bar") (result i32)
          (if (result i32) (i64.eq (call $param (i32.const 0) (i32.const 6)) (i64.const 21))
            (then i32.const 0) (else i32.const 1))))"#;
    let plugin = CompiledPlugin::compile(wat.as_bytes(), "p.wat", &limits()).unwrap();
    let mut strategy = WasmStrategy::instantiate(&plugin, "p.wat", limits(), CancelToken::new()).unwrap();
    assert_eq!(strategy.declared_params()[0].name, "period");
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(1000)), ParamOverrides::Text(vec!["period=21".into()]));
    engine::run(&universe(), &mut strategy, &config, RunHooks::default()).expect("the override reaches the plugin");
}

#[test]
fn a_compiled_module_is_cached_by_content() {
    let wat = good().replace("hello from wat", "cached module!");
    let first = CompiledPlugin::compile(wat.as_bytes(), "c.wat", &limits()).unwrap();
    let second = CompiledPlugin::compile(wat.as_bytes(), "c.wat", &limits()).unwrap();
    assert_ne!(first.origin, Origin::MemoryCache);
    assert_eq!(second.origin, Origin::MemoryCache);
}

#[test]
fn a_plugin_that_never_finishes_loading_is_refused_after_the_load_limit() {
    let wat = r#"(module
        (memory (export "memory") 1)
        (func (export "bt_abi_version") (result i32) i32.const 1)
        (func (export "bt_params") (loop $l (br $l)))
        (func (export "bt_on_bar") (result i32) i32.const 0))"#;
    // However long the run's budget: loading is checked on upload.
    let limits = WasmLimits { budget: Budget::Time(Duration::from_secs(3600)), ..limits() };
    let started = std::time::Instant::now();
    let err = load(wat, limits, CancelToken::new()).err().unwrap().to_string();
    assert!(err.contains("bt_params(): took longer than the 5 s a plugin may take to load"), "{err}");
    assert!(started.elapsed() < LOAD_TIME_LIMIT * 4, "stopped near the limit, not the budget");
    assert_next_run_succeeds();
}

#[test]
fn strings_and_parameters_a_plugin_hands_the_host_are_bounded() {
    let too_long = r#"(module
        (import "bt" "declare_int" (func $declare (param i32 i32 i64)))
        (memory (export "memory") 2)
        (func (export "bt_abi_version") (result i32) i32.const 1)
        (func (export "bt_params") (call $declare (i32.const 0) (i32.const 65537) (i64.const 1)))
        (func (export "bt_on_bar") (result i32) i32.const 0))"#;
    let err = load(too_long, limits(), CancelToken::new()).err().unwrap().to_string();
    assert!(err.contains("bt.declare_int: a string of 65537 bytes is longer than the 65536"), "{err}");

    // Names "000", "001", ... : the 257th is one too many.
    let too_many = r#"(module
        (import "bt" "declare_int" (func $declare (param i32 i32 i64)))
        (memory (export "memory") 1)
        (func (export "bt_abi_version") (result i32) i32.const 1)
        (func (export "bt_params") (local $i i32)
          (loop $l
            (i32.store8 (i32.const 0) (i32.add (i32.const 48) (i32.div_u (local.get $i) (i32.const 100))))
            (i32.store8 (i32.const 1) (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $i) (i32.const 10)) (i32.const 10))))
            (i32.store8 (i32.const 2) (i32.add (i32.const 48) (i32.rem_u (local.get $i) (i32.const 10))))
            (call $declare (i32.const 0) (i32.const 3) (i64.const 1))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 300)))))
        (func (export "bt_on_bar") (result i32) i32.const 0))"#;
    let err = load(too_many, limits(), CancelToken::new()).err().unwrap().to_string();
    assert!(err.contains("bt.declare_int: at most 256 parameters can be declared"), "{err}");
    assert_next_run_succeeds();
}

#[test]
fn an_exhausted_budget_and_a_trap_are_their_own_error_kinds() {
    let error_of = |body: &str, limits: WasmLimits| match run_plugin(
        &module(&format!("{VERSION_1} {body}")),
        limits,
        CancelToken::new(),
    ) {
        Err(EngineError::Strategy { error, .. }) => *error,
        other => panic!("expected a strategy failure, got {other:?}"),
    };
    let endless = r#"(func (export "bt_on_bar") (result i32) (loop $l (br $l)) i32.const 0)"#;
    assert!(matches!(error_of(endless, limits()), StrategyError::Budget { .. }));
    let fuel = WasmLimits { budget: Budget::Fuel(1_000_000), ..limits() };
    assert!(matches!(error_of(endless, fuel), StrategyError::Budget { .. }));
    let unreachable = r#"(func (export "bt_on_bar") (result i32) unreachable)"#;
    assert!(matches!(error_of(unreachable, limits()), StrategyError::Trap { .. }));
}
