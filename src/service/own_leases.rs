//! The runs and sweeps a server executes itself, on PostgreSQL: each one
//! under a lease in this server's name, renewed while it runs, so that no
//! other process sharing the database takes it for one a killed server left
//! behind (see `store::server_leases` for the rules).

use std::sync::Arc;
use std::time::Duration;

use super::worker::{keep_lease, process_name};
use super::Service;
use crate::store::{Dialect, SERVER_OWNER_PREFIX};

/// How long a server's hold on a run lasts unless renewed (twice a second):
/// a killed server's runs are failed as `interrupted` this long after, or
/// at most [`REAP_EVERY`] later.
pub const SERVER_LEASE: Duration = Duration::from_secs(10);

/// How often a server fails the runs whose server lease ran out (and
/// queues again such sweeps).
const REAP_EVERY: Duration = Duration::from_secs(2);

/// How often a server renews the lease of a sweep it executes.
const RENEW_EVERY: Duration = Duration::from_millis(500);

/// Tries at leasing a run before it runs without a lease, and the pause
/// after the first failure (doubled after each).
const LEASE_TRIES: u32 = 3;
const LEASE_RETRY_PAUSE: Duration = Duration::from_millis(200);

/// The longest a stopping server waits for each of its two writes.
const INTERRUPT_WAIT: Duration = Duration::from_secs(2);

/// Aborts the task it holds when dropped: a lease's renewal, which ends
/// with the execution it keeps, however that ends.
pub(super) struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Service {
    /// Names this server as the lease owner of the runs and sweeps it
    /// executes, on PostgreSQL (none on SQLite). A server with `--workers 0`
    /// executes no runs, but the sweeps a server took in before it.
    pub(super) fn name_lease_owner(&self) {
        if self.store().dialect() == Dialect::Postgres {
            let _ = self.inner.server_lease.set(format!("{SERVER_OWNER_PREFIX}{}", process_name()));
        }
    }

    /// Executes run `id` of this server's queue, under its lease when it
    /// holds runs that way; a run no longer queued (cancelled, or claimed by
    /// a worker) is left alone.
    pub(super) async fn execute_own(&self, id: i64) {
        let Some(owner) = self.inner.server_lease.get() else { return self.execute(id).await };
        // Its live state first: a run leased here is always renewed.
        let Some(live) = self.inner.queue.live(id) else { return };
        match self.lease(id, owner).await {
            Ok(Some(fence)) => {
                let _ = live.fence.set(fence);
                let renewal = keep_lease(self.store().clone(), id, Arc::clone(&live), SERVER_LEASE);
                let _keeper = AbortOnDrop(tokio::spawn(renewal));
                self.execute(id).await;
            }
            Ok(None) => {
                // Its subscribers see the stream close and read the stored row.
                tracing::info!(run = id, "not started: the run was cancelled, or a worker claimed it");
                self.inner.queue.finished(id);
            }
            Err(e) => {
                // The database failed each try: the run goes as it went
                // before leases (reading it will most likely fail too, and
                // store that as its failure once the database is back).
                tracing::warn!(run = id, error = %e, "cannot lease the run; running it without a lease");
                self.execute(id).await;
            }
        }
    }

    /// Starts run `id` under `owner`'s lease, trying again after a failure.
    /// A try whose commit went through although its answer was lost finds
    /// the run no longer queued (`None`); the reaper then fails it once its
    /// lease runs out, as for a server that was lost.
    async fn lease(&self, id: i64, owner: &str) -> Result<Option<crate::store::Fence>, crate::store::StoreError> {
        let mut pause = LEASE_RETRY_PAUSE;
        for _ in 1..LEASE_TRIES {
            match self.store().start_leased(id, owner, SERVER_LEASE).await {
                Ok(started) => return Ok(started),
                Err(e) => tracing::warn!(run = id, error = %e, "leasing the run failed; trying again"),
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
        self.store().start_leased(id, owner, SERVER_LEASE).await
    }

    /// Fails, every [`REAP_EVERY`], the runs whose server lease ran out, and
    /// takes up such sweeps (on PostgreSQL; every server does, whether it
    /// executes runs or not).
    pub(super) async fn reap_lost_server_work(self) {
        if self.store().dialect() != Dialect::Postgres {
            return;
        }
        loop {
            tokio::time::sleep(REAP_EVERY).await;
            // Never its own runs under way: their renewal may only be late.
            let executing = self.inner.server_lease.get().map(|owner| self.inner.queue.held_by(owner));
            match self.store().fail_lost_server_runs(&executing.unwrap_or_default()).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(runs = n, "failed the runs of a server that stopped renewing them"),
                Err(e) => tracing::warn!(error = %e, "cannot look for runs of lost servers; trying again"),
            }
            match self.store().requeue_lost_server_sweeps(&self.inner.sweeps.ids()).await {
                Ok(ids) => {
                    for id in ids {
                        tracing::warn!(sweep = id, "took up the sweep of a server that stopped renewing it");
                        self.inner.sweeps.push(id);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot look for sweeps of lost servers; trying again"),
            }
        }
    }

    /// Fails the runs this server holds (it is stopping: they stop with it)
    /// and queues again the sweeps it holds, so that neither waits for its
    /// lease to run out.
    pub async fn interrupt_own_work(&self) {
        let Some(owner) = self.inner.server_lease.get() else { return };
        // Bounded: a database that stopped answering must not hold the exit.
        match tokio::time::timeout(INTERRUPT_WAIT, self.store().fail_held_runs(owner)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::warn!(runs = n, "stopping: the runs under way are failed as interrupted"),
            Ok(Err(e)) => tracing::warn!(error = %e, "stopping: cannot fail the runs under way; their leases run out"),
            Err(_) => tracing::warn!("stopping: the database did not answer in time; the runs' leases run out"),
        }
        match tokio::time::timeout(INTERRUPT_WAIT, self.store().release_sweeps(owner)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::warn!(sweeps = n, "stopping: the sweeps under way are queued again"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "stopping: cannot give back the sweeps under way; their leases run out")
            }
            Err(_) => tracing::warn!("stopping: the database did not answer in time; the sweeps' leases run out"),
        }
    }

    /// Whether this server still holds sweep `id` (renewing its lease to
    /// know); always true without leases, and when the database cannot say.
    pub(super) async fn still_holds_sweep(&self, id: i64) -> bool {
        let Some(owner) = self.inner.server_lease.get() else { return true };
        self.store().renew_sweep_lease(id, owner, SERVER_LEASE).await.unwrap_or(true)
    }

    /// Renews this server's lease on sweep `id` while the guard lives (on
    /// PostgreSQL; `None` elsewhere); a lease found lost (the sweep ended or
    /// was cancelled elsewhere, or was taken up by another server after this
    /// one was cut off) cancels it here.
    pub(super) fn keep_sweep_lease(&self, id: i64, cancel: crate::domain::CancelToken) -> Option<AbortOnDrop> {
        let owner = self.inner.server_lease.get()?.clone();
        let store = self.store().clone();
        Some(AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                match store.renew_sweep_lease(id, &owner, SERVER_LEASE).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(sweep = id, "the sweep is no longer this server's; stopping it");
                        cancel.cancel();
                        return;
                    }
                    Err(e) => tracing::warn!(sweep = id, error = %e, "cannot renew the sweep's lease; trying again"),
                }
            }
        })))
    }
}
