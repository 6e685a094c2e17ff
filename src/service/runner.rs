//! Executing one run: load its data and strategy, run the engine on a
//! blocking thread with progress and pacing, and store the outcome.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::accounts::Actor;
use super::live::{Live, RunEvent};
use super::market_data::MarketDataError;
use super::{Pace, RunRequest, Service, ServiceError};
use crate::domain::num::to_f64;
use crate::domain::CancelToken;
use crate::engine::{
    self, EngineError, Progress, RunHooks, RunManifest, RunReport, RunSettings, SandboxLimits, StrategySource,
};
use crate::store::{EquityInput, FailureKind, Fence, RunOutcome, RunStatus, StoreError};
use crate::strategy::{Runtime, StrategyError, UnknownRuntime};

/// Cancels a run when its wall-clock limit passes, marking why; stops
/// watching when dropped.
struct Watchdog(tokio::task::JoinHandle<()>);

impl Watchdog {
    fn start(live: &Arc<Live>, limit: Duration) -> Self {
        let live = Arc::clone(live);
        Watchdog(tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            live.time_limit_passed(limit.as_secs());
        }))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Least time between two progress events.
const EVENT_EVERY: Duration = Duration::from_millis(100);

/// How many times a run's outcome is written before the run is left to the
/// next start's recovery, and the pause after the first failure (doubling).
const FINISH_ATTEMPTS: u32 = 4;
const FINISH_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The pause between two rounds of [`FINISH_ATTEMPTS`] to write a failed or
/// cancelled run's outcome, which is tried until it is written.
const OUTCOME_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Longest sleep of a paced run between two looks at its cancellation.
const PACE_SLICE: f64 = 0.05;

/// How long one bar takes at `pace`, in seconds, for bars `interval_ms` apart.
fn seconds_per_bar(pace: Pace, interval_ms: i64) -> f64 {
    match pace {
        Pace::BarsPerSecond(bars) => 1.0 / bars,
        Pace::Acceleration(x) => interval_ms as f64 / 1000.0 / x,
    }
}

/// Sleeps until `due` seconds after `started`, however far that is (a pace
/// is honoured exactly, never capped), in slices of [`PACE_SLICE`] so that
/// a cancellation ends the wait at once.
fn wait_until(started: Instant, due: f64, cancel: &CancelToken) {
    while !cancel.is_cancelled() {
        let left = due - started.elapsed().as_secs_f64();
        // Also ends a NaN wait.
        if left.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return;
        }
        std::thread::sleep(Duration::from_secs_f64(left.min(PACE_SLICE)));
    }
}

/// Why a run failed, as stored (`error_kind`) and shown.
struct Failure {
    kind: FailureKind,
    message: String,
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Store(e) => Failure { kind: FailureKind::Internal, message: database_failure(&e) },
            ServiceError::Internal(detail) => {
                tracing::error!(error = %detail, "a run failed inside the service");
                Failure { kind: FailureKind::Internal, message: "internal error".into() }
            }
            other => Failure { kind: FailureKind::Data, message: other.to_string() },
        }
    }
}

/// The kind of a run the engine stopped with `e` (not a cancellation).
fn failure_kind(e: &EngineError) -> FailureKind {
    match e {
        EngineError::Params(_) => FailureKind::Params,
        EngineError::Strategy { error, .. } => match **error {
            StrategyError::Budget { .. } => FailureKind::Budget,
            StrategyError::Trap { .. } => FailureKind::Trap,
            _ => FailureKind::Strategy,
        },
        _ => FailureKind::Strategy,
    }
}

/// What a run's stored error says of a database failure: a short message
/// that clients see; the database's own text (tables, constraints, SQL)
/// goes to the log only.
fn database_failure(e: &StoreError) -> String {
    tracing::error!(error = %e, "a run's database operation failed");
    e.summary().to_string()
}

/// Why a run stopped short of completing.
enum Stop {
    Failed(Failure),
    Engine(EngineError),
    /// Not this process's to run: a worker claimed it, or this worker's
    /// attempt lost its lease before the run started.
    Elsewhere,
}

/// Logs a worker's write that its fence refused (the run's lease ran out
/// and another attempt holds it): nothing of this attempt was stored.
fn late_completion_refused(e: &StoreError) {
    tracing::warn!(error = %e, "late completion refused: this attempt lost its lease, nothing stored");
}

/// The event of a run whose outcome its fence refused: the lease ran out
/// (its worker or server was cut off for longer), and the run was failed as
/// interrupted or is another attempt's now.
fn lease_lost(id: i64) -> RunEvent {
    RunEvent::Failed {
        run_id: id,
        error_kind: FailureKind::Interrupted,
        message: "this attempt lost its lease: the run was failed as interrupted, or another attempt holds it".into(),
    }
}

