//! The out-of-sample equity of a walk-forward: each window's test run
//! chained onto the previous one by its returns, and the metrics of that
//! curve.
//!
//! Window k's run starts with its initial cash `C_k` and ends with `E_k`
//! after closing everything. Its curve is scaled by `f_k = S_k / C_k`,
//! where `S_k` is where the stitched curve stands before it (the base cash
//! for the first window, the last stitched point after): so each window
//! contributes exactly its own returns, including the first step's, and
//! the stitched curve ends at `base × Π (E_k / C_k)`. Scaled amounts are
//! rounded to 8 decimal places
//! (trailing zeros dropped). The windows' trades are scaled by the same
//! factor (quantity, fees, PnL; prices and percentages stay), so that
//! their PnL still sums to the curve's change, and their steps are counted
//! on the stitched timeline.

use rust_decimal::Decimal;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::domain::{EquityCurve, EquityPoint, Symbol, Timestamp, Trade};
use crate::metrics::{self, Metrics, MetricsInput};

/// Decimal places of the stitched amounts.
const PLACES: u32 = 8;

/// One window's test run, as stitching needs it.
pub(super) struct Piece<'a> {
    /// Its steps' timestamps.
    pub timeline: &'a [Timestamp],
    /// Its equity, one point per step.
    pub equity: &'a EquityCurve,
    /// Its closed trades.
    pub trades: &'a [Trade],
    /// The cash it started with (> 0).
    pub initial_cash: Decimal,
    /// How many margin calls it had.
    pub margin_calls: usize,
}

/// The stitched out-of-sample run: its curve, trades and metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct Stitched {
    /// One timestamp per step: the test parts' steps, in order.
    pub timeline: Vec<Timestamp>,
    /// The chained equity, one point per step, starting from the base cash.
    pub equity: EquityCurve,
    /// Every window's trades, scaled as their window's curve.
    pub trades: Vec<Trade>,
    /// The project's run metrics of that curve and those trades (no benchmark).
    pub metrics: Metrics,
}

/// Chains `pieces` (in time order, at least one step each) from `base`
/// cash and computes the metrics of the result; `None` without pieces.
/// `buy_hold_return_pct` and `symbols` are those of the test parts' span.
pub(super) fn stitch(
    pieces: &[Piece<'_>],
    base: Decimal,
    symbols: &[Symbol],
    buy_hold_return_pct: Option<f64>,
) -> Option<Stitched> {
    let mut timeline = Vec::new();
    let mut equity = EquityCurve::default();
    let mut trades = Vec::new();
    let mut level = base;
    for piece in pieces {
        let factor = level.checked_div(piece.initial_cash)?;
        let scale = |d: Decimal| d.checked_mul(factor).map(|x| x.round_dp(PLACES).normalize());
        let offset = timeline.len();
        timeline.extend_from_slice(piece.timeline);
        for point in piece.equity.iter() {
            equity.push(EquityPoint { equity: scale(point.equity)?, cash: scale(point.cash)?, exposed: point.exposed });
        }
        for trade in piece.trades {
            trades.push(Trade {
                qty: scale(trade.qty)?,
                commission: scale(trade.commission)?,
                gross_pnl: scale(trade.gross_pnl)?,
                net_pnl: scale(trade.net_pnl)?,
                entry_step: trade.entry_step + offset,
                exit_step: trade.exit_step + offset,
                ..trade.clone()
            });
        }
        level = equity.last()?.equity;
    }
    if equity.is_empty() {
        return None;
    }
    let metrics = metrics::compute(&MetricsInput {
        timeline: &timeline,
        equity: &equity,
        initial_cash: base,
        trades: &trades,
        buy_hold_return_pct,
        // Every fee belongs to one trade (all is closed at each window's end).
        commission_total: trades.iter().map(|t| t.commission).sum(),
        symbols,
        benchmark: None,
        margin_calls: pieces.iter().map(|p| p.margin_calls).sum(),
    });
    Some(Stitched { timeline, equity, trades, metrics })
}

impl Serialize for Stitched {
    /// `{"metrics": …, "trades": […], "equity": [{"time", "equity"}, …]}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("metrics", &self.metrics)?;
        map.serialize_entry("trades", &self.trades)?;
        map.serialize_entry("equity", &Points(self))?;
        map.end()
    }
}

/// The stitched curve as a list of `{"time", "equity"}`.
struct Points<'a>(&'a Stitched);

