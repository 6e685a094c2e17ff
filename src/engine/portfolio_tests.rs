//! The portfolio helpers of the strategy API inside real runs, against
//! hand-computed values: sizing, volatility targeting, rebalancing checks,
//! schedules and the benchmark curve.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::tests::Probe;
use super::*;
use crate::broker::BrokerConfig;
use crate::domain::{Bar, Symbol, Timestamp};
use crate::indicators::IndicatorSpec;
use crate::session::{CtxError, Period, StrategyCtx};
use crate::strategy::StrategyError;

const DAY: i64 = 86_400_000;

fn bar(day: i64, close: Decimal) -> Bar {
    Bar::from_decimals(Timestamp(day * DAY), [close, close + dec!(1), close - dec!(1), close], 1.0).unwrap()
}

fn run_probe(
    universe: &Universe,
    config: &RunConfig,
    init: fn(&StrategyCtx) -> Result<(), StrategyError>,
    on_bar: impl FnMut(&StrategyCtx) -> Result<(), StrategyError>,
) -> Result<RunReport, EngineError> {
    run(universe, &mut Probe { init, on_bar }, config, RunHooks::default())
}

fn one_symbol(closes: &[Decimal]) -> Universe {
    let bars = closes.iter().enumerate().map(|(i, &c)| bar(i as i64, c)).collect();
    Universe::new(vec![(Symbol::new("A"), bars)]).unwrap()
}

#[test]
fn sizing_helpers_give_hand_computed_quantities() {
    // Closes 100, 102, 98, 104; qty_for_risk is floor(0.01 × 10000 / ATR) once the ATR is ready.
    let u = one_symbol(&[dec!(100), dec!(102), dec!(98), dec!(104)]);
    let mut config = RunConfig::new(BrokerConfig::with_cash(dec!(10000)), ParamOverrides::default());
    let mut seen = Vec::new();
    run_probe(
        &u,
        &config,
        |ctx| {
            ctx.declare_indicator("atr", 0, IndicatorSpec::Atr { period: 2 })?;
            Ok(())
        },
        |ctx| {
            seen.push((ctx.qty_for_fraction(0, 0.5)?, ctx.qty_for_risk(0.01, "atr")?, ctx.indicator("atr", 0)?));
            Ok(())
        },
    )
    .unwrap();
    // 0.5 × 10000 / close, rounded down: 50, 49 (49.01…), 51 (51.02…), 48 (48.07…).
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [Some(50.0), Some(49.0), Some(51.0), Some(48.0)]);
    for (fraction_qty, risk_qty, atr) in &seen {
        assert!(fraction_qty.is_some());
        match atr {
            // floor(0.01 × 10000 / ATR)
            Some(atr) => assert_eq!(*risk_qty, Some((100.0 / atr).floor()), "atr {atr}"),
            None => assert_eq!(*risk_qty, None, "not ready: no quantity"),
        }
    }
    assert!(seen[0].2.is_none() && seen[3].2.is_some());

    config.broker.fractional = true;
    let mut fractional = None;
    run_probe(
        &u,
        &config,
        |_| Ok(()),
        |ctx| {
            fractional.get_or_insert(ctx.qty_for_fraction(0, 1.0 / 3.0)?);
            Ok(())
        },
    )
    .unwrap();
    // 10000 / 3 / 100 = 33.333333333… → 8 places, rounded down.
    assert_eq!(fractional, Some(Some(33.33333333)));
}

#[test]
fn rebalance_refuses_what_the_run_cannot_hold() {
    let u = Universe::new(vec![
        (Symbol::new("A"), vec![bar(0, dec!(10)), bar(1, dec!(10))]),
        (Symbol::new("B"), vec![bar(0, dec!(20)), bar(1, dec!(20))]),
    ])
    .unwrap();
    let mut config = RunConfig::new(BrokerConfig::with_cash(dec!(1000)), ParamOverrides::default());
    config.broker.max_positions = Some(1);
    let mut errors = Vec::new();
    run_probe(
        &u,
        &config,
        |_| Ok(()),
        |ctx| {
            if ctx.step() == 0 {
                for weights in [vec![(0, 0.7), (1, 0.7)], vec![(0, 0.5), (1, 0.5)], vec![(0, 0.5), (0, 0.2)]] {
                    errors.push(ctx.rebalance(&weights).unwrap_err().to_string());
                }
                errors.push(ctx.equal_weight(&[]).unwrap_err().to_string());
                assert_eq!(ctx.open_orders(None), 0, "a refused rebalance places nothing");
            }
            Ok(())
        },
    )
    .unwrap();
    assert!(errors[0].contains("add up to 1.4 of equity (gross), more than the leverage of 1"), "{}", errors[0]);
    assert!(errors[1].contains("asks for 2 positions but max_positions is 1"), "{}", errors[1]);
    assert!(errors[2].contains("names A twice"), "{}", errors[2]);
    assert!(errors[3].contains("at least one symbol"), "{}", errors[3]);
}

