//! Executing one sweep: load its data and strategy once, run the variants
//! not yet stored on the run slots it holds, store each as it finishes (in
//! small transactions), and record how the sweep ended.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{mpsc, OwnedSemaphorePermit};

use super::live::{SweepEvent, SweepLive};
use super::request::{CheckedSweep, SweepRequest};
use super::summary::summary;
use crate::service::accounts::Actor;
use crate::service::Service;
use crate::store::{RunStatus, VariantPage};
use crate::strategy::Runtime;
use crate::sweep::walk_forward::{self, WalkProgress};
use crate::sweep::{self, Outcome, SweepJob, VariantResult, WalkForwardSpec};

/// Variants stored in one transaction at most, and the longest a finished
/// variant waits to be stored.
const BATCH: usize = 512;
const BATCH_WAIT: Duration = Duration::from_millis(200);

/// Least time between two progress events.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// How often, and how far apart, a batch of variants is written before the
/// sweep gives up (its finished variants stay; the next start resumes it).
const STORE_ATTEMPTS: u32 = 8;
const STORE_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// What a sweep's runs need, loaded once: the strategy's code, the data,
/// the base settings and the variants.
pub(super) struct Loaded {
    runtime: Runtime,
    code: Vec<u8>,
    name: String,
    limits: crate::strategy::StrategyLimits,
    universe: crate::data::Universe,
    benchmark: Option<crate::engine::Benchmark>,
    base: crate::engine::RawRunSpec,
    variants: sweep::VariantSet,
    constraint: Option<String>,
    jobs: usize,
    cancel: crate::domain::CancelToken,
}

impl Loaded {
    /// The sweep job over what is loaded, running the variants in `only`
    /// (all when `None`) but those in `skip`.
    pub(super) fn job<'a>(&'a self, skip: &'a [u64], only: Option<std::ops::Range<u64>>) -> SweepJob<'a> {
        SweepJob {
            runtime: self.runtime,
            code: &self.code,
            name: &self.name,
            limits: &self.limits,
            universe: &self.universe,
            benchmark: self.benchmark.clone(),
            base: self.base.clone(),
            variants: &self.variants,
            constraint: self.constraint.as_deref(),
            jobs: self.jobs,
            skip,
            only,
            cancel: self.cancel.clone(),
        }
    }
}

/// How a sweep's execution ended.
pub(super) enum End {
    /// Every variant finished.
    Completed { summary: serde_json::Value },
    /// Cancelled: the variants that finished are kept (a walk-forward
    /// keeps the windows done, in its summary).
    Cancelled { summary: Option<serde_json::Value> },
    /// It could not run.
    Failed(String),
    /// Not started: it was no longer queued (cancelled meanwhile).
    NotQueued,
    /// Cancelled here before it started: ended whoever may hold it.
    CancelledBeforeStart,
}

impl Service {
    /// Takes queued sweeps in order as run slots free up.
    pub(in crate::service) async fn dispatch_sweeps(self) {
        loop {
            let id = self.inner.sweeps.next().await;
            let most = self.inner.config.max_concurrent_runs.max(1);
            let Some(permits) = self.inner.queue.slots(most).await else {
                // Shutting down: the sweep stays queued for the next start.
                return;
            };
            let service = self.clone();
            tokio::spawn(async move { service.execute_sweep(id, permits).await });
        }
    }

