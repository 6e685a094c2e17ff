//! One step of the run loop, split where the strategy's own work goes, so
//! that the engine's loop and a strategy runtime that drives the loop itself
//! (a WASM plugin's `bt_on_bars`) do exactly the same work in the same order.
//!
//! A step t (timestamp `ts`):
//! 1. `begin_step`: each symbol with a bar stamped `ts` gets it
//!    as its fresh bar; the broker fills what those bars allow (orders from
//!    earlier steps); the indicators and timeframes take the bars;
//! 2. the strategy's `on_bar`, seeing bars up to t and nothing later;
//! 3. `end_step`: with trade-on-close, market orders fill at t's
//!    close; the margin is checked; the account is marked at the close and
//!    recorded in the equity curve.

use std::cell::RefCell;
use std::rc::Rc;

use super::state::RunState;

/// The steps the engine hands to a strategy that drives the loop itself,
/// taken one at a time through a [`BarLoop`].
#[derive(Debug, Default)]
pub(super) struct StepQueue {
    /// The next step to begin.
    next: usize,
    /// One past the last step queued.
    end: usize,
    /// Whether a step has begun and not yet ended.
    open: bool,
}

impl StepQueue {
    /// Whether every queued step has begun and ended.
    pub(super) fn is_done(&self) -> bool {
        self.next == self.end && !self.open
    }
}

impl RunState {
    /// Starts step `step`: fresh bars, fills at the open and in the bars'
    /// ranges, indicators and timeframes.
    #[inline]
    pub(super) fn begin_step(&mut self, step: usize) {
        let timeline = self.market.timeline();
        let ts = timeline[step];
        self.previous_ts = step.checked_sub(1).map(|p| timeline[p]);
        self.step = step;
        self.ts = ts;
        self.market.advance(ts);
        self.broker.on_bar_open(step, ts, self.market.fresh());
        self.indicators.update(self.market.fresh(), self.market.seen());
        self.timeframes.advance(self.market.fresh());
    }

    /// Ends the current step: fills at the close (trade-on-close), the
    /// margin check, and the step's point of the equity curve.
    #[inline]
    pub(super) fn end_step(&mut self) {
        self.broker.on_bar_close(self.step, self.ts, self.market.fresh());
        self.equity.push(self.broker.snapshot());
    }

    /// Queues steps `from..to` for a strategy that drives the loop itself.
    pub(super) fn queue_steps(&mut self, from: usize, to: usize) {
        self.steps = StepQueue { next: from, end: to, open: false };
    }

    /// Ends the step handed out last, if any, and begins the next queued
    /// one; false (with nothing begun) once the queue is empty or the run is
    /// cancelled (the engine then reports the cancellation).
    #[inline]
    pub(super) fn next_step(&mut self) -> bool {
        if self.steps.open {
            self.end_step();
            self.steps.open = false;
        }
        if self.steps.next == self.steps.end || self.cancel.is_cancelled() {
            return false;
        }
        let step = self.steps.next;
        self.steps.next += 1;
        self.steps.open = true;
        self.begin_step(step);
        true
    }
}

/// The one thing a strategy that drives the bar loop itself may do to the
/// run besides what [`StrategyCtx`](super::StrategyCtx) offers: take the
/// next of the steps the engine queued. Handed to
/// [`Strategy::on_bars`](crate::strategy::Strategy::on_bars) only.
#[derive(Clone, Debug)]
pub struct BarLoop(Rc<RefCell<RunState>>);

impl BarLoop {
    /// A handle on `state`'s queued steps.
    pub(super) fn new(state: Rc<RefCell<RunState>>) -> Self {
        BarLoop(state)
    }

    /// Ends the step handed out last, if any, and begins the next queued
    /// one; false (with nothing begun) once the queue is empty or the run is
    /// cancelled (the engine then reports the cancellation).
    ///
    /// # Panics
    /// If called from within a strategy call that holds the context's state
    /// (no [`StrategyCtx`](super::StrategyCtx) method returns while holding it).
    #[inline]
    pub fn next(&self) -> bool {
        self.0.borrow_mut().next_step()
    }
}
