//! Rhai strategies: compile errors, the sandbox, and the API as scripts see it.

use rust_decimal_macros::dec;

use super::*;
use crate::broker::BrokerConfig;
use crate::data::synthetic::random_walk;
use crate::data::Universe;
use crate::domain::{CancelToken, Symbol, Timestamp};
use crate::engine::{self, EngineError, ParamOverrides, RunConfig, RunHooks, RunReport};

fn compile(source: &str) -> Result<RhaiStrategy, StrategyError> {
    RhaiStrategy::compile(source, "test.rhai", RhaiLimits::default())
}

fn universe() -> Universe {
    let bars = random_walk(200, 11, Timestamp(0), 86_400_000);
    let other = random_walk(200, 12, Timestamp(0), 86_400_000);
    Universe::new(vec![(Symbol::new("A"), bars), (Symbol::new("B"), other)]).unwrap()
}

fn run_with(source: &str, params: &[&str]) -> Result<RunReport, EngineError> {
    let mut strategy = compile(source).expect("compiles");
    let config = RunConfig::new(
        BrokerConfig::with_cash(dec!(100000)),
        ParamOverrides::Text(params.iter().map(|p| p.to_string()).collect()),
    );
    engine::run(&universe(), &mut strategy, &config, RunHooks::default())
}

fn run(source: &str) -> Result<RunReport, EngineError> {
    run_with(source, &[])
}

fn runtime_error(source: &str) -> String {
    run(source).expect_err("the run fails").to_string()
}

#[test]
fn syntax_errors_give_line_and_column() {
    let err = compile("fn on_bar(ctx) {\n    let x = ;\n}\n").err().unwrap();
    match err {
        StrategyError::Syntax { line, column, .. } => assert_eq!((line, column), (2, 13)),
        other => panic!("not a syntax error: {other}"),
    }
}

#[test]
fn a_typo_in_a_variable_fails_at_compile_time() {
    let err = compile("fn on_bar(ctx) {\n    let price = 1;\n    prise + 1;\n}").err().unwrap();
    assert!(err.to_string().contains("line 3"), "{err}");
}

#[test]
fn scripts_must_be_functions_with_on_bar() {
    let missing = compile("fn init(ctx) {}").err().unwrap().to_string();
    assert!(missing.contains("must define fn on_bar(ctx)"), "{missing}");
    let arity = compile("fn on_bar() {}").err().unwrap().to_string();
    assert!(arity.contains("fn on_bar must take 1 parameter"), "{arity}");
    let top = compile("let x = 1;\nfn on_bar(ctx) {}").err().unwrap().to_string();
    assert!(top.contains("top-level statements are never run"), "{top}");
    assert!(compile("// only comments\nfn on_bar(ctx) {}").is_ok());
    let typed = compile("fn map.on_bar(ctx) {}\nfn on_bar(ctx) {}").err().unwrap().to_string();
    assert!(typed.contains("fn map.on_bar is a method of a type"), "{typed}");
}

#[test]
fn eval_is_not_available() {
    assert!(compile("fn on_bar(ctx) { eval(\"1\"); }").is_err());
}

#[test]
fn params_declare_typed_defaults() {
    let s = compile("fn params() { #{ fast: 10, level: 0.5, on: true, name: \"x\" } }\nfn on_bar(ctx) {}").unwrap();
    let names: Vec<_> = s.declared_params().iter().map(|p| (p.name.as_str(), p.default.type_name())).collect();
    assert_eq!(names, [("fast", "int"), ("level", "float"), ("name", "string"), ("on", "bool")]);
    let bad = compile("fn params() { #{ xs: [1] } }\nfn on_bar(ctx) {}").err().unwrap().to_string();
    assert!(bad.contains("parameter 'xs' must default to an int, float, bool or string"), "{bad}");
    let not_map = compile("fn params() { 3 }\nfn on_bar(ctx) {}").err().unwrap().to_string();
    assert!(not_map.contains("must return a map"), "{not_map}");
}

#[test]
fn an_endless_loop_fails_its_run_naming_the_call_and_bar() {
    let err = runtime_error("fn on_bar(ctx) {\n    loop { }\n}");
    assert!(err.contains("on_bar failed at bar 0"), "{err}");
    // Rhai does not record where the budget ran out, so there is no line.
    assert!(err.contains("exceeded the limit of 1000000 operations"), "{err}");
}

