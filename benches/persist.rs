//! Persisting a run's results and reading its chart back: a 1,000,000-bar
//! SMA cross (native, so the figures are the store's alone) written to a
//! fresh SQLite file and, when `BACKTESTER_TEST_POSTGRES_URL` is set, to
//! PostgreSQL; then its 1,000-point sampled curve and its whole curve read.
//!
//! Run with `cargo bench --bench persist`; figures are in benches/README.md.

use criterion::{criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;

use backtester::broker::BrokerConfig;
use backtester::data::synthetic::random_walk;
use backtester::data::Universe;
use backtester::domain::{Symbol, Timestamp};
use backtester::engine::{self, ParamOverrides, RunConfig, RunHooks, RunReport};
use backtester::service::sampling::sample_run;
use backtester::store::{EquityInput, NewVersion, RunOutcome, Store};
use backtester::strategy::native::SmaCross;

const BARS: usize = 1_000_000;

fn report() -> RunReport {
    let bars = random_walk(BARS, 42, Timestamp(1_600_000_000_000), 60_000);
    let universe = Universe::new(vec![(Symbol::new("SYN"), bars)]).expect("valid synthetic bars");
    let config = RunConfig::new(BrokerConfig::with_cash(Decimal::from(100_000)), ParamOverrides::default());
    engine::run(&universe, &mut SmaCross::default(), &config, RunHooks::default()).expect("the run succeeds")
}

/// Writes `report` as run `id`'s results, as the service does.
async fn persist(store: &Store, id: i64, report: &RunReport, drawdown: &[f64], sampled: &[usize]) {
    let outcome = RunOutcome::Completed {
        metrics_json: serde_json::to_string(&report.metrics).expect("metrics serialise"),
        returns_json: serde_json::to_string(&report.returns()).expect("returns serialise"),
        timings_json: "{}".into(),
        log_json: "{}".into(),
        manifest_json: "{}".into(),
        fingerprint: String::new(),
        sandbox_json: None,
        bars: report.equity.len() as i64,
        trades: &report.trades,
        equity: EquityInput {
            timeline: report.timeline(),
            points: &report.equity,
            drawdown_pct: drawdown,
            benchmark: None,
            sampled,
        },
    };
    store.finish_run(id, outcome, None).await.expect("the results are stored");
}

fn backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, url: &str, report: &RunReport) {
    let store = rt.block_on(Store::open(url)).expect("the database opens");
    let version =
        NewVersion { source: b"fn on_bar(ctx) {}".to_vec(), content_hash: "h".into(), params_json: "[]".into() };
    let strategy_name = format!("bench-{}", std::process::id());
    let (strategy, version) = rt
        .block_on(store.create_strategy(backtester::store::FIRST_USER_ID, &strategy_name, "rhai", "", version))
        .expect("a strategy is created");
    let (drawdown, sampled) = (report.drawdown_pct(), sample_run(report));
    let new_run = || {
        rt.block_on(store.create_run(backtester::store::FIRST_USER_ID, strategy.id, version.id, "{}", None))
            .expect("a run row")
            .id
    };
    let mut group = c.benchmark_group(format!("persist_1m_bars_{name}"));
    group.sample_size(10);
    group.bench_function("write_results", |b| {
        b.iter_custom(|iters| {
            let ids: Vec<i64> = (0..iters).map(|_| new_run()).collect();
            let started = std::time::Instant::now();
            for &id in &ids {
                rt.block_on(persist(&store, id, report, &drawdown, &sampled));
            }
            started.elapsed()
        })
    });
    let id = new_run();
    rt.block_on(persist(&store, id, report, &drawdown, &sampled));
    group.bench_function("read_sampled_curve", |b| {
        b.iter(|| rt.block_on(store.equity_sampled(id)).expect("read").expect("sampled").len())
    });
    group.bench_function("read_whole_curve", |b| b.iter(|| rt.block_on(store.equity(id)).expect("read").len()));
    group.finish();
}

/// A new, empty database beside the one at `url`; its URL.
async fn fresh_database(url: &str) -> String {
    use sqlx::Connection;
    let name = format!("bt_bench_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(url).await.expect("PostgreSQL answers");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("a database is created");
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{name}")
}

fn persist_1m_bars(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let report = report();
    eprintln!("{} trades, {} points", report.trades.len(), report.equity.len());
    let dir = tempfile::tempdir().expect("a temp dir");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    backend(c, &rt, "sqlite", &sqlite, &report);
    match std::env::var("BACKTESTER_TEST_POSTGRES_URL") {
        Ok(url) => {
            let url = rt.block_on(fresh_database(&url));
            backend(c, &rt, "postgres", &url, &report)
        }
        Err(_) => eprintln!("BACKTESTER_TEST_POSTGRES_URL is not set: PostgreSQL not measured"),
    }
}

criterion_group!(benches, persist_1m_bars);
criterion_main!(benches);
