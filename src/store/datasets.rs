//! Uploaded datasets: one symbol's validated bars, kept parsed (in the
//! columnar form of `data::bars_file`, in chunks), or for datasets uploaded
//! before that form existed, the CSV as uploaded.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_millis, Store, StoreError};

/// A dataset's facts (its content is loaded only when asked for).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetRow {
    /// The dataset's id.
    pub id: i64,
    /// The user it belongs to.
    pub owner_id: i64,
    /// The symbol its bars are for.
    pub symbol: String,
    /// Its number among its owner's datasets of the symbol: 1, then one more
    /// per replacement; runs read the latest.
    pub version: i64,
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
    /// How the bars are kept: `bars` (chunks of a bars file) or `csv` (the
    /// upload's text, datasets from before).
    pub encoding: String,
    /// How the upload was read ([`LoadOptions`](crate::data::LoadOptions) as JSON).
    pub load_options: String,
    /// The uploaded CSV bytes of a `csv` dataset; `None` unless loaded with the content.
    #[serde(skip)]
    pub content: Option<Vec<u8>>,
}

/// A validated upload.
#[derive(Clone, Debug)]
pub struct NewDataset {
    /// The user it belongs to.
    pub owner_id: i64,
    /// The symbol its bars are for.
    pub symbol: String,
    /// Whether it may replace the owner's dataset of the symbol (as its
    /// next version); without it, an existing one is a conflict.
    pub replace: bool,
    /// Lowercase hex SHA-256 of the uploaded bytes.
    pub content_hash: String,
    /// How the upload was read, as JSON.
    pub load_options: String,
    /// Number of bars (data rows) in the file.
    pub rows: i64,
    /// Timestamp of the first bar, in milliseconds since the epoch.
    pub first_ts: i64,
    /// Timestamp of the last bar, in milliseconds since the epoch.
    pub last_ts: i64,
    /// Median spacing of the bars in milliseconds; `None` with fewer than 2 bars.
    pub interval_ms: Option<i64>,
}

const COLUMNS: &str =
    "id, owner_id, symbol, version, content_hash, rows, first_ts, last_ts, interval_ms, created_at, encoding, load_options";

/// The size of the chunks a dataset's bars file is stored in.
pub const CHUNK_BYTES: usize = 4 << 20;

fn dataset(row: &AnyRow, with_content: bool) -> Result<DatasetRow, sqlx::Error> {
    Ok(DatasetRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        symbol: row.try_get("symbol")?,
        version: row.try_get("version")?,
        content_hash: row.try_get("content_hash")?,
        rows: row.try_get("rows")?,
        first_ts: row.try_get("first_ts")?,
        last_ts: row.try_get("last_ts")?,
        interval_ms: row.try_get("interval_ms")?,
        created_at: row.try_get("created_at")?,
        encoding: row.try_get("encoding")?,
        load_options: row.try_get("load_options")?,
        content: if with_content { Some(row.try_get("content")?) } else { None },
    })
}

impl Store {
    /// Stores a validated dataset whose bars file is at `bars` (read in
    /// chunks of [`CHUNK_BYTES`]), all in one transaction: the first of its
    /// owner's symbol, or with `replace` the next version of it.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the owner has a dataset of the symbol
    /// and `replace` is not set (with `replace` and none, this is the
    /// first); the file unreadable.
    pub async fn create_dataset(&self, d: NewDataset, bars: &std::path::Path) -> Result<DatasetRow, StoreError> {
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(bars).await.map_err(StoreError::File)?;
        let _write = self.writing().await?;
        let mut tx = self.pool.begin().await?;
        let latest: Option<i64> =
            sqlx::query("SELECT MAX(version) AS v FROM datasets WHERE owner_id = $1 AND symbol = $2")
                .bind(d.owner_id)
                .bind(&d.symbol)
                .fetch_one(&mut *tx)
                .await?
                .try_get("v")?;
        let version = match (latest, d.replace) {
            (Some(_), false) => return Err(StoreError::Conflict(format!("a dataset for symbol '{}'", d.symbol))),
            (latest, _) => latest.unwrap_or(0) + 1,
        };
        let sql = format!(
            "INSERT INTO datasets (owner_id, symbol, version, content, content_hash, rows, first_ts, last_ts, \
             interval_ms, created_at, encoding, load_options) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'bars', $11) RETURNING {COLUMNS}"
        );
        let symbol = d.symbol.clone();
        let row = sqlx::query(&sql)
            .bind(d.owner_id)
            .bind(d.symbol)
            .bind(version)
            .bind(Vec::<u8>::new())
            .bind(d.content_hash)
            .bind(d.rows)
            .bind(d.first_ts)
            .bind(d.last_ts)
            .bind(d.interval_ms)
            .bind(now_millis())
            .bind(d.load_options)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::conflict_as(format!("a dataset for symbol '{symbol}'")))?;
        let created = dataset(&row, false)?;
        let mut chunk = vec![0u8; CHUNK_BYTES];
        for seq in 0_i64.. {
            let mut filled = 0;
            while filled < CHUNK_BYTES {
                let n = file.read(&mut chunk[filled..]).await.map_err(StoreError::File)?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            sqlx::query("INSERT INTO dataset_blocks (dataset_id, seq, bytes) VALUES ($1, $2, $3)")
                .bind(created.id)
                .bind(seq)
                .bind(chunk[..filled].to_vec())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Chunk `seq` of dataset `id`'s bars file, or `None` past the last.
    ///
    /// # Errors
    /// Database failures.
    pub async fn dataset_chunk(&self, id: i64, seq: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT bytes FROM dataset_blocks WHERE dataset_id = $1 AND seq = $2")
            .bind(id)
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("bytes")).transpose()?)
    }

    /// The datasets of `owner` (every user's with `None`), every version,
    /// oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn datasets(&self, owner: Option<i64>) -> Result<Vec<DatasetRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM datasets WHERE $1 IS NULL OR owner_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(owner).fetch_all(&self.pool).await?;
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

    /// The latest version of `owner_id`'s dataset of `symbol` (without its content).
    ///
    /// # Errors
    /// Database failures.
    pub async fn dataset_by_symbol(&self, owner_id: i64, symbol: &str) -> Result<Option<DatasetRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM datasets WHERE owner_id = $1 AND symbol = $2 ORDER BY version DESC LIMIT 1");
        let row = sqlx::query(&sql).bind(owner_id).bind(symbol).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(|r| dataset(r, false)).transpose()?)
    }

    /// Dataset `id` with its content.
    ///
    /// # Errors
    /// Database failures.
    pub async fn dataset_content(&self, id: i64) -> Result<Option<DatasetRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, content FROM datasets WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(|r| dataset(r, true)).transpose()?)
    }
}
