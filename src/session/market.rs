//! What a strategy can see of the market: each symbol's bars up to now.

use crate::data::Universe;
use crate::domain::{Bar, Symbol, Timestamp};

use super::CtxError;

/// The largest lookback a strategy may declare.
pub const MAX_LOOKBACK: usize = 10_000;

/// Each symbol's bars up to the current step and no further.
///
/// The view holds the whole series but only answers for bars already seen:
/// `bar(s, k)` is the k-th bar back from symbol s's latest, and a future bar
/// has no index that reaches it. The run's steps may begin after the
/// universe's first timestamp: the timestamps before them are history,
/// taken in by [`MarketView::advance`] before the first step (a warm-up).
#[derive(Debug)]
pub struct MarketView {
    universe: Universe,
    /// Index in the universe's timeline of the run's first step.
    first: usize,
    /// How many bars of each symbol are at or before the current step.
    seen: Vec<usize>,
    /// Each symbol's bar at the current step, if it has one.
    fresh: Vec<Option<Bar>>,
    lookback: usize,
}

impl MarketView {
    /// A view before the first step, with a lookback of one bar (the
    /// current), whose steps begin at index `first` of the universe's
    /// timeline (at most its last index); the timestamps before it are its
    /// history.
    pub fn new(universe: Universe, first: usize) -> Self {
        let n = universe.symbols().len();
        MarketView { universe, first, seen: vec![0; n], fresh: vec![None; n], lookback: 1 }
    }

    /// Moves to the step at `ts`: symbols with a bar stamped `ts` get it as
    /// their fresh bar, the others none.
    #[inline]
    pub fn advance(&mut self, ts: Timestamp) {
        for (s, (seen, fresh)) in self.seen.iter_mut().zip(&mut self.fresh).enumerate() {
            match self.universe.bars(s).get(*seen) {
                Some(bar) if bar.ts == ts => {
                    *seen += 1;
                    // Straight into the slot when it holds a bar already (the
                    // usual case): `Some(*bar)` was built on the stack first.
                    match fresh {
                        Some(slot) => *slot = *bar,
                        None => *fresh = Some(*bar),
                    }
                }
                _ => *fresh = None,
            }
        }
    }

    /// The run's steps: every timestamp from the first step on at which
    /// some symbol has a bar.
    #[inline]
    pub fn timeline(&self) -> &[Timestamp] {
        &self.universe.timeline()[self.first..]
    }

    /// The timestamps before the run's first step: its warm-up.
    pub fn history(&self) -> &[Timestamp] {
        &self.universe.timeline()[..self.first]
    }

    /// How many bars of each symbol are at or before the current step.
    #[inline]
    pub fn seen(&self) -> &[usize] {
        &self.seen
    }

    /// Each symbol's bar at the current step, if any.
    pub fn fresh(&self) -> &[Option<Bar>] {
        &self.fresh
    }

    /// The whole data of the run (for resampling at declaration time only:
    /// strategies never read it directly).
    pub(super) fn universe(&self) -> &Universe {
        &self.universe
    }

    pub fn symbols(&self) -> &[Symbol] {
        self.universe.symbols()
    }

    /// Index of the symbol named `name`.
    ///
    /// # Errors
    /// The name is not in the run's universe.
    pub fn symbol_index(&self, name: &str) -> Result<usize, CtxError> {
        self.universe.symbol_index(name).ok_or_else(|| CtxError::UnknownSymbol {
            name: name.to_string(),
            known: self.symbols().iter().map(Symbol::as_str).collect::<Vec<_>>().join(", "),
        })
    }

    /// How many bars back a strategy may read (1 = only the latest).
    pub fn lookback(&self) -> usize {
        self.lookback
    }

    /// Sets how many bars back a strategy may read.
    ///
    /// # Errors
    /// 0 or more than [`MAX_LOOKBACK`].
    pub fn set_lookback(&mut self, bars: usize) -> Result<(), CtxError> {
        if bars == 0 || bars > MAX_LOOKBACK {
            return Err(CtxError::LookbackOutOfRange { requested: bars, max: MAX_LOOKBACK });
        }
        self.lookback = bars;
        Ok(())
    }

    /// Symbol `s`'s bar `k` bars back from its latest (0 = latest); `None`
    /// while fewer than k + 1 bars have been seen.
    ///
    /// # Errors
    /// `k` is not below the declared lookback.
    #[inline]
    pub fn bar(&self, s: usize, k: usize) -> Result<Option<&Bar>, CtxError> {
        if k >= self.lookback {
            return Err(CtxError::BeyondLookback { k, lookback: self.lookback });
        }
        let seen = self.seen[s];
        Ok(if k < seen { self.universe.bars(s).get(seen - 1 - k) } else { None })
    }

    /// Whether symbol `s` has a bar at the current step.
    pub fn has_fresh_bar(&self, s: usize) -> bool {
        self.fresh[s].is_some()
    }
}
