//! Sweeps on worker processes (`serve --workers 0`): the server splits a
//! sweep's variants into chunks of consecutive numbers (see
//! `store::sweep_chunks`); workers claim a chunk under a lease, run its
//! variants over data and indicators loaded once per chunk, and store them
//! fenced by the attempt; the worker that claims the finishing chunk, once
//! every other is done, writes the summary and queues the best variants'
//! runs. A walk-forward is one chunk that finishes its sweep itself.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;

use super::execute::{receive_batch, End};
use super::live::SweepLive;
use super::request::SweepRequest;
use super::summary::summary;
use crate::domain::CancelToken;
use crate::service::Service;
use crate::store::{ChunkClaim, ChunkPlan, LeaseState, RunStatus, Store, StoreError, SweepRow};
use crate::sweep::{self, VariantResult};

/// Chunks a sweep's variants are split into, about: enough for many
/// workers to share one sweep, few enough that loading the data and
/// computing the indicators once per chunk stays a small part of it.
const CHUNKS: u64 = 64;

/// The fewest and most variants in a chunk.
const CHUNK_MIN: u64 = 4;
const CHUNK_MAX: u64 = 256;

/// Variants stored in one transaction at most (they wait as long as a
/// server's, see `execute::receive_batch`).
const BATCH: usize = 256;

/// How often a chunk's lease is renewed (and its sweep's cancel looked
/// for), at most; never less often than a third of the lease.
const RENEW_EVERY: Duration = Duration::from_millis(500);

/// How often, and how far apart, a batch of variants is written before the
/// chunk is given up (its lease then runs out and another attempt runs what
/// was not stored).
const STORE_ATTEMPTS: u32 = 6;
const STORE_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// How a sweep of `variants` variants is split for workers: a walk-forward
/// is one chunk (its windows depend on one another) that finishes itself.
pub(in crate::service) fn chunk_plan(variants: u64, walk_forward: bool) -> ChunkPlan {
    if walk_forward {
        return ChunkPlan { chunks: std::iter::once(0..variants).collect(), finish: false };
    }
    let size = variants.div_ceil(CHUNKS).clamp(CHUNK_MIN, CHUNK_MAX);
    let chunks = (0..variants)
        .step_by(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|first| first..(first + size).min(variants));
    ChunkPlan { chunks: chunks.collect(), finish: true }
}

/// Why a chunk stopped short of its end.
enum ChunkStop {
    /// Its lease was lost (the write was refused) or its sweep ended:
    /// nothing more is this attempt's to do.
    Stopped,
    /// A write for an attempt that lost its lease was refused.
    Fenced(StoreError),
    /// The sweep cannot run (its data, its strategy, its config): it fails.
    Failed(String),
    /// The database failed: the chunk's lease runs out and another attempt
    /// runs what was not stored.
    Database(StoreError),
}

impl From<StoreError> for ChunkStop {
    fn from(e: StoreError) -> Self {
        match e {
            e @ StoreError::ChunkFenced { .. } => ChunkStop::Fenced(e),
            e => ChunkStop::Database(e),
        }
    }
}

impl Service {
    /// Executes a claimed chunk while a task keeps its lease.
    pub(in crate::service) async fn execute_chunk(&self, claim: ChunkClaim, lease: Duration) {
        let (id, attempt) = (claim.sweep_id, claim.fence.attempt);
        tracing::info!(sweep = id, chunk = claim.chunk, variants = ?claim.numbers, attempt, "claimed a chunk of a sweep");
        let cancel = CancelToken::new();
        let keeper = tokio::spawn(keep_chunk_lease(self.store().clone(), claim.clone(), cancel.clone(), lease));
        let result = self.run_chunk(&claim, &cancel, lease).await;
        keeper.abort();
        match result {
            Ok(()) => {}
            Err(ChunkStop::Stopped) => {
                tracing::info!(sweep = id, chunk = claim.chunk, "chunk stopped: its sweep ended or its lease was lost");
            }
            Err(ChunkStop::Fenced(e)) => {
                tracing::warn!(error = %e, "late completion refused: this attempt lost its lease, nothing stored");
            }
            Err(ChunkStop::Database(e)) => {
                tracing::warn!(sweep = id, chunk = claim.chunk, error = %e, "giving up a chunk: the database failed; \
                               its lease runs out and another attempt runs what was not stored");
            }
            Err(ChunkStop::Failed(message)) => {
                tracing::info!(sweep = id, message, "sweep failed");
                match self.store().finish_chunked_sweep(&claim, RunStatus::Failed, Some(&message), None).await {
                    Ok(_) => {}
                    Err(e) => tracing::warn!(sweep = id, error = %e, "cannot store that the sweep failed"),
                }
            }
        }
    }

