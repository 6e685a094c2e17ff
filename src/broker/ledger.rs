//! The exact books: cash, positions as first-in-first-out lots, and the
//! round-trip trades that closing those lots produces.

use std::collections::VecDeque;

use rust_decimal::Decimal;

use crate::domain::{num, ExitReason, PositionSide, PositionView, Symbol, Timestamp, Trade};

/// Places kept when a fee is split between lots; the last share takes the
/// remainder, so the shares always add up to the fee exactly.
const FEE_SPLIT_DP: u32 = 12;

/// One fill as the ledger books it.
#[derive(Clone, Copy, Debug)]
pub struct Fill {
    /// Signed quantity: > 0 buys, < 0 sells.
    pub delta: Decimal,
    pub price: Decimal,
    pub fee: Decimal,
    pub step: usize,
    pub ts: Timestamp,
    /// What closes lots if this fill closes any.
    pub reason: ExitReason,
}

/// Quantity opened by one fill and not yet closed.
#[derive(Clone, Debug)]
struct Lot {
    /// Remaining quantity, > 0.
    qty: Decimal,
    price: Decimal,
    ts: Timestamp,
    step: usize,
    /// Entry fee not yet allocated to a closed trade.
    fee: Decimal,
}

#[derive(Clone, Debug, Default)]
struct Position {
    qty: Decimal,
    /// The ledger's serial of this position's opening (see [`Ledger::opening`]).
    opened: u64,
    lots: VecDeque<Lot>,
    /// Σ lot.qty × lot.price over the open lots.
    cost_basis: Decimal,
}

/// Cash, positions and closed trades of one run.
#[derive(Debug)]
pub struct Ledger {
    cash: Decimal,
    positions: Vec<Position>,
    open_positions: usize,
    /// How many of the open positions are short.
    short_positions: usize,
    trades: Vec<Trade>,
    commission_total: Decimal,
    /// How many times a position has opened (from flat, or by turning to
    /// the other side), over all symbols.
    openings: u64,
}

impl Ledger {
    /// Starting cash and `symbols` flat positions.
    pub fn new(cash: Decimal, symbols: usize) -> Self {
        Ledger {
            cash,
            positions: vec![Position::default(); symbols],
            open_positions: 0,
            short_positions: 0,
            trades: Vec::new(),
            commission_total: Decimal::ZERO,
            openings: 0,
        }
    }

    pub fn cash(&self) -> Decimal {
        self.cash
    }

    pub fn commission_total(&self) -> Decimal {
        self.commission_total
    }

    /// Which opening `symbol`'s position is: a new serial each time it opens
    /// from flat or turns to the other side, kept while it only grows or
    /// shrinks. An attached exit protects one opening and no later one.
    pub fn opening(&self, symbol: usize) -> u64 {
        self.positions[symbol].opened
    }

    pub fn position_qty(&self, symbol: usize) -> Decimal {
        self.positions[symbol].qty
    }

    pub fn has_any_position(&self) -> bool {
        self.open_positions > 0
    }

    /// How many symbols have a position open.
    pub fn open_positions(&self) -> usize {
        self.open_positions
    }

    /// Whether any open position is short.
    pub fn has_short(&self) -> bool {
        self.short_positions > 0
    }

