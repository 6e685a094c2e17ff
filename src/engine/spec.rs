//! One run's settings in two stages, for the CLI and the API alike: the raw
//! form each front end reads (flags or a request's JSON), then the checked
//! [`RunSpec`] built with `TryFrom`, so that nothing unchecked reaches the
//! engine. Each check lives here once; a front end only names the failing
//! setting its own way (`--commission` or `commission.rate`).

use super::{ParamOverrides, RunConfig};
use crate::broker::{BrokerConfig, BrokerConfigError};
use crate::data::{DataWindow, Interval, ReversedRange};
use crate::domain::Timestamp;

/// A run's settings as a front end read them, not yet checked.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRunSpec {
    /// The broker's settings, checked by [`BrokerConfig::check`].
    pub broker: BrokerConfig,
    /// First timestamp to trade, inclusive; `None` from the first bar.
    pub start: Option<Timestamp>,
    /// Last timestamp to trade, inclusive; `None` to the last bar.
    pub end: Option<Timestamp>,
    /// The interval to resample bars to; `None` keeps the data's own.
    pub resample: Option<Interval>,
    /// Values to use instead of the strategy's declared defaults.
    pub params: ParamOverrides,
}

/// A run's checked settings: the broker's, the data window, the parameter
/// overrides (checked against the strategy's declarations when it starts).
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// The broker's settings, each in range.
    pub broker: BrokerConfig,
    /// The range and resampling interval, with the start not after the end.
    pub window: DataWindow,
    /// Values to use instead of the strategy's declared defaults, not yet
    /// checked against its declarations.
    pub params: ParamOverrides,
}

/// The setting of a [`RawRunSpec`] that is out of range.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SpecError {
    /// A broker setting is out of range; checked first.
    #[error(transparent)]
    Broker(#[from] BrokerConfigError),
    /// The start is after the end.
    #[error(transparent)]
    Range(#[from] ReversedRange),
}

impl TryFrom<RawRunSpec> for RunSpec {
    type Error = SpecError;

    /// Checks the broker settings, then the range.
    fn try_from(raw: RawRunSpec) -> Result<Self, Self::Error> {
        raw.broker.check()?;
        let window = DataWindow::new(raw.start, raw.end, raw.resample)?;
        Ok(RunSpec { broker: raw.broker, window, params: raw.params })
    }
}

impl RunSpec {
    /// The engine's config of the run, without a benchmark.
    pub fn run_config(&self) -> RunConfig {
        RunConfig::new(self.broker.clone(), self.params.clone())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::broker::BrokerField;

    fn raw() -> RawRunSpec {
        RawRunSpec {
            broker: BrokerConfig::with_cash(dec!(1000)),
            start: Some(Timestamp(10)),
            end: Some(Timestamp(20)),
            resample: None,
            params: ParamOverrides::default(),
        }
    }

    #[test]
    fn a_raw_spec_is_checked_broker_first_then_range() {
        let spec = RunSpec::try_from(raw()).unwrap();
        assert_eq!((spec.window.start(), spec.window.end()), (Some(Timestamp(10)), Some(Timestamp(20))));
        assert_eq!(spec.run_config().broker, BrokerConfig::with_cash(dec!(1000)));

        let reversed = RawRunSpec { start: Some(Timestamp(30)), ..raw() };
        assert_eq!(
            RunSpec::try_from(reversed.clone()).unwrap_err(),
            SpecError::Range(ReversedRange { start: Timestamp(30), end: Timestamp(20) })
        );
        let both = RawRunSpec { broker: BrokerConfig::with_cash(dec!(-1)), ..reversed };
        match RunSpec::try_from(both).unwrap_err() {
            SpecError::Broker(e) => assert_eq!(e.field, BrokerField::InitialCash),
            other => panic!("{other:?}"),
        }
    }
}
