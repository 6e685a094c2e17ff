//! Dispatch: the indicator specs a strategy declares, and the running state the engine feeds.

use std::fmt;

use super::table::{self, ArgValue, IndicatorKind, MAX_ARGS};
use super::{Atr, BarInput, Bollinger, Ema, Highest, IndicatorError, Lowest, Macd, Roc, Rsi, Sma, Source, StdDev, Wma};

/// An indicator and its arguments, as a strategy declares it. See each
/// indicator's type for its definition and when it becomes ready.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IndicatorSpec {
    /// Simple moving average, see [`Sma`].
    Sma {
        /// Window length.
        period: usize,
        /// Input read from each bar.
        source: Source,
    },
    /// Exponential moving average, see [`Ema`].
    Ema {
        /// Window length (alpha = 2 / (period + 1)).
        period: usize,
        /// Input read from each bar.
        source: Source,
    },
    /// Weighted moving average, see [`Wma`].
    Wma {
        /// Window length.
        period: usize,
        /// Input read from each bar.
        source: Source,
    },
    /// Wilder's RSI, see [`Rsi`].
    Rsi {
        /// Number of changes averaged.
        period: usize,
        /// Input read from each bar.
        source: Source,
    },
    /// MACD line, signal and histogram, see [`Macd`].
    Macd {
        /// Fast EMA period (must be < `slow`).
        fast: usize,
        /// Slow EMA period.
        slow: usize,
        /// Signal EMA period.
        signal: usize,
        /// Input read from each bar.
        source: Source,
    },
    /// Bollinger bands, see [`Bollinger`].
    Bollinger {
        /// Window length.
        period: usize,
        /// Band width in standard deviations (finite, > 0).
        k: f64,
        /// Input read from each bar.
        source: Source,
    },
    /// Wilder's average true range over high/low/close, see [`Atr`].
    Atr {
        /// Number of bars averaged.
        period: usize,
    },
    /// Rolling population standard deviation, see [`StdDev`].
    StdDev {
        /// Window length.
        period: usize,
        /// Input read from each bar.
        source: Source,
    },
    /// Rolling maximum, see [`Highest`].
    Highest {
        /// Window length.
        period: usize,
        /// Input read from each bar.
        source: Source,
    },
    /// Rolling minimum, see [`Lowest`].
    Lowest {
        /// Window length.
        period: usize,
        /// Input read from each bar.
        source: Source,
    },
    /// Rate of change in percent, see [`Roc`].
    Roc {
        /// Look-back in bars.
        period: usize,
        /// Input read from each bar.
        source: Source,
    },
}

impl IndicatorSpec {
    /// The spec taken apart: its kind's table entry, its argument values in
    /// the entry's order (the rest padded with zero counts) and the source it
    /// reads. The one place a variant meets the table.
    fn parts(&self) -> (&'static IndicatorKind, [ArgValue; MAX_ARGS], Option<Source>) {
        use ArgValue::{Count, Number};
        const PAD: ArgValue = Count(0);
        match *self {
            IndicatorSpec::Sma { period, source } => (&table::SMA, [Count(period), PAD, PAD], Some(source)),
            IndicatorSpec::Ema { period, source } => (&table::EMA, [Count(period), PAD, PAD], Some(source)),
            IndicatorSpec::Wma { period, source } => (&table::WMA, [Count(period), PAD, PAD], Some(source)),
            IndicatorSpec::Rsi { period, source } => (&table::RSI, [Count(period), PAD, PAD], Some(source)),
            IndicatorSpec::Macd { fast, slow, signal, source } => {
                (&table::MACD, [Count(fast), Count(slow), Count(signal)], Some(source))
            }
            IndicatorSpec::Bollinger { period, k, source } => {
                (&table::BOLLINGER, [Count(period), Number(k), PAD], Some(source))
            }
            IndicatorSpec::Atr { period } => (&table::ATR, [Count(period), PAD, PAD], None),
            IndicatorSpec::StdDev { period, source } => (&table::STDDEV, [Count(period), PAD, PAD], Some(source)),
            IndicatorSpec::Highest { period, source } => (&table::HIGHEST, [Count(period), PAD, PAD], Some(source)),
            IndicatorSpec::Lowest { period, source } => (&table::LOWEST, [Count(period), PAD, PAD], Some(source)),
            IndicatorSpec::Roc { period, source } => (&table::ROC, [Count(period), PAD, PAD], Some(source)),
        }
    }

