//! A run's trades in their compact form (see [`super::codec`]): the symbols
//! once, in the header, then a column per field.

use std::collections::HashMap;

use super::codec::{Decoder, Encoder};
use super::results::TradeRow;
use super::StoreError;
use crate::domain::{ExitReason, PositionSide, Timestamp, Trade};

const KIND: &[u8; 4] = b"BTTR";

/// The codes of exit reasons: their index in this list (append only: stored trades keep their codes).
const REASONS: [ExitReason; 6] = ExitReason::ALL;

/// The return as stored: a non-finite return (an entry worth 0) is 0, as in rows.
fn stored_return(r: f64) -> f64 {
    if r.is_finite() {
        r
    } else {
        0.0
    }
}

/// Encodes `trades` in exit order.
pub fn encode(trades: &[Trade]) -> Vec<u8> {
    let mut names: Vec<&str> = Vec::new();
    let mut index: HashMap<&str, u32> = HashMap::new();
    let codes: Vec<u32> = trades
        .iter()
        .map(|t| {
            let name = t.symbol.as_str();
            *index.entry(name).or_insert_with(|| {
                names.push(name);
                names.len() as u32 - 1
            })
        })
        .collect();
    let mut header = Vec::new();
    header.extend_from_slice(&(names.len() as u32).to_le_bytes());
    for name in &names {
        header.extend_from_slice(&(name.len() as u32).to_le_bytes());
        header.extend_from_slice(name.as_bytes());
    }
    let mut e = Encoder::new(trades.len(), 128);
    e.column(codes.iter().map(|c| c.to_le_bytes()));
    e.column(trades.iter().map(|t| [u8::from(t.side == PositionSide::Short)]));
    e.decimals(trades.iter().map(|t| t.qty));
    e.deltas(trades.iter().map(|t| t.entry_ts.millis()));
    e.decimals(trades.iter().map(|t| t.entry_price));
    e.deltas(trades.iter().map(|t| t.exit_ts.millis()));
    e.decimals(trades.iter().map(|t| t.exit_price));
    e.decimals(trades.iter().map(|t| t.commission));
    e.decimals(trades.iter().map(|t| t.gross_pnl));
    e.decimals(trades.iter().map(|t| t.net_pnl));
    e.floats(trades.iter().map(|t| stored_return(t.return_pct)));
    e.deltas(trades.iter().map(|t| t.duration_bars as i64));
    e.deltas(trades.iter().map(|t| t.duration_secs));
    e.column(trades.iter().map(|t| [u8::from(t.closed_at_end)]));
    e.column(trades.iter().map(|t| [REASONS.iter().position(|r| *r == t.exit_reason).unwrap_or(0) as u8]));
    e.finish(KIND, 0, &header)
}

/// Decodes what [`encode`] wrote into stored trades.
///
/// # Errors
/// Bytes that are not encoded trades ([`StoreError::Corrupt`]).
pub fn decode(bytes: &[u8]) -> Result<Vec<TradeRow>, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt { what: "trades", detail };
    let mut d = Decoder::new(bytes, KIND, "trades")?;
    let names = symbol_table(d.header()).ok_or_else(|| corrupt("a bad symbol table".into()))?;
    let codes = d.column::<4>()?;
    let shorts = d.column::<1>()?;
    let qty = d.decimals()?;
    let entry_ts = d.deltas()?;
    let entry_price = d.decimals()?;
    let exit_ts = d.deltas()?;
    let (exit_price, commission, gross, net) = (d.decimals()?, d.decimals()?, d.decimals()?, d.decimals()?);
    let returns = d.floats()?;
    let (bars, secs) = (d.deltas()?, d.deltas()?);
    let (at_end, reasons) = (d.column::<1>()?, d.column::<1>()?);
    d.done()?;
    (0..codes.len())
        .map(|i| {
            let code = u32::from_le_bytes(codes[i]) as usize;
            let symbol = names.get(code).ok_or_else(|| corrupt(format!("symbol {code} of {}", names.len())))?;
            let reason = REASONS.get(usize::from(reasons[i][0])).ok_or_else(|| corrupt("an exit reason".into()))?;
            Ok(TradeRow {
                symbol: symbol.clone(),
                side: if shorts[i][0] != 0 { "short" } else { "long" }.to_string(),
                qty: qty[i],
                entry_time: Timestamp(entry_ts[i]),
                entry_price: entry_price[i],
                exit_time: Timestamp(exit_ts[i]),
                exit_price: exit_price[i],
                commission: commission[i],
                gross_pnl: gross[i],
                net_pnl: net[i],
                return_pct: returns[i],
                duration_bars: bars[i],
                duration_secs: secs[i],
                closed_at_end: at_end[i][0] != 0,
                exit_reason: reason.as_str().to_string(),
            })
        })
        .collect()
}

