//! The lease queue on PostgreSQL at the store's level: claims never
//! overlap, an expired lease is claimed again as the next attempt, the old
//! attempt's completion is fenced out, and a run that keeps losing its
//! lease is failed as `interrupted`; a server's own lease keeps its run from
//! other servers' recovery and from workers until it runs out. Skipped without
//! BACKTESTER_TEST_POSTGRES_URL (see `api::app::backends`).

use std::collections::HashSet;
use std::time::Duration;

use rust_decimal::Decimal;

use backtester::broker::BrokerConfig;
use backtester::data::synthetic::random_walk;
use backtester::data::Universe;
use backtester::domain::{Symbol, Timestamp};
use backtester::engine::{self, ParamOverrides, RunConfig, RunHooks, RunReport};
use backtester::store::{
    with_transaction_timeout, EquityInput, FailureKind, LeaseState, NewVersion, RunOutcome, RunStatus, Store,
    StoreError, FIRST_USER_ID, MAX_ATTEMPTS, SERVER_OWNER_PREFIX,
};
use backtester::strategy::native::SmaCross;

use crate::api::app::{backends, fresh_postgres_database, Backend};

/// A fresh PostgreSQL database's URL, or `None` (skipped) without one.
fn postgres() -> Option<String> {
    backends().into_iter().find_map(|b| match b {
        Backend::Postgres(url) => Some(fresh_postgres_database(&url)),
        Backend::Sqlite => None,
    })
}

/// A store on a fresh database with `n` queued runs; their ids.
async fn store_with_runs(url: &str, n: usize) -> (Store, Vec<i64>) {
    let store = Store::open(url).await.unwrap();
    let first =
        NewVersion { source: b"fn on_bar(ctx) {}".to_vec(), content_hash: "h".into(), params_json: "[]".into() };
    let (strategy, version) = store.create_strategy(FIRST_USER_ID, "s", "rhai", "", first).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(store.create_run(FIRST_USER_ID, strategy.id, version.id, "{}", None).await.unwrap().id);
    }
    (store, ids)
}

fn report() -> RunReport {
    let bars = random_walk(300, 7, Timestamp(1_600_000_000_000), 60_000);
    let universe = Universe::new(vec![(Symbol::new("SYN"), bars)]).unwrap();
    let config = RunConfig::new(BrokerConfig::with_cash(Decimal::from(100_000)), ParamOverrides::default());
    engine::run(&universe, &mut SmaCross::default(), &config, RunHooks::default()).unwrap()
}

fn completed<'a>(report: &'a RunReport, drawdown: &'a [f64], fingerprint: &str) -> RunOutcome<'a> {
    RunOutcome::Completed {
        metrics_json: "{}".into(),
        returns_json: "{}".into(),
        timings_json: "{}".into(),
        log_json: "{}".into(),
        manifest_json: "{}".into(),
        fingerprint: fingerprint.into(),
        sandbox_json: None,
        bars: report.equity.len() as i64,
        trades: &report.trades,
        equity: EquityInput {
            timeline: report.timeline(),
            points: &report.equity,
            drawdown_pct: drawdown,
            benchmark: None,
            sampled: &[],
        },
    }
}

/// A runtime for one test (fresh_postgres_database runs its own, so the
/// tests cannot be `#[tokio::test]`s).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap()
}

const SHORT: Duration = Duration::from_millis(1);
const LONG: Duration = Duration::from_secs(60);

#[test]
fn concurrent_claimers_never_claim_one_run_twice() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (_store, ids) = store_with_runs(&url, 60).await;
        let mut claimers = Vec::new();
        for n in 0..6 {
            // A pool each, as separate worker processes have.
            let store = Store::connect(&url).await.unwrap();
            claimers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(claim) = store.claim_run(&format!("w{n}"), LONG).await.unwrap() {
                    assert_eq!(claim.fence.attempt, 1);
                    mine.push(claim.run_id);
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for claimer in claimers {
            all.extend(claimer.await.unwrap());
        }
        let unique: HashSet<i64> = all.iter().copied().collect();
        assert_eq!(all.len(), unique.len(), "a run was claimed twice: {all:?}");
        assert_eq!(unique, ids.into_iter().collect::<HashSet<_>>(), "every run claimed once");
    });
}