#[test]
fn equal_weight_holds_each_symbol_at_one_nth_of_equity() {
    let closes = [dec!(10), dec!(20), dec!(40)];
    let u = Universe::new(
        ["A", "B", "C"]
            .iter()
            .zip(closes)
            .map(|(s, c)| (Symbol::new(s), vec![bar(0, c), bar(1, c), bar(2, c)]))
            .collect(),
    )
    .unwrap();
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(3000)), ParamOverrides::default());
    let mut held = Vec::new();
    run_probe(
        &u,
        &config,
        |_| Ok(()),
        |ctx| {
            if ctx.step() == 0 {
                ctx.equal_weight(&[0, 1, 2])?;
            }
            if ctx.step() == 1 {
                held = (0..3).map(|s| ctx.position(s).qty).collect();
            }
            Ok(())
        },
    )
    .unwrap();
    // 1/3, kept to 12 places (0.333333333333), of 3000 = 999.999999999:
    // floor(… / 10) = 99, / 20 = 49, / 40 = 24.
    assert_eq!(held, [dec!(99), dec!(49), dec!(24)]);
}

#[test]
fn schedules_fire_on_the_first_step_of_each_period() {
    // 2024-01-29 (Mon) to 2024-02-06 (Tue), weekdays only.
    let first = 19_751; // days since the epoch of 2024-01-29
    let days: Vec<i64> = (0..9).map(|i| first + i).filter(|d| (d + 3) % 7 < 5).collect();
    let bars = days.iter().map(|&d| bar(d, dec!(10))).collect();
    let u = Universe::new(vec![(Symbol::new("A"), bars)]).unwrap();
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(1000)), ParamOverrides::default());
    let mut fired = Vec::new();
    run_probe(
        &u,
        &config,
        |_| Ok(()),
        |ctx| {
            fired.push((ctx.schedule(Period::Week), ctx.schedule(Period::Month)));
            Ok(())
        },
    )
    .unwrap();
    // Mon 29, Tue 30, Wed 31, Thu 1 Feb, Fri 2, Mon 5, Tue 6.
    let weekly: Vec<bool> = fired.iter().map(|f| f.0).collect();
    let monthly: Vec<bool> = fired.iter().map(|f| f.1).collect();
    assert_eq!(weekly, [true, false, false, false, false, true, false]);
    assert_eq!(monthly, [true, false, false, true, false, false, false]);
}

