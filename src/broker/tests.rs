//! Broker arithmetic against hand-computed cases.
//!
//! Invariants checked throughout: cash never goes negative through an
//! exposure-increasing fill; the sum of trade net PnL equals the change in
//! equity once everything is closed; fees are never negative.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::test_support::{bar, day, qty, step};
use super::*;
use crate::domain::Side;

fn broker(config: BrokerConfig) -> Broker {
    Broker::new(config, vec![Symbol::new("X")])
}

fn cash_only() -> BrokerConfig {
    BrokerConfig::with_cash(dec!(10000))
}

fn market(size: OrderSize) -> OrderRequest {
    OrderRequest::new(0, size, OrderKind::Market)
}

fn net_pnl_sum(b: &Broker) -> Decimal {
    b.trades().iter().map(|t| t.net_pnl).sum()
}

#[test]
fn market_order_fills_at_next_open_with_percent_commission() {
    let mut config = cash_only();
    config.commission = CommissionModel::Percent { rate: dec!(0.001) };
    let mut b = broker(config);
    step(&mut b, 0, bar(0, dec!(99), dec!(101), dec!(98), dec!(100)));
    b.submit(market(qty(Side::Buy, dec!(10))), 0, day(0)).unwrap();
    assert_eq!(b.cash(), dec!(10000), "nothing fills on the bar it was placed on");
    step(&mut b, 1, bar(1, dec!(102), dec!(105), dec!(101), dec!(104)));
    assert_eq!(b.cash(), dec!(8978.98)); // 10000 - 10*102 - 1.02 fee
    assert_eq!(b.equity(), dec!(10018.98)); // 8978.98 + 10*104
    b.submit(market(qty(Side::Sell, dec!(10))), 1, day(1)).unwrap();
    step(&mut b, 2, bar(2, dec!(110), dec!(111), dec!(109), dec!(110)));
    assert_eq!(b.cash(), dec!(10077.88)); // 8978.98 + 1100 - 1.10 fee
    let t = &b.trades()[0];
    assert_eq!(t.gross_pnl, dec!(80)); // (110 - 102) * 10
    assert_eq!(t.commission, dec!(2.12)); // 1.02 + 1.10
    assert_eq!(t.net_pnl, dec!(77.88));
    assert_eq!((t.entry_step, t.exit_step, t.duration_bars), (1, 2, 1));
    assert_eq!(t.duration_secs, 86_400);
    assert!((t.return_pct - 7.635294117647).abs() < 1e-9); // 77.88 / 1020 * 100
    assert_eq!(net_pnl_sum(&b), b.equity() - dec!(10000));
}

#[test]
fn slippage_moves_market_fills_against_the_trader() {
    let mut config = cash_only();
    config.slippage_bps = dec!(10);
    let mut b = broker(config);
    b.submit(market(qty(Side::Buy, dec!(1))), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(100), dec!(100), dec!(100), dec!(100)));
    assert_eq!(b.cash(), dec!(9899.9)); // buy at 100 * 1.001 = 100.1
    b.submit(market(qty(Side::Sell, dec!(1))), 1, day(1)).unwrap();
    step(&mut b, 2, bar(2, dec!(100), dec!(100), dec!(100), dec!(100)));
    assert_eq!(b.cash(), dec!(9999.8)); // sell at 100 * 0.999 = 99.9
    assert_eq!(b.trades()[0].net_pnl, dec!(-0.2));
}

#[test]
fn limit_buy_fills_at_limit_or_at_a_better_gap_open() {
    let mut b = broker(cash_only());
    let limit = |px| OrderRequest::new(0, qty(Side::Buy, dec!(1)), OrderKind::Limit(px));
    b.submit(limit(dec!(95)), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(100), dec!(101), dec!(96), dec!(97))); // low 96 > 95: no fill
    assert_eq!(b.open_orders().len(), 1);
    step(&mut b, 2, bar(2, dec!(97), dec!(98), dec!(94), dec!(95))); // low reaches 95
    assert_eq!(b.cash(), dec!(9905)); // filled at the limit, 95
    b.submit(limit(dec!(90)), 2, day(2)).unwrap();
    step(&mut b, 3, bar(3, dec!(88), dec!(89), dec!(87), dec!(88))); // gap below the limit
    assert_eq!(b.cash(), dec!(9817)); // filled at the open 88, better than 90
}