#[test]
fn an_expired_lease_is_claimed_again_and_the_old_attempt_is_fenced() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, ids) = store_with_runs(&url, 1).await;
        let first = store.claim_run("a", SHORT).await.unwrap().unwrap();
        assert_eq!((first.run_id, first.fence.attempt), (ids[0], 1));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = store.claim_run("b", LONG).await.unwrap().unwrap();
        assert_eq!((second.run_id, second.fence.attempt), (ids[0], 2), "the expired run, as attempt 2");
        assert!(store.claim_run("c", LONG).await.unwrap().is_none(), "a live lease is not claimed");

        // The first attempt comes back (it was frozen): nothing it writes is kept.
        assert_eq!(store.renew_lease(ids[0], &first.fence, LONG, 5, None).await.unwrap(), LeaseState::Lost);
        let report = report();
        let drawdown = report.drawdown_pct();
        let late = store.finish_run(ids[0], completed(&report, &drawdown, "late"), Some(&first.fence)).await;
        assert!(matches!(late, Err(StoreError::Fenced { attempt: 1, .. })), "{late:?}");
        assert!(store.trades(ids[0]).await.unwrap().is_empty(), "the refused results were rolled back");
        let late = store.finish_run(ids[0], RunOutcome::Cancelled { bars: 1 }, Some(&first.fence)).await;
        assert!(matches!(late, Err(StoreError::Fenced { .. })));
        let row = store.run(ids[0]).await.unwrap().unwrap();
        assert_eq!((row.status, row.attempt), (RunStatus::Running, 2));

        // The holder completes it, once.
        let live = Some((100_250.5, 250.5));
        assert_eq!(store.renew_lease(ids[0], &second.fence, LONG, 5, live).await.unwrap(), LeaseState::Held);
        let row = store.run(ids[0]).await.unwrap().unwrap();
        assert_eq!((row.bars_processed, row.live_equity, row.live_pnl), (5, Some(100_250.5), Some(250.5)));
        store.finish_run(ids[0], completed(&report, &drawdown, "second"), Some(&second.fence)).await.unwrap();
        let row = store.run(ids[0]).await.unwrap().unwrap();
        assert_eq!((row.status, row.attempt, row.fingerprint.as_deref()), (RunStatus::Completed, 2, Some("second")));
        assert_eq!(store.trades(ids[0]).await.unwrap().len(), report.trades.len());
        // Finished: its lease is nobody's any more, so even the holder's second write is refused.
        let again = store.finish_run(ids[0], RunOutcome::Cancelled { bars: 1 }, Some(&second.fence)).await;
        assert!(matches!(again, Err(StoreError::Fenced { .. })));
    });
}

#[test]
fn a_worker_frozen_inside_a_transaction_loses_its_row_lock_when_its_lease_ends() {
    use sqlx::{Connection, PgConnection};
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, ids) = store_with_runs(&url, 1).await;
        // A worker's session, as `backtester worker` opens it, with a lease of 400 ms.
        let lease = Duration::from_millis(400);
        let mut worker = PgConnection::connect(&with_transaction_timeout(&url, lease)).await.unwrap();
        let shown: String =
            sqlx::query_scalar("SHOW idle_in_transaction_session_timeout").fetch_one(&mut worker).await.unwrap();
        assert_eq!(shown, "400ms");
        // Frozen while it holds the run's row (as when storing a chunk's variants).
        let mut frozen = worker.begin().await.unwrap();
        sqlx::query("SELECT id FROM runs WHERE id = $1 FOR UPDATE").bind(ids[0]).fetch_one(&mut *frozen).await.unwrap();
        assert!(store.claim_run("other", LONG).await.unwrap().is_none(), "claims skip the locked row");
        // Once the lease is over, PostgreSQL ends the session and its lock with it.
        tokio::time::sleep(lease * 3).await;
        let claim = store.claim_run("other", LONG).await.unwrap().expect("claimable again");
        assert_eq!(claim.run_id, ids[0]);
        assert!(sqlx::query("SELECT 1").execute(&mut *frozen).await.is_err(), "the frozen transaction was ended");
    });
}

#[test]
fn a_run_that_loses_its_lease_too_often_fails_as_interrupted() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, ids) = store_with_runs(&url, 1).await;
        for attempt in 1..=MAX_ATTEMPTS {
            let claim = store.claim_run(&format!("w{attempt}"), SHORT).await.unwrap().unwrap();
            assert_eq!((claim.run_id, claim.fence.attempt), (ids[0], attempt));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(store.claim_run("last", LONG).await.unwrap().is_none(), "no fourth attempt");
        let row = store.run(ids[0]).await.unwrap().unwrap();
        assert_eq!((row.status, row.error_kind, row.attempt), (RunStatus::Failed, Some(FailureKind::Interrupted), 3));
    });
}

