//! The compile-time check of calls on the context (check.rs) and the same
//! words for what only fails at run time (errors.rs).

use rust_decimal_macros::dec;

use super::*;
use crate::broker::BrokerConfig;
use crate::data::synthetic::random_walk;
use crate::data::Universe;
use crate::domain::{Symbol, Timestamp};
use crate::engine::{self, ParamOverrides, RunConfig, RunHooks};

/// The compile error's message, line and column.
fn compile_error(source: &str) -> (String, usize, usize) {
    match RhaiStrategy::compile(source, "test.rhai", RhaiLimits::default()) {
        Err(StrategyError::Invalid { message, line: Some(line), column: Some(column), .. }) => (message, line, column),
        Err(other) => panic!("not a located compile error: {other}"),
        Ok(_) => panic!("compiles:\n{source}"),
    }
}

fn compiles(source: &str) {
    if let Err(e) = RhaiStrategy::compile(source, "test.rhai", RhaiLimits::default()) {
        panic!("{e}\n{source}");
    }
}

fn run_error(source: &str) -> String {
    let mut strategy = RhaiStrategy::compile(source, "test.rhai", RhaiLimits::default()).expect("compiles");
    let bars = random_walk(20, 11, Timestamp(0), 86_400_000);
    let universe = Universe::new(vec![(Symbol::new("A"), bars)]).unwrap();
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(100000)), ParamOverrides::default());
    engine::run(&universe, &mut strategy, &config, RunHooks::default()).expect_err("the run fails").to_string()
}

#[test]
fn a_typo_in_a_branch_that_never_runs_fails_the_compile() {
    let source = "fn on_bar(ctx) {\n    if ctx.bar_index() < 0 {\n        ctx.sell_stpo(1, 90.0);\n    }\n}";
    let (message, line, column) = compile_error(source);
    assert_eq!(message, "unknown ctx function `sell_stpo`; did you mean `sell_stop`?");
    assert_eq!((line, column), (3, 13)); // `sell_stpo` starts after 8 spaces and `ctx.`
    let err = RhaiStrategy::compile(source, "test.rhai", RhaiLimits::default()).err().unwrap();
    assert_eq!(
        err.to_string(),
        "test.rhai: unknown ctx function `sell_stpo`; did you mean `sell_stop`? (line 3, column 13)"
    );
}

#[test]
fn a_branch_the_optimizer_drops_is_still_checked() {
    let (message, line, _) = compile_error("fn on_bar(ctx) {\n    if false { ctx.smaa(\"f\", 3); }\n}");
    assert_eq!((message.as_str(), line), ("unknown ctx function `smaa`; did you mean `sma`?", 2));
}

#[test]
fn the_context_parameter_may_have_any_name() {
    let (message, line, column) = compile_error("fn init(c) {\n  c.smaa(\"f\", 3);\n}\nfn on_bar(bar_ctx) {}");
    assert_eq!((message.as_str(), line, column), ("unknown ctx function `smaa`; did you mean `sma`?", 2, 5));
    let (message, ..) = compile_error("fn on_bar(x) {}\nfn on_finish(done) { done.lgo(\"bye\"); }");
    assert_eq!(message, "unknown ctx function `lgo`; did you mean `log`?");
}

#[test]
fn helpers_that_receive_the_context_are_checked_to_a_fixpoint() {
    let direct = "fn enter(ctx, n) {\n    ctx.buy(n);\n    ctx.byu(n);\n}\nfn on_bar(ctx) { enter(ctx, 5); }";
    assert_eq!(compile_error(direct), ("unknown ctx function `byu`; did you mean `buy`?".into(), 3, 9));
    // on_bar → outer (as its 1st) → inner (as its 2nd), called before defined.
    let chain = "fn on_bar(c) { outer(c); }\nfn outer(x) { inner(1, x); }\nfn inner(n, y) {\n  y.clsoe();\n}";
    assert_eq!(compile_error(chain), ("unknown ctx function `clsoe`; did you mean `close`?".into(), 4, 5));
    // A statement-level call inside a block, and a call inside an expression.
    let nested = "fn on_bar(ctx) { if true { let q = held(ctx) + 1; } }\nfn held(ctx) { ctx.postion() }";
    assert_eq!(compile_error(nested).0, "unknown ctx function `postion`; did you mean `position`?");
}

#[test]
fn parameters_never_given_the_context_are_not_checked() {
    compiles("fn total(m) { m.values().len() }\nfn on_bar(ctx) { let n = total(#{ a: 1 }); ctx.log(`${n}`); }");
    // A name declared again holds something else.
    compiles("fn on_bar(ctx) { let ctx = #{ a: 1 }; ctx.keys(); }");
    compiles("fn on_bar(ctx) { for ctx in [[1]] { ctx.len(); } }");
}

