//! Where a file's columns are ([`Layout`], from its header and the user's
//! `--column` names) and reading one row of cells into a validated [`Bar`].

use super::lines::Cells;
use super::number::{is_non_finite, is_number_syntax, parse_price, plain_price, plain_volume};
use crate::data::date_format::DateFormat;
use crate::data::error::{DataError, Line};
use crate::data::options::{LoadOptions, Role};
use crate::data::timestamp::{parse_timestamp_memo, DateMemo};
use crate::domain::{Bar, Price, Timestamp};

/// Header names (lower case) accepted for the time column.
const TIME_NAMES: [&str; 4] = ["date", "datetime", "timestamp", "time"];

/// The usual header names of each role (lower case), and how a missing one is named.
fn usual_names(role: Role) -> (&'static [&'static str], &'static str) {
    match role {
        Role::Time => (&TIME_NAMES, "Date (or Datetime, Timestamp, Time)"),
        Role::Open => (&["open"], "Open"),
        Role::High => (&["high"], "High"),
        Role::Low => (&["low"], "Low"),
        Role::Close => (&["close"], "Close"),
        Role::Volume => (&["volume"], "Volume"),
    }
}

/// What a column holds, as error messages name it.
fn role_noun(role: Role) -> &'static str {
    match role {
        Role::Time => "time",
        Role::Open => "open price",
        Role::High => "high price",
        Role::Low => "low price",
        Role::Close => "close price",
        Role::Volume => "volume",
    }
}

/// One used column: its index and its name as written in the header.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) index: usize,
    pub(crate) name: String,
}

/// Where the needed columns are, and how the time column is read.
pub(crate) struct Layout {
    pub(crate) fields: usize,
    pub(crate) time: Column,
    open: Column,
    high: Column,
    low: Column,
    close: Column,
    /// `None` when the file has no volume: its bars' volume is `NaN`.
    volume: Option<Column>,
    date_format: Option<DateFormat>,
}

/// The last date read with the built-in formats (bars of one day share
/// it): one per thread reading rows.
pub(crate) type Memo = std::cell::Cell<Option<DateMemo>>;

impl Layout {
    /// Finds the columns in the header `names` (line `line` of `input`).
    ///
    /// A role named in `options.columns` is read from that column (matched
    /// case-insensitively after trimming; one column may give several roles);
    /// the others from their usual names. With no time column named, an
    /// unnamed first column (what pandas writes for an unnamed index) is the
    /// time. Volume may be absent.
    pub(crate) fn from_header(
        names: Vec<String>,
        line: Line,
        input: &str,
        options: &LoadOptions,
    ) -> Result<Layout, DataError> {
        let date_format = options.date_format.as_deref().map(DateFormat::new).transpose()?;
        let mut found: [Option<usize>; 6] = [None; 6];
        for (slot, role) in Role::ALL.into_iter().enumerate() {
            if let Some(wanted) = options.columns.get(&role) {
                let wanted = wanted.trim();
                let index = names.iter().position(|n| n.eq_ignore_ascii_case(wanted)).ok_or_else(|| {
                    DataError::MappedColumnMissing {
                        input: input.to_owned(),
                        line,
                        role: role.as_str(),
                        name: wanted.to_owned(),
                        header: names.clone(),
                    }
                })?;
                found[slot] = Some(index);
                continue;
            }
            let (usual, _) = usual_names(role);
            for (index, name) in names.iter().enumerate() {
                if !usual.contains(&name.to_ascii_lowercase().as_str()) {
                    continue; // Adj Close and anything else unknown
                }
                if let Some(first) = found[slot] {
                    return Err(DataError::DuplicateColumn {
                        input: input.to_owned(),
                        line,
                        role: role_noun(role),
                        first: names[first].clone(),
                        second: name.clone(),
                    });
                }
                found[slot] = Some(index);
            }
        }
        if found[0].is_none() && names.len() > 1 && names[0].is_empty() {
            found[0] = Some(0);
        }

        let missing: Vec<String> = Role::ALL
            .into_iter()
            .zip(found)
            .filter(|&(role, index)| index.is_none() && role != Role::Volume)
            .map(|(role, _)| usual_names(role).1.to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(DataError::MissingColumns { input: input.to_owned(), line, missing, header: names });
        }
        let column = |slot: usize| {
            found[slot].map(|index| {
                let name =
                    if names[index].is_empty() { format!("{} (unnamed)", index + 1) } else { names[index].clone() };
                Column { index, name }
            })
        };
        let required = |slot: usize| column(slot).unwrap_or(Column { index: 0, name: String::new() });
        Ok(Layout {
            fields: names.len(),
            time: required(0),
            open: required(1),
            high: required(2),
            low: required(3),
            close: required(4),
            volume: column(5),
            date_format,
        })
    }

    /// The column of each role: time, open, high, low, close, volume
    /// (`None` for a file without one).
    pub(crate) fn columns(&self) -> [Option<usize>; 6] {
        let [time, open, high, low, close] = [&self.time, &self.open, &self.high, &self.low, &self.close];
        [
            Some(time.index),
            Some(open.index),
            Some(high.index),
            Some(low.index),
            Some(close.index),
            self.volume.as_ref().map(|c| c.index),
        ]
    }

    /// Whether the time column is read with the user's `--date-format`.
    pub(crate) fn has_date_format(&self) -> bool {
        self.date_format.is_some()
    }

