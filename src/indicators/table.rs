//! The indicator vocabulary in one table: each kind's name, arguments (with
//! their defaults), whether it reads a bar source, and its outputs.
//!
//! Both runtimes translate a strategy's declaration through this table
//! (Rhai's `ctx.indicator(name, kind, #{...})` options and its short forms
//! such as `ctx.sma(name, period)`; WASM's positional
//! `bt.indicator(kind, source, a, b, c, k)`), and [`IndicatorSpec`]'s names,
//! outputs and display come from it. Adding a kind is one entry in [`KINDS`]
//! plus its maths: the indicator type, its [`IndicatorSpec`] variant (and the
//! arms of `IndicatorSpec::parts` and `build`) and its `IndicatorState`. The
//! table is read at declaration time only; the bar loop never looks here.

use std::fmt;

use super::{IndicatorSpec, Source};

/// The type of one indicator argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// A count of bars (a period): an integer >= 0.
    Count,
    /// A real number (e.g. Bollinger's `k`).
    Number,
}

/// One value of an indicator argument.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArgValue {
    /// A count of bars.
    Count(usize),
    /// A real number.
    Number(f64),
}

impl ArgValue {
    /// The value's type.
    pub fn ty(self) -> ArgType {
        match self {
            ArgValue::Count(_) => ArgType::Count,
            ArgValue::Number(_) => ArgType::Number,
        }
    }

    /// The value as a count; `None` for a number.
    pub fn count(self) -> Option<usize> {
        match self {
            ArgValue::Count(n) => Some(n),
            ArgValue::Number(_) => None,
        }
    }
}

/// A count as an integer, a number as Rust prints an `f64` (`2`, `2.5`).
impl fmt::Display for ArgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgValue::Count(n) => write!(f, "{n}"),
            ArgValue::Number(x) => write!(f, "{x}"),
        }
    }
}

/// One argument of an indicator kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arg {
    /// Its name, as Rhai's options map and the error messages spell it.
    pub name: &'static str,
    /// Its type.
    pub ty: ArgType,
    /// The value used when a declaration leaves it out; `None`: required.
    pub default: Option<ArgValue>,
}

/// The most arguments (besides the source) any kind takes.
pub const MAX_ARGS: usize = 3;

/// The source a kind that reads one uses when a declaration names none.
pub const DEFAULT_SOURCE: Source = Source::Close;

/// One indicator kind: what a strategy declares and what it reads back.
#[derive(Debug)]
pub struct IndicatorKind {
    /// Short lowercase name ("sma", "macd", ...).
    pub name: &'static str,
    /// Its arguments besides the source, in positional order (at most
    /// [`MAX_ARGS`]).
    pub args: &'static [Arg],
    /// Whether it reads one bar source (default [`DEFAULT_SOURCE`]); ATR
    /// reads high, low and close and takes none.
    pub reads_source: bool,
    /// Names of its outputs; `IndicatorState::value` takes an index into
    /// this list.
    pub outputs: &'static [&'static str],
    /// Builds the spec from values already checked against `args`.
    make: fn(&Values) -> IndicatorSpec,
}

/// Argument values checked against a kind's list, for its `make`.
struct Values<'a> {
    args: &'a [ArgValue],
    source: Source,
}

impl Values<'_> {
    /// Argument `i` as a count (checked to be one before `make` runs).
    fn count(&self, i: usize) -> usize {
        match self.args.get(i) {
            Some(ArgValue::Count(n)) => *n,
            _ => 0,
        }
    }

    /// Argument `i` as a number (checked to be one before `make` runs).
    fn number(&self, i: usize) -> f64 {
        match self.args.get(i) {
            Some(ArgValue::Number(x)) => *x,
            _ => f64::NAN,
        }
    }
}

impl IndicatorKind {
    /// The spec of this kind with `args` (in the order of [`Self::args`])
    /// reading `source` (ignored by a kind that reads none). The arguments'
    /// ranges are checked later, by `IndicatorSpec::build`.
    ///
    /// # Errors
    /// `args` does not match [`Self::args`] in number and types: a
    /// translator's mistake, reported rather than guessed around.
    pub fn spec(&self, args: &[ArgValue], source: Source) -> Result<IndicatorSpec, String> {
        let types_match =
            args.len() == self.args.len() && args.iter().zip(self.args).all(|(value, arg)| value.ty() == arg.ty);
        if !types_match {
            return Err(format!(
                "indicator '{}' got arguments {args:?}, which do not match its table entry",
                self.name
            ));
        }
        Ok((self.make)(&Values { args, source }))
    }

    /// Every name a declaration may give a value for: the arguments, then
    /// `source` if the kind reads one.
    pub fn option_names(&self) -> impl Iterator<Item = &'static str> {
        self.args.iter().map(|a| a.name).chain(self.reads_source.then_some("source"))
    }
}

/// A kind name that is not in [`KINDS`]; its message lists the known ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = kinds().collect();
        write!(f, "unknown indicator kind '{}'; known kinds: {}", self.0, known.join(", "))
    }
}

impl std::error::Error for UnknownKind {}

/// The kind named `name` (exact, lowercase).
///
/// # Errors
/// No kind has that name.
pub fn find_kind(name: &str) -> Result<&'static IndicatorKind, UnknownKind> {
    KINDS.iter().copied().find(|k| k.name == name).ok_or_else(|| UnknownKind(name.to_string()))
}

/// The kind names of all indicators ("sma", "ema", ...), in table order.
pub fn kinds() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|k| k.name)
}

const fn count(name: &'static str) -> Arg {
    Arg { name, ty: ArgType::Count, default: None }
}

