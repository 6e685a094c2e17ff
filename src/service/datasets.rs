//! Datasets: uploads, reading their bars back, and the in-memory cache of parsed bars.

use std::sync::{Arc, Mutex};

use super::accounts::Actor;
use super::dataset_upload::{self, UploadError};
use super::{Service, ServiceError};
use crate::data::bars_file::BarsFileError;
use crate::data::{parse_csv, parse_symbol, DataError, LoadOptions, SharedSeries};
use crate::store::{DatasetRow, NewDataset};

/// Parsed datasets kept in memory, by content hash, most recent first, up
/// to a number of bytes (the least recently used go first).
#[derive(Default)]
pub struct DatasetCache {
    entries: Mutex<Vec<(String, SharedSeries)>>,
    capacity_bytes: usize,
}

/// The memory one cached series takes at most: its bars and, once a run
/// asked for them, its four f64 price columns.
fn footprint(series: &SharedSeries) -> usize {
    series.bars().len() * (std::mem::size_of::<crate::domain::Bar>() + 4 * std::mem::size_of::<f64>())
}

impl DatasetCache {
    pub fn new(capacity_bytes: usize) -> Self {
        DatasetCache { entries: Mutex::new(Vec::new()), capacity_bytes }
    }

    fn get(&self, hash: &str) -> Option<SharedSeries> {
        let mut entries = self.entries.lock().ok()?;
        let i = entries.iter().position(|(h, _)| h == hash)?;
        let entry = entries.remove(i);
        let bars = entry.1.clone();
        entries.insert(0, entry);
        Some(bars)
    }

    /// Keeps `bars` (unless they alone exceed the capacity), dropping the
    /// least recently used entries beyond it.
    fn put(&self, hash: String, bars: SharedSeries) {
        if footprint(&bars) > self.capacity_bytes {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(h, _)| *h != hash);
            entries.insert(0, (hash, bars));
            let mut total = 0;
            entries.retain(|(_, series)| {
                total += footprint(series);
                total <= self.capacity_bytes
            });
        }
    }

    /// The bytes the cached series take at most.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.entries.lock().map(|e| e.iter().map(|(_, s)| footprint(s)).sum()).unwrap_or(0)
    }
}

