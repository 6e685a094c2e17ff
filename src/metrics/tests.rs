//! End-to-end tests of `compute`: hand-computed cases and a brute-force cross-check.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{compute, Metrics, MetricsInput};
use crate::domain::{EquityPoint, PositionSide, Symbol, Timestamp, Trade};

const DAY_MS: i64 = 86_400_000;

/// Asserts `a ≈ b` within 1e-9 relative (or absolute near zero).
#[track_caller]
fn approx(a: f64, b: f64) {
    let tol = 1e-9 * b.abs().max(1.0);
    assert!((a - b).abs() <= tol, "{a} != {b}");
}

#[track_caller]
fn approx_some(a: Option<f64>, b: f64) {
    approx(a.expect("value is None"), b);
}

/// One step per day from the epoch.
fn daily(n: usize) -> Vec<Timestamp> {
    (0..n as i64).map(|d| Timestamp(d * DAY_MS)).collect()
}

fn curve(values: &[Decimal]) -> Vec<EquityPoint> {
    values.iter().map(|&equity| EquityPoint { equity, cash: equity, exposed: false }).collect()
}

/// A trade with the fields the metrics read; the rest are plausible filler.
pub(super) fn trade(net_pnl: Decimal, return_pct: f64, bars: usize, secs: i64) -> Trade {
    Trade {
        symbol: Symbol::new("TEST"),
        side: PositionSide::Long,
        qty: dec!(1),
        entry_ts: Timestamp(0),
        entry_price: dec!(100),
        entry_step: 0,
        exit_ts: Timestamp(secs * 1000),
        exit_price: dec!(100) + net_pnl,
        exit_step: bars,
        commission: Decimal::ZERO,
        gross_pnl: net_pnl,
        net_pnl,
        return_pct,
        duration_bars: bars,
        duration_secs: secs,
        closed_at_end: false,
        exit_reason: crate::domain::ExitReason::Signal,
    }
}

fn run(timeline: &[Timestamp], equity: &[EquityPoint], initial: Decimal, trades: &[Trade]) -> Metrics {
    compute(&MetricsInput {
        timeline,
        equity: &equity.iter().copied().collect(),
        initial_cash: initial,
        trades,
        buy_hold_return_pct: None,
        commission_total: Decimal::ZERO,
        symbols: &[],
        benchmark: None,
        margin_calls: 0,
    })
}

