//! [`Ordering`]: passes a file's bars on to a [`BarSink`], checking (or,
//! when asked, making) their strictly increasing time order.

use crate::domain::{Bar, Timestamp};

use super::error::{DataError, Line};

/// Where validated bars go, in time order: a vector, a bars file being
/// written, statistics.
pub trait BarSink {
    /// Takes the next bar.
    ///
    /// # Errors
    /// The sink cannot keep it (such as a write failing).
    fn accept(&mut self, bar: Bar) -> Result<(), DataError>;

    /// Takes the next bars, in order, leaving `bars` empty (a vector whose
    /// room the caller may fill again).
    ///
    /// # Errors
    /// As [`accept`](Self::accept).
    fn accept_all(&mut self, bars: &mut Vec<Bar>) -> Result<(), DataError> {
        bars.drain(..).try_for_each(|bar| self.accept(bar))
    }
}

impl BarSink for Vec<Bar> {
    fn accept(&mut self, bar: Bar) -> Result<(), DataError> {
        self.push(bar);
        Ok(())
    }

    fn accept_all(&mut self, bars: &mut Vec<Bar>) -> Result<(), DataError> {
        // Taken whole unless room for more was made before (the caller
        // gets this empty vector back).
        if self.is_empty() && self.capacity() < bars.len() {
            std::mem::swap(self, bars);
        } else {
            self.append(bars);
        }
        Ok(())
    }
}

/// The bars of one input as they are read, with what ordering errors need.
pub(crate) struct Ordering<'a, S: BarSink> {
    input: &'a str,
    column: &'a str,
    sink: &'a mut S,
    /// Sort at the end instead of refusing a row out of order: then the
    /// bars wait here, with the line (or row) each came from.
    sort: bool,
    held: Vec<Bar>,
    lines: Vec<Line>,
    rows: u64,
    previous: Option<(Timestamp, Line)>,
}

