//! `scripts/sma_cross.rhai` on real data against an independent, naive
//! computation written here: SMAs recomputed from scratch in exact decimals,
//! crossings found by comparing today with yesterday, fills at the next open,
//! all-in sizing as floor(cash / open), the last position closed at the
//! last close.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::helpers::{ok, repo};

struct Row {
    date: String,
    open: Decimal,
    close: Decimal,
}

fn read_rows(path: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            Row {
                date: cells[0].to_string(),
                open: Decimal::from_str(cells[1]).unwrap(),
                close: Decimal::from_str(cells[4]).unwrap(),
            }
        })
        .collect()
}

fn sma(rows: &[Row], end: usize, n: usize) -> Option<Decimal> {
    (end + 1 >= n).then(|| rows[end + 1 - n..=end].iter().map(|r| r.close).sum::<Decimal>() / Decimal::from(n))
}

/// (entry date, entry price, qty, exit date, exit price) of one round trip.
type RoundTrip = (String, Decimal, Decimal, String, Decimal);

/// The round trips and the final cash.
fn naive_trades(rows: &[Row], fast: usize, slow: usize, cash: Decimal) -> (Vec<RoundTrip>, Decimal) {
    let mut cash = cash;
    let mut open: Option<(usize, Decimal, Decimal)> = None; // (entry index, price, qty)
    let mut trades = Vec::new();
    for t in 1..rows.len() {
        let (Some(f), Some(s), Some(pf), Some(ps)) =
            (sma(rows, t, fast), sma(rows, t, slow), sma(rows, t - 1, fast), sma(rows, t - 1, slow))
        else {
            continue;
        };
        let Some(next) = rows.get(t + 1) else { break };
        if f > s && pf <= ps && open.is_none() {
            let qty = (cash / next.open).floor();
            cash -= qty * next.open;
            open = Some((t + 1, next.open, qty));
        } else if f < s && pf >= ps {
            if let Some((i, price, qty)) = open.take() {
                cash += qty * next.open;
                trades.push((rows[i].date.clone(), price, qty, next.date.clone(), next.open));
            }
        }
    }
    if let Some((i, price, qty)) = open {
        let last = rows.last().unwrap();
        cash += qty * last.close;
        trades.push((rows[i].date.clone(), price, qty, last.date.clone(), last.close));
    }
    (trades, cash)
}

#[test]
fn sma_cross_on_goog_matches_a_naive_computation() {
    let rows = read_rows(&repo("data/GOOG.csv"));
    let (expected, final_cash) = naive_trades(&rows, 10, 20, Decimal::from(100_000));

    let dir = tempfile::tempdir().unwrap();
    let trades_csv = dir.path().join("trades.csv").display().to_string();
    let json = ok(&["run", "scripts/sma_cross.rhai", "--data", "data/GOOG.csv", "--json", "--trades-csv", &trades_csv]);
    let metrics: serde_json::Value = serde_json::from_str(&json).unwrap();

    let text = std::fs::read_to_string(&trades_csv).unwrap();
    let actual: Vec<_> = text
        .lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split(',').collect();
            (
                c[3].to_string(),
                Decimal::from_str(c[4]).unwrap(),
                Decimal::from_str(c[2]).unwrap(),
                c[5].to_string(),
                Decimal::from_str(c[6]).unwrap(),
            )
        })
        .collect();
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(&expected) {
        assert_eq!((&a.0, a.1, a.2, &a.3, a.4), (&e.0, e.1, e.2, &e.3, e.4));
    }
    assert_eq!(metrics["final_equity"].to_string(), final_cash.normalize().to_string());
}
