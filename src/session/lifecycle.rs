//! A run's session as the engine drives it through its phases: built for
//! `init`, switched to the bars, stepped, finished. The engine holds the
//! [`Session`]; the strategy holds only its [`StrategyCtx`].

use rust_decimal::Decimal;

use crate::broker::{Broker, BrokerConfig};
use crate::data::Universe;
use crate::domain::{CancelToken, EquityCurve, Timestamp};

use super::crossing::Crossings;
use super::state::{Phase, RunState};
use super::{
    BarLoop, IndicatorBank, MarketView, ParamSpec, Params, RunLog, SharedIndicators, StepQueue, StrategyCtx, Timeframes,
};

/// One run's state, owned by the engine: what it needs to step the run
/// that the strategy's [`StrategyCtx`] does not offer.
#[derive(Debug)]
pub struct Session {
    ctx: StrategyCtx,
}

/// What a finished session hands to the run's report.
#[derive(Debug)]
pub struct Finished<'a> {
    /// One point per step, the last one after everything was closed.
    pub equity: EquityCurve,
    /// The strategy's log lines.
    pub log: RunLog,
    /// The broker, holding the trades, rejections and margin calls.
    pub broker: &'a mut Broker,
}

impl Session {
    /// A session over `universe` (at least one bar), in its `init` phase,
    /// whose steps begin at index `first_step` of the universe's timeline:
    /// the bars before it only warm up (see [`Session::warm_up`]).
    ///
    /// # Panics
    /// If `first_step` is not an index of the universe's timeline (the
    /// engine refuses such a run first).
    pub fn new(
        universe: &Universe,
        first_step: usize,
        broker: BrokerConfig,
        declared_params: Vec<ParamSpec>,
        params: Params,
        cancel: CancelToken,
    ) -> Self {
        let symbols = universe.symbols().to_vec();
        let ctx = StrategyCtx::new(RunState {
            phase: Phase::Init,
            step: 0,
            ts: universe.timeline()[first_step],
            previous_ts: None,
            market: MarketView::new(universe.clone(), first_step),
            indicators: IndicatorBank::new(symbols.len()),
            timeframes: Timeframes::default(),
            broker: Broker::new(broker, symbols),
            params,
            declared_params,
            log: RunLog::default(),
            equity: EquityCurve::default(),
            steps: StepQueue::default(),
            cancel,
            crossings: Crossings::default(),
        });
        Session { ctx }
    }

    /// The strategy's handle on this session.
    pub fn ctx(&self) -> &StrategyCtx {
        &self.ctx
    }

    /// Ends `init`: the indicators keep as much history as the declared
    /// lookback and read the universe's price columns (or take their values
    /// from `shared`, see [`SharedIndicators`]), and orders are allowed from
    /// now on.
    pub fn start_bars(&self, shared: Option<&SharedIndicators>) {
        let mut guard = self.ctx.state_mut();
        let state = &mut *guard;
        let depth = state.market.lookback();
        state.indicators.set_depth(depth);
        state.indicators.attach_prices(state.market.universe(), shared);
        state.equity = EquityCurve::with_capacity(state.market.timeline().len());
        state.phase = Phase::Bar;
    }

    /// Takes in the bars before the first step, as history: the strategy's
    /// view of the bars, its indicators and timeframes advance through them
    /// as through steps, but the broker does not see them, no equity is
    /// recorded and the strategy is not called. So the first step sees the
    /// indicator values a run over the whole universe sees there, and
    /// starts with the initial cash, flat. Nothing to do without a warm-up.
    pub fn warm_up(&self) {
        let mut guard = self.ctx.state_mut();
        let state = &mut *guard;
        for i in 0..state.market.history().len() {
            let ts = state.market.history()[i];
            state.market.advance(ts);
            state.indicators.update(state.market.fresh(), state.market.seen());
            state.timeframes.advance(state.market.fresh());
        }
    }

    /// Begins step `step` (see [`super::steps`]).
    #[inline]
    pub fn begin_step(&self, step: usize) {
        self.ctx.state_mut().begin_step(step);
    }

    /// Ends the current step (see [`super::steps`]).
    #[inline]
    pub fn end_step(&self) {
        self.ctx.state_mut().end_step();
    }

    /// Queues steps `from..to` for a strategy that drives the loop itself,
    /// and returns the handle it takes them with.
    pub fn queue_steps(&self, from: usize, to: usize) -> BarLoop {
        self.ctx.state_mut().queue_steps(from, to);
        BarLoop::new(self.ctx.shared().clone())
    }

    /// Whether every queued step has begun and ended.
    pub fn queue_done(&self) -> bool {
        self.ctx.state().steps.is_done()
    }

    /// How many steps the run's timeline has.
    pub fn steps(&self) -> usize {
        self.ctx.state().market.timeline().len()
    }

    /// The current step and its timestamp.
    pub fn at(&self) -> (usize, Timestamp) {
        let state = self.ctx.state();
        (state.step, state.ts)
    }

    /// The equity recorded at the end of step `step`.
    ///
    /// # Panics
    /// If step `step` has not ended.
    pub fn equity_at(&self, step: usize) -> Decimal {
        self.ctx.state().equity.amount(step).expect("the step has ended")
    }

    /// Moves to `on_finish`, after the last bar.
    pub fn start_finish(&self) {
        self.ctx.state_mut().phase = Phase::Finish;
    }

    /// Closes every position at the last step's prices, ends the equity
    /// curve at what the account then holds (so that trade PnL sums to the
    /// curve's change), and hands the results to `report`.
    pub fn finish<R>(&self, report: impl FnOnce(Finished<'_>) -> R) -> R {
        let mut guard = self.ctx.state_mut();
        let state = &mut *guard;
        let timeline = state.market.timeline();
        let last = timeline.len() - 1;
        state.broker.finish(last, timeline[last]);
        let mut equity = std::mem::take(&mut state.equity);
        equity.set_last(state.broker.snapshot());
        let log = std::mem::take(&mut state.log);
        report(Finished { equity, log, broker: &mut state.broker })
    }
}
