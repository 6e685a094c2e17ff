//! Throughput of a parameter sweep: the SMA cross over the bundled GOOG
//! data (2,148 daily bars), a grid of fast 2..20 x slow 10..100 step 10
//! with `fast < slow` (190 variants, 178 of which run), as a Rhai script and as a WASM plugin
//! (built with `plugins/build.sh`; skipped if absent), on one thread and on
//! two: variants per second, and the speed-up of the second core.
//!
//! Run with `cargo bench --bench sweeps`; figures are in benches/README.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;

use backtester::broker::BrokerConfig;
use backtester::data::{DataSpec, Universe};
use backtester::domain::CancelToken;
use backtester::engine::{ParamOverrides, RawRunSpec};
use backtester::strategy::{Runtime, StrategyLimits};
use backtester::sweep::{self, Axis, Selection, SweepJob, VariantSet};

fn goog() -> Universe {
    let spec = DataSpec::parse(concat!(env!("CARGO_MANIFEST_DIR"), "/data/GOOG.csv")).expect("a data argument");
    Universe::load(&[spec], &backtester::data::Loader::default()).expect("data/GOOG.csv loads")
}

fn variants() -> VariantSet {
    let axes = ["fast=2:20:1", "slow=10:100:10"].map(|a| Axis::parse(a).expect("a valid axis"));
    VariantSet::new(axes.to_vec(), &Selection::Grid).expect("a valid grid")
}

fn base() -> RawRunSpec {
    RawRunSpec {
        broker: BrokerConfig::with_cash(Decimal::from(100_000)),
        start: None,
        end: None,
        resample: None,
        params: ParamOverrides::Text(Vec::new()),
    }
}

fn sweep_goog(c: &mut Criterion) {
    let universe = goog();
    let variants = variants();
    let limits = StrategyLimits::default();
    let script = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/sma_cross.rhai")).expect("the script");
    let plugin = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/plugins/target/wasm32-unknown-unknown/release/sma_cross.wasm"
    ));
    let mut strategies = vec![("rhai", Runtime::Rhai, script)];
    match plugin {
        Ok(bytes) => strategies.push(("wasm", Runtime::Wasm, bytes)),
        Err(_) => eprintln!("skipping the WASM sweeps: build the plugins first with plugins/build.sh"),
    }
    let mut group = c.benchmark_group("sweep_goog_sma_cross");
    group.sample_size(10);
    for (name, runtime, code) in &strategies {
        for jobs in [1, 2] {
            let job = SweepJob {
                runtime: *runtime,
                code,
                name,
                limits: &limits,
                universe: &universe,
                benchmark: None,
                base: base(),
                variants: &variants,
                constraint: Some("fast < slow"),
                jobs,
                skip: &[],
                only: None,
                cancel: CancelToken::new(),
            };
            let ran = sweep::run(&job, &mut |_| {}).expect("the sweep runs").counts().0;
            group.throughput(Throughput::Elements(ran));
            group.bench_function(format!("{name}_jobs{jobs}"), |b| {
                b.iter(|| sweep::run(&job, &mut |_| {}).expect("the sweep runs").counts().0)
            });
        }
    }
    group.finish();
}

criterion_group!(benches, sweep_goog);
criterion_main!(benches);