#[test]
fn four_point_curve_by_hand() {
    let timeline = daily(4);
    let mut equity = curve(&[dec!(100), dec!(110), dec!(99), dec!(121)]);
    equity[1].exposed = true;
    equity[2].exposed = true;
    // Net P&L 15 − 4 + 10 = 21 = 121 − 100, as the Trade invariant requires.
    let trades =
        [trade(dec!(15), 15.0, 2, 2 * 86_400), trade(dec!(-4), -3.6, 1, 86_400), trade(dec!(10), 10.0, 1, 86_400)];
    let input = MetricsInput {
        timeline: &timeline,
        equity: &equity.iter().copied().collect(),
        initial_cash: dec!(100),
        trades: &trades,
        buy_hold_return_pct: Some(30.0),
        commission_total: dec!(1.5),
        symbols: &[],
        benchmark: None,
        margin_calls: 0,
    };
    let m = compute(&input);

    assert_eq!(m.start, Timestamp(0));
    assert_eq!(m.end, Timestamp(3 * DAY_MS));
    assert_eq!(m.duration_secs, 3 * 86_400);
    assert_eq!(m.bars, 4);
    approx(m.exposure_pct, 50.0); // 2 of 4 steps exposed
    assert_eq!(m.initial_equity, dec!(100));
    assert_eq!(m.final_equity, dec!(121));
    assert_eq!(m.peak_equity, dec!(121));
    assert_eq!(m.net_pnl, dec!(21));
    assert_eq!(m.commission_total, dec!(1.5));
    approx(m.return_pct, 21.0); // 121/100 − 1
    assert_eq!(m.buy_hold_return_pct, Some(30.0));

    // 3 steps over 3 days: 3 / (3/365.25) = 365.25 per year.
    approx_some(m.periods_per_year, 365.25);
    // Returns 0.1, −0.1, 2/9: mean = (2/9)/3 = 2/27; deviations 0.7/27,
    // −4.7/27, 4/27 → Σd² = (0.49 + 22.09 + 16)/729 = 38.58/729;
    // sample variance 19.29/729, stdev √19.29 / 27.
    let stdev = 19.29f64.sqrt() / 27.0;
    // Volatility: stdev × √365.25 × 100 = 310.8833...
    approx_some(m.annual_volatility_pct, stdev * 365.25f64.sqrt() * 100.0);
    approx_some(m.annual_volatility_pct, 310.883_349_168_339);
    // Sharpe: (2/27) / (√19.29/27) × √365.25 = 2 √(365.25/19.29) = 8.7027998...
    approx_some(m.sharpe, 2.0 * (365.25f64 / 19.29).sqrt());
    // Sortino: DD = √((0 + 0.01 + 0)/3) = 0.1/√3; (2/27)/(0.1/√3) × √365.25 = 24.52008...
    approx_some(m.sortino, 20.0 * 3f64.sqrt() / 27.0 * 365.25f64.sqrt());
    // Annual: (121/100)^(365.25/3) − 1, in percent ≈ 1.1998e12.
    let annual = (1.21f64.powf(365.25 / 3.0) - 1.0) * 100.0;
    approx_some(m.annual_return_pct, annual);

    // Running peak 100, 110, 110, 121: deepest 99/110 − 1 = −10 %.
    approx(m.max_drawdown_pct, -10.0);
    // Peak at step 1 (110), regained at step 3 (121 ≥ 110): 2 bars, 2 days.
    assert_eq!(m.max_drawdown_duration_bars, 2);
    assert_eq!(m.max_drawdown_duration_secs, 2 * 86_400);
    approx_some(m.avg_drawdown_pct, -10.0); // one episode (step 2)
    approx_some(m.calmar, annual / 10.0);

    assert_eq!(m.trades, 3);
    approx_some(m.win_rate_pct, 200.0 / 3.0); // 2 of 3 with net_pnl > 0
    assert_eq!(m.best_trade_pct, Some(15.0));
    assert_eq!(m.worst_trade_pct, Some(-3.6));
    approx_some(m.avg_trade_pct, 21.4 / 3.0); // (15 − 3.6 + 10) / 3
    approx_some(m.avg_trade_duration_bars, 4.0 / 3.0); // (2 + 1 + 1) / 3
    assert_eq!(m.max_trade_duration_bars, Some(2));
    approx_some(m.avg_trade_duration_secs, 4.0 * 86_400.0 / 3.0);
    assert_eq!(m.max_trade_duration_secs, Some(2 * 86_400));
    approx_some(m.profit_factor, 6.25); // (15 + 10) / |−4|
    assert_eq!(m.expectancy, Some(dec!(7))); // 21 / 3
                                             // SQN: mean 7, deviations 8, −11, 3 → Σd² = 194, sample var 97;
                                             // √3 × 7 / √97 = 1.23104...
    approx_some(m.sqn, 3f64.sqrt() * 7.0 / 97f64.sqrt());
}