impl Serialize for Points<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Point {
            time: Timestamp,
            #[serde(with = "rust_decimal::serde::arbitrary_precision")]
            equity: Decimal,
        }
        let mut seq = serializer.serialize_seq(Some(self.0.timeline.len()))?;
        for (&time, equity) in self.0.timeline.iter().zip(self.0.equity.amounts()) {
            seq.serialize_element(&Point { time, equity })?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::{ExitReason, PositionSide};

    fn curve(points: &[(Decimal, Decimal, bool)]) -> EquityCurve {
        points.iter().map(|&(equity, cash, exposed)| EquityPoint { equity, cash, exposed }).collect()
    }

    fn trade(entry_step: usize, exit_step: usize, qty: Decimal, net: Decimal) -> Trade {
        Trade {
            symbol: Symbol::new("A"),
            side: PositionSide::Long,
            qty,
            entry_ts: Timestamp(0),
            entry_price: dec!(10),
            entry_step,
            exit_ts: Timestamp(0),
            exit_price: dec!(10),
            exit_step,
            commission: dec!(1),
            gross_pnl: net + dec!(1),
            net_pnl: net,
            return_pct: 1.0,
            duration_bars: exit_step - entry_step,
            duration_secs: 0,
            closed_at_end: false,
            exit_reason: ExitReason::Signal,
        }
    }

    #[test]
    fn windows_chain_by_their_returns_and_their_trades_scale_with_them() {
        let day = |d: i64| Timestamp(d * 86_400_000);
        let (t1, t2) = ([day(0), day(1), day(2)], [day(3), day(4)]);
        // Window 1: 100 → 110 → 121 (+21, one trade); window 2: 100 → 90 (−10).
        let e1 = curve(&[(dec!(100), dec!(100), false), (dec!(110), dec!(0), true), (dec!(121), dec!(121), false)]);
        let e2 = curve(&[(dec!(100), dec!(100), false), (dec!(90), dec!(90), false)]);
        let (r1, r2) = ([trade(0, 2, dec!(10), dec!(21))], [trade(0, 1, dec!(10), dec!(-10))]);
        let pieces = [
            Piece { timeline: &t1, equity: &e1, trades: &r1, initial_cash: dec!(100), margin_calls: 0 },
            Piece { timeline: &t2, equity: &e2, trades: &r2, initial_cash: dec!(100), margin_calls: 1 },
        ];
        let s = stitch(&pieces, dec!(1000), &[Symbol::new("A")], None).unwrap();
        // Window 1 × 1000/100 = 10: 1000, 1100, 1210; window 2 × 1210/100 = 12.1: 1210, 1089.
        assert_eq!(
            s.equity.amounts().collect::<Vec<_>>(),
            [dec!(1000), dec!(1100), dec!(1210), dec!(1210), dec!(1089)]
        );
        assert_eq!(s.equity.get(1), Some(EquityPoint { equity: dec!(1100), cash: dec!(0), exposed: true }));
        assert_eq!(s.timeline, [day(0), day(1), day(2), day(3), day(4)]);
        // Trades: 21 × 10 = 210 and −10 × 12.1 = −121, summing to 1089 − 1000 = 89.
        assert_eq!(s.trades.iter().map(|t| t.net_pnl).collect::<Vec<_>>(), [dec!(210), dec!(-121)]);
        assert_eq!((s.trades[1].qty, s.trades[1].commission), (dec!(121), dec!(12.1)));
        assert_eq!((s.trades[1].entry_step, s.trades[1].exit_step), (3, 4), "steps on the stitched timeline");
        assert_eq!(s.metrics.net_pnl, dec!(89));
        assert!((s.metrics.return_pct - 8.9).abs() < 1e-12, "{}", s.metrics.return_pct);
        // Fees 1 × 10 + 1 × 12.1.
        assert_eq!(s.metrics.commission_total, dec!(22.1));
        assert_eq!((s.metrics.bars, s.metrics.trades, s.metrics.margin_calls), (5, 2, 1));
        // Deepest fall: 1089 / 1210 − 1 = −10 %.
        assert!((s.metrics.max_drawdown_pct + 10.0).abs() < 1e-9, "{}", s.metrics.max_drawdown_pct);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["equity"][4], serde_json::json!({"time": "1970-01-05", "equity": 1089}));
        assert!(stitch(&[], dec!(1000), &[], None).is_none());
    }
}
