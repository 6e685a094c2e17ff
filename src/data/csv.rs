//! OHLCV CSV loading: streams records into [`Bar`]s and validates every row.
//!
//! The input needs a header line naming a time column (`Date`, `Datetime`,
//! `Timestamp` or `Time`) and `Open`, `High`, `Low`, `Close`, `Volume`
//! columns, matched case-insensitively after trimming; any other column (such
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
    // Only `\n` ends a record: a `\r` before it stays in the last cell and
    // is trimmed away like other whitespace. (With the default CRLF
    // terminator the reader's own line numbers drift on CRLF files.)
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(Terminator::Any(b'\n'))
        .from_reader(Tail { inner: reader, total: 0, last: None });
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
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const HEADER: &str = "Date,Open,High,Low,Close,Volume\n";

    fn parse(text: &str) -> Result<Vec<Bar>, DataError> {
        parse_csv(text.as_bytes(), "t.csv")
    }

    fn ok(text: &str) -> Vec<Bar> {
        match parse(text) {
            Ok(bars) => bars,
            Err(e) => panic!("should parse: {e}\n{text}"),
        }
    }

    fn ts(text: &str) -> Timestamp {
        parse_timestamp(text).unwrap()
    }

    type Check = fn(&DataError) -> bool;

    #[test]
    fn bad_inputs_give_their_own_variant_with_line_and_column() {
        let row = |r: &str| format!("{HEADER}2020-01-01,1,2,0.5,1.5,10\n{r}\n");
        let cases: Vec<(String, Check, Vec<&str>)> = vec![
            (
                "Date,Open,High,Close\n2020-01-01,1,1,1\n".into(),
                |e| matches!(e, DataError::MissingColumns { .. }),
                vec!["t.csv: line 1:", "missing required column(s) Low, Volume", "header found: Date,Open,High,Close"],
            ),
            (
                ",Open,High,Low,Close,Volume\n2020-01-01,1,1,1,1,1\n".into(),
                |e| matches!(e, DataError::MissingColumns { .. }),
                vec!["line 1", "Date (or Datetime, Timestamp, Time)", "header found: ,Open"],
            ),
            (
                "Date,Open,High,Low,Close,Timestamp,Volume\n".into(),
                |e| matches!(e, DataError::DuplicateColumn { role: "time", .. }),
                vec!["line 1", "columns Date and Timestamp both give the time"],
            ),
            (
                "Date,Open,High,Low,Close,close ,Volume\n".into(),
                |e| matches!(e, DataError::DuplicateColumn { role: "close price", .. }),
                vec!["line 1", "columns Close and close both"],
            ),
            (
                row("2020-01-02,1,2,0.5,1"),
                |e| matches!(e, DataError::FieldCount { expected: 6, found: 5, .. }),
                vec!["t.csv: line 3:", "expected 6 fields", "found 5"],
            ),
            (
                row("2020-01-02,1,2,0.5,1,10,"),
                |e| matches!(e, DataError::FieldCount { expected: 6, found: 7, .. }),
                vec!["line 3", "found 7"],
            ),
            (
                row("2020-01-02,1,,0.5,1,10"),
                |e| matches!(e, DataError::EmptyCell { .. }),
                vec!["t.csv: line 3, column High: empty cell"],
            ),
            (
                row("  ,1,2,0.5,1,10"),
                |e| matches!(e, DataError::EmptyCell { .. }),
                vec!["line 3, column Date: empty cell"],
            ),
            (
                row("2020-01-02,1,2,abc,1,10"),
                |e| matches!(e, DataError::InvalidNumber { .. }),
                vec!["line 3, column Low: cannot read number \"abc\"", "not a decimal number"],
            ),
            (
                row("2020-01-02,1,2,0.5,\"1,5\",10"),
                |e| matches!(e, DataError::InvalidNumber { .. }),
                vec!["line 3, column Close", "\"1,5\""],
            ),
            (
                row("2020-01-02,1_000,2,0.5,1,10"),
                |e| matches!(e, DataError::InvalidNumber { .. }),
                vec!["line 3, column Open", "\"1_000\""],
            ),
            (
                row("2020-01-02,1,2,0.5,1,ten"),
                |e| matches!(e, DataError::InvalidNumber { .. }),
                vec!["line 3, column Volume", "\"ten\""],
            ),
            (
                row("2020-01-02,1.000000000000000000000000000001,2,0.5,1,10"),
                |e| matches!(e, DataError::InvalidNumber { .. }),
                vec!["line 3, column Open", "too many digits"],
            ),
            (
                row("2020-01-02,1e-40,2,0.5,1,10"),
                |e| matches!(e, DataError::InvalidNumber { .. }),
                vec!["line 3, column Open", "exponent is out of range"],
            ),
            (
                row("2020-01-02,NaN,2,0.5,1,10"),
                |e| matches!(e, DataError::NotFinite { .. }),
                vec!["line 3, column Open: \"NaN\" is not a finite number"],
            ),
            (
                row("2020-01-02,1,inf,0.5,1,10"),
                |e| matches!(e, DataError::NotFinite { .. }),
                vec!["line 3, column High: \"inf\""],
            ),
            (
                row("2020-01-02,1,2,-inf,1,10"),
                |e| matches!(e, DataError::NotFinite { .. }),
                vec!["line 3, column Low: \"-inf\""],
            ),
            (
                row("2020-01-02,1,2,0.5,Infinity,10"),
                |e| matches!(e, DataError::NotFinite { .. }),
                vec!["line 3, column Close: \"Infinity\""],
            ),
            (
                row("2020-01-02,1,2,0.5,1,nan"),
                |e| matches!(e, DataError::NotFinite { .. }),
                vec!["line 3, column Volume: \"nan\""],
            ),
            (
                row("2020-01-02,1,2,0.5,1,1e999"),
                |e| matches!(e, DataError::NotFinite { .. }),
                vec!["line 3, column Volume: \"1e999\""],
            ),
            (
                row("2020-13-01,1,2,0.5,1,10"),
                |e| matches!(e, DataError::InvalidTimestamp { .. }),
                vec![
                    "line 3, column Date: cannot read timestamp \"2020-13-01\"",
                    "no such date",
                    "accepted: YYYY-MM-DD",
                ],
            ),
            (
                row("01/02/2020,1,2,0.5,1,10"),
                |e| matches!(e, DataError::InvalidTimestamp { .. }),
                vec!["line 3, column Date", "\"01/02/2020\"", "not a recognized format"],
            ),
            (
                row("2020-01-02,0,2,0.5,1,10"),
                |e| matches!(e, DataError::NonPositivePrice { field: "open", .. }),
                vec!["line 3, column Open: open 0 is not positive"],
            ),
            (
                row("2020-01-02,1,2,-0.5,1,10"),
                |e| matches!(e, DataError::NonPositivePrice { field: "low", .. }),
                vec!["line 3, column Low: low -0.5 is not positive"],
            ),
            (
                row("2020-01-02,1,2,0.5,1,-3"),
                |e| matches!(e, DataError::NegativeVolume { .. }),
                vec!["line 3, column Volume: volume -3 is negative"],
            ),
            (
                row("2020-01-02,1,0.9,1.1,1,10"),
                |e| matches!(e, DataError::HighBelowLow { .. }),
                vec!["line 3, column High: high 0.9 is below low 1.1"],
            ),
            (
                row("2020-01-02,1,1.5,0.5,2,10"),
                |e| matches!(e, DataError::HighBelowOpenClose { other: "close", .. }),
                vec!["line 3, column High: high 1.5 is below close 2"],
            ),
            (
                row("2020-01-02,3,2.5,0.5,2,10"),
                |e| matches!(e, DataError::HighBelowOpenClose { other: "open", .. }),
                vec!["line 3, column High: high 2.5 is below open 3"],
            ),
            (
                row("2020-01-02,1,2,1.5,1.8,10"),
                |e| matches!(e, DataError::LowAboveOpenClose { other: "open", .. }),
                vec!["line 3, column Low: low 1.5 is above open 1"],
            ),
            (
                row("2020-01-02,1.8,2,1.5,1.2,10"),
                |e| matches!(e, DataError::LowAboveOpenClose { other: "close", .. }),
                vec!["line 3, column Low: low 1.5 is above close 1.2"],
            ),
            (
                row("2019-12-31,1,2,0.5,1,10"),
                |e| matches!(e, DataError::OutOfOrder { prev_line: 2, .. }),
                vec!["line 3, column Date: timestamp 2019-12-31 is out of order", "earlier than 2020-01-01 on line 2"],
            ),
            (
                row("2020-01-01,1,2,0.5,1,10"),
                |e| matches!(e, DataError::DuplicateTimestamp { prev_line: 2, .. }),
                vec!["line 3, column Date: duplicate timestamp 2020-01-01", "line 2 has the same timestamp 2020-01-01"],
            ),
            (String::new(), |e| matches!(e, DataError::EmptyFile { .. }), vec!["t.csv: the file is empty"]),
            ("\u{feff}".into(), |e| matches!(e, DataError::EmptyFile { .. }), vec!["t.csv: the file is empty"]),
            (
                HEADER.into(),
                |e| matches!(e, DataError::NoRows { .. }),
                vec!["t.csv: the header is not followed by any data rows"],
            ),
            (format!("{HEADER}\n\n"), |e| matches!(e, DataError::NoRows { .. }), vec!["not followed by any data rows"]),
        ];
        for (text, check, needles) in cases {
            let err = parse(&text).expect_err(&text);
            assert!(check(&err), "wrong variant {err:?} for\n{text}");
            let msg = err.to_string();
            for needle in needles {
                assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
            }
        }
    }

    #[test]
    fn example_message_reads_as_documented() {
        let text = format!("{HEADER}2020-01-01,101,101.5,102.0,101.2,5\n");
        let err = parse_csv(text.as_bytes(), "data/GOOG.csv").unwrap_err();
        assert_eq!(err.to_string(), "data/GOOG.csv: line 2, column High: high 101.5 is below low 102.0");
    }

    #[test]
    fn line_numbers_count_blank_lines_crlf_and_multiline_cells() {
        let good = "2020-01-01,1,2,0.5,1,10";
        let bad = "2020-01-02,1,2,0.5,1,-1";
        // (text, line of the bad row)
        let cases: Vec<(String, u64)> = vec![
            (format!("{HEADER}{good}\n{bad}\n"), 3),
            (format!("{HEADER}{good}\n{bad}"), 3),
            (format!("{HEADER}{good}\n\n{bad}\n"), 4),
            (format!("{HEADER}{good}\n\n\n{bad}"), 5),
            (format!("\n\n{HEADER}{good}\n{bad}\n"), 5),
            (format!("{HEADER}\n{good}\n  \n{bad}\n\n"), 5),
            (format!("{}\r\n{good}\r\n{bad}\r\n", HEADER.trim_end()), 3),
            (format!("{}\r\n\r\n{good}\r\n\r\n{bad}", HEADER.trim_end()), 5),
            (
                format!(
                    "Date,Note,Open,High,Low,Close,Volume\n2020-01-01,\"two\nlines\",1,2,0.5,1,10\n\n{}\n",
                    bad.replacen(',', ",,", 1)
                ),
                5,
            ),
            (
                format!(
                    "Date,Note,Open,High,Low,Close,Volume\r\n2020-01-01,\"two\r\nlines\",1,2,0.5,1,10\r\n{}",
                    bad.replacen(',', ",\"x\n\ny\",", 1)
                ),
                4,
            ),
        ];
        for (text, line) in cases {
            let err = parse(&text).unwrap_err();
            assert!(matches!(&err, DataError::NegativeVolume { line: l, .. } if *l == line), "{err} in {text:?}");
            assert!(err.to_string().contains(&format!("line {line}, column Volume")), "{err}");
        }
        // The header line is counted the same way.
        let err = parse("\n\r\nDate,Open\n").unwrap_err();
        assert!(err.to_string().starts_with("t.csv: line 3: missing required column(s)"), "{err}");
    }

    #[test]
    fn invalid_utf8_in_a_used_cell_is_reported_but_ignored_columns_may_hold_anything() {
        let mut bytes = b"Date,Open,High,Low,Close,Volume,Note\n2020-01-01,1,2,0.5,1,10,\xff\xfe\n".to_vec();
        assert_eq!(parse_csv(&bytes[..], "u.csv").unwrap().len(), 1);
        bytes.extend_from_slice(b"2020-01-02,1,2,0.5,\xff,10,x\n");
        let err = parse_csv(&bytes[..], "u.csv").unwrap_err();
        assert!(matches!(err, DataError::InvalidUtf8 { .. }), "{err:?}");
        assert!(err.to_string().contains("u.csv: line 3, column Close"), "{err}");
    }

    #[test]
    fn io_errors_name_the_path_or_input() {
        let err = load_csv_file(Path::new("/nonexistent/dir/GOOG.csv")).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err:?}");
        assert!(err.to_string().starts_with("/nonexistent/dir/GOOG.csv: cannot read"), "{err}");

        struct Failing(bool);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    return Err(std::io::Error::other("disk on fire"));
                }
                let text = HEADER.as_bytes();
                buf[..text.len()].copy_from_slice(text);
                Ok(text.len())
            }
        }
        let err = parse_csv(Failing(false), "upload.csv").unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err:?}");
        assert_eq!(err.to_string(), "upload.csv: cannot read: disk on fire");
    }

    #[test]
    fn loads_a_file_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, format!("{HEADER}2020-01-01,1,2,0.5,1.5,10\n")).unwrap();
        let bars = load_csv_file(&path).unwrap();
        assert_eq!(bars.len(), 1);
        assert_eq!(bars[0].close, dec!(1.5));
    }

    #[test]
    fn every_timestamp_format_loads() {
        let cases: &[(&str, [&str; 2], [&str; 2])] = &[
            ("Date", ["2020-01-01", "2020-01-02"], ["2020-01-01", "2020-01-02"]),
            (
                "Datetime",
                ["2017-04-19 09:00:00", "2017-04-19 10:00:00"],
                ["2017-04-19 09:00:00", "2017-04-19 10:00:00"],
            ),
            (
                "Datetime",
                ["2017-04-19T09:00:00.125", "2017-04-19T09:00:00.5"],
                ["2017-04-19 09:00:00.125", "2017-04-19 09:00:00.500"],
            ),
            (
                "Time",
                ["2017-04-19T11:00:00+02:00", "2017-04-19T10:00:00Z"],
                ["2017-04-19 09:00:00", "2017-04-19 10:00:00"],
            ),
            // Epoch seconds.
            ("Timestamp", ["1492592400", "1492596000"], ["2017-04-19 09:00:00", "2017-04-19 10:00:00"]),
            // Epoch milliseconds.
            ("Timestamp", ["1492592400000", "1492596000000"], ["2017-04-19 09:00:00", "2017-04-19 10:00:00"]),
        ];
        for (column, cells, expected) in cases {
            let text = format!(
                "{column},Open,High,Low,Close,Volume\n{},1,2,0.5,1.5,10\n{},1,2,0.5,1.5,10\n",
                cells[0], cells[1]
            );
            let bars = ok(&text);
            let got: Vec<String> = bars.iter().map(|b| b.ts.to_text()).collect();
            assert_eq!(got, expected, "{column}: {cells:?}");
        }
        // +02:00 is converted to UTC.
        let bars = ok("Time,Open,High,Low,Close,Volume\n2021-06-30T23:30:00+02:00,1,2,0.5,1.5,10\n");
        assert_eq!(bars[0].ts, ts("2021-06-30 21:30:00"));
    }

    #[test]
    fn headers_are_case_insensitive_and_extra_columns_ignored() {
        let text = "\u{feff}  date ,Extra,OPEN,high,Low,cLoSe,Adj Close,volume,\n\
                    2020-01-01,zzz,1.750000,1.953125,1.552083,1.640625,1.518424,67867200,\n\
                    \" 2020-01-02 \",, 1.5 ,\"2\",1e0,1.5E+0,n/a,2.5e3,\n";
        let bars = ok(text);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].ts, ts("2020-01-01"));
        assert_eq!(bars[0].open.to_string(), "1.750000", "scale is kept as written");
        assert_eq!(bars[0].high, dec!(1.953125));
        assert_eq!(bars[0].low, dec!(1.552083));
        assert_eq!(bars[0].close, dec!(1.640625));
        assert_eq!(bars[0].volume, 67_867_200.0);
        assert_eq!(bars[1].open, dec!(1.5));
        assert_eq!(bars[1].low, dec!(1));
        assert_eq!(bars[1].close, dec!(1.5));
        assert_eq!(bars[1].volume, 2500.0);
    }

    #[test]
    fn crlf_line_endings_and_quoted_cells_load() {
        let text = "Date,Open,High,Low,Close,Volume\r\n\"2020-01-01\",\"1\",2,0.5,1.5,10\r\n\
                    2020-01-02,1,2,0.5,1.5,10\r\n";
        let bars = ok(text);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[1].ts, ts("2020-01-02"));
        let err = parse(&format!("{text}2020-01-02,1,2,0.5,1.5,10\r\n")).unwrap_err();
        assert!(matches!(err, DataError::DuplicateTimestamp { line: 4, prev_line: 3, .. }), "{err}");
    }

    #[test]
    fn number_forms() {
        let cases: &[(&str, Decimal)] = &[
            ("100", dec!(100)),
            ("1.07219", dec!(1.07219)),
            ("+2.5", dec!(2.5)),
            (".5", dec!(0.5)),
            ("5.", dec!(5)),
            ("1.5e-3", dec!(0.0015)),
            ("1.5E3", dec!(1500)),
            ("2e+2", dec!(200)),
            ("0.1000000000000000000000000001", dec!(0.1000000000000000000000000001)),
        ];
        for &(text, value) in cases {
            assert!(is_number_syntax(text), "{text}");
            assert_eq!(parse_decimal(text), Ok(value), "{text}");
        }
        for text in ["", "+", ".", "e5", "1e", "1e+", "1.2.3", "1 2", "0x10", "1,5", "--1", "1_0"] {
            assert!(!is_number_syntax(text), "{text:?}");
        }
        for text in ["nan", "NaN", "-nan", "inf", "+INF", "-inf", "Infinity", "-infinity"] {
            assert!(is_non_finite(text), "{text}");
        }
        let bars = ok(&format!("{HEADER}2020-01-01,1,2,0.5,1.5,-0\n2020-01-02,1,2,0.5,1.5,0.25\n"));
        assert!(bars[0].volume == 0.0 && bars[0].volume.is_sign_positive());
        assert_eq!(bars[1].volume, 0.25);
    }

    #[test]
    fn streams_many_rows() {
        /// Generates `rows` rows on the fly, a few at a time.
        struct Rows {
            next: u64,
            rows: u64,
            pending: Vec<u8>,
        }
        impl Read for Rows {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                while self.pending.len() < buf.len() && self.next <= self.rows {
                    let line = if self.next == 0 {
                        HEADER.to_owned()
                    } else {
                        let p = 100 + self.next % 50;
                        format!("{},{p}.25,{p}.5,{p},{p}.125,{}\n", self.next * 60, self.next)
                    };
                    self.pending.extend_from_slice(line.as_bytes());
                    self.next += 1;
                }
                let n = buf.len().min(self.pending.len());
                buf[..n].copy_from_slice(&self.pending[..n]);
                self.pending.drain(..n);
                Ok(n)
            }
        }
        let rows = 100_000;
        let bars = parse_csv(Rows { next: 0, rows, pending: Vec::new() }, "gen").unwrap();
        assert_eq!(bars.len() as u64, rows);
        assert_eq!(bars.capacity(), bars.len());
        assert_eq!(bars[rows as usize - 1].ts, Timestamp::from_secs(rows as i64 * 60));
    }

    // The real sample files bundled in the repository's data/ folder.
    const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data");

    #[test]
    fn real_files_load_with_readme_counts_and_exact_values() {
        struct Case {
            file: &'static str,
            rows: usize,
            first: &'static str,
            last: &'static str,
            check: fn(&Bar) -> bool,
        }
        let cases = [
            Case {
                file: "GOOG.csv",
                rows: 2148,
                first: "2004-08-19",
                last: "2013-03-01",
                check: |b| b.open == dec!(100) && b.close == dec!(100.34) && b.volume == 22_351_900.0,
            },
            Case {
                file: "EURUSD.csv",
                rows: 5000,
                first: "2017-04-19 09:00:00",
                last: "2018-02-07 15:00:00",
                check: |b| b.close == dec!(1.07219) && b.low == dec!(1.07083),
            },
            Case {
                file: "BTCUSD.csv",
                rows: 156,
                first: "2012-01-31",
                last: "2024-12-31",
                check: |b| b.open == dec!(4.58) && b.volume == 2012.25343589,
            },
            Case {
                file: "orcl-1995-2014.csv",
                rows: 5036,
                first: "1995-01-03",
                last: "2014-12-31",
                check: |b| b.open == dec!(2.179012) && b.close == dec!(2.117284),
            },
            Case {
                file: "yhoo-1996-2014.csv",
                rows: 4713,
                first: "1996-04-12",
                last: "2014-12-31",
                check: |b| b.close == dec!(1.375) && b.high == dec!(1.791667),
            },
            Case {
                file: "nvda-1999-2014.csv",
                rows: 4012,
                first: "1999-01-22",
                last: "2014-12-31",
                check: |b| b.open == dec!(1.75) && b.close == dec!(1.640625) && b.volume == 67_867_200.0,
            },
        ];
        for case in cases {
            let path = Path::new(DATA_DIR).join(case.file);
            let bars = load_csv_file(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(bars.len(), case.rows, "{}", case.file);
            assert_eq!(bars[0].ts.to_text(), case.first, "{}", case.file);
            assert_eq!(bars[bars.len() - 1].ts.to_text(), case.last, "{}", case.file);
            assert!((case.check)(&bars[0]), "{}: {:?}", case.file, bars[0]);
        }
    }
}