/// The status `outcome` writes.
fn ended_as(outcome: &RunOutcome<'_>) -> RunStatus {
    match outcome {
        RunOutcome::Completed { .. } => RunStatus::Completed,
        RunOutcome::Failed { .. } => RunStatus::Failed,
        RunOutcome::Cancelled { .. } => RunStatus::Cancelled,
    }
}

/// Phase timings, stored with the run.
struct Timings {
    load_ms: f64,
    simulate_ms: f64,
}

impl Service {
    /// Runs run `id` to its end and records the outcome; never panics on bad
    /// input: every failure becomes a failed run with a message.
    pub(super) async fn execute(&self, id: i64) {
        let live = match self.inner.queue.live(id) {
            Some(live) => live,
            None => return,
        };
        let outcome = self.execute_inner(id, &live).await;
        let bars = live.bars_done.load(std::sync::atomic::Ordering::Relaxed) as i64;
        let fence = live.fence.get();
        let event = match outcome {
            Ok((report, manifest, timings)) => {
                // Between the last progress event and the final state, which may take a moment.
                live.publish(RunEvent::Persisting { run_id: id });
                self.store_completed(id, &report, &manifest, timings, fence).await
            }
            Err(Stop::Elsewhere) => {
                // Its subscribers see the stream close and read the stored row.
                tracing::info!(run = id, "not started: a worker claimed the run, or this attempt lost its lease");
                self.inner.queue.finished(id);
                return;
            }
            Err(Stop::Engine(EngineError::Cancelled { step })) if live.timed_out_after().is_some() => {
                let secs = live.timed_out_after().unwrap_or_default();
                let message =
                    format!("the run took longer than its time limit of {secs} s and was stopped at bar {step}");
                self.store_failed(id, FailureKind::TimeLimit, &message, step as i64, fence).await
            }
            Err(Stop::Engine(EngineError::Cancelled { step })) => {
                match self.store_outcome(id, RunOutcome::Cancelled { bars: step as i64 }, fence).await {
                    true => RunEvent::Cancelled { run_id: id },
                    false => lease_lost(id),
                }
            }
            Err(Stop::Engine(e)) => self.store_failed(id, failure_kind(&e), &e.to_string(), bars, fence).await,
            Err(Stop::Failed(failure)) => self.store_failed(id, failure.kind, &failure.message, bars, fence).await,
        };
        self.inner.queue.finished(id);
        live.publish(event);
    }

    /// A run's wall-clock limit: its own, never more than the server's now
    /// (which may have been lowered since the run was queued).
    fn time_limit(&self, request: &RunRequest) -> Duration {
        let server = self.inner.config.run_time_limit;
        request.time_limit_secs.map_or(server, |secs| Duration::from_secs(secs).min(server))
    }

    async fn store_failed(
        &self,
        id: i64,
        kind: FailureKind,
        message: &str,
        bars: i64,
        fence: Option<&Fence>,
    ) -> RunEvent {
        tracing::info!(run = id, kind = kind.as_str(), message, "run failed");
        match self.store_outcome(id, RunOutcome::Failed { kind, message, bars, timings_json: None }, fence).await {
            true => RunEvent::Failed { run_id: id, error_kind: kind, message: message.to_string() },
            false => lease_lost(id),
        }
    }

    /// Writes how run `id` ended, trying again for as long as the process
    /// lives: a run the service finished is never left `running` (after a
    /// crash or a stop, the next start's recovery sees to it). A worker's
    /// attempt that lost its lease gives up: the run is another's now, or
    /// was failed as interrupted. Returns whether the outcome was written.
    pub(super) async fn store_outcome(&self, id: i64, outcome: RunOutcome<'_>, fence: Option<&Fence>) -> bool {
        loop {
            match self.finish_run(id, outcome.clone(), fence).await {
                Ok(()) => return true,
                Err(e @ StoreError::Fenced { .. }) => {
                    late_completion_refused(&e);
                    return false;
                }
                Err(e) => tracing::error!(run = id, error = %e, "cannot store a run's outcome; trying again"),
            }
            tokio::time::sleep(OUTCOME_RETRY_PAUSE).await;
        }
    }

