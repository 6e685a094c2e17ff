//! Symbols, bars, time and indicator values.

use super::Ctx;
use crate::marshal::{back, opt, read_string};
use crate::{shared, sys, Indicator, Source, Symbol};

impl Ctx {
    /// How many symbols the run has.
    pub fn symbol_count(&self) -> usize {
        let n = unsafe { sys::symbol_count() };
        if n < 0 {
            0
        } else {
            n as usize
        }
    }

    /// The run's symbols, in order (the first is [`Symbol::PRIMARY`]).
    pub fn symbols(&self) -> impl ExactSizeIterator<Item = Symbol> + DoubleEndedIterator {
        (0..self.symbol_count() as i32).map(Symbol)
    }

    /// A symbol's name.
    pub fn symbol_name(&self, symbol: Symbol) -> String {
        read_string(|out, cap| unsafe { sys::symbol_name(symbol.0, out, cap) })
    }

    /// Whether `symbol` has a bar at the current timestamp.
    pub fn has_bar(&self, symbol: Symbol) -> bool {
        unsafe { sys::has_bar(symbol.0) != 0 }
    }

    /// A field of `symbol`'s bar `k` bars back; `None` if there is none.
    pub fn bar(&self, symbol: Symbol, k: usize, field: Source) -> Option<f64> {
        opt(unsafe { sys::bar(symbol.0, back(k), field as i32) })
    }

    /// The opening price of `symbol`'s bar `k` bars back.
    pub fn open(&self, symbol: Symbol, k: usize) -> Option<f64> {
        self.bar(symbol, k, Source::Open)
    }

    /// The highest price of `symbol`'s bar `k` bars back.
    pub fn high(&self, symbol: Symbol, k: usize) -> Option<f64> {
        self.bar(symbol, k, Source::High)
    }

    /// The lowest price of `symbol`'s bar `k` bars back.
    pub fn low(&self, symbol: Symbol, k: usize) -> Option<f64> {
        self.bar(symbol, k, Source::Low)
    }

    /// The closing price of `symbol`'s bar `k` bars back.
    pub fn close(&self, symbol: Symbol, k: usize) -> Option<f64> {
        self.bar(symbol, k, Source::Close)
    }

    /// The volume of `symbol`'s bar `k` bars back.
    pub fn volume(&self, symbol: Symbol, k: usize) -> Option<f64> {
        self.bar(symbol, k, Source::Volume)
    }

    /// The time (epoch seconds) of `symbol`'s bar `k` bars back; `None` if there is none.
    pub fn bar_time(&self, symbol: Symbol, k: usize) -> Option<i64> {
        let t = unsafe { sys::bar_time(symbol.0, back(k)) };
        if t == i64::MIN {
            None
        } else {
            Some(t)
        }
    }

    /// The current timestamp in epoch seconds.
    pub fn time(&self) -> i64 {
        unsafe { sys::time() }
    }

    /// The index of the current step (0 on the first bar).
    pub fn bar_index(&self) -> i64 {
        unsafe { sys::bar_index() }
    }

    /// The current year.
    pub fn year(&self) -> i64 {
        unsafe { sys::calendar(0) }
    }

    /// The current month, 1 to 12.
    pub fn month(&self) -> i64 {
        unsafe { sys::calendar(1) }
    }

    /// The current day of the month, 1 to 31.
    pub fn day(&self) -> i64 {
        unsafe { sys::calendar(2) }
    }

    /// The current weekday, 1 (Monday) to 7 (Sunday).
    pub fn weekday(&self) -> i64 {
        unsafe { sys::calendar(3) }
    }

    /// The current hour, 0 to 23.
    pub fn hour(&self) -> i64 {
        unsafe { sys::calendar(4) }
    }

    /// The current minute, 0 to 59.
    pub fn minute(&self) -> i64 {
        unsafe { sys::calendar(5) }
    }

    /// An indicator's value `k` bars back; `None` while it is not ready.
    pub fn ind(&self, indicator: Indicator, k: usize) -> Option<f64> {
        // The latest two values come from the shared area; older ones, and handles the host
        // does not know (whose error it reports), from the host.
        match (k, shared::latest(indicator.0)) {
            (0, Some((now, _))) => opt(now),
            (1, Some((_, previous))) => opt(previous),
            _ => opt(unsafe { sys::ind(indicator.0, back(k)) }),
        }
    }

    /// 1 if `a` crossed above `b` on this bar, -1 if it crossed below, 0 otherwise: above now and
    /// below at the latest earlier bar where they differed (ties are looked through), the host's rule.
    pub fn cross(&self, a: Indicator, b: Indicator) -> i32 {
        match (shared::latest(a.0), shared::latest(b.0)) {
            (Some(a_values), Some(b_values)) => shared::crossing((a.0, shared::Side::Output(b.0)), a_values, b_values),
            _ => unsafe { sys::cross(a.0, b.0) },
        }
    }

    /// 1 if `a` crossed above `level` on this bar, -1 if it crossed below, 0 otherwise (the rule
    /// of [`Ctx::cross`](crate::Ctx::cross)).
    pub fn cross_level(&self, a: Indicator, level: f64) -> i32 {
        match shared::latest(a.0) {
            Some(values) => shared::crossing((a.0, shared::Side::Level(level.to_bits())), values, (level, level)),
            None => unsafe { sys::cross_level(a.0, level) },
        }
    }
}
