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
        input: String,
        #[source]
        source: std::io::Error,
    },

    /// The CSV reader failed in a way not covered by another variant
    /// (the message comes from the `csv` crate and includes the position).
    #[error("{input}: malformed CSV: {message}")]
    Csv { input: String, message: String },

    /// The input has no header line at all.
    #[error("{input}: the file is empty (no header line)")]
    EmptyFile { input: String },

    /// The input has a header but no data rows.
    #[error("{input}: the header is not followed by any data rows")]
    NoRows { input: String },

    /// Required columns are absent from the header.
    #[error(
        "{input}: line {line}: missing required column(s) {}; header found: {}",
        .missing.join(", "),
        .header.join(",")
    )]
    MissingColumns {
        input: String,
        line: u64,
        /// The missing columns, e.g. `Volume` or `Date (or Datetime, Timestamp, Time)`.
        missing: Vec<String>,
        /// The header names as found (trimmed).
        header: Vec<String>,
    },

    /// Two header columns give the same field (for example `Date` and `Timestamp`,
    /// or `Close` twice).
    #[error("{input}: line {line}: columns {first} and {second} both give the {role}; keep exactly one")]
    DuplicateColumn {
        input: String,
        line: u64,
        /// What both columns hold: `time`, `open price`, ..., `volume`.
        role: &'static str,
        first: String,
        second: String,
    },

    /// A row has a different number of fields than the header.
    #[error("{input}: line {line}: expected {expected} fields (as in the header), found {found}")]
    FieldCount { input: String, line: u64, expected: usize, found: usize },

    /// A required cell is empty (or only whitespace).
    #[error("{input}: line {line}, column {column}: empty cell")]
    EmptyCell { input: String, line: u64, column: String },

    /// A required cell is not valid UTF-8.
    #[error("{input}: line {line}, column {column}: the cell is not valid UTF-8")]
    InvalidUtf8 { input: String, line: u64, column: String },

    /// A price or volume cell is not a number.
    #[error("{input}: line {line}, column {column}: cannot read number {text:?}: {reason}")]
    InvalidNumber { input: String, line: u64, column: String, text: String, reason: &'static str },

    /// A price or volume cell is NaN or infinite (`nan`, `inf`, `-Infinity`,
    /// or a volume too large for `f64`).
    #[error("{input}: line {line}, column {column}: {text:?} is not a finite number")]
    NotFinite { input: String, line: u64, column: String, text: String },

    /// The time cell is not in an accepted format.
    #[error(
        "{input}: line {line}, column {column}: cannot read timestamp {text:?}: {reason}; accepted: {}",
        TIMESTAMP_FORMATS
    )]
    InvalidTimestamp { input: String, line: u64, column: String, text: String, reason: &'static str },

    /// An open, high, low or close is zero or negative.
    #[error("{input}: line {line}, column {column}: {field} {value} is not positive")]
    NonPositivePrice {
        input: String,
        line: u64,
        column: String,
        /// `open`, `high`, `low` or `close`.
        field: &'static str,
        value: Decimal,
    },

    /// The volume is negative.
    #[error("{input}: line {line}, column {column}: volume {value} is negative")]
    NegativeVolume { input: String, line: u64, column: String, value: f64 },

    /// The high is below the low.
    #[error("{input}: line {line}, column {column}: high {high} is below low {low}")]
    HighBelowLow {
        input: String,
        line: u64,
        /// The high column.
        column: String,
        high: Decimal,
        low: Decimal,
    },

    /// The high is below the open or the close.
    #[error("{input}: line {line}, column {column}: high {high} is below {other} {value}")]
    HighBelowOpenClose {
        input: String,
        line: u64,
        /// The high column.
        column: String,
        high: Decimal,
        /// `open` or `close`.
        other: &'static str,
        value: Decimal,
    },

    /// The low is above the open or the close.
    #[error("{input}: line {line}, column {column}: low {low} is above {other} {value}")]
    LowAboveOpenClose {
        input: String,
        line: u64,
        /// The low column.
        column: String,
        low: Decimal,
        /// `open` or `close`.
        other: &'static str,
        value: Decimal,
    },

    /// A row's timestamp is earlier than the previous row's.
    #[error(
        "{input}: line {line}, column {column}: timestamp {ts} is out of order: \
         it is earlier than {prev_ts} on line {prev_line}"
    )]
    OutOfOrder { input: String, line: u64, column: String, ts: Timestamp, prev_line: u64, prev_ts: Timestamp },

    /// A row's timestamp equals the previous row's.
    #[error(
        "{input}: line {line}, column {column}: duplicate timestamp {ts}: \
         line {prev_line} has the same timestamp {prev_ts}"
    )]
    DuplicateTimestamp { input: String, line: u64, column: String, ts: Timestamp, prev_line: u64, prev_ts: Timestamp },

    /// A symbol name breaks the naming rule.
    #[error("invalid symbol {symbol:?}: {}", crate::domain::SYMBOL_RULE)]
    InvalidSymbol { symbol: String },

    /// A `[SYMBOL=]PATH` argument cannot be used.
    #[error("invalid data argument {arg:?}: {reason}")]
    InvalidSpec { arg: String, reason: String },

    /// A universe was requested with no symbols.
    #[error("no data: a run needs at least one symbol")]
    NoSymbols,

    /// The same symbol was given twice.
    #[error("symbol {symbol} is given more than once")]
    DuplicateSymbol { symbol: Symbol },

    /// A symbol was given with no bars.
    #[error("symbol {symbol} has no bars")]
    NoBars { symbol: Symbol },

    /// Bars handed to [`Universe::new`](super::Universe::new) are not in
    /// strictly increasing time order.
    #[error("bars of {symbol} are not in strictly increasing time order: bar {index} at {ts} follows {prev_ts}")]
    UnsortedBars {
        symbol: Symbol,
        /// 0-based index of the offending bar.
        index: usize,
        ts: Timestamp,
        prev_ts: Timestamp,
    },

    /// Slicing left a symbol with no bars.
    #[error("symbol {symbol} has no bars from {} to {}", show_bound(.start, "the start"), show_bound(.end, "the end"))]
    EmptySlice { symbol: Symbol, start: Option<Timestamp>, end: Option<Timestamp> },

    /// Resampling a symbol's bars failed.
    #[error("{symbol}: {reason}")]
    Resample { symbol: Symbol, reason: super::ResampleError },

    /// Symbols whose bars are spaced differently (usual gaps `first` and
    /// `other`): a coarser bar is stamped at its start but holds prices up
    /// to its end, which the finer symbol's steps would see early.
    #[error(
        "{first_symbol} has bars {first} apart and {other_symbol} {other} apart: a coarser bar would show its \
         close before it happened; resample them to one interval, a whole multiple of both"
    )]
    MixedSpacing { first_symbol: Symbol, first: super::Interval, other_symbol: Symbol, other: super::Interval },
}

fn show_bound(bound: &Option<Timestamp>, open: &str) -> String {
    match bound {
        Some(ts) => ts.to_text(),
        None => open.to_owned(),
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
