//! Guest SDK for backtester WebAssembly strategy plugins (ABI version 4).
//!
//! A plugin is a `cdylib` built for `wasm32-unknown-unknown` that trades through the same narrow
//! API as a Rhai script. Implement [`Strategy`] for a type that is [`Default`], declare its
//! parameters in [`Strategy::params`], its indicators in [`Strategy::init`], trade in
//! [`Strategy::on_bar`], and hand the type to [`export_strategy!`], which generates the exports the
//! host calls (`bt_abi_version`, `bt_params`, `bt_init`, `bt_on_bars`, `bt_on_finish`): the host hands
//! the plugin runs of bars, and `bt_on_bars` calls [`Strategy::on_bar`] for each.
//!
//! The host ABI itself (the `bt` imports) is documented in `plugins/README.md`; the raw imports are
//! in [`sys`], and [`Ctx`] and [`Params`] wrap them safely.
//!
//! # Example
//!
//! The SMA crossover of `scripts/sma_cross.rhai`, as a plugin:
//!
//! ```no_run
//! use backtester_plugin::{export_strategy, Ctx, Error, Indicator, Params, Strategy, Symbol};
//!
//! #[derive(Default)]
//! struct SmaCross {
//!     fast: Indicator,
//!     slow: Indicator,
//! }
//!
//! impl Strategy for SmaCross {
//!     fn params(p: &mut Params) {
//!         p.int("fast", 10).int("slow", 20);
//!     }
//!
//!     fn init(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
//!         self.fast = ctx.sma("fast", ctx.param_int("fast"));
//!         self.slow = ctx.sma("slow", ctx.param_int("slow"));
//!         Ok(())
//!     }
//!
//!     fn on_bar(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
//!         let cross = ctx.cross(self.fast, self.slow);
//!         if cross > 0 {
//!             ctx.order_target_percent(Symbol::PRIMARY, 1.0);
//!         } else if cross < 0 {
//!             ctx.close_position(Symbol::PRIMARY);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export_strategy!(SmaCross);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-unknown-unknown` (crate type `cdylib`)
//! and run the resulting `.wasm` file like a script.
//!
//! # Errors and panics
//!
//! When a lifecycle method returns `Err`, the generated export passes the message to `bt.fail` and
//! returns 1, which fails the run with that message. A panic is reported the same way: the
//! generated exports install a panic hook that sends the panic message and its location to
//! `bt.log` and `bt.fail` before the module traps.
//!
//! Misusing the host API (an unknown symbol, an undeclared indicator handle, `k` beyond the
//! lookback, declaring an indicator outside `init`, an invalid order) traps in the host, which
//! fails the run with a message naming the host function.

#![warn(missing_docs)]

use std::cell::UnsafeCell;
use std::fmt;

mod shared;
pub mod sys;

/// The version of the host ABI this SDK implements; `bt_abi_version` returns it.
pub const ABI_VERSION: i32 = 4;

// ---------------------------------------------------------------------------------------------
// Small typed values
// ---------------------------------------------------------------------------------------------

/// Where a bracket's stop-loss or take-profit sits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Exit {
    /// No such exit.
    None,
    /// An absolute price.
    Price(f64),
    /// A fraction of the entry's fill price away from it (0.02 = 2 %).
    Fraction(f64),
}

impl Exit {
    fn raw(self) -> (i32, f64) {
        match self {
            Exit::None => (0, 0.0),
            Exit::Price(p) => (1, p),
            Exit::Fraction(f) => (2, f),
        }
    }
}

/// How far a trailing stop trails the best price.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trail {
    /// A fixed price distance.
    Amount(f64),
    /// A fraction of the best price.
    Fraction(f64),
}

impl Trail {
    fn raw(self) -> (i32, f64) {
        match self {
            Trail::Amount(a) => (1, a),
            Trail::Fraction(f) => (2, f),
        }
    }
}

/// How a bracket's entry fills.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Entry {
    /// At the next open.
    Market,
    /// At this limit price or better.
    Limit(f64),
    /// Once the price trades through this stop.
    Stop(f64),
}

/// The exits a bracket entry attaches to its position: a stop-loss or a trailing stop, and a
/// take-profit; the first to fill cancels the others.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bracket {
    /// How the entry fills (market by default).
    pub entry: Entry,
    /// The stop-loss.
    pub stop_loss: Exit,
    /// The take-profit.
    pub take_profit: Exit,
    /// A trailing stop (instead of a stop-loss).
    pub trail: Option<Trail>,
}

impl Default for Bracket {
    fn default() -> Self {
        Bracket { entry: Entry::Market, stop_loss: Exit::None, take_profit: Exit::None, trail: None }
    }
}