#[test]
fn no_trades_leaves_trade_stats_undefined() {
    let timeline = daily(3);
    let equity = curve(&[dec!(100), dec!(101), dec!(102)]);
    let m = run(&timeline, &equity, dec!(100), &[]);
    assert_eq!(m.trades, 0);
    assert_eq!(m.win_rate_pct, None);
    assert_eq!(m.best_trade_pct, None);
    assert_eq!(m.worst_trade_pct, None);
    assert_eq!(m.avg_trade_pct, None);
    assert_eq!(m.avg_trade_duration_bars, None);
    assert_eq!(m.max_trade_duration_bars, None);
    assert_eq!(m.avg_trade_duration_secs, None);
    assert_eq!(m.max_trade_duration_secs, None);
    assert_eq!(m.profit_factor, None);
    assert_eq!(m.expectancy, None);
    assert_eq!(m.sqn, None);
    // Never below the running peak (100, 100, 101, 102): no drawdown at all.
    assert_eq!(m.max_drawdown_pct, 0.0);
    assert_eq!(m.avg_drawdown_pct, None);
    assert_eq!(m.calmar, None);
    // Both returns positive: no downside deviation.
    assert_eq!(m.sortino, None);
    assert!(m.sharpe.is_some());
}

#[test]
fn all_winners_have_no_profit_factor() {
    let timeline = daily(2);
    let equity = curve(&[dec!(100), dec!(105)]);
    // A break-even trade is neither a winner nor a loser.
    let trades = [trade(dec!(2), 2.0, 1, 86_400), trade(dec!(3), 3.0, 1, 86_400), trade(dec!(0), 0.0, 1, 86_400)];
    let m = run(&timeline, &equity, dec!(100), &trades);
    assert_eq!(m.profit_factor, None);
    approx_some(m.win_rate_pct, 200.0 / 3.0); // 2 of 3 strictly positive
                                              // Expectancy 5/3 = 1.666…, rounded to 10 places: 1.6666666667.
    assert_eq!(m.expectancy, Some(dec!(1.6666666667)));
    // SQN: mean 5/3, deviations 1/3, 4/3, −5/3 → Σd² = 42/9, var 7/3;
    // √3 × (5/3) / √(7/3) = 5/√7 = 1.88982...
    approx_some(m.sqn, 5.0 / 7f64.sqrt());
}

#[test]
fn expectancy_rounds_midpoints_away_from_zero() {
    let timeline = daily(1);
    let equity = curve(&[dec!(100)]);
    // Mean 0.00000000005 lies exactly between two 10-place values: away from
    // zero gives 0.0000000001 (banker's rounding would give 0).
    let trades = [trade(dec!(0.0000000001), 0.0, 0, 0), trade(dec!(0), 0.0, 0, 0)];
    let m = run(&timeline, &equity, dec!(100), &trades);
    assert_eq!(m.expectancy, Some(dec!(0.0000000001)));
    let trades = [trade(dec!(-0.0000000001), 0.0, 0, 0), trade(dec!(0), 0.0, 0, 0)];
    let m = run(&timeline, &equity, dec!(100), &trades);
    assert_eq!(m.expectancy, Some(dec!(-0.0000000001)));
    // SQN: mean −0.5e−10, sample stdev √(2 × 0.25e−20) = 0.7071e−10;
    // √2 × (−0.5e−10) / (0.7071e−10) = −1.
    approx_some(m.sqn, -1.0);
    // Identical P&L: standard deviation 0, no SQN.
    let trades = [trade(dec!(3), 3.0, 1, 60), trade(dec!(3), 3.0, 1, 60)];
    let m = run(&timeline, &equity, dec!(100), &trades);
    assert_eq!(m.sqn, None);
    assert_eq!(m.expectancy, Some(dec!(3)));
}

#[test]
fn flat_equity_has_no_risk_ratios() {
    let timeline = daily(5);
    let equity = curve(&[dec!(100); 5]);
    let m = run(&timeline, &equity, dec!(100), &[]);
    // All returns 0: stdev 0 and DD 0.
    assert_eq!(m.sharpe, None);
    assert_eq!(m.sortino, None);
    assert_eq!(m.annual_volatility_pct, Some(0.0));
    assert_eq!(m.annual_return_pct, Some(0.0)); // 1^k − 1
    assert_eq!(m.max_drawdown_pct, 0.0);
    assert_eq!(m.max_drawdown_duration_bars, 0);
    assert_eq!(m.max_drawdown_duration_secs, 0);
    assert_eq!(m.avg_drawdown_pct, None);
    assert_eq!(m.calmar, None);
    assert_eq!(m.return_pct, 0.0);
    assert_eq!(m.net_pnl, Decimal::ZERO);
}