    /// Writes how run `id` ended, trying again after a failure (a busy
    /// SQLite file, a dropped connection): a run whose end is not written
    /// stays `running` until the next start.
    ///
    /// # Errors
    /// The last failure; [`StoreError::Fenced`] at once, never retried.
    pub(super) async fn finish_run(
        &self,
        id: i64,
        outcome: RunOutcome<'_>,
        fence: Option<&Fence>,
    ) -> Result<(), StoreError> {
        let mut pause = FINISH_RETRY_PAUSE;
        for _ in 1..FINISH_ATTEMPTS {
            match self.inner.store.finish_run(id, outcome.clone(), fence).await {
                Ok(()) => return Ok(()),
                Err(e @ StoreError::Fenced { .. }) => return Err(e),
                Err(e) => tracing::warn!(run = id, error = %e, "storing a run's outcome failed; trying again"),
            }
            // A commit whose acknowledgement was lost is not written twice.
            // (A server's runs all have attempt 0: the status tells its own
            // end from a failure another process wrote, as interrupted.)
            if let Ok(Some(row)) = self.inner.store.run(id).await {
                let ours = fence.is_none_or(|f| f.attempt == row.attempt) && row.status == ended_as(&outcome);
                if row.status.is_final() && ours {
                    return Ok(());
                }
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
        self.inner.store.finish_run(id, outcome, fence).await
    }

    async fn store_completed(
        &self,
        id: i64,
        report: &RunReport,
        manifest: &RunManifest,
        timings: Timings,
        fence: Option<&Fence>,
    ) -> RunEvent {
        let started = Instant::now();
        let drawdown = report.drawdown_pct();
        let metrics = serde_json::to_value(&report.metrics).unwrap_or_default();
        let log = json!({ "lines": report.log.lines, "dropped": report.log.dropped, "rejections": report.rejections,
                          "orders_cancelled_at_end": report.cancelled_at_end });
        let bars = report.equity.len() as f64;
        let mut timings_json = json!({
            "load_data_ms": timings.load_ms,
            "simulate_ms": timings.simulate_ms,
            "bars_per_second": if timings.simulate_ms > 0.0 { bars / (timings.simulate_ms / 1000.0) } else { 0.0 },
        });
        let returns_json = serde_json::to_string(&report.returns()).unwrap_or_default();
        let manifest_json = serde_json::to_string(manifest).unwrap_or_default();
        let sampled = super::sampling::sample_run(report);
        let persist = |timings: &serde_json::Value| RunOutcome::Completed {
            metrics_json: metrics.to_string(),
            returns_json: returns_json.clone(),
            timings_json: timings.to_string(),
            log_json: log.to_string(),
            manifest_json: manifest_json.clone(),
            fingerprint: manifest.fingerprint.clone(),
            sandbox_json: report.sandbox.as_ref().and_then(|s| serde_json::to_string(s).ok()),
            bars: report.equity.len() as i64,
            trades: &report.trades,
            equity: EquityInput {
                timeline: report.timeline(),
                points: &report.equity,
                drawdown_pct: &drawdown,
                benchmark: report.benchmark.as_ref().map(|(_, curve)| curve.as_slice()),
                sampled: &sampled,
            },
        };
        match self.finish_run(id, persist(&timings_json), fence).await {
            Ok(()) => {
                // The persist phase is known only once its transaction has
                // committed; the results themselves are already complete.
                timings_json["persist_ms"] = json!(started.elapsed().as_secs_f64() * 1000.0);
                if let Err(e) = self.inner.store.set_timings(id, &timings_json.to_string()).await {
                    tracing::warn!(run = id, error = %e, "cannot store the persist timing");
                }
                RunEvent::Completed { run_id: id, metrics }
            }
            Err(e @ StoreError::Fenced { .. }) => {
                late_completion_refused(&e);
                lease_lost(id)
            }
            Err(e) => {
                let message = format!("the results could not be stored: {}", database_failure(&e));
                self.store_failed(id, FailureKind::Internal, &message, report.equity.len() as i64, fence).await
            }
        }
    }

    async fn execute_inner(&self, id: i64, live: &Arc<Live>) -> Result<(RunReport, RunManifest, Timings), Stop> {
        let fail = |e: ServiceError| Stop::Failed(Failure::from(e));
        let row = self.run_row(Actor::SYSTEM, id).await.map_err(fail)?;
        let request: RunRequest = serde_json::from_str(&row.config).map_err(|e| {
            Stop::Failed(Failure { kind: FailureKind::Internal, message: format!("stored config unreadable: {e}") })
        })?;
        let checked = request.check().map_err(fail)?;
        // Cancels the run once its time is up; gone (aborted) when this returns.
        let _watchdog = Watchdog::start(live, self.time_limit(&request));
        let strategy = self.strategy(Actor::SYSTEM, row.strategy_id).await.map_err(fail)?;
        let _ = live.strategy_events.set(self.strategy_channel(strategy.id));
        let version =
            self.inner.store.version_by_id(row.version_id).await.map_err(|e| fail(e.into()))?.ok_or_else(|| {
                Stop::Failed(Failure {
                    kind: FailureKind::Internal,
                    message: format!("version {} is gone", row.version_id),
                })
            })?;

        let loading = Instant::now();
        let (universe, benchmark, sources) =
            self.market_data(row.owner_id, &request, &checked).await.map_err(|e| match e {
                MarketDataError::Service(e) => fail(e),
                other => Stop::Failed(Failure { kind: FailureKind::Data, message: other.to_string() }),
            })?;
        let load_ms = loading.elapsed().as_secs_f64() * 1000.0;
        let ours = self.inner.store.mark_running(id, universe.len() as i64, live.fence.get()).await;
        if !ours.map_err(|e| fail(e.into()))? {
            return Err(Stop::Elsewhere);
        }
        live.bars_total.store(universe.len() as u64, std::sync::atomic::Ordering::Relaxed);

        let limits = self.inner.config.limits.clone();
        let runtime: Runtime = strategy.runtime.parse().map_err(|e: UnknownRuntime| fail(e.into()))?;
        let source = version.source.unwrap_or_default();
        let name = format!("{} v{}", strategy.name, version.version);
        let mut config = checked.spec.run_config();
        config.benchmark = benchmark;
        let pace = checked.pace;
        let live = live.clone();
        let simulate = tokio::task::spawn_blocking(move || -> Result<(RunReport, f64), Stop> {
            let started = Instant::now();
            let mut strategy = crate::strategy::build(runtime, &source, &name, &limits, live.cancel.clone())
                .map_err(|e| Stop::Failed(Failure { kind: FailureKind::Strategy, message: e.to_string() }))?;
            let initial = to_f64(config.broker.initial_cash);
            let interval = universe.interval_hint().unwrap_or(0);
            let mut last_event = Instant::now() - EVENT_EVERY;
            let mut on_progress = |p: Progress| {
                let event = live.record(id, p.step as u64, p.total as u64, to_f64(p.equity), initial);
                if last_event.elapsed() >= EVENT_EVERY || p.step == p.total {
                    last_event = Instant::now();
                    live.publish(event);
                }
                if let Some(pace) = pace {
                    wait_until(started, seconds_per_bar(pace, interval) * p.step as f64, &live.cancel);
                }
            };
            let hooks = RunHooks {
                cancel: live.cancel.clone(),
                progress: Some(&mut on_progress),
                progress_every: pace.map(|_| 1),
                shared_indicators: None,
            };
            let report = engine::run(&universe, strategy.as_mut(), &config, hooks).map_err(Stop::Engine)?;
            Ok((report, started.elapsed().as_secs_f64() * 1000.0))
        })
        .await
        .map_err(|e| {
            Stop::Failed(Failure { kind: FailureKind::Internal, message: format!("the run's thread failed: {e}") })
        })?;
        let (report, simulate_ms) = simulate?;
        let strategy = StrategySource {
            name: format!("{} v{}", strategy.name, version.version),
            runtime: runtime.as_str(),
            content_hash: version.content_hash.clone(),
        };
        let settings = RunSettings {
            start: checked.spec.window.start(),
            end: checked.spec.window.end(),
            resample: checked.spec.window.resample().map(|i| i.to_string()),
            broker: &report.broker_config,
            params: &report.params,
            limits: SandboxLimits::of(runtime, &self.inner.config.limits),
        };
        let manifest = RunManifest::new(strategy, sources.data, sources.benchmark, settings);
        Ok((report, manifest, Timings { load_ms, simulate_ms }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_failed_by_the_database_does_not_store_its_text() {
        // Regression: a run's stored error showed the database's own message.
        let raw = "error returned from database: UNIQUE constraint failed: results.run_id";
        let db = StoreError::Db(sqlx::Error::Protocol(raw.into()));
        let failure = Failure::from(ServiceError::Store(db));
        assert_eq!(failure.kind, FailureKind::Internal);
        assert_eq!(failure.message, "a database operation failed (the detail is in the server log)");
        let down = StoreError::Unavailable(sqlx::Error::PoolTimedOut);
        assert_eq!(database_failure(&down), "the database is unavailable; try again shortly");
    }

    #[test]
    fn a_pace_gives_the_seconds_per_bar() {
        assert_eq!(seconds_per_bar(Pace::BarsPerSecond(4.0), 60_000), 0.25);
        assert_eq!(seconds_per_bar(Pace::Acceleration(3600.0), 86_400_000), 24.0);
        // Far beyond what a Duration holds: still a number, no panic.
        assert!(seconds_per_bar(Pace::BarsPerSecond(1e-300), 0) > 1e299);
    }

    #[test]
    fn a_wait_ends_when_due_or_cancelled_however_far_off() {
        let cancel = CancelToken::new();
        let started = Instant::now();
        wait_until(started, 0.02, &cancel);
        assert!(started.elapsed() >= Duration::from_millis(20));
        wait_until(Instant::now(), -1.0, &cancel);
        wait_until(Instant::now(), f64::NAN, &cancel);

        let canceller = cancel.clone();
        let timer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            canceller.cancel();
        });
        wait_until(Instant::now(), 1e300, &cancel);
        assert!(cancel.is_cancelled(), "the wait ended only with the cancellation");
        timer.join().unwrap();
    }
}
