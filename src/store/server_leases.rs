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
//!   not retried, as it always was).
//!
//! SQLite keeps one server per file: its runs hold no lease, and a start
//! fails those left running ([`Store::recover`]).

use std::time::Duration;

use sqlx::Row;

use super::leases::{millis, Fence, DB_NOW};
use super::{FailureKind, Store, StoreError};

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
        // Ids from the caller's memory, not from a client: written in the text.
        let spared = match executing {
            [] => String::new(),
            ids => format!(" AND id NOT IN ({})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
        };
        let sql = format!(
            "UPDATE runs SET status = 'failed', finished_at = {DB_NOW}, error_kind = $1, error_message = $2, \
             lease_owner = NULL WHERE status = 'running' AND lease_owner LIKE $3 AND lease_until < {DB_NOW}{spared}"
        );
        let done = sqlx::query(&sql)
            .bind(FailureKind::Interrupted.as_str())
            .bind(SERVER_STOPPED)
            .bind(format!("{SERVER_OWNER_PREFIX}%"))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Fails as `interrupted` the runs the server `owner` holds (it is
    /// stopping, and they stop with it); returns how many. Their executions,
    /// if they still try to store an outcome, are fenced out.
    ///
    /// # Errors
    /// Database failures (their leases then run out).
    pub async fn fail_held_runs(&self, owner: &str) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE runs SET status = 'failed', finished_at = {DB_NOW}, error_kind = $1, error_message = $2, \
             lease_owner = NULL WHERE status = 'running' AND lease_owner = $3"
        );
        let done = sqlx::query(&sql)
            .bind(FailureKind::Interrupted.as_str())
            .bind(SERVER_STOPPED)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