    /// (symbol, signed quantity) of every open position, in symbol order.
    pub fn quantities(&self) -> impl Iterator<Item = (usize, Decimal)> + '_ {
        let any = self.open_positions > 0;
        self.positions.iter().enumerate().filter(move |(_, p)| any && !p.qty.is_zero()).map(|(s, p)| (s, p.qty))
    }

    /// The position of `symbol`, valued at `mark`.
    pub fn position_view(&self, symbol: usize, mark: Option<Decimal>) -> PositionView {
        let p = &self.positions[symbol];
        if p.qty.is_zero() {
            return PositionView { qty: Decimal::ZERO, avg_price: None, unrealized_pnl: Decimal::ZERO };
        }
        let avg = p.cost_basis / p.qty.abs();
        PositionView {
            qty: p.qty,
            avg_price: Some(avg),
            unrealized_pnl: mark.map_or(Decimal::ZERO, |m| {
                let value = m * p.qty;
                if p.qty.is_sign_positive() {
                    value - p.cost_basis
                } else {
                    value + p.cost_basis
                }
            }),
        }
    }

    pub fn trades(&self) -> &[Trade] {
        &self.trades
    }

    pub fn take_trades(&mut self) -> Vec<Trade> {
        std::mem::take(&mut self.trades)
    }

    /// Books a fill: moves cash, closes lots first in first out (one trade
    /// per lot closed) and opens a lot with whatever quantity is left.
    pub fn fill(&mut self, symbol: usize, name: &Symbol, fill: Fill) {
        self.cash -= num::mul(fill.delta, fill.price) + fill.fee;
        self.commission_total += fill.fee;
        let was_open = !self.positions[symbol].qty.is_zero();
        let was_short = self.positions[symbol].qty.is_sign_negative() && was_open;

        let total = fill.delta.abs();
        let position = &mut self.positions[symbol];
        let closing = if !position.qty.is_zero() && position.qty.is_sign_positive() != fill.delta.is_sign_positive() {
            total.min(position.qty.abs())
        } else {
            Decimal::ZERO
        };
        let exit_fee = share(fill.fee, closing, total);
        if !closing.is_zero() {
            let trades = &mut self.trades;
            close_lots(position, closing, exit_fee, &fill, name, trades);
        }
        let opening = total - closing;
        if !opening.is_zero() {
            position.lots.push_back(Lot {
                qty: opening,
                price: fill.price,
                ts: fill.ts,
                step: fill.step,
                fee: fill.fee - exit_fee,
            });
            position.cost_basis += num::mul(opening, fill.price);
            position.qty += if fill.delta.is_sign_positive() { opening } else { -opening };
        }
        let is_open = !position.qty.is_zero();
        let is_short = is_open && position.qty.is_sign_negative();
        if is_open && (!was_open || was_short != is_short) {
            self.openings += 1;
            self.positions[symbol].opened = self.openings;
        }
        match (was_open, is_open) {
            (false, true) => self.open_positions += 1,
            (true, false) => self.open_positions -= 1,
            _ => {}
        }
        match (was_short, is_short) {
            (false, true) => self.short_positions += 1,
            (true, false) => self.short_positions -= 1,
            _ => {}
        }
    }
}

/// The part of `amount` that belongs to `part` out of `whole`: all of it
/// when `part == whole`, else a rounded proportional share.
fn share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal {
    if part == whole {
        amount
    } else if part.is_zero() {
        Decimal::ZERO
    } else {
        (amount * part / whole).round_dp(FEE_SPLIT_DP)
    }
}

/// Closes `qty` of `position` against its oldest lots at the fill's price.
fn close_lots(
    position: &mut Position,
    qty: Decimal,
    exit_fee: Decimal,
    fill: &Fill,
    name: &Symbol,
    trades: &mut Vec<Trade>,
) {
    let side = if position.qty.is_sign_positive() { PositionSide::Long } else { PositionSide::Short };
    let mut left = qty;
    let mut exit_fee_left = exit_fee;
    while !left.is_zero() {
        let lot = position.lots.front_mut().expect("a position's lots add up to its quantity");
        let closed = lot.qty.min(left);
        let entry_fee = share(lot.fee, closed, lot.qty);
        let exit_share = if closed == left { exit_fee_left } else { share(exit_fee, closed, qty) };
        lot.fee -= entry_fee;
        lot.qty -= closed;
        left -= closed;
        exit_fee_left -= exit_share;
        position.cost_basis -= num::mul(closed, lot.price);

        let per_unit = match side {
            PositionSide::Long => fill.price - lot.price,
            PositionSide::Short => lot.price - fill.price,
        };
        let gross_pnl = num::mul(per_unit, closed);
        let commission = entry_fee + exit_share;
        let net_pnl = gross_pnl - commission;
        let entry_value = num::mul(lot.price, closed);
        trades.push(Trade {
            symbol: name.clone(),
            side,
            qty: closed,
            entry_ts: lot.ts,
            entry_price: lot.price,
            entry_step: lot.step,
            exit_ts: fill.ts,
            exit_price: fill.price,
            exit_step: fill.step,
            commission,
            gross_pnl,
            net_pnl,
            // In f64 from the exact amounts: a decimal division per trade
            // costs more than the rest of the booking.
            return_pct: num::to_f64(net_pnl) / num::to_f64(entry_value) * 100.0,
            duration_bars: fill.step - lot.step,
            duration_secs: fill.ts.secs() - lot.ts.secs(),
            closed_at_end: fill.reason == ExitReason::EndOfRun,
            exit_reason: fill.reason,
        });
        if lot.qty.is_zero() {
            position.lots.pop_front();
        }
    }
    position.qty += if position.qty.is_sign_positive() { -qty } else { qty };
    if position.qty.is_zero() {
        position.cost_basis = Decimal::ZERO;
    }
}
