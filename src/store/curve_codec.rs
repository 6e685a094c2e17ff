//! A run's equity curve in its compact form (see [`super::codec`]): the
//! columns step, time, equity, cash, drawdown and, when the run has one,
//! the benchmark's equity.

use super::codec::{Decoder, Encoder};
use super::results::EquityRow;
use super::StoreError;
use crate::domain::Timestamp;

const KIND: &[u8; 4] = b"BTEQ";
const HAS_BENCHMARK: u8 = 1;

/// Encodes `rows` (steps ascending).
pub fn encode(rows: &[EquityRow]) -> Vec<u8> {
    let has_benchmark = rows.iter().any(|r| r.benchmark_equity.is_some());
    let mut e = Encoder::new(rows.len(), if has_benchmark { 72 } else { 56 });
    e.deltas(rows.iter().map(|r| r.step));
    e.deltas(rows.iter().map(|r| r.time.millis()));
    e.decimals(rows.iter().map(|r| r.equity));
    e.decimals(rows.iter().map(|r| r.cash));
    e.floats(rows.iter().map(|r| r.drawdown_pct));
    if has_benchmark {
        // A curve has a benchmark at every point or at none.
        e.decimals(rows.iter().map(|r| r.benchmark_equity.unwrap_or_default()));
    }
    e.finish(KIND, if has_benchmark { HAS_BENCHMARK } else { 0 }, &[])
}

/// Decodes what [`encode`] wrote.
///
/// # Errors
/// Bytes that are not an encoded curve ([`StoreError::Corrupt`]).
pub fn decode(bytes: &[u8]) -> Result<Vec<EquityRow>, StoreError> {
    let mut d = Decoder::new(bytes, KIND, "equity curve")?;
    let (steps, times, equity, cash, drawdown) = (d.deltas()?, d.deltas()?, d.decimals()?, d.decimals()?, d.floats()?);
    let benchmark = if d.flags() & HAS_BENCHMARK != 0 { Some(d.decimals()?) } else { None };
    d.done()?;
    Ok((0..steps.len())
        .map(|i| EquityRow {
            step: steps[i],
            time: Timestamp(times[i]),
            equity: equity[i],
            cash: cash[i],
            drawdown_pct: drawdown[i],
            benchmark_equity: benchmark.as_ref().map(|b| b[i]),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;

    fn row(step: i64, equity: Decimal, benchmark: Option<Decimal>) -> EquityRow {
        EquityRow {
            step,
            time: Timestamp(1_600_000_000_000 + step * 60_000),
            equity,
            cash: equity - dec!(1.5),
            drawdown_pct: -0.1 * step as f64,
            benchmark_equity: benchmark,
        }
    }

    #[test]
    fn a_curve_comes_back_exactly_with_scales_and_signs() {
        let rows = vec![
            row(0, dec!(100000), Some(dec!(100000))),
            row(1, dec!(100000.00), Some(dec!(99999.999999))),
            row(2, -Decimal::ZERO, Some(dec!(-3.25))),
            row(7, Decimal::MAX, Some(Decimal::MIN)),
        ];
        let back = decode(&encode(&rows)).unwrap();
        assert_eq!(back, rows);
        for (a, b) in back.iter().zip(&rows) {
            // Equal decimals may differ in scale or sign; the text must not.
            assert_eq!(a.equity.to_string(), b.equity.to_string());
            assert_eq!(a.cash.to_string(), b.cash.to_string());
            assert_eq!(a.drawdown_pct.to_bits(), b.drawdown_pct.to_bits());
        }
        let without: Vec<EquityRow> = rows.iter().map(|r| EquityRow { benchmark_equity: None, ..r.clone() }).collect();
        assert_eq!(decode(&encode(&without)).unwrap(), without);
        assert_eq!(decode(&encode(&[])).unwrap(), vec![]);
    }

    #[test]
    fn a_long_curve_is_small() {
        // A million minute points of a slowly moving account: under 4 bytes a point.
        let rows: Vec<EquityRow> =
            (0..1_000_000).map(|i| row(i, dec!(100000) + Decimal::new(i % 5000, 2), None)).collect();
        let bytes = encode(&rows);
        assert!(bytes.len() < 4_000_000, "{} bytes", bytes.len());
        assert_eq!(decode(&bytes).unwrap(), rows);
    }

    #[test]
    fn bytes_that_are_not_a_curve_are_refused_not_misread() {
        let good = encode(&[row(0, dec!(1), None)]);
        assert!(decode(b"nonsense").is_err());
        let mut version = good.clone();
        version[4] = 9;
        assert!(decode(&version).unwrap_err().to_string().contains("format version 9"));
        let mut count = good.clone();
        count[6] = 2;
        assert!(decode(&count).unwrap_err().to_string().contains("for 2 values"));
        assert!(decode(&good[..good.len() - 1]).is_err());
        let mut flags = good.clone();
        flags[5] = HAS_BENCHMARK;
        assert!(decode(&flags).is_err(), "a column more than written");
        // A block that claims a gigabyte for one point is refused before anything is allocated.
        let mut claim = good.clone();
        claim[18..22].copy_from_slice(&1_000_000_000u32.to_le_bytes());
        assert!(decode(&claim).unwrap_err().to_string().contains("claimed for 1 values"));
        // A count so large that its columns' size overflows.
        let mut huge = good.clone();
        huge[6..14].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&huge).is_err());
    }
}