#[test]
fn deep_recursion_and_huge_values_are_stopped() {
    let deep = runtime_error("fn down(n) { down(n + 1) }\nfn on_bar(ctx) { down(0); }");
    assert!(deep.to_lowercase().contains("stack") || deep.contains("call"), "{deep}");
    let big = runtime_error("fn on_bar(ctx) {\n let a = [];\n loop { a.push(1); }\n}");
    assert!(big.contains("Size of array") || big.to_lowercase().contains("array"), "{big}");
    let text = runtime_error("fn on_bar(ctx) {\n let s = \"x\";\n loop { s += s; }\n}");
    assert!(text.to_lowercase().contains("string"), "{text}");
}

#[test]
fn api_misuse_points_at_the_script_line() {
    let err = runtime_error("fn on_bar(ctx) {\n\n    ctx.ind(\"fats\");\n}");
    assert!(err.contains("unknown indicator 'fats'; declared: (none)"), "{err}");
    assert!(err.contains("(line 3, column"), "{err}");
    let lookback = runtime_error("fn on_bar(ctx) { ctx.close(1); }");
    assert!(lookback.contains("declare a longer lookback in init(), e.g. lookback(2)"), "{lookback}");
    let in_init = runtime_error("fn init(ctx) { ctx.buy(1); }\nfn on_bar(ctx) {}");
    assert!(in_init.contains("init failed") && in_init.contains("only be called in on_bar()"), "{in_init}");
    let late = runtime_error("fn on_bar(ctx) { ctx.sma(\"s\", 3); }");
    assert!(late.contains("only be called in init()"), "{late}");
    let symbol = runtime_error("fn on_bar(ctx) { ctx.close(\"ZZZ\"); }");
    assert!(symbol.contains("unknown symbol 'ZZZ'; this run trades: A, B"), "{symbol}");
    let qty = runtime_error("fn on_bar(ctx) { ctx.buy(1.5); }");
    assert!(qty.contains("fractional part"), "{qty}");
    let option =
        runtime_error("fn init(ctx) { ctx.indicator(\"x\", \"sma\", #{ period: 3, lenght: 2 }); }\nfn on_bar(ctx) {}");
    assert!(option.contains("does not take option 'lenght'"), "{option}");
}

#[test]
fn values_not_ready_are_unit_and_lookback_reads_the_past() {
    let script = r#"
        fn init(ctx) { ctx.sma("s3", 3); ctx.lookback(3); this.log = []; }
        fn on_bar(ctx) {
            if ctx.bar_index() < 4 {
                ctx.log(`${ctx.ind("s3") == ()} ${ctx.close(2) == ()}`);
            }
        }
    "#;
    let report = run(script).unwrap();
    let lines: Vec<_> = report.log.lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(lines, ["true true", "true true", "false false", "false false"]);
}

#[test]
fn state_lives_in_this_and_print_goes_to_the_log() {
    let script = r#"
        fn init(ctx) { this.bars = 0; }
        fn on_bar(ctx) { this.bars += 1; }
        fn on_finish(ctx) { print(`saw ${this.bars} bars`); }
    "#;
    let report = run(script).unwrap();
    assert_eq!(report.log.lines.last().unwrap().message, "saw 200 bars");
}

#[test]
fn param_overrides_reach_the_script() {
    let script = "fn params() { #{ n: 1 } }\nfn on_finish(ctx) { ctx.log(`${ctx.param(\"n\")}`); }\nfn on_bar(ctx) {}";
    let report = run_with(script, &["n=42"]).unwrap();
    assert_eq!(report.log.lines[0].message, "42");
    let err = run_with(script, &["n=x"]).unwrap_err().to_string();
    assert_eq!(err, "parameter 'n' is an integer, got \"x\"");
}

#[test]
fn orders_from_a_script_trade_several_symbols() {
    let script = r#"
        fn on_bar(ctx) {
            if ctx.bar_index() == 0 {
                ctx.buy(10);
                ctx.sell("B", 5);
                ctx.buy_limit("B", 1, 0.01);
            }
        }
    "#;
    let report = run(script).unwrap();
    let symbols: Vec<_> = report.trades.iter().map(|t| t.symbol.as_str()).collect();
    assert_eq!(symbols, ["A", "B"]);
    assert_eq!(report.cancelled_at_end, 1, "the far limit never filled");
}

