//! Leases on runs, for worker processes sharing one PostgreSQL database
//! (`backtester worker`): claiming a run, renewing the claim while the run
//! executes, and the fence a completion must pass.
//!
//! The rules, as Oban, River and graphile-worker have them:
//! - a claim takes the oldest queued run, or a running one whose lease ran
//!   out, with `FOR UPDATE SKIP LOCKED` so that two claimers never take one
//!   run; it records the owner, the lease's end and attempt + 1;
//! - the lease's end is the database's clock (`clock_timestamp()`) plus the
//!   lease, so workers' clocks do not matter;
//! - a run whose lease ran out after [`MAX_ATTEMPTS`] attempts is failed as
//!   `interrupted` instead of being claimed again;
//! - a worker writes a run's outcome only while owner and attempt still
//!   match (see `Store::finish_run`): a late completion updates no row;
//! - a lease that ran out but was not claimed again is still its owner's:
//!   renewing it (a worker that was only slow) goes on as if nothing happened.
//!
//! PostgreSQL only: SQLite runs are executed by the server's own queue.

use std::time::Duration;

use sqlx::Row;

use super::server_leases::SERVER_OWNER_PREFIX;
use super::{FailureKind, Store, StoreError};

/// The attempts a run gets: one that lost its lease this many times is
/// failed as `interrupted` rather than claimed again.
pub const MAX_ATTEMPTS: i64 = 3;

/// The channel `NOTIFY` wakes workers on when a run is queued.
pub const QUEUE_CHANNEL: &str = "backtester_runs";

/// The database's clock, in epoch milliseconds: read once per statement
/// (a subquery), so that `lease_until < DB_NOW` can use an index rather
/// than call the volatile `clock_timestamp()` for every row.
pub(super) const DB_NOW: &str = "(SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT)";

/// Which attempt at a run a worker holds: its writes pass only while both match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fence {
    /// The worker that claimed the run, or the server that started it
    /// under its own lease (`store::server_leases`).
    pub owner: String,
    /// The attempt, 1 for a worker's first claim; a server's lease leaves
    /// the run's attempt as it was (0 unless a worker held it before).
    pub attempt: i64,
}

/// A run a worker claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The run.
    pub run_id: i64,
    /// The attempt it holds.
    pub fence: Fence,
}

/// What renewing a lease found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseState {
    /// Still held; the run goes on.
    Held,
    /// Still held, and someone asked to cancel the run.
    CancelRequested,
    /// Lost: the run was claimed again or ended; the worker must stop it.
    Lost,
}