    /// The table entry of this spec's kind.
    pub fn def(&self) -> &'static IndicatorKind {
        self.parts().0
    }

    /// The argument values, in the order of the kind's table entry.
    pub fn args(&self) -> impl Iterator<Item = ArgValue> {
        let (kind, values, _) = self.parts();
        values.into_iter().take(kind.args.len())
    }

    /// Names of the outputs: `["value"]` for single-output indicators,
    /// `["line", "signal", "hist"]` for MACD, `["middle", "upper", "lower"]`
    /// for Bollinger. [`IndicatorState::value`] takes an index into this list.
    pub fn outputs(&self) -> &'static [&'static str] {
        self.def().outputs
    }

    /// Short lowercase kind name: "sma", "ema", "wma", "rsi", "macd",
    /// "bollinger", "atr", "stddev", "highest", "lowest", "roc" (see [`super::kinds`]).
    pub fn kind(&self) -> &'static str {
        self.def().name
    }

    /// The longest window of bars the indicator keeps (its largest count
    /// argument, e.g. MACD's longest average); bounds the memory it holds.
    pub fn window(&self) -> usize {
        self.args().filter_map(ArgValue::count).max().unwrap_or(0)
    }

    /// The bar input the indicator reads; `None` for ATR, which reads high,
    /// low and close.
    pub fn source(&self) -> Option<Source> {
        self.parts().2
    }

    /// Validates the arguments and builds the running state.
    pub fn build(&self) -> Result<IndicatorState, IndicatorError> {
        Ok(match *self {
            IndicatorSpec::Sma { period, source } => IndicatorState::Sma(source, Sma::new(period)?),
            IndicatorSpec::Ema { period, source } => IndicatorState::Ema(source, Ema::new(period)?),
            IndicatorSpec::Wma { period, source } => IndicatorState::Wma(source, Wma::new(period)?),
            IndicatorSpec::Rsi { period, source } => IndicatorState::Rsi(source, Rsi::new(period)?),
            IndicatorSpec::Macd { fast, slow, signal, source } => {
                IndicatorState::Macd(source, Macd::new(fast, slow, signal)?)
            }
            IndicatorSpec::Bollinger { period, k, source } => {
                IndicatorState::Bollinger(source, Bollinger::new(period, k)?)
            }
            IndicatorSpec::Atr { period } => IndicatorState::Atr(Atr::new(period)?),
            IndicatorSpec::StdDev { period, source } => IndicatorState::StdDev(source, StdDev::new(period)?),
            IndicatorSpec::Highest { period, source } => IndicatorState::Highest(source, Highest::new(period)?),
            IndicatorSpec::Lowest { period, source } => IndicatorState::Lowest(source, Lowest::new(period)?),
            IndicatorSpec::Roc { period, source } => IndicatorState::Roc(source, Roc::new(period)?),
        })
    }
}

/// `kind(arg, ..., source)` with the arguments in table order, e.g.
/// `sma(20, close)`, `macd(12, 26, 9, close)`, `bollinger(20, 2, close)`,
/// `atr(14)`.
impl fmt::Display for IndicatorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.kind())?;
        let mut first = true;
        for arg in self.args() {
            f.write_str(if first { "" } else { ", " })?;
            write!(f, "{arg}")?;
            first = false;
        }
        if let Some(source) = self.source() {
            f.write_str(if first { "" } else { ", " })?;
            write!(f, "{source}")?;
        }
        f.write_str(")")
    }
}

/// A running indicator built by [`IndicatorSpec::build`]: an enum over the
/// concrete types (static dispatch), each with the [`Source`] it reads.
#[derive(Clone, Debug)]
pub enum IndicatorState {
    /// Running [`Sma`].
    Sma(Source, Sma),
    /// Running [`Ema`].
    Ema(Source, Ema),
    /// Running [`Wma`].
    Wma(Source, Wma),
    /// Running [`Rsi`].
    Rsi(Source, Rsi),
    /// Running [`Macd`].
    Macd(Source, Macd),
    /// Running [`Bollinger`].
    Bollinger(Source, Bollinger),
    /// Running [`Atr`] (reads high, low and close).
    Atr(Atr),
    /// Running [`StdDev`].
    StdDev(Source, StdDev),
    /// Running [`Highest`].
    Highest(Source, Highest),
    /// Running [`Lowest`].
    Lowest(Source, Lowest),
    /// Running [`Roc`].
    Roc(Source, Roc),
}

