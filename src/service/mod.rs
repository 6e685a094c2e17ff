//! The service behind the HTTP API: strategies, datasets and runs, with a
//! FIFO queue of runs executed off the async runtime, at most N at once.
//!
//! Runs go queued → running → completed | failed | cancelled. Their results
//! are written in one transaction. At start, runs a crash left `running`
//! are marked failed (`interrupted`) and `queued` ones are queued again.
//!
//! On PostgreSQL, worker processes (`backtester worker`, see `worker`)
//! may execute runs and sweeps instead: they claim runs from the runs table
//! and chunks of sweeps' variants (`sweeps::on_workers`) under a lease; a
//! server started with `executes_runs: false` only queues them, and
//! follows the runs for its strategies' event streams (`follow`).

pub mod accounts;
mod admission;
mod dataset_upload;
mod datasets;
mod deletion;
mod error;
mod follow;
mod live;
mod market_data;
mod own_leases;
pub mod params_json;
mod queue;
mod reports;
mod request;
mod runner;
mod runs;
pub mod sampling;
pub mod strategies;
mod sweeps;
mod watch;
mod worker;

#[cfg(test)]
mod failure_tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

pub use deletion::Deleted;
pub use error::ServiceError;
pub use live::RunEvent;
pub use request::{CommissionRequest, Pace, RunRequest, MAX_RUN_TIME_LIMIT_SECS, RUN_FIELDS};
pub use runs::RunView;
pub use sweeps::{
    variant_json, Direction, HeatmapQuery, RandomDraw, SweepEvent, SweepFields, SweepRequest, VariantsQuery,
    SWEEP_FIELDS,
};
pub use watch::{may_change_content, WatchGuard};
pub use worker::{require_shared_queue, WorkerOptions, SERVE_WITHOUT_RUNS, WORKER};

use crate::store::{Store, StoreError};
use crate::strategy::StrategyLimits;
use datasets::DatasetCache;
use queue::RunQueue;

/// How the service runs.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Runs executing at once; the rest wait in the queue.
    pub max_concurrent_runs: usize,
    /// Bytes of parsed datasets kept in memory (bars and price columns).
    pub dataset_cache_bytes: usize,
    /// Sandbox limits of every strategy the service compiles or runs.
    pub limits: StrategyLimits,
    /// Runs that may wait in the queue; a submit beyond it is refused (429).
    pub max_queued_runs: usize,
    /// Runs one client (an IP address) may have waiting in the queue.
    pub max_queued_per_client: usize,
    /// Wall-clock time a run may take (from its start, pacing included)
    /// unless it asks for less; past it the run fails as `time_limit`.
    pub run_time_limit: std::time::Duration,
    /// Whether this process executes runs itself (`serve --workers 0`
    /// leaves them, and the variants of sweeps, to worker processes, on
    /// PostgreSQL only).
    pub executes_runs: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            max_concurrent_runs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            dataset_cache_bytes: 512 << 20,
            limits: StrategyLimits::default(),
            run_time_limit: std::time::Duration::from_secs(3600),
            max_queued_runs: 1000,
            max_queued_per_client: 100,
            executes_runs: true,
        }
    }
}

/// The service; cheap to clone.
///
/// Its methods live beside what they serve: strategies in `strategies`,
/// datasets in `datasets`, submitting, cancelling and reading runs in
/// `runs`, executing one in `runner`, watched files in `watch`; the queue
/// of runs is its own type, [`RunQueue`].
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: ServiceConfig,
    queue: RunQueue,
    /// Sweeps waiting for run slots, and those running.
    sweeps: sweeps::SweepQueue,
    datasets: DatasetCache,
    /// Event streams per strategy: its runs' events and watched-file reloads.
    strategy_events: Mutex<HashMap<i64, broadcast::Sender<RunEvent>>>,
    /// The lease owner name of the runs and sweeps this server executes, on
    /// PostgreSQL (see `own_leases`).
    server_lease: std::sync::OnceLock<String>,
}

impl Service {
    /// Recovers from a previous crash and starts executing queued runs.
    ///
    /// # Errors
    /// Database failures during recovery.
    /// [`ServiceError::Unsupported`] for a service that leaves its runs to
    /// workers on SQLite.
    pub async fn start(store: Store, config: ServiceConfig) -> Result<Service, ServiceError> {
        if !config.executes_runs {
            worker::require_shared_queue(store.dialect(), SERVE_WITHOUT_RUNS)?;
        }
        let queued = store.recover().await?;
        let slots = config.max_concurrent_runs.max(1);
        let service = Service::idle(store, config, slots);
        service.name_lease_owner();
        tokio::spawn(service.clone().reap_lost_server_work());
        if service.inner.config.executes_runs {
            for id in queued {
                // Counted in the queue's cap; their clients are not known any more.
                service.inner.queue.push(id, None);
            }
            let dispatcher = service.clone();
            tokio::spawn(async move { dispatcher.dispatch().await });
        } else {
            tokio::spawn(service.clone().follow_worker_runs());
        }
        let sweeps = service.resume_sweeps().await?;
        tracing::info!(queued = service.inner.queue.len(), sweeps, "service started");
        tokio::spawn(service.clone().dispatch_sweeps());
        Ok(service)
    }

    /// A service with `slots` run slots, an empty queue and no dispatcher.
    fn idle(store: Store, config: ServiceConfig, slots: usize) -> Service {
        let inner = Inner {
            queue: RunQueue::new(slots, config.max_queued_runs, config.max_queued_per_client),
            sweeps: sweeps::SweepQueue::default(),
            datasets: DatasetCache::new(config.dataset_cache_bytes),
            store,
            config,
            strategy_events: Mutex::new(HashMap::new()),
            server_lease: std::sync::OnceLock::new(),
        };
        Service { inner: Arc::new(inner) }
    }

    /// The database, for the service's own modules.
    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The service's settings.
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    /// Whether the database answers (for health checks).
    ///
    /// # Errors
    /// The database's failure: unreachable, or a SQLite file replaced.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.inner.store.ping().await
    }

    /// Starts queued runs as slots free up, in FIFO order.
    async fn dispatch(self) {
        while let Some((id, permit)) = self.inner.queue.next().await {
            let service = self.clone();
            tokio::spawn(async move {
                service.execute_own(id).await;
                drop(permit);
            });
        }
    }

    /// Starts no more queued runs (the server is shutting down): they stay
    /// queued and start again at the next start.
    pub fn stop_starting_runs(&self) {
        self.inner.queue.close();
    }

    /// The event stream of strategy `id` (created on first use).
    pub fn strategy_channel(&self, id: i64) -> broadcast::Sender<RunEvent> {
        let mut all = self.inner.strategy_events.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(id).or_insert_with(|| broadcast::channel(256).0).clone()
    }
}
