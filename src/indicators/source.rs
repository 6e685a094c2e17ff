//! What an indicator reads from each bar: a [`Source`] and the bar's inputs as f64.

use std::fmt;

/// Which input a single-input indicator reads from each bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The bar's open.
    Open,
    /// The bar's high.
    High,
    /// The bar's low.
    Low,
    /// The bar's close.
    Close,
    /// The bar's volume.
    Volume,
}

impl Source {
    /// Every source, in bar order.
    pub const ALL: [Source; 5] = [Source::Open, Source::High, Source::Low, Source::Close, Source::Volume];

    /// Parses "open", "high", "low", "close" or "volume", ignoring ASCII case.
    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|source| s.eq_ignore_ascii_case(source.name()))
    }

    /// The lowercase name, as accepted by [`Source::parse`].
    pub fn name(self) -> &'static str {
        match self {
            Source::Open => "open",
            Source::High => "high",
            Source::Low => "low",
            Source::Close => "close",
            Source::Volume => "volume",
        }
    }

    /// The one of `[open, high, low, close, volume]` this source names.
    #[inline]
    pub(super) fn pick<T: Copy>(self, fields: [T; 5]) -> T {
        let [open, high, low, close, volume] = fields;
        match self {
            Source::Open => open,
            Source::High => high,
            Source::Low => low,
            Source::Close => close,
            Source::Volume => volume,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The inputs of one bar, as f64.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarInput {
    /// Open price.
    pub open: f64,
    /// High price.
    pub high: f64,
    /// Low price.
    pub low: f64,
    /// Close price.
    pub close: f64,
    /// Volume.
    pub volume: f64,
}

impl BarInput {
    /// The field named by `source`.
    #[inline]
    pub fn get(&self, source: Source) -> f64 {
        source.pick([self.open, self.high, self.low, self.close, self.volume])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_parse_and_name() {
        for source in Source::ALL {
            assert_eq!(Source::parse(source.name()), Some(source));
            assert_eq!(Source::parse(&source.name().to_uppercase()), Some(source));
            assert_eq!(source.to_string(), source.name());
        }
        assert_eq!(Source::parse("Close"), Some(Source::Close));
        assert_eq!(Source::parse("vOlUmE"), Some(Source::Volume));
        assert_eq!(Source::parse(""), None);
        assert_eq!(Source::parse("adj_close"), None);
        assert_eq!(Source::parse(" close"), None);
    }

    #[test]
    fn bar_input_get() {
        let bar = BarInput { open: 1.0, high: 2.0, low: 3.0, close: 4.0, volume: 5.0 };
        let got: Vec<f64> = Source::ALL.iter().map(|&s| bar.get(s)).collect();
        assert_eq!(got, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
    }
}
