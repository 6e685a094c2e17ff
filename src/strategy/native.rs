//! Strategies written in Rust against the same [`StrategyCtx`] API as
//! scripts: used by tests and benchmarks to measure and check the host
//! without a script runtime in the way.

use super::{Strategy, StrategyError};
use crate::indicators::{IndicatorSpec, Source};
use crate::session::{Operand, ParamSpec, ParamValue, StrategyCtx};

/// Does nothing on every bar: measures the engine alone.
#[derive(Debug, Default)]
pub struct Noop;

impl Strategy for Noop {
    fn name(&self) -> &str {
        "noop"
    }

    fn declared_params(&self) -> &[ParamSpec] {
        &[]
    }

    fn init(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        Ok(())
    }

    fn on_bar(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        Ok(())
    }

    fn on_finish(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        Ok(())
    }
}

/// The same logic and parameters as `scripts/sma_cross.rhai`: all in when
/// SMA(fast) crosses above SMA(slow), flat when it crosses back below.
#[derive(Debug)]
pub struct SmaCross {
    params: Vec<ParamSpec>,
    /// The handles of the two SMAs, from `init` (read by handle, as a
    /// careful native strategy would, not looked up by name every bar).
    fast: usize,
    slow: usize,
}

impl Default for SmaCross {
    fn default() -> Self {
        SmaCross {
            params: vec![
                ParamSpec { name: "fast".into(), default: ParamValue::Int(10) },
                ParamSpec { name: "slow".into(), default: ParamValue::Int(20) },
            ],
            fast: 0,
            slow: 0,
        }
    }
}

impl Strategy for SmaCross {
    fn name(&self) -> &str {
        "sma_cross (native)"
    }

    fn declared_params(&self) -> &[ParamSpec] {
        &self.params
    }

    fn init(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError> {
        let mut handles = [0; 2];
        for (name, handle) in ["fast", "slow"].into_iter().zip(&mut handles) {
            let period = ctx.param(name)?.as_i64().unwrap_or_default();
            let period = usize::try_from(period).map_err(|_| StrategyError::Runtime {
                message: format!("{name} must be >= 0"),
                line: None,
                column: None,
            })?;
            *handle = ctx.declare_indicator(name, 0, IndicatorSpec::Sma { period, source: Source::Close })?;
        }
        [self.fast, self.slow] = handles;
        Ok(())
    }

    fn on_bar(&mut self, ctx: &StrategyCtx) -> Result<(), StrategyError> {
        match ctx.cross(self.fast, Operand::Indicator(self.slow.into()))? {
            1 => ctx.order_target_percent(0, 1.0).map(|_| ())?,
            -1 => ctx.close_position(0).map(|_| ())?,
            _ => {}
        }
        Ok(())
    }

    fn on_finish(&mut self, _ctx: &StrategyCtx) -> Result<(), StrategyError> {
        Ok(())
    }
}
