//! Dataset uploads and the in-memory cache of parsed bars.

use std::sync::{Arc, Mutex};

use super::{Service, ServiceError};
use crate::data::{parse_csv, parse_symbol, SharedSeries, Universe};
use crate::domain::Symbol;
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
    /// Validates and stores an uploaded CSV for `symbol`.
    ///
    /// # Errors
    /// An invalid symbol, a CSV the loader refuses (its message names line
    /// and column), or a symbol that already has a dataset.
    pub async fn create_dataset(&self, symbol: &str, content: Vec<u8>) -> Result<DatasetRow, ServiceError> {
        let name = parse_symbol(symbol).map_err(|e| ServiceError::invalid("symbol", e.to_string()))?;
        let (bars, content) = tokio::task::spawn_blocking(move || {
            let bars = parse_csv(content.as_slice(), &format!("upload for {}", name.as_str()));
            (bars, content)
        })
        .await
        .map_err(|e| ServiceError::invalid("body", e.to_string()))?;
        let bars = bars.map_err(|e| ServiceError::invalid("body", e.to_string()))?;
        let shared = SharedSeries::new(Arc::new(bars));
        let universe = Universe::from_shared(vec![(Symbol::new(symbol), shared.clone())])
            .map_err(|e| ServiceError::invalid("body", e.to_string()))?;
        let bars = shared.bars();
        let (first, last) = (bars[0].ts, bars[bars.len() - 1].ts);
        let hash = crate::domain::content_hash(&content);
        let row = self
            .inner
            .store
            .create_dataset(NewDataset {
                symbol: symbol.to_string(),
                content,
                content_hash: hash.clone(),
                rows: bars.len() as i64,
                first_ts: first.millis(),
                last_ts: last.millis(),
                interval_ms: universe.interval_hint(),
            })
            .await?;
        self.inner.datasets.put(hash, shared);
        Ok(row)
    }

    /// Every dataset (without its content).
    ///
    /// # Errors
    /// Database failures.
    pub async fn datasets(&self) -> Result<Vec<DatasetRow>, ServiceError> {
        Ok(self.inner.store.datasets().await?)
    }

    /// Dataset `id` (without its content).
    ///
    /// # Errors
    /// NotFound or database failures.
    pub async fn dataset(&self, id: i64) -> Result<DatasetRow, ServiceError> {
        self.inner.store.dataset(id).await?.ok_or_else(|| ServiceError::NotFound(format!("dataset {id}")))
    }

    /// The parsed bars of `symbol`'s dataset, from the cache when possible
    /// (with the f64 prices earlier runs computed).
    pub(super) async fn bars(&self, symbol: &str) -> Result<(DatasetRow, SharedSeries), ServiceError> {
        let missing = || ServiceError::invalid("symbols", format!("no dataset for symbol '{symbol}'"));
        let store = &self.inner.store;
        let row = store.dataset_by_symbol(symbol).await?.ok_or_else(missing)?;
        if let Some(bars) = self.inner.datasets.get(&row.content_hash) {
            return Ok((row, bars));
        }
        // Only on a cache miss is the content read and parsed.
        let row = store.dataset_content(symbol).await?.ok_or_else(missing)?;
        let content = row.content.clone().unwrap_or_default();
        let name = symbol.to_string();
        let bars = tokio::task::spawn_blocking(move || parse_csv(content.as_slice(), &name))
            .await
            .map_err(|e| ServiceError::invalid("symbols", e.to_string()))?
            .map_err(|e| ServiceError::invalid("symbols", e.to_string()))?;
        let bars = SharedSeries::new(Arc::new(bars));
        self.inner.datasets.put(row.content_hash.clone(), bars.clone());
        Ok((row, bars))
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
