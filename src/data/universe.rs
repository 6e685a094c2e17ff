//! A run's universe: its symbols, their bars, and the merged clock the engine steps through.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::fmt;
use std::sync::Arc;

use crate::domain::{Bar, Symbol, Timestamp};

use super::csv::load_csv_file;
use super::error::DataError;
use super::spec::DataSpec;

/// The longest symbol name allowed.
pub const MAX_SYMBOL_LEN: usize = 32;

/// The symbol naming rule, as shown in error messages.
pub const SYMBOL_RULE: &str = "a symbol has 1 to 32 characters, each an ASCII letter, digit or one of . - _ / :";

/// Whether `name` follows the symbol naming rule: 1 to [`MAX_SYMBOL_LEN`]
/// characters, each an ASCII letter, digit, `.`, `-`, `_`, `/` or `:`.
///
/// Returns `true` for a valid name.
pub fn is_valid_symbol(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SYMBOL_LEN
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'/' | b':'))
}

/// Checks a symbol name against the naming rule (see [`is_valid_symbol`]).
///
/// Returns the [`Symbol`].
///
/// # Errors
/// [`DataError::InvalidSymbol`] naming `name` if it breaks the rule.
pub fn parse_symbol(name: &str) -> Result<Symbol, DataError> {
    if is_valid_symbol(name) {
        Ok(Symbol::new(name))
    } else {
        Err(DataError::InvalidSymbol { symbol: name.to_owned() })
    }
}

/// One symbol's bars: a window `start..end` onto shared storage, so slicing
/// and cloning never copy bars.
struct Series {
    bars: Arc<Vec<Bar>>,
    start: usize,
    end: usize,
}

impl Series {
    fn bars(&self) -> &[Bar] {
        &self.bars[self.start..self.end]
    }
}

/// The symbols of one run, their bars, and the merged clock.
///
/// The timeline is the union of every symbol's timestamps. A symbol without a
/// bar at some timeline step simply has no bar there: nothing is forward
/// filled or synthesized (see [`Universe::bar_at`]).
///
/// Bars and the timeline live behind `Arc`s, so cloning a universe or slicing
/// it shares them instead of copying; a universe can be reused across runs.
#[derive(Clone)]
pub struct Universe {
    symbols: Arc<[Symbol]>,
    series: Arc<[Series]>,
    timeline: Arc<Vec<Timestamp>>,
    /// The window `steps.0..steps.1` of `timeline` this universe covers.
    steps: (usize, usize),
}

impl Universe {
    /// Builds a universe from (symbol, bars) pairs; order is kept (the first
    /// symbol is the primary one). Each symbol's bars must be in strictly
    /// increasing time order, as [`load_csv_file`](super::load_csv_file) returns them.
    ///
    /// Returns the universe with its merged timeline.
    ///
    /// # Errors
    /// [`DataError::NoSymbols`] for an empty list, [`DataError::InvalidSymbol`]
    /// for a name breaking the naming rule, [`DataError::DuplicateSymbol`],
    /// [`DataError::NoBars`] for a symbol with no bars, and
    /// [`DataError::UnsortedBars`] for bars out of time order.
    pub fn new(series: Vec<(Symbol, Vec<Bar>)>) -> Result<Universe, DataError> {
        Universe::from_shared(series.into_iter().map(|(symbol, bars)| (symbol, Arc::new(bars))).collect())
    }

    /// Like [`Universe::new`], with bars already shared (e.g. from a cache of
    /// parsed datasets), so that building a universe copies no bars.
    ///
    /// # Errors
    /// As [`Universe::new`].
    pub fn from_shared(series: Vec<(Symbol, Arc<Vec<Bar>>)>) -> Result<Universe, DataError> {
        check_symbols(series.iter().map(|(symbol, _)| symbol))?;
        for (symbol, bars) in &series {
            if bars.is_empty() {
                return Err(DataError::NoBars { symbol: symbol.clone() });
            }
            if let Some(i) = bars.windows(2).position(|w| w[1].ts <= w[0].ts) {
                return Err(DataError::UnsortedBars {
                    symbol: symbol.clone(),
                    index: i + 1,
                    ts: bars[i + 1].ts,
                    prev_ts: bars[i].ts,
                });
            }
        }
        let (symbols, series): (Vec<Symbol>, Vec<Series>) = series
            .into_iter()
            .map(|(symbol, bars)| {
                let end = bars.len();
                let series = Series { bars, start: 0, end };
                (symbol, series)
            })
            .unzip();
        let timeline = merge_timestamps(&series);
        let steps = (0, timeline.len());
        Ok(Universe { symbols: symbols.into(), series: series.into(), timeline: Arc::new(timeline), steps })
    }

