//! The broker settings of one run.

use rust_decimal::Decimal;
use serde::Serialize;

use super::CommissionModel;

/// The largest leverage a run may ask for.
pub const MAX_LEVERAGE: i64 = 100;

/// The largest slippage a run may ask for, in basis points: 10,000 bps
/// moves a price by 100 %, beyond which a sell would fill at a negative price.
pub const MAX_SLIPPAGE_BPS: i64 = 10_000;

/// The largest initial cash (10^15) and order quantity (10^15 units) a run
/// may have, and the largest value of one fill (10^24; target-percent
/// orders are bounded by it): far beyond any real account, and far enough
/// below a decimal's limit (about 7.9 × 10^28) that the broker's products
/// (× leverage, × price moves of several orders of magnitude) stay clear of
/// overflow.
pub const MAX_INITIAL_CASH: i64 = 1_000_000_000_000_000;
/// The largest quantity one order may ask for, in units (see [`MAX_INITIAL_CASH`]).
pub const MAX_ORDER_QUANTITY: i64 = 1_000_000_000_000_000;
/// The largest value (quantity × price) of one fill; a fill above it is
/// rejected (see [`MAX_INITIAL_CASH`]).
pub const MAX_FILL_VALUE: i128 = 1_000_000_000_000_000_000_000_000;

/// How the simulated broker fills and charges; stated in full with every run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BrokerConfig {
    /// Cash at the start, > 0.
    pub initial_cash: Decimal,
    /// How each fill is charged in fees.
    pub commission: CommissionModel,
    /// Basis points of the fill price, always against the trader (≥ 0).
    pub slippage_bps: Decimal,
    /// Whether quantities may have a fractional part (else whole units).
    pub fractional: bool,
    /// Market orders fill at the close of the bar they were placed on.
    pub trade_on_close: bool,
    /// Gross exposure allowed per unit of equity (1 to 100; 1 = no
    /// borrowing). A fill that adds exposure must leave
    /// `equity ≥ Σ |qty| × price / leverage` (the initial margin).
    pub leverage: Decimal,
    /// Equity a run must keep as a fraction of its gross exposure (0 up to
    /// `1 / leverage`); at a close below it, every position is liquidated
    /// (a margin call). 0 still liquidates an account whose equity falls
    /// below zero.
    pub maintenance_margin: Decimal,
    /// At most this many symbols with an open position; a fill that would
    /// open one more is rejected.
    pub max_positions: Option<usize>,
}

impl BrokerConfig {
    /// Cash only: no fees, no slippage, whole units, next-open fills, no
    /// leverage, no position limit.
    pub fn with_cash(initial_cash: Decimal) -> Self {
        BrokerConfig {
            initial_cash,
            commission: CommissionModel::None,
            slippage_bps: Decimal::ZERO,
            fractional: false,
            trade_on_close: false,
            leverage: Decimal::ONE,
            maintenance_margin: Decimal::ZERO,
            max_positions: None,
        }
    }

    /// Checks every setting, for the CLI and the API alike: this is the one
    /// place a broker setting's range is written.
    ///
    /// # Errors
    /// Initial cash outside (0, [`MAX_INITIAL_CASH`]], a negative commission
    /// figure, a percentage commission of 1 (100 %) or more, slippage
    /// outside 0..=10000 bps, leverage outside 1..=100, a maintenance margin
    /// outside 0..=1/leverage, or a position limit of 0; the error names the
    /// setting as a [`BrokerField`].
    pub fn check(&self) -> Result<(), BrokerConfigError> {
        let fail = |field, reason: String| Err(BrokerConfigError { field, reason });
        if self.initial_cash <= Decimal::ZERO {
            return fail(BrokerField::InitialCash, format!("must be > 0, got {}", self.initial_cash));
        }
        if self.initial_cash > Decimal::from(MAX_INITIAL_CASH) {
            return fail(
                BrokerField::InitialCash,
                format!("must be at most {MAX_INITIAL_CASH}, got {}", self.initial_cash),
            );
        }
        self.check_commission()?;
        if self.slippage_bps < Decimal::ZERO || self.slippage_bps > Decimal::from(MAX_SLIPPAGE_BPS) {
            let reason = format!("must be between 0 and {MAX_SLIPPAGE_BPS}, got {}", self.slippage_bps);
            return fail(BrokerField::SlippageBps, reason);
        }
        if self.leverage < Decimal::ONE || self.leverage > Decimal::from(MAX_LEVERAGE) {
            return fail(BrokerField::Leverage, format!("must be between 1 and {MAX_LEVERAGE}, got {}", self.leverage));
        }
        let initial_margin = Decimal::ONE / self.leverage;
        if self.maintenance_margin < Decimal::ZERO || self.maintenance_margin > initial_margin {
            let reason = format!(
                "must be between 0 and 1/leverage ({}), got {}",
                initial_margin.round_dp(6).normalize(),
                self.maintenance_margin
            );
            return fail(BrokerField::MaintenanceMargin, reason);
        }
        if self.max_positions == Some(0) {
            return fail(BrokerField::MaxPositions, "must be at least 1".into());
        }
        Ok(())
    }