/// A calendar period for [`Ctx::schedule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// Each day.
    Daily = 0,
    /// Each ISO week (from Monday).
    Weekly = 1,
    /// Each month.
    Monthly = 2,
}

/// A declared coarser timeframe (see [`Ctx::timeframe`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeframe(pub i32);

/// A symbol of the run, by index: 0 is the run's first symbol (see [`Ctx::symbols`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol(pub i32);

impl Symbol {
    /// The run's first symbol, the one Rhai scripts trade when they name none.
    pub const PRIMARY: Symbol = Symbol(0);

    /// The symbol's index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A handle to one output of a declared indicator, returned by the declaring methods of [`Ctx`].
///
/// The default value is an invalid handle (using it traps); it lets a strategy struct derive
/// [`Default`] and fill its handles in [`Strategy::init`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Indicator(pub i32);

impl Default for Indicator {
    fn default() -> Self {
        Indicator(-1)
    }
}

/// The three outputs of a MACD indicator (see [`Ctx::macd`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Macd {
    /// The MACD line: fast EMA minus slow EMA.
    pub line: Indicator,
    /// The signal line: an EMA of the MACD line.
    pub signal: Indicator,
    /// The histogram: line minus signal.
    pub hist: Indicator,
}

/// The three outputs of a Bollinger band indicator (see [`Ctx::bollinger`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bollinger {
    /// The middle band: the simple moving average.
    pub middle: Indicator,
    /// The upper band: middle plus `k` standard deviations.
    pub upper: Indicator,
    /// The lower band: middle minus `k` standard deviations.
    pub lower: Indicator,
}

/// The id of an order, as returned by the order methods of [`Ctx`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub i64);

/// A bar field: what an indicator is computed from, or which value [`Ctx::bar`] reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Source {
    /// The opening price.
    Open = 0,
    /// The highest price.
    High = 1,
    /// The lowest price.
    Low = 2,
    /// The closing price (the default source of every indicator).
    #[default]
    Close = 3,
    /// The traded volume.
    Volume = 4,
}

/// An error returned from a [`Strategy`] method: a message that fails the run.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Error { message: message.into() }
    }

    /// The error's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.message, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::new(message)
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::new(message)
    }
}

// ---------------------------------------------------------------------------------------------
// The strategy trait
// ---------------------------------------------------------------------------------------------

