//! Sweeps on workers at the store's level, on PostgreSQL: a sweep's chunks
//! are claimed once each, its finish only after every other chunk is done;
//! an expired chunk is claimed again as the next attempt and the old
//! attempt's writes are refused; a chunk that keeps losing its lease fails
//! its sweep; a cancel reaches the chunks' workers; a stopping worker gives
//! its chunks back. Skipped without BACKTESTER_TEST_POSTGRES_URL.

use std::collections::HashSet;
use std::time::Duration;

use backtester::store::{
    ChunkPlan, LeaseState, NewVersion, RunStatus, Store, StoreError, FINISH_CHUNK, FIRST_USER_ID, MAX_ATTEMPTS,
};
use backtester::sweep::{Outcome, Ran, ReturnShape, VariantResult, METRICS};

use crate::api::app::{backends, fresh_postgres_database, Backend};

fn postgres() -> Option<String> {
    backends().into_iter().find_map(|b| match b {
        Backend::Postgres(url) => Some(fresh_postgres_database(&url)),
        Backend::Sqlite => None,
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap()
}

const SHORT: Duration = Duration::from_millis(1);
const LONG: Duration = Duration::from_secs(600);

/// A store on a fresh database with a sweep on workers of `chunks` chunks
/// of four variants and a finish; the sweep's id.
async fn store_with_sweep(url: &str, chunks: u64) -> (Store, i64) {
    let store = Store::open(url).await.unwrap();
    let first =
        NewVersion { source: b"fn on_bar(ctx) {}".to_vec(), content_hash: "h".into(), params_json: "[]".into() };
    let (strategy, version) = store.create_strategy(FIRST_USER_ID, "s", "rhai", "", first).await.unwrap();
    let plan = ChunkPlan { chunks: (0..chunks).map(|c| c * 4..c * 4 + 4).collect(), finish: true };
    let row = store.create_sweep_on_workers(FIRST_USER_ID, strategy.id, version.id, "{}", chunks * 4, &plan).await;
    let row = row.unwrap();
    assert!(row.on_workers);
    (store, row.id)
}

fn excluded(numbers: std::ops::Range<u64>) -> Vec<VariantResult> {
    numbers.map(|number| VariantResult { number, outcome: Outcome::Excluded }).collect()
}

#[test]
fn chunks_are_claimed_once_each_and_the_finish_only_after_every_other() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, id) = store_with_sweep(&url, 12).await;
        let mut claimers = Vec::new();
        for n in 0..4 {
            let store = Store::connect(&url).await.unwrap();
            claimers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(claim) = store.claim_chunk(&format!("w{n}"), LONG).await.unwrap() {
                    assert!(!claim.finishes(), "the finish is claimable only once every chunk is done");
                    assert_eq!(claim.fence.attempt, 1);
                    mine.push(claim);
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for claimer in claimers {
            all.extend(claimer.await.unwrap());
        }
        let chunks: HashSet<i64> = all.iter().map(|c| c.chunk).collect();
        assert_eq!(all.len(), 12, "every chunk claimed once: {all:?}");
        assert_eq!(chunks, (0..12).collect());
        assert_eq!(store.sweep(id).await.unwrap().unwrap().status, RunStatus::Running, "the first claim started it");
        for claim in &all {
            store.insert_chunk_variants(claim, &excluded(claim.numbers.clone())).await.unwrap();
            if claim.chunk != 11 {
                store.complete_chunk(claim, 2).await.unwrap();
            }
        }
        assert!(store.claim_chunk("early", LONG).await.unwrap().is_none(), "chunk 11 is not done yet");
        let last = all.iter().find(|c| c.chunk == 11).unwrap();
        store.complete_chunk(last, 2).await.unwrap();
        let finish = store.claim_chunk("finisher", LONG).await.unwrap().expect("the finish");
        assert!(finish.finishes() && finish.chunk == FINISH_CHUNK);
        assert_eq!(store.chunk_indicators(id).await.unwrap(), 24);
        assert!(store.finish_chunked_sweep(&finish, RunStatus::Completed, None, Some("{}")).await.unwrap());
        assert_eq!(store.sweep(id).await.unwrap().unwrap().status, RunStatus::Completed);
        assert_eq!(store.variant_numbers(id).await.unwrap(), (0..48).collect::<Vec<u64>>());
        assert!(store.claim_chunk("after", LONG).await.unwrap().is_none());
    });
}