impl IndicatorState {
    /// Feeds one bar.
    #[inline]
    pub fn update(&mut self, bar: &BarInput) {
        match self {
            IndicatorState::Sma(source, i) => {
                i.update(bar.get(*source));
            }
            IndicatorState::Ema(source, i) => {
                i.update(bar.get(*source));
            }
            IndicatorState::Wma(source, i) => {
                i.update(bar.get(*source));
            }
            IndicatorState::Rsi(source, i) => {
                i.update(bar.get(*source));
            }
            IndicatorState::Macd(source, i) => {
                i.update(bar.get(*source));
            }
            IndicatorState::Bollinger(source, i) => {
                i.update(bar.get(*source));
            }
            IndicatorState::Atr(i) => {
                i.update(bar.high, bar.low, bar.close);
            }
            IndicatorState::StdDev(source, i) => {
                i.update(bar.get(*source));
            }
            IndicatorState::Highest(source, i) => {
                i.update(bar.get(*source));
            }
            IndicatorState::Lowest(source, i) => {
                i.update(bar.get(*source));
            }
            IndicatorState::Roc(source, i) => {
                i.update(bar.get(*source));
            }
        }
    }

    /// Current value of output `output` (an index into the list of
    /// [`IndicatorSpec::outputs`]); `None` until ready, and
    /// `None` for an index past the end of that list.
    #[inline]
    pub fn value(&self, output: usize) -> Option<f64> {
        match self {
            IndicatorState::Macd(_, i) => match output {
                0 => i.line(),
                1 => i.signal(),
                2 => i.hist(),
                _ => None,
            },
            IndicatorState::Bollinger(_, i) => {
                let v = i.value()?;
                match output {
                    0 => Some(v.middle),
                    1 => Some(v.upper),
                    2 => Some(v.lower),
                    _ => None,
                }
            }
            _ if output != 0 => None,
            IndicatorState::Sma(_, i) => i.value(),
            IndicatorState::Ema(_, i) => i.value(),
            IndicatorState::Wma(_, i) => i.value(),
            IndicatorState::Rsi(_, i) => i.value(),
            IndicatorState::Atr(i) => i.value(),
            IndicatorState::StdDev(_, i) => i.value(),
            IndicatorState::Highest(_, i) => i.value(),
            IndicatorState::Lowest(_, i) => i.value(),
            IndicatorState::Roc(_, i) => i.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::bars;
    use super::*;

    const C: Source = Source::Close;

    /// One spec of every kind, in the table's order.
    fn all_specs() -> Vec<IndicatorSpec> {
        vec![
            IndicatorSpec::Sma { period: 5, source: C },
            IndicatorSpec::Ema { period: 5, source: Source::Open },
            IndicatorSpec::Wma { period: 5, source: Source::High },
            IndicatorSpec::Rsi { period: 14, source: C },
            IndicatorSpec::Macd { fast: 3, slow: 7, signal: 4, source: C },
            IndicatorSpec::Bollinger { period: 20, k: 2.0, source: Source::Low },
            IndicatorSpec::Atr { period: 14 },
            IndicatorSpec::StdDev { period: 10, source: Source::Volume },
            IndicatorSpec::Highest { period: 10, source: Source::High },
            IndicatorSpec::Lowest { period: 10, source: Source::Low },
            IndicatorSpec::Roc { period: 3, source: C },
        ]
    }

    #[test]
    fn kinds_and_outputs() {
        let specs = all_specs();
        let spec_kinds: Vec<&str> = specs.iter().map(IndicatorSpec::kind).collect();
        assert_eq!(spec_kinds, super::super::kinds().collect::<Vec<_>>());
        for spec in &specs {
            spec.build().unwrap();
            let expected: &[&str] = match spec.kind() {
                "macd" => &["line", "signal", "hist"],
                "bollinger" => &["middle", "upper", "lower"],
                _ => &["value"],
            };
            assert_eq!(spec.outputs(), expected);
        }
    }

    #[test]
    fn display_and_source() {
        let specs = all_specs();
        let shown: Vec<String> = specs.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "sma(5, close)",
                "ema(5, open)",
                "wma(5, high)",
                "rsi(14, close)",
                "macd(3, 7, 4, close)",
                "bollinger(20, 2, low)",
                "atr(14)",
                "stddev(10, volume)",
                "highest(10, high)",
                "lowest(10, low)",
                "roc(3, close)",
            ]
        );
        assert_eq!(specs[0].source(), Some(C));
        assert_eq!(specs[6].source(), None);
        assert_eq!(specs[7].source(), Some(Source::Volume));
    }

