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
mod lines;
mod number;
mod one_pass;
mod parallel;
mod reader;

use std::io::Read;

use ::csv::{ByteRecord, ReaderBuilder, Terminator};

use crate::domain::Bar;

use super::error::{DataError, Line};
use super::options::LoadOptions;
use super::order::{BarSink, Ordering};
pub(crate) use layout::{Layout, Memo, Row};
pub(crate) use lines::Cells;
use lines::{split, LineReader};
use parallel::{workers, Ended};
use reader::{delimiter_of, next_record, read_header_line, Tail};

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
    parse_csv_on(reader, source, options, sink, workers())
}

/// [`parse_csv_into`], reading plain rows on `workers` threads.
fn parse_csv_on<R: Read, S: BarSink>(
    reader: R,
    source: &str,
    options: &LoadOptions,
    sink: &mut S,
    workers: usize,
) -> Result<u64, DataError> {
    options.check()?;
    let io_error = |source_err| DataError::Io { input: source.to_owned(), source: source_err };
    let mut lines = LineReader::new(reader);
    // The header: the first line that is not blank.
    let (header_line, delimiter, names) = loop {
        let Some((number, line)) = lines.next_line().map_err(io_error)? else {
            return Err(DataError::EmptyFile { input: source.to_owned() });
        };
        let unmarked = if number == 1 { line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line) } else { line };
        if unmarked.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let delimiter = delimiter_of(line, options);
        let mut ends = Vec::new();
        let Some(cells) = split(line, delimiter, &mut ends) else {
            // A quoted header: the general reader reads it all.
            let (rest, before) = lines.rest_from_last_line();
            return parse_general(rest, before, source, options, sink);
        };
        let names = header_names((0..cells.count()).map(|i| cells.cell(i)));
        break (number, delimiter, names);
    };
    let layout = Layout::from_header(names, Line::Text(header_line), source, options)?;
    let mut ordering = Ordering::new(source, &layout.time.name, options.sort, sink);
    let (rest, before) = match parallel::read_rows(&mut lines, &layout, delimiter, source, &mut ordering, workers)? {
        Ended::Done => return ordering.finish(),
        Ended::Quoted { rest, before } => (rest, before),
    };
    // A quoted cell from here on: the general reader takes the rest.
    let mut reader = general_reader(std::io::Cursor::new(rest).chain(lines.into_unread()), delimiter);
    read_general_rows(&mut reader, before, source, &layout, ordering)
}

/// Reads the remaining records of `reader` (`before` lines came before its
/// start) as rows of `layout` into `ordering`, and ends it.
fn read_general_rows<R: Read, S: BarSink>(
    reader: &mut ::csv::Reader<Tail<R>>,
    before: u64,
    source: &str,
    layout: &Layout,
    mut ordering: Ordering<'_, S>,
) -> Result<u64, DataError> {
    let mut record = ByteRecord::new();
    let memo = Memo::new(None);
    while let Some(line) = next_record(reader, &mut record, source)? {
        let line = Line::Text(line + before);
        let row = Row { input: source, line, cells: &record };
        ordering.push(layout.bar(&row, &memo)?, line)?;
    }
    ordering.finish()
}

/// Reads a whole file (header included) with the `csv` crate's reader;
/// `before` lines came before `input` starts.
fn parse_general<R: Read, S: BarSink>(
    input: R,
    before: u64,
    source: &str,
    options: &LoadOptions,
    sink: &mut S,
) -> Result<u64, DataError> {
    let (header, rest) =
        read_header_line(input).map_err(|source_err| DataError::Io { input: source.to_owned(), source: source_err })?;
    let delimiter = delimiter_of(&header, options);
    let mut reader = general_reader(std::io::Cursor::new(header).chain(rest), delimiter);
    let mut record = ByteRecord::new();
    let Some(header_line) = next_record(&mut reader, &mut record, source)? else {
        return Err(DataError::EmptyFile { input: source.to_owned() });
    };
    let names = header_names(record.iter());
    let layout = Layout::from_header(names, Line::Text(header_line + before), source, options)?;
    let ordering = Ordering::new(source, &layout.time.name, options.sort, sink);
    read_general_rows(&mut reader, before, source, &layout, ordering)
}

/// The `csv` crate's reader over `input`, records ended by `\n` only: a
/// `\r` before it stays in the last cell and is trimmed away like other
/// whitespace. (With the default CRLF terminator the reader's own line
/// numbers drift on CRLF files.)
fn general_reader<R: Read>(input: R, delimiter: u8) -> ::csv::Reader<Tail<R>> {
    ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .terminator(Terminator::Any(b'\n'))
        .from_reader(Tail { inner: input, total: 0, last: None })
}

/// The header's names, trimmed, without a byte-order mark.
fn header_names<'a>(cells: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    cells
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