#[test]
fn a_wrong_number_of_arguments_says_which_counts_the_function_takes() {
    let (message, line, column) = compile_error("fn init(ctx) {\n    ctx.sma(\"f\");\n}\nfn on_bar(ctx) {}");
    assert_eq!((message.as_str(), line, column), ("ctx function `sma` takes 2 or 3 arguments, not 1", 2, 9));
    let (message, ..) = compile_error("fn on_bar(ctx) { ctx.close(\"A\", 1, 2); }");
    assert_eq!(message, "ctx function `close` takes 0, 1 or 2 arguments, not 3");
    let (message, ..) = compile_error("fn on_bar(ctx) { ctx.cash(1); }");
    assert_eq!(message, "ctx function `cash` takes no arguments, not 1");
    let (message, ..) = compile_error("fn on_bar(ctx) { ctx.schedule(); }");
    assert_eq!(message, "ctx function `schedule` takes 1 argument, not 0");
    // The function-call form passes the context first.
    let (message, ..) = compile_error("fn on_bar(ctx) { let x = close(ctx, \"A\", 1, 2); }");
    assert_eq!(message, "ctx function `close` takes 0, 1 or 2 arguments, not 3");
}

#[test]
fn a_far_off_name_gets_no_suggestion() {
    let (message, ..) = compile_error("fn on_bar(ctx) { ctx.frobnicate(); }");
    assert_eq!(message, "unknown ctx function `frobnicate`");
}

#[test]
fn a_ctx_function_without_parentheses_is_named() {
    let (message, ..) = compile_error("fn on_bar(ctx) { let c = ctx.close; }");
    assert_eq!(message, "`close` is a ctx function: call it with parentheses, e.g. ctx.close()");
}

#[test]
fn calls_rhai_allows_on_any_value_or_on_script_methods_compile() {
    compiles("fn on_bar(ctx) { let t = ctx.type_of(); let s = ctx.to_string(); }");
    compiles("fn bought() { this.position() > 0 }\nfn on_bar(ctx) { if ctx.bought() { ctx.sell(1); } }");
    compiles("fn on_bar(ctx) { let x = close(ctx); let y = ctx.close().abs(); let z = ctx.symbols()[0]; }");
}

#[test]
fn every_example_script_compiles() {
    let mut seen = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rhai") {
            compiles(&std::fs::read_to_string(&path).unwrap());
            seen += 1;
        }
    }
    assert!(seen >= 5, "found {seen} scripts");
}

#[test]
fn the_api_list_is_read_from_the_engine_s_registrations() {
    let engine = build_engine(&RhaiLimits::default(), Rc::default());
    let fns = CtxFunctions::from_engine(&engine);
    for (name, args) in [("sma", 2), ("sma", 3), ("macd", 5), ("tf_bar", 2), ("buy_bracket", 3), ("log", 1)] {
        assert_eq!(fns.check(name, args), Ok(()), "{name}/{args}");
    }
    // Both files of the API: api.rs and portfolio_api.rs.
    assert!(fns.names().any(|n| n == "close") && fns.names().any(|n| n == "rebalance"));
    assert!(!fns.names().any(|n| n == "to_string"), "functions of any value are not ctx functions");
}

#[test]
fn a_call_through_an_alias_fails_at_run_time_in_the_same_words() {
    let err = run_error("fn on_bar(ctx) {\n    let c = ctx;\n    c.smaa(\"f\", 3);\n}");
    assert!(err.contains("unknown ctx function `smaa`; did you mean `sma`? (line 3, column 7)"), "{err}");
    let arity = run_error("fn on_bar(ctx) {\n    let c = ctx;\n    c.cash(1);\n}");
    assert!(arity.contains("ctx function `cash` takes no arguments, not 1 (line 3"), "{arity}");
    let types = run_error("fn init(ctx) {\n    let c = ctx;\n    c.sma(3, \"f\");\n}\nfn on_bar(ctx) {}");
    assert!(types.contains("ctx function `sma` does not take arguments of types (i64, string)"), "{types}");
}

#[test]
fn a_script_function_called_with_the_wrong_arity_keeps_rhai_s_message() {
    let err = run_error("fn enter(ctx, n) { ctx.buy(n); }\nfn on_bar(ctx) { let c = ctx; enter(c); }");
    assert!(err.contains("Function not found: enter (Ctx)"), "{err}");
}