#[test]
fn the_benchmark_is_bought_at_the_first_close_and_held() {
    let u = one_symbol(&[dec!(50), dec!(51), dec!(52), dec!(53)]);
    let benchmark = vec![bar(1, dec!(200)), bar(2, dec!(250)), bar(3, dec!(150))];
    // No benchmark bar at step 0: cash until its first bar (step 1), then
    // 1000 × close / 200.
    assert_eq!(
        benchmark_curve(u.timeline(), &benchmark, dec!(1000)).unwrap(),
        [dec!(1000), dec!(1000), dec!(1250), dec!(750)]
    );
    let late = vec![bar(9, dec!(1))];
    assert!(benchmark_curve(u.timeline(), &late, dec!(1000)).unwrap_err().contains("no bar at or before"));

    // A daily benchmark beside hourly steps counts once its day is over:
    // day 0's close at the step ending at midnight (23:00), not before.
    const HOUR: i64 = DAY / 24;
    let hours: Vec<Timestamp> = (0..72).map(|h| Timestamp(h * HOUR)).collect();
    let daily = vec![bar(0, dec!(100)), bar(1, dec!(110)), bar(2, dec!(121))];
    let curve = benchmark_curve(&hours, &daily, dec!(1000)).unwrap();
    assert!(curve[..24].iter().all(|&v| v == dec!(1000)), "bought at day 0's close, known at its end");
    assert!(curve[24..47].iter().all(|&v| v == dec!(1000)), "day 1 is not over before 23:00");
    assert_eq!((curve[47], curve[70], curve[71]), (dec!(1100), dec!(1100), dec!(1210)));
    // A minute benchmark gives its close at the end of each hour.
    let minutes: Vec<Bar> =
        (0..72 * 60).map(|m| bar(0, Decimal::from(1000 + m)).with_ts(Timestamp(m * HOUR / 60))).collect();
    let curve = benchmark_curve(&hours, &minutes, dec!(1000)).unwrap();
    // Bought at 00:59's close (1059); at hour h the close of minute 60h + 59.
    assert_eq!(curve[0], dec!(1000));
    assert_eq!(curve[1], (dec!(1000) * dec!(1119) / dec!(1059)).round_dp(8));

    let mut config = RunConfig::new(BrokerConfig::with_cash(dec!(1000)), ParamOverrides::default());
    config.benchmark = Some(Benchmark { symbol: Symbol::new("SPY"), bars: std::sync::Arc::new(benchmark) });
    let report = run_probe(&u, &config, |_| Ok(()), |_| Ok(())).unwrap();
    let b = report.metrics.benchmark.as_ref().unwrap();
    assert_eq!(b.stats.return_pct, -25.0);
    assert_eq!(b.stats.final_equity, dec!(750));
    assert_eq!(report.benchmark.as_ref().unwrap().1.len(), 4);
    config.benchmark.as_mut().unwrap().bars = std::sync::Arc::new(late);
    let err = run_probe(&u, &config, |_| Ok(()), |_| Ok(())).unwrap_err().to_string();
    assert!(err.starts_with("benchmark SPY: has no bar"), "{err}");
}

#[test]
fn portfolio_calls_outside_on_bar_are_refused() {
    let u = one_symbol(&[dec!(10), dec!(11)]);
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(1000)), ParamOverrides::default());
    let err = run_probe(
        &u,
        &config,
        |ctx| {
            ctx.rebalance(&[(0, 1.0)])?;
            Ok(())
        },
        |_| Ok(()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains(&CtxError::BarOnly("placing an order").to_string()), "{err}");
}

#[test]
fn equal_weight_over_any_number_of_symbols_stays_within_the_leverage() {
    // 1/6 and 1/7 in floating point add up to a hair over 1 six or seven times.
    for n in [6usize, 7, 15, 18] {
        let names: Vec<String> = (0..n).map(|i| format!("S{i}")).collect();
        let u = Universe::new(
            names
                .iter()
                .map(|s| (Symbol::new(s), vec![bar(0, dec!(10)), bar(1, dec!(10)), bar(2, dec!(10))]))
                .collect(),
        )
        .unwrap();
        let config = RunConfig::new(BrokerConfig::with_cash(dec!(100000)), ParamOverrides::default());
        let symbols: Vec<usize> = (0..n).collect();
        let report = run_probe(
            &u,
            &config,
            |_| Ok(()),
            |ctx| {
                if ctx.step() == 0 {
                    ctx.equal_weight(&symbols)?;
                }
                Ok(())
            },
        )
        .unwrap();
        assert!(report.rejections.is_empty(), "{n}: {:?}", report.rejections);
        assert_eq!(report.trades.len(), n, "{n}: every symbol bought (and closed at the end)");
    }
}

#[test]
fn sizing_helpers_refuse_results_too_large_for_a_decimal() {
    let u = one_symbol(&[dec!(0.0001), dec!(0.0001)]);
    let config = RunConfig::new(BrokerConfig::with_cash(dec!(1e20)), ParamOverrides::default());
    let mut err = None;
    run_probe(
        &u,
        &config,
        |_| Ok(()),
        |ctx| {
            err.get_or_insert(ctx.qty_for_fraction(0, 1e12).unwrap_err().to_string());
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(err.as_deref(), Some("qty_for_fraction: the result is too large for an exact decimal"));
}