#[test]
fn limit_sell_fills_at_limit_or_better_and_slippage_never_crosses_it() {
    let mut config = cash_only();
    config.slippage_bps = dec!(100);
    let mut b = broker(config);
    b.submit(market(qty(Side::Buy, dec!(1))), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(100), dec!(100), dec!(100), dec!(100))); // buy at 101
    let sell = OrderRequest::new(0, qty(Side::Sell, dec!(1)), OrderKind::Limit(dec!(110)));
    b.submit(sell, 1, day(1)).unwrap();
    step(&mut b, 2, bar(2, dec!(105), dec!(111), dec!(104), dec!(108)));
    // base max(105, 110) = 110, slipped 110 * 0.99 = 108.9, capped back to the limit 110
    assert_eq!(b.trades()[0].exit_price, dec!(110));
}

#[test]
fn stop_orders_trigger_through_the_range_and_honour_gaps() {
    let mut b = broker(cash_only());
    let stop = |side, px| OrderRequest::new(0, qty(side, dec!(1)), OrderKind::Stop(px));
    b.submit(stop(Side::Buy, dec!(105)), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(100), dec!(104), dec!(99), dec!(103))); // high 104 < 105
    assert!(b.trades().is_empty() && b.position(0).qty.is_zero());
    step(&mut b, 2, bar(2, dec!(103), dec!(106), dec!(102), dec!(105))); // trades through 105
    assert_eq!(b.position(0).avg_price, Some(dec!(105)));
    b.submit(stop(Side::Sell, dec!(100)), 2, day(2)).unwrap();
    step(&mut b, 3, bar(3, dec!(95), dec!(96), dec!(94), dec!(95))); // gaps below the stop
    assert_eq!(b.trades()[0].exit_price, dec!(95)); // the worse open, not 100
    assert_eq!(b.trades()[0].net_pnl, dec!(-10));
    let mut b = broker(cash_only());
    b.submit(stop(Side::Buy, dec!(105)), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(108), dec!(110), dec!(107), dec!(109))); // gaps above the stop
    assert_eq!(b.position(0).avg_price, Some(dec!(108)));
}

#[test]
fn shorts_profit_when_the_price_falls() {
    let mut config = cash_only();
    config.commission = CommissionModel::Fixed { amount: dec!(1) };
    let mut b = broker(config);
    b.submit(market(qty(Side::Sell, dec!(10))), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(50), dec!(50), dec!(45), dec!(45)));
    assert_eq!(b.cash(), dec!(10499)); // 10000 + 500 proceeds - 1 fee
    assert_eq!(b.position(0).qty, dec!(-10));
    assert_eq!(b.position(0).unrealized_pnl, dec!(50)); // (45 - 50) * -10
    assert_eq!(b.equity(), dec!(10049)); // 10499 - 10 * 45
    b.submit(market(qty(Side::Buy, dec!(10))), 1, day(1)).unwrap();
    step(&mut b, 2, bar(2, dec!(40), dec!(41), dec!(39), dec!(40)));
    let t = &b.trades()[0];
    assert_eq!(t.side, crate::domain::PositionSide::Short);
    assert_eq!(t.gross_pnl, dec!(100)); // (50 - 40) * 10
    assert_eq!(t.net_pnl, dec!(98)); // 100 - 2 fees
    assert_eq!(b.cash(), dec!(10098));
}

#[test]
fn an_order_cash_cannot_cover_is_rejected_with_a_reason() {
    let mut b = broker(BrokerConfig::with_cash(dec!(1000)));
    b.submit(market(qty(Side::Buy, dec!(11))), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(100), dec!(100), dec!(100), dec!(100)));
    assert_eq!(b.cash(), dec!(1000));
    let r = &b.rejections()[0];
    assert_eq!(r.order_id, OrderId(1));
    assert!(r.reason.contains("needs 100 more equity"), "{}", r.reason); // 1100 - 1000
    assert!(b.open_orders().is_empty(), "a rejected order leaves the book");
}