    /// Runs sweep `id` on `permits.len()` threads at most and records how it ended.
    async fn execute_sweep(&self, id: i64, permits: Vec<OwnedSemaphorePermit>) {
        let Some(live) = self.inner.sweeps.live(id) else { return };
        let end = match self.run_sweep(id, &live, permits.len()).await {
            Ok(end) => end,
            Err(e) => End::Failed(e),
        };
        drop(permits);
        let before_start = matches!(end, End::CancelledBeforeStart);
        let (status, error, summary, event) = match end {
            End::NotQueued => {
                self.inner.sweeps.finished(id);
                return;
            }
            End::CancelledBeforeStart => (RunStatus::Cancelled, None, None, SweepEvent::Cancelled { sweep_id: id }),
            End::Completed { summary } => {
                (RunStatus::Completed, None, Some(summary), SweepEvent::Completed { sweep_id: id })
            }
            End::Cancelled { summary } => (RunStatus::Cancelled, None, summary, SweepEvent::Cancelled { sweep_id: id }),
            End::Failed(message) => {
                tracing::info!(sweep = id, message, "sweep failed");
                (RunStatus::Failed, Some(message.clone()), None, SweepEvent::Failed { sweep_id: id, message })
            }
        };
        let summary = summary.map(|s| s.to_string());
        let mut event = event;
        loop {
            let finished = match self.inner.server_lease.get().filter(|_| !before_start) {
                Some(owner) => {
                    self.inner.store.finish_leased_sweep(id, owner, status, error.as_deref(), summary.as_deref()).await
                }
                None => self.inner.store.finish_sweep(id, status, error.as_deref(), summary.as_deref()).await,
            };
            match finished {
                Ok(true) => break,
                Ok(false) => {
                    // Ended elsewhere (a cancel sent to another server), or no
                    // longer this server's: its stream says what is stored.
                    if let Ok(Some(row)) = self.inner.store.sweep(id).await {
                        event = match row.status {
                            RunStatus::Cancelled => SweepEvent::Cancelled { sweep_id: id },
                            RunStatus::Completed => SweepEvent::Completed { sweep_id: id },
                            _ => SweepEvent::Failed {
                                sweep_id: id,
                                message: "this server lost the sweep's lease: another server took it up".into(),
                            },
                        };
                    }
                    break;
                }
                Err(e) => tracing::error!(sweep = id, error = %e, "cannot store how a sweep ended; trying again"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        self.inner.sweeps.finished(id);
        live.publish(event);
    }

    /// Loads what sweep `id` needs and runs its variants not yet stored (or
    /// its walk-forward).
    async fn run_sweep(&self, id: i64, live: &Arc<SweepLive>, slots: usize) -> Result<End, String> {
        let store = &self.inner.store;
        let row = store.sweep(id).await.map_err(|e| e.summary().to_string())?.ok_or("the sweep is gone")?;
        // Cancelled between leaving the queue and starting: it ends cancelled
        // (not left queued in the database).
        if live.cancel.is_cancelled() {
            return Ok(End::CancelledBeforeStart);
        }
        let started = match self.inner.server_lease.get() {
            Some(owner) => store.start_leased_sweep(id, owner, super::super::own_leases::SERVER_LEASE).await,
            None => store.mark_sweep_running(id).await,
        };
        if !started.map_err(|e| e.summary().to_string())? {
            return Ok(End::NotQueued);
        }
        // Renewed while it runs (PostgreSQL); stopped when this returns.
        let _keeper = self.keep_sweep_lease(id, live.cancel.clone());
        let (loaded, checked_sweep) = self.load_sweep(&row, slots, live.cancel.clone()).await?;
        match checked_sweep.walk_forward {
            Some(spec) => self.walk_forward(id, live, loaded, spec, checked_sweep.objective, row.total as u64).await,
            None => self.sweep_variants_now(id, live, loaded, &checked_sweep).await,
        }
    }

    /// Loads what sweep `row` needs: its strategy version, its data, its
    /// variants; on `slots` threads at most, stopped by `cancel`.
    pub(super) async fn load_sweep(
        &self,
        row: &crate::store::SweepRow,
        slots: usize,
        cancel: crate::domain::CancelToken,
    ) -> Result<(Loaded, CheckedSweep), String> {
        let store = &self.inner.store;
        let request = SweepRequest::from_stored(&row.config).map_err(|e| format!("stored config unreadable: {e}"))?;
        let max_jobs = self.inner.config.max_concurrent_runs.max(1);
        // `jobs` was checked against the server's limit when submitted; a
        // server restarted with a lower one runs it on fewer threads (below),
        // rather than failing it.
        let checked_sweep = request.check(usize::MAX).map_err(|e| e.to_string())?;
        let checked = request.run.check().map_err(|e| e.to_string())?;
        let strategy = self.strategy(Actor::SYSTEM, row.strategy_id).await.map_err(|e| e.to_string())?;
        let version = store
            .version_by_id(row.version_id)
            .await
            .map_err(|e| e.summary().to_string())?
            .ok_or_else(|| format!("version {} is gone", row.version_id))?;
        let (universe, benchmark, _) =
            self.market_data(row.owner_id, &request.run, &checked).await.map_err(|e| e.to_string())?;
        let loaded = Loaded {
            runtime: strategy.runtime.parse().map_err(|e: crate::strategy::UnknownRuntime| e.to_string())?,
            code: version.source.unwrap_or_default(),
            name: format!("{} v{}", strategy.name, version.version),
            limits: self.inner.config.limits.clone(),
            universe,
            benchmark,
            // The request's own parameters (JSON), each variant's values added to them.
            base: request.run.raw_spec().map_err(|e| e.to_string())?,
            variants: checked_sweep.variants.clone(),
            constraint: request.sweep.constraint.clone(),
            jobs: request.sweep.jobs.unwrap_or(max_jobs).min(slots).max(1),
            cancel,
        };
        Ok((loaded, checked_sweep))
    }

    /// Runs the variants of sweep `id` that are not stored yet, storing
    /// each as it finishes.
    async fn sweep_variants_now(
        &self,
        id: i64,
        live: &Arc<SweepLive>,
        loaded: Loaded,
        checked: &CheckedSweep,
    ) -> Result<End, String> {
        let store = &self.inner.store;
        let objective = checked.objective;
        let skip = store.variant_numbers(id).await.map_err(|e| e.summary().to_string())?;
        let resumed_from = skip.len();
        if resumed_from > 0 {
            tracing::info!(sweep = id, done = resumed_from, total = checked.variants.len(), "resuming a sweep");
        }
        let (ran, excluded, failed) = store.variant_counts(id).await.map_err(|e| e.summary().to_string())?;
        live.done.store(ran + excluded + failed, std::sync::atomic::Ordering::Relaxed);
        live.excluded.store(excluded, std::sync::atomic::Ordering::Relaxed);
        live.failed.store(failed, std::sync::atomic::Ordering::Relaxed);
        let best = VariantPage::ranked(&objective, 1);
        for v in store.variant_page(id, &best).await.map_err(|e| e.summary().to_string())? {
            if let Outcome::Ran(ran) = &v.outcome {
                if let Some(score) = objective.score(&ran.metrics) {
                    live.offer(score, v.number as u64);
                }
            }
        }
        let (send, receive) = mpsc::unbounded_channel::<VariantResult>();
        let total = checked.variants.len();
        let collector = tokio::spawn(self.clone().collect_variants(id, live.clone(), objective, total, receive));
        let started = Instant::now();
        let ran = tokio::task::spawn_blocking(move || {
            sweep::run(&loaded.job(&skip, None), &mut |r| {
                let _ = send.send(r.clone());
            })
            .map(|results| (results.indicators_computed, results.results.len()))
        })
        .await
        .map_err(|e| format!("the sweep's thread failed: {e}"))?;
        let stored = collector.await.map_err(|e| format!("storing the variants failed: {e}"))?;
        let (indicators, ran_now) = ran.map_err(|e| e.to_string())?;
        stored?;
        if live.cancel.is_cancelled() {
            return Ok(End::Cancelled { summary: None });
        }
        let elapsed = started.elapsed();
        let mut summary = summary(store, id, &objective).await.map_err(|e| e.summary().to_string())?;
        summary["indicators_computed"] = json!(indicators);
        summary["elapsed_ms"] = json!(elapsed.as_secs_f64() * 1000.0);
        // After a restart: how many variants were stored before this start,
        // and how many this start ran (together, every variant once).
        summary["resumed_from"] = json!(resumed_from);
        summary["ran_this_start"] = json!(ran_now);
        // Only while this server still holds it: a server that lost it would
        // queue the best runs beside the one that took it up.
        if !self.still_holds_sweep(id).await {
            return Ok(End::Cancelled { summary: None });
        }
        summary["top_runs"] = self.keep_top(id, &objective, checked.top).await;
        Ok(End::Completed { summary })
    }

    /// Runs sweep `id`'s walk-forward: its windows' sweeps are not stored
    /// variant by variant; the result (rows, stitched run, efficiency) is
    /// stored whole when it ends, and a restart runs it again from its
    /// first window.
    pub(super) async fn walk_forward(
        &self,
        id: i64,
        live: &Arc<SweepLive>,
        loaded: Loaded,
        spec: WalkForwardSpec,
        objective: sweep::Objective,
        total: u64,
    ) -> Result<End, String> {
        live.done.store(0, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        let progress_live = live.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut last = Instant::now() - PROGRESS_EVERY;
            walk_forward::run(&loaded.job(&[], None), &spec, &objective, &mut |p| {
                if let WalkProgress::Variant { result, .. } = p {
                    let outcome = match result.outcome {
                        Outcome::Ran(_) => "ran",
                        Outcome::Excluded => "excluded",
                        Outcome::Failed(_) => "failed",
                    };
                    progress_live.count(outcome);
                }
                if last.elapsed() >= PROGRESS_EVERY || matches!(p, WalkProgress::Window { .. }) {
                    last = Instant::now();
                    progress_live.publish(progress(id, &progress_live, total, &objective));
                }
            })
        })
        .await
        .map_err(|e| format!("the walk-forward's thread failed: {e}"))?
        .map_err(|e| e.to_string())?;
        let summary = json!({
            "walk_forward": result,
            "done": live.done.load(std::sync::atomic::Ordering::Relaxed),
            "elapsed_ms": started.elapsed().as_secs_f64() * 1000.0,
        });
        if result.cancelled {
            return Ok(End::Cancelled { summary: Some(summary) });
        }
        Ok(End::Completed { summary })
    }

    /// Keeps the trades and equity curves of the best `top` variants: each
    /// is queued as an ordinary run (its results equal the variant's, the
    /// engine being deterministic); returns `{number: run id}`. Any other
    /// variant is rebuilt the same way on request.
    pub(super) async fn keep_top(&self, id: i64, objective: &sweep::Objective, top: usize) -> serde_json::Value {
        let page = VariantPage::ranked(objective, top);
        let mut runs = serde_json::Map::new();
        let leaders = match self.inner.store.variant_page(id, &page).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(sweep = id, error = %e, "cannot read the best variants to keep their results");
                return serde_json::Value::Object(runs);
            }
        };
        for row in leaders {
            let number = row.number as u64;
            match self.variant_run(Actor::SYSTEM, id, number, None).await {
                Ok(run) => {
                    runs.insert(number.to_string(), json!(run.id));
                }
                Err(e) => tracing::warn!(sweep = id, variant = number, error = %e, "cannot queue a best variant's run"),
            }
        }
        serde_json::Value::Object(runs)
    }