    /// The indices of the columns rows are read from, ascending, each once.
    pub(crate) fn used(&self) -> Vec<usize> {
        let mut used: Vec<usize> = self.columns().into_iter().flatten().collect();
        used.sort_unstable();
        used.dedup();
        used
    }

    /// This layout reading the time column with the built-in formats only
    /// (for a column whose cells are written as RFC 3339 text, not as the user's format).
    pub(crate) fn without_date_format(self) -> Layout {
        Layout { date_format: None, ..self }
    }

    /// Reads and validates one row.
    pub(crate) fn bar(&self, row: &Row<'_>, memo: &Memo) -> Result<Bar, DataError> {
        if row.cells.count() != self.fields {
            return Err(DataError::FieldCount {
                input: row.input.to_owned(),
                line: row.line,
                expected: self.fields,
                found: row.cells.count(),
            });
        }
        let ts = self.timestamp(row, memo)?;
        let open = row.price(&self.open, "open")?;
        let high = row.price(&self.high, "high")?;
        let low = row.price(&self.low, "low")?;
        let close = row.price(&self.close, "close")?;
        let volume = match &self.volume {
            Some(column) => row.volume(column)?,
            None => f64::NAN,
        };

        match broken_price_rule([open, high, low, close]) {
            None => Ok(Bar::new(ts, [open, high, low, close], volume)),
            Some(BrokenRule::HighBelowLow) => {
                let (input, line, column) = row.place(&self.high);
                Err(DataError::HighBelowLow { input, line, column, high: high.decimal(), low: low.decimal() })
            }
            Some(BrokenRule::HighBelow(other, value)) => {
                let (input, line, column) = row.place(&self.high);
                let (high, value) = (high.decimal(), value.decimal());
                Err(DataError::HighBelowOpenClose { input, line, column, high, other, value })
            }
            Some(BrokenRule::LowAbove(other, value)) => {
                let (input, line, column) = row.place(&self.low);
                let (low, value) = (low.decimal(), value.decimal());
                Err(DataError::LowAboveOpenClose { input, line, column, low, other, value })
            }
        }
    }

    fn timestamp(&self, row: &Row<'_>, memo: &Memo) -> Result<Timestamp, DataError> {
        let text = row.cell(&self.time)?;
        match &self.date_format {
            None => parse_timestamp_memo(text, memo).map_err(|err| {
                let (input, line, column) = row.place(&self.time);
                DataError::InvalidTimestamp { input, line, column, text: err.text, reason: err.reason }
            }),
            Some(format) => format.parse(text).map_err(|reason| {
                let (input, line, column) = row.place(&self.time);
                DataError::DateFormatMismatch {
                    input,
                    line,
                    column,
                    text: text.into(),
                    format: format.as_str().into(),
                    reason: reason.into(),
                }
            }),
        }
    }
}

/// The first rule of a bar's prices that they break.
pub(crate) enum BrokenRule {
    /// The high is below the low.
    HighBelowLow,
    /// The high is below the open or the close (named, with its value).
    HighBelow(&'static str, Price),
    /// The low is above the open or the close (named, with its value).
    LowAbove(&'static str, Price),
}

/// The first rule that a bar's `[open, high, low, close]` break, checked in
/// that order; `None` when they are a bar's.
#[inline]
pub(crate) fn broken_price_rule([open, high, low, close]: [Price; 4]) -> Option<BrokenRule> {
    if high < low {
        return Some(BrokenRule::HighBelowLow);
    }
    let (other, value) = if open >= close { ("open", open) } else { ("close", close) };
    if high < value {
        return Some(BrokenRule::HighBelow(other, value));
    }
    let (other, value) = if close >= open { ("open", open) } else { ("close", close) };
    (value < low).then_some(BrokenRule::LowAbove(other, value))
}

/// One data row being read, with what its errors need.
pub(crate) struct Row<'a> {
    pub(crate) input: &'a str,
    pub(crate) line: Line,
    pub(crate) cells: &'a dyn Cells,
}

impl Row<'_> {
    /// Input, line and column name for an error about `column`.
    pub(crate) fn place(&self, column: &Column) -> (String, Line, String) {
        (self.input.to_owned(), self.line, column.name.clone())
    }

    /// The trimmed bytes of a cell (maybe empty).
    fn bytes(&self, column: &Column) -> &[u8] {
        let raw = self.cells.cell(column.index);
        match (raw.first(), raw.last()) {
            (Some(first), Some(last)) if first.is_ascii_whitespace() || last.is_ascii_whitespace() => raw.trim_ascii(),
            _ => raw,
        }
    }

    /// The trimmed, non-empty text of a cell.
    fn cell(&self, column: &Column) -> Result<&str, DataError> {
        let raw = self.cells.cell(column.index);
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

    /// A price: an exact, finite, positive decimal.
    fn price(&self, column: &Column, field: &'static str) -> Result<Price, DataError> {
        let value = match plain_price(self.bytes(column)) {
            Some(value) => value,
            None => {
                let text = self.cell(column)?;
                self.number(column, text, parse_price)?
            }
        };
        if value.mantissa() <= 0 {
            let (input, line, column) = self.place(column);
            return Err(DataError::NonPositivePrice { input, line, column, field, value: value.decimal() });
        }
        Ok(value)
    }

    /// A volume: a finite, non-negative `f64`.
    fn volume(&self, column: &Column) -> Result<f64, DataError> {
        if let Some(value) = plain_volume(self.bytes(column)) {
            return Ok(value);
        }
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