#[test]
fn cancelling_stops_a_busy_script_between_bars() {
    // Each bar burns ~200k operations; a call can never run past its
    // operation budget, and the engine checks the token before every bar.
    let source = "fn on_bar(ctx) { let i = 0; while i < 40000 { i += 1; } }";
    let mut s = RhaiStrategy::compile(source, "t.rhai", RhaiLimits::default()).unwrap();
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(1000)), ParamOverrides::default());
    let cancel = CancelToken::new();
    let token = cancel.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(30));
        token.cancel();
    });
    let hooks = RunHooks { cancel, progress: None, progress_every: None, shared_indicators: None };
    let err = engine::run(&universe(), &mut s, &config, hooks).unwrap_err();
    canceller.join().unwrap();
    assert!(matches!(err, EngineError::Cancelled { step } if step < 199), "{err}");
}

#[test]
fn an_order_beyond_the_engine_s_range_fails_the_run_with_the_reason() {
    let err = runtime_error("fn on_bar(ctx) { ctx.buy(1e27); }");
    assert!(err.contains("above the largest a run takes") && err.contains("line 1"), "{err}");
}

/// The sandbox block of a run of `source`: (busiest call, limit).
fn operations(source: &str) -> (u64, u64) {
    match run(source).expect("the run succeeds").sandbox {
        Some(SandboxUsage::Rhai { max_operations_per_call, operations_limit }) => {
            (max_operations_per_call, operations_limit)
        }
        other => panic!("not a Rhai sandbox block: {other:?}"),
    }
}

#[test]
fn the_busiest_call_s_operations_are_reported_against_the_limit() {
    // 1,000 iterations cost at least one operation each; 200 bars of them
    // would be 200,000 if calls were added up rather than taken one by one.
    let (used, limit) = operations("fn on_bar(ctx) { let i = 0; while i < 1000 { i += 1; } }");
    assert_eq!(limit, 1_000_000);
    assert!((1_000..10_000).contains(&used), "{used}");
    // init counts as a call too: its 5,000 iterations outweigh any on_bar.
    let (busiest_init, _) = operations("fn init(ctx) { let i = 0; while i < 5000 { i += 1; } }\nfn on_bar(ctx) {}");
    assert!((5_000..50_000).contains(&busiest_init), "{busiest_init}");
    let (idle, _) = operations("fn on_bar(ctx) {}");
    assert!(idle < 100, "{idle}");
}

#[test]
fn every_indicator_kind_has_a_short_form_with_and_without_a_symbol() {
    let script = r#"
        fn init(ctx) {
            ctx.sma("a", 3); ctx.ema("b", 3, "B"); ctx.wma("c", 3); ctx.rsi("d", 3); ctx.stddev("e", 3);
            ctx.highest("f", 3); ctx.lowest("g", 3); ctx.roc("h", 3); ctx.atr("i", 3, "B");
            ctx.macd("m", 3, 5, 2); ctx.macd("n", 3, 5, 2, "B"); ctx.bollinger("o", 3, 2); ctx.bollinger("p", 3, 1.5, "B");
        }
        fn on_bar(ctx) {}
    "#;
    run(script).unwrap();
    let negative = runtime_error("fn init(ctx) { ctx.macd(\"m\", 3, -5, 2); }\nfn on_bar(ctx) {}");
    assert!(negative.contains("slow must be >= 0, got -5"), "{negative}");
    let k = runtime_error("fn init(ctx) { ctx.bollinger(\"b\", 3, \"x\"); }\nfn on_bar(ctx) {}");
    assert!(k.contains("k must be a number, got string"), "{k}");
    let symbol = runtime_error("fn init(ctx) { ctx.sma(\"s\", 3, \"ZZZ\"); }\nfn on_bar(ctx) {}");
    assert!(symbol.contains("unknown symbol 'ZZZ'"), "{symbol}");
}

#[test]
fn an_endless_loop_is_a_budget_failure_and_deep_recursion_a_trap() {
    let error_of = |source: &str| match run_with(source, &[]) {
        Err(EngineError::Strategy { error, .. }) => *error,
        other => panic!("expected a strategy failure, got {other:?}"),
    };
    assert!(matches!(error_of("fn on_bar(ctx) { loop { } }"), StrategyError::Budget { .. }));
    let deep = error_of("fn down(n) { down(n + 1) }\nfn on_bar(ctx) { down(0); }");
    assert!(matches!(deep, StrategyError::Trap { .. }), "{deep:?}");
    assert!(matches!(error_of("fn on_bar(ctx) { throw \"no\"; }"), StrategyError::Runtime { .. }));
}

