//! The portfolio's state and plain orders (only in `on_bar`).

use super::Ctx;
use crate::marshal::opt;
use crate::{sys, OrderId, Symbol};

impl Ctx {
    /// `symbol`'s position: a signed quantity, 0 when flat.
    pub fn position(&self, symbol: Symbol) -> f64 {
        unsafe { sys::position(symbol.0) }
    }

    /// `symbol`'s average entry price; `None` when flat.
    pub fn avg_price(&self, symbol: Symbol) -> Option<f64> {
        opt(unsafe { sys::avg_price(symbol.0) })
    }

    /// `symbol`'s unrealized profit or loss.
    pub fn unrealized_pnl(&self, symbol: Symbol) -> f64 {
        unsafe { sys::unrealized_pnl(symbol.0) }
    }

    /// The account's cash.
    pub fn cash(&self) -> f64 {
        unsafe { sys::cash() }
    }

    /// The account's equity: cash plus the positions' market value.
    pub fn equity(&self) -> f64 {
        unsafe { sys::equity() }
    }

    /// How many orders are open for `symbol`, or for all symbols with `None`.
    pub fn open_orders(&self, symbol: Option<Symbol>) -> usize {
        let n = unsafe { sys::open_orders(symbol.map_or(-1, |s| s.0)) };
        if n < 0 {
            0
        } else {
            n as usize
        }
    }

    fn order(&mut self, symbol: Symbol, side: i32, qty: f64, kind: i32, price: f64) -> OrderId {
        OrderId(unsafe { sys::order(symbol.0, side, qty, kind, price) })
    }

    /// Buys `qty` of `symbol` at market.
    pub fn buy(&mut self, symbol: Symbol, qty: f64) -> OrderId {
        self.order(symbol, 1, qty, 0, 0.0)
    }

    /// Sells `qty` of `symbol` at market.
    pub fn sell(&mut self, symbol: Symbol, qty: f64) -> OrderId {
        self.order(symbol, -1, qty, 0, 0.0)
    }

    /// Buys `qty` of `symbol` at `price` or better.
    pub fn buy_limit(&mut self, symbol: Symbol, qty: f64, price: f64) -> OrderId {
        self.order(symbol, 1, qty, 1, price)
    }

    /// Sells `qty` of `symbol` at `price` or better.
    pub fn sell_limit(&mut self, symbol: Symbol, qty: f64, price: f64) -> OrderId {
        self.order(symbol, -1, qty, 1, price)
    }

    /// Buys `qty` of `symbol` at market once the price trades at or above `price`.
    pub fn buy_stop(&mut self, symbol: Symbol, qty: f64, price: f64) -> OrderId {
        self.order(symbol, 1, qty, 2, price)
    }

    /// Sells `qty` of `symbol` at market once the price trades at or below `price`.
    pub fn sell_stop(&mut self, symbol: Symbol, qty: f64, price: f64) -> OrderId {
        self.order(symbol, -1, qty, 2, price)
    }

    /// Places a market order bringing `symbol`'s position to `fraction` of equity (1.0 = all in,
    /// 0.0 = flat).
    pub fn order_target_percent(&mut self, symbol: Symbol, fraction: f64) -> OrderId {
        OrderId(unsafe { sys::order_target_percent(symbol.0, fraction) })
    }

    /// Closes `symbol`'s position at the next fill (whatever it is by then).
    pub fn close_position(&mut self, symbol: Symbol) -> OrderId {
        OrderId(unsafe { sys::close_position(symbol.0) })
    }

    /// Cancels an open order; false if it was not open.
    pub fn cancel(&mut self, id: OrderId) -> bool {
        unsafe { sys::cancel(id.0) != 0 }
    }

    /// Cancels the open orders of `symbol`, or of all symbols with `None`; returns how many.
    pub fn cancel_all(&mut self, symbol: Option<Symbol>) -> usize {
        let n = unsafe { sys::cancel_all(symbol.map_or(-1, |s| s.0)) };
        if n < 0 {
            0
        } else {
            n as usize
        }
    }
}
