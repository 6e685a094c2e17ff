//! Throughput of the engine over 1,000,000 synthetic one-minute bars:
//! (a) a no-op native strategy, (b) a native SMA cross, (c) `scripts/sma_cross.rhai`.
//!
//! Run with `cargo bench --bench engine`; figures are in benches/README.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;

use backtester::broker::BrokerConfig;
use backtester::data::synthetic::random_walk;
use backtester::data::Universe;
use backtester::domain::{Symbol, Timestamp};
use backtester::engine::{self, ParamOverrides, RunConfig, RunHooks};
use backtester::strategy::native::{Noop, SmaCross};
use backtester::strategy::rhai::{RhaiLimits, RhaiStrategy};
use backtester::strategy::Strategy;

const BARS: usize = 1_000_000;

fn universe() -> Universe {
    let bars = random_walk(BARS, 42, Timestamp(1_600_000_000_000), 60_000);
    Universe::new(vec![(Symbol::new("SYN"), bars)]).expect("valid synthetic bars")
}

fn config() -> RunConfig {
    RunConfig {
        broker: BrokerConfig::with_cash(Decimal::from(100_000)),
        params: ParamOverrides::default(),
    }
}

fn run(universe: &Universe, strategy: &mut dyn Strategy) -> usize {
    let report = engine::run(universe, strategy, &config(), RunHooks::default())
        .expect("bench run succeeds");
    report.trades.len()
}

fn engine_1m_bars(c: &mut Criterion) {
    let universe = universe();
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/sma_cross.rhai"
    ))
    .expect("scripts/sma_cross.rhai is readable");
    let mut group = c.benchmark_group("engine_1m_bars");
    group.throughput(Throughput::Elements(BARS as u64));
    group.sample_size(10);
    group.bench_function("native_noop", |b| b.iter(|| run(&universe, &mut Noop)));
    group.bench_function("native_sma_cross", |b| {
        b.iter(|| run(&universe, &mut SmaCross::default()))
    });
    group.bench_function("rhai_sma_cross", |b| {
        b.iter(|| {
            let mut s = RhaiStrategy::compile(&script, "sma_cross.rhai", RhaiLimits::default())
                .expect("the example compiles");
            run(&universe, &mut s)
        })
    });
    group.finish();
}

criterion_group!(benches, engine_1m_bars);
criterion_main!(benches);
