//! ABI version 2: brackets, trailing stops, rebalancing, sizing, schedules and timeframes.

use super::Ctx;
use crate::marshal::{back, opt, raw};
use crate::{sys, Bracket, Entry, Indicator, OrderId, Period, Source, Symbol, Timeframe, Trail};

impl Ctx {
    fn bracket(&mut self, symbol: Symbol, side: i32, qty: f64, bracket: &Bracket) -> OrderId {
        let (sl_kind, sl) = bracket.stop_loss.raw();
        let (tp_kind, tp) = bracket.take_profit.raw();
        let (trail_kind, trail) = match bracket.trail {
            Some(t) => t.raw(),
            None => (0, 0.0),
        };
        let (kind, price) = match bracket.entry {
            Entry::Market => (0, 0.0),
            Entry::Limit(p) => (1, p),
            Entry::Stop(p) => (2, p),
        };
        OrderId(unsafe {
            sys::order_bracket(symbol.0, side, qty, kind, price, sl_kind, sl, tp_kind, tp, trail_kind, trail)
        })
    }

    /// Buys `qty` (at the next open, or as `bracket.entry` says) with attached exits.
    pub fn buy_bracket(&mut self, symbol: Symbol, qty: f64, bracket: &Bracket) -> OrderId {
        self.bracket(symbol, 1, qty, bracket)
    }

    /// Sells (shorts) `qty` (at the next open, or as `bracket.entry` says) with attached exits.
    pub fn sell_bracket(&mut self, symbol: Symbol, qty: f64, bracket: &Bracket) -> OrderId {
        self.bracket(symbol, -1, qty, bracket)
    }

    /// A trailing stop that buys `qty` once the price rises `trail` above its lowest low.
    pub fn buy_trailing_stop(&mut self, symbol: Symbol, qty: f64, trail: Trail) -> OrderId {
        let (kind, value) = trail.raw();
        OrderId(unsafe { sys::order_trailing_stop(symbol.0, 1, qty, kind, value) })
    }

    /// A trailing stop that sells `qty` once the price falls `trail` below its highest high.
    pub fn sell_trailing_stop(&mut self, symbol: Symbol, qty: f64, trail: Trail) -> OrderId {
        let (kind, value) = trail.raw();
        OrderId(unsafe { sys::order_trailing_stop(symbol.0, -1, qty, kind, value) })
    }

    /// Rebalances to target weights (fractions of equity); every symbol not named is closed.
    /// Returns the ids of the orders placed (at most one per symbol), like the script's
    /// `ctx.rebalance`.
    ///
    /// # Panics
    /// A symbol named twice or not in the run (the panic fails the run with its message, as
    /// the host refuses those in a script).
    pub fn rebalance(&mut self, weights: &[(Symbol, f64)]) -> Vec<OrderId> {
        let count = self.symbol_count();
        let mut all = vec![0.0f64; count];
        let mut named = vec![false; count];
        for &(symbol, weight) in weights {
            let i = symbol.index();
            assert!(i < count, "rebalance: symbol index {} is out of range ({} symbols)", symbol.0, count);
            assert!(!named[i], "rebalance names {} twice", self.symbol_name(symbol));
            named[i] = true;
            all[i] = weight;
        }
        let mut bytes = Vec::with_capacity(all.len() * 8);
        for w in &all {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        let mut ids = vec![0i64; count];
        let n = unsafe {
            sys::rebalance_ids(bytes.as_ptr() as usize as i32, count as i32, ids.as_mut_ptr() as usize as i32)
        };
        ids.truncate(n.max(0) as usize);
        ids.into_iter().map(OrderId).collect()
    }

    /// Rebalances to equal weights across `symbols`, closing every other position; returns the
    /// ids of the orders placed.
    ///
    /// # Panics
    /// An empty set, or what [`Ctx::rebalance`](crate::Ctx::rebalance) refuses.
    pub fn equal_weight(&mut self, symbols: &[Symbol]) -> Vec<OrderId> {
        assert!(!symbols.is_empty(), "equal_weight needs at least one symbol");
        let weight = 1.0 / symbols.len() as f64;
        let weights: Vec<(Symbol, f64)> = symbols.iter().map(|&s| (s, weight)).collect();
        self.rebalance(&weights)
    }

    /// Units of `symbol` worth `fraction` of equity at its latest close (rounded down to the
    /// run's unit); `None` before its first bar.
    pub fn qty_for_fraction(&self, symbol: Symbol, fraction: f64) -> Option<f64> {
        opt(unsafe { sys::qty_for_fraction(symbol.0, fraction) })
    }

    /// Volatility targeting: units such that one `volatility` (an ATR or standard deviation)
    /// moves equity by `fraction`; `None` while the indicator is not ready.
    pub fn qty_for_risk(&self, fraction: f64, volatility: Indicator) -> Option<f64> {
        opt(unsafe { sys::qty_for_risk(fraction, volatility.0) })
    }

    /// True on the first step of each day, week or month (and on the run's first step).
    pub fn schedule(&self, period: Period) -> bool {
        unsafe { sys::schedule(period as i32) != 0 }
    }

    /// Declares `symbol` resampled to a coarser interval such as "5m", "1h", "1d" or "1w"
    /// (in `init` only).
    pub fn timeframe(&mut self, symbol: Symbol, interval: &str) -> Timeframe {
        let (p, l) = raw(interval);
        Timeframe(unsafe { sys::timeframe(symbol.0, p, l) })
    }

    /// A field of the completed coarse bar `k` back; a bar still forming is never returned.
    pub fn tf_bar(&self, timeframe: Timeframe, k: usize, field: Source) -> Option<f64> {
        opt(unsafe { sys::tf_bar(timeframe.0, back(k), field as i32) })
    }

    /// The close of the completed coarse bar `k` back.
    pub fn tf_close(&self, timeframe: Timeframe, k: usize) -> Option<f64> {
        self.tf_bar(timeframe, k, Source::Close)
    }

    /// The start time (epoch seconds) of the completed coarse bar `k` back.
    pub fn tf_bar_time(&self, timeframe: Timeframe, k: usize) -> Option<i64> {
        let t = unsafe { sys::tf_bar_time(timeframe.0, back(k)) };
        if t == i64::MIN {
            None
        } else {
            Some(t)
        }
    }
}