    /// Every figure of the commission model is >= 0, and a rate is < 1.
    fn check_commission(&self) -> Result<(), BrokerConfigError> {
        let non_negative = |field, value: Decimal| {
            if value < Decimal::ZERO {
                return Err(BrokerConfigError { field, reason: format!("must be >= 0, got {value}") });
            }
            Ok(())
        };
        match self.commission {
            CommissionModel::None => Ok(()),
            CommissionModel::Percent { rate } => {
                non_negative(BrokerField::CommissionRate, rate)?;
                if rate >= Decimal::ONE {
                    let reason = format!("is a fraction of notional and must be < 1, got {rate}");
                    return Err(BrokerConfigError { field: BrokerField::CommissionRate, reason });
                }
                Ok(())
            }
            CommissionModel::PerUnit { per_unit, minimum } => {
                non_negative(BrokerField::CommissionPerUnit, per_unit)?;
                non_negative(BrokerField::CommissionMinimum, minimum)
            }
            CommissionModel::Fixed { amount } => non_negative(BrokerField::CommissionAmount, amount),
        }
    }
}

/// A broker setting out of range: which one, and why ("must be > 0, got 0").
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct BrokerConfigError {
    /// The setting out of range.
    pub field: BrokerField,
    /// Why, with the value given ("must be > 0, got 0").
    pub reason: String,
}

/// A broker setting, as [`BrokerConfig::check`] names it; each front end
/// shows it under its own name (`--commission`, `commission.rate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerField {
    /// [`BrokerConfig::initial_cash`].
    InitialCash,
    /// The rate of a [`CommissionModel::Percent`].
    CommissionRate,
    /// The per-unit fee of a [`CommissionModel::PerUnit`].
    CommissionPerUnit,
    /// The minimum fee of a [`CommissionModel::PerUnit`].
    CommissionMinimum,
    /// The amount of a [`CommissionModel::Fixed`].
    CommissionAmount,
    /// [`BrokerConfig::slippage_bps`].
    SlippageBps,
    /// [`BrokerConfig::leverage`].
    Leverage,
    /// [`BrokerConfig::maintenance_margin`].
    MaintenanceMargin,
    /// [`BrokerConfig::max_positions`].
    MaxPositions,
}

impl BrokerField {
    /// The setting's key: the field of [`BrokerConfig`], with the
    /// commission model's figures as `commission.<figure>`.
    pub fn key(self) -> &'static str {
        match self {
            BrokerField::InitialCash => "initial_cash",
            BrokerField::CommissionRate => "commission.rate",
            BrokerField::CommissionPerUnit => "commission.per_unit",
            BrokerField::CommissionMinimum => "commission.minimum",
            BrokerField::CommissionAmount => "commission.amount",
            BrokerField::SlippageBps => "slippage_bps",
            BrokerField::Leverage => "leverage",
            BrokerField::MaintenanceMargin => "maintenance_margin",
            BrokerField::MaxPositions => "max_positions",
        }
    }
}

impl std::fmt::Display for BrokerField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn slippage_of_1e9_bps_was_accepted() {
        let with = |bps: Decimal| BrokerConfig { slippage_bps: bps, ..BrokerConfig::with_cash(dec!(1000)) }.check();
        assert!(with(dec!(0)).is_ok());
        assert!(with(dec!(10000)).is_ok(), "100 %: the most a price can move against the trader");
        for bad in [dec!(-0.5), dec!(10000.01), dec!(1000000000)] {
            let err = with(bad).unwrap_err().to_string();
            assert!(err.contains("must be between 0 and 10000"), "{bad}: {err}");
        }
    }

    #[test]
    fn every_setting_is_checked_here_and_named() {
        let base = BrokerConfig::with_cash(dec!(1000));
        let field = |config: BrokerConfig| match config.check() {
            Err(BrokerConfigError { field, reason }) => Some((field, reason)),
            Ok(()) => None,
        };
        let cases = [
            (BrokerConfig::with_cash(dec!(0)), BrokerField::InitialCash, "must be > 0, got 0"),
            (BrokerConfig::with_cash(dec!(1e16)), BrokerField::InitialCash, "must be at most 1000000000000000"),
            (
                BrokerConfig { commission: CommissionModel::Percent { rate: dec!(-0.1) }, ..base.clone() },
                BrokerField::CommissionRate,
                "must be >= 0, got -0.1",
            ),
            (
                BrokerConfig { commission: CommissionModel::Percent { rate: dec!(1) }, ..base.clone() },
                BrokerField::CommissionRate,
                "is a fraction of notional and must be < 1, got 1",
            ),
            (
                BrokerConfig {
                    commission: CommissionModel::PerUnit { per_unit: dec!(0.01), minimum: dec!(-1) },
                    ..base.clone()
                },
                BrokerField::CommissionMinimum,
                "must be >= 0, got -1",
            ),
            (
                BrokerConfig { commission: CommissionModel::Fixed { amount: dec!(-1) }, ..base.clone() },
                BrokerField::CommissionAmount,
                "must be >= 0",
            ),
            (BrokerConfig { max_positions: Some(0), ..base.clone() }, BrokerField::MaxPositions, "must be at least 1"),
        ];
        for (config, expected, text) in cases {
            let (field, reason) = field(config).expect("refused");
            assert_eq!(field, expected);
            assert!(reason.starts_with(text), "{field}: {reason}");
        }
        assert_eq!(base.check(), Ok(()));
    }
}
