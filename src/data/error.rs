//! [`DataError`]: every way loading, validating or assembling market data can fail.

use rust_decimal::Decimal;

use crate::domain::{Symbol, Timestamp};

use super::timestamp::TIMESTAMP_FORMATS;

/// An error from the data layer.
///
/// Row-level variants carry `input` (the file path or upload name the caller
/// gave), the 1-based `line` in the input (the header is line 1) and, where a
/// single cell is at fault, the `column` name as written in the header. Their
/// messages read like `data/GOOG.csv: line 17, column High: high 101.5 is
/// below low 102.0`.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Opening or reading the input failed.
    #[error("{input}: cannot read: {source}")]
    Io {
        /// The file path or upload name the caller gave.
        input: String,
        /// The I/O error from opening or reading.
        #[source]
        source: std::io::Error,
    },

    /// The file was written to after it was opened for reading: the bytes
    /// read are not those its hash would name.
    #[error("{input}: the file changed while it was read (its size or modification time is not what it was); run again once it is no longer being written")]
    ChangedWhileRead {
        /// The file path.
        input: String,
    },

    /// The CSV reader failed in a way not covered by another variant
    /// (the message comes from the `csv` crate and includes the position).
    #[error("{input}: malformed CSV: {message}")]
    Csv {
        /// The file path or upload name the caller gave.
        input: String,
        /// The `csv` crate's message, with the position it failed at.
        message: String,
    },

    /// A Parquet file cannot be read: damaged, or compressed with a codec
    /// not built in (brotli); the message comes from the `parquet` crate.
    #[error("{input}: cannot read the Parquet file: {message}")]
    Parquet {
        /// The file path or upload name the caller gave.
        input: String,
        /// The `parquet` crate's message.
        message: String,
    },

    /// A used column of a Parquet file holds values the loader does not read.
    #[error(
        "{input}: schema, column {column}: holds {found}; the loader reads text, integers, floats, decimals, \
         dates and timestamps"
    )]
    ColumnType {
        /// The file path or upload name the caller gave.
        input: String,
        /// The column's name in the schema.
        column: String,
        /// The column's Arrow type, such as `Boolean`.
        found: String,
    },

    /// The input has no header line at all.
    #[error("{input}: the file is empty (no header line)")]
    EmptyFile {
        /// The file path or upload name the caller gave.
        input: String,
    },

    /// The input has a header but no data rows.
    #[error("{input}: the header is not followed by any data rows")]
    NoRows {
        /// The file path or upload name the caller gave.
        input: String,
    },

    /// Required columns are absent from the header.
    #[error(
        "{input}: {line}: missing required column(s) {}; header found: {}; \
         --column ROLE=NAME takes a role from another column",
        .missing.join(", "),
        .header.join(",")
    )]
    MissingColumns {
        /// The file path or upload name the caller gave.
        input: String,
        /// The header line (or a Parquet file's schema).
        line: Line,
        /// The missing columns, e.g. `Volume` or `Date (or Datetime, Timestamp, Time)`.
        missing: Vec<String>,
        /// The header names as found (trimmed).
        header: Vec<String>,
    },

    /// Two header columns give the same field (for example `Date` and `Timestamp`,
    /// or `Close` twice).
    #[error("{input}: {line}: columns {first} and {second} both give the {role}; keep exactly one")]
    DuplicateColumn {
        /// The file path or upload name the caller gave.
        input: String,
        /// The header line (or a Parquet file's schema).
        line: Line,
        /// What both columns hold: `time`, `open price`, ..., `volume`.
        role: &'static str,
        /// The earlier of the two column names, as written in the header.
        first: String,
        /// The later of the two column names, as written in the header.
        second: String,
    },

    /// A row has a different number of fields than the header.
    #[error("{input}: {line}: expected {expected} fields (as in the header), found {found}")]
    FieldCount {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// Number of fields in the header.
        expected: usize,
        /// Number of fields in this row.
        found: usize,
    },

    /// A required cell is empty (or only whitespace).
    #[error("{input}: {line}, column {column}: empty cell")]
    EmptyCell {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The cell's column name, as written in the header.
        column: String,
    },

    /// A required cell is not valid UTF-8.
    #[error("{input}: {line}, column {column}: the cell is not valid UTF-8")]
    InvalidUtf8 {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The cell's column name, as written in the header.
        column: String,
    },

    /// A price or volume cell is not a number.
    #[error("{input}: {line}, column {column}: cannot read number {text:?}: {reason}")]
    InvalidNumber {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The cell's column name, as written in the header.
        column: String,
        /// The cell's text, trimmed.
        text: String,
        /// Why the text is not a number, e.g. `not a decimal number`.
        reason: &'static str,
    },

    /// A price or volume cell is NaN or infinite (`nan`, `inf`, `-Infinity`,
    /// or a volume too large for `f64`).
    #[error("{input}: {line}, column {column}: {text:?} is not a finite number")]
    NotFinite {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The cell's column name, as written in the header.
        column: String,
        /// The cell's text, trimmed.
        text: String,
    },

    /// The time cell is not in an accepted format.
    #[error(
        "{input}: {line}, column {column}: cannot read timestamp {text:?}: {reason}; accepted: {}; for another form give --date-format",
        TIMESTAMP_FORMATS
    )]
    InvalidTimestamp {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The cell's column name, as written in the header.
        column: String,
        /// The cell's text, trimmed.
        text: String,
        /// Why the text is not a timestamp (from [`TimestampError`](super::TimestampError)).
        reason: &'static str,
    },

    /// An open, high, low or close is zero or negative.
    #[error("{input}: {line}, column {column}: {field} {value} is not positive")]
    NonPositivePrice {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The cell's column name, as written in the header.
        column: String,
        /// `open`, `high`, `low` or `close`.
        field: &'static str,
        /// The price as read: zero or negative.
        value: Decimal,
    },

    /// The volume is negative.
    #[error("{input}: {line}, column {column}: volume {value} is negative")]
    NegativeVolume {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The cell's column name, as written in the header.
        column: String,
        /// The volume as read: below zero.
        value: f64,
    },

    /// The high is below the low.
    #[error("{input}: {line}, column {column}: high {high} is below low {low}")]
    HighBelowLow {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The high column.
        column: String,
        /// The row's high price.
        high: Decimal,
        /// The row's low price, above the high.
        low: Decimal,
    },

    /// The high is below the open or the close.
    #[error("{input}: {line}, column {column}: high {high} is below {other} {value}")]
    HighBelowOpenClose {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The high column.
        column: String,
        /// The row's high price.
        high: Decimal,
        /// `open` or `close`.
        other: &'static str,
        /// The `other` price, above the high.
        value: Decimal,
    },

    /// The low is above the open or the close.
    #[error("{input}: {line}, column {column}: low {low} is above {other} {value}")]
    LowAboveOpenClose {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The low column.
        column: String,
        /// The row's low price.
        low: Decimal,
        /// `open` or `close`.
        other: &'static str,
        /// The `other` price, below the low.
        value: Decimal,
    },

    /// A row's timestamp is earlier than the previous row's.
    #[error(
        "{input}: {line}, column {column}: timestamp {ts} is out of order: \
         it is earlier than {prev_ts} on {prev_line}; --sort (sort=true on upload) sorts the rows by time"
    )]
    OutOfOrder {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The time column.
        column: String,
        /// This row's timestamp.
        ts: Timestamp,
        /// Where the previous row is.
        prev_line: Line,
        /// The previous row's timestamp, later than `ts`.
        prev_ts: Timestamp,
    },

    /// A row's timestamp equals the previous row's.
    #[error(
        "{input}: {line}, column {column}: duplicate timestamp {ts}: \
         {prev_line} has the same timestamp {prev_ts}"
    )]
    DuplicateTimestamp {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is: its 1-based line (the header is line 1), or a Parquet row.
        line: Line,
        /// The time column.
        column: String,
        /// This row's timestamp.
        ts: Timestamp,
        /// Where the previous row is.
        prev_line: Line,
        /// The previous row's timestamp, equal to `ts`.
        prev_ts: Timestamp,
    },

    /// A column named by `--column` is not in the header.
    #[error(
        "{input}: {line}: --column {role}={name:?} names a column the header does not have; header found: {}",
        .header.join(",")
    )]
    MappedColumnMissing {
        /// The file path or upload name the caller gave.
        input: String,
        /// The header line (or a Parquet file's schema).
        line: Line,
        /// The role the column was to give: `time`, `open`, ..., `volume`.
        role: &'static str,
        /// The name given.
        name: String,
        /// The header names as found (trimmed).
        header: Vec<String>,
    },

    /// A time cell does not match the `--date-format` given.
    #[error("{input}: {line}, column {column}: timestamp {text:?} does not match --date-format {format:?}: {reason}")]
    DateFormatMismatch {
        /// The file path or upload name the caller gave.
        input: String,
        /// Where the row is.
        line: Line,
        /// The time column.
        column: String,
        /// The cell's text, trimmed.
        text: Box<str>,
        /// The format given (boxed, with `reason`, to keep the error small).
        format: Box<str>,
        /// chrono's reason.
        reason: Box<str>,
    },

    /// A loading option that cannot be used (checked before any row is read).
    #[error(transparent)]
    Option(#[from] super::OptionError),

    /// A symbol name breaks the naming rule.
    #[error("invalid symbol {symbol:?}: {}", crate::domain::SYMBOL_RULE)]
    InvalidSymbol {
        /// The name as given.
        symbol: String,
    },

    /// A `[SYMBOL=]PATH` argument cannot be used.
    #[error("invalid data argument {arg:?}: {reason}")]
    InvalidSpec {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A universe was requested with no symbols.
    #[error("no data: a run needs at least one symbol")]
    NoSymbols,

    /// The same symbol was given twice.
    #[error("symbol {symbol} is given more than once")]
    DuplicateSymbol {
        /// The symbol given twice.
        symbol: Symbol,
    },

    /// A symbol was given with no bars.
    #[error("symbol {symbol} has no bars")]
    NoBars {
        /// The symbol without bars.
        symbol: Symbol,
    },

    /// Bars handed to [`Universe::new`](super::Universe::new) are not in
    /// strictly increasing time order.
    #[error("bars of {symbol} are not in strictly increasing time order: bar {index} at {ts} follows {prev_ts}")]
    UnsortedBars {
        /// The symbol whose bars are out of order.
        symbol: Symbol,
        /// 0-based index of the offending bar.
        index: usize,
        /// The offending bar's timestamp.
        ts: Timestamp,
        /// The previous bar's timestamp, not earlier than `ts`.
        prev_ts: Timestamp,
    },

    /// Slicing left a symbol with no bars.
    #[error("symbol {symbol} has no bars from {} to {}", show_bound(.start, "the start"), show_bound(.end, "the end"))]
    EmptySlice {
        /// The first symbol left with no bars.
        symbol: Symbol,
        /// The slice's first timestamp (inclusive), or `None` for no lower bound.
        start: Option<Timestamp>,
        /// The slice's last timestamp (inclusive), or `None` for no upper bound.
        end: Option<Timestamp>,
    },

    /// Resampling a symbol's bars failed.
    #[error("{symbol}: {reason}")]
    Resample {
        /// The symbol whose bars could not be resampled.
        symbol: Symbol,
        /// Why resampling failed.
        reason: super::ResampleError,
    },

    /// Symbols whose bars are spaced differently (usual gaps `first` and
    /// `other`): a coarser bar is stamped at its start but holds prices up
    /// to its end, which the finer symbol's steps would see early.
    #[error(
        "{first_symbol} has bars {first} apart and {other_symbol} {other} apart: a coarser bar would show its \
         close before it happened; resample them to one interval, a whole multiple of both"
    )]
    MixedSpacing {
        /// The first symbol with a usual spacing.
        first_symbol: Symbol,
        /// The usual gap between `first_symbol`'s bars.
        first: super::Interval,
        /// The first symbol whose usual spacing differs from `first`.
        other_symbol: Symbol,
        /// The usual gap between `other_symbol`'s bars.
        other: super::Interval,
    },
}

fn show_bound(bound: &Option<Timestamp>, open: &str) -> String {
    match bound {
        Some(ts) => ts.to_text(),
        None => open.to_owned(),
    }
}

/// Where in an input a row (or the header) is, as error messages name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// A 1-based line of a text file (the header is line 1).
    Text(u64),
    /// A 1-based data row of a Parquet file.
    Row(u64),
    /// A Parquet file's schema (where its column names are).
    Schema,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Line::Text(n) => write!(f, "line {n}"),
            Line::Row(n) => write!(f, "row {n}"),
            Line::Schema => f.write_str("schema"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_thread_safe_static_error() {
        fn check<E: std::error::Error + Send + Sync + 'static>() {}
        check::<DataError>();
        let err = DataError::Io { input: "x.csv".to_owned(), source: std::io::Error::other("gone") };
        assert!(std::error::Error::source(&err).is_some());
    }
}
