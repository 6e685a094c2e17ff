//! Sweeps in the service: many variants of one run, queued like runs,
//! executed on the run slots (within `--max-concurrent-runs`), each
//! finished variant stored at once so that a sweep survives a restart.
//!
//! A sweep goes queued → running → completed | failed | cancelled; after a
//! crash or a stop, a running sweep is queued again and runs only the
//! variants that have no stored row.

mod execute;
mod live;
mod on_workers;
mod queue;
mod request;
mod summary;
mod views;

pub use live::SweepEvent;
pub use queue::SweepQueue;
pub use request::{Direction, RandomDraw, SweepFields, SweepRequest, SWEEP_FIELDS};
pub use views::{variant_json, HeatmapQuery, VariantsQuery};

use tokio::sync::broadcast;

use super::accounts::Actor;
use super::{RunRequest, Service, ServiceError};
use crate::store::{RunRow, RunStatus, SweepRow};
use crate::sweep::{self, SweepJob, Target};

impl Service {
    /// Checks a sweep request against the stored strategy and datasets (as
    /// a run's, plus its axes against the strategy's parameters) and queues
    /// it as `actor`'s user's.
    ///
    /// # Errors
    /// The first invalid field, named.
    pub async fn submit_sweep(&self, actor: Actor, request: SweepRequest) -> Result<SweepRow, ServiceError> {
        let max_jobs = self.inner.config.max_concurrent_runs.max(1);
        let checked = request.check(max_jobs)?;
        let prepared = self.prepare(actor, &request.run).await?;
        let strategy = self.strategy(actor, prepared.strategy_id).await?;
        let version = self
            .inner
            .store
            .version_by_id(prepared.version_id)
            .await?
            .ok_or_else(|| ServiceError::invalid("version", "the version is gone"))?;
        let universe = prepared.universe;
        // A walk-forward runs every variant once per window.
        let total = match &checked.walk_forward {
            Some(spec) => {
                let windows = sweep::walk_forward::windows(spec, universe.timeline())
                    .map_err(|e| ServiceError::invalid("walk_forward", e.to_string()))?;
                checked.variants.len().saturating_mul(windows.len() as u64)
            }
            None => checked.variants.len(),
        };
        let runtime = strategy.runtime.parse()?;
        let limits = self.inner.config.limits.clone();
        let base = request.run.raw_spec()?;
        let constraint = request.sweep.constraint.clone();
        let variants = checked.variants.clone();
        let name = format!("{} v{}", strategy.name, version.version);
        let code = version.source.unwrap_or_default();
        tokio::task::spawn_blocking(move || {
            let job = SweepJob {
                runtime,
                code: &code,
                name: &name,
                limits: &limits,
                universe: &universe,
                benchmark: None,
                base,
                variants: &variants,
                constraint: constraint.as_deref(),
                jobs: 1,
                skip: &[],
                only: None,
                cancel: crate::domain::CancelToken::new(),
            };
            sweep::check(&job)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("checking the sweep failed: {e}")))?
        .map_err(|e| {
            let axes = if request.sweep.variants.is_empty() { "grid" } else { "variants" };
            let field = match e {
                sweep::SweepError::Constraint { .. } => "constraint",
                sweep::SweepError::Strategy(_) => "strategy_id",
                _ => axes,
            };
            ServiceError::invalid(field, e.to_string())
        })?;
        // Stored with its own parameters (not every declared one filled
        // in): an axis may not also be a fixed parameter.
        let run = RunRequest { params: request.run.params.clone(), ..prepared.config };
        let stored = SweepRequest { run, sweep: request.sweep };
        let store = &self.inner.store;
        let config = stored.to_json()?;
        let (strategy_id, version_id) = (prepared.strategy_id, prepared.version_id);
        if !self.inner.config.executes_runs {
            // Its variants go to worker processes, in chunks.
            let plan = on_workers::chunk_plan(checked.variants.len(), checked.walk_forward.is_some());
            return Ok(store
                .create_sweep_on_workers(actor.user_id, strategy_id, version_id, &config, total, &plan)
                .await?);
        }
        let row = store.create_sweep(actor.user_id, strategy_id, version_id, &config, total).await?;
        self.inner.sweeps.push(row.id);
        Ok(row)
    }

