//! The ABI version in a `bt_abi_version` custom section: read from the
//! module's bytes before instantiation, authoritative when present, and
//! compared with the `bt_abi_version` export when the plugin has both.
//! Plugins with the export only are covered by tests.rs.

use super::tests::{limits, load, run_plugin};
use crate::domain::CancelToken;

/// A plugin that buys on its first bar, with `version` around its body
/// (a custom section, an export, or both).
fn plugin(version: &str) -> String {
    format!(
        r#"(module
             (import "bt" "bar_index" (func $bar_index (result i64)))
             (import "bt" "order_target_percent" (func $target (param i32 f64) (result i64)))
             (memory (export "memory") 1)
             {version}
             (func (export "bt_on_bar") (result i32)
               (if (i64.eqz (call $bar_index)) (then (drop (call $target (i32.const 0) (f64.const 1)))))
               i32.const 0))"#
    )
}

/// The custom section stating ABI version `v` (4 little-endian bytes).
fn section(v: u8) -> String {
    format!(r#"(@custom "bt_abi_version" "\{v:02x}\00\00\00")"#)
}

fn export(v: i32) -> String {
    format!(r#"(func (export "bt_abi_version") (result i32) i32.const {v})"#)
}

fn load_error(wat: &str) -> String {
    load(wat, limits(), CancelToken::new()).err().expect("refused").to_string()
}

#[test]
fn a_plugin_with_only_the_section_runs() {
    let report = run_plugin(&plugin(&section(1)), limits(), CancelToken::new()).expect("runs");
    assert_eq!(report.trades.len(), 1);
}

#[test]
fn a_section_and_an_export_that_agree_run() {
    let both = format!("{} {}", section(4), export(4));
    let report = run_plugin(&plugin(&both), limits(), CancelToken::new()).expect("runs");
    assert_eq!(report.trades.len(), 1);
}

#[test]
fn a_section_and_an_export_that_disagree_are_refused() {
    let err = load_error(&plugin(&format!("{} {}", section(4), export(1))));
    assert!(
        err.contains(
            "the plugin's 'bt_abi_version' custom section says ABI version 4, but its bt_abi_version() export returns 1; they must agree"
        ),
        "{err}"
    );
}

#[test]
fn the_section_is_checked_before_the_module_is_instantiated() {
    // The start function traps: only a check made before instantiation
    // reports the version rather than the trap.
    let trapping = plugin(&format!(r#"{} (func $start unreachable) (start $start)"#, section(9)));
    let err = load_error(&trapping);
    assert!(err.contains("the plugin was built for ABI version 9, but this host speaks versions 1 to 4"), "{err}");
    let v1_with_v2_import = plugin(&section(1)).replace(
        r#"(memory (export "memory") 1)"#,
        r#"(import "bt" "schedule" (func (param i32) (result i32))) (memory (export "memory") 1)"#,
    );
    let err = load_error(&v1_with_v2_import);
    assert!(err.contains("declares ABI version 1 but imports 'bt.schedule', which ABI version 2 added"), "{err}");
}

#[test]
fn a_malformed_section_is_refused() {
    let short = plugin(r#"(@custom "bt_abi_version" "\04\00")"#);
    let err = load_error(&short);
    assert!(err.contains("custom section 'bt_abi_version' must hold 4 bytes (a little-endian i32), found 2"), "{err}");
    let twice = plugin(&format!("{} {}", section(4), section(4)));
    assert!(load_error(&twice).contains("more than one 'bt_abi_version' custom section"));
}

#[test]
fn a_plugin_with_neither_is_told_about_both() {
    let err = load_error(&plugin(""));
    assert!(err.contains("does not export 'bt_abi_version' nor has a 'bt_abi_version' custom section"), "{err}");
}
