//! A run's report data: what the page shows, built the same way from the
//! command line's results and from the service's stored ones, reduced for
//! drawing, as one JSON value that the page's script renders.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::reduce::{candle_time, line_indices, merge_candles, Candle};
use crate::data::Universe;
use crate::domain::num::to_f64;
use crate::domain::{Price, Timestamp};
use crate::metrics::PeriodReturn;

/// Points of a line chart at most (the equity, drawdown and benchmark).
pub const LINE_BUDGET: usize = 4000;
/// Candles of a price chart at most; more are merged.
pub const CANDLE_BUDGET: usize = 5000;
/// Trade markers per price chart at most (the trades table has them all).
pub const MARKER_BUDGET: usize = 2000;

/// One trade as the report shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct TradeLine {
    /// The symbol traded.
    pub symbol: String,
    /// `long` or `short`.
    pub side: String,
    /// Units.
    pub qty: Decimal,
    /// When it was entered.
    pub entry_time: Timestamp,
    /// The entry's fill price.
    pub entry_price: Decimal,
    /// When it was closed.
    pub exit_time: Timestamp,
    /// The exit's fill price.
    pub exit_price: Decimal,
    /// Fees of both fills.
    pub commission: Decimal,
    /// Profit after fees.
    pub net_pnl: Decimal,
    /// Return on the entry's notional, in percent.
    pub return_pct: f64,
    /// Bars held.
    pub duration_bars: i64,
    /// Why it was closed (`signal`, `stop_loss`, `end_of_data`, ...).
    pub exit_reason: String,
}

impl From<&crate::domain::Trade> for TradeLine {
    fn from(t: &crate::domain::Trade) -> Self {
        TradeLine {
            symbol: t.symbol.to_string(),
            side: match t.side {
                crate::domain::PositionSide::Long => "long".into(),
                crate::domain::PositionSide::Short => "short".into(),
            },
            qty: t.qty,
            entry_time: t.entry_ts,
            entry_price: t.entry_price,
            exit_time: t.exit_ts,
            exit_price: t.exit_price,
            commission: t.commission,
            net_pnl: t.net_pnl,
            return_pct: t.return_pct,
            duration_bars: i64::try_from(t.duration_bars).unwrap_or(i64::MAX),
            exit_reason: t.exit_reason.as_str().into(),
        }
    }
}

impl From<&crate::store::TradeRow> for TradeLine {
    fn from(t: &crate::store::TradeRow) -> Self {
        TradeLine {
            symbol: t.symbol.clone(),
            side: t.side.clone(),
            qty: t.qty,
            entry_time: t.entry_time,
            entry_price: t.entry_price,
            exit_time: t.exit_time,
            exit_price: t.exit_price,
            commission: t.commission,
            net_pnl: t.net_pnl,
            return_pct: t.return_pct,
            duration_bars: t.duration_bars,
            exit_reason: t.exit_reason.clone(),
        }
    }
}

/// One step of the equity curve as the report draws it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    /// The step's time.
    pub time: Timestamp,
    /// Equity at its close.
    pub equity: f64,
    /// Drawdown from the running peak, in percent (≤ 0).
    pub drawdown_pct: f64,
    /// The benchmark's equity, when the run has one.
    pub benchmark: Option<f64>,
}

/// Everything a run's report shows.
pub struct RunInput<'a> {
    /// The page's title.
    pub title: String,
    /// The run's manifest (strategy, data, settings, fingerprint) as JSON.
    pub manifest: Value,
    /// The run's metrics as JSON (as `run --json` prints them).
    pub metrics: Value,
    /// The log: `{"lines": [...], "dropped": n, "rejections": [...]}`.
    pub log: Value,
    /// One point per step.
    pub curve: Vec<CurvePoint>,
    /// The bars the run traded, for the price charts; `None` when they are not at hand.
    pub universe: Option<&'a Universe>,
    /// Every trade, in the order closed.
    pub trades: Vec<TradeLine>,
    /// Returns per month and per year.
    pub monthly: &'a [PeriodReturn],
    /// Returns per year.
    pub yearly: &'a [PeriodReturn],
}