impl<'a, S: BarSink> Ordering<'a, S> {
    /// Starts an empty input named `input` whose time column is `column`,
    /// passing bars to `sink`.
    pub(crate) fn new(input: &'a str, column: &'a str, sort: bool, sink: &'a mut S) -> Ordering<'a, S> {
        Ordering { input, column, sink, sort, held: Vec::new(), lines: Vec::new(), rows: 0, previous: None }
    }

    /// Adds the bar read from `line`.
    ///
    /// # Errors
    /// Without sorting, [`DataError::OutOfOrder`] or
    /// [`DataError::DuplicateTimestamp`] when the bar is not later than the
    /// previous one.
    pub(crate) fn push(&mut self, bar: Bar, line: Line) -> Result<(), DataError> {
        self.rows += 1;
        if self.sort {
            self.lines.push(line);
            self.held.push(bar);
            return Ok(());
        }
        if let Some((prev_ts, prev_line)) = self.previous {
            if bar.ts <= prev_ts {
                return Err(self.misplaced(bar.ts, line, prev_ts, prev_line));
            }
        }
        self.previous = Some((bar.ts, line));
        self.sink.accept(bar)
    }

    /// Whether the bars are sorted at the end (so need not come in order).
    pub(crate) fn sorting(&self) -> bool {
        self.sort
    }

    /// Adds bars read elsewhere, in order among themselves, the first from
    /// `first_line` and the last from `last_line` (when sorting, bars come
    /// one by one through [`push`](Self::push) with their lines instead).
    ///
    /// # Errors
    /// As [`push`](Self::push), for the first bar against the previous one.
    pub(crate) fn push_run(&mut self, bars: &mut Vec<Bar>, first_line: Line, last_line: Line) -> Result<(), DataError> {
        let (Some(first), Some(last)) = (bars.first(), bars.last()) else { return Ok(()) };
        if let Some((prev_ts, prev_line)) = self.previous {
            if first.ts <= prev_ts {
                return Err(misplaced(self.input, self.column, first.ts, first_line, prev_ts, prev_line));
            }
        }
        self.previous = Some((last.ts, last_line));
        self.rows += bars.len() as u64;
        self.sink.accept_all(bars)
    }

    /// Ends the input: when sorting, sorts the bars held and passes them on.
    ///
    /// Returns how many bars the sink got.
    ///
    /// # Errors
    /// [`DataError::NoRows`] when there are none; when sorting,
    /// [`DataError::DuplicateTimestamp`] for two bars at one time (naming the
    /// later line of the two).
    pub(crate) fn finish(self) -> Result<u64, DataError> {
        if self.rows == 0 {
            return Err(DataError::NoRows { input: self.input.to_owned() });
        }
        if self.sort {
            let mut order: Vec<usize> = (0..self.held.len()).collect();
            // Stable, so two rows at one time stay in file order.
            order.sort_by_key(|&i| self.held[i].ts);
            if let Some(w) = order.windows(2).find(|w| self.held[w[0]].ts == self.held[w[1]].ts) {
                let (first, second) = (w[0], w[1]);
                let ts = self.held[second].ts;
                return Err(self.misplaced(ts, self.lines[second], ts, self.lines[first]));
            }
            for i in order {
                self.sink.accept(self.held[i])?;
            }
        }
        Ok(self.rows)
    }

    fn misplaced(&self, ts: Timestamp, line: Line, prev_ts: Timestamp, prev_line: Line) -> DataError {
        misplaced(self.input, self.column, ts, line, prev_ts, prev_line)
    }
}

/// The error for a row at `ts` on `line` that is not later than the row
/// before it (`prev_ts` on `prev_line`).
pub(crate) fn misplaced(
    input: &str,
    column: &str,
    ts: Timestamp,
    line: Line,
    prev_ts: Timestamp,
    prev_line: Line,
) -> DataError {
    let (input, column) = (input.to_owned(), column.to_owned());
    if ts == prev_ts {
        DataError::DuplicateTimestamp { input, line, column, ts, prev_line, prev_ts }
    } else {
        DataError::OutOfOrder { input, line, column, ts, prev_line, prev_ts }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn bar(ts: i64) -> Bar {
        let one = Decimal::ONE;
        Bar::from_decimals(Timestamp(ts), [one; 4], 0.0).unwrap()
    }

    fn collect(times: &[i64], sort: bool) -> Result<Vec<i64>, DataError> {
        let mut bars = Vec::new();
        let mut ordering = Ordering::new("f.csv", "Date", sort, &mut bars);
        for (i, &t) in times.iter().enumerate() {
            ordering.push(bar(t), Line::Text(i as u64 + 2))?;
        }
        assert_eq!(ordering.finish()?, times.len() as u64);
        Ok(bars.iter().map(|b| b.ts.0).collect())
    }

    #[test]
    fn increasing_rows_pass_and_others_are_refused_naming_both_lines() {
        assert_eq!(collect(&[1, 2, 5], false).unwrap(), vec![1, 2, 5]);
        let err = collect(&[3, 2, 1], false).unwrap_err();
        assert!(matches!(err, DataError::OutOfOrder { line: Line::Text(3), prev_line: Line::Text(2), .. }), "{err}");
        assert!(err.to_string().contains("--sort"), "the refusal names the way out: {err}");
        let err = collect(&[1, 1], false).unwrap_err();
        assert!(
            matches!(err, DataError::DuplicateTimestamp { line: Line::Text(3), prev_line: Line::Text(2), .. }),
            "{err}"
        );
    }

    #[test]
    fn sorting_orders_descending_and_shuffled_rows_but_not_duplicates() {
        assert_eq!(collect(&[5, 4, 3, 1], true).unwrap(), vec![1, 3, 4, 5]);
        assert_eq!(collect(&[2, 9, 1, 4], true).unwrap(), vec![1, 2, 4, 9]);
        let err = collect(&[5, 3, 9, 3], true).unwrap_err();
        assert!(
            matches!(err, DataError::DuplicateTimestamp { line: Line::Text(5), prev_line: Line::Text(3), .. }),
            "{err}"
        );
        assert!(matches!(collect(&[], true).unwrap_err(), DataError::NoRows { .. }));
    }
}
