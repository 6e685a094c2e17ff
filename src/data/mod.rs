//! Market data: loads and validates OHLCV CSV and Parquet files and assembles a run's [`Universe`].
//!
//! - [`load_csv_file`] / [`parse_csv`]: one validated series of [`Bar`](crate::domain::Bar)s
//!   (a file may be CSV or Parquet, told by its content; [`parse_parquet_into`]);
//! - [`LoadOptions`]: how a file is read beyond the built-in rules (`--date-format`, `--column`, ...);
//! - [`Loader`]: loads files with options, parsing each once (a cache of [`bars_file`]s);
//! - [`parse_timestamp`]: the accepted timestamp formats;
//! - [`DataSpec`]: the `[SYMBOL=]PATH` argument;
//! - [`Universe`]: the symbols of a run, their bars and the merged timeline;
//! - [`resample`] / [`Interval`]: aggregating bars into coarser, calendar-aligned intervals;
//! - [`DataWindow`]: a run's range and resampling, applied to its universe and benchmark;
//! - [`DataError`]: every failure, naming the input, line and column.

mod background;
pub mod bars_file;
mod csv;
mod date_format;
mod error;
mod file;
mod file_hash;
mod loader;
mod options;
mod order;
mod parquet;
mod resample;
mod spec;
pub mod synthetic;
mod timestamp;
mod universe;
mod window;

pub use self::csv::{parse_csv, parse_csv_into, parse_csv_with};
pub use self::date_format::DateFormat;
pub use self::error::{DataError, Line};
pub use self::file::{load_csv_file, load_csv_file_with};
pub use self::file_hash::FileHash;
pub use self::loader::{CacheWrites, LoadedFile, LoadedHashes, Loader, CACHE_DIR_ENV};
pub use self::options::{parse_column, parse_delimiter, LoadOptions, OptionError, Role};
pub use self::order::BarSink;
pub use self::parquet::parse_parquet_into;
pub(crate) use self::parquet::{is_parquet, read_prefix};
pub use self::resample::{resample, Interval, ResampleError, INTERVAL_FORMS};
pub use self::spec::DataSpec;
pub use self::timestamp::{parse_timestamp, TimestampError, TIMESTAMP_FORMATS};
pub use self::universe::{parse_symbol, same_interval, usual_spacing, SharedSeries, Universe};
pub use self::window::{DataWindow, ReversedRange, WindowError};
