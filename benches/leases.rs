//! The database's cost of the lease queue per run, on PostgreSQL: what a
//! worker writes for a run (claim, start, one renewal, a fenced outcome)
//! against what a server's own queue writes (start, outcome), by 1 and 4
//! concurrent claimers, each with its own pool as worker processes have.
//! The outcome is a cancellation, so that the figures are the queue's
//! alone, not the results'.
//!
//! Run with `BACKTESTER_TEST_POSTGRES_URL=postgres://... cargo bench --bench leases`;
//! figures are in benches/README.md.

use std::time::{Duration, Instant};

use backtester::store::{NewVersion, RunOutcome, Store, FIRST_USER_ID};

const RUNS: usize = 500;
const LEASE: Duration = Duration::from_secs(30);

async fn fresh_database(url: &str, suffix: &str) -> String {
    use sqlx::Connection;
    let name = format!("bt_bench_leases_{}_{suffix}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(url).await.expect("PostgreSQL answers");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("a database is created");
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{name}")
}

/// A fresh database with [`RUNS`] queued runs.
async fn queued(url: &str, suffix: &str) -> (String, Vec<i64>) {
    let url = fresh_database(url, suffix).await;
    let store = Store::open(&url).await.expect("the database opens");
    let version =
        NewVersion { source: b"fn on_bar(ctx) {}".to_vec(), content_hash: "h".into(), params_json: "[]".into() };
    let (strategy, version) =
        store.create_strategy(FIRST_USER_ID, "bench", "rhai", "", version).await.expect("a strategy");
    let mut ids = Vec::new();
    for _ in 0..RUNS {
        ids.push(store.create_run(FIRST_USER_ID, strategy.id, version.id, "{}", None).await.expect("a run").id);
    }
    store.close().await;
    (url, ids)
}

/// Runs per second through the server's own queue's writes, one at a time.
async fn in_process(url: &str, round: usize) -> f64 {
    let (url, ids) = queued(url, &format!("own{round}")).await;
    let store = Store::connect(&url).await.expect("connects");
    let started = Instant::now();
    for id in ids {
        assert!(store.mark_running(id, 1, None).await.expect("started"));
        store.finish_run(id, RunOutcome::Cancelled { bars: 1 }, None).await.expect("finished");
    }
    RUNS as f64 / started.elapsed().as_secs_f64()
}

/// Runs per second through `claimers` workers' writes.
async fn claimed(url: &str, claimers: usize, round: usize) -> f64 {
    let (url, _) = queued(url, &format!("w{claimers}_{round}")).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..claimers {
        let store = Store::connect(&url).await.expect("connects");
        tasks.push(tokio::spawn(async move {
            let owner = format!("bench-{n}");
            while let Some(claim) = store.claim_run(&owner, LEASE).await.expect("claims") {
                let (id, fence) = (claim.run_id, Some(&claim.fence));
                assert!(store.mark_running(id, 1, fence).await.expect("started"));
                store.renew_lease(id, &claim.fence, LEASE, 1, None).await.expect("renewed");
                store.finish_run(id, RunOutcome::Cancelled { bars: 1 }, fence).await.expect("finished");
            }
        }));
    }
    for task in tasks {
        task.await.expect("a claimer");
    }
    RUNS as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let Ok(url) = std::env::var("BACKTESTER_TEST_POSTGRES_URL") else {
        eprintln!("BACKTESTER_TEST_POSTGRES_URL is not set: nothing measured");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    // The best of three of each: the machine may be shared.
    rt.block_on(async {
        let (mut own, mut one, mut two, mut four) = (0f64, 0f64, 0f64, 0f64);
        for round in 0..3 {
            own = own.max(in_process(&url, round).await);
            one = one.max(claimed(&url, 1, round).await);
            two = two.max(claimed(&url, 2, round).await);
            four = four.max(claimed(&url, 4, round).await);
        }
        println!("server's own queue, 1 at a time: {own:7.0} runs/s ({:.2} ms a run)", 1000.0 / own);
        println!("1 claimer:                       {one:7.0} runs/s ({:.2} ms a run)", 1000.0 / one);
        println!("lease overhead per claimed run:  {:.2} ms", 1000.0 / one - 1000.0 / own);
        println!("2 claimers:                      {two:7.0} runs/s");
        println!("4 claimers:                      {four:7.0} runs/s");
    });
}