/// The symbol names of the header: a count, then each length and its bytes.
fn symbol_table(header: &[u8]) -> Option<Vec<String>> {
    let word = |at: usize| Some(u32::from_le_bytes(header.get(at..at + 4)?.try_into().ok()?) as usize);
    let count = word(0)?;
    let mut at = 4;
    let mut names = Vec::with_capacity(count.min(header.len()));
    for _ in 0..count {
        let len = word(at)?;
        names.push(String::from_utf8(header.get(at + 4..at + 4 + len)?.to_vec()).ok()?);
        at += 4 + len;
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::Symbol;

    fn trade(symbol: &str, side: PositionSide, net: Decimal, reason: ExitReason) -> Trade {
        Trade {
            symbol: Symbol::new(symbol),
            side,
            qty: dec!(12.50000000),
            entry_ts: Timestamp(1_600_000_000_000),
            entry_price: dec!(101.25),
            entry_step: 3,
            exit_ts: Timestamp(1_600_086_400_000),
            exit_price: dec!(99.1),
            exit_step: 4,
            commission: dec!(0.00),
            gross_pnl: net,
            net_pnl: net,
            return_pct: -1.5,
            duration_bars: 1,
            duration_secs: 86_400,
            closed_at_end: reason == ExitReason::EndOfRun,
            exit_reason: reason,
        }
    }

    #[test]
    fn trades_come_back_as_their_rows_with_exact_decimals() {
        let trades = vec![
            trade("GOOG", PositionSide::Long, dec!(-26.875), ExitReason::Signal),
            trade("BRK.B", PositionSide::Short, -Decimal::ZERO, ExitReason::StopLoss),
            trade("GOOG", PositionSide::Long, Decimal::MAX, ExitReason::EndOfRun),
        ];
        let rows = decode(&encode(&trades)).unwrap();
        assert_eq!(rows.len(), 3);
        for (row, t) in rows.iter().zip(&trades) {
            assert_eq!(row.symbol, t.symbol.as_str());
            assert_eq!(row.side, if t.side == PositionSide::Short { "short" } else { "long" });
            for (a, b) in [(row.qty, t.qty), (row.net_pnl, t.net_pnl), (row.commission, t.commission)] {
                assert_eq!(a.to_string(), b.to_string(), "exact, scale and sign included");
            }
            assert_eq!((row.entry_time, row.exit_time), (t.entry_ts, t.exit_ts));
            assert_eq!(row.exit_reason, t.exit_reason.as_str());
            assert_eq!(row.closed_at_end, t.closed_at_end);
            assert_eq!((row.duration_bars, row.duration_secs, row.return_pct), (1, 86_400, -1.5));
        }
        assert!(decode(&encode(&[])).unwrap().is_empty());
    }

    #[test]
    fn bytes_that_are_not_trades_are_refused() {
        let good = encode(&[trade("X", PositionSide::Long, dec!(1), ExitReason::Signal)]);
        assert!(decode(&good[..20]).is_err());
        let mut symbols = good.clone();
        symbols[18] = 5; // five symbols claimed, one written
        assert!(decode(&symbols).unwrap_err().to_string().contains("symbol table"));
        assert!(decode(&crate::store::curve_codec::encode(&[])).is_err(), "a curve is not trades");
    }
}