    /// Cancels a queued or running sweep; the variants that finished are kept.
    ///
    /// # Errors
    /// NotFound, or Conflict when the sweep already ended.
    pub async fn cancel_sweep(&self, actor: Actor, id: i64) -> Result<RunStatus, ServiceError> {
        let row = self.sweep_row(actor, id).await?;
        if row.status.is_final() {
            return Err(ServiceError::Conflict(format!("sweep {id} is already {}", row.status)));
        }
        if row.on_workers {
            // Its workers read it when they next renew their chunks' leases
            // (within a second) and stop; the variants stored stay.
            if self.inner.store.finish_sweep(id, RunStatus::Cancelled, None, None).await? {
                return Ok(RunStatus::Cancelled);
            }
            return Ok(self.sweep_row(actor, id).await?.status);
        }
        let live = self.inner.sweeps.live(id);
        if let Some(live) = &live {
            live.cancel.cancel();
        }
        if self.inner.sweeps.take_out(id) {
            self.inner.store.finish_sweep(id, RunStatus::Cancelled, None, None).await?;
            self.inner.sweeps.finished(id);
            if let Some(live) = live {
                live.publish(SweepEvent::Cancelled { sweep_id: id });
            }
            return Ok(RunStatus::Cancelled);
        }
        let cancelled = match self.inner.server_lease.get() {
            // PostgreSQL: unless this server executes it (its runner then ends
            // it, keeping what it did), the sweep is ended in the database;
            // the server that executes it, or has it queued, reads that when
            // it next renews its lease (within a second) or starts it, and
            // stops. The variants stored stay.
            Some(me) => self.inner.store.cancel_sweep_unless_held(id, me).await?,
            // SQLite: one server; a sweep not in its memory has ended.
            None => live.is_none() && self.inner.store.finish_sweep(id, RunStatus::Cancelled, None, None).await?,
        };
        if cancelled {
            return Ok(RunStatus::Cancelled);
        }
        Ok(self.sweep_row(actor, id).await?.status)
    }

    /// Queues variant `number` of sweep `id` as an ordinary run with full
    /// results: the sweep's run with the variant's values, on the sweep's
    /// strategy version, for the sweep's user (on the same datasets). Its
    /// metrics are the variant's.
    ///
    /// # Errors
    /// NotFound (the sweep or the variant), or what submitting a run reports.
    pub async fn variant_run(
        &self,
        actor: Actor,
        id: i64,
        number: u64,
        client: Option<std::net::IpAddr>,
    ) -> Result<RunRow, ServiceError> {
        let (row, request, checked) = self.plain_sweep_parts(actor, id).await?;
        if number >= checked.variants.len() {
            let total = checked.variants.len();
            return Err(ServiceError::NotFound(format!("variant {number} of sweep {id} (it has {total})")));
        }
        let mut run = request.run;
        for (axis, (_, value)) in checked.variants.axes().iter().zip(&checked.variants.get(number).values) {
            match axis.target {
                Target::Param => {
                    run.params.insert(axis.name.clone(), value.number.to_json());
                }
                Target::Setting(setting) => setting_into(&mut run, setting, &value.text)?,
            }
        }
        let owner = Actor { user_id: row.owner_id, sees_all: actor.sees_all };
        self.submit_from(owner, client, run, None).await
    }

    /// The event stream of a queued or running sweep; `None` once it ended.
    pub fn subscribe_sweep(&self, id: i64) -> Option<broadcast::Receiver<SweepEvent>> {
        self.inner.sweeps.live(id).map(|live| live.subscribe())
    }

    /// A sweep as stored, if `actor` sees it.
    ///
    /// # Errors
    /// NotFound.
    pub async fn sweep_row(&self, actor: Actor, id: i64) -> Result<SweepRow, ServiceError> {
        match self.inner.store.sweep(id).await? {
            Some(row) if actor.sees(row.owner_id) => Ok(row),
            _ => Err(ServiceError::NotFound(format!("sweep {id}"))),
        }
    }

    /// Queues the sweeps a crash or stop left queued or running.
    pub(super) async fn resume_sweeps(&self) -> Result<usize, ServiceError> {
        let ids = self.inner.store.recover_sweeps().await?;
        for &id in &ids {
            self.inner.sweeps.push(id);
        }
        Ok(ids.len())
    }
}

/// A stored sweep's request.
fn stored_request(row: &SweepRow) -> Result<SweepRequest, ServiceError> {
    SweepRequest::from_stored(&row.config)
        .map_err(|e| ServiceError::Conflict(format!("sweep {}'s stored config cannot be read: {e}", row.id)))
}

/// Sets a run request's field for `setting` to `text`, as the sweep runner
/// sets it on the run spec.
fn setting_into(run: &mut RunRequest, setting: sweep::Setting, text: &str) -> Result<(), ServiceError> {
    let value: rust_decimal::Decimal =
        text.parse().map_err(|e| ServiceError::Internal(format!("axis value '{text}': {e}")))?;
    match setting {
        sweep::Setting::Cash => run.initial_capital = value,
        sweep::Setting::Commission => run.commission = Some(super::CommissionRequest::Percent { rate: value }),
        sweep::Setting::SlippageBps => run.slippage_bps = Some(value),
        sweep::Setting::Leverage => run.leverage = Some(value),
    }
    Ok(())
}
