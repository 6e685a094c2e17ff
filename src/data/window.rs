//! A run's window on its data: the range of time it trades and the interval
//! its bars are resampled to, applied the same way by the CLI and the
//! service to the run's universe and to its benchmark.

use std::sync::Arc;

use super::{resample, DataError, Interval, Universe};
use crate::domain::{Bar, Symbol, Timestamp};

/// The part of the data a run trades: bars from `start` to `end` (both
/// optional, inclusive), resampled to `resample` when given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataWindow {
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    resample: Option<Interval>,
}

/// Why a window could not be applied to a universe, by the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// The range leaves a symbol without bars ([`DataError::EmptySlice`]).
    #[error(transparent)]
    Range(DataError),
    /// A symbol's bars cannot be resampled to the interval.
    #[error(transparent)]
    Resample(DataError),
    /// The symbols are left with different bar spacings.
    #[error(transparent)]
    Spacing(DataError),
}

/// A range whose start is after its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("start {start} is after end {end}")]
pub struct ReversedRange {
    /// The start given.
    pub start: Timestamp,
    /// The end given, before the start.
    pub end: Timestamp,
}

impl DataWindow {
    /// The window from `start` to `end`, resampled to `resample`.
    ///
    /// # Errors
    /// `start` after `end`.
    pub fn new(
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        resample: Option<Interval>,
    ) -> Result<DataWindow, ReversedRange> {
        if let (Some(start), Some(end)) = (start, end) {
            if start > end {
                return Err(ReversedRange { start, end });
            }
        }
        Ok(DataWindow { start, end, resample })
    }

    /// The first timestamp a run takes in, if bounded.
    pub fn start(&self) -> Option<Timestamp> {
        self.start
    }

    /// The last timestamp a run takes in, if bounded.
    pub fn end(&self) -> Option<Timestamp> {
        self.end
    }

    /// The interval bars are resampled to, if any.
    pub fn resample(&self) -> Option<Interval> {
        self.resample
    }

    /// Restricts `universe` to the range, then resamples it, then checks
    /// that its symbols share one bar spacing; slicing first keeps a coarse
    /// bar from taking in source bars after `end`.
    ///
    /// # Errors
    /// A range that leaves a symbol without bars, an interval a symbol
    /// cannot be resampled to, or symbols left with different spacings.
    pub fn apply(&self, mut universe: Universe) -> Result<Universe, WindowError> {
        if self.start.is_some() || self.end.is_some() {
            universe = universe.slice(self.start, self.end).map_err(WindowError::Range)?;
        }
        if let Some(interval) = self.resample {
            universe = universe.resampled(interval).map_err(WindowError::Resample)?;
        }
        universe.check_common_spacing().map_err(WindowError::Spacing)?;
        Ok(universe)
    }

    /// A benchmark's bars as the run compares with them: cut at `end` (as
    /// for the data, a coarse bar must not take in bars after it) and
    /// resampled. The start is not applied: the benchmark is bought at its
    /// latest bar at or before the run's first step. The cut may leave no
    /// bars; the engine refuses such a benchmark, naming it.
    ///
    /// # Errors
    /// An interval `symbol`'s bars cannot be resampled to.
    pub fn benchmark_bars(&self, symbol: &Symbol, bars: &Arc<Vec<Bar>>) -> Result<Arc<Vec<Bar>>, DataError> {
        let bars = match self.end {
            Some(end) => Arc::new(bars.iter().take_while(|b| b.ts <= end).copied().collect()),
            None => Arc::clone(bars),
        };
        match self.resample {
            Some(interval) => resample(&bars, interval)
                .map(Arc::new)
                .map_err(|reason| DataError::Resample { symbol: symbol.clone(), reason }),
            None => Ok(bars),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::random_walk;

    const HOUR: i64 = 3_600_000;

    fn hourly(n: usize) -> Arc<Vec<Bar>> {
        Arc::new(random_walk(n, 7, Timestamp(0), HOUR))
    }

    #[test]
    fn a_reversed_range_is_refused() {
        let err = DataWindow::new(Some(Timestamp(2)), Some(Timestamp(1)), None).unwrap_err();
        assert_eq!((err.start, err.end), (Timestamp(2), Timestamp(1)));
        assert!(DataWindow::new(Some(Timestamp(1)), Some(Timestamp(1)), None).is_ok());
    }

    #[test]
    fn the_data_is_sliced_before_it_is_resampled() {
        let bars = hourly(48);
        let universe = Universe::new(vec![(Symbol::new("A"), bars.to_vec())]).unwrap();
        let day = Interval::parse("1d").unwrap();
        // Up to 05:00 of the first day: one daily bar made of 6 hourly ones.
        let window = DataWindow::new(None, Some(Timestamp(5 * HOUR)), Some(day)).unwrap();
        let out = window.apply(universe.clone()).unwrap();
        assert_eq!(out.bars(0).len(), 1);
        assert_eq!(out.bars(0)[0].close(), bars[5].close());
        let empty = DataWindow::new(Some(Timestamp(100 * HOUR)), None, None).unwrap();
        assert!(matches!(empty.apply(universe.clone()), Err(WindowError::Range(DataError::EmptySlice { .. }))));
        let finer = DataWindow::new(None, None, Some(Interval::parse("1m").unwrap())).unwrap();
        assert!(matches!(finer.apply(universe), Err(WindowError::Resample(_))));
    }

    #[test]
    fn a_benchmark_is_cut_at_the_end_and_resampled_alike() {
        let bars = hourly(48);
        let day = Interval::parse("1d").unwrap();
        let window = DataWindow::new(Some(Timestamp(30 * HOUR)), Some(Timestamp(5 * HOUR)), None);
        assert!(window.is_err());
        let window = DataWindow::new(None, Some(Timestamp(5 * HOUR)), Some(day)).unwrap();
        let cut = window.benchmark_bars(&Symbol::new("B"), &bars).unwrap();
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].close(), bars[5].close(), "no bar after the end was taken in");
        let before = DataWindow::new(None, Some(Timestamp(-1)), None).unwrap();
        assert!(before.benchmark_bars(&Symbol::new("B"), &bars).unwrap().is_empty());
        assert!(Arc::ptr_eq(&DataWindow::default().benchmark_bars(&Symbol::new("B"), &bars).unwrap(), &bars));
    }
}