/// A trading strategy: the plugin's counterpart of a Rhai script's `params`, `init`, `on_bar` and
/// `on_finish` functions. Export it with [`export_strategy!`].
///
/// The instance is created with [`Default`] just before [`init`](Strategy::init) and lives for the
/// whole run.
pub trait Strategy: Default + 'static {
    /// Declares the strategy's parameters and their defaults (called once, when the plugin is
    /// loaded, before any instance exists). Declares none by default.
    fn params(p: &mut Params) {
        let _ = p;
    }

    /// Declares indicators and the lookback; called once before the first bar.
    ///
    /// # Errors
    /// An error fails the run with its message.
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        let _ = ctx;
        Ok(())
    }

    /// Called once per timestamp: read bars and indicators, place orders.
    ///
    /// # Errors
    /// An error fails the run with its message.
    fn on_bar(&mut self, ctx: &mut Ctx) -> Result<(), Error>;

    /// Called once after the last bar.
    ///
    /// # Errors
    /// An error fails the run with its message.
    fn on_finish(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        let _ = ctx;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// String helpers
// ---------------------------------------------------------------------------------------------

/// A string's `(ptr, len)` as the host expects it.
fn raw(s: &str) -> (i32, i32) {
    (s.as_ptr() as usize as i32, s.len() as i32)
}

/// Clamps a count or period to the host's `i32` (an out-of-range value stays out of range, so the
/// host still rejects it rather than seeing a wrapped value).
fn int(v: i64) -> i32 {
    if v > i64::from(i32::MAX) {
        i32::MAX
    } else if v < i64::from(i32::MIN) {
        i32::MIN
    } else {
        v as i32
    }
}

/// Clamps a bars-back count to the host's `i32`.
fn back(k: usize) -> i32 {
    if k > i32::MAX as usize {
        i32::MAX
    } else {
        k as i32
    }
}

/// NaN (the host's "no value") as `None`.
fn opt(v: f64) -> Option<f64> {
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Reads a string the host writes with a `(out_ptr, out_cap) -> full length` function, growing the
/// buffer once if the first one was too small.
fn read_string(mut call: impl FnMut(i32, i32) -> i32) -> String {
    let mut small = [0u8; 64];
    let n = call(small.as_mut_ptr() as usize as i32, small.len() as i32);
    let n = if n < 0 { 0 } else { n as usize };
    let bytes = if n <= small.len() {
        small[..n].to_vec()
    } else {
        let mut big = vec![0u8; n];
        let m = call(big.as_mut_ptr() as usize as i32, n as i32);
        big.truncate(if m < 0 { 0 } else { (m as usize).min(n) });
        big
    };
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Params
// ---------------------------------------------------------------------------------------------

/// Declares the strategy's parameters (see [`Strategy::params`]); each method returns `self` so
/// declarations chain. A run overrides the defaults by name.
pub struct Params {
    _private: (),
}

impl Params {
    /// Declares an integer parameter.
    pub fn int(&mut self, name: &str, default: i64) -> &mut Self {
        let (p, l) = raw(name);
        unsafe { sys::declare_int(p, l, default) };
        self
    }

    /// Declares a float parameter.
    pub fn float(&mut self, name: &str, default: f64) -> &mut Self {
        let (p, l) = raw(name);
        unsafe { sys::declare_float(p, l, default) };
        self
    }

    /// Declares a boolean parameter.
    pub fn bool(&mut self, name: &str, default: bool) -> &mut Self {
        let (p, l) = raw(name);
        unsafe { sys::declare_bool(p, l, i32::from(default)) };
        self
    }

    /// Declares a text parameter.
    pub fn text(&mut self, name: &str, default: &str) -> &mut Self {
        let (p, l) = raw(name);
        let (vp, vl) = raw(default);
        unsafe { sys::declare_text(p, l, vp, vl) };
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Ctx
// ---------------------------------------------------------------------------------------------

/// The strategy's view of the run, passed to every [`Strategy`] method: parameters, indicators,
/// bars, time, the portfolio and orders. It mirrors the Rhai `ctx` API.
///
/// Every read is relative to the current bar; `k` counts that symbol's bars back (0 = the latest)
/// and must stay within the lookback. Values that do not exist yet are `None`.
pub struct Ctx {
    _private: (),
}

impl Ctx {
    // --- parameters ---------------------------------------------------------------------------

    /// The value of an integer parameter.
    pub fn param_int(&self, name: &str) -> i64 {
        let (p, l) = raw(name);
        unsafe { sys::param_int(p, l) }
    }

    /// The value of an integer or float parameter, as a float.
    pub fn param_float(&self, name: &str) -> f64 {
        let (p, l) = raw(name);
        unsafe { sys::param_float(p, l) }
    }

    /// The value of a boolean parameter.
    pub fn param_bool(&self, name: &str) -> bool {
        let (p, l) = raw(name);
        unsafe { sys::param_bool(p, l) != 0 }
    }

    /// The value of a text parameter.
    pub fn param_text(&self, name: &str) -> String {
        let (p, l) = raw(name);
        read_string(|out, cap| unsafe { sys::param_text(p, l, out, cap) })
    }

    // --- indicators (declare them in init) ----------------------------------------------------

    /// Declares any indicator (only in [`Strategy::init`]) and returns the handle of its first
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

    /// Asks for at least `bars` bars of history per symbol (only in [`Strategy::init`]).
    pub fn lookback(&mut self, bars: i64) {
        unsafe { sys::lookback(int(bars)) }
    }

    // --- symbols and bars ---------------------------------------------------------------------

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

    // --- time ---------------------------------------------------------------------------------

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

    // --- indicator values ---------------------------------------------------------------------

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
    /// of [`Ctx::cross`]).
    pub fn cross_level(&self, a: Indicator, level: f64) -> i32 {
        match shared::latest(a.0) {
            Some(values) => shared::crossing((a.0, shared::Side::Level(level.to_bits())), values, (level, level)),
            None => unsafe { sys::cross_level(a.0, level) },
        }
    }

    // --- portfolio ----------------------------------------------------------------------------

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

    // --- orders (only in on_bar) --------------------------------------------------------------

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

    // --- portfolio (ABI version 2) -----------------------------------------------------------

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
    /// An empty set, or what [`Ctx::rebalance`] refuses.
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

    // --- log ----------------------------------------------------------------------------------

    /// Adds a line to the run's log, stamped with the current bar.
    pub fn log(&self, message: &str) {
        let (p, l) = raw(message);
        unsafe { sys::log(p, l) }
    }
}

// ---------------------------------------------------------------------------------------------
// Exports
// ---------------------------------------------------------------------------------------------

/// Generates the plugin's exports for a type implementing [`Strategy`]: `bt_abi_version`,
/// `bt_params`, `bt_init`, `bt_on_bars` and `bt_on_finish`. Use it once, in a `cdylib` crate.
///
/// ```no_run
/// # use backtester_plugin::{export_strategy, Ctx, Error, Strategy};
/// #[derive(Default)]
/// struct Idle;
///
/// impl Strategy for Idle {
///     fn on_bar(&mut self, _ctx: &mut Ctx) -> Result<(), Error> {
///         Ok(())
///     }
/// }
///
/// export_strategy!(Idle);
/// ```
#[macro_export]
macro_rules! export_strategy {
    ($strategy:ty) => {
        const _: () = {
            static INSTANCE: $crate::__private::Slot<$strategy> = $crate::__private::Slot::new();

            #[no_mangle]
            pub extern "C" fn bt_abi_version() -> i32 {
                $crate::ABI_VERSION
            }

            #[no_mangle]
            pub extern "C" fn bt_params() {
                $crate::__private::params::<$strategy>()
            }

            #[no_mangle]
            pub extern "C" fn bt_init() -> i32 {
                $crate::__private::init(&INSTANCE)
            }

            #[no_mangle]
            pub extern "C" fn bt_on_bars() -> i32 {
                $crate::__private::on_bars(&INSTANCE)
            }

            #[no_mangle]
            pub extern "C" fn bt_on_finish() -> i32 {
                $crate::__private::on_finish(&INSTANCE)
            }
        };
    };
}

/// Implementation details of [`export_strategy!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    use super::{sys, Ctx, Error, Params, Strategy, UnsafeCell};
    use std::any::Any;
    use std::panic::Location;
    use std::sync::Once;

    /// Holds the strategy instance between calls.
    pub struct Slot<T>(UnsafeCell<Option<T>>);

    // SAFETY: a plugin instance is single-threaded (wasm32-unknown-unknown has no threads) and
    // the host never re-enters an export while another one runs, so at most one reference to
    // the contents exists at a time.
    unsafe impl<T> Sync for Slot<T> {}

    impl<T> Slot<T> {
        /// An empty slot.
        pub const fn new() -> Self {
            Slot(UnsafeCell::new(None))
        }
    }

    impl<T> Default for Slot<T> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<T: Strategy> Slot<T> {
        /// Runs `f` on the instance, first replacing it with a fresh one if `fresh` or if there
        /// is none yet.
        fn with<R>(&self, fresh: bool, f: impl FnOnce(&mut T) -> R) -> R {
            // SAFETY: see `Sync` above: exports are never re-entered, so this is the only
            // reference to the contents, and it does not outlive this call.
            let slot = unsafe { &mut *self.0.get() };
            if fresh || slot.is_none() {
                *slot = Some(T::default());
            }
            match slot {
                Some(strategy) => f(strategy),
                None => unreachable!(),
            }
        }
    }

    static HOOK: Once = Once::new();

    /// Installs the panic hook that reports panics through `bt.log` and `bt.fail` (once).
    fn install_hook() {
        HOOK.call_once(|| {
            std::panic::set_hook(Box::new(|info| report_panic(info.payload(), info.location())));
        });
    }

    fn report_panic(payload: &(dyn Any + Send), location: Option<&Location<'_>>) {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            s
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.as_str()
        } else {
            "Box<dyn Any>"
        };
        let text = match location {
            Some(l) => format!("plugin panicked at {}:{}:{}: {}", l.file(), l.line(), l.column(), message),
            None => format!("plugin panicked: {}", message),
        };
        let (p, l) = (text.as_ptr() as usize as i32, text.len() as i32);
        unsafe {
            sys::log(p, l);
            sys::fail(p, l);
        }
    }

    fn finish(result: Result<(), Error>) -> i32 {
        match result {
            Ok(()) => 0,
            Err(e) => {
                let m = e.message();
                unsafe { sys::fail(m.as_ptr() as usize as i32, m.len() as i32) };
                1
            }
        }
    }

    /// `bt_params`.
    pub fn params<T: Strategy>() {
        install_hook();
        T::params(&mut Params { _private: () });
    }

    /// `bt_init`: creates the instance and calls `init`.
    pub fn init<T: Strategy>(slot: &Slot<T>) -> i32 {
        install_hook();
        let result = slot.with(true, |s| s.init(&mut Ctx { _private: () }));
        if result.is_ok() {
            super::shared::start();
        }
        finish(result)
    }

    /// `bt_on_bars`: `on_bar` for each bar the host hands out, until it says the run of bars is
    /// done or `on_bar` fails.
    pub fn on_bars<T: Strategy>(slot: &Slot<T>) -> i32 {
        install_hook();
        finish(slot.with(false, |s| {
            let mut ctx = Ctx { _private: () };
            while unsafe { sys::next_bar() } != 0 {
                super::shared::bar_started();
                s.on_bar(&mut ctx)?;
            }
            Ok(())
        }))
    }

    /// `bt_on_finish`.
    pub fn on_finish<T: Strategy>(slot: &Slot<T>) -> i32 {
        install_hook();
        finish(slot.with(false, |s| s.on_finish(&mut Ctx { _private: () })))
    }
}