    #[test]
    fn build_rejects_invalid_arguments() {
        let bad = [
            IndicatorSpec::Sma { period: 0, source: C },
            IndicatorSpec::Ema { period: 0, source: C },
            IndicatorSpec::Wma { period: 0, source: C },
            IndicatorSpec::Rsi { period: 0, source: C },
            IndicatorSpec::Macd { fast: 0, slow: 26, signal: 9, source: C },
            IndicatorSpec::Bollinger { period: 0, k: 2.0, source: C },
            IndicatorSpec::Atr { period: 0 },
            IndicatorSpec::StdDev { period: 0, source: C },
            IndicatorSpec::Highest { period: 0, source: C },
            IndicatorSpec::Lowest { period: 0, source: C },
            IndicatorSpec::Roc { period: 0, source: C },
        ];
        for spec in bad {
            let err = spec.build().unwrap_err();
            assert!(err.to_string().starts_with(spec.kind()), "{spec}: {err}");
        }
        let order = IndicatorSpec::Macd { fast: 26, slow: 12, signal: 9, source: C };
        assert_eq!(order.build().unwrap_err(), IndicatorError::FastNotBelowSlow { fast: 26, slow: 12 });
        let k = IndicatorSpec::Bollinger { period: 20, k: -2.0, source: C };
        assert!(matches!(k.build().unwrap_err(), IndicatorError::InvalidMultiplier { argument: "k", .. }));
    }

    #[test]
    fn state_matches_concrete_indicators() {
        let bars = bars(300, 16);
        let specs = all_specs();
        let mut states: Vec<IndicatorState> = specs.iter().map(|s| s.build().unwrap()).collect();
        let mut sma = Sma::new(5).unwrap();
        let mut ema = Ema::new(5).unwrap();
        let mut wma = Wma::new(5).unwrap();
        let mut rsi = Rsi::new(14).unwrap();
        let mut macd = Macd::new(3, 7, 4).unwrap();
        let mut bb = Bollinger::new(20, 2.0).unwrap();
        let mut atr = Atr::new(14).unwrap();
        let mut sd = StdDev::new(10).unwrap();
        let mut hi = Highest::new(10).unwrap();
        let mut lo = Lowest::new(10).unwrap();
        let mut roc = Roc::new(3).unwrap();
        for bar in &bars {
            for state in &mut states {
                state.update(bar);
            }
            let m = macd.update(bar.close);
            let b = bb.update(bar.low);
            let expected: Vec<Vec<Option<f64>>> = vec![
                vec![sma.update(bar.close)],
                vec![ema.update(bar.open)],
                vec![wma.update(bar.high)],
                vec![rsi.update(bar.close)],
                vec![m.map(|v| v.line), m.and_then(|v| v.signal), m.and_then(|v| v.hist)],
                vec![b.map(|v| v.middle), b.map(|v| v.upper), b.map(|v| v.lower)],
                vec![atr.update(bar.high, bar.low, bar.close)],
                vec![sd.update(bar.volume)],
                vec![hi.update(bar.high)],
                vec![lo.update(bar.low)],
                vec![roc.update(bar.close)],
            ];
            for ((state, want), spec) in states.iter().zip(&expected).zip(&specs) {
                let got: Vec<Option<f64>> = (0..spec.outputs().len()).map(|i| state.value(i)).collect();
                assert_eq!(&got, want, "{spec}");
                assert_eq!(state.value(spec.outputs().len()), None);
                assert_eq!(state.value(usize::MAX), None);
            }
        }
        // every output is ready by the end of the series
        for (state, spec) in states.iter().zip(&specs) {
            for i in 0..spec.outputs().len() {
                assert!(state.value(i).is_some(), "{spec} output {i}");
            }
        }
    }
}
