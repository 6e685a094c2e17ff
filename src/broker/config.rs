//! The broker settings of one run.

use rust_decimal::Decimal;
use serde::Serialize;

use super::CommissionModel;

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
}

impl BrokerConfig {
    /// Cash only: no fees, no slippage, whole units, next-open fills.
    pub fn with_cash(initial_cash: Decimal) -> Self {
        BrokerConfig {
            initial_cash,
            commission: CommissionModel::None,
            slippage_bps: Decimal::ZERO,
            fractional: false,
            trade_on_close: false,
        }
    }
}
