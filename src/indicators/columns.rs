//! Running an indicator over a stretch of a series at once.
//!
//! An indicator's values depend only on its symbol's bars up to each one, so
//! the engine can compute them a block of bars ahead of the run and hand the
//! strategy, at each step, only the values up to that step. Fed the same
//! inputs in the same order, [`IndicatorState::run_columns`] gives bit for
//! bit what [`IndicatorState::update`] then [`IndicatorState::value`] give
//! bar by bar, without matching on the indicator's kind for every bar.

use super::{IndicatorState, Source};

/// One symbol's inputs as f64, one slice per source, each holding the same
/// bars in order (a slice nobody reads may be empty).
#[derive(Clone, Copy, Debug, Default)]
pub struct SourceColumns<'a> {
    /// Each bar's open (first traded price).
    pub open: &'a [f64],
    /// Each bar's high.
    pub high: &'a [f64],
    /// Each bar's low.
    pub low: &'a [f64],
    /// Each bar's close (last traded price).
    pub close: &'a [f64],
    /// Each bar's volume.
    pub volume: &'a [f64],
}

impl<'a> SourceColumns<'a> {
    /// The slice of `source`.
    pub fn get(&self, source: Source) -> &'a [f64] {
        source.pick([self.open, self.high, self.low, self.close, self.volume])
    }
}

/// Appends the value after each input (NaN while not ready) to `out`.
#[inline]
fn single(xs: &[f64], out: &mut Vec<f64>, mut update: impl FnMut(f64) -> Option<f64>) {
    out.extend(xs.iter().map(|&x| update(x).unwrap_or(f64::NAN)));
}

impl IndicatorState {
    /// Feeds every bar of `columns` in turn and appends each output's value
    /// after each bar to `out[output]` (NaN while not ready). The columns
    /// this indicator reads must all have the same length.
    ///
    /// # Panics
    /// If `out` has fewer entries than the indicator has outputs.
    pub fn run_columns(&mut self, columns: &SourceColumns<'_>, out: &mut [Vec<f64>]) {
        const NAN: f64 = f64::NAN;
        match self {
            IndicatorState::Sma(s, i) => i.extend(columns.get(*s), &mut out[0]),
            IndicatorState::Ema(s, i) => single(columns.get(*s), &mut out[0], |x| i.update(x)),
            IndicatorState::Wma(s, i) => single(columns.get(*s), &mut out[0], |x| i.update(x)),
            IndicatorState::Rsi(s, i) => single(columns.get(*s), &mut out[0], |x| i.update(x)),
            IndicatorState::StdDev(s, i) => single(columns.get(*s), &mut out[0], |x| i.update(x)),
            IndicatorState::Highest(s, i) => single(columns.get(*s), &mut out[0], |x| i.update(x)),
            IndicatorState::Lowest(s, i) => single(columns.get(*s), &mut out[0], |x| i.update(x)),
            IndicatorState::Roc(s, i) => single(columns.get(*s), &mut out[0], |x| i.update(x)),
            IndicatorState::Atr(i) => {
                let bars = columns.high.iter().zip(columns.low).zip(columns.close);
                out[0].extend(bars.map(|((&h, &l), &c)| i.update(h, l, c).unwrap_or(NAN)));
            }
            IndicatorState::Macd(s, i) => {
                let [line, signal, hist] = out else { panic!("MACD has three outputs") };
                for &x in columns.get(*s) {
                    i.update(x);
                    line.push(i.line().unwrap_or(NAN));
                    signal.push(i.signal().unwrap_or(NAN));
                    hist.push(i.hist().unwrap_or(NAN));
                }
            }
            IndicatorState::Bollinger(s, i) => {
                let [middle, upper, lower] = out else { panic!("Bollinger bands have three outputs") };
                for &x in columns.get(*s) {
                    let v = i.update(x);
                    middle.push(v.map_or(NAN, |v| v.middle));
                    upper.push(v.map_or(NAN, |v| v.upper));
                    lower.push(v.map_or(NAN, |v| v.lower));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::bars;
    use super::super::{BarInput, IndicatorSpec};
    use super::*;

    /// Every kind, on every source it can read.
    fn specs() -> Vec<IndicatorSpec> {
        let mut specs = vec![IndicatorSpec::Atr { period: 5 }];
        for source in [Source::Open, Source::High, Source::Low, Source::Close, Source::Volume] {
            specs.extend([
                IndicatorSpec::Sma { period: 4, source },
                IndicatorSpec::Ema { period: 4, source },
                IndicatorSpec::Wma { period: 4, source },
                IndicatorSpec::Rsi { period: 3, source },
                IndicatorSpec::Macd { fast: 3, slow: 6, signal: 2, source },
                IndicatorSpec::Bollinger { period: 4, k: 2.0, source },
                IndicatorSpec::StdDev { period: 4, source },
                IndicatorSpec::Highest { period: 3, source },
                IndicatorSpec::Lowest { period: 3, source },
                IndicatorSpec::Roc { period: 2, source },
            ]);
        }
        specs
    }

    #[test]
    fn a_whole_column_gives_the_values_of_bar_by_bar_updates() {
        let inputs = bars(60, 11);
        let column = |f: fn(&BarInput) -> f64| inputs.iter().map(f).collect::<Vec<f64>>();
        let (open, high, low, close, volume) =
            (column(|b| b.open), column(|b| b.high), column(|b| b.low), column(|b| b.close), column(|b| b.volume));
        let columns = SourceColumns { open: &open, high: &high, low: &low, close: &close, volume: &volume };
        for spec in specs() {
            let outputs = spec.outputs().len();
            let mut stepped = spec.build().unwrap();
            let mut expected = vec![Vec::new(); outputs];
            for input in &inputs {
                stepped.update(input);
                for (o, values) in expected.iter_mut().enumerate() {
                    values.push(stepped.value(o).unwrap_or(f64::NAN));
                }
            }
            let mut at_once = spec.build().unwrap();
            let mut got = vec![Vec::new(); outputs];
            at_once.run_columns(&columns, &mut got);
            let bits =
                |v: &[Vec<f64>]| v.iter().map(|o| o.iter().map(|x| x.to_bits()).collect()).collect::<Vec<Vec<u64>>>();
            assert_eq!(bits(&got), bits(&expected), "{spec}");
            assert!(expected.iter().all(|o| !o[59].is_nan()), "not vacuous: {spec} is ready by the last bar");
        }
    }
}
