//! The service behind the HTTP API: strategies, datasets and runs, with a
//! FIFO queue of runs executed off the async runtime, at most N at once.
//!
//! Runs go queued → running → completed | failed | cancelled. Their results
//! are written in one transaction. At start, runs a crash left `running`
//! are marked failed (`interrupted`) and `queued` ones are queued again.

mod admission;
mod datasets;
mod error;
mod live;
pub mod params_json;
mod request;
mod runner;
pub mod sampling;
pub mod strategies;
mod watch;

#[cfg(test)]
mod failure_tests;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, Notify, Semaphore};

pub use error::ServiceError;
pub use live::RunEvent;
pub use request::{CommissionRequest, Pace, RunRequest, MAX_RUN_TIME_LIMIT_SECS};
pub use watch::{may_change_content, WatchGuard};

use crate::store::{RunRow, Store, StrategyRow, VersionRow};
use crate::strategy::{Params, StrategyLimits};
use datasets::DatasetCache;
use live::Live;

/// How the service runs.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Runs executing at once; the rest wait in the queue.
    pub max_concurrent_runs: usize,
    /// Bytes of parsed datasets kept in memory (bars and price columns).
    pub dataset_cache_bytes: usize,
    pub limits: StrategyLimits,
    /// Runs that may wait in the queue; a submit beyond it is refused (429).
    pub max_queued_runs: usize,
    /// Runs one client (an IP address) may have waiting in the queue.
    pub max_queued_per_client: usize,
    /// Wall-clock time a run may take (from its start, pacing included)
    /// unless it asks for less; past it the run fails as `time_limit`.
    pub run_time_limit: std::time::Duration,
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
        }
    }
}

/// The service; cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: ServiceConfig,
    queue: Mutex<VecDeque<i64>>,
    /// The caps on queued runs, whole and per client.
    admission: admission::Admission,
    live: Mutex<HashMap<i64, Arc<Live>>>,
    wake: Notify,
    slots: Arc<Semaphore>,
    datasets: DatasetCache,
    /// Event streams per strategy: its runs' events and watched-file reloads.
    strategy_events: Mutex<HashMap<i64, broadcast::Sender<RunEvent>>>,
}

/// A run as the API shows it: the stored row plus live progress.
#[derive(Clone, Debug)]
pub struct RunView {
    pub row: RunRow,
    /// 1-based position in the queue while queued.
    pub queue_position: Option<usize>,
    pub bars_processed: i64,
    pub progress_pct: f64,
}

impl Service {
    /// Recovers from a previous crash and starts executing queued runs.
    ///
    /// # Errors
    /// Database failures during recovery.
    pub async fn start(store: Store, config: ServiceConfig) -> Result<Service, ServiceError> {
        let queued = store.recover().await?;
        let slots = config.max_concurrent_runs.max(1);
        let service = Service::idle(store, config, slots);
        for id in queued {
            // Counted in the queue's cap; their clients are not known any more.
            service.inner.admission.queued_unreserved(id);
            service.enqueue(id);
        }
        tracing::info!(queued = service.queue_len(), "service started");
        let dispatcher = service.clone();
        tokio::spawn(async move { dispatcher.dispatch().await });
        Ok(service)
    }

