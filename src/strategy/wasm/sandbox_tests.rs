//! What a plugin's run reports of its sandbox: fuel or time against the
//! budget, and its memory at its largest against the limit.

use std::time::Duration;

use super::tests::{limits, run_plugin};
use super::*;
use crate::strategy::{BudgetUsage, SandboxUsage, WasmUsage};

/// Grows its memory from 1 page to 3 in init and spins a little per bar.
const GROWS_AND_SPINS: &str = r#"(module
    (memory (export "memory") 1)
    (func (export "bt_abi_version") (result i32) i32.const 1)
    (func (export "bt_init") (result i32) (drop (memory.grow (i32.const 2))) i32.const 0)
    (func (export "bt_on_bar") (result i32) (local $i i32)
      (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
      i32.const 0))"#;

fn run_usage(limits: WasmLimits) -> WasmUsage {
    let report = run_plugin(GROWS_AND_SPINS, limits, CancelToken::new()).expect("the run succeeds");
    match report.sandbox {
        Some(SandboxUsage::Wasm(usage)) => usage,
        other => panic!("not a WASM sandbox block: {other:?}"),
    }
}

#[test]
fn a_fuel_run_reports_the_fuel_it_burned_and_its_peak_memory() {
    let usage = run_usage(WasmLimits { budget: Budget::Fuel(10_000_000), ..limits() });
    let BudgetUsage::Fuel { fuel_used, fuel_limit } = usage.budget else { panic!("{usage:?}") };
    assert_eq!(fuel_limit, 10_000_000);
    // 300 bars of a 100-iteration loop: at least 30,000 instructions.
    assert!((30_000..=fuel_limit).contains(&fuel_used), "{fuel_used}");
    // Fuel is deterministic: the same run burns the same amount.
    let again = run_usage(WasmLimits { budget: Budget::Fuel(10_000_000), ..limits() });
    assert_eq!(again.budget, usage.budget);
    assert_eq!(usage.peak_memory_bytes, 3 << 16, "1 initial page + 2 grown, of 64 KiB");
    assert_eq!(usage.memory_limit_bytes, 2 << 20);
}

#[test]
fn a_timed_run_reports_its_time_against_the_budget() {
    let usage = run_usage(limits());
    let BudgetUsage::Time { time_used_ms, time_budget_ms } = usage.budget else { panic!("{usage:?}") };
    assert_eq!(time_budget_ms, 300.0);
    assert!(time_used_ms > 0.0 && time_used_ms <= time_budget_ms, "{time_used_ms}");
    assert!(usage.peak_memory_bytes >= 1 << 16, "at least the initial page");
}

#[test]
fn memory_that_never_grows_peaks_at_its_initial_size() {
    let wat = r#"(module (memory (export "memory") 2)
        (func (export "bt_abi_version") (result i32) i32.const 1)
        (func (export "bt_on_bar") (result i32) i32.const 0))"#;
    let limits = WasmLimits { budget: Budget::Time(Duration::from_secs(5)), ..limits() };
    let report = run_plugin(wat, limits, CancelToken::new()).expect("the run succeeds");
    let Some(SandboxUsage::Wasm(usage)) = report.sandbox else { panic!("{:?}", report.sandbox) };
    assert_eq!(usage.peak_memory_bytes, 2 << 16);
}
