//! Runs as clients see them: submitting (checked against the stored
//! strategy and datasets, then queued), cancelling, re-running, and reading
//! a run's state and results.

use super::accounts::Actor;
use super::{params_json, strategies, RunEvent, RunRequest, Service, ServiceError};
use crate::domain::num::to_f64;
use crate::session::Params;
use crate::store::{EquityRow, RunFilter, RunRow, RunStatus, TradeRow};

/// A run as the API shows it: the stored row plus live progress.
#[derive(Clone, Debug)]
pub struct RunView {
    /// The run as stored.
    pub row: RunRow,
    /// 1-based position in the queue while queued.
    pub queue_position: Option<usize>,
    /// Bars simulated so far: live while the run goes, as stored once it ended.
    pub bars_processed: i64,
    /// Bars processed as a percentage of the total, 0 to 100 (100 once completed).
    pub progress_pct: f64,
}

/// A run request checked against the stored strategy and datasets, with
/// its defaults filled in and its version resolved: ready to store.
pub(super) struct PreparedRun {
    pub strategy_id: i64,
    pub version_id: i64,
    /// The request as it is stored.
    pub config: RunRequest,
    /// `config` as JSON.
    pub config_json: String,
    /// The run's data, built as the run will build it (to check it).
    pub universe: crate::data::Universe,
}

impl Service {
    /// Checks a run request against the stored strategy and datasets (a
    /// strategy `actor` sees, the datasets of `actor`'s user) and queues it
    /// as that user's; returns the queued run.
    ///
    /// # Errors
    /// The first invalid field (unknown strategy, version or dataset, bad
    /// parameters, ...), named.
    pub async fn submit(
        &self,
        actor: Actor,
        request: RunRequest,
        rerun_of: Option<i64>,
    ) -> Result<RunRow, ServiceError> {
        self.submit_from(actor, None, request, rerun_of).await
    }

    /// [`Service::submit`] for `client`, who may have at most
    /// `max_queued_per_client` runs waiting.
    ///
    /// # Errors
    /// As [`Service::submit`]; [`ServiceError::Busy`] when the queue, or the
    /// client's share of it, is full.
    pub async fn submit_from(
        &self,
        actor: Actor,
        client: Option<std::net::IpAddr>,
        request: RunRequest,
        rerun_of: Option<i64>,
    ) -> Result<RunRow, ServiceError> {
        let place = self.inner.queue.reserve(client)?;
        if !self.inner.config.executes_runs {
            self.check_shared_queue(actor).await?;
        }
        let prepared = self.prepare(actor, &request).await?;
        let row = self
            .inner
            .store
            .create_run(actor.user_id, prepared.strategy_id, prepared.version_id, &prepared.config_json, rerun_of)
            .await?;
        if self.inner.config.executes_runs {
            self.inner.queue.push(row.id, Some(place));
        }
        // Wakes worker processes (PostgreSQL): without one the run waits
        // for their next poll. A worker that claims it before this
        // process's queue starts it executes it instead.
        if let Err(e) = self.inner.store.notify_queued().await {
            tracing::warn!(run = row.id, error = %e, "cannot notify workers of a queued run; they poll");
        }
        Ok(row)
    }

    /// The queue caps of a server whose runs execute on workers: its own
    /// queue holds none of them, so the database's queued runs are counted,
    /// in all (`max_queued_runs`) and per user (`max_queued_per_client`: the
    /// database knows a run's user, not its client's address). Two submits
    /// at once may both pass at the cap: it bounds the queue, it is no quota.
    async fn check_shared_queue(&self, actor: Actor) -> Result<(), ServiceError> {
        let config = &self.inner.config;
        let (all, mine) = self.inner.store.queued_counts(actor.user_id).await?;
        if all >= config.max_queued_runs as u64 {
            return Err(ServiceError::Busy(format!(
                "{all} runs are waiting for workers, the server's limit (--max-queued-runs); try again later"
            )));
        }
        if mine >= config.max_queued_per_client as u64 {
            return Err(ServiceError::Busy(format!(
                "you have {mine} runs waiting for workers, the limit per user (--max-queued-per-client); try again later"
            )));
        }
        Ok(())
    }