#[test]
fn a_cancel_of_a_claimed_run_reaches_its_worker_through_the_lease() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, ids) = store_with_runs(&url, 2).await;
        let claim = store.claim_run("w", LONG).await.unwrap().unwrap();
        assert!(store.request_cancel(claim.run_id).await.unwrap());
        assert_eq!(
            store.renew_lease(claim.run_id, &claim.fence, LONG, 1, None).await.unwrap(),
            LeaseState::CancelRequested
        );
        assert!(!store.request_cancel(ids[1]).await.unwrap(), "a queued run is cancelled by cancel_queued instead");
    });
}

#[test]
fn recovery_at_serve_start_leaves_leased_runs_alone() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, ids) = store_with_runs(&url, 2).await;
        let claim = store.claim_run("w", LONG).await.unwrap().unwrap();
        let queued = store.recover().await.unwrap();
        assert_eq!(queued, [ids[1]]);
        let row = store.run(claim.run_id).await.unwrap().unwrap();
        assert_eq!(row.status, RunStatus::Running, "a worker still holds it");
    });
}

#[test]
fn a_stopping_worker_gives_its_runs_back_without_spending_an_attempt() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, ids) = store_with_runs(&url, 1).await;
        let first = store.claim_run("stopping", LONG).await.unwrap().unwrap();
        assert_eq!(store.release_leases("stopping").await.unwrap(), 1);
        assert_eq!(store.run(ids[0]).await.unwrap().unwrap().status, RunStatus::Queued);
        let next = store.claim_run("other", LONG).await.unwrap().unwrap();
        assert_eq!((next.run_id, next.fence.attempt), (ids[0], 1), "the release was not a lost lease");
        // Same attempt number, another owner: the stopped worker's write is still refused.
        let late = store.finish_run(ids[0], RunOutcome::Cancelled { bars: 1 }, Some(&first.fence)).await;
        assert!(matches!(late, Err(StoreError::Fenced { .. })), "{late:?}");
    });
}

#[test]
fn a_server_lease_keeps_its_run_from_recovery_and_workers_until_it_runs_out() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, ids) = store_with_runs(&url, 3).await;
        let server = format!("{SERVER_OWNER_PREFIX}host:1:2");
        // Started under the server's lease: no worker's claim counted.
        let held = store.start_leased(ids[0], &server, LONG).await.unwrap().unwrap();
        assert_eq!(held.attempt, 0);
        assert!(store.start_leased(ids[0], &server, LONG).await.unwrap().is_none(), "running, not queued");
        // Another server starting recovers nothing of it.
        assert_eq!(store.recover().await.unwrap(), [ids[1], ids[2]]);
        assert_eq!(store.fail_lost_server_runs(&[]).await.unwrap(), 0);
        assert_eq!(store.run(ids[0]).await.unwrap().unwrap().status, RunStatus::Running);
        // Its lease runs out: a worker does not take it; it is failed as interrupted.
        let lost = store.start_leased(ids[1], &server, SHORT).await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let claim = store.claim_run("w", LONG).await.unwrap().unwrap();
        assert_eq!(claim.run_id, ids[2], "the queued run, not the server's lost one");
        // Not while its server says it is still executing it (only late to renew).
        assert_eq!(store.fail_lost_server_runs(&[ids[0], ids[1]]).await.unwrap(), 0);
        assert_eq!(store.fail_lost_server_runs(&[ids[0]]).await.unwrap(), 1);
        let row = store.run(ids[1]).await.unwrap().unwrap();
        assert_eq!((row.status, row.error_kind), (RunStatus::Failed, Some(FailureKind::Interrupted)));
        let late = store.finish_run(ids[1], RunOutcome::Cancelled { bars: 1 }, Some(&lost)).await;
        assert!(matches!(late, Err(StoreError::Fenced { .. })), "{late:?}");
        // A stopping server fails what it holds, and only that.
        assert_eq!(store.fail_held_runs("serve/another:3:4").await.unwrap(), 0);
        assert_eq!(store.fail_held_runs(&server).await.unwrap(), 1);
        assert_eq!(store.run(ids[0]).await.unwrap().unwrap().status, RunStatus::Failed);
        assert_eq!(store.run(ids[2]).await.unwrap().unwrap().status, RunStatus::Running, "the worker's");
    });
}
