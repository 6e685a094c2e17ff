//! The simulated broker: order book, fills with slippage and commission,
//! margin, and an exact ledger of cash, positions and round-trip trades.
//!
//! Fill rules (see `fill.rs` and `matching.rs`): an order placed on step t
//! can fill at the earliest on the symbol's next bar; market orders at its
//! open (or, with trade-on-close, at the close of the bar they were placed
//! on); limits and stops on the first bar whose range reaches them,
//! honouring gaps. Within one step, orders that reduce a position fill
//! before those that add to one, so that sales free the cash that purchases
//! need. Margin rules are in `margin.rs`.

mod commission;
mod config;
mod error;
mod fill;
mod ledger;
mod margin;
mod matching;
mod sizing;

pub use commission::{floor_units, round_quantity, CommissionModel};
pub use config::{
    BrokerConfig, BrokerConfigError, BrokerField, MAX_FILL_VALUE, MAX_INITIAL_CASH, MAX_LEVERAGE, MAX_ORDER_QUANTITY,
    MAX_SLIPPAGE_BPS,
};
pub use error::{BrokerError, Rejection};
pub use margin::MarginCall;
pub use sizing::MAX_TARGET_FRACTION;

use rust_decimal::Decimal;

use crate::domain::num;
use crate::domain::{
    Bar, EquityPoint, ExitLevel, ExitReason, Exits, Order, OrderId, OrderKind, OrderRequest, OrderSize, PositionView,
    Side, Symbol, Timestamp, Trade, TrailOffset,
};

use ledger::{Fill, Ledger};

/// The broker of one run.
#[derive(Debug)]
pub struct Broker {
    config: BrokerConfig,
    symbols: Vec<Symbol>,
    ledger: Ledger,
    /// Latest known price of each symbol: the open while a step's orders
    /// fill, the close afterwards. `None` before the symbol's first bar.
    marks: Vec<Option<Decimal>>,
    /// Orders waiting to fill, in id (submission) order.
    open_orders: Vec<Order>,
    /// An empty list kept for the next matching pass to collect the orders
    /// left open, so that steps with orders do not allocate.
    spare_orders: Vec<Order>,
    next_id: u64,
    rejections: Vec<Rejection>,
    margin_calls: Vec<MarginCall>,
    cancelled_at_end: usize,
    /// Whether the leverage is above 1 (kept apart: the margin check asks on every bar).
    levered: bool,
}

impl Broker {
    /// A broker with the configured starting cash and no positions.
    pub fn new(config: BrokerConfig, symbols: Vec<Symbol>) -> Self {
        let n = symbols.len();
        Broker {
            ledger: Ledger::new(config.initial_cash, n),
            levered: config.leverage > Decimal::ONE,
            config,
            symbols,
            marks: vec![None; n],
            open_orders: Vec::new(),
            spare_orders: Vec::new(),
            next_id: 1,
            rejections: Vec::new(),
            margin_calls: Vec::new(),
            cancelled_at_end: 0,
        }
    }

    /// The run's broker settings.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// Accepts an order into the book after checking its arguments.
    ///
    /// # Errors
    /// A quantity that is not positive, fractional in a whole-unit run, a
    /// price that is not positive, a target fraction out of range, a
    /// target-percent order that is not a market order, or a bad exit.
    pub fn submit(&mut self, request: OrderRequest, step: usize, ts: Timestamp) -> Result<OrderId, BrokerError> {
        self.check_request(&request)?;
        let id = OrderId(self.next_id);
        self.next_id += 1;
        self.open_orders.push(Order {
            id,
            symbol: request.symbol,
            size: request.size,
            kind: request.kind,
            placed_step: step,
            placed_ts: ts,
            role: ExitReason::Signal,
            oco: None,
            protects: None,
            exits: (!request.exits.is_empty()).then_some(request.exits),
        });
        Ok(id)
    }

    /// The order kind of a trailing stop on `side` that starts from
    /// `symbol`'s latest close.
    ///
    /// # Errors
    /// A bad offset, or no bar of the symbol yet.
    pub fn trailing_stop(&self, symbol: usize, side: Side, offset: TrailOffset) -> Result<OrderKind, BrokerError> {
        check_offset(offset)?;
        let extreme =
            self.marks.get(symbol).ok_or(BrokerError::UnknownSymbol(symbol))?.ok_or(BrokerError::NoPriceYet(symbol))?;
        Ok(OrderKind::TrailingStop { offset, stop: offset.level(side, extreme), extreme })
    }