#[test]
fn an_expired_chunk_is_claimed_again_and_the_old_attempt_stores_nothing() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, id) = store_with_sweep(&url, 1).await;
        let first = store.claim_chunk("a", SHORT).await.unwrap().unwrap();
        store.insert_chunk_variants(&first, &excluded(0..1)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = store.claim_chunk("b", LONG).await.unwrap().unwrap();
        assert_eq!((second.chunk, second.fence.attempt), (0, 2), "the expired chunk, as attempt 2");

        // The first attempt wakes: its lease is lost and its writes are refused.
        assert_eq!(store.renew_chunk(&first, LONG).await.unwrap(), LeaseState::Lost);
        let late = store.insert_chunk_variants(&first, &excluded(1..4)).await;
        assert!(matches!(late, Err(StoreError::ChunkFenced { attempt: 1, .. })), "{late:?}");
        assert!(matches!(store.complete_chunk(&first, 1).await, Err(StoreError::ChunkFenced { .. })));
        assert_eq!(store.variant_numbers(id).await.unwrap(), [0], "only what attempt 1 stored while it held the lease");
        assert_eq!(store.variant_numbers_in(id, 0..4).await.unwrap(), [0], "what attempt 2 skips");
        assert!(store.variant_numbers_in(id, 1..4).await.unwrap().is_empty());

        // The holder stores the rest, with its attempt: one excluded (no
        // metrics), then ones that ran, in one statement's binds.
        let ran = |number| VariantResult {
            number,
            outcome: Outcome::Ran(Ran {
                metrics: (0..METRICS.len()).map(|i| (i != 3).then_some(number as f64 + i as f64 / 8.0)).collect(),
                shape: Some(ReturnShape { sharpe: 0.1, skew: -0.5, kurtosis: 3.5, count: 250 }),
            }),
        };
        let rest = [excluded(1..2), vec![ran(2), ran(3)]].concat();
        store.insert_chunk_variants(&second, &rest).await.unwrap();
        store.complete_chunk(&second, 1).await.unwrap();
        let page = backtester::store::VariantPage {
            order: backtester::store::VariantOrder::Number,
            outcome: None,
            min_trades: None,
            offset: 0,
            limit: None,
        };
        let stored = store.variant_page(id, &page).await.unwrap();
        assert_eq!(stored.iter().map(|v| v.attempt).collect::<Vec<_>>(), [1, 2, 2, 2]);
        assert_eq!(
            stored.iter().map(|v| v.outcome.clone()).skip(1).collect::<Vec<_>>(),
            rest.into_iter().map(|v| v.outcome).collect::<Vec<_>>(),
            "stored as given"
        );
        // A server starting meanwhile leaves the sweep to its workers.
        assert!(store.recover_sweeps().await.unwrap().is_empty());
        assert_eq!(store.sweep(id).await.unwrap().unwrap().status, RunStatus::Running);
    });
}

#[test]
fn a_chunk_that_loses_its_lease_too_often_fails_its_sweep() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, id) = store_with_sweep(&url, 2).await;
        let other = store.claim_chunk("steady", LONG).await.unwrap().unwrap();
        assert_eq!(other.chunk, 0);
        for attempt in 1..=MAX_ATTEMPTS {
            let claim = store.claim_chunk(&format!("w{attempt}"), SHORT).await.unwrap().unwrap();
            assert_eq!((claim.chunk, claim.fence.attempt), (1, attempt));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(store.claim_chunk("last", LONG).await.unwrap().is_none(), "no fourth attempt");
        let row = store.sweep(id).await.unwrap().unwrap();
        assert_eq!(row.status, RunStatus::Failed);
        assert!(row.error_message.unwrap().contains("variants 4..8 lost their worker 3 times"));
        assert_eq!(store.renew_chunk(&other, LONG).await.unwrap(), LeaseState::CancelRequested, "the rest stops");
    });
}