    /// Loads every spec with [`load_csv_file`](super::load_csv_file), in order
    /// (the first spec's symbol is the primary one).
    ///
    /// Returns the universe of all of them.
    ///
    /// # Errors
    /// [`DataError::NoSymbols`], [`DataError::InvalidSymbol`] and
    /// [`DataError::DuplicateSymbol`] before any file is read; then the first
    /// error of any file's loading; then those of [`Universe::new`].
    pub fn load(specs: &[DataSpec]) -> Result<Universe, DataError> {
        check_symbols(specs.iter().map(|spec| &spec.symbol))?;
        let series = specs
            .iter()
            .map(|spec| Ok((spec.symbol.clone(), load_csv_file(&spec.path)?)))
            .collect::<Result<Vec<_>, DataError>>()?;
        Universe::new(series)
    }

    /// Returns the symbols, in the order given (index 0 is the primary symbol).
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// Returns the index of the symbol named `name` (exact, case-sensitive match),
    /// or `None` if there is none.
    pub fn symbol_index(&self, name: &str) -> Option<usize> {
        self.symbols.iter().position(|s| s.as_str() == name)
    }

    /// Returns the bars of symbol `symbol` (an index into [`symbols`](Self::symbols)),
    /// in time order. Never empty.
    ///
    /// # Panics
    /// If `symbol` is out of range.
    pub fn bars(&self, symbol: usize) -> &[Bar] {
        self.series[symbol].bars()
    }

    /// Returns the bar of symbol `symbol` stamped exactly `ts`, or `None` if
    /// that symbol has no bar then (there is no forward fill).
    ///
    /// # Panics
    /// If `symbol` is out of range.
    pub fn bar_at(&self, symbol: usize, ts: Timestamp) -> Option<&Bar> {
        let bars = self.bars(symbol);
        bars.binary_search_by_key(&ts, |b| b.ts).ok().map(|i| &bars[i])
    }

    /// Returns every distinct timestamp of every symbol, ascending: the engine's steps.
    pub fn timeline(&self) -> &[Timestamp] {
        &self.timeline[self.steps.0..self.steps.1]
    }

    /// Returns the number of steps (the length of [`timeline`](Self::timeline)).
    pub fn len(&self) -> usize {
        self.steps.1 - self.steps.0
    }

    /// Returns whether there are no steps; never true for a universe built
    /// by [`new`](Self::new) or [`slice`](Self::slice), which refuse symbols
    /// without bars.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Restricts to bars with `start <= ts <= end` (either bound optional);
    /// the bars are shared, not copied.
    ///
    /// Returns the restricted universe, with the same symbols in the same order.
    ///
    /// # Errors
    /// [`DataError::EmptySlice`] naming the first symbol left with no bars.
    pub fn slice(&self, start: Option<Timestamp>, end: Option<Timestamp>) -> Result<Universe, DataError> {
        let window = |stamps: &dyn Fn(usize) -> Timestamp, len: usize| {
            let first = start.map_or(0, |s| partition(len, |i| stamps(i) < s));
            let past = end.map_or(len, |e| partition(len, |i| stamps(i) <= e));
            (first, past.max(first))
        };
        let mut series = Vec::with_capacity(self.series.len());
        for (symbol, s) in self.symbols.iter().zip(self.series.iter()) {
            let bars = s.bars();
            let (first, past) = window(&|i| bars[i].ts, bars.len());
            if first == past {
                return Err(DataError::EmptySlice { symbol: symbol.clone(), start, end });
            }
            series.push(Series { bars: Arc::clone(&s.bars), start: s.start + first, end: s.start + past });
        }
        let timeline = self.timeline();
        let (first, past) = window(&|i| timeline[i], timeline.len());
        Ok(Universe {
            symbols: Arc::clone(&self.symbols),
            series: series.into(),
            timeline: Arc::clone(&self.timeline),
            steps: (self.steps.0 + first, self.steps.0 + past),
        })
    }

    /// Returns the median spacing in milliseconds between consecutive timeline
    /// steps (the upper median for an even count), or `None` with fewer than 2
    /// steps. A display hint such as "1 day" or "1 hour"; it allocates one
    /// `i64` per step.
    pub fn interval_hint(&self) -> Option<i64> {
        let mut gaps: Vec<i64> =
            self.timeline().windows(2).map(|w| w[1].millis().saturating_sub(w[0].millis())).collect();
        if gaps.is_empty() {
            return None;
        }
        let middle = gaps.len() / 2;
        Some(*gaps.select_nth_unstable(middle).1)
    }
}

