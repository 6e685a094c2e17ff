//! Bad input gets one clear line on stderr and a non-zero exit.

use crate::helpers::{fails, write};

const HEADER: &str = "Date,Open,High,Low,Close,Volume\n";

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    lines[0]
}

#[test]
fn bad_csvs_name_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("missing.csv", "Date,Open,High,Low,Volume\n2020-01-01,1,1,1,1\n", "Close"),
        ("number.csv", "2020-01-01,1,2,x,1.5,10\n", "line 2, column Low"),
        ("nan.csv", "2020-01-01,1,2,1,NaN,10\n", "line 2, column Close"),
        ("negative.csv", "2020-01-01,-1,2,0.5,1,10\n", "line 2, column Open"),
        ("range.csv", "2020-01-01,1,1,2,1,10\n", "line 2, column High"),
        ("order.csv", "2020-01-02,1,2,1,1,10\n2020-01-01,1,2,1,1,10\n", "line 3"),
        ("dup.csv", "2020-01-02,1,2,1,1,10\n2020-01-02,1,2,1,1,10\n", "line 3"),
        ("empty.csv", "", "empty"),
        ("norows.csv", "", "data rows"),
    ];
    for (name, body, needle) in cases {
        let text = match name {
            "empty.csv" => String::new(),
            "missing.csv" => body.to_string(),
            _ => format!("{HEADER}{body}"),
        };
        let path = write(dir.path(), name, &text);
        let err = fails(&["run", "scripts/sma_cross.rhai", "--data", &path]);
        let line = one_line(&err);
        assert!(line.starts_with("error: "), "{line}");
        assert!(line.contains(name), "{name}: {line}");
        assert!(line.contains(needle), "{name}: expected {needle:?} in {line}");
    }
}

#[test]
fn a_script_with_a_syntax_error_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "broken.rhai", "fn on_bar(ctx) {\n    let x = ;\n}\n");
    let err = fails(&["run", &script, "--data", "data/GOOG.csv"]);
    let line = one_line(&err);
    assert!(line.contains("broken.rhai: syntax error"), "{line}");
    assert!(line.contains("(line 2, column"), "{line}");

    // The script's error comes first even when a data file is bad too (the
    // data, read while the script compiles, is given up).
    let bad_data = write(dir.path(), "bad.csv", &format!("{HEADER}2020-01-01,1,2,x,1.5,10\n"));
    let err = fails(&["run", &script, "--data", &bad_data]);
    let line = one_line(&err);
    assert!(line.contains("broken.rhai: syntax error"), "{line}");
}

#[test]
fn a_misspelled_ctx_function_fails_before_the_run_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    // The branch never runs: the typo is found when the script compiles.
    let source = "fn on_bar(ctx) {\n    if ctx.bar_index() < 0 { ctx.sell_stpo(1, 90.0); }\n}\n";
    let script = write(dir.path(), "typo.rhai", source);
    let err = fails(&["run", &script, "--data", "data/GOOG.csv"]);
    let line = one_line(&err);
    assert!(
        line.ends_with("typo.rhai: unknown ctx function `sell_stpo`; did you mean `sell_stop`? (line 2, column 34)"),
        "{line}"
    );
}

#[test]
fn a_runtime_error_names_the_bar_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let script =
        write(dir.path(), "oops.rhai", "fn on_bar(ctx) {\n    if ctx.bar_index() == 30 { ctx.ind(\"x\"); }\n}\n");
    let err = fails(&["run", &script, "--data", "data/GOOG.csv"]);
    let line = one_line(&err);
    assert!(line.contains("on_bar failed at bar 30 (2004-10-01)"), "{line}");
    assert!(line.contains("unknown indicator 'x'") && line.contains("line 2"), "{line}");
}

#[test]
fn unknown_or_mistyped_parameters_are_refused() {
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--param", "fats=3"]);
    assert!(one_line(&err).contains("unknown parameter 'fats'; the strategy declares: fast, slow"));
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--param", "fast=ten"]);
    assert!(one_line(&err).contains("parameter 'fast' is an integer"));
}

#[test]
fn bad_flags_are_refused() {
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--cash", "0"]);
    assert!(one_line(&err).contains("--cash must be > 0"));
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--commission=-0.1"]);
    assert!(err.contains("--commission must be >= 0"), "{err}");
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", "data/nope.csv"]);
    assert!(one_line(&err).contains("data/nope.csv"), "{err}");
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--start", "2020-01-01"]);
    assert!(one_line(&err).contains("GOOG"), "{err}");
}

#[test]
fn a_plugin_that_is_not_a_module_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = write(dir.path(), "p.wasm", "\0asm");
    let err = fails(&["run", &plugin, "--data", "data/GOOG.csv"]);
    assert!(one_line(&err).contains("p.wasm: not a valid WebAssembly module"), "{err}");
}

#[test]
fn wasm_flags_are_refused_for_a_script() {
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--wasm-fuel", "1000"]);
    assert!(one_line(&err).contains("apply to WASM plugins (.wasm, .wat) only"), "{err}");
}

#[test]
fn symbols_with_different_bar_intervals_are_refused_until_resampled() {
    // GOOG is daily, BTCUSD monthly: a month's bar would show its close on its first day.
    let err = fails(&["run", "scripts/momentum_rotation.rhai", "--data", "data/GOOG.csv", "--data", "data/BTCUSD.csv"]);
    let line = one_line(&err);
    assert!(line.contains("GOOG has bars 1d apart and BTCUSD 31d apart"), "{line}");
    assert!(line.contains("resample them to one interval"), "{line}");
}
