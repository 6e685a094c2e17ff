//! OHLCV CSV loading: streams records into [`Bar`]s and validates every row.
//!
//! The input needs a header line naming a time column (`Date`, `Datetime`,
//! `Timestamp` or `Time`, or an unnamed first column as pandas writes an
//! unnamed index) and `Open`, `High`, `Low`, `Close` columns, and may have a
//! `Volume` column (without one, each bar's volume is `NaN`: not known).
//! Names are matched case-insensitively after trimming; `--column ROLE=NAME`
//! ([`LoadOptions::columns`]) takes a role from another column. Fields are
//! separated by commas, or by semicolons or tabs when the header line has no
//! comma, or by [`LoadOptions::delimiter`]. Any other column (such as
//! Yahoo's `Adj Close`) is ignored, in any position. A UTF-8 byte-order mark
//! is tolerated, and so are CRLF line endings (but not CR-only ones). Cells are
//! trimmed of surrounding whitespace. Lines that are empty or only whitespace
//! carry no data and are passed over (still counted for line numbers); every
//! other row must be valid, or loading fails with a [`DataError`] naming the
//! input, line and column. Rows must be in increasing time order unless
//! [`LoadOptions::sort`] asks for them to be sorted. Nothing is guessed,
//! repaired or skipped.

mod layout;
mod number;
mod reader;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ::csv::{ByteRecord, ReaderBuilder, Terminator};

use crate::domain::Bar;

use super::error::{DataError, Line};
use super::options::LoadOptions;
use super::order::{BarSink, Ordering};
pub(crate) use layout::{Layout, Row};
use reader::{delimiter_of, next_record, read_header_line, Tail};

/// Loads and validates an OHLCV CSV file with the loader's own rules (see
/// the module docs for the layout); [`load_csv_file_with`] takes options.
///
/// Returns the bars in strictly increasing time order.
///
/// # Errors
/// As [`load_csv_file_with`].
pub fn load_csv_file(path: &Path) -> Result<Vec<Bar>, DataError> {
    load_csv_file_with(path, &LoadOptions::default())
}

/// Loads and validates an OHLCV CSV file read as `options` say.
///
/// Returns the bars in strictly increasing time order. The file is
/// streamed: memory use is that of the bars returned.
///
/// # Errors
/// [`DataError::Io`] naming the path if the file cannot be opened or read, and
/// every error of [`parse_csv_with`], with the path as the input name.
pub fn load_csv_file_with(path: &Path, options: &LoadOptions) -> Result<Vec<Bar>, DataError> {
    let input = path.display().to_string();
    let file = File::open(path).map_err(|source| DataError::Io { input: input.clone(), source })?;
    // csv::Reader buffers its input itself.
    parse_csv_with(file, &input, options)
}

/// Parses and validates OHLCV CSV text with the loader's own rules; see
/// [`parse_csv_with`].
///
/// # Errors
/// As [`parse_csv_with`].
pub fn parse_csv<R: Read>(reader: R, source: &str) -> Result<Vec<Bar>, DataError> {
    parse_csv_with(reader, source, &LoadOptions::default())
}

/// Parses and validates OHLCV CSV text from `reader`, read as `options`
/// say; `source` names the input in error messages (a file path, an upload
/// name).
///
/// Returns the bars in strictly increasing time order.
///
/// # Errors
/// - [`DataError::Option`] for an option that cannot be used;
/// - [`DataError::EmptyFile`] when there is no header line, [`DataError::NoRows`]
///   when the header is not followed by rows;
/// - [`DataError::MissingColumns`], [`DataError::DuplicateColumn`],
///   [`DataError::MappedColumnMissing`] for a bad header;
/// - per row: [`DataError::FieldCount`], [`DataError::EmptyCell`],
///   [`DataError::InvalidUtf8`], [`DataError::InvalidNumber`],
///   [`DataError::NotFinite`], [`DataError::InvalidTimestamp`],
///   [`DataError::DateFormatMismatch`],
///   [`DataError::NonPositivePrice`], [`DataError::NegativeVolume`],
///   [`DataError::HighBelowLow`], [`DataError::HighBelowOpenClose`],
///   [`DataError::LowAboveOpenClose`], [`DataError::OutOfOrder`],
///   [`DataError::DuplicateTimestamp`];
/// - [`DataError::Io`] if reading fails, [`DataError::Csv`] for other reader failures.
pub fn parse_csv_with<R: Read>(reader: R, source: &str, options: &LoadOptions) -> Result<Vec<Bar>, DataError> {
    let mut bars = Vec::new();
    parse_csv_into(reader, source, options, &mut bars)?;
    bars.shrink_to_fit();
    Ok(bars)
}

/// Like [`parse_csv_with`], passing the bars to `sink` in time order as
/// they are validated instead of collecting them (with `options.sort`,
/// they are held until the end, sorted, then passed on).
///
/// Returns the number of bars.
///
/// # Errors
/// As [`parse_csv_with`], and the sink's own.
pub fn parse_csv_into<R: Read, S: BarSink>(
    reader: R,
    source: &str,
    options: &LoadOptions,
    sink: &mut S,
) -> Result<u64, DataError> {
    options.check()?;
    let (header, rest) = read_header_line(reader)
        .map_err(|source_err| DataError::Io { input: source.to_owned(), source: source_err })?;
    let delimiter = match options.delimiter {
        Some(d) => d as u8, // checked ASCII
        None => delimiter_of(&header),
    };
    // Only `\n` ends a record: a `\r` before it stays in the last cell and
    // is trimmed away like other whitespace. (With the default CRLF
    // terminator the reader's own line numbers drift on CRLF files.)
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .terminator(Terminator::Any(b'\n'))
        .from_reader(Tail { inner: std::io::Cursor::new(header).chain(rest), total: 0, last: None });
    let mut record = ByteRecord::new();
    let Some(header_line) = next_record(&mut reader, &mut record, source)? else {
        return Err(DataError::EmptyFile { input: source.to_owned() });
    };
    let layout = Layout::from_header(header_names(&record), Line::Text(header_line), source, options)?;

    let mut ordering = Ordering::new(source, &layout.time.name, options.sort, sink);
    while let Some(line) = next_record(&mut reader, &mut record, source)? {
        let line = Line::Text(line);
        let row = Row { input: source, line, record: &record };
        ordering.push(layout.bar(&row)?, line)?;
    }
    ordering.finish()
}

/// The header's names, trimmed, without a byte-order mark.
fn header_names(record: &ByteRecord) -> Vec<String> {
    record
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let name = String::from_utf8_lossy(raw);
            let name = if i == 0 { name.trim_start_matches('\u{feff}') } else { &name };
            name.trim().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests;
