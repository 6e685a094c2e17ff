//! A run's market data: its datasets (parsed, from the cache when
//! possible) made into the universe and benchmark it trades, through its
//! data window, for the submit's check and for the run itself.

use super::request::CheckedRun;
use super::{RunRequest, Service, ServiceError};
use crate::data::{DataError, DataWindow, Universe, WindowError};
use crate::domain::Symbol;
use crate::engine::{Benchmark, DataSource};
use crate::store::DatasetRow;

/// The datasets a run reads, as its manifest names them.
#[derive(Clone, Debug, Default)]
pub(super) struct Sources {
    pub data: Vec<DataSource>,
    pub benchmark: Option<DataSource>,
}

fn dataset_source(row: &DatasetRow) -> DataSource {
    DataSource {
        symbol: row.symbol.clone(),
        source: format!("dataset {}", row.id),
        content_hash: row.content_hash.clone(),
        options: serde_json::from_str(&row.load_options).unwrap_or_default(),
    }
}

/// Why a run's market data could not be built.
pub(super) enum MarketDataError {
    /// A dataset is missing or unreadable.
    Service(ServiceError),
    /// The datasets do not make a universe.
    Universe(DataError),
    /// The data cannot be sliced or resampled as asked.
    Window(Box<WindowError>),
    /// The benchmark cannot be resampled as asked.
    Benchmark(DataError),
}

impl From<ServiceError> for MarketDataError {
    fn from(e: ServiceError) -> Self {
        MarketDataError::Service(e)
    }
}

impl MarketDataError {
    /// The request field at fault, for a submit: the range, the interval
    /// (when the run resamples, the spacing follows from it), or the symbols.
    pub(super) fn into_request_error(self, resampled: bool) -> ServiceError {
        let field = match &self {
            MarketDataError::Service(_) => "",
            MarketDataError::Window(e) if matches!(**e, WindowError::Range(_)) => "start",
            MarketDataError::Window(e) if matches!(**e, WindowError::Resample(_)) => "resample",
            MarketDataError::Benchmark(_) => "resample",
            _ if resampled => "resample",
            _ => "symbols",
        };
        match self {
            MarketDataError::Service(e) => e,
            other => ServiceError::invalid(field, other.to_string()),
        }
    }
}

impl std::fmt::Display for MarketDataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MarketDataError::Service(e) => e.fmt(f),
            MarketDataError::Universe(e) | MarketDataError::Benchmark(e) => e.fmt(f),
            MarketDataError::Window(e) => e.fmt(f),
        }
    }
}

/// The run's universe and its benchmark through the run's window.
fn build_market_data(
    series: Vec<(Symbol, crate::data::SharedSeries)>,
    benchmark: Option<(Symbol, crate::data::SharedSeries)>,
    window: DataWindow,
) -> Result<(Universe, Option<Benchmark>), MarketDataError> {
    let universe = Universe::from_shared(series).map_err(MarketDataError::Universe)?;
    let universe = window.apply(universe).map_err(|e| MarketDataError::Window(Box::new(e)))?;
    let benchmark = match benchmark {
        None => None,
        Some((symbol, series)) => {
            let bars = window.benchmark_bars(&symbol, series.bars()).map_err(MarketDataError::Benchmark)?;
            Some(Benchmark { symbol, bars })
        }
    };
    Ok((universe, benchmark))
}

impl Service {
    /// The run's universe (its owner's datasets of its symbols, sliced to
    /// its range, then resampled) and its
    /// benchmark, exactly as the run will trade them; submitting builds them
    /// too, so that data the run could not use is refused before anything
    /// is stored.
    pub(super) async fn market_data(
        &self,
        owner_id: i64,
        request: &RunRequest,
        checked: &CheckedRun,
    ) -> Result<(Universe, Option<Benchmark>, Sources), MarketDataError> {
        let mut series = Vec::with_capacity(request.symbols.len());
        let mut sources = Sources::default();
        for symbol in &request.symbols {
            let (row, bars) = self.bars(owner_id, symbol).await?;
            sources.data.push(dataset_source(&row));
            series.push((Symbol::new(symbol), bars));
        }
        let benchmark = match &request.benchmark {
            None => None,
            Some(symbol) => {
                let (row, bars) = self.bars(owner_id, symbol).await?;
                sources.benchmark = Some(dataset_source(&row));
                Some((Symbol::new(symbol), bars))
            }
        };
        // Merging, slicing and resampling take a while on big datasets: off
        // the async runtime, so that other requests go on meanwhile.
        let window = checked.spec.window;
        let built = tokio::task::spawn_blocking(move || build_market_data(series, benchmark, window))
            .await
            .map_err(|e| ServiceError::Internal(format!("building the run's data failed: {e}")))?;
        let (universe, benchmark) = built?;
        Ok((universe, benchmark, sources))
    }
}
