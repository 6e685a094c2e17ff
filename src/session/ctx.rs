//! The strategy context: the one API through which every strategy, native,
//! Rhai or WASM, reads the market and places orders.

use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;

use rust_decimal::Decimal;

use crate::domain::num::from_f64;
use crate::domain::{Bar, OrderId, OrderKind, OrderRequest, OrderSize, PositionView, Side, Symbol, Timestamp};
use crate::indicators::IndicatorSpec;

use super::crossing::CrossSide;
use super::state::{Phase, RunState};
use super::{declared_names, CtxError, IndicatorBank, IndicatorRef, ParamValue};

/// The second operand of a crossing test: another indicator or a level.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    /// An indicator output, by name or handle.
    Indicator(IndicatorRef<'a>),
    /// A fixed level, the same at every bar.
    Level(f64),
}

/// A strategy's handle on its run. Cheap to clone (runtimes keep one).
///
/// Reads answer only for bars up to the current step. Symbols are indexes
/// into [`StrategyCtx::symbols`]; 0 is the run's first (primary) symbol.
#[derive(Clone, Debug)]
pub struct StrategyCtx(Rc<RefCell<RunState>>);

impl StrategyCtx {
    /// Wraps a run's state.
    pub(super) fn new(state: RunState) -> Self {
        StrategyCtx(Rc::new(RefCell::new(state)))
    }