    /// A service with `slots` run slots, an empty queue and no dispatcher.
    fn idle(store: Store, config: ServiceConfig, slots: usize) -> Service {
        let inner = Inner {
            slots: Arc::new(Semaphore::new(slots)),
            datasets: DatasetCache::new(config.dataset_cache_bytes),
            store,
            config,
            queue: Mutex::new(VecDeque::new()),
            admission: admission::Admission::default(),
            live: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            strategy_events: Mutex::new(HashMap::new()),
        };
        Service { inner: Arc::new(inner) }
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The service's settings.
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    fn queue_len(&self) -> usize {
        self.inner.queue.lock().map_or(0, |q| q.len())
    }

    fn enqueue(&self, id: i64) {
        if let Ok(mut live) = self.inner.live.lock() {
            live.entry(id).or_insert_with(|| Arc::new(Live::new()));
        }
        if let Ok(mut queue) = self.inner.queue.lock() {
            queue.push_back(id);
        }
        self.inner.wake.notify_one();
    }

    fn live(&self, id: i64) -> Option<Arc<Live>> {
        self.inner.live.lock().ok()?.get(&id).cloned()
    }

    /// Starts queued runs as slots free up, in FIFO order.
    async fn dispatch(self) {
        loop {
            let permit = match self.inner.slots.clone().acquire_owned().await {
                Ok(permit) => permit,
                Err(_) => return,
            };
            let next = loop {
                if self.inner.slots.is_closed() {
                    return;
                }
                if let Some(id) = self.inner.queue.lock().ok().and_then(|mut q| q.pop_front()) {
                    self.forget_client(id);
                    break id;
                }
                self.inner.wake.notified().await;
            };
            let service = self.clone();
            tokio::spawn(async move {
                service.execute(next).await;
                drop(permit);
            });
        }
    }

    /// Starts no more queued runs (the server is shutting down): they stay
    /// queued and start again at the next start.
    pub fn stop_starting_runs(&self) {
        self.inner.slots.close();
        self.inner.wake.notify_one();
    }

    /// Creates a strategy from uploaded code, compiled and checked first.
    ///
    /// # Errors
    /// An invalid runtime or field, a compile error, a taken name.
    pub async fn create_strategy(
        &self,
        name: &str,
        runtime: &str,
        description: &str,
        source: Option<&str>,
        module_base64: Option<&str>,
    ) -> Result<(StrategyRow, VersionRow), ServiceError> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(ServiceError::invalid("name", "must be 1 to 100 characters"));
        }
        let rt: crate::strategy::Runtime = runtime.parse()?;
        let checked = self.check_upload(rt, source, module_base64, name).await?;
        let version = crate::store::NewVersion {
            source: checked.bytes,
            content_hash: checked.content_hash,
            params_json: params_json::to_json(&checked.params),
        };
        Ok(self.inner.store.create_strategy(name, runtime, description, version).await?)
    }

    /// Adds a version of a strategy's code; the same code as the latest
    /// version adds none and returns that version (the flag says whether one
    /// was added).
    ///
    /// # Errors
    /// An unknown strategy, a wrong field or a compile error.
    pub async fn add_version(
        &self,
        strategy_id: i64,
        source: Option<&str>,
        module_base64: Option<&str>,
    ) -> Result<(VersionRow, bool), ServiceError> {
        let strategy = self.strategy(strategy_id).await?;
        let rt: crate::strategy::Runtime = strategy.runtime.parse()?;
        let checked = self.check_upload(rt, source, module_base64, &strategy.name).await?;
        let version = crate::store::NewVersion {
            source: checked.bytes,
            content_hash: checked.content_hash,
            params_json: params_json::to_json(&checked.params),
        };
        Ok(self.inner.store.add_version(strategy_id, version).await?)
    }

    /// Compiles uploaded code on a blocking thread: compiling a plugin, and
    /// running its start function (up to the load limit), must not hold up
    /// the requests the async runtime is serving.
    async fn check_upload(
        &self,
        runtime: crate::strategy::Runtime,
        source: Option<&str>,
        module_base64: Option<&str>,
        name: &str,
    ) -> Result<strategies::CheckedSource, ServiceError> {
        let (source, module, name) = (source.map(str::to_owned), module_base64.map(str::to_owned), name.to_owned());
        let limits = self.inner.config.limits.clone();
        tokio::task::spawn_blocking(move || {
            strategies::check_upload(runtime, source.as_deref(), module.as_deref(), &name, &limits)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("compiling the upload failed: {e}")))?
    }

    /// A strategy, or NotFound.
    ///
    /// # Errors
    /// NotFound or database failures.
    pub async fn strategy(&self, id: i64) -> Result<StrategyRow, ServiceError> {
        self.inner.store.strategy(id).await?.ok_or_else(|| ServiceError::NotFound(format!("strategy {id}")))
    }

    /// Checks a run request against the stored strategy and datasets and
    /// queues it; returns the queued run.
    ///
    /// # Errors
    /// The first invalid field (unknown strategy, version or dataset, bad
    /// parameters, ...), named.
    pub async fn submit(&self, request: RunRequest, rerun_of: Option<i64>) -> Result<RunRow, ServiceError> {
        self.submit_from(None, request, rerun_of).await
    }

    /// [`Service::submit`] for `client`, who may have at most
    /// `max_queued_per_client` runs waiting.
    ///
    /// # Errors
    /// As [`Service::submit`]; [`ServiceError::Busy`] when the queue, or the
    /// client's share of it, is full.
    pub async fn submit_from(
        &self,
        client: Option<std::net::IpAddr>,
        request: RunRequest,
        rerun_of: Option<i64>,
    ) -> Result<RunRow, ServiceError> {
        let config = &self.inner.config;
        let place = self.inner.admission.reserve(client, config.max_queued_runs, config.max_queued_per_client)?;
        let checked = request.check()?;
        let server_limit = self.inner.config.run_time_limit.as_secs();
        if request.time_limit_secs.is_some_and(|secs| secs > server_limit) {
            let reason = format!("must be at most the server's --run-time-limit, {server_limit} s");
            return Err(ServiceError::invalid("time_limit_secs", reason));
        }
        let strategy = self
            .inner
            .store
            .strategy(request.strategy_id)
            .await?
            .ok_or_else(|| ServiceError::invalid("strategy_id", format!("no strategy {}", request.strategy_id)))?;
        let version = self.inner.store.version(strategy.id, request.version).await?.ok_or_else(|| {
            ServiceError::invalid("version", format!("strategy {} has no version {:?}", strategy.id, request.version))
        })?;
        let declared = params_json::from_json(&version.params)
            .map_err(|e| ServiceError::invalid("strategy_id", format!("stored parameters unreadable: {e}")))?;
        let params = Params::from_json(&declared, &request.params)
            .map_err(|e| ServiceError::invalid("params", e.to_string()))?;
        for symbol in &request.symbols {
            let dataset = self
                .inner
                .store
                .dataset_by_symbol(symbol)
                .await?
                .ok_or_else(|| ServiceError::invalid("symbols", format!("no dataset for symbol '{symbol}'")))?;
            let window = &checked.spec.window;
            let outside = window.start().is_some_and(|s| s.millis() > dataset.last_ts)
                || window.end().is_some_and(|e| e.millis() < dataset.first_ts);
            if outside {
                return Err(ServiceError::invalid("start", format!("the range leaves no bars of '{symbol}'")));
            }
        }
        if let Some(benchmark) = &request.benchmark {
            if self.inner.store.dataset_by_symbol(benchmark).await?.is_none() {
                return Err(ServiceError::invalid("benchmark", format!("no dataset for symbol '{benchmark}'")));
            }
        }
        // Whether the range holds bars of every symbol (a weekend holds
        // none of daily stock data) and whether the data can be resampled
        // depend on the bars themselves: build the run's data as the run
        // will (parsed datasets are cached, so the run does not parse again).
        let resampled = checked.spec.window.resample().is_some();
        let (universe, benchmark, _) =
            self.market_data(&request, &checked).await.map_err(|e| e.into_request_error(resampled))?;
        if let Some(b) = &benchmark {
            // As the run will: a benchmark without a bar by its last step is refused.
            crate::engine::benchmark_curve(universe.timeline(), &b.bars, checked.spec.broker.initial_cash)
                .map_err(|reason| ServiceError::invalid("benchmark", format!("{}: {reason}", b.symbol)))?;
        }
        // A value the strategy cannot use (an SMA period of -5) fails its
        // `init`: refused now, naming the parameter, not when the run starts.
        let init = strategies::InitCheck {
            runtime: strategy.runtime.parse()?,
            source: version.source.clone().unwrap_or_default(),
            name: format!("{} v{}", strategy.name, version.version),
            limits: self.inner.config.limits.clone(),
            universe,
            broker: checked.spec.broker.clone(),
            params: request.params.clone(),
        };
        tokio::task::spawn_blocking(move || init.run())
            .await
            .map_err(|e| ServiceError::invalid("params", format!("checking the parameters failed: {e}")))??;
        let resolved = match serde_json::to_value(&params) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let config = request.normalized(version.version, resolved);
        let json = serde_json::to_string(&config).map_err(|e| ServiceError::invalid("body", e.to_string()))?;
        let row = self.inner.store.create_run(strategy.id, version.id, &json, rerun_of).await?;
        place.queued(row.id);
        self.enqueue(row.id);
        Ok(row)
    }

    /// Queues a new run with the same strategy version and config.
    ///
    /// # Errors
    /// NotFound, or what submitting reports.
    pub async fn rerun(&self, id: i64, client: Option<std::net::IpAddr>) -> Result<RunRow, ServiceError> {
        let row = self.run_row(id).await?;
        let request: RunRequest = serde_json::from_str(&row.config)
            .map_err(|e| ServiceError::Conflict(format!("run {id}'s stored config cannot be read: {e}")))?;
        self.submit_from(client, request, Some(id)).await
    }

    /// A run has left the queue: it no longer counts against the caps.
    fn forget_client(&self, id: i64) {
        self.inner.admission.left(id);
    }

    /// Cancels a queued or running run.
    ///
    /// # Errors
    /// NotFound, or Conflict when the run already ended.
    pub async fn cancel(&self, id: i64) -> Result<(), ServiceError> {
        let row = self.run_row(id).await?;
        if row.status.is_final() {
            return Err(ServiceError::Conflict(format!("run {id} is already {}", row.status)));
        }
        // Out of the queue first, so that no slot can start it meanwhile; back
        // in its place if the database cannot record the cancellation.
        let queued_at = self.inner.queue.lock().ok().and_then(|mut q| {
            let at = q.iter().position(|&r| r == id)?;
            q.remove(at);
            Some(at)
        });
        let cancelled = match queued_at {
            Some(at) => self.inner.store.cancel_queued(id).await.inspect_err(|_| {
                if let Ok(mut q) = self.inner.queue.lock() {
                    let at = at.min(q.len());
                    q.insert(at, id);
                }
                self.inner.wake.notify_one();
            })?,
            None => false,
        };
        if cancelled {
            self.forget_client(id);
            if let Some(live) = self.inner.live.lock().ok().and_then(|mut l| l.remove(&id)) {
                let _ = live.events.send(RunEvent::Cancelled { run_id: id });
            }
            return Ok(());
        }
        if let Some(live) = self.live(id) {
            live.cancel.cancel();
        }
        Ok(())
    }

    async fn run_row(&self, id: i64) -> Result<RunRow, ServiceError> {
        self.inner.store.run(id).await?.ok_or_else(|| ServiceError::NotFound(format!("run {id}")))
    }

    /// A run with its live progress and queue position.
    ///
    /// # Errors
    /// NotFound or database failures.
    pub async fn run_view(&self, id: i64) -> Result<RunView, ServiceError> {
        let row = self.run_row(id).await?;
        Ok(self.view(row))
    }

    /// Wraps a stored row with live progress.
    pub fn view(&self, row: RunRow) -> RunView {
        let queue_position =
            self.inner.queue.lock().ok().and_then(|q| q.iter().position(|&r| r == row.id)).map(|p| p + 1);
        let (bars, pct) = match (row.status.is_final(), self.live(row.id)) {
            (false, Some(live)) => {
                let (done, _, pct) = live.progress();
                (done as i64, pct)
            }
            _ => {
                let total = row.bars_total.unwrap_or(0);
                let pct = if row.status == crate::store::RunStatus::Completed {
                    100.0
                } else if total > 0 {
                    row.bars_processed as f64 / total as f64 * 100.0
                } else {
                    0.0
                };
                (row.bars_processed, pct)
            }
        };
        RunView { row, queue_position, bars_processed: bars, progress_pct: pct }
    }

    /// The event stream of strategy `id` (created on first use).
    pub fn strategy_channel(&self, id: i64) -> broadcast::Sender<RunEvent> {
        let mut all = self.inner.strategy_events.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(id).or_insert_with(|| broadcast::channel(256).0).clone()
    }

    /// Subscribes to a run's events; `None` once the run has ended (its
    /// final state is then in the database).
    pub fn subscribe(&self, id: i64) -> Option<broadcast::Receiver<RunEvent>> {
        self.live(id).map(|live| live.events.subscribe())
    }
}
