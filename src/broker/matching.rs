//! Matching a step's orders against its bars: which orders fill, in what
//! order, at what size, and what they leave in the book.
//!
//! - Orders that fill at the open go first (market orders, and stops or
//!   limits the bar opens beyond), before anything the bar's range reaches
//!   later. Within those and within the rest, orders that reduce a position
//!   go first, each in submission order: a rebalance's sales free the cash
//!   its purchases need.
//! - A bracket entry, once filled, creates its exits (stop-loss, take-profit
//!   or trailing stop) for the filled quantity as one one-cancels-others
//!   group. After a market entry filled at the open they already watch the
//!   rest of that bar (like backtesting.py); after a limit or stop entry, or
//!   an entry at the close, they start on the next bar, because where in
//!   the bar the entry happened is unknown.
//! - When two exits of one group are both reached within one bar, the bar
//!   does not say which came first, so the conservative rule applies: the
//!   stop fills and the target is cancelled. Only when the bar opens beyond
//!   one of them (a gap) is the order known, and that one fills at the open.
//! - Exits only ever reduce their position: they shrink to what is left of
//!   it and disappear once it is flat or has turned to the other side, and
//!   never act on a position opened after that one (in the same step too).
//! - A trailing stop is checked against each bar at its current level first
//!   and only then follows the bar's high (sell stops) or low (buy stops),
//!   so a bar never triggers a stop that it moved itself.

use rust_decimal::Decimal;

use crate::domain::{Bar, ExitLevel, ExitReason, Exits, Order, OrderId, OrderKind, OrderSize, Side, Timestamp};

use super::fill::{self, Phase};
use super::ledger::Fill;
use super::{sizing, Broker, Rejection, MAX_FILL_VALUE};

/// A filled order: signed quantity and price paid.
struct Filled {
    delta: Decimal,
    price: Decimal,
}

impl Broker {
    pub(super) fn process_orders(&mut self, step: usize, ts: Timestamp, fresh: &[Option<Bar>], phase: Phase) {
        let mut batch = std::mem::take(&mut self.open_orders);
        if batch.len() > 1 {
            let toc = self.config.trade_on_close;
            let at_open = |o: &Order| {
                phase == Phase::Open
                    && fresh[o.symbol].is_some_and(|bar| fill::base_price(o, &bar, phase, toc) == Some(bar.open()))
            };
            batch.sort_by_cached_key(|o| (!at_open(o), !self.reduces(o), o.id));
        }
        let mut still_open = std::mem::take(&mut self.spare_orders);
        let mut filled_groups = Vec::new();
        let spawned = self.match_batch(&mut batch, step, ts, fresh, phase, &mut still_open, &mut filled_groups);
        if !spawned.is_empty() {
            let (now, later): (Vec<_>, Vec<_>) = spawned.into_iter().partition(|(_, now)| *now);
            if !now.is_empty() {
                let mut now: Vec<Order> = now.into_iter().map(|(o, _)| o).collect();
                let more = self.match_batch(&mut now, step, ts, fresh, phase, &mut still_open, &mut filled_groups);
                debug_assert!(more.is_empty(), "exits attach no exits");
            }
            still_open.extend(later.into_iter().map(|(o, _)| o));
        }
        if still_open.windows(2).any(|w| w[0].id > w[1].id) {
            still_open.sort_by_key(|o| o.id);
        }
        let ledger = &self.ledger;
        still_open.retain(|o| {
            let sibling_filled = o.oco.is_some_and(|g| filled_groups.contains(&g));
            // An exit sells a long or buys back a short: once the position
            // is flat or on the other side, it has nothing left to exit.
            let position = ledger.position_qty(o.symbol);
            let exits_long = matches!(o.size, OrderSize::Quantity { side: Side::Sell, .. });
            let nothing_to_exit = o.reduce_only()
                && (position.is_zero()
                    || position.is_sign_positive() != exits_long
                    || o.protects.is_some_and(|opening| opening != ledger.opening(o.symbol)));
            !sibling_filled && !nothing_to_exit
        });
        self.open_orders = still_open;
        // `batch` was drained by the matching: its room serves the next pass.
        self.spare_orders = batch;
    }

    /// Whether `order` would shrink its symbol's position.
    fn reduces(&self, order: &Order) -> bool {
        let current = self.ledger.position_qty(order.symbol);
        if current.is_zero() {
            return false;
        }
        match order.size {
            OrderSize::Quantity { side, .. } => (side == Side::Sell) == current.is_sign_positive(),
            OrderSize::TargetPercent(target) => {
                if target.is_zero() || target.is_sign_positive() != current.is_sign_positive() {
                    return true;
                }
                let equity = self.equity();
                let value = current * self.marks[order.symbol].unwrap_or(Decimal::ZERO);
                equity > Decimal::ZERO && (target * equity).abs() < value.abs()
            }
        }
    }

