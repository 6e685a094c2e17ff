//! A worker process's loop (`backtester worker`): claim queued runs from
//! the PostgreSQL runs table, and chunks of sweeps' variants, under a lease
//! (see `store::leases`, `store::sweep_chunks`), execute them as the server
//! would (`runner`, `sweeps::on_workers`), keep the lease while they run,
//! and write their outcome fenced by the attempt.
//!
//! Wake-ups come from `LISTEN` on [`QUEUE_CHANNEL`], on a connection of
//! its own (the Any pool cannot listen); polling every [`WorkerOptions::poll`]
//! covers notifications lost while that connection was down and leases that
//! ran out (nobody notifies those).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, Semaphore};

use super::live::Live;
use super::{Service, ServiceConfig, ServiceError};
use crate::store::{ChunkClaim, Claim, Dialect, LeaseState, Store, StoreError, QUEUE_CHANNEL};

/// How often a running run's lease is renewed, its progress written and a
/// cancel looked for, at most (also never less often than a third of the
/// lease).
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// The pause before listening again after the listening connection failed.
const RELISTEN_PAUSE: Duration = Duration::from_secs(1);

/// What [`require_shared_queue`] calls a worker process.
pub const WORKER: &str = "backtester worker";

/// What [`require_shared_queue`] calls a server that executes no runs.
pub const SERVE_WITHOUT_RUNS: &str = "serve --workers 0";

/// How a worker runs.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// The PostgreSQL URL, for the listening connection.
    pub database_url: String,
    /// Runs executed at once.
    pub concurrency: usize,
    /// How long a claim lasts unless renewed; a worker that stops renewing
    /// (killed, frozen, cut off) loses its runs this long after.
    pub lease: Duration,
    /// The longest wait between two looks at the queue without a notification.
    pub poll: Duration,
}

/// Refuses `what` unless the database is PostgreSQL, the only backend
/// whose runs table workers share (checked before a database is opened, so
/// that no SQLite file is created for nothing, and again by the service).
///
/// # Errors
/// [`ServiceError::Unsupported`] on SQLite.
pub fn require_shared_queue(dialect: Dialect, what: &str) -> Result<(), ServiceError> {
    match dialect {
        Dialect::Postgres => Ok(()),
        Dialect::Sqlite => Err(ServiceError::Unsupported(format!(
            "{what} needs PostgreSQL (--database-url postgres://...): worker processes share the queue of runs \
             through it; on SQLite, `backtester serve` executes the runs itself"
        ))),
    }
}

/// A name for this process that no other process shares: host, process id
/// and the time it started (a worker's lease owner; a server's, prefixed).
pub(super) fn process_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let started = crate::store::now_millis();
    format!("{}:{}:{started}", if host.is_empty() { "worker" } else { &host }, std::process::id())
}

impl Service {
    /// A service for a worker process: it executes the runs and sweep
    /// chunks it claims and nothing else (no recovery, no queue of its own:
    /// the runs it queues, a sweep's best variants, go to the shared queue).
    ///
    /// # Errors
    /// [`ServiceError::Unsupported`] on SQLite.
    pub fn for_worker(store: Store, config: ServiceConfig) -> Result<Service, ServiceError> {
        require_shared_queue(store.dialect(), WORKER)?;
        // It admits nothing from clients: the caps on queued runs are the
        // API's; a sweep's best variants queued here are never refused.
        let config = ServiceConfig {
            executes_runs: false,
            max_queued_runs: usize::MAX,
            max_queued_per_client: usize::MAX,
            ..config
        };
        Ok(Service::idle(store, config, 0))
    }