#[test]
fn unrecovered_drawdown_runs_to_the_last_step() {
    let timeline = daily(5);
    let equity = curve(&[dec!(100), dec!(120), dec!(90), dec!(100), dec!(110)]);
    let m = run(&timeline, &equity, dec!(100), &[]);
    // Peak 120 at step 1, never regained: 4 − 1 = 3 bars, 3 days.
    assert_eq!(m.max_drawdown_duration_bars, 3);
    assert_eq!(m.max_drawdown_duration_secs, 3 * 86_400);
    approx(m.max_drawdown_pct, -25.0); // 90/120 − 1
    approx_some(m.avg_drawdown_pct, -25.0); // one episode, steps 2..4
    assert_eq!(m.peak_equity, dec!(120));
    // 4 steps over 4 days → ppy 365.25; annual (110/100)^(365.25/4) − 1;
    // Calmar = that / 25.
    let annual = (1.1f64.powf(365.25 / 4.0) - 1.0) * 100.0;
    approx_some(m.annual_return_pct, annual);
    approx_some(m.calmar, annual / 25.0);
}

#[test]
fn initial_cash_above_the_first_point() {
    let timeline = daily(4);
    let equity = curve(&[dec!(95), dec!(98), dec!(101), dec!(97)]);
    let m = run(&timeline, &equity, dec!(100), &[]);
    // Peaks: 100 (cash, at step 0), 100, 101, 101.
    // Depths: 95/100 − 1 = −5 %, 98/100 − 1 = −2 %, —, 97/101 − 1 = −3.9604 %.
    approx(m.max_drawdown_pct, -5.0);
    // Episodes: steps 0..1 (depth −5) and step 3 (depth −400/101 %).
    approx_some(m.avg_drawdown_pct, (-5.0 + (97.0 / 101.0 - 1.0) * 100.0) / 2.0);
    // Cash peak counts as step 0, regained at step 2 (101 ≥ 100): 2 bars;
    // the second episode runs 2 → 3 (last step): 1 bar.
    assert_eq!(m.max_drawdown_duration_bars, 2);
    assert_eq!(m.max_drawdown_duration_secs, 2 * 86_400);
    assert_eq!(m.peak_equity, dec!(101));
    // Return is against the cash: 97/100 − 1 = −3 %; net P&L −3.
    approx(m.return_pct, -3.0);
    assert_eq!(m.net_pnl, dec!(-3));
    // Annual return starts from the first point, not the cash:
    // (97/95)^(365.25/3) − 1.
    approx_some(m.annual_return_pct, ((97.0f64 / 95.0).powf(365.25 / 3.0) - 1.0) * 100.0);
    // Returns start from the first point too: 98/95 − 1, 101/98 − 1, 97/101 − 1.
    let r = [98.0 / 95.0 - 1.0, 101.0 / 98.0 - 1.0, 97.0 / 101.0 - 1.0];
    let mean = r.iter().sum::<f64>() / 3.0;
    let dd = (r[2] * r[2] / 3.0).sqrt(); // one negative return
    approx_some(m.sortino, mean / dd * 365.25f64.sqrt());
}

#[test]
fn single_step_run() {
    let timeline = [Timestamp(DAY_MS)];
    let equity = curve(&[dec!(90)]);
    let m = run(&timeline, &equity, dec!(100), &[]);
    assert_eq!(m.duration_secs, 0);
    assert_eq!(m.periods_per_year, None);
    assert_eq!(m.annual_return_pct, None);
    assert_eq!(m.annual_volatility_pct, None);
    assert_eq!(m.sharpe, None);
    assert_eq!(m.sortino, None);
    // Below the cash from the start, never regained, but step 0 is also the last.
    approx(m.max_drawdown_pct, -10.0);
    assert_eq!(m.max_drawdown_duration_bars, 0);
    approx_some(m.avg_drawdown_pct, -10.0);
    assert_eq!(m.calmar, None);
}

