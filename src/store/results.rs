//! A completed run's trades and equity curve: written encoded, one row per
//! run; read from there, or from the rows of runs stored before.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{curve_codec, trade_codec, Store, StoreError};
use crate::domain::{EquityCurve, Timestamp, Trade};

/// The equity curve to write: one point per step, with its drawdown.
#[derive(Clone, Copy)]
pub struct EquityInput<'a> {
    /// The timestamp of each step.
    pub timeline: &'a [Timestamp],
    /// The account (equity and cash) at the end of each step.
    pub points: &'a EquityCurve,
    /// Drawdown at each step in percent (≤ 0), from the running peak of equity.
    pub drawdown_pct: &'a [f64],
    /// The benchmark's equity at each step, if the run has one.
    pub benchmark: Option<&'a [Decimal]>,
    /// The steps of the curve that charts show (ascending), stored beside it.
    pub sampled: &'a [usize],
}

/// A stored trade; money exact.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = Trade)]
pub struct TradeRow {
    /// The traded symbol.
    pub symbol: String,
    /// `long` or `short`.
    pub side: String,
    /// Quantity, always > 0.
    pub qty: Decimal,
    /// Timestamp of the engine step on which the entry filled.
    #[schema(value_type = String)]
    pub entry_time: Timestamp,
    /// Price of the entry fill, after slippage.
    pub entry_price: Decimal,
    /// Timestamp of the engine step on which the exit filled.
    #[schema(value_type = String)]
    pub exit_time: Timestamp,
    /// Price of the exit fill: after slippage, except at the end of a run (the last close).
    pub exit_price: Decimal,
    /// Entry and exit fees allocated to this quantity.
    pub commission: Decimal,
    /// (exit - entry) * qty for longs, (entry - exit) * qty for shorts.
    pub gross_pnl: Decimal,
    /// `gross_pnl - commission`.
    pub net_pnl: Decimal,
    /// `net_pnl / (entry_price * qty) * 100`.
    pub return_pct: f64,
    /// Engine steps between entry and exit.
    pub duration_bars: i64,
    /// Seconds between entry and exit.
    pub duration_secs: i64,
    /// True when the run ended with the position open and the engine closed it at the last close.
    pub closed_at_end: bool,
    /// `signal`, `stop_loss`, `take_profit`, `trailing_stop`, `margin_call` or `end_of_run`.
    pub exit_reason: String,
}

/// A stored point of the equity curve.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = EquityPoint)]
pub struct EquityRow {
    /// 0-based engine step.
    pub step: i64,
    /// The step's timestamp.
    #[schema(value_type = String)]
    pub time: Timestamp,
    /// Cash plus every open position marked at the step's close.
    pub equity: Decimal,
    /// Cash after the step's fills and fees.
    pub cash: Decimal,
    /// Drawdown in percent (≤ 0) from the running peak of equity.
    pub drawdown_pct: f64,
    /// The benchmark's equity at this step; `None` without a benchmark.
    pub benchmark_equity: Option<Decimal>,
}

fn money(row: &AnyRow, column: &'static str) -> Result<Decimal, StoreError> {
    let text: String = row.try_get(column)?;
    Decimal::from_str(&text).map_err(|e| StoreError::Corrupt { what: column, detail: format!("{text:?}: {e}") })
}

/// A run's results in their stored form: the curve, its chart sample and the trades, encoded.
#[derive(Debug, Default)]
pub(super) struct EncodedResults {
    points: i64,
    curve: Vec<u8>,
    sampled: Vec<u8>,
    trade_count: i64,
    trades: Vec<u8>,
}

/// Encodes a run's trades, curve and chart sample.
pub(super) fn encode_results(trades: &[Trade], equity: EquityInput<'_>) -> EncodedResults {
    let rows: Vec<EquityRow> = equity
        .points
        .iter()
        .enumerate()
        .map(|(step, point)| EquityRow {
            step: step as i64,
            time: equity.timeline[step],
            equity: point.equity,
            cash: point.cash,
            drawdown_pct: equity.drawdown_pct[step],
            benchmark_equity: equity.benchmark.map(|b| b[step]),
        })
        .collect();
    let sampled: Vec<EquityRow> = equity.sampled.iter().filter_map(|&i| rows.get(i).cloned()).collect();
    EncodedResults {
        points: rows.len() as i64,
        curve: curve_codec::encode(&rows),
        sampled: curve_codec::encode(&sampled),
        trade_count: trades.len() as i64,
        trades: trade_codec::encode(trades),
    }
}

