//! Sweeps on worker processes: a sweep's variants in chunks of consecutive
//! numbers, each claimed, renewed and fenced under a lease by the rules of
//! runs (see `leases`): `FOR UPDATE SKIP LOCKED`, the database's clock,
//! attempt + 1 per claim, [`MAX_ATTEMPTS`] lost leases fail the sweep.
//!
//! A chunk's variants are written only while its owner and attempt still
//! match, so a late attempt stores nothing; the finishing chunk
//! ([`FINISH_CHUNK`]) is claimable once every other chunk is done, so that
//! one worker writes the sweep's summary once. PostgreSQL only.

use std::ops::Range;
use std::time::Duration;

use sqlx::Row;

use super::leases::{millis, Fence, LeaseState, DB_NOW, MAX_ATTEMPTS};
use super::sweeps::{end_sweep, insert_variant_rows, sweep, SWEEP_COLUMNS};
use super::{now_millis, RunStatus, Store, StoreError, SweepRow};
use crate::sweep::VariantResult;

/// The chunk number of the work that finishes a sweep of chunks.
pub const FINISH_CHUNK: i64 = -1;

/// A chunk of a sweep a worker claimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkClaim {
    /// The sweep.
    pub sweep_id: i64,
    /// The chunk's number in the sweep; [`FINISH_CHUNK`] for its finish.
    pub chunk: i64,
    /// The variants it runs (empty for the finish).
    pub numbers: Range<u64>,
    /// The attempt it holds.
    pub fence: Fence,
}

impl ChunkClaim {
    /// Whether this is the finish of the sweep rather than variants.
    pub fn finishes(&self) -> bool {
        self.chunk == FINISH_CHUNK
    }

    fn fenced(&self) -> StoreError {
        StoreError::ChunkFenced {
            sweep: self.sweep_id,
            first: i64::try_from(self.numbers.start).unwrap_or(i64::MAX),
            end: i64::try_from(self.numbers.end).unwrap_or(i64::MAX),
            attempt: self.fence.attempt,
        }
    }
}

/// How a sweep for workers is split: its variants' chunks, and whether a
/// finishing chunk follows them (a walk-forward's one chunk finishes itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkPlan {
    /// The variant numbers of each chunk, in order.
    pub chunks: Vec<Range<u64>>,
    /// Whether the sweep has a [`FINISH_CHUNK`].
    pub finish: bool,
}

/// `WHERE` of a chunk `c` whose fence matches `$1` sweep, `$2` chunk,
/// `$3` owner, `$4` attempt.
const HELD: &str = "sweep_id = $1 AND chunk = $2 AND status = 'running' AND lease_owner = $3 AND attempt = $4";

