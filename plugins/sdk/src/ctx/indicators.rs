//! Declaring indicators (in `init`).

use super::Ctx;
use crate::marshal::{int, raw};
use crate::{sys, Bollinger, Indicator, Macd, Source, Symbol};

impl Ctx {
    /// Declares any indicator (only in [`Strategy::init`](crate::Strategy::init)) and returns the handle of its first
    /// output.
    ///
    /// `kind` is one of `sma ema wma rsi stddev highest lowest roc atr macd bollinger`; `a` is
    /// the period (`macd`: `a` fast, `b` slow, `c` signal); `k` is Bollinger's width in standard
    /// deviations; unused arguments must be 0. A multi-output indicator's other outputs follow
    /// the handle (`Indicator(h.0 + 1)`, ...).
    #[allow(clippy::too_many_arguments)]
    pub fn indicator(
        &mut self,
        name: &str,
        kind: &str,
        symbol: Symbol,
        source: Source,
        a: i64,
        b: i64,
        c: i64,
        k: f64,
    ) -> Indicator {
        let (np, nl) = raw(name);
        let (kp, kl) = raw(kind);
        let h = unsafe { sys::indicator(np, nl, kp, kl, symbol.0, source as i32, int(a), int(b), int(c), k) };
        Indicator(h)
    }

    fn single(&mut self, name: &str, kind: &str, symbol: Symbol, period: i64) -> Indicator {
        self.indicator(name, kind, symbol, Source::Close, period, 0, 0, 0.0)
    }

    /// Declares a simple moving average of the primary symbol's close.
    pub fn sma(&mut self, name: &str, period: i64) -> Indicator {
        self.single(name, "sma", Symbol::PRIMARY, period)
    }

    /// Declares a simple moving average of `symbol`'s close.
    pub fn sma_on(&mut self, name: &str, symbol: Symbol, period: i64) -> Indicator {
        self.single(name, "sma", symbol, period)
    }

    /// Declares an exponential moving average of the primary symbol's close.
    pub fn ema(&mut self, name: &str, period: i64) -> Indicator {
        self.single(name, "ema", Symbol::PRIMARY, period)
    }

    /// Declares an exponential moving average of `symbol`'s close.
    pub fn ema_on(&mut self, name: &str, symbol: Symbol, period: i64) -> Indicator {
        self.single(name, "ema", symbol, period)
    }

    /// Declares a weighted moving average of the primary symbol's close.
    pub fn wma(&mut self, name: &str, period: i64) -> Indicator {
        self.single(name, "wma", Symbol::PRIMARY, period)
    }

    /// Declares a weighted moving average of `symbol`'s close.
    pub fn wma_on(&mut self, name: &str, symbol: Symbol, period: i64) -> Indicator {
        self.single(name, "wma", symbol, period)
    }

    /// Declares a relative strength index of the primary symbol's close.
    pub fn rsi(&mut self, name: &str, period: i64) -> Indicator {
        self.single(name, "rsi", Symbol::PRIMARY, period)
    }

    /// Declares a relative strength index of `symbol`'s close.
    pub fn rsi_on(&mut self, name: &str, symbol: Symbol, period: i64) -> Indicator {
        self.single(name, "rsi", symbol, period)
    }

    /// Declares a rolling standard deviation of the primary symbol's close.
    pub fn stddev(&mut self, name: &str, period: i64) -> Indicator {
        self.single(name, "stddev", Symbol::PRIMARY, period)
    }

    /// Declares a rolling standard deviation of `symbol`'s close.
    pub fn stddev_on(&mut self, name: &str, symbol: Symbol, period: i64) -> Indicator {
        self.single(name, "stddev", symbol, period)
    }

    /// Declares the rolling highest close of the primary symbol.
    pub fn highest(&mut self, name: &str, period: i64) -> Indicator {
        self.single(name, "highest", Symbol::PRIMARY, period)
    }

    /// Declares the rolling highest close of `symbol`.
    pub fn highest_on(&mut self, name: &str, symbol: Symbol, period: i64) -> Indicator {
        self.single(name, "highest", symbol, period)
    }

    /// Declares the rolling lowest close of the primary symbol.
    pub fn lowest(&mut self, name: &str, period: i64) -> Indicator {
        self.single(name, "lowest", Symbol::PRIMARY, period)
    }

    /// Declares the rolling lowest close of `symbol`.
    pub fn lowest_on(&mut self, name: &str, symbol: Symbol, period: i64) -> Indicator {
        self.single(name, "lowest", symbol, period)
    }

    /// Declares the rate of change (in percent) of the primary symbol's close over `period`
    /// bars.
    pub fn roc(&mut self, name: &str, period: i64) -> Indicator {
        self.single(name, "roc", Symbol::PRIMARY, period)
    }

    /// Declares the rate of change (in percent) of `symbol`'s close over `period` bars.
    pub fn roc_on(&mut self, name: &str, symbol: Symbol, period: i64) -> Indicator {
        self.single(name, "roc", symbol, period)
    }

    /// Declares the average true range of the primary symbol.
    pub fn atr(&mut self, name: &str, period: i64) -> Indicator {
        self.single(name, "atr", Symbol::PRIMARY, period)
    }

    /// Declares the average true range of `symbol`.
    pub fn atr_on(&mut self, name: &str, symbol: Symbol, period: i64) -> Indicator {
        self.single(name, "atr", symbol, period)
    }

    /// Declares a MACD of the primary symbol's close.
    pub fn macd(&mut self, name: &str, fast: i64, slow: i64, signal: i64) -> Macd {
        self.macd_on(name, Symbol::PRIMARY, fast, slow, signal)
    }

    /// Declares a MACD of `symbol`'s close.
    pub fn macd_on(&mut self, name: &str, symbol: Symbol, fast: i64, slow: i64, signal: i64) -> Macd {
        let h = self.indicator(name, "macd", symbol, Source::Close, fast, slow, signal, 0.0);
        Macd { line: h, signal: Indicator(h.0 + 1), hist: Indicator(h.0 + 2) }
    }

    /// Declares Bollinger bands of the primary symbol's close, `k` standard deviations wide.
    pub fn bollinger(&mut self, name: &str, period: i64, k: f64) -> Bollinger {
        self.bollinger_on(name, Symbol::PRIMARY, period, k)
    }

    /// Declares Bollinger bands of `symbol`'s close, `k` standard deviations wide.
    pub fn bollinger_on(&mut self, name: &str, symbol: Symbol, period: i64, k: f64) -> Bollinger {
        let h = self.indicator(name, "bollinger", symbol, Source::Close, period, 0, 0, k);
        Bollinger { middle: h, upper: Indicator(h.0 + 1), lower: Indicator(h.0 + 2) }
    }

    /// Asks for at least `bars` bars of history per symbol (only in [`Strategy::init`](crate::Strategy::init)).
    pub fn lookback(&mut self, bars: i64) {
        unsafe { sys::lookback(int(bars)) }
    }
}
