//! Throughput of the engine over 1,000,000 synthetic one-minute bars:
//! (a) a no-op native strategy, (b) a native SMA cross, (c) `scripts/sma_cross.rhai`,
//! (d) a no-op WASM plugin called once per bar, and one driving the bar loop itself (ABI 4),
//! (e) the `sma_cross` WASM plugin (built with `plugins/build.sh`; skipped if absent).
//! The plugin's compile time is printed apart from the run time.
//!
//! Run with `cargo bench --bench engine`; figures are in benches/README.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;

use backtester::broker::BrokerConfig;
use backtester::data::synthetic::random_walk;
use backtester::data::Universe;
use backtester::domain::CancelToken;
use backtester::domain::{Symbol, Timestamp};
use backtester::engine::{self, ParamOverrides, RunConfig, RunHooks};
use backtester::strategy::native::{Noop, SmaCross};
use backtester::strategy::rhai::{RhaiLimits, RhaiStrategy};
use backtester::strategy::wasm::{CompiledPlugin, WasmLimits, WasmStrategy};
use backtester::strategy::Strategy;

const BARS: usize = 1_000_000;

fn universe() -> Universe {
    let bars = random_walk(BARS, 42, Timestamp(1_600_000_000_000), 60_000);
    Universe::new(vec![(Symbol::new("SYN"), bars)]).expect("valid synthetic bars")
}

fn config() -> RunConfig {
    RunConfig::new(BrokerConfig::with_cash(Decimal::from(100_000)), ParamOverrides::default())
}

fn run(universe: &Universe, strategy: &mut dyn Strategy) -> usize {
    let report = engine::run(universe, strategy, &config(), RunHooks::default()).expect("bench run succeeds");
    report.trades.len()
}

fn engine_1m_bars(c: &mut Criterion) {
    // A fresh plugin cache, so that the first compile below is a real one.
    let cache = std::env::temp_dir().join(format!("backtester-bench-cache-{}", std::process::id()));
    // SAFETY: set before this process starts any other thread.
    unsafe { std::env::set_var("BACKTESTER_CACHE_DIR", &cache) };
    let universe = universe();
    let script = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/sma_cross.rhai"))
        .expect("scripts/sma_cross.rhai is readable");
    let mut group = c.benchmark_group("engine_1m_bars");
    group.throughput(Throughput::Elements(BARS as u64));
    group.sample_size(10);
    group.bench_function("native_noop", |b| b.iter(|| run(&universe, &mut Noop)));
    group.bench_function("native_sma_cross", |b| b.iter(|| run(&universe, &mut SmaCross::default())));
    group.bench_function("rhai_sma_cross", |b| {
        b.iter(|| {
            let mut s =
                RhaiStrategy::compile(&script, "sma_cross.rhai", RhaiLimits::default()).expect("the example compiles");
            run(&universe, &mut s)
        })
    });
    let sma_plugin = wasm_plugin();
    let noop =
        CompiledPlugin::compile(WASM_NOOP.as_bytes(), "noop.wat", &WasmLimits::default()).expect("noop compiles");
    group.bench_function("wasm_noop", |b| {
        b.iter(|| {
            let mut s = WasmStrategy::instantiate(&noop, "noop.wat", WasmLimits::default(), CancelToken::new())
                .expect("the plugin instantiates");
            run(&universe, &mut s)
        })
    });
    let noop_driven = CompiledPlugin::compile(WASM_NOOP_DRIVEN.as_bytes(), "noop_driven.wat", &WasmLimits::default())
        .expect("noop_driven compiles");
    group.bench_function("wasm_noop_driven", |b| {
        b.iter(|| {
            let mut s =
                WasmStrategy::instantiate(&noop_driven, "noop_driven.wat", WasmLimits::default(), CancelToken::new())
                    .expect("the plugin instantiates");
            run(&universe, &mut s)
        })
    });
    if let Some(plugin) = sma_plugin {
        group.bench_function("wasm_sma_cross", |b| {
            b.iter(|| {
                let mut s =
                    WasmStrategy::instantiate(&plugin, "sma_cross.wasm", WasmLimits::default(), CancelToken::new())
                        .expect("the plugin instantiates");
                run(&universe, &mut s)
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(cache);
}

/// A plugin whose `on_bar` does nothing: the cost of one call per bar.
const WASM_NOOP: &str = r#"(module (memory (export "memory") 1)
    (func (export "bt_abi_version") (result i32) i32.const 1)
    (func (export "bt_on_bar") (result i32) i32.const 0))"#;

/// The same, driving the bar loop itself (ABI version 4): one `bt.next_bar`
/// call per bar instead of one call into the plugin.
const WASM_NOOP_DRIVEN: &str = r#"(module
    (import "bt" "next_bar" (func $next_bar (result i32)))
    (memory (export "memory") 1)
    (func (export "bt_abi_version") (result i32) i32.const 4)
    (func (export "bt_on_bars") (result i32)
      (loop $bars (br_if $bars (call $next_bar)))
      i32.const 0))"#;

/// The compiled `sma_cross` plugin, compiled here (not from a cache) so
/// that its compile time can be reported; `None` when it is not built.
fn wasm_plugin() -> Option<CompiledPlugin> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/target/wasm32-unknown-unknown/release/sma_cross.wasm");
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("skipping wasm_sma_cross: build the plugins first with plugins/build.sh");
        return None;
    };
    let plugin =
        CompiledPlugin::compile(&bytes, "sma_cross.wasm", &WasmLimits::default()).expect("the plugin compiles");
    eprintln!("wasm_sma_cross: compiled in {:?} ({:?})", plugin.load_time, plugin.origin);
    let cached = CompiledPlugin::compile(&bytes, "sma_cross.wasm", &WasmLimits::default()).expect("cached");
    eprintln!("wasm_sma_cross: loaded again in {:?} ({:?})", cached.load_time, cached.origin);
    Some(plugin)
}

criterion_group!(benches, engine_1m_bars);
criterion_main!(benches);