    /// The state, for the session's own modules (the engine's step, the
    /// portfolio helpers); never held across a strategy call.
    ///
    /// # Panics
    /// If a borrow is held elsewhere (none is: each method borrows only
    /// for its own duration).
    pub(super) fn state_mut(&self) -> RefMut<'_, RunState> {
        self.0.borrow_mut()
    }

    /// Read access to the state, for the session's own modules.
    pub(super) fn state(&self) -> Ref<'_, RunState> {
        self.0.borrow()
    }

    /// The shared state, for the handles the session gives the engine.
    pub(super) fn shared(&self) -> &Rc<RefCell<RunState>> {
        &self.0
    }

    // ---- time and symbols ----

    /// Index of the current step (bar index of the run's clock).
    pub fn step(&self) -> usize {
        self.0.borrow().step
    }

    /// Timestamp of the current step.
    pub fn time(&self) -> Timestamp {
        self.0.borrow().ts
    }

    /// The run's symbols, primary first.
    pub fn symbols(&self) -> Vec<Symbol> {
        self.0.borrow().market.symbols().to_vec()
    }

    /// How many symbols the run trades.
    pub fn symbol_count(&self) -> usize {
        self.0.borrow().market.symbols().len()
    }

    /// The name of symbol `symbol`; `None` past the last.
    pub fn symbol_name(&self, symbol: usize) -> Option<Symbol> {
        self.0.borrow().market.symbols().get(symbol).cloned()
    }

    /// Index of the symbol called `name`.
    ///
    /// # Errors
    /// The symbol is not traded in this run.
    pub fn symbol_index(&self, name: &str) -> Result<usize, CtxError> {
        self.0.borrow().market.symbol_index(name)
    }

    /// Whether `symbol` has a bar at the current step.
    pub fn has_bar(&self, symbol: usize) -> bool {
        self.0.borrow().market.has_fresh_bar(symbol)
    }

    // ---- bars and indicators ----

    /// `symbol`'s bar `k` bars back (0 = its latest); `None` before enough
    /// bars have been seen.
    ///
    /// # Errors
    /// `k` is not below the declared lookback.
    #[inline]
    pub fn bar(&self, symbol: usize, k: usize) -> Result<Option<Bar>, CtxError> {
        Ok(self.0.borrow().market.bar(symbol, k)?.copied())
    }

    /// Output `name` of a declared indicator, `k` of its symbol's bars back;
    /// `None` until the indicator is ready.
    ///
    /// # Errors
    /// The name is not declared, or `k` is beyond the kept history.
    #[inline]
    pub fn indicator<'a>(&self, r: impl Into<IndicatorRef<'a>>, k: usize) -> Result<Option<f64>, CtxError> {
        self.0.borrow().indicators.value(r.into(), k)
    }

    /// Reads the declared indicators' latest values through `read` (the
    /// bank's methods that change it are the session's own).
    #[inline]
    pub fn with_indicators<R>(&self, read: impl FnOnce(&IndicatorBank) -> R) -> R {
        read(&self.0.borrow().indicators)
    }

    /// True when `a` crossed above `b` on this bar (`above`), or below it;
    /// the rule is [`StrategyCtx::cross`]'s.
    ///
    /// # Errors
    /// An undeclared indicator name.
    pub fn crossed<'a>(&self, a: impl Into<IndicatorRef<'a>>, b: Operand<'_>, above: bool) -> Result<bool, CtxError> {
        let expected = if above { 1 } else { -1 };
        Ok(self.cross(a, b)? == expected)
    }

    /// 1 when `a` crossed above `b` on this bar (above now, below at the
    /// latest earlier bar where they differed), -1 when it crossed below, 0
    /// otherwise or while either is not ready (see [`super::crossing`]).
    ///
    /// # Errors
    /// An undeclared indicator name.
    pub fn cross<'a>(&self, a: impl Into<IndicatorRef<'a>>, b: Operand<'_>) -> Result<i8, CtxError> {
        let mut guard = self.0.borrow_mut();
        let state = &mut *guard;
        let ind = &state.indicators;
        let a = ind.handle_of(a.into())?;
        let (now_a, prev_a) = ind.now_and_previous(IndicatorRef::Handle(a))?;
        let (b, (now_b, prev_b)) = match b {
            Operand::Indicator(r) => {
                let h = ind.handle_of(r)?;
                (CrossSide::Output(h), ind.now_and_previous(IndicatorRef::Handle(h))?)
            }
            Operand::Level(level) => (CrossSide::Level(level.to_bits()), (Some(level), Some(level))),
        };
        Ok(state.crossings.test((a, b), state.step, (now_a, now_b), (prev_a, prev_b)))
    }

    // ---- portfolio ----

    /// `symbol`'s position, valued at its latest close.
    pub fn position(&self, symbol: usize) -> PositionView {
        self.0.borrow().broker.position(symbol)
    }

    /// Cash on hand.
    pub fn cash(&self) -> Decimal {
        self.0.borrow().broker.cash()
    }

    /// Cash plus positions at their latest closes.
    pub fn equity(&self) -> Decimal {
        self.0.borrow().broker.equity()
    }

    /// How many orders are waiting to fill, for one symbol or all.
    pub fn open_orders(&self, symbol: Option<usize>) -> usize {
        let state = self.0.borrow();
        let orders = state.broker.open_orders();
        match symbol {
            Some(s) => orders.iter().filter(|o| o.symbol == s).count(),
            None => orders.len(),
        }
    }

    // ---- parameters ----

    /// The run's value of parameter `name`.
    ///
    /// # Errors
    /// The strategy did not declare `name`.
    pub fn param(&self, name: &str) -> Result<ParamValue, CtxError> {
        let state = self.0.borrow();
        state.params.get(name).cloned().ok_or_else(|| CtxError::UnknownParam {
            name: name.to_string(),
            declared: declared_names(&state.declared_params),
        })
    }

    // ---- declarations (init only) ----

    /// Declares an indicator on `symbol` under `name`; returns the handle
    /// of its first output (further outputs follow it, in the order of
    /// `IndicatorSpec::outputs`).
    ///
    /// # Errors
    /// Outside init, a taken name, or invalid arguments.
    pub fn declare_indicator(&self, name: &str, symbol: usize, spec: IndicatorSpec) -> Result<usize, CtxError> {
        let mut state = self.0.borrow_mut();
        if state.phase != Phase::Init {
            return Err(CtxError::InitOnly("declaring an indicator"));
        }
        if spec.source() == Some(crate::indicators::Source::Volume) {
            let universe = state.market.universe();
            if universe.bars(symbol).first().is_some_and(|bar| bar.volume.is_nan()) {
                return Err(CtxError::Indicator(format!(
                    "{spec} reads volume, but the data of {} has no Volume column",
                    universe.symbols()[symbol]
                )));
            }
        }
        state.indicators.declare(name, symbol, spec)
    }

    /// Declares `symbol` resampled to a coarser `interval` ("5m", "1h",
    /// "1d", "1w"); returns the handle for [`StrategyCtx::timeframe_bar`].
    ///
    /// # Errors
    /// Outside init, or an interval that is invalid or not coarser than
    /// the symbol's bars.
    pub fn declare_timeframe(&self, symbol: usize, interval: &str) -> Result<usize, CtxError> {
        let mut guard = self.0.borrow_mut();
        let state = &mut *guard;
        if state.phase != Phase::Init {
            return Err(CtxError::InitOnly("declaring a timeframe"));
        }
        state.timeframes.declare(state.market.universe(), symbol, interval)
    }

    /// The completed bar `k` back of a declared timeframe (0 = the latest
    /// completed one; a bar still forming is never returned); `None` until
    /// enough are complete.
    ///
    /// # Errors
    /// An unknown handle, or `k` beyond the declared lookback.
    pub fn timeframe_bar(&self, handle: usize, k: usize) -> Result<Option<Bar>, CtxError> {
        let state = self.0.borrow();
        state.timeframes.bar(handle, k, state.market.lookback())
    }

    /// Lets the strategy read `bars` bars back (1 = only the latest bar),
    /// and as many past values of each indicator.
    ///
    /// # Errors
    /// Outside init, or out of range.
    pub fn set_lookback(&self, bars: usize) -> Result<(), CtxError> {
        let mut state = self.0.borrow_mut();
        if state.phase != Phase::Init {
            return Err(CtxError::InitOnly("lookback"));
        }
        state.market.set_lookback(bars)
    }

    // ---- orders and log ----

    /// Submits an order; it can fill from the next bar of its symbol on (or
    /// at this bar's close for a market order when trading on close).
    ///
    /// # Errors
    /// Outside on_bar, or arguments the broker refuses.
    pub fn submit(&self, request: OrderRequest) -> Result<OrderId, CtxError> {
        let mut state = self.0.borrow_mut();
        if state.phase != Phase::Bar {
            return Err(CtxError::BarOnly("placing an order"));
        }
        let (step, ts) = (state.step, state.ts);
        Ok(state.broker.submit(request, step, ts)?)
    }

    /// Submits a market, limit or stop order for `qty` units given as f64
    /// (as scripts and plugins hand them over).
    ///
    /// # Errors
    /// Non-finite numbers, or what [`StrategyCtx::submit`] refuses.
    pub fn order(&self, symbol: usize, side: Side, qty: f64, kind: PriceKind) -> Result<OrderId, CtxError> {
        let qty = decimal("quantity", qty)?;
        let kind = kind.to_kind()?;
        self.submit(OrderRequest::new(symbol, OrderSize::Quantity { side, qty }, kind))
    }

    /// Submits a market order that brings `symbol`'s position to `fraction`
    /// of equity (sized at fill time; negative for shorts, 0 to close).
    ///
    /// # Errors
    /// A non-finite fraction, or what [`StrategyCtx::submit`] refuses.
    pub fn order_target_percent(&self, symbol: usize, fraction: f64) -> Result<OrderId, CtxError> {
        let fraction = decimal("target fraction", fraction)?;
        self.submit(OrderRequest::new(symbol, OrderSize::TargetPercent(fraction), OrderKind::Market))
    }

    /// Closes `symbol`'s position at the next fill (whatever it is by then).
    ///
    /// # Errors
    /// Outside on_bar.
    pub fn close_position(&self, symbol: usize) -> Result<OrderId, CtxError> {
        self.submit(OrderRequest::new(symbol, OrderSize::TargetPercent(Decimal::ZERO), OrderKind::Market))
    }

    /// Cancels an open order; false if it is not open.
    pub fn cancel(&self, id: OrderId) -> bool {
        self.0.borrow_mut().broker.cancel(id)
    }

    /// Cancels the open orders of one symbol or all; returns how many.
    pub fn cancel_all(&self, symbol: Option<usize>) -> usize {
        self.0.borrow_mut().broker.cancel_all(symbol)
    }

    /// Adds a line to the run's log, stamped with the current step.
    pub fn log(&self, message: &str) {
        let mut state = self.0.borrow_mut();
        let (step, ts) = match state.phase {
            Phase::Init => (None, None),
            _ => (Some(state.step), Some(state.ts)),
        };
        state.log.push(step, ts, message);
    }
}

/// The price condition of an order placed through [`StrategyCtx::order`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PriceKind {
    /// At the next available price.
    Market,
    /// At this limit price or better.
    Limit(f64),
    /// A market order once the price trades through this stop price.
    Stop(f64),
}

/// `x` as an exact decimal.
///
/// # Errors
/// `x` is not finite.
pub(super) fn decimal(what: &'static str, x: f64) -> Result<Decimal, CtxError> {
    from_f64(x).ok_or(CtxError::NotFinite { what, value: x })
}
