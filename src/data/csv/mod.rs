//! OHLCV CSV loading: streams records into [`Bar`]s and validates every row.
//!
//! The input needs a header line naming a time column (`Date`, `Datetime`,
//! `Timestamp` or `Time`) and `Open`, `High`, `Low`, `Close`, `Volume`
//! columns, matched case-insensitively after trimming, separated by commas,
//! or by semicolons or tabs when the header line has no comma; any other column (such
//! as Yahoo's `Adj Close`) is ignored, in any position. A UTF-8 byte-order mark
//! is tolerated, and so are CRLF line endings (but not CR-only ones). Cells are
//! trimmed of surrounding whitespace. Lines that are empty or only whitespace
//! carry no data and are passed over (still counted for line numbers); every
//! other row must be valid, or loading fails with a [`DataError`] naming the
//! input, line and column. Nothing is guessed, repaired or skipped.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ::csv::{ByteRecord, ReaderBuilder, Terminator};
use rust_decimal::Decimal;

use crate::domain::{Bar, Timestamp};

use super::error::DataError;
use super::timestamp::parse_timestamp;

/// Header names (lower case) accepted for the time column.
const TIME_NAMES: [&str; 4] = ["date", "datetime", "timestamp", "time"];

/// The required columns besides time: lower-case header name, canonical name, role.
const VALUE_COLUMNS: [(&str, &str, &str); 5] = [
    ("open", "Open", "open price"),
    ("high", "High", "high price"),
    ("low", "Low", "low price"),
    ("close", "Close", "close price"),
    ("volume", "Volume", "volume"),
];

/// Loads and validates an OHLCV CSV file (see the module docs for the layout).
///
/// Returns the bars in file order, which is strictly increasing time order.
/// The file is streamed: memory use is that of the bars returned.
///
/// # Errors
/// [`DataError::Io`] naming the path if the file cannot be opened or read, and
/// every error of [`parse_csv`], with the path as the input name.
pub fn load_csv_file(path: &Path) -> Result<Vec<Bar>, DataError> {
    let input = path.display().to_string();
    let file = File::open(path).map_err(|source| DataError::Io { input: input.clone(), source })?;
    // csv::Reader buffers its input itself.
    parse_csv(file, &input)
}

/// Parses and validates OHLCV CSV text from `reader`; `source` names the input
/// in error messages (a file path, an upload name).
///
/// Returns the bars in input order, which is strictly increasing time order.
///
/// # Errors
/// - [`DataError::EmptyFile`] when there is no header line, [`DataError::NoRows`]
///   when the header is not followed by rows;
/// - [`DataError::MissingColumns`], [`DataError::DuplicateColumn`] for a bad header;
/// - per row: [`DataError::FieldCount`], [`DataError::EmptyCell`],
///   [`DataError::InvalidUtf8`], [`DataError::InvalidNumber`],
///   [`DataError::NotFinite`], [`DataError::InvalidTimestamp`],
///   [`DataError::NonPositivePrice`], [`DataError::NegativeVolume`],
///   [`DataError::HighBelowLow`], [`DataError::HighBelowOpenClose`],
///   [`DataError::LowAboveOpenClose`], [`DataError::OutOfOrder`],
///   [`DataError::DuplicateTimestamp`];
/// - [`DataError::Io`] if reading fails, [`DataError::Csv`] for other reader failures.
pub fn parse_csv<R: Read>(reader: R, source: &str) -> Result<Vec<Bar>, DataError> {
    let (header, rest) = read_header_line(reader)
        .map_err(|source_err| DataError::Io { input: source.to_owned(), source: source_err })?;
    let delimiter = delimiter_of(&header);
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
    let layout = Layout::from_header(&record, header_line, source)?;

    let mut bars = Vec::new();
    let mut previous: Option<(Timestamp, u64)> = None;
    while let Some(line) = next_record(&mut reader, &mut record, source)? {
        let row = Row { input: source, line, record: &record };
        let bar = layout.bar(&row)?;
        if let Some((prev_ts, prev_line)) = previous {
            if bar.ts <= prev_ts {
                let (input, line, column) = row.place(&layout.time);
                return Err(if bar.ts == prev_ts {
                    DataError::DuplicateTimestamp { input, line, column, ts: bar.ts, prev_line, prev_ts }
                } else {
                    DataError::OutOfOrder { input, line, column, ts: bar.ts, prev_line, prev_ts }
                });
            }
        }
        previous = Some((bar.ts, row.line));
        bars.push(bar);
    }
    if bars.is_empty() {
        return Err(DataError::NoRows { input: source.to_owned() });
    }
    bars.shrink_to_fit();
    Ok(bars)
}

/// The most bytes read to find the header line's end.
const HEADER_PEEK: usize = 64 << 10;

/// The input's first line (with its `\n`, or up to [`HEADER_PEEK`] bytes),
/// and the rest of the input after it.
fn read_header_line<R: Read>(mut reader: R) -> std::io::Result<(Vec<u8>, R)> {
    let mut header = Vec::new();
    let mut chunk = [0u8; 1024];
    while header.len() < HEADER_PEEK && !header.contains(&b'\n') {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        header.extend_from_slice(&chunk[..n]);
    }
    Ok((header, reader))
}

