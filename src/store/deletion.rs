//! Deleting strategies, versions, datasets, runs and sweeps, each with
//! what depends on it, in one transaction; refused while a queued or
//! running run or sweep needs it.

use sqlx::Row;

use super::{Store, StoreError};

/// What a deletion did.
#[derive(Debug, PartialEq, Eq)]
pub enum Deletion {
    /// Deleted, with so many runs and sweeps that depended on it.
    Done {
        /// Finished runs deleted with it (with their results).
        runs: u64,
        /// Finished sweeps deleted with it (with their variants).
        sweeps: u64,
    },
    /// Nothing deleted: a queued or running run or sweep needs it (named).
    Busy(String),
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Both tables whose queued or running rows hold on to what they use.
const RUNS_AND_SWEEPS: &[&str] = &["runs", "sweeps"];

/// The first queued or running row of `tables` (`runs`, `sweeps`) matching
/// `condition` (with `$1` bound to `id`), as "run N" or "sweep N".
async fn busy(tx: &mut Tx<'_>, tables: &[&str], condition: &str, id: i64) -> Result<Option<String>, StoreError> {
    for &table in tables {
        let sql = format!("SELECT id FROM {table} WHERE {condition} AND status IN ('queued', 'running') LIMIT 1");
        if let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await? {
            let id: i64 = row.try_get("id")?;
            return Ok(Some(format!("{} {id}", table.trim_end_matches('s'))));
        }
    }
    Ok(None)
}

/// Deletes the runs matching `condition` (with `$1` bound to `id`) and
/// their results; returns how many.
async fn delete_runs(tx: &mut Tx<'_>, condition: &str, id: i64) -> Result<u64, StoreError> {
    let selected = format!("SELECT id FROM runs WHERE {condition}");
    sqlx::query(&format!("UPDATE runs SET rerun_of = NULL WHERE rerun_of IN ({selected})"))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for table in ["trades", "equity_points", "run_results"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE run_id IN ({selected})")).bind(id).execute(&mut **tx).await?;
    }
    let done = sqlx::query(&format!("DELETE FROM runs WHERE {condition}")).bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected())
}

/// Deletes the sweeps matching `condition`, their variants and chunks; returns how many.
async fn delete_sweeps(tx: &mut Tx<'_>, condition: &str, id: i64) -> Result<u64, StoreError> {
    let selected = format!("SELECT id FROM sweeps WHERE {condition}");
    for table in ["sweep_variants", "sweep_chunks"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE sweep_id IN ({selected})")).bind(id).execute(&mut **tx).await?;
    }
    let done = sqlx::query(&format!("DELETE FROM sweeps WHERE {condition}")).bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected())
}

impl Store {
    /// Deletes strategy `id`, its versions, and its finished runs and sweeps.
    ///
    /// # Errors
    /// Database failures.
    pub async fn delete_strategy(&self, id: i64) -> Result<Deletion, StoreError> {
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        // Locks the strategy's row first, as adding a version does.
        sqlx::query("UPDATE strategies SET last_reload_error = last_reload_error WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(what) = busy(&mut tx, RUNS_AND_SWEEPS, "strategy_id = $1", id).await? {
            return Ok(Deletion::Busy(what));
        }
        let runs = delete_runs(&mut tx, "strategy_id = $1", id).await?;
        let sweeps = delete_sweeps(&mut tx, "strategy_id = $1", id).await?;
        sqlx::query("DELETE FROM strategy_versions WHERE strategy_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM strategies WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Deletion::Done { runs, sweeps })
    }

    /// Deletes the version with id `version_id` and its finished runs and
    /// sweeps; the strategy's only version is refused (delete the strategy).
    ///
    /// # Errors
    /// Database failures.
    pub async fn delete_version(&self, strategy_id: i64, version_id: i64) -> Result<Deletion, StoreError> {
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE strategies SET last_reload_error = last_reload_error WHERE id = $1")
            .bind(strategy_id)
            .execute(&mut *tx)
            .await?;
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM strategy_versions WHERE strategy_id = $1")
            .bind(strategy_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if count <= 1 {
            return Ok(Deletion::Busy("the strategy, whose only version it is (delete the strategy)".into()));
        }
        if let Some(what) = busy(&mut tx, RUNS_AND_SWEEPS, "version_id = $1", version_id).await? {
            return Ok(Deletion::Busy(what));
        }
        let runs = delete_runs(&mut tx, "version_id = $1", version_id).await?;
        let sweeps = delete_sweeps(&mut tx, "version_id = $1", version_id).await?;
        sqlx::query("DELETE FROM strategy_versions WHERE id = $1").bind(version_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Deletion::Done { runs, sweeps })
    }

    /// Deletes dataset `id` and its stored bars (the caller checked that no
    /// queued or running run or sweep reads its symbol).
    ///
    /// # Errors
    /// Database failures.
    pub async fn delete_dataset(&self, id: i64) -> Result<Deletion, StoreError> {
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM dataset_blocks WHERE dataset_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM datasets WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Deletion::Done { runs: 0, sweeps: 0 })
    }

    /// Deletes finished run `id` and its results.
    ///
    /// # Errors
    /// Database failures.
    pub async fn delete_run(&self, id: i64) -> Result<Deletion, StoreError> {
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        if let Some(what) = busy(&mut tx, &["runs"], "id = $1", id).await? {
            return Ok(Deletion::Busy(format!("{what} itself (cancel it first)")));
        }
        let runs = delete_runs(&mut tx, "id = $1", id).await?;
        tx.commit().await?;
        Ok(Deletion::Done { runs, sweeps: 0 })
    }

    /// Deletes finished sweep `id` and its variants.
    ///
    /// # Errors
    /// Database failures.
    pub async fn delete_sweep(&self, id: i64) -> Result<Deletion, StoreError> {
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        if let Some(what) = busy(&mut tx, &["sweeps"], "id = $1", id).await? {
            return Ok(Deletion::Busy(format!("{what} itself (cancel it first)")));
        }
        let sweeps = delete_sweeps(&mut tx, "id = $1", id).await?;
        tx.commit().await?;
        Ok(Deletion::Done { runs: 0, sweeps })
    }
}