    /// Claims and executes runs, `options.concurrency` at once, until
    /// `stop` completes; then gives back the runs still executing, queued
    /// again for another worker.
    pub async fn work(self, options: WorkerOptions, stop: impl std::future::Future<Output = ()>) {
        let name = process_name();
        tokio::select! {
            () = self.claim_and_execute(&name, options) => {}
            () = stop => {}
        }
        match self.store().release_leases(&name).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(runs = n, "stopping: the runs under way are queued again"),
            Err(e) => tracing::warn!(error = %e, "stopping: cannot give back the runs under way; their leases run out"),
        }
        match self.store().release_chunks(&name).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(chunks = n, "stopping: the sweep chunks under way are queued again"),
            Err(e) => {
                tracing::warn!(error = %e, "stopping: cannot give back the sweep chunks under way; their leases run out")
            }
        }
    }

    async fn claim_and_execute(&self, name: &str, options: WorkerOptions) {
        tracing::info!(worker = %name, concurrency = options.concurrency, "worker started");
        let wake = Arc::new(Notify::new());
        tokio::spawn(listen(options.database_url.clone(), Arc::clone(&wake)));
        let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
        // Runs and sweep chunks take turns, so that neither waits for the other to drain.
        let mut chunk_first = false;
        loop {
            let Ok(permit) = Arc::clone(&slots).acquire_owned().await else { return };
            chunk_first = !chunk_first;
            let lease = options.lease;
            match self.claim(name, lease, chunk_first).await {
                Ok(Some(work)) => {
                    let service = self.clone();
                    tokio::spawn(async move {
                        match work {
                            Work::Run(claim) => service.execute_claimed(claim, lease).await,
                            Work::Chunk(claim) => service.execute_chunk(claim, lease).await,
                        }
                        drop(permit);
                    });
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot claim work; trying again"),
            }
            drop(permit);
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(options.poll) => {}
            }
        }
    }

    /// Claims a run or a chunk of a sweep, trying chunks first when `chunk_first`.
    async fn claim(&self, name: &str, lease: Duration, chunk_first: bool) -> Result<Option<Work>, StoreError> {
        let store = self.store();
        if chunk_first {
            if let Some(chunk) = store.claim_chunk(name, lease).await? {
                return Ok(Some(Work::Chunk(chunk)));
            }
        }
        if let Some(run) = store.claim_run(name, lease).await? {
            return Ok(Some(Work::Run(run)));
        }
        if !chunk_first {
            if let Some(chunk) = store.claim_chunk(name, lease).await? {
                return Ok(Some(Work::Chunk(chunk)));
            }
        }
        Ok(None)
    }

    /// Executes a claimed run while a task keeps its lease; its outcome is
    /// written only if the lease still holds then.
    async fn execute_claimed(&self, claim: Claim, lease: Duration) {
        let Claim { run_id: id, fence } = claim;
        tracing::info!(run = id, attempt = fence.attempt, "claimed a run");
        let live = Arc::new(Live::claimed(fence));
        self.inner.queue.adopt(id, Arc::clone(&live));
        let keeper = tokio::spawn(keep_lease(self.store().clone(), id, Arc::clone(&live), lease));
        self.execute(id).await;
        keeper.abort();
    }
}

/// What a worker claimed.
enum Work {
    /// A run.
    Run(Claim),
    /// A chunk of a sweep's variants, or its finish.
    Chunk(ChunkClaim),
}

/// Renews run `id`'s lease while it runs, on the async runtime (the run
/// itself is on a blocking thread, so a busy CPU does not stop this), and
/// with it writes the run's progress and looks for a cancel; cancels the
/// run when the lease is lost or a cancel was asked for.
pub(super) async fn keep_lease(store: Store, id: i64, live: Arc<Live>, lease: Duration) {
    let Some(fence) = live.fence.get().cloned() else { return };
    let every = WATCH_EVERY.min(lease / 3);
    loop {
        tokio::time::sleep(every).await;
        let bars = live.bars_done.load(Ordering::Relaxed) as i64;
        match store.renew_lease(id, &fence, lease, bars, live.equity()).await {
            Ok(LeaseState::Held) => {}
            Ok(LeaseState::CancelRequested) => live.cancel.cancel(),
            Ok(LeaseState::Lost) => {
                tracing::warn!(run = id, attempt = fence.attempt, "lost the run's lease; stopping it");
                live.cancel.cancel();
                return;
            }
            Err(e) => tracing::warn!(run = id, error = %e, "cannot renew the run's lease; trying again"),
        }
    }
}

/// Wakes the claim loop on every notification of [`QUEUE_CHANNEL`],
/// listening again after a pause whenever the connection fails.
async fn listen(url: String, wake: Arc<Notify>) {
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(QUEUE_CHANNEL).await {
                Ok(()) => loop {
                    match listener.try_recv().await {
                        Ok(Some(_)) => wake.notify_one(),
                        // The connection was lost (and is reopened by the
                        // next call): runs queued meanwhile were not notified.
                        Ok(None) => wake.notify_one(),
                        Err(e) => {
                            tracing::warn!(error = %e, "listening for queued runs failed; polling meanwhile");
                            break;
                        }
                    }
                },
                Err(e) => tracing::warn!(error = %e, "cannot listen for queued runs; polling meanwhile"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot connect to listen for queued runs; polling meanwhile"),
        }
        tokio::time::sleep(RELISTEN_PAUSE).await;
    }
}
