//! The shared indicator area of ABI version 3: what the host writes into a
//! plugin's memory before each bar is exactly what `bt.ind` answers, and a
//! bad area is refused with a clear message.

use super::tests::{limits, load, run_plugin};
use super::*;

/// A version-3 plugin with an SMA(5) and Bollinger(10) (4 outputs) that
/// shares them at byte 1024 and checks, on every bar, each shared value
/// against `bt.ind(h, 0)` and `bt.ind(h, 1)` bit for bit (NaN included).
/// `share` is the body of its `bt_init` after the declarations.
fn checker(share: &str) -> String {
    format!(
        r#"(module
        (import "bt" "indicator" (func $indicator
            (param i32 i32 i32 i32 i32 i32 i32 i32 i32 f64) (result i32)))
        (import "bt" "ind" (func $ind (param i32 i32) (result f64)))
        (import "bt" "share_indicators" (func $share (param i32 i32) (result i32)))
        (import "bt" "bar_index" (func $bar_index (result i64)))
        (import "bt" "fail" (func $fail (param i32 i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "smabollingerbbdifferent at handlenever sharedshared count")
        (func (export "bt_abi_version") (result i32) i32.const 3)
        (func (export "bt_init") (result i32)
          (drop (call $indicator (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 3)
                                 (i32.const 0) (i32.const 3) (i32.const 5) (i32.const 0) (i32.const 0) (f64.const 0)))
          (drop (call $indicator (i32.const 12) (i32.const 2) (i32.const 3) (i32.const 9)
                                 (i32.const 0) (i32.const 3) (i32.const 10) (i32.const 0) (i32.const 0) (f64.const 2)))
          {share})
        (func $same (param f64 f64) (result i32)
          (i64.eq (i64.reinterpret_f64 (local.get 0)) (i64.reinterpret_f64 (local.get 1))))
        (func (export "bt_on_bar") (result i32) (local $h i32)
          (loop $each
            (if (i32.eqz (call $same (f64.load (i32.add (i32.const 1024) (i32.mul (local.get $h) (i32.const 16))))
                                     (call $ind (local.get $h) (i32.const 0))))
              (then (call $fail (i32.const 14) (i32.const 19)) (return (i32.const 1))))
            (if (i32.eqz (call $same (f64.load (i32.add (i32.const 1032) (i32.mul (local.get $h) (i32.const 16))))
                                     (call $ind (local.get $h) (i32.const 1))))
              (then (call $fail (i32.const 14) (i32.const 19)) (return (i32.const 1))))
            (local.set $h (i32.add (local.get $h) (i32.const 1)))
            (br_if $each (i32.lt_u (local.get $h) (i32.const 4))))
          ;; Not vacuous: by bar 20 every output has a value now and before.
          (if (i32.and (i64.eq (call $bar_index) (i64.const 20))
                       (f64.ne (f64.load (i32.const 1064)) (f64.load (i32.const 1064))))
            (then (call $fail (i32.const 33) (i32.const 12)) (return (i32.const 1))))
          i32.const 0))"#
    )
}

#[test]
fn the_shared_area_holds_what_bt_ind_answers_on_every_bar() {
    let share = "(if (result i32) (i32.eq (call $share (i32.const 1024) (i32.const 4)) (i32.const 4))
                   (then i32.const 0)
                   (else (call $fail (i32.const 45) (i32.const 12)) i32.const 1))";
    run_plugin(&checker(share), limits(), CancelToken::new()).expect("every shared value matches bt.ind");
}

#[test]
fn without_sharing_the_area_stays_untouched() {
    let err = run_plugin(&checker("i32.const 0"), limits(), CancelToken::new()).unwrap_err().to_string();
    assert!(err.contains("different at handle"), "{err}");
}

#[test]
fn an_area_outside_the_memory_is_refused() {
    let share = "(drop (call $share (i32.const 65000) (i32.const 40))) i32.const 0";
    let err = run_plugin(&checker(share), limits(), CancelToken::new()).unwrap_err().to_string();
    assert!(
        err.contains("bt.share_indicators: 40 outputs (16 bytes each) at pointer 65000 do not fit in the plugin's memory (65536 bytes)"),
        "{err}"
    );
    let share = "(drop (call $share (i32.const 1024) (i32.const -1))) i32.const 0";
    let err = run_plugin(&checker(share), limits(), CancelToken::new()).unwrap_err().to_string();
    assert!(err.contains("bt.share_indicators: pointer and capacity must be >= 0, got 1024 and -1"), "{err}");
}

#[test]
fn a_version_2_plugin_may_not_import_share_indicators() {
    let wat = checker("i32.const 0").replace(
        "i32.const 3)\n        (func (export \"bt_init\")",
        "i32.const 2)\n        (func (export \"bt_init\")",
    );
    let err = load(&wat, limits(), CancelToken::new()).err().expect("refused").to_string();
    assert!(
        err.contains("declares ABI version 2 but imports 'bt.share_indicators', which ABI version 3 added"),
        "{err}"
    );
}
