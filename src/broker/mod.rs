//! The simulated broker: order book, fills with slippage and commission, and
//! an exact ledger of cash, positions and round-trip trades.
//!
//! Fill rules (see `fill.rs`): an order placed on step t can fill at the
//! earliest on the symbol's next bar; market orders at its open (or, with
//! trade-on-close, at the close of the bar they were placed on); limits and
//! stops on the first bar whose range reaches them, honouring gaps.

mod commission;
mod config;
mod error;
mod fill;
mod ledger;
mod sizing;

pub use commission::CommissionModel;
pub use config::BrokerConfig;
pub use error::{BrokerError, Rejection};
pub use ledger::PositionView;

use rust_decimal::Decimal;

use crate::domain::num;
use crate::domain::{Bar, EquityPoint, Order, OrderId, OrderKind, OrderSize, Side, Symbol, Timestamp, Trade};

use ledger::{Fill, Ledger};

/// What a strategy asks the broker to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderRequest {
    pub symbol: usize,
    pub size: OrderSize,
    pub kind: OrderKind,
}

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
    next_id: u64,
    rejections: Vec<Rejection>,
    cancelled_at_end: usize,
}

impl Broker {
    /// A broker with the configured starting cash and no positions.
    pub fn new(config: BrokerConfig, symbols: Vec<Symbol>) -> Self {
        let n = symbols.len();
        Broker {
            ledger: Ledger::new(config.initial_cash, n),
            config,
            symbols,
            marks: vec![None; n],
            open_orders: Vec::new(),
            next_id: 1,
            rejections: Vec::new(),
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
    /// price that is not positive, a target fraction out of range, or a
    /// target-percent order that is not a market order.
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
        });
        Ok(id)
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
        match request.kind {
            OrderKind::Limit(price) | OrderKind::Stop(price) if price <= Decimal::ZERO => {
                Err(BrokerError::NonPositivePrice(price))
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
                    *mark = Some(bar.open);
                }
            }
            self.process_orders(step, ts, fresh, fill::Phase::Open);
        }
        for (mark, bar) in self.marks.iter_mut().zip(fresh) {
            if let Some(bar) = bar {
                *mark = Some(bar.close);
            }
        }
    }

    /// With trade-on-close, fills the market orders of symbols that have a
    /// bar at this step at its close; a no-op otherwise.
    pub fn on_bar_close(&mut self, step: usize, ts: Timestamp, fresh: &[Option<Bar>]) {
        if self.config.trade_on_close && !self.open_orders.is_empty() {
            self.process_orders(step, ts, fresh, fill::Phase::Close);
        }
    }

    fn process_orders(&mut self, step: usize, ts: Timestamp, fresh: &[Option<Bar>], phase: fill::Phase) {
        // Orders are visited in id order so that an earlier sell frees cash
        // for a later buy within the same step.
        let orders = std::mem::take(&mut self.open_orders);
        let mut still_open = Vec::with_capacity(orders.len());
        for order in orders {
            let Some(bar) = fresh[order.symbol] else {
                still_open.push(order);
                continue;
            };
            let Some(base) = fill::base_price(&order, &bar, phase, self.config.trade_on_close) else {
                still_open.push(order);
                continue;
            };
            if let Err(reason) = self.execute(&order, base, step, ts) {
                self.rejections.push(Rejection {
                    step,
                    ts,
                    order_id: order.id,
                    symbol: self.symbols[order.symbol].clone(),
                    reason,
                });
            }
        }
        // Orders submitted while we were filling cannot exist (strategies do
        // not run during fills), so the book is exactly what stayed open.
        self.open_orders = still_open;
    }

    /// Sizes, prices and books one fill at `base` (before slippage); returns
    /// the rejection reason if it cannot be done.
    fn execute(&mut self, order: &Order, base: Decimal, step: usize, ts: Timestamp) -> Result<(), String> {
        let Some((delta, price)) = self.size_fill(order, base) else {
            return Ok(());
        };
        let current = self.ledger.position_qty(order.symbol);
        let fee = self.config.commission.fee(delta.abs(), price);
        let increases_exposure =
            current.is_zero() || current.is_sign_positive() == delta.is_sign_positive() || delta.abs() > current.abs();
        if increases_exposure {
            let available_after = self.buying_power_after(order.symbol, delta, price, fee);
            if available_after < Decimal::ZERO {
                return Err(format!(
                    "insufficient buying power: {} {} at {} (fee {}) needs {} more cash",
                    if delta.is_sign_positive() { "buy" } else { "sell" },
                    delta.abs(),
                    price,
                    fee,
                    -available_after
                ));
            }
        }
        self.ledger.fill(
            order.symbol,
            &self.symbols[order.symbol],
            Fill { delta, price, fee, step, ts, at_end: false },
        );
        Ok(())
    }

    /// The signed quantity and the slipped price of a fill, or `None` when a
    /// target-percent order finds the position already on target.
    fn size_fill(&self, order: &Order, base: Decimal) -> Option<(Decimal, Decimal)> {
        let bps = self.config.slippage_bps;
        match order.size {
            OrderSize::Quantity { side, qty } => Some((side.sign() * qty, fill::slipped(base, side, bps, order.kind))),
            OrderSize::TargetPercent(fraction) => {
                // The direction comes from the unslipped price; the size from
                // the price actually paid, so that fees and slippage fit.
                let current = self.ledger.position_qty(order.symbol);
                let equity = self.equity_at(order.symbol, base);
                let config = &self.config;
                let target_at =
                    |price| sizing::target_quantity(fraction, equity, price, &config.commission, config.fractional);
                let rough = target_at(base) - current;
                if rough.is_zero() {
                    return None;
                }
                let side = if rough.is_sign_positive() { Side::Buy } else { Side::Sell };
                let price = fill::slipped(base, side, bps, order.kind);
                if price == base {
                    // No slippage: the rough size is the size (saves a division).
                    return Some((rough, price));
                }
                let delta = target_at(price) - current;
                (!delta.is_zero() && delta.is_sign_positive() == rough.is_sign_positive()).then_some((delta, price))
            }
        }
    }

    /// Equity with `symbol` marked at `price` and the rest at their marks.
    fn equity_at(&self, symbol: usize, price: Decimal) -> Decimal {
        let mut equity = self.ledger.cash();
        for (s, qty) in self.ledger.quantities() {
            let mark = if s == symbol { Some(price) } else { self.marks[s] };
            equity += qty * mark.unwrap_or(Decimal::ZERO);
        }
        equity
    }

    /// Cash left free after a hypothetical fill: cash minus twice the value
    /// of every short (its proceeds stay locked and as much again is held as
    /// collateral), so a short uses as much buying power as a long of the
    /// same value.
    fn buying_power_after(&self, symbol: usize, delta: Decimal, price: Decimal, fee: Decimal) -> Decimal {
        let cash_after = self.ledger.cash() - delta * price - fee;
        let mut locked = Decimal::ZERO;
        for s in 0..self.symbols.len() {
            let (qty, mark) = if s == symbol {
                (self.ledger.position_qty(s) + delta, Some(price))
            } else {
                (self.ledger.position_qty(s), self.marks[s])
            };
            if qty.is_sign_negative() && !qty.is_zero() {
                locked += -qty * mark.unwrap_or(Decimal::ZERO) * Decimal::TWO;
            }
        }
        cash_after - locked
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
        self.cancelled_at_end = self.open_orders.len();
        self.open_orders.clear();
        let open: Vec<(usize, Decimal)> = self.ledger.quantities().collect();
        for (s, qty) in open {
            let Some(price) = self.marks[s] else { continue };
            let delta = -qty;
            let fee = self.config.commission.fee(qty.abs(), price);
            let fill = Fill { delta, price, fee, step, ts, at_end: true };
            self.ledger.fill(s, &self.symbols[s], fill);
        }
    }

    /// Closed round trips, in exit order.
    pub fn trades(&self) -> &[Trade] {
        self.ledger.trades()
    }

    /// Orders the broker could not fill, with the reason.
    pub fn rejections(&self) -> &[Rejection] {
        &self.rejections
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

#[cfg(test)]
mod tests;