#[test]
fn a_short_uses_buying_power_like_a_long_of_the_same_value() {
    let mut b = broker(BrokerConfig::with_cash(dec!(1000)));
    b.submit(market(qty(Side::Sell, dec!(10))), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(100), dec!(100), dec!(100), dec!(100))); // short 1000 of value
    assert_eq!(b.position(0).qty, dec!(-10));
    b.submit(market(qty(Side::Sell, dec!(1))), 1, day(1)).unwrap();
    step(&mut b, 2, bar(2, dec!(100), dec!(100), dec!(100), dec!(100)));
    assert_eq!(b.rejections().len(), 1, "no buying power is left for a bigger short");
    assert_eq!(b.position(0).qty, dec!(-10));
}

#[test]
fn target_percent_sizes_at_fill_time_in_whole_units_without_overspending() {
    let mut config = cash_only();
    config.commission = CommissionModel::Percent { rate: dec!(0.01) };
    let mut b = broker(config);
    b.submit(market(OrderSize::TargetPercent(dec!(1))), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(99), dec!(99), dec!(99), dec!(99)));
    // floor(10000 / (99 * 1.01)) = floor(100.01) = 100; cost 9900 + fee 99
    assert_eq!(b.position(0).qty, dec!(100));
    assert_eq!(b.cash(), dec!(1));
    b.submit(market(OrderSize::TargetPercent(dec!(0))), 1, day(1)).unwrap();
    step(&mut b, 2, bar(2, dec!(100), dec!(100), dec!(100), dec!(100)));
    assert!(b.position(0).qty.is_zero());
    assert_eq!(b.cash(), dec!(9901)); // 1 + 10000 - 100 fee
}

#[test]
fn fractional_runs_size_to_eight_places_and_whole_unit_runs_refuse_fractions() {
    let mut config = cash_only();
    config.fractional = true;
    let mut b = broker(config);
    b.submit(market(OrderSize::TargetPercent(dec!(0.5))), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(3), dec!(3), dec!(3), dec!(3)));
    assert_eq!(b.position(0).qty, dec!(1666.66666666)); // 5000 / 3, 8 places, rounded down
    let mut whole = broker(cash_only());
    let err = whole.submit(market(qty(Side::Buy, dec!(1.5))), 0, day(0)).unwrap_err();
    assert_eq!(err, BrokerError::FractionalQuantity(dec!(1.5)));
    assert!(whole.submit(market(qty(Side::Buy, dec!(0))), 0, day(0)).is_err());
}

#[test]
fn fifo_lots_split_fees_exactly() {
    let mut config = cash_only();
    config.commission = CommissionModel::Fixed { amount: dec!(1) };
    let mut b = broker(config);
    for (i, price) in [(0, dec!(100)), (1, dec!(110))] {
        b.submit(market(qty(Side::Buy, dec!(10))), i, day(i as i64)).unwrap();
        step(&mut b, i + 1, bar(i as i64 + 1, price, price, price, price));
    }
    b.submit(market(qty(Side::Sell, dec!(15))), 2, day(2)).unwrap();
    step(&mut b, 3, bar(3, dec!(120), dec!(120), dec!(120), dec!(120)));
    let t = b.trades();
    assert_eq!(t.len(), 2);
    // lot 1: 10 @100, its whole entry fee 1 + exit fee 1 * 10/15
    assert_eq!(t[0].qty, dec!(10));
    assert_eq!(t[0].commission, dec!(1.666666666667));
    assert_eq!(t[0].gross_pnl, dec!(200));
    // lot 2: 5 of 10 @110, half its entry fee 0.5 + the rest of the exit fee
    assert_eq!(t[1].qty, dec!(5));
    assert_eq!(t[1].commission, dec!(0.833333333333)); // 0.5 + (1 - 0.666666666667)
    assert_eq!(t[1].gross_pnl, dec!(50));
    b.finish(3, day(3));
    let end = &b.trades()[2];
    assert!(end.closed_at_end);
    assert_eq!(end.commission, dec!(1.5)); // remaining entry fee 0.5 + closing fee 1
    assert_eq!(b.commission_total(), dec!(4)); // 4 fills at 1
    assert_eq!(net_pnl_sum(&b), b.cash() - dec!(10000));
}