#[test]
fn a_script_nests_as_many_calls_as_its_limit_allows() {
    // `down(n)` nests n calls; the limit is 32 (RhaiLimits::default): running
    // `on_bar`'s body on a kept state must not use up any of the script's.
    let nesting = |n: u32| format!("fn down(n) {{ if n > 1 {{ down(n - 1) }} }}\nfn on_bar(ctx) {{ down({n}); }}");
    assert!(run(&nesting(32)).is_ok());
    let deep = runtime_error(&nesting(33));
    assert!(deep.to_lowercase().contains("stack"), "{deep}");
    let in_params = |n: u32| {
        format!("fn down(n) {{ if n > 1 {{ down(n - 1) }} }}\nfn params() {{ down({n}); #{{}} }}\nfn on_bar(ctx) {{}}")
    };
    assert!(compile(&in_params(32)).is_ok());
    assert!(compile(&in_params(33)).is_err());
}

#[test]
fn a_lifecycle_function_s_body_runs_as_a_call_of_it_would() {
    // Each function's body is run in place of a call (caller.rs): `return`
    // from inside blocks, parameters named freely, a parameter assigned to or
    // shadowed on one bar and the context there again on the next, private
    // helpers, and `params()` returning its map.
    let source = r#"
        fn params() { if true { return #{ every: 5 }; } #{ every: 1 } }
        fn init(c) { this.bars = 0; if c.param("every") > 0 { return; } this.bars = 1000; }
        private fn due(n, every) { n % every == 0 }
        fn on_bar(x) {
            this.bars += 1;
            if due(this.bars, x.param("every")) { print(`bar ${this.bars}`); }
            if this.bars == 3 { x = 0; return; }
            { let x = "shadowed in a block"; }
            let x = "shadowed";
        }
        fn on_finish(ctx) { print(`done ${this.bars}`); return; print("after return"); }
    "#;
    let report = run_with(source, &["every=50"]).unwrap();
    let log: Vec<&str> = report.log.lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(log, ["bar 50", "bar 100", "bar 150", "bar 200", "done 200"]);
    assert_eq!(compile(source).unwrap().declared_params()[0].default, ParamValue::Int(5));
    // A tag set on the context is the call's own, as an argument's is.
    let tagged = run(r#"fn on_bar(ctx) { if tag(ctx) == 0 { print("untagged"); set_tag(ctx, 1); } }"#).unwrap();
    assert_eq!(tagged.log.lines.len(), 200, "every bar sees an untagged context");
}

#[test]
fn a_fresh_copy_runs_as_the_script_compiled_again() {
    // State in `this`, a log line, an operation count, parameters and orders:
    // nothing of one run may reach the next through the shared engine.
    let source = r#"
        fn params() { #{ n: 3 } }
        fn init(ctx) { ctx.sma("s", ctx.param("n")); print("init"); }
        fn on_bar(ctx) {
            this.bars = (this.bars ?? 0) + 1;
            if this.bars % 7 == 0 { ctx.buy(1); } else if this.bars % 11 == 0 { ctx.close_position(); }
        }
        fn on_finish(ctx) { print(`bars ${this.bars}`); }
    "#;
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(100000)), ParamOverrides::Text(vec!["n=5".into()]));
    let run_one =
        |strategy: &mut dyn Strategy| engine::run(&universe(), strategy, &config, RunHooks::default()).unwrap();
    let template = compile(source).unwrap();
    let first = run_one(&mut template.fresh());
    let second = run_one(&mut template.fresh());
    let compiled = run_one(&mut compile(source).unwrap());
    for report in [&first, &second] {
        assert_eq!(report.trades, compiled.trades);
        assert!(report.equity.amounts().eq(compiled.equity.amounts()));
        assert_eq!(report.log, compiled.log);
        assert_eq!(report.sandbox, compiled.sandbox);
    }
    assert!(!compiled.trades.is_empty(), "not vacuous: the script traded");
    assert_eq!(compiled.log.lines.last().map(|l| l.message.as_str()), Some("bars 200"));
}