impl Store {
    /// Stores a new queued sweep whose variants go to workers, with its
    /// chunks, in one transaction, and wakes the workers.
    ///
    /// # Errors
    /// Database failures; then nothing is stored.
    pub async fn create_sweep_on_workers(
        &self,
        owner_id: i64,
        strategy_id: i64,
        version_id: i64,
        config_json: &str,
        total: u64,
        plan: &ChunkPlan,
    ) -> Result<SweepRow, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "INSERT INTO sweeps (owner_id, strategy_id, version_id, status, config, total, created_at, on_workers) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $6, 1) RETURNING {SWEEP_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(strategy_id)
            .bind(version_id)
            .bind(config_json)
            .bind(i64::try_from(total).unwrap_or(i64::MAX))
            .bind(now_millis())
            .fetch_one(&mut *tx)
            .await?;
        let row = sweep(&row)?;
        let finish = plan.finish.then_some((FINISH_CHUNK, 0..0));
        let chunks = plan.chunks.iter().cloned().enumerate().map(|(n, r)| (n as i64, r));
        for (chunk, numbers) in chunks.chain(finish) {
            sqlx::query(
                "INSERT INTO sweep_chunks (sweep_id, chunk, first_number, end_number, status) \
                 VALUES ($1, $2, $3, $4, 'queued')",
            )
            .bind(row.id)
            .bind(chunk)
            .bind(i64::try_from(numbers.start).unwrap_or(i64::MAX))
            .bind(i64::try_from(numbers.end).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.notify_queued().await?;
        Ok(row)
    }

    /// Claims for `owner` the first chunk of the oldest sweep that has one
    /// to run (a chunk whose lease ran out first), leased for `lease`;
    /// `None` when there is none. Marks its sweep running.
    ///
    /// # Errors
    /// Database failures.
    pub async fn claim_chunk(&self, owner: &str, lease: Duration) -> Result<Option<ChunkClaim>, StoreError> {
        self.fail_exhausted_chunks().await?;
        let now = DB_NOW;
        let live = "EXISTS (SELECT 1 FROM sweeps s WHERE s.id = c.sweep_id AND s.status IN ('queued', 'running'))";
        let expired =
            format!("c.status = 'running' AND c.lease_until < {now} AND c.lease_owner IS NOT NULL AND c.attempt < $3");
        // The finish waits for every other chunk of its sweep.
        let queued = "c.status = 'queued' AND (c.chunk >= 0 OR NOT EXISTS (SELECT 1 FROM sweep_chunks o \
                      WHERE o.sweep_id = c.sweep_id AND o.chunk >= 0 AND o.status <> 'done'))";
        for candidates in [expired.as_str(), queued] {
            let sql = format!(
                "UPDATE sweep_chunks SET status = 'running', lease_owner = $1, lease_until = {now} + $2, \
                 attempt = attempt + 1 \
                 WHERE (sweep_id, chunk) = (SELECT c.sweep_id, c.chunk FROM sweep_chunks c \
                 WHERE {candidates} AND {live} ORDER BY c.sweep_id, c.chunk LIMIT 1 FOR UPDATE OF c SKIP LOCKED) \
                 RETURNING sweep_id, chunk, first_number, end_number, attempt"
            );
            let query = sqlx::query(&sql).bind(owner).bind(millis(lease));
            // Only the expired candidates read the cap ($3).
            let query = if candidates.contains("$3") { query.bind(MAX_ATTEMPTS) } else { query };
            let row = query.fetch_optional(&self.pool).await?;
            if let Some(row) = row {
                let bound = |column: &str| -> Result<u64, StoreError> {
                    Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
                };
                let claim = ChunkClaim {
                    sweep_id: row.try_get("sweep_id")?,
                    chunk: row.try_get("chunk")?,
                    numbers: bound("first_number")?..bound("end_number")?,
                    fence: Fence { owner: owner.to_string(), attempt: row.try_get("attempt")? },
                };
                sqlx::query(
                    "UPDATE sweeps SET status = 'running', started_at = $1 WHERE id = $2 AND status = 'queued'",
                )
                .bind(now_millis())
                .bind(claim.sweep_id)
                .execute(&self.pool)
                .await?;
                return Ok(Some(claim));
            }
        }
        Ok(None)
    }

    /// Fails the sweeps with a chunk whose lease ran out [`MAX_ATTEMPTS`]
    /// times (its variants stored so far stay); returns how many chunks.
    ///
    /// # Errors
    /// Database failures.
    pub async fn fail_exhausted_chunks(&self) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE sweep_chunks SET status = 'failed', lease_owner = NULL \
             WHERE status = 'running' AND lease_owner IS NOT NULL AND lease_until < {} AND attempt >= $1 \
             RETURNING sweep_id, first_number, end_number",
            DB_NOW
        );
        let rows = sqlx::query(&sql).bind(MAX_ATTEMPTS).fetch_all(&mut *tx).await?;
        for row in &rows {
            let (first, end): (i64, i64) = (row.try_get("first_number")?, row.try_get("end_number")?);
            let message = if first == end {
                format!("finishing the sweep lost its worker {MAX_ATTEMPTS} times (killed, frozen or cut off)")
            } else {
                format!("variants {first}..{end} lost their worker {MAX_ATTEMPTS} times (killed, frozen or cut off)")
            };
            end_sweep(&mut tx, row.try_get("sweep_id")?, RunStatus::Failed, Some(&message), None, None).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Extends `claim`'s lease by `lease` from now (the database's clock);
    /// [`LeaseState::CancelRequested`] once its sweep ended (cancelled, or
    /// failed by another chunk).
    ///
    /// # Errors
    /// Database failures (the lease is then neither renewed nor known lost).
    pub async fn renew_chunk(&self, claim: &ChunkClaim, lease: Duration) -> Result<LeaseState, StoreError> {
        let sql = format!(
            "UPDATE sweep_chunks SET lease_until = {} + $5 WHERE {HELD} \
             RETURNING (SELECT status FROM sweeps WHERE id = $1) AS sweep_status",
            DB_NOW
        );
        let row = sqlx::query(&sql)
            .bind(claim.sweep_id)
            .bind(claim.chunk)
            .bind(&claim.fence.owner)
            .bind(claim.fence.attempt)
            .bind(millis(lease))
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => LeaseState::Lost,
            Some(row) => {
                let status: String = row.try_get("sweep_status")?;
                if matches!(status.as_str(), "queued" | "running") {
                    LeaseState::Held
                } else {
                    LeaseState::CancelRequested
                }
            }
        })
    }

    /// Stores finished variants of `claim`'s chunk, with its attempt, in
    /// one transaction that holds the chunk's row: only while the lease is
    /// still `claim`'s.
    ///
    /// # Errors
    /// [`StoreError::ChunkFenced`] when the lease is another's or the
    /// chunk ended (nothing stored); database failures.
    pub async fn insert_chunk_variants(
        &self,
        claim: &ChunkClaim,
        variants: &[VariantResult],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let held = sqlx::query(&format!("SELECT 1 AS held FROM sweep_chunks WHERE {HELD} FOR UPDATE"))
            .bind(claim.sweep_id)
            .bind(claim.chunk)
            .bind(&claim.fence.owner)
            .bind(claim.fence.attempt)
            .fetch_optional(&mut *tx)
            .await?;
        if held.is_none() {
            return Err(claim.fenced());
        }
        insert_variant_rows(&mut tx, claim.sweep_id, variants, claim.fence.attempt).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks `claim`'s chunk done, having computed `indicators` distinct
    /// indicators, and wakes the workers (the finish may be claimable now).
    ///
    /// # Errors
    /// [`StoreError::ChunkFenced`] when the lease is no longer `claim`'s.
    pub async fn complete_chunk(&self, claim: &ChunkClaim, indicators: u64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        self.mark_chunk_done(&mut tx, claim, indicators).await?;
        tx.commit().await?;
        self.notify_queued().await
    }

    /// Ends `claim`'s sweep (`status` final, `error`, `summary` JSON) and
    /// marks the chunk done, in one transaction, only while the lease is
    /// still `claim`'s; false when the sweep had already ended.
    ///
    /// # Errors
    /// [`StoreError::ChunkFenced`] when the lease is no longer `claim`'s.
    pub async fn finish_chunked_sweep(
        &self,
        claim: &ChunkClaim,
        status: RunStatus,
        error: Option<&str>,
        summary: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        self.mark_chunk_done(&mut tx, claim, 0).await?;
        let ended = end_sweep(&mut tx, claim.sweep_id, status, error, summary, None).await?;
        tx.commit().await?;
        Ok(ended)
    }

    async fn mark_chunk_done(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        claim: &ChunkClaim,
        indicators: u64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(&format!(
            "UPDATE sweep_chunks SET status = 'done', lease_owner = NULL, lease_until = NULL, indicators = $5 \
             WHERE {HELD}"
        ))
        .bind(claim.sweep_id)
        .bind(claim.chunk)
        .bind(&claim.fence.owner)
        .bind(claim.fence.attempt)
        .bind(i64::try_from(indicators).unwrap_or(i64::MAX))
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(claim.fenced());
        }
        Ok(())
    }

    /// Distinct indicators the done chunks of sweep `id` computed, summed
    /// (each chunk computes its own).
    ///
    /// # Errors
    /// Database failures.
    pub async fn chunk_indicators(&self, id: i64) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(indicators), 0) AS BIGINT) AS n FROM sweep_chunks WHERE sweep_id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
    }

    /// Gives back the chunks `owner` holds (a worker stopping on a signal):
    /// queued again, the attempt not counted; returns how many.
    ///
    /// # Errors
    /// Database failures (the leases then run out as after a crash).
    pub async fn release_chunks(&self, owner: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE sweep_chunks SET status = 'queued', lease_owner = NULL, lease_until = NULL, \
             attempt = attempt - 1 WHERE status = 'running' AND lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            self.notify_queued().await?;
        }
        Ok(done.rows_affected())
    }
}
