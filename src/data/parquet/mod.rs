//! Parquet data files (what pandas' `to_parquet()` and polars write), read
//! by the CSV loader's rules.
//!
//! The schema's column names are the header: the columns are found by the
//! same names and `--column` options (an index column is just another
//! column, such as pandas' `Date` or `__index_level_0__`). Each used cell is
//! written as text ([`text`]) into a reused buffer and read by the CSV
//! loader's own row reader, so that validation and errors are the same,
//! naming `row N` (the 1-based data row) for `line N` and `schema` for the
//! header line. A null is an empty cell. `--date-format` applies to a time
//! column of text only; `--delimiter` means nothing here and is refused.

mod cells;
mod text;

use std::fs::File;
use std::io::{self, Read};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use super::csv::{Layout, Memo, Row};
use super::error::{DataError, Line};
use super::options::{LoadOptions, OptionError};
use super::order::{BarSink, Ordering};
use cells::{is_text, readable, RowCells};

/// The first four bytes of every Parquet file.
const MAGIC: &[u8; 4] = b"PAR1";

/// Rows per record batch: large enough to amortize the decoding, small
/// enough that a batch of a few columns stays in cache.
const BATCH_ROWS: usize = 8192;

/// Reads the first bytes of `reader` (up to four; fewer only at its end),
/// to tell a Parquet file ([`is_parquet`]) from text.
///
/// # Errors
/// Reading fails.
pub(crate) fn read_prefix<R: Read>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(MAGIC.len());
    reader.take(MAGIC.len() as u64).read_to_end(&mut prefix)?;
    Ok(prefix)
}

/// Whether a file starting with `prefix` is Parquet: by its content, not its name.
pub(crate) fn is_parquet(prefix: &[u8]) -> bool {
    prefix == MAGIC
}

/// Reads and validates the bars of the Parquet `file` as `options` say,
/// passing them to `sink` in time order (with `options.sort`, held until
/// the end and sorted); `source` names the file in errors.
///
/// Returns the number of bars.
///
/// # Errors
/// - [`DataError::Option`] for an option that cannot be used, such as any
///   `--delimiter`;
/// - [`DataError::Parquet`] when the file cannot be read as Parquet;
/// - [`DataError::MissingColumns`], [`DataError::DuplicateColumn`],
///   [`DataError::MappedColumnMissing`] naming the schema, and
///   [`DataError::ColumnType`] for a used column of another type;
/// - per row, naming `row N`: the row errors of
///   [`parse_csv_with`](super::parse_csv_with), such as
///   [`DataError::EmptyCell`] for a null;
/// - [`DataError::NoRows`], [`DataError::OutOfOrder`],
///   [`DataError::DuplicateTimestamp`], and the sink's own.
pub fn parse_parquet_into<S: BarSink>(
    file: File,
    source: &str,
    options: &LoadOptions,
    sink: &mut S,
) -> Result<u64, DataError> {
    options.check()?;
    if let Some(delimiter) = options.delimiter {
        return Err(DataError::Option(OptionError {
            option: "--delimiter",
            value: delimiter.to_string(),
            reason: "a Parquet file has no delimiter; leave the option out".to_owned(),
        }));
    }
    let malformed = |message: String| DataError::Parquet { input: source.to_owned(), message };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| malformed(e.to_string()))?;
    let schema = builder.schema().clone();
    let names = schema.fields().iter().map(|field| field.name().trim().to_owned()).collect();
    let mut layout = Layout::from_header(names, Line::Schema, source, options)?;
    let used = layout.used();
    for &index in &used {
        let field = schema.field(index);
        if !readable(field.data_type()) {
            return Err(DataError::ColumnType {
                input: source.to_owned(),
                column: field.name().clone(),
                found: field.data_type().to_string(),
            });
        }
    }
    if !is_text(schema.field(layout.time.index).data_type()) {
        layout = layout.without_date_format();
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), used.iter().copied());
    let reader =
        builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(|e| malformed(e.to_string()))?;

    let mut ordering = Ordering::new(source, &layout.time.name, options.sort, sink);
    let memo = Memo::new(None);
    let mut cells = RowCells::new(layout.fields, used);
    let mut number = 0;
    for batch in reader {
        let batch = batch.map_err(|e| malformed(e.to_string()))?;
        for index in 0..batch.num_rows() {
            number += 1;
            cells.fill(batch.columns(), index);
            let line = Line::Row(number);
            let row = Row { input: source, line, cells: &cells };
            ordering.push(layout.bar(&row, &memo)?, line)?;
        }
    }
    ordering.finish()
}

#[cfg(test)]
mod tests;