fn seconds(t: Timestamp) -> i64 {
    t.millis().div_euclid(1000)
}

/// Two digits after the point, or more for small numbers: how a metric reads.
fn metric_text(value: &Value) -> String {
    match value {
        Value::Null => "n/a".into(),
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
            Some(x) if x.abs() >= 100.0 => format!("{x:.2}"),
            Some(x) => format!("{x:.4}"),
            None => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The metrics' groups, by key; keys in no group are shown under "Other"
/// (so that none is left out).
const GROUPS: [(&str, &[&str]); 5] = [
    (
        "Returns",
        &[
            "start",
            "end",
            "bars",
            "initial_equity",
            "final_equity",
            "peak_equity",
            "net_pnl",
            "return_pct",
            "buy_hold_return_pct",
            "annual_return_pct",
        ],
    ),
    (
        "Risk",
        &[
            "annual_volatility_pct",
            "sharpe",
            "sortino",
            "calmar",
            "max_drawdown_pct",
            "avg_drawdown_pct",
            "max_drawdown_duration_bars",
            "max_drawdown_duration_secs",
            "exposure_pct",
        ],
    ),
    (
        "Trades",
        &[
            "trades",
            "win_rate_pct",
            "best_trade_pct",
            "worst_trade_pct",
            "avg_trade_pct",
            "avg_trade_duration_bars",
            "max_trade_duration_bars",
            "avg_trade_duration_secs",
            "max_trade_duration_secs",
            "profit_factor",
            "expectancy",
            "sqn",
        ],
    ),
    ("Costs and orders", &["commission_total", "margin_calls", "rejected_orders", "orders_cancelled_at_end"]),
    ("Time", &["duration_secs", "periods_per_year"]),
];

/// Keys of the metrics shown in panels of their own, not in the groups.
const SHOWN_ELSEWHERE: [&str; 8] =
    ["contributions", "benchmark", "params", "margin_call_events", "returns", "sandbox", "fingerprint", "config"];

/// The metrics as groups of `[name, text]` rows.
fn metric_groups(metrics: &Value) -> Value {
    let Some(all) = metrics.as_object() else { return json!([]) };
    let mut groups = Vec::new();
    for (name, keys) in GROUPS {
        let rows: Vec<Value> = keys.iter().filter_map(|k| all.get(*k).map(|v| json!([k, metric_text(v)]))).collect();
        groups.push(json!({ "name": name, "rows": rows }));
    }
    let grouped = |k: &str| GROUPS.iter().any(|(_, keys)| keys.contains(&k)) || SHOWN_ELSEWHERE.contains(&k);
    let other: Vec<Value> = all.iter().filter(|(k, _)| !grouped(k)).map(|(k, v)| json!([k, metric_text(v)])).collect();
    if !other.is_empty() {
        groups.push(json!({ "name": "Other", "rows": other }));
    }
    if let Some(benchmark) = all.get("benchmark").and_then(Value::as_object) {
        let rows: Vec<Value> = flatten("", benchmark).into_iter().map(|(k, v)| json!([k, metric_text(&v)])).collect();
        groups.push(json!({ "name": "Benchmark", "rows": rows }));
    }
    Value::Array(groups)
}

/// `a.b` keys of a nested object's scalar values.
fn flatten(prefix: &str, object: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in object {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            Value::Object(inner) => out.extend(flatten(&key, inner)),
            other => out.push((key, other.clone())),
        }
    }
    out
}

/// The equity, drawdown and benchmark lines, reduced, with every trade's
/// entry and exit step kept.
fn curve_json(curve: &[CurvePoint], trades: &[TradeLine]) -> Value {
    let equity: Vec<f64> = curve.iter().map(|p| p.equity).collect();
    let times: Vec<i64> = curve.iter().map(|p| p.time.millis()).collect();
    let mut keep: Vec<usize> = trades
        .iter()
        .flat_map(|t| [t.entry_time.millis(), t.exit_time.millis()])
        .map(|ms| times.partition_point(|&x| x < ms))
        .collect();
    keep.sort_unstable();
    keep.dedup();
    let mut picked = line_indices(&equity, LINE_BUDGET, &keep);
    // The drawdown's own extremes too.
    let drawdown: Vec<f64> = curve.iter().map(|p| p.drawdown_pct).collect();
    picked.extend(line_indices(&drawdown, LINE_BUDGET, &[]));
    picked.sort_unstable();
    picked.dedup();
    let has_benchmark = curve.iter().any(|p| p.benchmark.is_some());
    // Drawn, not computed with: cents and a ten-thousandth of a percent are finer than a pixel.
    let cents = |x: f64| (x * 100.0).round() / 100.0;
    json!({
        "time": picked.iter().map(|&i| seconds(curve[i].time)).collect::<Vec<_>>(),
        "equity": picked.iter().map(|&i| cents(curve[i].equity)).collect::<Vec<_>>(),
        "drawdown": picked.iter().map(|&i| (curve[i].drawdown_pct * 1e4).round() / 1e4).collect::<Vec<_>>(),
        "benchmark": has_benchmark.then(|| picked.iter().map(|&i| curve[i].benchmark.map(cents)).collect::<Vec<_>>()),
        "points": curve.len(),
    })
}

/// Per symbol: its candles (merged past [`CANDLE_BUDGET`]) and the markers
/// of its trades' entries and exits.
fn symbols_json(universe: &Universe, trades: &[TradeLine]) -> Value {
    let mut out = Vec::new();
    for (i, symbol) in universe.symbols().iter().enumerate() {
        let candles: Vec<Candle> = universe
            .bars(i)
            .iter()
            .map(|b| {
                let [open, high, low, close] = b.prices().map(Price::to_f64);
                (seconds(b.ts), open, high, low, close)
            })
            .collect();
        let merged = merge_candles(&candles, CANDLE_BUDGET);
        let mut markers = Vec::new();
        let name = symbol.to_string();
        let theirs: Vec<&TradeLine> = trades.iter().filter(|t| t.symbol == name).collect();
        for t in theirs.iter().take(MARKER_BUDGET / 2) {
            let long = t.side == "long";
            if let Some(time) = candle_time(&merged, seconds(t.entry_time)) {
                markers.push(json!({
                    "time": time,
                    "position": if long { "belowBar" } else { "aboveBar" },
                    "shape": if long { "arrowUp" } else { "arrowDown" },
                    "color": if long { "#2e7d32" } else { "#c62828" },
                    "hover": format!("{} {} {} @ {}", if long { "buy" } else { "sell short" }, t.qty, name, t.entry_price),
                }));
            }
            if let Some(time) = candle_time(&merged, seconds(t.exit_time)) {
                markers.push(json!({
                    "time": time,
                    "position": if long { "aboveBar" } else { "belowBar" },
                    "shape": "circle",
                    "color": "#455a64",
                    "hover": format!(
                        "exit {} {} {} @ {} ({}), net {}",
                        t.side, t.qty, name, t.exit_price, t.exit_reason, t.net_pnl
                    ),
                }));
            }
        }
        // The chart library wants markers in time order.
        markers.sort_by_key(|m| m["time"].as_i64().unwrap_or(0));
        out.push(json!({
            "symbol": name,
            "bars": candles.len(),
            "merged": merged.len() < candles.len(),
            "candles": merged.iter().map(|c| json!([c.0, c.1, c.2, c.3, c.4])).collect::<Vec<_>>(),
            "markers": markers,
            "markers_shown": theirs.len().min(MARKER_BUDGET / 2),
            "trades": theirs.len(),
        }));
    }
    Value::Array(out)
}

/// The trades as columns and rows, compact: symbols, sides and exit
/// reasons as indices into their lists, amounts as JSON numbers (the
/// decimal's nearest `f64`, for display), returns to 6 decimals; about
/// 70 bytes a trade, so that a run of 30,000 trades stays near 2 MB.
fn trades_json(trades: &[TradeLine]) -> Value {
    let mut symbols: Vec<String> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    let index = |list: &mut Vec<String>, name: &str| -> usize {
        list.iter().position(|s| s == name).unwrap_or_else(|| {
            list.push(name.to_string());
            list.len() - 1
        })
    };
    let rows: Vec<Value> = trades
        .iter()
        .map(|t| {
            let symbol = index(&mut symbols, &t.symbol);
            let reason = index(&mut reasons, &t.exit_reason);
            json!([
                symbol,
                usize::from(t.side != "long"),
                to_f64(t.qty),
                seconds(t.entry_time),
                to_f64(t.entry_price),
                seconds(t.exit_time),
                to_f64(t.exit_price),
                to_f64(t.commission),
                to_f64(t.net_pnl),
                (t.return_pct * 1e6).round() / 1e6,
                t.duration_bars,
                reason,
            ])
        })
        .collect();
    json!({
        "columns": ["symbol", "side", "qty", "entry_time", "entry_price", "exit_time", "exit_price",
                    "commission", "net_pnl", "return_pct", "duration_bars", "exit_reason"],
        "symbols": symbols,
        "sides": ["long", "short"],
        "exit_reasons": reasons,
        "rows": rows,
    })
}

/// Monthly returns as a year × month grid with the yearly totals.
fn monthly_json(monthly: &[PeriodReturn], yearly: &[PeriodReturn]) -> Value {
    let mut years: Vec<i64> = Vec::new();
    let mut cells: Vec<Vec<Option<f64>>> = Vec::new();
    for row in monthly {
        let Some((year, month)) = row.period.split_once('-') else { continue };
        let (Ok(year), Ok(month)) = (year.parse::<i64>(), month.parse::<usize>()) else { continue };
        if years.last() != Some(&year) {
            years.push(year);
            cells.push(vec![None; 12]);
        }
        if let (Some(line), 1..=12) = (cells.last_mut(), month) {
            line[month - 1] = row.return_pct;
        }
    }
    let totals: Vec<Option<f64>> =
        years.iter().map(|y| yearly.iter().find(|r| r.period == y.to_string()).and_then(|r| r.return_pct)).collect();
    json!({ "years": years, "cells": cells, "yearly": totals })
}

/// The report's data as one JSON value.
pub fn run_data(input: &RunInput<'_>) -> Value {
    let m = &input.manifest;
    let curve = curve_json(&input.curve, &input.trades);
    let (first, last) = (input.curve.first().map(|p| p.time), input.curve.last().map(|p| p.time));
    json!({
        "kind": "run",
        "title": input.title,
        "header": {
            "strategy": m.get("strategy").cloned().unwrap_or(Value::Null),
            "data": m.get("data").cloned().unwrap_or(Value::Null),
            "benchmark": m.get("benchmark").cloned().unwrap_or(Value::Null),
            "first": first.map(|t| t.to_string()),
            "last": last.map(|t| t.to_string()),
            "interval": m.get("resample").cloned().unwrap_or(Value::Null),
            "broker": m.get("broker").cloned().unwrap_or(Value::Null),
            "params": m.get("params").cloned().unwrap_or(Value::Null),
            "limits": m.get("limits").cloned().unwrap_or(Value::Null),
            "window": { "start": m.get("start").cloned().unwrap_or(Value::Null), "end": m.get("end").cloned().unwrap_or(Value::Null) },
            "fingerprint": m.get("fingerprint").cloned().or_else(|| input.metrics.get("fingerprint").cloned()).unwrap_or(Value::Null),
            "engine_version": m.get("engine_version").cloned().unwrap_or(Value::Null),
        },
        "metric_groups": metric_groups(&input.metrics),
        "trade_count": input.trades.len(),
        "equity": curve,
        "symbols": input.universe.map_or(Value::Array(Vec::new()), |u| symbols_json(u, &input.trades)),
        "trades": trades_json(&input.trades),
        "monthly": monthly_json(input.monthly, input.yearly),
        "contributions": input.metrics.get("contributions").cloned().unwrap_or(Value::Null),
        "log": input.log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(p: &str, r: Option<f64>) -> PeriodReturn {
        PeriodReturn { period: p.into(), start_equity: Decimal::ONE, end_equity: Decimal::ONE, return_pct: r }
    }

    #[test]
    fn the_monthly_grid_puts_each_month_in_its_year_and_takes_the_yearly_totals() {
        let monthly = [period("2004-08", Some(1.5)), period("2004-12", Some(-2.0)), period("2005-01", None)];
        let yearly = [period("2004", Some(-0.53)), period("2005", None)];
        let grid = monthly_json(&monthly, &yearly);
        assert_eq!(grid["years"], json!([2004, 2005]));
        assert_eq!(grid["cells"][0][7], json!(1.5));
        assert_eq!(grid["cells"][0][11], json!(-2.0));
        assert_eq!(grid["cells"][0][0], Value::Null);
        assert_eq!(grid["yearly"], json!([-0.53, null]));
    }

    #[test]
    fn a_million_step_run_with_thirty_thousand_trades_stays_under_five_megabytes() {
        let curve: Vec<CurvePoint> = (0..1_000_000i64)
            .map(|i| CurvePoint {
                time: Timestamp(1_600_000_000_000 + i * 60_000),
                equity: 100_000.0 + (i as f64 * 0.37).sin() * 5_000.0 + i as f64 * 0.123_456_789,
                drawdown_pct: -((i as f64 * 0.11).cos().abs() * 12.345_678_9),
                benchmark: None,
            })
            .collect();
        let trades: Vec<TradeLine> = (0..30_000i64)
            .map(|k| TradeLine {
                symbol: "SYN".into(),
                side: if k % 3 == 0 { "short" } else { "long" }.into(),
                qty: Decimal::new(1018 + k % 50, 0),
                entry_time: Timestamp(1_600_000_000_000 + k * 33 * 60_000),
                entry_price: Decimal::new(9_814 + k % 700, 2),
                exit_time: Timestamp(1_600_000_000_000 + (k * 33 + 20) * 60_000),
                exit_price: Decimal::new(10_154 + k % 900, 2),
                commission: Decimal::new(123, 2),
                net_pnl: Decimal::new(346_120 - k * 7, 2),
                return_pct: 3.464_439_123_456 - k as f64 * 1e-4,
                duration_bars: 20,
                exit_reason: if k % 7 == 0 { "stop_loss" } else { "signal" }.into(),
            })
            .collect();
        let input = RunInput {
            title: "big".into(),
            manifest: json!({}),
            metrics: json!({ "trades": 30000 }),
            log: json!({ "lines": [], "dropped": 0, "rejections": [] }),
            curve,
            universe: None,
            trades,
            monthly: &[],
            yearly: &[],
        };
        let size = serde_json::to_string(&run_data(&input)).unwrap().len();
        assert!(size < 4_500_000, "{size} bytes of data (the page adds 0.2 MB of script)");
        let data = run_data(&input);
        assert_eq!(data["trades"]["rows"].as_array().unwrap().len(), 30_000, "every trade is in the table");
        // Trade 0 is a short stopped out: indices into the lists, amounts as numbers.
        assert_eq!(data["trades"]["exit_reasons"], json!(["stop_loss", "signal"]));
        assert_eq!(
            data["trades"]["rows"][0],
            json!([0, 1, 1018.0, 1_600_000_000, 98.14, 1_600_001_200, 101.54, 1.23, 3461.2, 3.464439, 20, 0])
        );
    }

    #[test]
    fn every_metric_is_in_a_group() {
        let metrics = json!({ "sharpe": 1.23456, "trades": 47, "new_metric": 2.0, "benchmark": { "alpha": 0.1 },
                              "contributions": [] });
        let groups = metric_groups(&metrics);
        let all: Vec<&str> = groups
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rows"].as_array().unwrap().iter().map(|r| r[0].as_str().unwrap()))
            .collect();
        assert_eq!(all, ["sharpe", "trades", "new_metric", "alpha"]);
        assert_eq!(metric_text(&json!(1.23456)), "1.2346");
        assert_eq!(metric_text(&json!(47)), "47");
        assert_eq!(metric_text(&json!(671.18406)), "671.18");
    }
}