    /// Stores the variants arriving on `receive` in batches, counting them
    /// and publishing their events; ends when the sender is dropped.
    ///
    /// # Errors
    /// A batch that could not be stored after [`STORE_ATTEMPTS`] tries (the
    /// sweep is then stopped; what was stored stays).
    async fn collect_variants(
        self,
        id: i64,
        live: Arc<SweepLive>,
        objective: sweep::Objective,
        total: u64,
        mut receive: mpsc::UnboundedReceiver<VariantResult>,
    ) -> Result<(), String> {
        let mut batch = Vec::with_capacity(BATCH);
        let mut last_progress = Instant::now() - PROGRESS_EVERY;
        while receive_batch(&mut receive, &mut batch, BATCH).await {
            self.store_batch(id, &batch).await.inspect_err(|_| live.cancel.cancel())?;
            for r in batch.drain(..) {
                let (outcome, score) = match &r.outcome {
                    Outcome::Ran(ran) => ("ran", objective.score(&ran.metrics)),
                    Outcome::Excluded => ("excluded", None),
                    Outcome::Failed(_) => ("failed", None),
                };
                live.count(outcome);
                if let Some(score) = score {
                    live.offer(score, r.number);
                }
                let shown = score.map(|s| if objective.minimize { -s } else { s });
                live.publish(SweepEvent::Variant { sweep_id: id, number: r.number, outcome, objective: shown });
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                live.publish(progress(id, &live, total, &objective));
            }
        }
        live.publish(progress(id, &live, total, &objective));
        Ok(())
    }