#[test]
fn a_cancelled_sweep_stops_its_chunks_and_a_stopping_worker_gives_its_chunks_back() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let (store, id) = store_with_sweep(&url, 3).await;
        let first = store.claim_chunk("stopping", LONG).await.unwrap().unwrap();
        assert_eq!(store.release_chunks("stopping").await.unwrap(), 1);
        let again = store.claim_chunk("other", LONG).await.unwrap().unwrap();
        assert_eq!((again.chunk, again.fence.attempt), (first.chunk, 1), "the release was not a lost lease");
        assert!(matches!(
            store.insert_chunk_variants(&first, &excluded(0..1)).await,
            Err(StoreError::ChunkFenced { .. })
        ));

        assert_eq!(store.renew_chunk(&again, LONG).await.unwrap(), LeaseState::Held);
        assert!(store.finish_sweep(id, RunStatus::Cancelled, None, None).await.unwrap());
        assert_eq!(store.renew_chunk(&again, LONG).await.unwrap(), LeaseState::CancelRequested);
        assert!(store.claim_chunk("late", LONG).await.unwrap().is_none(), "a cancelled sweep's chunks are not claimed");
    });
}

#[test]
fn a_sweep_a_server_executes_is_kept_from_other_servers_until_its_lease_runs_out() {
    let Some(url) = postgres() else { return };
    runtime().block_on(async move {
        let store = Store::open(&url).await.unwrap();
        let first =
            NewVersion { source: b"fn on_bar(ctx) {}".to_vec(), content_hash: "h".into(), params_json: "[]".into() };
        let (strategy, version) = store.create_strategy(FIRST_USER_ID, "s", "rhai", "", first).await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(store.create_sweep(FIRST_USER_ID, strategy.id, version.id, "{}", 4).await.unwrap().id);
        }
        let (held, lost) = ("serve/a:1:2", "serve/b:3:4");
        assert!(store.start_leased_sweep(ids[0], held, LONG).await.unwrap());
        assert!(!store.start_leased_sweep(ids[0], lost, LONG).await.unwrap(), "running, not queued");
        assert!(store.start_leased_sweep(ids[1], lost, SHORT).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Another server starting: the held sweep stays running, the lost one is queued again.
        assert_eq!(store.recover_sweeps().await.unwrap(), [ids[1], ids[2]]);
        assert_eq!(store.sweep(ids[0]).await.unwrap().unwrap().status, RunStatus::Running);
        // The lost server's renewal and end are refused; the holder's go through.
        assert!(!store.renew_sweep_lease(ids[1], lost, LONG).await.unwrap());
        assert!(store.renew_sweep_lease(ids[0], held, LONG).await.unwrap());
        assert!(!store.finish_leased_sweep(ids[1], lost, RunStatus::Completed, None, Some("{}")).await.unwrap());
        assert_eq!(store.sweep(ids[1]).await.unwrap().unwrap().status, RunStatus::Queued);
        // A server's reaper spares what it executes itself.
        assert!(store.start_leased_sweep(ids[1], lost, SHORT).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(store.requeue_lost_server_sweeps(&[ids[1]]).await.unwrap().is_empty());
        assert_eq!(store.requeue_lost_server_sweeps(&[]).await.unwrap(), [ids[1]]);
        // A cancel: not of the sweep the cancelling server executes itself
        // (its runner ends it), but of one queued, or held by another.
        assert!(!store.cancel_sweep_unless_held(ids[0], held).await.unwrap());
        assert!(store.cancel_sweep_unless_held(ids[2], held).await.unwrap());
        assert!(store.start_leased_sweep(ids[1], lost, LONG).await.unwrap());
        assert!(store.cancel_sweep_unless_held(ids[1], held).await.unwrap());
        assert!(!store.renew_sweep_lease(ids[1], lost, LONG).await.unwrap(), "its holder reads the cancel");
        assert_eq!(store.sweep(ids[1]).await.unwrap().unwrap().status, RunStatus::Cancelled);
        // A stopping server gives its sweeps back; they resume at the next start.
        assert_eq!(store.release_sweeps(lost).await.unwrap(), 0);
        assert_eq!(store.release_sweeps(held).await.unwrap(), 1);
        assert_eq!(store.recover_sweeps().await.unwrap(), [ids[0]]);
    });
}