/// Writes a run's encoded results, one row.
pub(super) async fn insert_results(
    tx: &mut Transaction<'_, Any>,
    run_id: i64,
    results: EncodedResults,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO run_results (run_id, points, curve, sampled, trade_count, trades) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(run_id)
    .bind(results.points)
    .bind(results.curve)
    .bind(results.sampled)
    .bind(results.trade_count)
    .bind(results.trades)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// A run's trades, in exit order.
    ///
    /// # Errors
    /// Database failures or corrupt stored trades.
    pub async fn trades(&self, run_id: i64) -> Result<Vec<TradeRow>, StoreError> {
        match self.encoded_results(run_id, "trades").await? {
            Some(bytes) => trade_codec::decode(&bytes),
            None => self.trade_rows(run_id).await,
        }
    }

    /// The trades of a run stored before they were encoded: one row each.
    async fn trade_rows(&self, run_id: i64) -> Result<Vec<TradeRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT symbol, side, CAST(qty AS TEXT) AS qty, entry_ts, CAST(entry_price AS TEXT) AS entry_price, \
             exit_ts, CAST(exit_price AS TEXT) AS exit_price, CAST(commission AS TEXT) AS commission, \
             CAST(gross_pnl AS TEXT) AS gross_pnl, CAST(net_pnl AS TEXT) AS net_pnl, return_pct, duration_bars, \
             duration_secs, CASE WHEN closed_at_end THEN 1 ELSE 0 END AS closed_at_end, exit_reason \
             FROM trades WHERE run_id = $1 ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TradeRow {
                    symbol: r.try_get("symbol")?,
                    side: r.try_get("side")?,
                    qty: money(r, "qty")?,
                    entry_time: Timestamp(r.try_get("entry_ts")?),
                    entry_price: money(r, "entry_price")?,
                    exit_time: Timestamp(r.try_get("exit_ts")?),
                    exit_price: money(r, "exit_price")?,
                    commission: money(r, "commission")?,
                    gross_pnl: money(r, "gross_pnl")?,
                    net_pnl: money(r, "net_pnl")?,
                    return_pct: r.try_get("return_pct")?,
                    duration_bars: r.try_get("duration_bars")?,
                    duration_secs: r.try_get("duration_secs")?,
                    // Read as an integer: the Any driver cannot decode SQLite booleans.
                    closed_at_end: r.try_get::<i64, _>("closed_at_end")? != 0,
                    exit_reason: r.try_get("exit_reason")?,
                })
            })
            .collect()
    }

    /// A run's whole equity curve, in step order.
    ///
    /// # Errors
    /// Database failures or a corrupt stored curve.
    pub async fn equity(&self, run_id: i64) -> Result<Vec<EquityRow>, StoreError> {
        match self.encoded_results(run_id, "curve").await? {
            Some(bytes) => curve_codec::decode(&bytes),
            None => self.equity_rows(run_id).await,
        }
    }

    /// The sampled curve stored with a run's results; `None` for a run
    /// stored before samples were (its curve is in rows: sample it).
    ///
    /// # Errors
    /// Database failures or a corrupt stored curve.
    pub async fn equity_sampled(&self, run_id: i64) -> Result<Option<Vec<EquityRow>>, StoreError> {
        self.encoded_results(run_id, "sampled").await?.map(|bytes| curve_codec::decode(&bytes)).transpose()
    }

    /// One encoded column of a run's results; `None` for a run stored before they were encoded.
    async fn encoded_results(&self, run_id: i64, column: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = format!("SELECT {column} FROM run_results WHERE run_id = $1");
        let row = sqlx::query(&sql).bind(run_id).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(row) => Some(row.try_get(column)?),
            None => None,
        })
    }

    /// The curve of a run stored before curves were encoded: one row per step.
    async fn equity_rows(&self, run_id: i64) -> Result<Vec<EquityRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT step, ts, CAST(equity AS TEXT) AS equity, CAST(cash AS TEXT) AS cash, drawdown_pct, \
             CAST(benchmark_equity AS TEXT) AS benchmark_equity \
             FROM equity_points WHERE run_id = $1 ORDER BY step",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EquityRow {
                    step: r.try_get("step")?,
                    time: Timestamp(r.try_get("ts")?),
                    equity: money(r, "equity")?,
                    cash: money(r, "cash")?,
                    drawdown_pct: r.try_get("drawdown_pct")?,
                    benchmark_equity: match r.try_get::<Option<String>, _>("benchmark_equity")? {
                        None => None,
                        Some(text) => Some(Decimal::from_str(&text).map_err(|e| StoreError::Corrupt {
                            what: "benchmark_equity",
                            detail: format!("{text:?}: {e}"),
                        })?),
                    },
                })
            })
            .collect()
    }
}