    async fn run_chunk(&self, claim: &ChunkClaim, cancel: &CancelToken, lease: Duration) -> Result<(), ChunkStop> {
        let store = self.store();
        let row = store.sweep(claim.sweep_id).await?.ok_or(ChunkStop::Stopped)?;
        if row.status.is_final() {
            return Err(ChunkStop::Stopped);
        }
        if claim.finishes() {
            return self.finish_chunks(claim, &row, lease).await;
        }
        let (loaded, checked) = self.load_sweep(&row, 1, cancel.clone()).await.map_err(ChunkStop::Failed)?;
        if let Some(spec) = checked.walk_forward {
            // Counted here only: the API follows the sweep's row.
            let live = Arc::new(SweepLive::default());
            let end = self
                .walk_forward(row.id, &live, loaded, spec, checked.objective, row.total as u64)
                .await
                .map_err(ChunkStop::Failed)?;
            let End::Completed { summary } = end else { return Err(ChunkStop::Stopped) };
            store.finish_chunked_sweep(claim, RunStatus::Completed, None, Some(&summary.to_string())).await?;
            return Ok(());
        }
        // Variants an earlier attempt at this chunk stored are not run again.
        let skip = store.variant_numbers_in(row.id, claim.numbers.clone()).await?;
        let (send, receive) = mpsc::unbounded_channel::<VariantResult>();
        let collector = tokio::spawn(collect(store.clone(), claim.clone(), cancel.clone(), receive));
        let numbers = claim.numbers.clone();
        let ran = tokio::task::spawn_blocking(move || {
            sweep::run(&loaded.job(&skip, Some(numbers)), &mut |r| {
                let _ = send.send(r.clone());
            })
            .map(|results| results.indicators_computed)
        })
        .await
        .map_err(|e| ChunkStop::Failed(format!("the sweep's thread failed: {e}")))?;
        let stored = collector.await.map_err(|e| ChunkStop::Failed(format!("storing the variants failed: {e}")))?;
        let indicators = ran.map_err(|e| ChunkStop::Failed(e.to_string()))?;
        stored?;
        if cancel.is_cancelled() {
            return Err(ChunkStop::Stopped);
        }
        store.complete_chunk(claim, indicators as u64).await?;
        Ok(())
    }

    /// The finishing chunk: every variant is stored; writes the sweep's
    /// summary, queues its best variants' runs and completes it.
    async fn finish_chunks(&self, claim: &ChunkClaim, row: &SweepRow, lease: Duration) -> Result<(), ChunkStop> {
        let store = self.store();
        let request = SweepRequest::from_stored(&row.config).map_err(|e| ChunkStop::Failed(e.to_string()))?;
        let checked = request.check(usize::MAX).map_err(|e| ChunkStop::Failed(e.to_string()))?;
        let objective = checked.objective;
        let mut summary = summary(store, row.id, &objective).await?;
        summary["indicators_computed"] = json!(store.chunk_indicators(row.id).await?);
        let started = row.started_at.unwrap_or(row.created_at);
        summary["elapsed_ms"] = json!((crate::store::now_millis() - started) as f64);
        // The best variants' runs are queued once: only while the lease holds.
        if store.renew_chunk(claim, lease).await? != LeaseState::Held {
            return Err(ChunkStop::Stopped);
        }
        summary["top_runs"] = self.keep_top(row.id, &objective, checked.top).await;
        store.finish_chunked_sweep(claim, RunStatus::Completed, None, Some(&summary.to_string())).await?;
        tracing::info!(sweep = row.id, "sweep completed on workers");
        Ok(())
    }
}

