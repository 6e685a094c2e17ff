//! Runs: one execution of one strategy version with one config, and its
//! life from queued to a final status.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::results::{encode_results, insert_results, EquityInput};
use super::{blocking, now_millis, FailureKind, Fence, Store, StoreError};
use crate::domain::Trade;

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Created and waiting to start.
    Queued,
    /// Loading its data or simulating.
    Running,
    /// Finished; its results are stored.
    Completed,
    /// Stopped by an error (or its time limit); `error_kind` and `error_message` say why.
    Failed,
    /// Stopped on request before it finished.
    Cancelled,
}

impl RunStatus {
    /// The status as stored and shown: `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// True for completed, failed and cancelled.
    pub fn is_final(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "completed" => RunStatus::Completed,
            "failed" => RunStatus::Failed,
            "cancelled" => RunStatus::Cancelled,
            other => {
                return Err(format!(
                    "unknown run status '{other}'; use queued, running, completed, failed or cancelled"
                ))
            }
        })
    }
}

/// A run as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    /// The run's id; ids increase in creation order.
    pub id: i64,
    /// The user it belongs to (who submitted it).
    pub owner_id: i64,
    /// The strategy it runs.
    pub strategy_id: i64,
    /// The [`VersionRow::id`](super::VersionRow::id) of the code it runs.
    pub version_id: i64,
    /// The run this one repeats, when it was started as a rerun.
    pub rerun_of: Option<i64>,
    /// Where the run is in its life.
    pub status: RunStatus,
    /// The full, checked config as JSON.
    pub config: String,
    /// When it was queued, in milliseconds since the epoch.
    pub created_at: i64,
    /// When it started running, in milliseconds since the epoch; `None` until then.
    pub started_at: Option<i64>,
    /// When it reached a final status, in milliseconds since the epoch; `None` until then.
    pub finished_at: Option<i64>,
    /// Engine steps in its data; `None` until it starts running.
    pub bars_total: Option<i64>,
    /// Engine steps done, stored when the run ends; 0 until then.
    pub bars_processed: i64,
    /// What failed, for a failed run (stored as its text: `data`, `strategy`, ...).
    pub error_kind: Option<FailureKind>,
    /// Why a failed run failed, as shown to users.
    pub error_message: Option<String>,
    /// JSON, once completed.
    pub metrics: Option<String>,
    /// JSON: how long each phase took.
    pub timings: Option<String>,
    /// JSON: the strategy's log and the broker's rejections.
    pub log: Option<String>,
    /// JSON, once completed: everything that decided the results.
    pub manifest: Option<String>,
    /// Hex SHA-256 over the manifest's result-deciding parts, once completed.
    pub fingerprint: Option<String>,
    /// JSON: what the strategy used of its sandbox, once completed; `None`
    /// for a native strategy.
    pub sandbox: Option<String>,
    /// How many times a worker claimed it (0 for a run executed by a
    /// server's own queue; 2 and up when a worker lost it and another took it).
    pub attempt: i64,
    /// Equity at the latest bar a worker process reported (with its lease
    /// renewals) while the run executes there; `None` otherwise.
    pub live_equity: Option<f64>,
    /// That equity minus the initial capital.
    pub live_pnl: Option<f64>,
}

/// Which runs to list, and how many.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunFilter {
    /// Only runs with this status; `None` for any.
    pub status: Option<RunStatus>,
    /// Only runs of this strategy; `None` for any.
    pub strategy_id: Option<i64>,
    /// Only runs of this user; `None` for every user's.
    pub owner_id: Option<i64>,
    /// Only runs with an id above this (oldest first) or below it (newest first).
    pub after: Option<i64>,
    /// At most this many.
    pub limit: Option<usize>,
    /// Newest first (by id) instead of oldest first.
    pub newest_first: bool,
}

/// How a run ended, with everything to write in one transaction.
// One value per finished run, built and written at once: boxing the large
// variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum RunOutcome<'a> {
    /// The run finished: its results.
    Completed {
        /// The metrics, as JSON.
        metrics_json: String,
        /// The returns tables, as JSON.
        returns_json: String,
        /// How long each phase took, as JSON.
        timings_json: String,
        /// The strategy's log and the broker's rejections, as JSON.
        log_json: String,
        /// The run's manifest, as JSON, and its fingerprint.
        manifest_json: String,
        /// Hex SHA-256 over the manifest's result-deciding parts.
        fingerprint: String,
        /// What the strategy used of its sandbox, as JSON; `None` for a native one.
        sandbox_json: Option<String>,
        /// Engine steps run (the equity curve's length).
        bars: i64,
        /// The run's closed trades.
        trades: &'a [Trade],
        /// The equity curve.
        equity: EquityInput<'a>,
    },
    /// The run stopped on an error or its time limit.
    Failed {
        /// What failed.
        kind: FailureKind,
        /// Why, as shown to users.
        message: &'a str,
        /// Engine steps done before it stopped.
        bars: i64,
        /// How long each phase took, as JSON, when known.
        timings_json: Option<String>,
    },
    /// The run was cancelled on request.
    Cancelled {
        /// Engine steps done before it stopped.
        bars: i64,
    },
}