pub(super) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Claims the oldest queued run, or a running one whose lease ran out,
    /// for `owner`, leased for `lease`; `None` when there is none. Runs
    /// out of attempts are failed first (see [`Store::fail_exhausted`]).
    ///
    /// # Errors
    /// Database failures.
    pub async fn claim_run(&self, owner: &str, lease: Duration) -> Result<Option<Claim>, StoreError> {
        self.fail_exhausted().await?;
        // Two statements rather than one with an OR: each then reads its own
        // index (runs_by_lease, runs_by_status) instead of scanning every
        // run, finished ones included. Runs already started go first.
        // A run a server held is failed when its lease runs out, not claimed
        // again (see `store::server_leases`).
        let expired = format!(
            "status = 'running' AND lease_until < {DB_NOW} AND lease_owner IS NOT NULL \
             AND lease_owner NOT LIKE '{SERVER_OWNER_PREFIX}%' AND attempt < $3"
        );
        for (candidates, attempts) in [(expired.as_str(), Some(MAX_ATTEMPTS)), ("status = 'queued'", None)] {
            let sql = format!(
                "UPDATE runs SET status = 'running', lease_owner = $1, lease_until = {DB_NOW} + $2, \
                 attempt = attempt + 1, bars_processed = 0 \
                 WHERE id = (SELECT id FROM runs WHERE {candidates} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, attempt"
            );
            let query = sqlx::query(&sql).bind(owner).bind(millis(lease));
            let row = match attempts {
                Some(cap) => query.bind(cap),
                None => query,
            }
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                let fence = Fence { owner: owner.to_string(), attempt: row.try_get("attempt")? };
                return Ok(Some(Claim { run_id: row.try_get("id")?, fence }));
            }
        }
        Ok(None)
    }

    /// Fails as `interrupted` the runs whose lease ran out [`MAX_ATTEMPTS`]
    /// times (their workers died, froze or lost the database each time);
    /// returns how many.
    ///
    /// # Errors
    /// Database failures.
    pub async fn fail_exhausted(&self) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE runs SET status = 'failed', finished_at = {DB_NOW}, error_kind = $1, \
             error_message = $2, lease_owner = NULL \
             WHERE status = 'running' AND lease_owner IS NOT NULL AND lease_until < {DB_NOW} AND attempt >= $3"
        );
        let message = format!("the run lost its worker {MAX_ATTEMPTS} times (killed, frozen or cut off)");
        let done = sqlx::query(&sql)
            .bind(FailureKind::Interrupted.as_str())
            .bind(message)
            .bind(MAX_ATTEMPTS)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Extends the lease of `fence`'s attempt at run `id` by `lease` from
    /// now (the database's clock) and records `bars_processed` and the
    /// latest (equity, PnL), if any yet; says whether the lease is still
    /// held and whether a cancel was asked for.
    ///
    /// # Errors
    /// Database failures (the lease is then neither renewed nor known lost).
    pub async fn renew_lease(
        &self,
        id: i64,
        fence: &Fence,
        lease: Duration,
        bars_processed: i64,
        equity: Option<(f64, f64)>,
    ) -> Result<LeaseState, StoreError> {
        // Two statements rather than NULL binds: the Any driver gives a
        // NULL no type, and a statement prepared with one refuses a number later.
        let live = if equity.is_some() { ", live_equity = $6, live_pnl = $7" } else { "" };
        let sql = format!(
            "UPDATE runs SET lease_until = {DB_NOW} + $1, bars_processed = $2{live} \
             WHERE id = $3 AND status = 'running' AND lease_owner = $4 AND attempt = $5 \
             RETURNING cancel_requested"
        );
        let query =
            sqlx::query(&sql).bind(millis(lease)).bind(bars_processed).bind(id).bind(&fence.owner).bind(fence.attempt);
        let query = match equity {
            Some((equity, pnl)) => query.bind(equity).bind(pnl),
            None => query,
        };
        let row = query.fetch_optional(&self.pool).await?;
        Ok(match row {
            None => LeaseState::Lost,
            Some(row) if row.try_get::<i64, _>("cancel_requested")? != 0 => LeaseState::CancelRequested,
            Some(_) => LeaseState::Held,
        })
    }

    /// Gives back the runs `owner` holds (a worker stopping on a signal):
    /// they are queued again, the attempt not counted as lost, and the
    /// attempts still executing are fenced out (the owner no longer
    /// matches); returns how many.
    ///
    /// # Errors
    /// Database failures (the leases then run out as after a crash).
    pub async fn release_leases(&self, owner: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL, attempt = attempt - 1, \
             bars_processed = 0 WHERE status = 'running' AND lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            self.notify_queued().await?;
        }
        Ok(done.rows_affected())
    }

    /// Asks whichever process executes running run `id` to cancel it;
    /// false if the run is not running.
    ///
    /// # Errors
    /// Database failures.
    pub async fn request_cancel(&self, id: i64) -> Result<bool, StoreError> {
        let _write = self.writing().await?;
        let done = sqlx::query("UPDATE runs SET cancel_requested = 1 WHERE id = $1 AND status = 'running'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Wakes the workers listening on [`QUEUE_CHANNEL`]: a run was queued.
    /// A no-op on SQLite.
    ///
    /// # Errors
    /// Database failures.
    pub async fn notify_queued(&self) -> Result<(), StoreError> {
        if self.dialect == super::Dialect::Postgres {
            // A plain statement: pg_notify()'s `void` result is no type the Any driver reads.
            sqlx::raw_sql(&format!("NOTIFY {QUEUE_CHANNEL}")).execute(&self.pool).await?;
        }
        Ok(())
    }
}

/// `url` with PostgreSQL's `idle_in_transaction_session_timeout` set to the
/// lease: a worker frozen inside a transaction (storing a chunk's variants,
/// holding its row) would keep that row locked, and claims skip locked rows,
/// so its item could never be claimed again; the database ends such a
/// transaction once the lease is over.
pub fn with_transaction_timeout(url: &str, lease: Duration) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options[idle_in_transaction_session_timeout]={}", lease.as_millis())
}
