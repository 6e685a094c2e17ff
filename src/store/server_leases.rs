//! Leases on the runs a server executes itself, on PostgreSQL, where
//! several processes share the runs table.
//!
//! Without them, a server starting up could not tell the runs a killed
//! server left `running` from those another live server is executing, and
//! failed both. Now a server that executes runs holds each one under a lease
//! in its own name (see [`SERVER_OWNER_PREFIX`]), renewed as a worker renews
//! its own (`store::leases`), and:
//! - a run whose server lease ran out is failed as `interrupted` by any
//!   server ([`Store::fail_lost_server_runs`], every few seconds), as before
//!   at the next start, but no longer while its server still renews it;
//! - a server that stops fails the runs it holds at once
//!   ([`Store::fail_held_runs`]);
//! - workers do not claim runs leased by a server (a server's run is failed,
//!   not retried, as it always was);
//! - a sweep a server executes itself is leased the same way, and queued
//!   again (its stored variants kept) once its lease runs out, or at once
//!   when its server stops; its end is written by the server that holds it,
//!   or by a cancel sent to any other, which the holder reads as it renews.
//!
//! SQLite keeps one server per file: its runs hold no lease, and a start
//! fails those left running ([`Store::recover`]).

use std::time::Duration;

use sqlx::Row;

use super::leases::{millis, Fence, DB_NOW};
use super::{now_millis, FailureKind, Store, StoreError};

/// What the lease owner of a run executed by a server starts with; a worker's
/// name starts with its host name, which cannot contain a `/`.
pub const SERVER_OWNER_PREFIX: &str = "serve/";

/// The message of a run whose server stopped or was lost while it ran.
const SERVER_STOPPED: &str = "the server stopped while this run was running";

impl Store {
    /// Starts queued run `id` under a lease for the server `owner`, until
    /// `lease` from now (the database's clock); `None` when it is no longer
    /// queued (cancelled, or claimed by a worker). The attempt is left as it
    /// is (0 for a run no worker claimed): it counts workers' claims, and the
    /// owner, unique to this server process, is what fences its writes.
    ///
    /// # Errors
    /// Database failures.
    pub async fn start_leased(&self, id: i64, owner: &str, lease: Duration) -> Result<Option<Fence>, StoreError> {
        let sql = format!(
            "UPDATE runs SET status = 'running', lease_owner = $1, lease_until = {DB_NOW} + $2, \
             bars_processed = 0 WHERE id = $3 AND status = 'queued' RETURNING attempt"
        );
        let row = sqlx::query(&sql).bind(owner).bind(millis(lease)).bind(id).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(row) => Some(Fence { owner: owner.to_string(), attempt: row.try_get("attempt")? }),
            None => None,
        })
    }

    /// Fails as `interrupted` the runs whose server lease ran out (their
    /// server was killed, froze or lost the database), but those in
    /// `executing`: the caller's own, which it is still executing (their
    /// renewal may only be late, after the database was out of reach);
    /// returns how many.
    ///
    /// # Errors
    /// Database failures.
    pub async fn fail_lost_server_runs(&self, executing: &[i64]) -> Result<u64, StoreError> {
        let condition = format!("lease_owner LIKE $3 AND lease_until < {DB_NOW}{}", not_in(executing));
        self.fail_server_runs(&condition, format!("{SERVER_OWNER_PREFIX}%")).await
    }

    /// Fails as `interrupted` the runs the server `owner` holds (it is
    /// stopping, and they stop with it); returns how many. Their executions,
    /// if they still try to store an outcome, are fenced out.
    ///
    /// # Errors
    /// Database failures (their leases then run out).
    pub async fn fail_held_runs(&self, owner: &str) -> Result<u64, StoreError> {
        self.fail_server_runs("lease_owner = $3", owner.to_string()).await
    }

    /// Fails as `interrupted` the running runs that `condition` (on `$3`,
    /// bound to `value`) selects; returns how many.
    async fn fail_server_runs(&self, condition: &str, value: String) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE runs SET status = 'failed', finished_at = {DB_NOW}, error_kind = $1, error_message = $2, \
             lease_owner = NULL WHERE status = 'running' AND {condition}"
        );
        let done = sqlx::query(&sql)
            .bind(FailureKind::Interrupted.as_str())
            .bind(SERVER_STOPPED)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Marks in-process sweep `id` running under a lease for the server
    /// `owner`, until `lease` from now; false when it is not queued.
    ///
    /// # Errors
    /// Database failures.
    pub async fn start_leased_sweep(&self, id: i64, owner: &str, lease: Duration) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE sweeps SET status = 'running', started_at = $1, lease_owner = $2, \
             lease_until = {DB_NOW} + $3 WHERE id = $4 AND status = 'queued'"
        );
        let query = sqlx::query(&sql).bind(now_millis()).bind(owner).bind(millis(lease)).bind(id);
        let done = query.execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Extends `owner`'s lease on running sweep `id` by `lease` from now;
    /// false when it no longer holds it (the sweep ended, was cancelled
    /// elsewhere, or was queued again by another server).
    ///
    /// # Errors
    /// Database failures.
    pub async fn renew_sweep_lease(&self, id: i64, owner: &str, lease: Duration) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE sweeps SET lease_until = {DB_NOW} + $1 WHERE id = $2 AND status = 'running' AND lease_owner = $3"
        );
        let done = sqlx::query(&sql).bind(millis(lease)).bind(id).bind(owner).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues again the in-process sweeps whose server lease ran out, but
    /// those in `executing` (the caller's own); returns their ids (their
    /// finished variants stay; the rest run where they are taken up).
    ///
    /// # Errors
    /// Database failures.
    pub async fn requeue_lost_server_sweeps(&self, executing: &[i64]) -> Result<Vec<i64>, StoreError> {
        let sql = format!(
            "UPDATE sweeps SET status = 'queued', lease_owner = NULL, lease_until = NULL \
             WHERE status = 'running' AND on_workers = 0 AND lease_owner IS NOT NULL \
             AND lease_until < {DB_NOW}{} RETURNING id",
            not_in(executing)
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?)
    }

    /// Cancels queued or running in-process sweep `id` unless the server
    /// `me` is executing it (then its runner writes the end, with what it
    /// kept); false when nothing was cancelled.
    ///
    /// # Errors
    /// Database failures.
    pub async fn cancel_sweep_unless_held(&self, id: i64, me: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sweeps SET status = 'cancelled', finished_at = $1, lease_owner = NULL \
             WHERE id = $2 AND status IN ('queued', 'running') \
             AND NOT (status = 'running' AND lease_owner IS NOT NULL AND lease_owner = $3)",
        )
        .bind(now_millis())
        .bind(id)
        .bind(me)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues again the sweeps the stopping server `owner` holds (their
    /// stored variants kept), so that the next server to start resumes
    /// them at once; returns how many.
    ///
    /// # Errors
    /// Database failures (their leases then run out).
    pub async fn release_sweeps(&self, owner: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE sweeps SET status = 'queued', lease_owner = NULL, lease_until = NULL \
             WHERE status = 'running' AND lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

/// ` AND id NOT IN (...)` for `ids`, or nothing for none. The ids come from
/// the caller's memory, not from a client: they are written in the text.
fn not_in(ids: &[i64]) -> String {
    match ids {
        [] => String::new(),
        ids => format!(" AND id NOT IN ({})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
    }
}
