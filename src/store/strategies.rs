//! Strategies and their immutable versions.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_millis, Store, StoreError};

/// A strategy: a name, a runtime, and versions of its code.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = Strategy)]
pub struct StrategyRow {
    /// The strategy's id.
    pub id: i64,
    /// The user it belongs to.
    pub owner_id: i64,
    /// Its name, unique among its owner's strategies.
    pub name: String,
    /// The runtime its code runs in: `rhai` or `wasm`.
    pub runtime: String,
    /// Free text given at creation; may be empty.
    pub description: String,
    /// When it was created, in milliseconds since the epoch.
    pub created_at: i64,
    /// Why the last hot reload of its file failed, if it did.
    pub last_reload_error: Option<String>,
}

/// One immutable version of a strategy's code.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VersionRow {
    /// The version's id, unique across all strategies (runs refer to it).
    pub id: i64,
    /// The strategy it belongs to.
    pub strategy_id: i64,
    /// Its number within the strategy: 1 for the first, then one more per change.
    pub version: i64,
    /// Lowercase hex SHA-256 of the code.
    pub content_hash: String,
    /// The declared parameters, as JSON.
    pub params: String,
    /// When it was added, in milliseconds since the epoch.
    pub created_at: i64,
    /// The code (script text or module bytes); loaded only when asked for.
    #[serde(skip)]
    pub source: Option<Vec<u8>>,
}

/// The code of a new version, already compiled and checked.
#[derive(Clone, Debug)]
pub struct NewVersion {
    /// The code: script text or module bytes.
    pub source: Vec<u8>,
    /// Lowercase hex SHA-256 of `source`.
    pub content_hash: String,
    /// The declared parameters, as JSON.
    pub params_json: String,
}

const STRATEGY_COLUMNS: &str = "id, owner_id, name, runtime, description, created_at, last_reload_error";
const VERSION_COLUMNS: &str = "id, strategy_id, version, content_hash, params, created_at";

fn strategy(row: &AnyRow) -> Result<StrategyRow, sqlx::Error> {
    Ok(StrategyRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        runtime: row.try_get("runtime")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        last_reload_error: row.try_get("last_reload_error")?,
    })
}

fn version(row: &AnyRow, with_source: bool) -> Result<VersionRow, sqlx::Error> {
    Ok(VersionRow {
        id: row.try_get("id")?,
        strategy_id: row.try_get("strategy_id")?,
        version: row.try_get("version")?,
        content_hash: row.try_get("content_hash")?,
        params: row.try_get("params")?,
        created_at: row.try_get("created_at")?,
        source: if with_source { Some(row.try_get("source")?) } else { None },
    })
}

