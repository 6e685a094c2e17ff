//! What the service does when the database refuses a write (a cancelled
//! queued run keeps its place, a run's outcome is written again) and when
//! it shuts down (queued runs stay queued).

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

use super::accounts::Actor;

use super::{Service, ServiceConfig};
use crate::store::{FailureKind, NewVersion, RunOutcome, RunStatus, Store};

/// A service with no free slot (nothing starts) on a fresh SQLite file,
/// three queued runs, and a second connection to the same file.
async fn service_with_three_runs(dir: &tempfile::TempDir) -> (Service, Vec<i64>, AnyPool) {
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::open(&url).await.unwrap();
    let first =
        NewVersion { source: b"fn on_bar(ctx) {}".to_vec(), content_hash: "h".into(), params_json: "[]".into() };
    let (strategy, version) = store.create_strategy(1, "s", "rhai", "", first).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(store.create_run(1, strategy.id, version.id, "{}", None).await.unwrap().id);
    }
    let service = Service::idle(store, ServiceConfig::default(), 0);
    for &id in &ids {
        service.inner.queue.push(id, None);
    }
    let side = AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    (service, ids, side)
}

const REFUSE: &str = "CREATE TRIGGER refuse BEFORE UPDATE ON runs BEGIN SELECT RAISE(FAIL, 'refused'); END";
const ACCEPT: &str = "DROP TRIGGER refuse";

async fn status(service: &Service, id: i64) -> RunStatus {
    service.inner.store.run(id).await.unwrap().unwrap().status
}

#[tokio::test]
async fn a_cancel_the_database_refuses_leaves_the_run_queued_in_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let (service, ids, side) = service_with_three_runs(&dir).await;
    sqlx::query(REFUSE).execute(&side).await.unwrap();
    assert!(service.cancel(Actor::SYSTEM, ids[1]).await.is_err());
    assert_eq!(service.inner.queue.waiting(), ids);
    assert_eq!(status(&service, ids[1]).await, RunStatus::Queued);

    sqlx::query(ACCEPT).execute(&side).await.unwrap();
    service.cancel(Actor::SYSTEM, ids[1]).await.unwrap();
    assert_eq!(service.inner.queue.waiting(), [ids[0], ids[2]]);
    assert_eq!(status(&service, ids[1]).await, RunStatus::Cancelled);
}

#[tokio::test]
async fn a_run_outcome_is_written_again_after_a_failure_and_given_up_in_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (service, ids, side) = service_with_three_runs(&dir).await;
    sqlx::query(REFUSE).execute(&side).await.unwrap();
    let accept = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        sqlx::query(ACCEPT).execute(&side).await.unwrap();
        side
    });
    service.finish_run(ids[0], RunOutcome::Cancelled { bars: 0 }, None).await.unwrap();
    assert_eq!(status(&service, ids[0]).await, RunStatus::Cancelled);

    let side = accept.await.unwrap();
    sqlx::query(REFUSE).execute(&side).await.unwrap();
    let err = service.finish_run(ids[2], RunOutcome::Cancelled { bars: 0 }, None).await.unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    assert_eq!(status(&service, ids[2]).await, RunStatus::Queued, "left to the next start's recovery");
}

#[tokio::test]
async fn a_failed_run_whose_outcome_cannot_be_written_is_tried_until_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let (service, ids, side) = service_with_three_runs(&dir).await;
    sqlx::query(REFUSE).execute(&side).await.unwrap();
    let storing = {
        let (service, id) = (service.clone(), ids[1]);
        tokio::spawn(async move {
            let outcome =
                RunOutcome::Failed { kind: FailureKind::Strategy, message: "boom", bars: 3, timings_json: None };
            service.store_outcome(id, outcome, None).await;
        })
    };
    // Longer than one round of attempts (0.25 + 0.5 + 1 s of pauses).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!storing.is_finished(), "still trying");
    assert_eq!(status(&service, ids[1]).await, RunStatus::Queued);
    sqlx::query(ACCEPT).execute(&side).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), storing).await.expect("stored once the database takes it").unwrap();
    assert_eq!(status(&service, ids[1]).await, RunStatus::Failed);
}

#[tokio::test]
async fn a_run_already_final_keeps_its_outcome_when_another_is_written() {
    // A commit whose acknowledgement was lost, then a failure written after it.
    let dir = tempfile::tempdir().unwrap();
    let (service, ids, _side) = service_with_three_runs(&dir).await;
    service.finish_run(ids[0], RunOutcome::Cancelled { bars: 1 }, None).await.unwrap();
    let failed = RunOutcome::Failed { kind: FailureKind::Internal, message: "late", bars: 2, timings_json: None };
    service.inner.store.finish_run(ids[0], failed, None).await.unwrap();
    let row = service.inner.store.run(ids[0]).await.unwrap().unwrap();
    assert_eq!((row.status, row.error_message), (RunStatus::Cancelled, None));
}

#[tokio::test]
async fn once_shutting_down_no_queued_run_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (service, ids, _side) = service_with_three_runs(&dir).await;
    // One free slot, as a finished run would leave during the shutdown's grace.
    service.inner.queue.add_slots(1);
    service.stop_starting_runs();
    let dispatcher = tokio::spawn(service.clone().dispatch());
    tokio::time::timeout(Duration::from_secs(5), dispatcher).await.expect("the dispatcher ends").unwrap();
    assert_eq!(service.inner.queue.len(), 3);
    for id in ids {
        assert_eq!(status(&service, id).await, RunStatus::Queued);
    }
}
