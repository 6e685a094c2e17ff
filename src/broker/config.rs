//! The broker settings of one run.

use rust_decimal::Decimal;
use serde::Serialize;

use super::{BrokerError, CommissionModel};

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
pub const MAX_ORDER_QUANTITY: i64 = 1_000_000_000_000_000;
pub const MAX_FILL_VALUE: i128 = 1_000_000_000_000_000_000_000_000;

/// How the simulated broker fills and charges; stated in full with every run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BrokerConfig {
    /// Cash at the start, > 0.
    pub initial_cash: Decimal,
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

    /// Checks the slippage and margin settings, for the CLI and the API
    /// alike (the other fields are checked where they are parsed).
    ///
    /// # Errors
    /// Slippage outside 0..=10000 bps, leverage outside 1..=100, a
    /// maintenance margin outside 0..=1/leverage, or a position limit of 0;
    /// the message names the setting.
    pub fn check(&self) -> Result<(), BrokerError> {
        if self.slippage_bps < Decimal::ZERO || self.slippage_bps > Decimal::from(MAX_SLIPPAGE_BPS) {
            return Err(BrokerError::Config {
                field: "slippage_bps",
                reason: format!("must be between 0 and {MAX_SLIPPAGE_BPS}, got {}", self.slippage_bps),
            });
        }
        if self.leverage < Decimal::ONE || self.leverage > Decimal::from(MAX_LEVERAGE) {
            return Err(BrokerError::Config {
                field: "leverage",
                reason: format!("must be between 1 and {MAX_LEVERAGE}, got {}", self.leverage),
            });
        }
        let initial_margin = Decimal::ONE / self.leverage;
        if self.maintenance_margin < Decimal::ZERO || self.maintenance_margin > initial_margin {
            return Err(BrokerError::Config {
                field: "maintenance_margin",
                reason: format!(
                    "must be between 0 and 1/leverage ({}), got {}",
                    initial_margin.round_dp(6).normalize(),
                    self.maintenance_margin
                ),
            });
        }
        if self.max_positions == Some(0) {
            return Err(BrokerError::Config { field: "max_positions", reason: "must be at least 1".into() });
        }
        Ok(())
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
}