    /// Matches one batch against the step's bars, leaving it empty; returns
    /// the exits created by filled bracket entries, flagged when they watch
    /// this bar already.
    #[allow(clippy::too_many_arguments)]
    fn match_batch(
        &mut self,
        batch: &mut Vec<Order>,
        step: usize,
        ts: Timestamp,
        fresh: &[Option<Bar>],
        phase: Phase,
        still_open: &mut Vec<Order>,
        filled_groups: &mut Vec<OrderId>,
    ) -> Vec<(Order, bool)> {
        let trade_on_close = self.config.trade_on_close;
        let losers = oco_losers(batch, fresh, phase, trade_on_close);
        let mut spawned = Vec::new();
        for mut order in batch.drain(..) {
            if order.oco.is_some_and(|g| filled_groups.contains(&g)) {
                continue;
            }
            let Some(bar) = fresh[order.symbol] else {
                still_open.push(order);
                continue;
            };
            let base =
                if losers.contains(&order.id) { None } else { fill::base_price(&order, &bar, phase, trade_on_close) };
            let Some(base) = base else {
                if phase == Phase::Open {
                    follow(&mut order, &bar);
                }
                still_open.push(order);
                continue;
            };
            match self.execute(&order, base, step, ts) {
                Ok(Some(filled)) => {
                    if let Some(group) = order.oco {
                        filled_groups.push(group);
                    }
                    if let Some(exits) = order.exits {
                        let watch_now = phase == Phase::Open && order.kind == OrderKind::Market;
                        for exit in self.exits_for(&order, exits, &filled, step, ts) {
                            spawned.push((exit, watch_now));
                        }
                    }
                }
                Ok(None) => {}
                Err(reason) => self.reject(&order, step, ts, reason),
            }
        }
        spawned
    }

    pub(super) fn reject(&mut self, order: &Order, step: usize, ts: Timestamp, reason: String) {
        let symbol = self.symbols[order.symbol].clone();
        self.rejections.push(Rejection { step, ts, order_id: order.id, symbol, reason });
    }

