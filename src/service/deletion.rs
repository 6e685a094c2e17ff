//! Deleting what a user owns: refused (409) while a queued or running run
//! or sweep needs it; a strategy or version goes with its finished runs and
//! sweeps.

use super::accounts::Actor;
use super::sweeps::SweepRequest;
use super::{RunRequest, Service, ServiceError};
use crate::store::{Deletion, RunFilter, RunStatus};

/// What a deletion removed besides the row itself.
#[derive(Debug, PartialEq, Eq)]
pub struct Deleted {
    /// Finished runs deleted with it.
    pub runs: u64,
    /// Finished sweeps deleted with it.
    pub sweeps: u64,
}

fn done(what: &str, deletion: Deletion) -> Result<Deleted, ServiceError> {
    match deletion {
        Deletion::Done { runs, sweeps } => {
            tracing::info!(what, runs, sweeps, "deleted");
            Ok(Deleted { runs, sweeps })
        }
        Deletion::Busy(by) => Err(ServiceError::Conflict(format!("{what} is needed by {by}; it was not deleted"))),
    }
}

impl Service {
    /// Deletes strategy `id` (one `actor` sees) with its versions and
    /// finished runs and sweeps.
    ///
    /// # Errors
    /// NotFound; Conflict while a queued or running run or sweep uses it.
    pub async fn delete_strategy(&self, actor: Actor, id: i64) -> Result<Deleted, ServiceError> {
        let strategy = self.strategy(actor, id).await?;
        done(&format!("strategy {}", strategy.id), self.store().delete_strategy(strategy.id).await?)
    }

    /// Deletes version `number` of strategy `id` with its finished runs and sweeps.
    ///
    /// # Errors
    /// NotFound; Conflict for the only version, or while a queued or
    /// running run or sweep uses it.
    pub async fn delete_version(&self, actor: Actor, id: i64, number: i64) -> Result<Deleted, ServiceError> {
        let strategy = self.strategy(actor, id).await?;
        let version = self
            .store()
            .version(strategy.id, Some(number))
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("version {number} of strategy {id}")))?;
        let what = format!("version {number} of strategy {id}");
        done(&what, self.store().delete_version(strategy.id, version.id).await?)
    }

    /// Deletes dataset `id` (one version of a symbol) and its bars.
    ///
    /// # Errors
    /// NotFound; Conflict while a queued or running run or sweep of its
    /// user reads the symbol.
    pub async fn delete_dataset(&self, actor: Actor, id: i64) -> Result<Deleted, ServiceError> {
        let dataset = self.dataset(actor, id).await?;
        if let Some(by) = self.symbol_in_use(dataset.owner_id, &dataset.symbol).await? {
            return done(&format!("dataset {id} ({})", dataset.symbol), Deletion::Busy(by));
        }
        done(&format!("dataset {id}"), self.store().delete_dataset(dataset.id).await?)
    }

    /// Deletes finished run `id` and its results.
    ///
    /// # Errors
    /// NotFound; Conflict while it is queued or running.
    pub async fn delete_run(&self, actor: Actor, id: i64) -> Result<Deleted, ServiceError> {
        let run = self.run_row(actor, id).await?;
        done(&format!("run {}", run.id), self.store().delete_run(run.id).await?)
    }

    /// Deletes finished sweep `id` and its variants.
    ///
    /// # Errors
    /// NotFound; Conflict while it is queued or running.
    pub async fn delete_sweep(&self, actor: Actor, id: i64) -> Result<Deleted, ServiceError> {
        let sweep = self.sweep_row(actor, id).await?;
        done(&format!("sweep {}", sweep.id), self.store().delete_sweep(sweep.id).await?)
    }

    /// The first queued or running run or sweep of `owner_id` that reads
    /// `symbol` (as data or benchmark).
    async fn symbol_in_use(&self, owner_id: i64, symbol: &str) -> Result<Option<String>, ServiceError> {
        let reads = |request: &RunRequest| {
            request.symbols.iter().any(|s| s == symbol) || request.benchmark.as_deref() == Some(symbol)
        };
        for status in [RunStatus::Queued, RunStatus::Running] {
            let filter = RunFilter { status: Some(status), owner_id: Some(owner_id), ..RunFilter::default() };
            for run in self.store().runs(filter).await? {
                // A config that does not read is no run's data any more.
                if serde_json::from_str::<RunRequest>(&run.config).is_ok_and(|r| reads(&r)) {
                    return Ok(Some(format!("run {}", run.id)));
                }
            }
        }
        for sweep in self.store().sweeps(Some(owner_id), usize::MAX >> 1).await? {
            if !sweep.status.is_final() && SweepRequest::from_stored(&sweep.config).is_ok_and(|s| reads(&s.run)) {
                return Ok(Some(format!("sweep {}", sweep.id)));
            }
        }
        Ok(None)
    }
}
