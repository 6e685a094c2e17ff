//! Loading a data file from its path: CSV or Parquet, told apart by the
//! file's first bytes (Parquet's `PAR1`), never by its name.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

use super::csv::parse_csv_with;
use super::error::DataError;
use super::options::LoadOptions;
use super::parquet::{is_parquet, parse_parquet_into, read_prefix};
use crate::domain::Bar;

/// Loads and validates an OHLCV CSV or Parquet file with the loader's own
/// rules (see [`parse_csv_with`] and [`parse_parquet_into`]);
/// [`load_csv_file_with`] takes options.
///
/// Returns the bars in strictly increasing time order.
///
/// # Errors
/// As [`load_csv_file_with`].
pub fn load_csv_file(path: &Path) -> Result<Vec<Bar>, DataError> {
    load_csv_file_with(path, &LoadOptions::default())
}

/// Loads and validates an OHLCV CSV or Parquet file read as `options` say.
///
/// Returns the bars in strictly increasing time order. A CSV file is
/// streamed; a Parquet file is read a batch of rows at a time. Memory use
/// is about that of the bars returned.
///
/// # Errors
/// [`DataError::Io`] naming the path if the file cannot be opened or read,
/// and every error of [`parse_csv_with`] or [`parse_parquet_into`], with the
/// path as the input name.
pub fn load_csv_file_with(path: &Path, options: &LoadOptions) -> Result<Vec<Bar>, DataError> {
    let input = path.display().to_string();
    let io_error = |source| DataError::Io { input: input.clone(), source };
    let mut file = File::open(path).map_err(io_error)?;
    let prefix = read_prefix(&mut file).map_err(io_error)?;
    if is_parquet(&prefix) {
        let mut bars = Vec::new();
        parse_parquet_into(file, &input, options, &mut bars)?;
        return Ok(bars);
    }
    // csv::Reader buffers its input itself.
    parse_csv_with(Cursor::new(prefix).chain(file), &input, options)
}
