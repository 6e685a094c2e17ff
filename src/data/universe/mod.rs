//! A run's universe: its symbols, their bars, and the merged clock the engine steps through.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::domain::{is_valid_symbol, large_vec, Bar, PriceField, Symbol, Timestamp};

use super::error::DataError;
use super::loader::Loader;
use super::spec::DataSpec;

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

/// One symbol's bars, shareable between universes (and kept by caches of
/// parsed datasets) together with their prices as f64, which are computed
/// the first time a run asks for them (see [`Universe::price_column`]).
/// Cheap to clone.
#[derive(Clone)]
pub struct SharedSeries(Arc<SeriesData>);

struct SeriesData {
    bars: Arc<Vec<Bar>>,
    /// Per [`PriceField`], in its order: each bar's price as the nearest f64.
    columns: [OnceLock<Arc<[f64]>>; 4],
}

impl SharedSeries {
    /// Shares `bars` (no column computed yet).
    pub fn new(bars: Arc<Vec<Bar>>) -> Self {
        let columns = [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
        SharedSeries(Arc::new(SeriesData { bars, columns }))
    }

    /// The bars, in time order.
    pub fn bars(&self) -> &Arc<Vec<Bar>> {
        &self.0.bars
    }
}

/// One symbol's bars: a window `start..end` onto shared storage, so slicing
/// and cloning never copy bars.
struct Series {
    data: SharedSeries,
    start: usize,
    end: usize,
}

impl Series {
    fn bars(&self) -> &[Bar] {
        &self.data.0.bars[self.start..self.end]
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
    /// The same symbols with their bars resampled to `interval`.
    ///
    /// # Errors
    /// An interval that is not coarser than (or not a multiple of) a
    /// symbol's spacing, naming the symbol.
    pub fn resampled(&self, interval: super::Interval) -> Result<Universe, DataError> {
        let mut series = Vec::with_capacity(self.symbols().len());
        for (s, symbol) in self.symbols().iter().enumerate() {
            let bars = super::resample(self.bars(s), interval)
                .map_err(|reason| DataError::Resample { symbol: symbol.clone(), reason })?;
            series.push((symbol.clone(), bars));
        }
        Universe::new(series)
    }

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
        Universe::from_shared(
            series.into_iter().map(|(symbol, bars)| (symbol, SharedSeries::new(Arc::new(bars)))).collect(),
        )
    }

    /// Like [`Universe::new`], with bars already shared (e.g. from a cache of
    /// parsed datasets), so that building a universe copies no bars and
    /// reuses the f64 prices earlier runs computed.
    ///
    /// # Errors
    /// As [`Universe::new`].
    pub fn from_shared(series: Vec<(Symbol, SharedSeries)>) -> Result<Universe, DataError> {
        check_symbols(series.iter().map(|(symbol, _)| symbol))?;
        // A lone series' times are the timeline: kept in the pass that
        // checks their order rather than read again from its bars.
        let mut lone_timeline = (series.len() == 1).then(|| large_vec(series[0].1.bars().len()));
        for (symbol, shared) in &series {
            let bars = shared.bars();
            if bars.is_empty() {
                return Err(DataError::NoBars { symbol: symbol.clone() });
            }
            let out_of_order = match &mut lone_timeline {
                Some(times) => first_out_of_order_keeping(bars, times),
                None => bars.windows(2).position(|w| w[1].ts <= w[0].ts).map(|i| i + 1),
            };
            if let Some(i) = out_of_order {
                return Err(DataError::UnsortedBars {
                    symbol: symbol.clone(),
                    index: i,
                    ts: bars[i].ts,
                    prev_ts: bars[i - 1].ts,
                });
            }
        }
        let (symbols, series): (Vec<Symbol>, Vec<Series>) = series
            .into_iter()
            .map(|(symbol, data)| {
                let end = data.bars().len();
                (symbol, Series { data, start: 0, end })
            })
            .unzip();
        let timeline = lone_timeline.unwrap_or_else(|| merge_timestamps(&series));
        let steps = (0, timeline.len());
        Ok(Universe { symbols: symbols.into(), series: series.into(), timeline: Arc::new(timeline), steps })
    }