#[test]
fn periods_per_year_for_monthly_and_daily_spacing() {
    // 13 points a twelfth of 365.25 days apart (2,629,800,000 ms): 12 steps
    // over exactly one year → 12.
    let monthly: Vec<Timestamp> = (0..13).map(|k| Timestamp(k * 2_629_800_000)).collect();
    let m = run(&monthly, &curve(&[dec!(100); 13]), dec!(100), &[]);
    approx_some(m.periods_per_year, 12.0);

    // Weekdays of 2023: Mon 2 Jan … Fri 29 Dec = 260 points over 361 days →
    // 259 / (361/365.25) = 262.049... (≈ 252 once holidays are missing too).
    let jan2: i64 = 1_672_617_600_000;
    let weekdays: Vec<Timestamp> = (0..=361)
        .map(|d| jan2 + d * DAY_MS)
        .filter(|&ms| (ms / DAY_MS + 3).rem_euclid(7) < 5) // epoch was a Thursday; Mon = 0
        .map(Timestamp)
        .collect();
    assert_eq!(weekdays.len(), 260);
    let m = run(&weekdays, &curve(&vec![dec!(100); 260]), dec!(100), &[]);
    approx_some(m.periods_per_year, 262.049_168_975_069_3);

    // Calendar days, 24/7: 366 points over 365 days → 365 × 365.25/365 = 365.25.
    let m = run(&daily(366), &curve(&vec![dec!(100); 366]), dec!(100), &[]);
    approx_some(m.periods_per_year, 365.25);
}

#[test]
fn json_has_snake_case_keys_and_null_for_undefined() {
    let timeline = daily(3);
    let equity = curve(&[dec!(0), dec!(0), dec!(0)]);
    let m = run(&timeline, &equity, dec!(0), &[]);
    // Zero equity: every ratio would be 0/0; all of them must be None.
    assert_eq!(m.sharpe, None);
    assert_eq!(m.sortino, None);
    assert_eq!(m.annual_volatility_pct, None);
    assert_eq!(m.annual_return_pct, None);
    assert_eq!(m.return_pct, 0.0);

    let text = serde_json::to_string(&m).unwrap();
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "start",
        "end",
        "duration_secs",
        "bars",
        "exposure_pct",
        "initial_equity",
        "final_equity",
        "peak_equity",
        "return_pct",
        "buy_hold_return_pct",
        "periods_per_year",
        "annual_return_pct",
        "annual_volatility_pct",
        "sharpe",
        "sortino",
        "max_drawdown_pct",
        "max_drawdown_duration_bars",
        "max_drawdown_duration_secs",
        "avg_drawdown_pct",
        "calmar",
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
        "commission_total",
        "net_pnl",
        "margin_calls",
        "contributions",
        "benchmark",
    ];
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys_sorted, expected);
    for key in ["sharpe", "sortino", "calmar", "win_rate_pct", "expectancy", "buy_hold_return_pct"] {
        assert!(v[key].is_null(), "{key} should be null");
    }
    assert_eq!(v["start"], "1970-01-01");
    assert_eq!(v["end"], "1970-01-03");
    assert!(text.contains("\"duration_secs\":172800"), "{text}");

    // Exact money survives as JSON numbers.
    let m = run(&daily(2), &curve(&[dec!(100), dec!(100.10)]), dec!(100), &[]);
    assert_eq!(m.return_pct, 0.1); // (100.10 − 100) / 100 × 100, exact before conversion
    let text = serde_json::to_string(&m).unwrap();
    assert!(text.contains("\"net_pnl\":0.10,"), "{text}");
    assert!(text.contains("\"final_equity\":100.10,"), "{text}");
    assert!(text.contains("\"expectancy\":null,"), "{text}");
    let trades = [trade(dec!(0.10), 0.1, 1, 86_400)];
    let m = run(&daily(2), &curve(&[dec!(100), dec!(100.10)]), dec!(100), &trades);
    let text = serde_json::to_string(&m).unwrap();
    assert!(text.contains("\"expectancy\":0.10,"), "{text}");
}