/// The field separator of a file whose first line is `header`: `,` when the
/// header line has one outside quotes, else `;` or a tab when it has those
/// (files written with a European locale, or as TSV), else `,`.
fn delimiter_of(header: &[u8]) -> u8 {
    let line = header.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut quoted = false;
    let (mut commas, mut semicolons, mut tabs) = (0, 0, 0);
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            b'\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if commas > 0 {
        b','
    } else if semicolons >= tabs && semicolons > 0 {
        b';'
    } else if tabs > 0 {
        b'\t'
    } else {
        b','
    }
}

/// Reads the next non-blank record into `record`; returns the 1-based line
/// it starts on, or `None` at the end of the input.
///
/// Empty lines never reach us (the reader skips them); a line of only
/// whitespace (such as a lone `\r` in a CRLF file) is skipped here too.
fn next_record<R: Read>(
    reader: &mut ::csv::Reader<Tail<R>>,
    record: &mut ByteRecord,
    source: &str,
) -> Result<Option<u64>, DataError> {
    loop {
        let more = reader.read_byte_record(record).map_err(|err| {
            let message = err.to_string();
            match err.into_kind() {
                ::csv::ErrorKind::Io(source_err) => DataError::Io { input: source.to_owned(), source: source_err },
                _ => DataError::Csv { input: source.to_owned(), message },
            }
        })?;
        if !more {
            return Ok(None);
        }
        if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Ok(Some(first_line(reader, record)));
    }
}

/// The line a just-read record starts on.
///
/// The reader's own `ByteRecord::position` is taken before any skipped
/// blank lines, so it can be too low; instead count back from where the
/// record ended. The reader's line counter is 1 + the `\n`s consumed so far,
/// which includes the record's terminator unless the record ended at the end
/// of input, and every `\n` inside its quoted cells.
fn first_line<R: Read>(reader: &::csv::Reader<Tail<R>>, record: &ByteRecord) -> u64 {
    let end = reader.position();
    let tail = reader.get_ref();
    let ended_by_newline = end.byte() < tail.total || tail.last == Some(b'\n');
    let inner_newlines = record.as_slice().iter().filter(|&&b| b == b'\n').count();
    end.line().saturating_sub(u64::from(ended_by_newline) + inner_newlines as u64).max(1)
}

/// Passes the input through, remembering how many bytes came and the last
/// one, so [`first_line`] can tell whether a record ended at a newline or at
/// the end of the input.
struct Tail<R> {
    inner: R,
    total: u64,
    last: Option<u8>,
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.total += n as u64;
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

/// One used column: its index and its name as written in the header.
struct Column {
    index: usize,
    name: String,
}

/// Where the needed columns are.
struct Layout {
    fields: usize,
    time: Column,
    open: Column,
    high: Column,
    low: Column,
    close: Column,
    volume: Column,
}

impl Layout {
    fn from_header(record: &ByteRecord, line: u64, input: &str) -> Result<Layout, DataError> {
        let names: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                let name = String::from_utf8_lossy(raw);
                let name = if i == 0 { name.trim_start_matches('\u{feff}') } else { &name };
                name.trim().to_owned()
            })
            .collect();

        // slots[0] is the time column, slots[1..] follow VALUE_COLUMNS.
        let mut slots: [Option<usize>; 6] = [None; 6];
        for (index, name) in names.iter().enumerate() {
            let lower = name.to_ascii_lowercase();
            let slot = if TIME_NAMES.contains(&lower.as_str()) {
                0
            } else if let Some(k) = VALUE_COLUMNS.iter().position(|c| c.0 == lower) {
                k + 1
            } else {
                continue; // Adj Close and anything else unknown
            };
            if let Some(first) = slots[slot] {
                return Err(DataError::DuplicateColumn {
                    input: input.to_owned(),
                    line,
                    role: if slot == 0 { "time" } else { VALUE_COLUMNS[slot - 1].2 },
                    first: names[first].clone(),
                    second: name.clone(),
                });
            }
            slots[slot] = Some(index);
        }