const COLUMNS: &str =
    "id, owner_id, strategy_id, version_id, rerun_of, status, config, created_at, started_at, finished_at, \
                       bars_total, bars_processed, error_kind, error_message, metrics, timings, log, manifest, \
                       fingerprint, sandbox, attempt, live_equity, live_pnl";

/// [`COLUMNS`] without the log, which lists leave out.
const LIST_COLUMNS: &str = "id, owner_id, strategy_id, version_id, rerun_of, status, config, created_at, started_at, \
                            finished_at, bars_total, bars_processed, error_kind, error_message, metrics, timings, \
                            CAST(NULL AS TEXT) AS log, manifest, fingerprint, sandbox, attempt, live_equity, live_pnl";

fn run(row: &AnyRow) -> Result<RunRow, StoreError> {
    let status: String = row.try_get("status")?;
    let error_kind: Option<String> = row.try_get("error_kind")?;
    Ok(RunRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        strategy_id: row.try_get("strategy_id")?,
        version_id: row.try_get("version_id")?,
        rerun_of: row.try_get("rerun_of")?,
        status: status.parse().map_err(|detail| StoreError::Corrupt { what: "runs.status", detail })?,
        config: row.try_get("config")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        bars_total: row.try_get("bars_total")?,
        bars_processed: row.try_get("bars_processed")?,
        error_kind: error_kind
            .map(|kind| kind.parse())
            .transpose()
            .map_err(|detail| StoreError::Corrupt { what: "runs.error_kind", detail })?,
        error_message: row.try_get("error_message")?,
        metrics: row.try_get("metrics")?,
        timings: row.try_get("timings")?,
        log: row.try_get("log")?,
        manifest: row.try_get("manifest")?,
        fingerprint: row.try_get("fingerprint")?,
        sandbox: row.try_get("sandbox")?,
        attempt: row.try_get("attempt")?,
        live_equity: row.try_get("live_equity")?,
        live_pnl: row.try_get("live_pnl")?,
    })
}