    /// Checks a run request against the stored strategy and datasets, as
    /// [`Service::submit`] does before storing it.
    ///
    /// # Errors
    /// The first invalid field, named.
    pub(super) async fn prepare(&self, actor: Actor, request: &RunRequest) -> Result<PreparedRun, ServiceError> {
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
            .filter(|row| actor.sees(row.owner_id))
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
                .dataset_by_symbol(actor.user_id, symbol)
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
            if self.inner.store.dataset_by_symbol(actor.user_id, benchmark).await?.is_none() {
                return Err(ServiceError::invalid("benchmark", format!("no dataset for symbol '{benchmark}'")));
            }
        }
        // Whether the range holds bars of every symbol (a weekend holds
        // none of daily stock data) and whether the data can be resampled
        // depend on the bars themselves: build the run's data as the run
        // will (parsed datasets are cached, so the run does not parse again).
        let resampled = checked.spec.window.resample().is_some();
        let (universe, benchmark, _) =
            self.market_data(actor.user_id, request, &checked).await.map_err(|e| e.into_request_error(resampled))?;
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
            universe: universe.clone(),
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
        let config_json = serde_json::to_string(&config).map_err(|e| ServiceError::invalid("body", e.to_string()))?;
        Ok(PreparedRun { strategy_id: strategy.id, version_id: version.id, config, config_json, universe })
    }

    /// Queues a new run with the same strategy version and config, for the
    /// same user (it reads the same user's datasets).
    ///
    /// # Errors
    /// NotFound, or what submitting reports.
    pub async fn rerun(&self, actor: Actor, id: i64, client: Option<std::net::IpAddr>) -> Result<RunRow, ServiceError> {
        let row = self.run_row(actor, id).await?;
        let request: RunRequest = serde_json::from_str(&row.config)
            .map_err(|e| ServiceError::Conflict(format!("run {id}'s stored config cannot be read: {e}")))?;
        let owner = Actor { user_id: row.owner_id, sees_all: actor.sees_all };
        self.submit_from(owner, client, request, Some(id)).await
    }

    /// Cancels a queued or running run.
    ///
    /// # Errors
    /// NotFound, or Conflict when the run already ended.
    pub async fn cancel(&self, actor: Actor, id: i64) -> Result<(), ServiceError> {
        let row = self.run_row(actor, id).await?;
        if row.status.is_final() {
            return Err(ServiceError::Conflict(format!("run {id} is already {}", row.status)));
        }
        // Out of the queue first, so that no slot can start it meanwhile; back
        // in its place if the database cannot record the cancellation.
        let queue = &self.inner.queue;
        let cancelled = match queue.take_out(id) {
            Some(at) => self.inner.store.cancel_queued(id).await.inspect_err(|_| queue.put_back(id, at))?,
            None => false,
        };
        if cancelled {
            if let Some(live) = queue.forget(id) {
                let _ = live.events.send(RunEvent::Cancelled { run_id: id });
            }
            return Ok(());
        }
        let local = self.inner.queue.live(id);
        if let Some(live) = &local {
            live.cancel.cancel();
        } else if self.inner.store.cancel_queued(id).await? {
            // Queued for worker processes only.
            return Ok(());
        }
        // Running on a worker process, which reads the request while it
        // renews its lease (also when this process's queue held the run
        // and a worker claimed it first).
        self.inner.store.request_cancel(id).await?;
        Ok(())
    }

    /// Run `id` if `actor` sees it, else NotFound.
    pub(super) async fn run_row(&self, actor: Actor, id: i64) -> Result<RunRow, ServiceError> {
        match self.inner.store.run(id).await? {
            Some(row) if actor.sees(row.owner_id) => Ok(row),
            _ => Err(ServiceError::NotFound(format!("run {id}"))),
        }
    }

    /// A run with its live progress and queue position.
    ///
    /// # Errors
    /// NotFound or database failures.
    pub async fn run_view(&self, actor: Actor, id: i64) -> Result<RunView, ServiceError> {
        let row = self.run_row(actor, id).await?;
        Ok(self.view(row))
    }

    /// Wraps a stored row with live progress.
    fn view(&self, row: RunRow) -> RunView {
        let queue_position = self.inner.queue.position(row.id);
        let (bars, pct) = match (row.status.is_final(), self.inner.queue.live(row.id)) {
            // Unless a worker process claimed it (its row has the progress).
            (false, Some(live)) if row.attempt == 0 => {
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

    /// Subscribes to a run's events; `None` once the run has ended (its
    /// final state is then in the database).
    pub fn subscribe(&self, id: i64) -> Option<tokio::sync::broadcast::Receiver<RunEvent>> {
        self.inner.queue.live(id).map(|live| live.events.subscribe())
    }

    /// The runs `filter` selects among those `actor` sees, with their live progress.
    ///
    /// # Errors
    /// Database failures.
    pub async fn runs(&self, actor: Actor, filter: RunFilter) -> Result<Vec<RunView>, ServiceError> {
        let filter = RunFilter { owner_id: actor.owner_filter().or(filter.owner_id), ..filter };
        let rows = self.inner.store.runs(filter).await?;
        Ok(rows.into_iter().map(|row| self.view(row)).collect())
    }

    /// The trades of run `id` (none until it completes).
    ///
    /// # Errors
    /// NotFound or database failures.
    pub async fn trades(&self, actor: Actor, id: i64) -> Result<Vec<TradeRow>, ServiceError> {
        let id = self.run_row(actor, id).await?.id;
        Ok(self.inner.store.trades(id).await?)
    }

    /// The equity curve of run `id`: every point when `full`, else the
    /// stored sample of [`sampling::EQUITY_SAMPLE`](super::sampling::EQUITY_SAMPLE)
    /// points, sampled now for a run stored before samples were.
    ///
    /// # Errors
    /// NotFound or database failures.
    pub async fn equity(&self, actor: Actor, id: i64, full: bool) -> Result<Vec<EquityRow>, ServiceError> {
        let id = self.run_row(actor, id).await?.id;
        let store = &self.inner.store;
        if !full {
            if let Some(sampled) = store.equity_sampled(id).await? {
                return Ok(sampled);
            }
        }
        let points = store.equity(id).await?;
        if full {
            return Ok(points);
        }
        // A run stored before samples were: sample its rows now, as they were then.
        let trades = store.trades(id).await?;
        let step_of = |t: crate::domain::Timestamp| points.partition_point(|p| p.time < t);
        let must: Vec<usize> = trades.iter().flat_map(|t| [step_of(t.entry_time), step_of(t.exit_time)]).collect();
        let values: Vec<f64> = points.iter().map(|p| to_f64(p.equity)).collect();
        let kept = super::sampling::sample(points.len(), &values, &must, super::sampling::EQUITY_SAMPLE);
        Ok(kept.into_iter().map(|i| points[i].clone()).collect())
    }

    /// The returns tables of run `id`, as stored JSON.
    ///
    /// # Errors
    /// NotFound; Conflict for a run that has not completed, or completed
    /// before returns tables were recorded.
    pub async fn returns(&self, actor: Actor, id: i64) -> Result<String, ServiceError> {
        let row = self.run_row(actor, id).await?;
        match self.inner.store.run_returns(row.id).await? {
            Some(text) => Ok(text),
            None if row.status == RunStatus::Completed => Err(ServiceError::Conflict(format!(
                "run {} completed before returns tables were recorded; rerun it to get them",
                row.id
            ))),
            None => Err(ServiceError::Conflict(format!(
                "run {} has no returns: it is {} (returns exist once a run completes)",
                row.id,
                row.status.as_str()
            ))),
        }
    }
}