impl Store {
    /// Creates a strategy of `owner_id` with its first version, atomically.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the owner has a strategy of that name.
    pub async fn create_strategy(
        &self,
        owner_id: i64,
        name: &str,
        runtime: &str,
        description: &str,
        first: NewVersion,
    ) -> Result<(StrategyRow, VersionRow), StoreError> {
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "INSERT INTO strategies (owner_id, name, runtime, description, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING {STRATEGY_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(name)
            .bind(runtime)
            .bind(description)
            .bind(now_millis())
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::conflict_as(format!("a strategy named '{name}'")))?;
        let created = strategy(&row)?;
        let version = insert_version(&mut tx, created.id, 1, first).await?;
        tx.commit().await?;
        Ok((created, version))
    }

    /// Adds the next version of a strategy, unless `next` is the latest
    /// version's content again: then that version is returned. The flag says
    /// whether a version was added.
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_version(&self, strategy_id: i64, next: NewVersion) -> Result<(VersionRow, bool), StoreError> {
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        // Updating the strategy's row first locks it until the commit, so
        // that concurrent additions to one strategy take their numbers one
        // after another; reading the latest number and inserting the next
        // would otherwise race on PostgreSQL (SQLite's writes already queue
        // in `writing`) and all but one would hit the unique key.
        sqlx::query("UPDATE strategies SET last_reload_error = NULL WHERE id = $1")
            .bind(strategy_id)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM strategy_versions WHERE strategy_id = $1 ORDER BY version DESC LIMIT 1"
        );
        let latest = sqlx::query(&sql).bind(strategy_id).fetch_optional(&mut *tx).await?;
        let latest = latest.as_ref().map(|r| version(r, false)).transpose()?;
        if let Some(same) = latest.as_ref().filter(|v| v.content_hash == next.content_hash) {
            tx.commit().await?;
            return Ok((same.clone(), false));
        }
        let number = latest.map_or(1, |v| v.version + 1);
        let version = insert_version(&mut tx, strategy_id, number, next).await?;
        tx.commit().await?;
        Ok((version, true))
    }

    /// Records (or clears) why the last reload of a strategy's file failed.
    ///
    /// # Errors
    /// Database failures.
    pub async fn set_reload_error(&self, strategy_id: i64, error: Option<&str>) -> Result<(), StoreError> {
        let _write = self.writing().await?;
        sqlx::query("UPDATE strategies SET last_reload_error = $1 WHERE id = $2")
            .bind(error.map(|e| super::storable(e).into_owned()))
            .bind(strategy_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The strategies of `owner` (every user's with `None`), oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn strategies(&self, owner: Option<i64>) -> Result<Vec<StrategyRow>, StoreError> {
        let sql = format!("SELECT {STRATEGY_COLUMNS} FROM strategies WHERE $1 IS NULL OR owner_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(owner).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(strategy).collect::<Result<_, _>>()?)
    }

    /// One strategy.
    ///
    /// # Errors
    /// Database failures.
    pub async fn strategy(&self, id: i64) -> Result<Option<StrategyRow>, StoreError> {
        let sql = format!("SELECT {STRATEGY_COLUMNS} FROM strategies WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(strategy).transpose()?)
    }

    /// A strategy of `owner_id` by name.
    ///
    /// # Errors
    /// Database failures.
    pub async fn strategy_by_name(&self, owner_id: i64, name: &str) -> Result<Option<StrategyRow>, StoreError> {
        let sql = format!("SELECT {STRATEGY_COLUMNS} FROM strategies WHERE owner_id = $1 AND name = $2");
        let row = sqlx::query(&sql).bind(owner_id).bind(name).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(strategy).transpose()?)
    }

    /// A strategy's versions, oldest first, without their code.
    ///
    /// # Errors
    /// Database failures.
    pub async fn versions(&self, strategy_id: i64) -> Result<Vec<VersionRow>, StoreError> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM strategy_versions WHERE strategy_id = $1 ORDER BY version");
        let rows = sqlx::query(&sql).bind(strategy_id).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| version(r, false)).collect::<Result<_, _>>()?)
    }

    /// One version with its code: `number`, or the latest when `None`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn version(&self, strategy_id: i64, number: Option<i64>) -> Result<Option<VersionRow>, StoreError> {
        let row = match number {
            Some(n) => {
                let sql = format!(
                    "SELECT {VERSION_COLUMNS}, source FROM strategy_versions WHERE strategy_id = $1 AND version = $2"
                );
                sqlx::query(&sql).bind(strategy_id).bind(n).fetch_optional(&self.pool).await?
            }
            None => {
                let sql = format!(
                    "SELECT {VERSION_COLUMNS}, source FROM strategy_versions WHERE strategy_id = $1 \
                     ORDER BY version DESC LIMIT 1"
                );
                sqlx::query(&sql).bind(strategy_id).fetch_optional(&self.pool).await?
            }
        };
        Ok(row.as_ref().map(|r| version(r, true)).transpose()?)
    }

    /// A version by its id, with its code.
    ///
    /// # Errors
    /// Database failures.
    pub async fn version_by_id(&self, id: i64) -> Result<Option<VersionRow>, StoreError> {
        let sql = format!("SELECT {VERSION_COLUMNS}, source FROM strategy_versions WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(|r| version(r, true)).transpose()?)
    }
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    strategy_id: i64,
    number: i64,
    v: NewVersion,
) -> Result<VersionRow, StoreError> {
    let sql = format!(
        "INSERT INTO strategy_versions (strategy_id, version, source, content_hash, params, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {VERSION_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(strategy_id)
        .bind(number)
        .bind(v.source)
        .bind(v.content_hash)
        .bind(v.params_json)
        .bind(now_millis())
        .fetch_one(&mut **tx)
        .await?;
    Ok(version(&row, false)?)
}