    /// Writes one batch, trying again after a failure.
    async fn store_batch(&self, id: i64, batch: &[VariantResult]) -> Result<(), String> {
        let mut pause = STORE_RETRY_PAUSE;
        for attempt in 1..=STORE_ATTEMPTS {
            match self.inner.store.insert_variants(id, batch).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt == STORE_ATTEMPTS => {
                    tracing::error!(sweep = id, error = %e, "cannot store a sweep's variants; stopping it");
                    return Err(format!("its variants could not be stored: {}", e.summary()));
                }
                Err(e) => tracing::warn!(sweep = id, error = %e, "storing a sweep's variants failed; trying again"),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(4));
        }
        Ok(())
    }
}

/// Waits for a finished variant, then takes those that follow within
/// [`BATCH_WAIT`], up to `most` in all, into `batch`; false once the
/// sender is gone and nothing was taken.
pub(super) async fn receive_batch(
    receive: &mut mpsc::UnboundedReceiver<VariantResult>,
    batch: &mut Vec<VariantResult>,
    most: usize,
) -> bool {
    let Some(first) = receive.recv().await else { return false };
    batch.push(first);
    let deadline = tokio::time::Instant::now() + BATCH_WAIT;
    while batch.len() < most {
        match tokio::time::timeout_at(deadline, receive.recv()).await {
            Ok(Some(r)) => batch.push(r),
            Ok(None) | Err(_) => break,
        }
    }
    true
}