impl fmt::Debug for Universe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let timeline = self.timeline();
        let mut out = f.debug_struct("Universe");
        out.field("symbols", &self.symbols)
            .field("bars", &self.series.iter().map(|s| s.end - s.start).collect::<Vec<_>>())
            .field("steps", &timeline.len())
            .field("first", &timeline.first())
            .field("last", &timeline.last());
        out.finish()
    }
}

/// The number of leading indices in `0..len` for which `before` holds
/// (`before` must be true on a prefix, false after).
fn partition(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Refuses an empty list, invalid names and duplicates.
fn check_symbols<'a>(symbols: impl ExactSizeIterator<Item = &'a Symbol>) -> Result<(), DataError> {
    if symbols.len() == 0 {
        return Err(DataError::NoSymbols);
    }
    let mut seen = HashSet::new();
    for symbol in symbols {
        parse_symbol(symbol.as_str())?;
        if !seen.insert(symbol.as_str()) {
            return Err(DataError::DuplicateSymbol { symbol: symbol.clone() });
        }
    }
    Ok(())
}

/// The sorted union of every series' timestamps. One series is copied
/// straight; several are merged k ways (each series is already sorted).
fn merge_timestamps(series: &[Series]) -> Vec<Timestamp> {
    if let [only] = series {
        return only.bars().iter().map(|b| b.ts).collect();
    }
    let mut cursors = vec![0usize; series.len()];
    let mut heap: BinaryHeap<Reverse<(Timestamp, usize)>> =
        series.iter().enumerate().filter_map(|(i, s)| s.bars().first().map(|b| Reverse((b.ts, i)))).collect();
    let longest = series.iter().map(|s| s.end - s.start).max().unwrap_or(0);
    let mut merged = Vec::with_capacity(longest);
    while let Some(Reverse((ts, i))) = heap.pop() {
        if merged.last() != Some(&ts) {
            merged.push(ts);
        }
        cursors[i] += 1;
        if let Some(bar) = series[i].bars().get(cursors[i]) {
            heap.push(Reverse((bar.ts, i)));
        }
    }
    merged.shrink_to_fit();
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_timestamp;
    use rust_decimal::Decimal;

    fn ts(text: &str) -> Timestamp {
        parse_timestamp(text).unwrap()
    }

    fn bars(days: &[&str]) -> Vec<Bar> {
        days.iter()
            .enumerate()
            .map(|(i, day)| {
                let p = Decimal::from(100 + i as i64);
                Bar { ts: ts(day), open: p, high: p, low: p, close: p, volume: 1.0 }
            })
            .collect()
    }

    fn texts(stamps: &[Timestamp]) -> Vec<String> {
        stamps.iter().map(|t| t.to_text()).collect()
    }

    fn two() -> Universe {
        Universe::new(vec![
            (Symbol::new("AAA"), bars(&["2020-01-01", "2020-01-02", "2020-01-06"])),
            (Symbol::new("BTC/USD"), bars(&["2020-01-02", "2020-01-03", "2020-01-04", "2020-01-05"])),
        ])
        .unwrap()
    }

    #[test]
    fn different_calendars_merge_into_the_union_timeline() {
        let u = two();
        assert_eq!(u.symbols(), &[Symbol::new("AAA"), Symbol::new("BTC/USD")]);
        assert_eq!(u.symbol_index("BTC/USD"), Some(1));
        assert_eq!(u.symbol_index("btc/usd"), None);
        assert_eq!(
            texts(u.timeline()),
            ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04", "2020-01-05", "2020-01-06"]
        );
        assert_eq!(u.len(), 6);
        assert!(!u.is_empty());
        assert_eq!(u.bars(0).len(), 3);
        assert_eq!(u.bars(1).len(), 4);
        assert_eq!(u.interval_hint(), Some(86_400_000));
    }

    #[test]
    fn merge_of_many_series_matches_sort_and_dedup() {
        let days: Vec<String> = (1..=28).map(|d| format!("2021-02-{d:02}")).collect();
        let pick = |step: usize, offset: usize| -> Vec<&str> {
            days.iter().skip(offset).step_by(step).map(String::as_str).collect()
        };
        let series = vec![
            (Symbol::new("A"), bars(&pick(2, 0))),
            (Symbol::new("B"), bars(&pick(3, 1))),
            (Symbol::new("C"), bars(&pick(5, 0))),
            (Symbol::new("D"), bars(&pick(7, 6))),
        ];
        let mut expected: Vec<Timestamp> = series.iter().flat_map(|(_, b)| b.iter().map(|b| b.ts)).collect();
        expected.sort_unstable();
        expected.dedup();
        let u = Universe::new(series).unwrap();
        assert_eq!(u.timeline(), &expected[..]);
    }

    #[test]
    fn single_symbol_timeline_is_its_own_timestamps() {
        let u = Universe::new(vec![(Symbol::new("X"), bars(&["2020-01-01", "2020-01-03"]))]).unwrap();
        assert_eq!(texts(u.timeline()), ["2020-01-01", "2020-01-03"]);
        assert_eq!(u.interval_hint(), Some(2 * 86_400_000));
        let one = Universe::new(vec![(Symbol::new("X"), bars(&["2020-01-01"]))]).unwrap();
        assert_eq!(one.interval_hint(), None);
    }

    #[test]
    fn bars_are_not_forward_filled() {
        let u = two();
        // AAA trades on the 2nd and the 6th, nothing in between.
        assert!(u.bar_at(0, ts("2020-01-02")).is_some());
        for day in ["2020-01-03", "2020-01-04", "2020-01-05"] {
            assert_eq!(u.bar_at(0, ts(day)), None, "{day}");
        }
        assert_eq!(u.bar_at(1, ts("2020-01-01")), None);
        assert_eq!(u.bar_at(1, ts("2020-01-03")).unwrap().close, Decimal::from(101));
        assert!(u.bars(0).iter().all(|b| b.ts != ts("2020-01-04")));
    }

    #[test]
    fn construction_errors() {
        let good = || bars(&["2020-01-01"]);
        type Case = (Vec<(Symbol, Vec<Bar>)>, fn(&DataError) -> bool, &'static str);
        let cases: Vec<Case> = vec![
            (vec![], |e| matches!(e, DataError::NoSymbols), "at least one symbol"),
            (
                vec![(Symbol::new("A"), good()), (Symbol::new("A"), good())],
                |e| matches!(e, DataError::DuplicateSymbol { .. }),
                "symbol A is given more than once",
            ),
            (
                vec![(Symbol::new("A"), good()), (Symbol::new("B"), vec![])],
                |e| matches!(e, DataError::NoBars { .. }),
                "symbol B has no bars",
            ),
            (
                vec![(Symbol::new("bad name"), good())],
                |e| matches!(e, DataError::InvalidSymbol { .. }),
                "invalid symbol \"bad name\"",
            ),
            (
                vec![(Symbol::new("A"), bars(&["2020-01-02", "2020-01-01"]))],
                |e| matches!(e, DataError::UnsortedBars { index: 1, .. }),
                "bar 1 at 2020-01-01 follows 2020-01-02",
            ),
            (
                vec![(Symbol::new("A"), bars(&["2020-01-01", "2020-01-01"]))],
                |e| matches!(e, DataError::UnsortedBars { index: 1, .. }),
                "not in strictly increasing time order",
            ),
        ];
        for (series, check, needle) in cases {
            let err = Universe::new(series).unwrap_err();
            assert!(check(&err), "{err:?}");
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn slice_keeps_inclusive_bounds_and_shares_bars() {
        let u = two();
        let s = u.slice(Some(ts("2020-01-02")), Some(ts("2020-01-05"))).unwrap();
        assert_eq!(texts(s.timeline()), ["2020-01-02", "2020-01-03", "2020-01-04", "2020-01-05"]);
        assert_eq!(texts(&s.bars(0).iter().map(|b| b.ts).collect::<Vec<_>>()), ["2020-01-02"]);
        assert_eq!(s.bars(1).len(), 4);
        assert!(std::ptr::eq(&s.bars(1)[0], &u.bars(1)[0]), "bars are shared");

        let open_start = u.slice(None, Some(ts("2020-01-02"))).unwrap();
        assert_eq!(texts(open_start.timeline()), ["2020-01-01", "2020-01-02"]);
        let open_end = u.slice(Some(ts("2020-01-05")), None).unwrap();
        assert_eq!(texts(open_end.timeline()), ["2020-01-05", "2020-01-06"]);
        let err = open_end.slice(Some(ts("2020-01-06")), None).unwrap_err();
        assert!(matches!(err, DataError::EmptySlice { .. }), "{err:?}");
        assert_eq!(err.to_string(), "symbol BTC/USD has no bars from 2020-01-06 to the end");

        let nested = u.slice(Some(ts("2020-01-02")), None).unwrap().slice(None, Some(ts("2020-01-03"))).unwrap();
        assert_eq!(texts(nested.timeline()), ["2020-01-02", "2020-01-03"]);
        assert_eq!(nested.bars(0).len(), 1);
        assert_eq!(nested.bars(1).len(), 2);
        assert_eq!(u.slice(None, None).unwrap().timeline(), u.timeline());

        let err = u.slice(Some(ts("2020-01-03")), Some(ts("2020-01-05"))).unwrap_err();
        assert_eq!(err.to_string(), "symbol AAA has no bars from 2020-01-03 to 2020-01-05");
        let err = u.slice(Some(ts("2020-01-05")), Some(ts("2020-01-02"))).unwrap_err();
        assert!(matches!(err, DataError::EmptySlice { .. }));
        let err = u.slice(None, Some(ts("2019-12-31"))).unwrap_err();
        assert_eq!(err.to_string(), "symbol AAA has no bars from the start to 2019-12-31");
    }

    #[test]
    fn symbol_rule() {
        for ok in ["GOOG", "orcl-1995-2014", "BTC/USD", "ES:CME", "BRK.B", "a_b", &"X".repeat(32)] {
            assert!(parse_symbol(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "é", "A=B", "a\\b", &"X".repeat(33)] {
            let err = parse_symbol(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn load_reads_every_spec_and_checks_names_first() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, days: &[&str]| {
            let mut text = String::from("Date,Open,High,Low,Close,Volume\n");
            for day in days {
                text.push_str(&format!("{day},1,1,1,1,1\n"));
            }
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let a = write("a.csv", &["2020-01-01", "2020-01-03"]);
        let b = write("b.csv", &["2020-01-02"]);
        let spec =
            |symbol: &str, path: &std::path::Path| DataSpec { symbol: Symbol::new(symbol), path: path.to_path_buf() };
        let u = Universe::load(&[spec("A", &a), spec("B", &b)]).unwrap();
        assert_eq!(texts(u.timeline()), ["2020-01-01", "2020-01-02", "2020-01-03"]);
        assert_eq!(format!("{u:?}").lines().count(), 1);

        let missing = dir.path().join("missing.csv");
        let err = Universe::load(&[spec("A", &a), spec("A", &missing)]).unwrap_err();
        assert!(matches!(err, DataError::DuplicateSymbol { .. }), "{err:?}");
        let err = Universe::load(&[spec("A", &a), spec("M", &missing)]).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err:?}");
        assert!(matches!(Universe::load(&[]), Err(DataError::NoSymbols)));
    }

    #[test]
    fn real_files_universe_merges_and_slices() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
        let load = |args: &[String]| {
            let specs: Vec<DataSpec> = args.iter().map(|a| DataSpec::parse(a).unwrap()).collect();
            Universe::load(&specs).unwrap()
        };
        // Disjoint calendars (GOOG ends 2013, EURUSD starts 2017): the union.
        let u = load(&[format!("{dir}/GOOG.csv"), format!("EURUSD={dir}/EURUSD.csv")]);
        assert_eq!(u.symbols(), &[Symbol::new("GOOG"), Symbol::new("EURUSD")]);
        assert_eq!(u.len(), 2148 + 5000);
        assert_eq!(u.interval_hint(), Some(3_600_000));
        let err = u.slice(Some(ts("2017-01-01")), None).unwrap_err();
        assert_eq!(err.to_string(), "symbol GOOG has no bars from 2017-01-01 to the end");

        // NVDA and YHOO trade on a subset of ORCL's days.
        let u = load(&[
            format!("{dir}/orcl-1995-2014.csv"),
            format!("NVDA={dir}/nvda-1999-2014.csv"),
            format!("YHOO={dir}/yhoo-1996-2014.csv"),
        ]);
        assert_eq!(u.len(), 5036);
        assert_eq!(u.timeline(), &u.bars(0).iter().map(|b| b.ts).collect::<Vec<_>>()[..]);
        assert_eq!(u.interval_hint(), Some(86_400_000));
        let y2000 = u.slice(Some(ts("2000-01-01")), Some(ts("2000-12-31"))).unwrap();
        assert_eq!(y2000.len(), 252);
        assert!((0..3).all(|i| y2000.bars(i).len() == 252));
    }
}
