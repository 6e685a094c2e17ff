//! Market data: loads and validates OHLCV CSV files and assembles a run's [`Universe`].
//!
//! - [`load_csv_file`] / [`parse_csv`]: one validated series of [`Bar`](crate::domain::Bar)s;
//! - [`parse_timestamp`]: the accepted timestamp formats;
//! - [`DataSpec`]: the `[SYMBOL=]PATH` argument;
//! - [`Universe`]: the symbols of a run, their bars and the merged timeline;
//! - [`resample`] / [`Interval`]: aggregating bars into coarser, calendar-aligned intervals;
//! - [`DataWindow`]: a run's range and resampling, applied to its universe and benchmark;
//! - [`DataError`]: every failure, naming the input, line and column.

mod csv;
mod error;
mod resample;
mod spec;
pub mod synthetic;
mod timestamp;
mod universe;
mod window;

pub use self::csv::{load_csv_file, parse_csv};
pub use self::error::DataError;
pub use self::resample::{resample, Interval, ResampleError, INTERVAL_FORMS};
pub use self::spec::DataSpec;
pub use self::timestamp::{parse_timestamp, TimestampError, TIMESTAMP_FORMATS};
pub use self::universe::{parse_symbol, same_interval, usual_spacing, SharedSeries, Universe};
pub use self::window::{DataWindow, ReversedRange, WindowError};