impl Store {
    /// Queues a run of `owner_id`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn create_run(
        &self,
        owner_id: i64,
        strategy_id: i64,
        version_id: i64,
        config_json: &str,
        rerun_of: Option<i64>,
    ) -> Result<RunRow, StoreError> {
        let _write = self.writing().await?;
        let sql = format!(
            "INSERT INTO runs (owner_id, strategy_id, version_id, rerun_of, status, config, created_at) \
             VALUES ($1, $2, $3, $4, 'queued', $5, $6) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(strategy_id)
            .bind(version_id)
            .bind(rerun_of)
            .bind(config_json)
            .bind(now_millis())
            .fetch_one(&self.pool)
            .await?;
        run(&row)
    }

    /// One run.
    ///
    /// # Errors
    /// Database failures.
    pub async fn run(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM runs WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(run).transpose()
    }

    /// Runs matching `filter`, oldest first unless it asks for the newest,
    /// without their logs (a list of runs must stay small; a run's own view
    /// has its log).
    ///
    /// # Errors
    /// Database failures.
    pub async fn runs(&self, filter: RunFilter) -> Result<Vec<RunRow>, StoreError> {
        let mut sql = format!("SELECT {LIST_COLUMNS} FROM runs WHERE 1 = 1");
        let mut n = 0;
        if filter.status.is_some() {
            n += 1;
            sql.push_str(&format!(" AND status = ${n}"));
        }
        if filter.strategy_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND strategy_id = ${n}"));
        }
        if filter.owner_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND owner_id = ${n}"));
        }
        if filter.after.is_some() {
            n += 1;
            sql.push_str(&format!(" AND id {} ${n}", if filter.newest_first { "<" } else { ">" }));
        }
        sql.push_str(if filter.newest_first { " ORDER BY id DESC" } else { " ORDER BY id" });
        if filter.limit.is_some() {
            n += 1;
            sql.push_str(&format!(" LIMIT ${n}"));
        }
        let mut query = sqlx::query(&sql);
        if let Some(status) = filter.status {
            query = query.bind(status.as_str());
        }
        if let Some(id) = filter.strategy_id {
            query = query.bind(id);
        }
        if let Some(owner) = filter.owner_id {
            query = query.bind(owner);
        }
        if let Some(after) = filter.after {
            query = query.bind(after);
        }
        if let Some(limit) = filter.limit {
            query = query.bind(limit as i64);
        }
        query.fetch_all(&self.pool).await?.iter().map(run).collect()
    }

    /// Marks a queued run as running (or, with `fence`, records the start
    /// of the claimed attempt); false when the run is no longer this
    /// process's to run: a worker claimed it, or the attempt lost its lease.
    ///
    /// # Errors
    /// Database failures.
    pub async fn mark_running(&self, id: i64, bars_total: i64, fence: Option<&Fence>) -> Result<bool, StoreError> {
        let _write = self.writing().await?;
        let done = match fence {
            None => sqlx::query(
                "UPDATE runs SET status = 'running', started_at = $1, bars_total = $2 WHERE id = $3 AND status = 'queued'",
            )
            .bind(now_millis())
            .bind(bars_total)
            .bind(id)
            .execute(&self.pool)
            .await?,
            Some(fence) => sqlx::query(
                "UPDATE runs SET started_at = $1, bars_total = $2 \
                 WHERE id = $3 AND status = 'running' AND lease_owner = $4 AND attempt = $5",
            )
            .bind(now_millis())
            .bind(bars_total)
            .bind(id)
            .bind(fence.owner.clone())
            .bind(fence.attempt)
            .execute(&self.pool)
            .await?,
        };
        Ok(done.rows_affected() == 1)
    }

    /// Cancels a run that has not started; false if it is not queued.
    ///
    /// # Errors
    /// Database failures.
    pub async fn cancel_queued(&self, id: i64) -> Result<bool, StoreError> {
        let _write = self.writing().await?;
        let done =
            sqlx::query("UPDATE runs SET status = 'cancelled', finished_at = $1 WHERE id = $2 AND status = 'queued'")
                .bind(now_millis())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes how a run ended: for a completed run its trades, equity curve,
    /// metrics and status in one transaction, so that no reader ever sees
    /// part of them.
    ///
    /// # Errors
    /// With `fence` (a worker's attempt, or a server's lease), the outcome is written only while
    /// that attempt still holds the run: a late completion of an attempt
    /// whose lease ran out updates no row, and its transaction (results
    /// included) rolls back.
    ///
    /// # Errors
    /// Database failures (nothing is written then); [`StoreError::Fenced`]
    /// when `fence` no longer holds the run.
    pub async fn finish_run(&self, id: i64, outcome: RunOutcome<'_>, fence: Option<&Fence>) -> Result<(), StoreError> {
        // Encoded before the write turn and the transaction (a big run's
        // results take a moment to encode), on a thread that may block.
        let encoded = match &outcome {
            RunOutcome::Completed { trades, equity, .. } => Some(blocking(|| encode_results(trades, *equity))),
            _ => None,
        };
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        // Written once: a run already final (a commit whose acknowledgement
        // was lost, tried again) keeps what it has.
        let fenced = || StoreError::Fenced { run: id, attempt: fence.map_or(0, |f| f.attempt) };
        if let Some(fence) = fence {
            // Locks the row: a claim of the next attempt waits for this commit.
            let held: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM runs WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempt = $3 \
                 FOR UPDATE",
            )
            .bind(id)
            .bind(fence.owner.clone())
            .bind(fence.attempt)
            .fetch_optional(&mut *tx)
            .await?;
            if held.is_none() {
                return Err(fenced());
            }
        } else {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM runs WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
            if status.as_deref().and_then(|s| s.parse::<RunStatus>().ok()).is_some_and(RunStatus::is_final) {
                return Ok(());
            }
        }
        // The fence again in the status update itself: 0 rows means not ours.
        let held_by = |n: usize| match fence {
            Some(_) => format!(" AND lease_owner = ${n} AND attempt = ${}", n + 1),
            None => String::new(),
        };
        let now = now_millis();
        match outcome {
            RunOutcome::Completed {
                metrics_json,
                returns_json,
                timings_json,
                log_json,
                manifest_json,
                fingerprint,
                sandbox_json,
                bars,
                // Encoded above.
                trades: _,
                equity: _,
            } => {
                insert_results(&mut tx, id, encoded.unwrap_or_default()).await?;
                let sql = format!(
                    "UPDATE runs SET status = 'completed', finished_at = $1, bars_processed = $2, metrics = $3, \
                     timings = $4, log = $5, returns = $6, manifest = $7, fingerprint = $8 WHERE id = $9{}",
                    held_by(10)
                );
                let done = bind_fence(
                    fence,
                    sqlx::query(&sql)
                        .bind(now)
                        .bind(bars)
                        .bind(metrics_json)
                        .bind(timings_json)
                        .bind(log_json)
                        .bind(returns_json)
                        .bind(manifest_json)
                        .bind(fingerprint)
                        .bind(id),
                )
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(fenced());
                }
                if let Some(sandbox) = sandbox_json {
                    sqlx::query("UPDATE runs SET sandbox = $1 WHERE id = $2")
                        .bind(sandbox)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            RunOutcome::Failed { kind, message, bars, timings_json } => {
                let sql = format!(
                    "UPDATE runs SET status = 'failed', finished_at = $1, bars_processed = $2, error_kind = $3, \
                     error_message = $4, timings = $5 WHERE id = $6{}",
                    held_by(7)
                );
                let done = bind_fence(
                    fence,
                    sqlx::query(&sql)
                        .bind(now)
                        .bind(bars)
                        .bind(kind.as_str())
                        .bind(super::storable(message).into_owned())
                        .bind(timings_json)
                        .bind(id),
                )
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(fenced());
                }
            }
            RunOutcome::Cancelled { bars } => {
                let sql = format!(
                    "UPDATE runs SET status = 'cancelled', finished_at = $1, bars_processed = $2 WHERE id = $3{}",
                    held_by(4)
                );
                let done = bind_fence(fence, sqlx::query(&sql).bind(now).bind(bars).bind(id)).execute(&mut *tx).await?;
                if done.rows_affected() != 1 {
                    return Err(fenced());
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A completed run's returns tables (JSON); `None` for an unknown run
    /// or one without results.
    ///
    /// # Errors
    /// Database failures.
    pub async fn run_returns(&self, id: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT returns FROM runs WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(row) => row.try_get::<Option<String>, _>("returns")?,
            None => None,
        })
    }

    /// Replaces a finished run's phase timings (the persist phase is known
    /// only once its transaction committed).
    ///
    /// # Errors
    /// Database failures.
    pub async fn set_timings(&self, id: i64, timings_json: &str) -> Result<(), StoreError> {
        let _write = self.writing().await?;
        sqlx::query("UPDATE runs SET timings = $1 WHERE id = $2")
            .bind(timings_json)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many runs are queued in the database, in all and of `owner_id`
    /// (the queue caps of a server whose runs execute on workers).
    ///
    /// # Errors
    /// Database failures.
    pub async fn queued_counts(&self, owner_id: i64) -> Result<(u64, u64), StoreError> {
        let all: i64 = sqlx::query("SELECT COUNT(*) AS n FROM runs WHERE status = 'queued'")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let mine: i64 = sqlx::query("SELECT COUNT(*) AS n FROM runs WHERE status = 'queued' AND owner_id = $1")
            .bind(owner_id)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok((all.max(0) as u64, mine.max(0) as u64))
    }

    /// After a crash: runs left `running` by a server become `failed` with
    /// error kind `interrupted` (on PostgreSQL, those whose server lease ran
    /// out: another server may be executing the others, see
    /// `store::server_leases`); returns the ids of runs still `queued`,
    /// oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn recover(&self) -> Result<Vec<i64>, StoreError> {
        let _write = self.writing().await?;
        sqlx::query(
            "UPDATE runs SET status = 'failed', finished_at = $1, error_kind = $2, \
             error_message = 'the server stopped while this run was running' \
             WHERE status = 'running' AND lease_owner IS NULL",
        )
        .bind(now_millis())
        .bind(FailureKind::Interrupted.as_str())
        .execute(&self.pool)
        .await?;
        if self.dialect == super::Dialect::Postgres {
            self.fail_lost_server_runs(&[]).await?;
        }
        let rows = sqlx::query("SELECT id FROM runs WHERE status = 'queued' ORDER BY id").fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?)
    }
}

/// Binds `fence`'s owner and attempt, when there is one, after `query`'s own.
fn bind_fence<'q>(
    fence: Option<&Fence>,
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match fence {
        Some(f) => query.bind(f.owner.clone()).bind(f.attempt),
        None => query,
    }
}
