//! Small typed values of the API: symbols, indicator handles, order ids, sources, and the
//! parts of brackets and trailing stops.

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
    pub(crate) fn raw(self) -> (i32, f64) {
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
    pub(crate) fn raw(self) -> (i32, f64) {
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

/// A calendar period for [`Ctx::schedule`](crate::Ctx::schedule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// Each day.
    Daily = 0,
    /// Each ISO week (from Monday).
    Weekly = 1,
    /// Each month.
    Monthly = 2,
}

/// A declared coarser timeframe (see [`Ctx::timeframe`](crate::Ctx::timeframe)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeframe(pub i32);

/// A symbol of the run, by index: 0 is the run's first symbol (see [`Ctx::symbols`](crate::Ctx::symbols)).
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

/// A handle to one output of a declared indicator, returned by the declaring methods of [`Ctx`](crate::Ctx).
///
/// The default value is an invalid handle (using it traps); it lets a strategy struct derive
/// [`Default`] and fill its handles in [`Strategy::init`](crate::Strategy::init).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Indicator(pub i32);

impl Default for Indicator {
    fn default() -> Self {
        Indicator(-1)
    }
}

/// The three outputs of a MACD indicator (see [`Ctx::macd`](crate::Ctx::macd)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Macd {
    /// The MACD line: fast EMA minus slow EMA.
    pub line: Indicator,
    /// The signal line: an EMA of the MACD line.
    pub signal: Indicator,
    /// The histogram: line minus signal.
    pub hist: Indicator,
}

/// The three outputs of a Bollinger band indicator (see [`Ctx::bollinger`](crate::Ctx::bollinger)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bollinger {
    /// The middle band: the simple moving average.
    pub middle: Indicator,
    /// The upper band: middle plus `k` standard deviations.
    pub upper: Indicator,
    /// The lower band: middle minus `k` standard deviations.
    pub lower: Indicator,
}

/// The id of an order, as returned by the order methods of [`Ctx`](crate::Ctx).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub i64);

/// A bar field: what an indicator is computed from, or which value [`Ctx::bar`](crate::Ctx::bar) reads.
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
    /// The traded volume (NaN for data without a Volume column).
    Volume = 4,
}