#[test]
fn a_fill_through_zero_closes_the_long_and_opens_a_short() {
    let mut b = broker(cash_only());
    b.submit(market(qty(Side::Buy, dec!(5))), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(10), dec!(10), dec!(10), dec!(10)));
    b.submit(market(qty(Side::Sell, dec!(8))), 1, day(1)).unwrap();
    step(&mut b, 2, bar(2, dec!(12), dec!(12), dec!(12), dec!(12)));
    assert_eq!(b.trades().len(), 1);
    assert_eq!(b.trades()[0].gross_pnl, dec!(10)); // (12 - 10) * 5
    assert_eq!(b.position(0).qty, dec!(-3));
    assert_eq!(b.position(0).avg_price, Some(dec!(12)));
}

#[test]
fn finish_cancels_open_orders_and_closes_at_the_last_close() {
    let mut config = cash_only();
    config.commission = CommissionModel::PerUnit { per_unit: dec!(0.01), minimum: dec!(2) };
    let mut b = broker(config);
    b.submit(market(qty(Side::Buy, dec!(10))), 0, day(0)).unwrap();
    step(&mut b, 1, bar(1, dec!(20), dec!(22), dec!(19), dec!(21)));
    let limit = OrderRequest::new(0, qty(Side::Buy, dec!(1)), OrderKind::Limit(dec!(1)));
    b.submit(limit, 1, day(1)).unwrap();
    b.finish(1, day(1));
    assert_eq!(b.cancelled_at_end(), 1);
    let t = &b.trades()[0];
    assert!(t.closed_at_end);
    assert_eq!(t.exit_price, dec!(21));
    assert_eq!(t.net_pnl, dec!(6)); // (21 - 20) * 10 - 2 min fee twice
    assert_eq!(b.cash(), dec!(10006));
}

#[test]
fn trade_on_close_fills_market_orders_at_the_close_of_their_bar() {
    let mut config = cash_only();
    config.trade_on_close = true;
    let mut b = broker(config);
    let fresh = [bar(0, dec!(10), dec!(12), dec!(9), dec!(11))];
    b.on_bar_open(0, day(0), &fresh);
    b.submit(market(qty(Side::Buy, dec!(2))), 0, day(0)).unwrap();
    b.on_bar_close(0, day(0), &fresh);
    assert_eq!(b.position(0).avg_price, Some(dec!(11)));
    assert_eq!(b.cash(), dec!(9978));
}

#[test]
fn orders_wait_for_their_symbols_next_bar() {
    let mut b = Broker::new(cash_only(), vec![Symbol::new("A"), Symbol::new("B")]);
    let buy_b = OrderRequest::new(1, qty(Side::Buy, dec!(1)), OrderKind::Market);
    b.submit(buy_b, 0, day(0)).unwrap();
    b.on_bar_open(1, day(1), &[bar(1, dec!(5), dec!(5), dec!(5), dec!(5)), None]);
    assert_eq!(b.open_orders().len(), 1, "B has no bar at step 1");
    b.on_bar_open(2, day(2), &[None, bar(2, dec!(7), dec!(7), dec!(7), dec!(7))]);
    assert_eq!(b.position(1).avg_price, Some(dec!(7)));
}

#[test]
fn cancel_removes_only_open_orders() {
    let mut b = broker(cash_only());
    let id = b.submit(market(qty(Side::Buy, dec!(1))), 0, day(0)).unwrap();
    assert!(b.cancel(id));
    assert!(!b.cancel(id));
    b.submit(market(qty(Side::Buy, dec!(1))), 0, day(0)).unwrap();
    b.submit(market(qty(Side::Buy, dec!(1))), 0, day(0)).unwrap();
    assert_eq!(b.cancel_all(None), 2);
}