/// The progress event of a sweep now.
fn progress(id: i64, live: &SweepLive, total: u64, objective: &sweep::Objective) -> SweepEvent {
    use std::sync::atomic::Ordering::Relaxed;
    SweepEvent::Progress {
        sweep_id: id,
        done: live.done.load(Relaxed),
        total,
        failed: live.failed.load(Relaxed),
        excluded: live.excluded.load(Relaxed),
        best: live.best().map(|(n, s)| (n, if objective.minimize { -s } else { s })),
    }
}

#[cfg(test)]
mod tests {
    use crate::service::accounts::Actor;
    use crate::service::{Service, ServiceConfig};
    use crate::store::{NewVersion, RunStatus, Store};

    #[tokio::test]
    async fn a_sweep_cancelled_after_leaving_the_queue_ends_cancelled_not_queued() {
        // Regression: cancelled between the dispatcher taking it and its start,
        // a sweep was dropped with `queued` left in the database.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        let first =
            NewVersion { source: b"fn on_bar(ctx) {}".to_vec(), content_hash: "h".into(), params_json: "[]".into() };
        let (strategy, version) = store.create_strategy(1, "s", "rhai", "", first).await.unwrap();
        let sweep = store.create_sweep(1, strategy.id, version.id, "{}", 2).await.unwrap();
        let service = Service::idle(store, ServiceConfig::default(), 1);
        service.inner.sweeps.push(sweep.id);
        assert_eq!(service.inner.sweeps.next().await, sweep.id, "the dispatcher took it");
        assert_eq!(service.cancel_sweep(Actor::SYSTEM, sweep.id).await.unwrap(), RunStatus::Queued, "not started yet");
        let permits = service.inner.queue.slots(1).await.unwrap();
        service.execute_sweep(sweep.id, permits).await;
        assert_eq!(service.sweep_row(Actor::SYSTEM, sweep.id).await.unwrap().status, RunStatus::Cancelled);
        assert!(service.inner.sweeps.live(sweep.id).is_none());
    }
}