impl Service {
    /// Validates the CSV arriving as `body` for `symbol`, read as `options`
    /// say, as it streams in (at most `limit` bytes), and stores its bars
    /// as `actor`'s dataset of the symbol: the first, or with `replace`
    /// its next version (runs then read that one).
    ///
    /// # Errors
    /// An invalid symbol or options, a CSV the loader refuses (its message
    /// names line and column), a body over `limit`, or, without `replace`,
    /// a symbol the user already has a dataset of.
    pub async fn create_dataset<S, E>(
        &self,
        actor: Actor,
        symbol: &str,
        replace: bool,
        options: LoadOptions,
        body: S,
        limit: u64,
    ) -> Result<DatasetRow, ServiceError>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Send + Unpin + 'static,
        E: std::fmt::Display,
    {
        let checked = parse_symbol(symbol)
            .map_err(|e| ServiceError::invalid("symbol", e.to_string()))
            .and_then(|_| options.check().map_err(|e| ServiceError::invalid(option_field(e.option), e.to_string())));
        if let Err(refused) = checked {
            dataset_upload::discard(body, limit).await;
            return Err(refused);
        }
        let name = format!("upload for {symbol}");
        let validated = dataset_upload::validate(body, limit, name, options.clone()).await.map_err(|e| match e {
            // An option refused only once the file is seen (--delimiter for Parquet).
            UploadError::Invalid(DataError::Option(option)) => {
                ServiceError::invalid(option_field(option.option), option.to_string())
            }
            UploadError::Invalid(e) => ServiceError::invalid("body", e.to_string()),
            UploadError::TooLarge(_) => ServiceError::TooLarge(e.to_string()),
            UploadError::Body(_) => ServiceError::invalid("body", e.to_string()),
            UploadError::Scratch(_) => ServiceError::Internal(e.to_string()),
        })?;
        let row = self
            .inner
            .store
            .create_dataset(
                NewDataset {
                    owner_id: actor.user_id,
                    symbol: symbol.to_string(),
                    replace,
                    content_hash: validated.content_hash.clone(),
                    load_options: options.key(),
                    rows: validated.rows as i64,
                    first_ts: validated.first_ts,
                    last_ts: validated.last_ts,
                    interval_ms: validated.interval_ms,
                },
                &validated.file.0,
            )
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(what) => ServiceError::Conflict(format!(
                    "{what} already exists; upload with replace=true to add a new version of it"
                )),
                other => other.into(),
            })?;
        tracing::info!(symbol, rows = validated.rows, version = row.version, "dataset stored");
        Ok(row)
    }

    /// The datasets `actor` sees, every version (without their content).
    ///
    /// # Errors
    /// Database failures.
    pub async fn datasets(&self, actor: Actor) -> Result<Vec<DatasetRow>, ServiceError> {
        Ok(self.inner.store.datasets(actor.owner_filter()).await?)
    }

    /// Dataset `id` (without its content), if `actor` sees it.
    ///
    /// # Errors
    /// NotFound or database failures.
    pub async fn dataset(&self, actor: Actor, id: i64) -> Result<DatasetRow, ServiceError> {
        match self.inner.store.dataset(id).await? {
            Some(row) if actor.sees(row.owner_id) => Ok(row),
            _ => Err(ServiceError::NotFound(format!("dataset {id}"))),
        }
    }

    /// Reads and drops an upload refused before it was read (at most
    /// `limit` bytes), so that the client, still sending, gets the answer.
    pub async fn discard_upload<S, E>(&self, body: S, limit: u64)
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    {
        dataset_upload::discard(body, limit).await;
    }

    /// The parsed bars of the latest version of `owner_id`'s dataset of
    /// `symbol`, from the cache when possible (with the f64 price columns
    /// earlier sweeps computed).
    pub(super) async fn bars(&self, owner_id: i64, symbol: &str) -> Result<(DatasetRow, SharedSeries), ServiceError> {
        let missing = || ServiceError::invalid("symbols", format!("no dataset for symbol '{symbol}'"));
        let store = &self.inner.store;
        let row = store.dataset_by_symbol(owner_id, symbol).await?.ok_or_else(missing)?;
        // The same bytes read with other options are other bars.
        let key = format!("{}:{}", row.content_hash, row.load_options);
        if let Some(bars) = self.inner.datasets.get(&key) {
            return Ok((row, bars));
        }
        // Only on a cache miss are the bars read (or, for a dataset kept
        // as CSV, parsed).
        let bars = if row.encoding == "csv" {
            let row = store.dataset_content(row.id).await?.ok_or_else(missing)?;
            let content = row.content.unwrap_or_default();
            let name = symbol.to_string();
            tokio::task::spawn_blocking(move || parse_csv(content.as_slice(), &name))
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?
                .map_err(|e| ServiceError::invalid("symbols", e.to_string()))?
        } else {
            self.stored_bars(&row).await?
        };
        let bars = SharedSeries::new(Arc::new(bars));
        self.inner.datasets.put(key, bars.clone());
        Ok((row, bars))
    }

    /// Reads a `bars` dataset's chunks in order and decodes them on a
    /// blocking thread as they come.
    async fn stored_bars(&self, row: &DatasetRow) -> Result<Vec<crate::domain::Bar>, ServiceError> {
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(2);
        let decode = tokio::task::spawn_blocking(move || {
            crate::data::bars_file::read_bars(dataset_upload::ChannelReader::new(rx))
        });
        let mut failure = None;
        for seq in 0.. {
            match self.inner.store.dataset_chunk(row.id, seq).await {
                Ok(Some(chunk)) => {
                    if tx.send(Ok(chunk.into())).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other("the database failed"))).await;
                    failure = Some(e);
                    break;
                }
            }
        }
        drop(tx);
        let decoded = decode.await.map_err(|e| ServiceError::Internal(e.to_string()));
        if let Some(e) = failure {
            return Err(e.into());
        }
        decoded?.map_err(|e| match e {
            // Stored by a version that kept wider prices: the dataset is
            // sound but this version cannot hold one of its prices.
            BarsFileError::TooManyDigits => ServiceError::invalid(
                "symbols",
                format!("dataset '{}' (id {}): {e}; upload it again to be told which row", row.symbol, row.id),
            ),
            e => {
                ServiceError::Store(crate::store::StoreError::Corrupt { what: "dataset_blocks", detail: e.to_string() })
            }
        })
    }
}

/// The upload's query field an option comes from.
fn option_field(option: &str) -> &'static str {
    match option {
        "--date-format" => "date_format",
        "--delimiter" => "delimiter",
        "--column" => "columns",
        _ => "options",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::synthetic::random_walk;
    use crate::domain::Timestamp;

    fn series(n: usize) -> SharedSeries {
        SharedSeries::new(Arc::new(random_walk(n, 1, Timestamp(0), 60_000)))
    }

    #[test]
    fn the_cache_holds_at_most_its_bytes_dropping_the_least_recent() {
        let per_bar = std::mem::size_of::<crate::domain::Bar>() + 32;
        let cache = DatasetCache::new(250 * per_bar);
        cache.put("a".into(), series(100));
        cache.put("b".into(), series(100));
        assert!(cache.get("a").is_some(), "a is now the most recent");
        cache.put("c".into(), series(100));
        assert!(cache.get("b").is_none(), "b, the least recent, made room");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        assert_eq!(cache.bytes(), 200 * per_bar);
        cache.put("huge".into(), series(300));
        assert!(cache.get("huge").is_none(), "a series over the whole capacity is not kept");
        assert_eq!(cache.bytes(), 200 * per_bar);
    }
}