#[test]
fn rows_are_labelled_and_formatted() {
    let timeline = daily(4);
    let equity = curve(&[dec!(100), dec!(110), dec!(99), dec!(121)]);
    let m = run(&timeline, &equity, dec!(100), &[]);
    let rows = m.rows();
    let get = |label: &str| rows.iter().find(|(l, _)| *l == label).unwrap().1.clone();
    assert_eq!(rows[0], ("Start", "1970-01-01".to_string()));
    assert_eq!(get("Duration"), "3 days");
    assert_eq!(get("Return [%]"), "21.00");
    assert_eq!(get("Final equity"), "121.00");
    assert_eq!(get("Max drawdown [%]"), "-10.00");
    assert_eq!(get("Max drawdown duration"), "2 bars (2 days)");
    assert_eq!(get("Win rate [%]"), "n/a");
    assert_eq!(get("Expectancy"), "n/a");
    assert_eq!(get("Max trade duration"), "n/a");
    let mut labels: Vec<&str> = rows.iter().map(|(l, _)| *l).collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels.len(), rows.len(), "labels are unique");
}

/// A small deterministic generator (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Cross-check against naive, independent computations on a random walk with
/// irregular spacing, flat stretches and a cash peak above the first point.
#[test]
fn matches_brute_force_on_a_random_walk() {
    let mut rng = Lcg(42);
    let n = 600;
    let mut timeline = Vec::with_capacity(n);
    let mut equity = Vec::with_capacity(n);
    let mut t = 1_600_000_000_000i64;
    let mut cents: i64 = 9_900_000; // 99,000.00: below the cash of 100,000.00
    for _ in 0..n {
        timeline.push(Timestamp(t));
        equity.push(EquityPoint { equity: Decimal::new(cents, 2), cash: Decimal::ZERO, exposed: rng.next(3) > 0 });
        t += (1 + rng.next(3) as i64) * DAY_MS + rng.next(1000) as i64;
        if rng.next(7) != 0 {
            let bp = rng.next(401) as i64 - 195; // −1.95 % … +2.05 %
            cents += cents * bp / 10_000;
        }
    }
    let initial = dec!(100000);
    let trades: Vec<Trade> = (0..40)
        .map(|_| {
            let pnl = Decimal::new(rng.next(200_001) as i64 - 90_000, 2);
            let ret = (rng.next(2001) as f64 - 900.0) / 100.0;
            trade(pnl, ret, rng.next(30) as usize, rng.next(3_000_000) as i64)
        })
        .collect();
    let m = run(&timeline, &equity, initial, &trades);

    let e: Vec<f64> = equity.iter().map(|p| p.equity.to_f64().unwrap()).collect();
    let c = initial.to_f64().unwrap();

    // Returns and their moments, two-pass.
    let r: Vec<f64> = e.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64;
    let sd = var.sqrt();
    let years = (timeline[n - 1].millis() - timeline[0].millis()) as f64 / (365.25 * 86_400_000.0);
    let ppy = (n - 1) as f64 / years;
    approx_some(m.periods_per_year, ppy);
    approx_some(m.annual_volatility_pct, sd * ppy.sqrt() * 100.0);
    approx_some(m.sharpe, mean / sd * ppy.sqrt());
    let down = (r.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
    approx_some(m.sortino, mean / down * ppy.sqrt());
    approx_some(m.annual_return_pct, ((e[n - 1] / e[0]).powf(1.0 / years) - 1.0) * 100.0);

    // Running peak by rescanning the prefix: O(n²).
    let peak_at = |j: usize| e[..=j].iter().fold(c, |a, &b| a.max(b));
    // Max drawdown over all pairs (i ≤ j), the cash counting as a point before step 0.
    let mut worst = 0.0f64;
    for j in 0..n {
        worst = worst.min(e[j] / c - 1.0);
        for i in 0..=j {
            worst = worst.min(e[j] / e[i] - 1.0);
        }
    }
    approx(m.max_drawdown_pct, worst * 100.0);
    assert!(m.max_drawdown_pct < -5.0, "the walk should have real drawdowns");

    // Episodes: maximal runs of steps below their running peak.
    let mut depths = Vec::new();
    let mut j = 0;
    while j < n {
        if e[j] < peak_at(j) {
            let mut deepest = 0.0f64;
            while j < n && e[j] < peak_at(j) {
                deepest = deepest.min((e[j] / peak_at(j) - 1.0) * 100.0);
                j += 1;
            }
            depths.push(deepest);
        } else {
            j += 1;
        }
    }
    assert!(depths.len() > 3);
    approx_some(m.avg_drawdown_pct, depths.iter().sum::<f64>() / depths.len() as f64);

    // Durations: from every peak step whose next step (or itself, for the
    // cash peak) is below the peak, scan forward to the first regain.
    let (mut max_bars, mut max_secs) = (0usize, 0i64);
    for p in 0..n {
        let pk = peak_at(p);
        let is_peak = e[p] == pk || p == 0;
        let starts = (p == 0 && e[0] < c) || (p + 1 < n && e[p + 1] < pk);
        if !is_peak || !starts {
            continue;
        }
        let end = (p + 1..n).find(|&j| e[j] >= pk).unwrap_or(n - 1);
        max_bars = max_bars.max(end - p);
        max_secs = max_secs.max((timeline[end].millis() - timeline[p].millis()) / 1000);
    }
    assert_eq!(m.max_drawdown_duration_bars, max_bars);
    assert_eq!(m.max_drawdown_duration_secs, max_secs);
    assert_eq!(m.peak_equity, equity.iter().map(|p| p.equity).fold(initial, Decimal::max));
    approx(m.exposure_pct, equity.iter().filter(|p| p.exposed).count() as f64 * 100.0 / n as f64);

    // Trades, naively.
    let pnl: Vec<Decimal> = trades.iter().map(|t| t.net_pnl).collect();
    let wins: Decimal = pnl.iter().filter(|p| p.is_sign_positive() && !p.is_zero()).sum();
    let losses: Decimal = pnl.iter().filter(|p| p.is_sign_negative() && !p.is_zero()).sum();
    approx_some(m.profit_factor, (wins / -losses).to_f64().unwrap());
    let total: Decimal = pnl.iter().sum();
    assert_eq!(m.expectancy, Some((total / dec!(40)).round_dp(10)));
    let pf: Vec<f64> = pnl.iter().map(|p| p.to_f64().unwrap()).collect();
    let pmean = pf.iter().sum::<f64>() / 40.0;
    let psd = (pf.iter().map(|x| (x - pmean).powi(2)).sum::<f64>() / 39.0).sqrt();
    approx_some(m.sqn, 40f64.sqrt() * pmean / psd);
    let mut rets: Vec<f64> = trades.iter().map(|t| t.return_pct).collect();
    rets.sort_by(f64::total_cmp);
    assert_eq!(m.best_trade_pct, rets.last().copied());
    assert_eq!(m.worst_trade_pct, rets.first().copied());
    approx_some(m.avg_trade_pct, rets.iter().sum::<f64>() / 40.0);
    assert_eq!(m.max_trade_duration_bars, trades.iter().map(|t| t.duration_bars).max());
    assert_eq!(m.max_trade_duration_secs, trades.iter().map(|t| t.duration_secs).max());
    approx_some(m.win_rate_pct, pnl.iter().filter(|p| **p > Decimal::ZERO).count() as f64 * 100.0 / 40.0);
}
