//! Uploaded datasets: one symbol's validated CSV, kept as uploaded.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_millis, Store, StoreError};

/// A dataset's facts (its content is loaded only when asked for).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetRow {
    /// The dataset's id.
    pub id: i64,
    /// The symbol its bars are for; one dataset per symbol.
    pub symbol: String,
    /// Lowercase hex SHA-256 of the uploaded bytes.
    pub content_hash: String,
    /// Number of bars (data rows) in the file.
    pub rows: i64,
    /// Timestamp of the first bar, in milliseconds since the epoch.
    pub first_ts: i64,
    /// Timestamp of the last bar, in milliseconds since the epoch.
    pub last_ts: i64,
    /// Median spacing of the bars in milliseconds.
    pub interval_ms: Option<i64>,
    /// When it was uploaded, in milliseconds since the epoch.
    pub created_at: i64,
    /// The uploaded CSV bytes; `None` unless loaded with the content.
    #[serde(skip)]
    pub content: Option<Vec<u8>>,
}

/// A validated upload.
#[derive(Clone, Debug)]
pub struct NewDataset {
    /// The symbol its bars are for; must not have a dataset yet.
    pub symbol: String,
    /// The uploaded CSV bytes, kept as uploaded.
    pub content: Vec<u8>,
    /// Lowercase hex SHA-256 of `content`.
    pub content_hash: String,
    /// Number of bars (data rows) in the file.
    pub rows: i64,
    /// Timestamp of the first bar, in milliseconds since the epoch.
    pub first_ts: i64,
    /// Timestamp of the last bar, in milliseconds since the epoch.
    pub last_ts: i64,
    /// Median spacing of the bars in milliseconds; `None` with fewer than 2 bars.
    pub interval_ms: Option<i64>,
}

const COLUMNS: &str = "id, symbol, content_hash, rows, first_ts, last_ts, interval_ms, created_at";

fn dataset(row: &AnyRow, with_content: bool) -> Result<DatasetRow, sqlx::Error> {
    Ok(DatasetRow {
        id: row.try_get("id")?,
        symbol: row.try_get("symbol")?,
        content_hash: row.try_get("content_hash")?,
        rows: row.try_get("rows")?,
        first_ts: row.try_get("first_ts")?,
        last_ts: row.try_get("last_ts")?,
        interval_ms: row.try_get("interval_ms")?,
        created_at: row.try_get("created_at")?,
        content: if with_content { Some(row.try_get("content")?) } else { None },
    })
}

impl Store {
    /// Stores a validated dataset.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the symbol is taken.
    pub async fn create_dataset(&self, d: NewDataset) -> Result<DatasetRow, StoreError> {
        let _write = self.writing().await?;
        let sql = format!(
            "INSERT INTO datasets (symbol, content, content_hash, rows, first_ts, last_ts, interval_ms, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        );
        let symbol = d.symbol.clone();
        let row = sqlx::query(&sql)
            .bind(d.symbol)
            .bind(d.content)
            .bind(d.content_hash)
            .bind(d.rows)
            .bind(d.first_ts)
            .bind(d.last_ts)
            .bind(d.interval_ms)
            .bind(now_millis())
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::conflict_as(format!("a dataset for symbol '{symbol}'")))?;
        Ok(dataset(&row, false)?)
    }

    /// Every dataset, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn datasets(&self) -> Result<Vec<DatasetRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM datasets ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| dataset(r, false)).collect::<Result<_, _>>()?)
    }

    /// One dataset's facts.
    ///
    /// # Errors
    /// Database failures.
    pub async fn dataset(&self, id: i64) -> Result<Option<DatasetRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM datasets WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(|r| dataset(r, false)).transpose()?)
    }

    /// A dataset's facts, by symbol (without its content).
    ///
    /// # Errors
    /// Database failures.
    pub async fn dataset_by_symbol(&self, symbol: &str) -> Result<Option<DatasetRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM datasets WHERE symbol = $1");
        let row = sqlx::query(&sql).bind(symbol).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(|r| dataset(r, false)).transpose()?)
    }

    /// A dataset with its content, by symbol.
    ///
    /// # Errors
    /// Database failures.
    pub async fn dataset_content(&self, symbol: &str) -> Result<Option<DatasetRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, content FROM datasets WHERE symbol = $1");
        let row = sqlx::query(&sql).bind(symbol).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(|r| dataset(r, true)).transpose()?)
    }
}