    /// Sizes, prices and books one fill at `base` (before slippage); `None`
    /// when there is nothing to trade, or the rejection reason.
    fn execute(&mut self, order: &Order, base: Decimal, step: usize, ts: Timestamp) -> Result<Option<Filled>, String> {
        let Some((mut delta, price)) = self.size_fill(order, base) else {
            return Ok(None);
        };
        if delta.abs().checked_mul(price).is_none_or(|v| v > Decimal::from(MAX_FILL_VALUE)) {
            return Err(format!("{} at {price} is worth more than one fill may ({MAX_FILL_VALUE})", delta.abs()));
        }
        let current = self.ledger.position_qty(order.symbol);
        if order.reduce_only() {
            let stale = order.protects.is_some_and(|opening| opening != self.ledger.opening(order.symbol));
            if stale || current.is_zero() || current.is_sign_positive() == delta.is_sign_positive() {
                return Ok(None);
            }
            if delta.abs() > current.abs() {
                delta = -current;
            }
        }
        let mut fee = self.config.commission.fee(delta.abs(), price);
        let increases_exposure =
            current.is_zero() || current.is_sign_positive() == delta.is_sign_positive() || delta.abs() > current.abs();
        if increases_exposure {
            if let Some(max) = self.config.max_positions {
                if current.is_zero() && self.ledger.open_positions() >= max {
                    return Err(format!("max_positions ({max}) reached: no new position in this symbol"));
                }
            }
            let mut free = self.margin_free_after(order.symbol, delta, price, fee);
            if free < Decimal::ZERO && matches!(order.size, OrderSize::TargetPercent(_)) {
                // Sized by the broker itself: cut to what the margin carries
                // rather than refused (a flip also pays the fee of closing;
                // above leverage 1 the fee is taken from equity that backs
                // more than its own value).
                if let Some(fitted) = self.fit_to_margin(order.symbol, delta, price) {
                    delta = fitted;
                    fee = self.config.commission.fee(delta.abs(), price);
                    free = self.margin_free_after(order.symbol, delta, price, fee);
                }
            }
            if free < Decimal::ZERO {
                return Err(format!(
                    "insufficient buying power: {} {} at {} (fee {}) needs {} more equity",
                    if delta.is_sign_positive() { "buy" } else { "sell" },
                    delta.abs(),
                    price,
                    fee,
                    -free
                ));
            }
        }
        let name = &self.symbols[order.symbol];
        self.ledger.fill(order.symbol, name, Fill { delta, price, fee, step, ts, reason: order.role });
        Ok(Some(Filled { delta, price }))
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

    /// The exit orders of a filled bracket entry, for its filled quantity on
    /// the other side, in one group named after the entry. An exit whose
    /// level comes out ≤ 0 is rejected.
    fn exits_for(&mut self, entry: &Order, exits: Exits, filled: &Filled, step: usize, ts: Timestamp) -> Vec<Order> {
        let long = filled.delta.is_sign_positive();
        let side = if long { Side::Sell } else { Side::Buy };
        let price = filled.price;
        // Fractions move away from the fill: down for a long's stop and a
        // short's target, up otherwise.
        let level = |level: ExitLevel, is_stop: bool| match level {
            ExitLevel::Price(p) => p,
            ExitLevel::Fraction(f) if long != is_stop => price * (Decimal::ONE + f),
            ExitLevel::Fraction(f) => price * (Decimal::ONE - f),
        };
        let mut kinds = Vec::with_capacity(2);
        if let Some(l) = exits.stop_loss {
            kinds.push((ExitReason::StopLoss, OrderKind::Stop(level(l, true))));
        }
        if let Some(offset) = exits.trailing {
            let stop = offset.level(side, price);
            kinds.push((ExitReason::TrailingStop, OrderKind::TrailingStop { offset, stop, extreme: price }));
        }
        if let Some(l) = exits.take_profit {
            kinds.push((ExitReason::TakeProfit, OrderKind::Limit(level(l, false))));
        }
        let mut orders = Vec::with_capacity(kinds.len());
        for (role, kind) in kinds {
            let order = Order {
                id: OrderId(self.next_id),
                symbol: entry.symbol,
                size: OrderSize::Quantity { side, qty: filled.delta.abs() },
                kind,
                placed_step: step,
                placed_ts: ts,
                role,
                oco: Some(entry.id),
                protects: Some(self.ledger.opening(entry.symbol)),
                exits: None,
            };
            self.next_id += 1;
            let level = match kind {
                OrderKind::Stop(p) | OrderKind::Limit(p) | OrderKind::TrailingStop { stop: p, .. } => p,
                OrderKind::Market => Decimal::ONE,
            };
            if level <= Decimal::ZERO {
                let reason = format!("{} level {level} of entry {} is not a positive price", role.as_str(), entry.id.0);
                self.reject(&order, step, ts, reason);
            } else {
                orders.push(order);
            }
        }
        orders
    }
}

/// Moves a trailing stop after a bar that did not trigger it: the best
/// price takes the bar's high (sell stop) or low (buy stop).
fn follow(order: &mut Order, bar: &Bar) {
    let OrderKind::TrailingStop { offset, extreme, .. } = order.kind else { return };
    let OrderSize::Quantity { side, .. } = order.size else { return };
    let extreme = match side {
        Side::Sell => extreme.max(bar.high()),
        Side::Buy => extreme.min(bar.low()),
    };
    order.kind = OrderKind::TrailingStop { offset, stop: offset.level(side, extreme), extreme };
}

/// The exits that must not fill on this bar because another exit of their
/// group was reached too and takes precedence (see the module docs).
fn oco_losers(batch: &[Order], fresh: &[Option<Bar>], phase: Phase, trade_on_close: bool) -> Vec<OrderId> {
    let mut losers = Vec::new();
    if phase != Phase::Open || batch.iter().all(|o| o.oco.is_none()) {
        return losers;
    }
    let reached = |o: &Order| {
        let bar = fresh[o.symbol]?;
        let base = fill::base_price(o, &bar, phase, trade_on_close)?;
        Some((base == bar.open(), matches!(o.kind, OrderKind::Stop(_) | OrderKind::TrailingStop { .. })))
    };
    let mut seen = Vec::new();
    for order in batch {
        let Some(group) = order.oco else { continue };
        if seen.contains(&group) {
            continue;
        }
        seen.push(group);
        let hits: Vec<(OrderId, bool, bool)> = batch
            .iter()
            .filter(|o| o.oco == Some(group))
            .filter_map(|o| reached(o).map(|(at_open, is_stop)| (o.id, at_open, is_stop)))
            .collect();
        if hits.len() < 2 {
            continue;
        }
        let winner = hits
            .iter()
            .find(|(_, at_open, is_stop)| *at_open && *is_stop)
            .or_else(|| hits.iter().find(|(_, at_open, _)| *at_open))
            .or_else(|| hits.iter().find(|(_, _, is_stop)| *is_stop))
            .unwrap_or(&hits[0])
            .0;
        losers.extend(hits.iter().map(|h| h.0).filter(|&id| id != winner));
    }
    losers
}