    /// Loads every spec with `loader`, in order (the first spec's symbol is
    /// the primary one).
    ///
    /// Returns the universe of all of them.
    ///
    /// # Errors
    /// [`DataError::NoSymbols`], [`DataError::InvalidSymbol`] and
    /// [`DataError::DuplicateSymbol`] before any file is read; then the first
    /// error of any file's loading; then those of [`Universe::new`].
    pub fn load(specs: &[DataSpec], loader: &Loader) -> Result<Universe, DataError> {
        check_symbols(specs.iter().map(|spec| &spec.symbol))?;
        let series = specs
            .iter()
            .map(|spec| Ok((spec.symbol.clone(), SharedSeries::new(loader.load(&spec.path)?.bars))))
            .collect::<Result<Vec<_>, DataError>>()?;
        Universe::from_shared(series)
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

    /// Price `field` of every bar of symbol `symbol` as the nearest f64 (what
    /// `num::to_f64` gives), with the index in it of this universe's first bar
    /// of that symbol: bar `i` of [`bars`](Self::bars) is at `offset + i`.
    /// Computed on first use and shared by every clone and slice of the
    /// universe, so that the indicators of every run over the same data read
    /// prices without converting them on each bar.
    ///
    /// # Panics
    /// If `symbol` is out of range.
    pub fn price_column(&self, symbol: usize, field: PriceField) -> (Arc<[f64]>, usize) {
        let series = &self.series[symbol];
        let data = &series.data.0;
        let column = data.columns[field as usize]
            .get_or_init(|| data.bars.iter().map(|bar| bar.narrow(field).to_f64()).collect());
        (Arc::clone(column), series.start)
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
            series.push(Series { data: s.data.clone(), start: s.start + first, end: s.start + past });
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

    /// Checks that every symbol's bars have the same usual spacing (see
    /// [`usual_spacing`]); symbols with a single bar have none and pass.
    ///
    /// # Errors
    /// The first two symbols whose spacings differ (daily and weekly, 1m
    /// and 5m, ...): a run would see the coarser bar's close at its start.
    pub fn check_common_spacing(&self) -> Result<(), DataError> {
        if self.symbols.len() < 2 {
            return Ok(()); // one spacing cannot differ from itself
        }
        let mut first: Option<(usize, i64)> = None;
        for s in 0..self.symbols.len() {
            let Some(spacing) = usual_spacing(self.bars(s).iter().map(|b| b.ts.millis())) else { continue };
            match first {
                None => first = Some((s, spacing)),
                Some((f, seen)) if !same_interval(seen, spacing) => {
                    return Err(DataError::MixedSpacing {
                        first_symbol: self.symbols[f].clone(),
                        first: super::Interval::from_millis(seen),
                        other_symbol: self.symbols[s].clone(),
                        other: super::Interval::from_millis(spacing),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// Whether two usual spacings are one interval: within a factor of 1.5, so
/// that months of 28 to 31 days agree while daily and 2-day bars do not.
pub fn same_interval(a: i64, b: i64) -> bool {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    high.saturating_mul(2) < low.saturating_mul(3)
}

/// The median gap in milliseconds between consecutive stamps (the lower
/// median for an even count, so that one weekend in three bars does not
/// count), or `None` with fewer than 2: a series' usual bar interval, which
/// weekends and holidays do not change.
pub fn usual_spacing(stamps: impl Iterator<Item = i64>) -> Option<i64> {
    let mut previous = None;
    let mut gaps: Vec<i64> = stamps.filter_map(|t| Some(t.saturating_sub(previous.replace(t)?))).collect();
    let middle = gaps.len().checked_sub(1)? / 2;
    Some(*gaps.select_nth_unstable(middle).1)
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

/// The index of the first bar of `bars` not strictly after the one before
/// it, if any; the times of the bars before it are pushed onto `times`.
fn first_out_of_order_keeping(bars: &[Bar], times: &mut Vec<Timestamp>) -> Option<usize> {
    let mut before = bars.first()?.ts;
    times.push(before);
    for (i, bar) in bars.iter().enumerate().skip(1) {
        if bar.ts <= before {
            return Some(i);
        }
        times.push(bar.ts);
        before = bar.ts;
    }
    None
}

/// The sorted union of several series' timestamps, merged k ways (each
/// series is already sorted). A lone series' timeline is kept while its
/// order is checked ([`first_out_of_order_keeping`]).
fn merge_timestamps(series: &[Series]) -> Vec<Timestamp> {
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
mod tests;