/// Stores the variants arriving on `receive` in batches, fenced by
/// `claim`; cancels the chunk when a write is refused or keeps failing.
async fn collect(
    store: Store,
    claim: ChunkClaim,
    cancel: CancelToken,
    mut receive: mpsc::UnboundedReceiver<VariantResult>,
) -> Result<(), ChunkStop> {
    let mut batch = Vec::with_capacity(BATCH);
    while receive_batch(&mut receive, &mut batch, BATCH).await {
        if let Err(e) = store_batch(&store, &claim, &batch).await {
            cancel.cancel();
            return Err(e);
        }
        batch.clear();
    }
    Ok(())
}

/// Writes one batch, trying again after a failure of the database (never
/// after a refusal: the lease is another's).
async fn store_batch(store: &Store, claim: &ChunkClaim, batch: &[VariantResult]) -> Result<(), ChunkStop> {
    let mut pause = STORE_RETRY_PAUSE;
    let mut attempt = 1;
    loop {
        match store.insert_chunk_variants(claim, batch).await {
            Ok(()) => return Ok(()),
            Err(e @ StoreError::ChunkFenced { .. }) => return Err(ChunkStop::Fenced(e)),
            Err(e) if attempt == STORE_ATTEMPTS => return Err(ChunkStop::Database(e)),
            Err(e) => tracing::warn!(sweep = claim.sweep_id, error = %e, "storing variants failed; trying again"),
        }
        attempt += 1;
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(4));
    }
}

/// Renews `claim`'s lease while the chunk runs, on the async runtime (the
/// variants run on a blocking thread, so a busy CPU does not stop this);
/// cancels the chunk when the lease is lost or its sweep ended.
async fn keep_chunk_lease(store: Store, claim: ChunkClaim, cancel: CancelToken, lease: Duration) {
    let every = RENEW_EVERY.min(lease / 3);
    loop {
        tokio::time::sleep(every).await;
        match store.renew_chunk(&claim, lease).await {
            Ok(LeaseState::Held) => {}
            Ok(LeaseState::CancelRequested) => {
                cancel.cancel();
                return;
            }
            Ok(LeaseState::Lost) => {
                tracing::warn!(
                    sweep = claim.sweep_id,
                    chunk = claim.chunk,
                    attempt = claim.fence.attempt,
                    "lost the chunk's lease; stopping it"
                );
                cancel.cancel();
                return;
            }
            Err(e) => {
                tracing::warn!(sweep = claim.sweep_id, error = %e, "cannot renew the chunk's lease; trying again")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_is_split_into_consecutive_chunks_covering_every_variant_once() {
        let plan = chunk_plan(500, false);
        assert!(plan.finish);
        assert_eq!(plan.chunks.first(), Some(&(0..8)), "500 / 64 rounded up");
        assert_eq!(plan.chunks.last(), Some(&(496..500)));
        assert_eq!(plan.chunks.len(), 63);
        assert!(plan.chunks.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(chunk_plan(3, false).chunks, std::iter::once(0..3).collect::<Vec<_>>(), "at least four a chunk");
        assert_eq!(chunk_plan(100_000, false).chunks[0], 0..256, "at most 256");
        assert_eq!(chunk_plan(0, false).chunks, Vec::<std::ops::Range<u64>>::new());
        let walk = chunk_plan(40, true);
        assert_eq!(walk.chunks, std::iter::once(0..40).collect::<Vec<_>>(), "a walk-forward is one chunk");
        assert!(!walk.finish, "it finishes itself");
    }
}