const fn number(name: &'static str) -> Arg {
    Arg { name, ty: ArgType::Number, default: None }
}

const PERIOD: [Arg; 1] = [count("period")];
const VALUE: [&str; 1] = ["value"];

/// A kind with one argument, `period`, reading one source, with one output.
const fn single(name: &'static str, make: fn(&Values) -> IndicatorSpec) -> IndicatorKind {
    IndicatorKind { name, args: &PERIOD, reads_source: true, outputs: &VALUE, make }
}

/// Simple moving average.
pub static SMA: IndicatorKind = single("sma", |v| IndicatorSpec::Sma { period: v.count(0), source: v.source });
/// Exponential moving average.
pub static EMA: IndicatorKind = single("ema", |v| IndicatorSpec::Ema { period: v.count(0), source: v.source });
/// Weighted moving average.
pub static WMA: IndicatorKind = single("wma", |v| IndicatorSpec::Wma { period: v.count(0), source: v.source });
/// Wilder's RSI.
pub static RSI: IndicatorKind = single("rsi", |v| IndicatorSpec::Rsi { period: v.count(0), source: v.source });
/// MACD line, signal and histogram.
pub static MACD: IndicatorKind = IndicatorKind {
    name: "macd",
    args: &[count("fast"), count("slow"), count("signal")],
    reads_source: true,
    outputs: &["line", "signal", "hist"],
    make: |v| IndicatorSpec::Macd { fast: v.count(0), slow: v.count(1), signal: v.count(2), source: v.source },
};
/// Bollinger bands.
pub static BOLLINGER: IndicatorKind = IndicatorKind {
    name: "bollinger",
    args: &[count("period"), number("k")],
    reads_source: true,
    outputs: &["middle", "upper", "lower"],
    make: |v| IndicatorSpec::Bollinger { period: v.count(0), k: v.number(1), source: v.source },
};
/// Wilder's average true range (reads high, low and close).
pub static ATR: IndicatorKind = IndicatorKind {
    name: "atr",
    args: &PERIOD,
    reads_source: false,
    outputs: &VALUE,
    make: |v| IndicatorSpec::Atr { period: v.count(0) },
};
/// Rolling population standard deviation.
pub static STDDEV: IndicatorKind = single("stddev", |v| IndicatorSpec::StdDev { period: v.count(0), source: v.source });
/// Rolling maximum.
pub static HIGHEST: IndicatorKind =
    single("highest", |v| IndicatorSpec::Highest { period: v.count(0), source: v.source });
/// Rolling minimum.
pub static LOWEST: IndicatorKind = single("lowest", |v| IndicatorSpec::Lowest { period: v.count(0), source: v.source });
/// Rate of change in percent.
pub static ROC: IndicatorKind = single("roc", |v| IndicatorSpec::Roc { period: v.count(0), source: v.source });

/// Every kind, in the order of [`IndicatorSpec`]'s variants.
pub static KINDS: [&IndicatorKind; 11] =
    [&SMA, &EMA, &WMA, &RSI, &MACD, &BOLLINGER, &ATR, &STDDEV, &HIGHEST, &LOWEST, &ROC];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_found() {
        for (i, kind) in KINDS.iter().enumerate() {
            assert_eq!(kind.name, kind.name.to_lowercase());
            assert!(KINDS[..i].iter().all(|k| k.name != kind.name), "{} twice", kind.name);
            assert!(std::ptr::eq(find_kind(kind.name).unwrap(), *kind));
            assert!(kind.args.len() <= MAX_ARGS, "{}", kind.name);
            assert!(!kind.outputs.is_empty(), "{}", kind.name);
        }
    }

    #[test]
    fn an_unknown_kind_lists_the_known_ones() {
        let err = find_kind("foo").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown indicator kind 'foo'; known kinds: sma, ema, wma, rsi, macd, bollinger, atr, stddev, highest, lowest, roc"
        );
        assert!(find_kind("SMA").is_err());
    }

    #[test]
    fn spec_round_trips_through_the_table() {
        for kind in KINDS {
            let args: Vec<ArgValue> = (0..kind.args.len())
                .map(|i| match kind.args[i].ty {
                    ArgType::Count => ArgValue::Count(3 + 4 * i),
                    ArgType::Number => ArgValue::Number(1.5),
                })
                .collect();
            let spec = kind.spec(&args, Source::High).unwrap();
            assert_eq!(spec.kind(), kind.name);
            assert!(std::ptr::eq(spec.def(), kind));
            assert_eq!(spec.outputs(), kind.outputs);
            assert_eq!(spec.source(), kind.reads_source.then_some(Source::High));
            assert_eq!(spec.args().collect::<Vec<_>>(), args);
        }
    }

    #[test]
    fn spec_refuses_arguments_that_do_not_match_the_entry() {
        assert!(SMA.spec(&[], Source::Close).is_err());
        assert!(SMA.spec(&[ArgValue::Number(3.0)], Source::Close).is_err());
        assert!(BOLLINGER.spec(&[ArgValue::Count(20), ArgValue::Count(2)], Source::Close).is_err());
        assert!(MACD.spec(&[ArgValue::Count(1); 4], Source::Close).is_err());
    }

    #[test]
    fn option_names() {
        assert_eq!(MACD.option_names().collect::<Vec<_>>(), ["fast", "slow", "signal", "source"]);
        assert_eq!(BOLLINGER.option_names().collect::<Vec<_>>(), ["period", "k", "source"]);
        assert_eq!(ATR.option_names().collect::<Vec<_>>(), ["period"]);
    }
}
