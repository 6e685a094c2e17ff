//! Second, coarser timeframes of a symbol: its bars resampled (e.g. 1m →
//! 1h), of which a strategy sees only completed ones.
//!
//! A coarse bar is complete once the symbol has shown a bar that ends at or
//! after the coarse bar's end: `bar.ts + spacing ≥ bucket start + interval`,
//! where the spacing is the smallest gap between the symbol's bars. So at
//! the close of the 10:04 minute bar the 10:00–10:05 bar is complete, while
//! a daily series whose week ends on Friday completes that week with
//! Monday's bar (Friday's bar ends on Saturday, before the week does). A bar
//! still forming is never visible.

use crate::data::{resample, Interval, Universe};
use crate::domain::Bar;

use super::CtxError;

/// The most timeframes one strategy may declare.
pub const MAX_TIMEFRAMES: usize = 16;

/// The timeframes a strategy declared, in declaration order (handles).
#[derive(Debug, Default)]
pub struct Timeframes {
    frames: Vec<Frame>,
}

#[derive(Debug)]
struct Frame {
    symbol: usize,
    bars: Vec<Bar>,
    interval_ms: i64,
    /// Smallest gap between the symbol's own bars.
    spacing_ms: i64,
    /// How many coarse bars are complete at the current step.
    complete: usize,
}

impl Timeframes {
    /// Declares `symbol` resampled to `interval` (e.g. "1h"); returns its handle.
    ///
    /// # Errors
    /// A bad interval, one finer than (or not a multiple of) the symbol's
    /// spacing, or too many timeframes.
    pub fn declare(&mut self, universe: &Universe, symbol: usize, interval: &str) -> Result<usize, CtxError> {
        if self.frames.len() >= MAX_TIMEFRAMES {
            return Err(CtxError::Timeframe(format!("at most {MAX_TIMEFRAMES} timeframes can be declared")));
        }
        let interval = Interval::parse(interval).map_err(|e| CtxError::Timeframe(e.to_string()))?;
        let source = universe.bars(symbol);
        let bars = resample(source, interval).map_err(|e| CtxError::Timeframe(e.to_string()))?;
        let spacing_ms = source.windows(2).map(|w| w[1].ts.millis() - w[0].ts.millis()).min().unwrap_or(i64::MAX);
        self.frames.push(Frame { symbol, bars, interval_ms: interval.millis(), spacing_ms, complete: 0 });
        Ok(self.frames.len() - 1)
    }

    /// Takes the step's fresh bars: coarse bars they complete become visible.
    #[inline]
    pub fn advance(&mut self, fresh: &[Option<Bar>]) {
        for frame in &mut self.frames {
            let Some(bar) = fresh[frame.symbol] else { continue };
            let seen_until = bar.ts.millis().saturating_add(frame.spacing_ms);
            while let Some(next) = frame.bars.get(frame.complete) {
                if next.ts.millis().saturating_add(frame.interval_ms) > seen_until {
                    break;
                }
                frame.complete += 1;
            }
        }
    }

    /// The completed coarse bar `k` back (0 = the latest completed);
    /// `None` while fewer than k + 1 are complete.
    ///
    /// # Errors
    /// An unknown handle, or `k` not below `lookback`.
    pub fn bar(&self, handle: usize, k: usize, lookback: usize) -> Result<Option<Bar>, CtxError> {
        let frame = self.frames.get(handle).ok_or(CtxError::UnknownTimeframe { handle, count: self.frames.len() })?;
        if k >= lookback {
            return Err(CtxError::BeyondLookback { k, lookback });
        }
        Ok((k < frame.complete).then(|| frame.bars[frame.complete - 1 - k]))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::domain::{Symbol, Timestamp};

    fn minute_bars(closes: &[i64]) -> Vec<Bar> {
        closes
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let p = Decimal::from(c);
                Bar::from_decimals(Timestamp(i as i64 * 60_000), [p; 4], 1.0).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_coarse_bar_appears_with_the_last_fine_bar_of_its_interval_and_not_before() {
        let bars = minute_bars(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        let universe = Universe::new(vec![(Symbol::new("X"), bars.clone())]).unwrap();
        let mut tf = Timeframes::default();
        let h = tf.declare(&universe, 0, "5m").unwrap();
        let mut seen = Vec::new();
        for bar in &bars {
            tf.advance(&[Some(*bar)]);
            seen.push(tf.bar(h, 0, 2).unwrap().map(|b| b.close()));
        }
        let d = |x: i64| Some(Decimal::from(x));
        // Minutes 0-4 complete at minute 4 (close 5), 5-9 at minute 9 (close 10); 10 is still forming.
        assert_eq!(seen, [None, None, None, None, d(5), d(5), d(5), d(5), d(5), d(10), d(10)]);
        let previous = tf.bar(h, 1, 2).unwrap().unwrap();
        assert_eq!((previous.open(), previous.high(), previous.low()), (Decimal::ONE, Decimal::from(5), Decimal::ONE));
        assert!(tf.bar(h, 2, 2).is_err(), "beyond the lookback");
        assert!(tf.bar(7, 0, 2).is_err(), "unknown handle");
    }

    #[test]
    fn bad_intervals_are_refused_with_the_reason() {
        let universe = Universe::new(vec![(Symbol::new("X"), minute_bars(&[1, 2, 3]))]).unwrap();
        let mut tf = Timeframes::default();
        assert!(tf.declare(&universe, 0, "90s").unwrap_err().to_string().contains("multiple"));
        assert!(tf.declare(&universe, 0, "30s").unwrap_err().to_string().contains("not coarser"));
        assert!(tf.declare(&universe, 0, "hourly").unwrap_err().to_string().contains("invalid interval"));
    }
}
