//! Per-symbol contribution to a run's profit and loss.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::{Symbol, Trade};

/// What one symbol's closed trades added to the run.
///
/// Every position is closed by the end of a run, so the `net_pnl` of all
/// symbols adds up exactly to the run's `net_pnl`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SymbolContribution {
    /// The symbol.
    pub symbol: Symbol,
    /// Closed trades of the symbol.
    pub trades: usize,
    /// `Σ gross_pnl` over its trades.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub gross_pnl: Decimal,
    /// `Σ commission` over its trades.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub commission: Decimal,
    /// `Σ net_pnl` over its trades.
    #[serde(with = "rust_decimal::serde::arbitrary_precision")]
    pub net_pnl: Decimal,
    /// `net_pnl / C × 100`: the symbol's share of the return on the initial
    /// cash `C`; the shares add up to the run's `return_pct`. `None` if `C` is 0.
    pub contribution_pct: Option<f64>,
}

/// One row per symbol, in the run's symbol order, including symbols that
/// never traded (all zero).
pub fn contributions(symbols: &[Symbol], trades: &[Trade], initial: Decimal) -> Vec<SymbolContribution> {
    let mut rows: Vec<SymbolContribution> = symbols
        .iter()
        .map(|s| SymbolContribution {
            symbol: s.clone(),
            trades: 0,
            gross_pnl: Decimal::ZERO,
            commission: Decimal::ZERO,
            net_pnl: Decimal::ZERO,
            contribution_pct: None,
        })
        .collect();
    for trade in trades {
        if let Some(row) = rows.iter_mut().find(|r| r.symbol == trade.symbol) {
            row.trades += 1;
            row.gross_pnl += trade.gross_pnl;
            row.commission += trade.commission;
            row.net_pnl += trade.net_pnl;
        }
    }
    for row in &mut rows {
        row.contribution_pct = super::periods::change_pct(initial, initial + row.net_pnl);
    }
    rows
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::{ExitReason, PositionSide, Timestamp};

    fn trade(symbol: &str, gross: Decimal, fee: Decimal) -> Trade {
        Trade {
            symbol: Symbol::new(symbol),
            side: PositionSide::Long,
            qty: dec!(1),
            entry_ts: Timestamp(0),
            entry_price: dec!(100),
            entry_step: 0,
            exit_ts: Timestamp(1),
            exit_price: dec!(100) + gross,
            exit_step: 1,
            commission: fee,
            gross_pnl: gross,
            net_pnl: gross - fee,
            return_pct: 0.0,
            duration_bars: 1,
            duration_secs: 0,
            closed_at_end: false,
            exit_reason: ExitReason::Signal,
        }
    }

    #[test]
    fn each_symbol_sums_its_trades_and_the_shares_add_up() {
        let symbols = [Symbol::new("A"), Symbol::new("B"), Symbol::new("C")];
        let trades = [trade("A", dec!(30), dec!(1)), trade("B", dec!(-10), dec!(1)), trade("A", dec!(5), dec!(0.5))];
        let rows = contributions(&symbols, &trades, dec!(1000));
        assert_eq!((rows[0].trades, rows[0].net_pnl, rows[0].commission), (2, dec!(33.5), dec!(1.5)));
        assert_eq!(rows[0].contribution_pct, Some(3.35));
        assert_eq!((rows[1].net_pnl, rows[1].contribution_pct), (dec!(-11), Some(-1.1)));
        assert_eq!((rows[2].trades, rows[2].net_pnl), (0, dec!(0)), "a symbol without trades is listed");
        let total: Decimal = rows.iter().map(|r| r.net_pnl).sum();
        assert_eq!(total, trades.iter().map(|t| t.net_pnl).sum::<Decimal>());
    }
}