    fn check_request(&self, request: &OrderRequest) -> Result<(), BrokerError> {
        if request.symbol >= self.symbols.len() {
            return Err(BrokerError::UnknownSymbol(request.symbol));
        }
        match request.size {
            OrderSize::Quantity { qty, .. } => {
                if qty <= Decimal::ZERO {
                    return Err(BrokerError::NonPositiveQuantity(qty));
                }
                if qty > Decimal::from(MAX_ORDER_QUANTITY) {
                    return Err(BrokerError::QuantityTooLarge(qty));
                }
                if !self.config.fractional && !qty.fract().is_zero() {
                    return Err(BrokerError::FractionalQuantity(qty));
                }
            }
            OrderSize::TargetPercent(fraction) => {
                if fraction.abs() > Decimal::from(sizing::MAX_TARGET_FRACTION) {
                    return Err(BrokerError::TargetOutOfRange(fraction));
                }
                if request.kind != OrderKind::Market {
                    return Err(BrokerError::TargetNeedsMarket);
                }
            }
        }
        check_exits(&request.exits)?;
        match request.kind {
            OrderKind::Limit(price) | OrderKind::Stop(price) if price <= Decimal::ZERO => {
                Err(BrokerError::NonPositivePrice(price))
            }
            OrderKind::TrailingStop { offset, stop, .. } => {
                check_offset(offset)?;
                if stop <= Decimal::ZERO {
                    return Err(BrokerError::NonPositivePrice(stop));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Cancels one open order; returns false if it is not open (filled,
    /// rejected, cancelled or unknown).
    pub fn cancel(&mut self, id: OrderId) -> bool {
        let before = self.open_orders.len();
        self.open_orders.retain(|o| o.id != id);
        self.open_orders.len() != before
    }

    /// Cancels every open order, or those of one symbol; returns how many.
    pub fn cancel_all(&mut self, symbol: Option<usize>) -> usize {
        let before = self.open_orders.len();
        self.open_orders.retain(|o| symbol.is_some_and(|s| o.symbol != s));
        before - self.open_orders.len()
    }

    /// Orders waiting to fill, in submission order.
    pub fn open_orders(&self) -> &[Order] {
        &self.open_orders
    }

    /// Fills what the new bars allow at the start of a step: market orders at
    /// the open (unless trading on close), limits and stops where the bar's
    /// range reaches them. `fresh[s]` is symbol s's bar at this step, if any.
    /// Afterwards every symbol with a bar is marked at its close.
    #[inline]
    pub fn on_bar_open(&mut self, step: usize, ts: Timestamp, fresh: &[Option<Bar>]) {
        if !self.open_orders.is_empty() {
            for (mark, bar) in self.marks.iter_mut().zip(fresh) {
                if let Some(bar) = bar {
                    *mark = Some(bar.open());
                }
            }
            self.process_orders(step, ts, fresh, fill::Phase::Open);
        }
        for (mark, bar) in self.marks.iter_mut().zip(fresh) {
            if let Some(bar) = bar {
                *mark = Some(bar.close());
            }
        }
    }

    /// Ends the step: with trade-on-close, fills the market orders of
    /// symbols that have a bar at this step at its close; then checks the
    /// maintenance margin at the closes (see `margin.rs`).
    #[inline]
    pub fn on_bar_close(&mut self, step: usize, ts: Timestamp, fresh: &[Option<Bar>]) {
        if self.config.trade_on_close && !self.open_orders.is_empty() {
            self.process_orders(step, ts, fresh, fill::Phase::Close);
        }
        // An unlevered long-only account cannot fall below its maintenance margin.
        if self.ledger.has_any_position() && (self.levered || self.ledger.has_short()) {
            self.check_margin(step, ts);
        }
    }

    /// Equity with `symbol` marked at `price` and the rest at their marks.
    fn equity_at(&self, symbol: usize, price: Decimal) -> Decimal {
        let mut equity = self.ledger.cash();
        for (s, qty) in self.ledger.quantities() {
            let mark = if s == symbol { Some(price) } else { self.marks[s] };
            equity += num::mul(qty, mark.unwrap_or(Decimal::ZERO));
        }
        equity
    }

    /// Cash plus every position at its mark.
    #[inline]
    pub fn equity(&self) -> Decimal {
        let mut equity = self.ledger.cash();
        if !self.ledger.has_any_position() {
            return equity;
        }
        for (s, qty) in self.ledger.quantities() {
            equity += num::mul(qty, self.marks[s].unwrap_or(Decimal::ZERO));
        }
        equity
    }

    /// Cash on hand.
    pub fn cash(&self) -> Decimal {
        self.ledger.cash()
    }

    /// The account now, for the equity curve.
    pub fn snapshot(&self) -> EquityPoint {
        EquityPoint { equity: self.equity(), cash: self.ledger.cash(), exposed: self.ledger.has_any_position() }
    }

    /// Symbol `symbol`'s position, valued at its mark.
    pub fn position(&self, symbol: usize) -> PositionView {
        self.ledger.position_view(symbol, self.marks[symbol])
    }

    /// Ends the run: cancels open orders and closes every position at its
    /// symbol's last close (fee charged, no slippage), flagging those trades.
    pub fn finish(&mut self, step: usize, ts: Timestamp) {
        self.cancelled_at_end = self.close_everything(step, ts, ExitReason::EndOfRun);
    }

    /// Cancels every open order and closes every position at its mark with
    /// `reason` (a margin call pays slippage, the end of a run does not);
    /// returns how many orders were cancelled.
    pub(super) fn close_everything(&mut self, step: usize, ts: Timestamp, reason: ExitReason) -> usize {
        let cancelled = self.open_orders.len();
        self.open_orders.clear();
        let open: Vec<(usize, Decimal)> = self.ledger.quantities().collect();
        for (s, qty) in open {
            let Some(mark) = self.marks[s] else { continue };
            let price = match reason {
                ExitReason::EndOfRun => mark,
                _ => {
                    let side = if qty.is_sign_positive() { Side::Sell } else { Side::Buy };
                    fill::slipped(mark, side, self.config.slippage_bps, OrderKind::Market)
                }
            };
            let fee = self.config.commission.fee(qty.abs(), price);
            let fill = Fill { delta: -qty, price, fee, step, ts, reason };
            self.ledger.fill(s, &self.symbols[s], fill);
        }
        cancelled
    }

    /// Closed round trips, in exit order.
    pub fn trades(&self) -> &[Trade] {
        self.ledger.trades()
    }

    /// Orders the broker could not fill, with the reason.
    pub fn rejections(&self) -> &[Rejection] {
        &self.rejections
    }

    /// The margin calls of the run, in order.
    pub fn margin_calls(&self) -> &[MarginCall] {
        &self.margin_calls
    }

    /// How many symbols have a position open.
    pub fn open_positions(&self) -> usize {
        self.ledger.open_positions()
    }

    /// Latest price of `symbol` (its close after a step), if it has had a bar.
    pub fn mark(&self, symbol: usize) -> Option<Decimal> {
        self.marks.get(symbol).copied().flatten()
    }

    /// How many orders were still open when the run ended.
    pub fn cancelled_at_end(&self) -> usize {
        self.cancelled_at_end
    }

    /// Fees paid so far.
    pub fn commission_total(&self) -> Decimal {
        self.ledger.commission_total()
    }

    /// Moves the trades and rejections out, leaving the broker without them.
    pub fn take_records(&mut self) -> (Vec<Trade>, Vec<Rejection>) {
        (self.ledger.take_trades(), std::mem::take(&mut self.rejections))
    }
}

fn check_offset(offset: TrailOffset) -> Result<(), BrokerError> {
    match offset {
        TrailOffset::Amount(a) if a <= Decimal::ZERO => {
            Err(BrokerError::BadOffset(format!("trailing amount must be > 0, got {a}")))
        }
        TrailOffset::Fraction(f) if f <= Decimal::ZERO || f >= Decimal::ONE => {
            Err(BrokerError::BadOffset(format!("trailing fraction must be between 0 and 1 (exclusive), got {f}")))
        }
        _ => Ok(()),
    }
}

fn check_exits(exits: &Exits) -> Result<(), BrokerError> {
    let level = |what: &str, level: Option<ExitLevel>, below_one: bool| match level {
        Some(ExitLevel::Price(p)) if p <= Decimal::ZERO => {
            Err(BrokerError::BadExit(format!("{what} price must be > 0, got {p}")))
        }
        Some(ExitLevel::Fraction(f))
            if f <= Decimal::ZERO || (below_one && f >= Decimal::ONE) || f > Decimal::ONE_HUNDRED =>
        {
            let range = if below_one { "between 0 and 1 (exclusive)" } else { "above 0 and at most 100" };
            Err(BrokerError::BadExit(format!("{what} fraction must be {range}, got {f}")))
        }
        _ => Ok(()),
    };
    level("stop-loss", exits.stop_loss, true)?;
    level("take-profit", exits.take_profit, false)?;
    if let Some(offset) = exits.trailing {
        check_offset(offset)?;
    }
    if exits.stop_loss.is_some() && exits.trailing.is_some() {
        return Err(BrokerError::BadExit("a bracket takes a stop-loss or a trailing stop, not both".into()));
    }
    Ok(())
}

#[cfg(test)]
mod order_tests;
#[cfg(test)]
mod risk_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