        let mut missing = Vec::new();
        if slots[0].is_none() {
            missing.push("Date (or Datetime, Timestamp, Time)".to_owned());
        }
        for (k, column) in VALUE_COLUMNS.iter().enumerate() {
            if slots[k + 1].is_none() {
                missing.push(column.1.to_owned());
            }
        }
        if !missing.is_empty() {
            return Err(DataError::MissingColumns { input: input.to_owned(), line, missing, header: names });
        }
        let column = |slot: usize| {
            let index = slots[slot].unwrap_or_default();
            Column { index, name: names[index].clone() }
        };
        Ok(Layout {
            fields: names.len(),
            time: column(0),
            open: column(1),
            high: column(2),
            low: column(3),
            close: column(4),
            volume: column(5),
        })
    }

    /// Reads and validates one row.
    fn bar(&self, row: &Row<'_>) -> Result<Bar, DataError> {
        if row.record.len() != self.fields {
            return Err(DataError::FieldCount {
                input: row.input.to_owned(),
                line: row.line,
                expected: self.fields,
                found: row.record.len(),
            });
        }
        let ts = row.timestamp(&self.time)?;
        let open = row.price(&self.open, "open")?;
        let high = row.price(&self.high, "high")?;
        let low = row.price(&self.low, "low")?;
        let close = row.price(&self.close, "close")?;
        let volume = row.volume(&self.volume)?;

        if high < low {
            let (input, line, column) = row.place(&self.high);
            return Err(DataError::HighBelowLow { input, line, column, high, low });
        }
        let (other, value) = if open >= close { ("open", open) } else { ("close", close) };
        if high < value {
            let (input, line, column) = row.place(&self.high);
            return Err(DataError::HighBelowOpenClose { input, line, column, high, other, value });
        }
        let (other, value) = if open <= close { ("open", open) } else { ("close", close) };
        if low > value {
            let (input, line, column) = row.place(&self.low);
            return Err(DataError::LowAboveOpenClose { input, line, column, low, other, value });
        }
        Ok(Bar { ts, open, high, low, close, volume })
    }
}

/// One data row being read, with what its errors need.
struct Row<'a> {
    input: &'a str,
    line: u64,
    record: &'a ByteRecord,
}

impl Row<'_> {
    /// Input, line and column name for an error about `column`.
    fn place(&self, column: &Column) -> (String, u64, String) {
        (self.input.to_owned(), self.line, column.name.clone())
    }

    /// The trimmed, non-empty text of a cell.
    fn cell(&self, column: &Column) -> Result<&str, DataError> {
        let raw = self.record.get(column.index).unwrap_or_default();
        let text = std::str::from_utf8(raw).map_err(|_| {
            let (input, line, column) = self.place(column);
            DataError::InvalidUtf8 { input, line, column }
        })?;
        let text = text.trim();
        if text.is_empty() {
            let (input, line, column) = self.place(column);
            return Err(DataError::EmptyCell { input, line, column });
        }
        Ok(text)
    }

    fn timestamp(&self, column: &Column) -> Result<Timestamp, DataError> {
        let text = self.cell(column)?;
        parse_timestamp(text).map_err(|err| {
            let (input, line, column) = self.place(column);
            DataError::InvalidTimestamp { input, line, column, text: err.text, reason: err.reason }
        })
    }

    /// A price: an exact, finite, positive decimal.
    fn price(&self, column: &Column, field: &'static str) -> Result<Decimal, DataError> {
        let text = self.cell(column)?;
        let value = self.number(column, text, parse_decimal)?;
        if value <= Decimal::ZERO {
            let (input, line, column) = self.place(column);
            return Err(DataError::NonPositivePrice { input, line, column, field, value });
        }
        Ok(value)
    }

    /// A volume: a finite, non-negative `f64`.
    fn volume(&self, column: &Column) -> Result<f64, DataError> {
        let text = self.cell(column)?;
        let value = self.number(column, text, |t| t.parse::<f64>().map_err(|_| "not a decimal number"))?;
        if !value.is_finite() {
            let (input, line, column) = self.place(column);
            return Err(DataError::NotFinite { input, line, column, text: text.to_owned() });
        }
        if value < 0.0 {
            let (input, line, column) = self.place(column);
            return Err(DataError::NegativeVolume { input, line, column, value });
        }
        Ok(value + 0.0) // turns -0.0 into 0.0
    }

    /// Checks the number syntax shared by prices and volumes, then converts.
    fn number<T>(
        &self,
        column: &Column,
        text: &str,
        convert: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Result<T, DataError> {
        if is_non_finite(text) {
            let (input, line, column) = self.place(column);
            return Err(DataError::NotFinite { input, line, column, text: text.to_owned() });
        }
        let result = if is_number_syntax(text) { convert(text) } else { Err("not a decimal number") };
        result.map_err(|reason| {
            let (input, line, column) = self.place(column);
            DataError::InvalidNumber { input, line, column, text: text.to_owned(), reason }
        })
    }
}

/// `nan`, `inf`, `infinity` in any case, with an optional sign.
fn is_non_finite(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    ["nan", "inf", "infinity"].iter().any(|word| unsigned.eq_ignore_ascii_case(word))
}

/// `[+-]digits[.digits][(e|E)[+-]digits]`, where either side of the point may
/// be empty but not both.
fn is_number_syntax(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits_from = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits_from(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits_from(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits_from(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// An exact decimal from text already checked by [`is_number_syntax`].
fn parse_decimal(text: &str) -> Result<Decimal, &'static str> {
    const TOO_PRECISE: &str = "too many digits or too large for an exact decimal";
    match text.find(['e', 'E']) {
        None => Decimal::from_str_exact(text).map_err(|_| TOO_PRECISE),
        Some(at) => {
            // from_scientific rounds an over-long mantissa; refuse that first.
            Decimal::from_str_exact(&text[..at]).map_err(|_| TOO_PRECISE)?;
            Decimal::from_scientific(text).map_err(|_| "the exponent is out of range for a decimal")
        }
    }
}

#[cfg(test)]
mod tests;
