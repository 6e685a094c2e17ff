//! Brackets, trailing stops, margin and rebalancing against hand-computed
//! cases.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::test_support::{bar, day, flat, one, qty, step_all as step};
use super::*;
use crate::domain::{PositionSide, Side};

fn bracket(side: Side, n: Decimal, exits: Exits) -> OrderRequest {
    OrderRequest { symbol: 0, size: qty(side, n), kind: OrderKind::Market, exits }
}

fn cash(amount: Decimal) -> BrokerConfig {
    BrokerConfig::with_cash(amount)
}

fn stop_and_target(stop: Decimal, target: Decimal) -> Exits {
    Exits { stop_loss: Some(ExitLevel::Price(stop)), take_profit: Some(ExitLevel::Price(target)), trailing: None }
}

fn net_pnl_sum(b: &Broker) -> Decimal {
    b.trades().iter().map(|t| t.net_pnl).sum()
}

#[test]
fn a_bracket_target_fills_and_cancels_its_stop() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(bracket(Side::Buy, dec!(10), stop_and_target(dec!(95), dec!(110))), 0, day(0)).unwrap();
    step(&mut b, 1, &[bar(1, dec!(100), dec!(104), dec!(99), dec!(103))]);
    assert_eq!(b.position(0).qty, dec!(10));
    assert_eq!(b.open_orders().len(), 2, "stop and target wait");
    assert!(b.open_orders().iter().all(|o| o.oco == Some(OrderId(1)) && o.reduce_only()));
    step(&mut b, 2, &[bar(2, dec!(105), dec!(112), dec!(104), dec!(111))]);
    let t = &b.trades()[0];
    assert_eq!(t.exit_price, dec!(110)); // limit sell: max(open 105, 110)
    assert_eq!(t.exit_reason, ExitReason::TakeProfit);
    assert_eq!(t.net_pnl, dec!(100)); // (110 - 100) * 10
    assert!(b.open_orders().is_empty(), "the stop went with the target");
    assert_eq!(b.cash(), dec!(10100));
}

#[test]
fn when_stop_and_target_are_both_inside_one_bar_the_stop_fills() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(bracket(Side::Buy, dec!(10), stop_and_target(dec!(95), dec!(110))), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]);
    step(&mut b, 2, &[bar(2, dec!(100), dec!(115), dec!(90), dec!(112))]);
    let t = &b.trades()[0];
    assert_eq!(t.exit_reason, ExitReason::StopLoss);
    assert_eq!(t.exit_price, dec!(95)); // stop sell: min(open 100, 95)
    assert_eq!(t.net_pnl, dec!(-50));
    assert!(b.open_orders().is_empty());
}

#[test]
fn a_gap_beyond_the_target_fills_the_target_at_the_open() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(bracket(Side::Buy, dec!(10), stop_and_target(dec!(95), dec!(110))), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]);
    // Opens at 112 (above the target), then trades down through the stop.
    step(&mut b, 2, &[bar(2, dec!(112), dec!(113), dec!(90), dec!(91))]);
    let t = &b.trades()[0];
    assert_eq!(t.exit_reason, ExitReason::TakeProfit);
    assert_eq!(t.exit_price, dec!(112));
}

#[test]
fn exits_of_a_market_entry_watch_its_first_bar_and_use_fractions_of_the_fill() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    let exits = Exits {
        stop_loss: Some(ExitLevel::Fraction(dec!(0.02))),
        take_profit: Some(ExitLevel::Fraction(dec!(0.05))),
        trailing: None,
    };
    b.submit(bracket(Side::Sell, dec!(10), exits), 0, day(0)).unwrap();
    // Short at 100: stop 102, target 95. The entry bar reaches 103.
    step(&mut b, 1, &[bar(1, dec!(100), dec!(103), dec!(99), dec!(101))]);
    let t = &b.trades()[0];
    assert_eq!(t.side, PositionSide::Short);
    assert_eq!(t.exit_reason, ExitReason::StopLoss);
    assert_eq!(t.exit_price, dec!(102.00)); // stop buy: max(open 100, 102)
    assert_eq!(t.net_pnl, dec!(-20));
    assert!(b.position(0).qty.is_zero());
}

#[test]
fn exits_of_a_limit_entry_start_on_the_next_bar() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    let request = OrderRequest {
        symbol: 0,
        size: qty(Side::Buy, dec!(1)),
        kind: OrderKind::Limit(dec!(98)),
        exits: stop_and_target(dec!(96), dec!(104)),
    };
    b.submit(request, 0, day(0)).unwrap();
    // Fills at 98; the bar also reaches 95 but where it did so is unknown.
    step(&mut b, 1, &[bar(1, dec!(100), dec!(100), dec!(95), dec!(97))]);
    assert_eq!(b.position(0).qty, dec!(1));
    assert!(b.trades().is_empty());
    step(&mut b, 2, &[bar(2, dec!(97), dec!(105), dec!(97), dec!(104))]);
    assert_eq!(b.trades()[0].exit_reason, ExitReason::TakeProfit);
    assert_eq!(b.trades()[0].exit_price, dec!(104));
}

#[test]
fn exits_shrink_to_the_position_and_vanish_when_it_is_closed() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(bracket(Side::Buy, dec!(10), stop_and_target(dec!(90), dec!(120))), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]);
    b.submit(OrderRequest::new(0, qty(Side::Sell, dec!(4)), OrderKind::Market), 1, day(1)).unwrap();
    step(&mut b, 2, &[flat(2, dec!(101))]);
    assert_eq!(b.position(0).qty, dec!(6));
    step(&mut b, 3, &[bar(3, dec!(100), dec!(100), dec!(80), dec!(85))]);
    assert_eq!(b.trades().len(), 2);
    assert_eq!(b.trades()[1].qty, dec!(6), "the stop sold what was left, not 10");
    assert!(b.position(0).qty.is_zero(), "no short was opened");

    // Closing the position by hand removes the exits.
    step(&mut b, 4, &[flat(4, dec!(100))]);
    b.submit(bracket(Side::Buy, dec!(5), stop_and_target(dec!(90), dec!(120))), 4, day(4)).unwrap();
    step(&mut b, 5, &[flat(5, dec!(100))]);
    assert_eq!(b.open_orders().len(), 2);
    b.submit(OrderRequest::new(0, OrderSize::TargetPercent(Decimal::ZERO), OrderKind::Market), 5, day(5)).unwrap();
    step(&mut b, 6, &[flat(6, dec!(100))]);
    assert!(b.open_orders().is_empty());
    assert_eq!(net_pnl_sum(&b), b.cash() - dec!(10000));
}

#[test]
fn a_trailing_stop_follows_the_high_and_fills_where_it_stands() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    let exits = Exits { trailing: Some(TrailOffset::Amount(dec!(5))), ..Exits::default() };
    b.submit(bracket(Side::Buy, dec!(2), exits), 0, day(0)).unwrap();
    // Entry at 100: stop 95. This bar's high 108 moves it to 103 after the check.
    step(&mut b, 1, &[bar(1, dec!(100), dec!(108), dec!(97), dec!(107))]);
    assert!(b.trades().is_empty());
    let stop = |b: &Broker| match b.open_orders()[0].kind {
        OrderKind::TrailingStop { stop, .. } => stop,
        other => panic!("{other:?}"),
    };
    assert_eq!(stop(&b), dec!(103));
    step(&mut b, 2, &[bar(2, dec!(107), dec!(110), dec!(106), dec!(109))]);
    assert_eq!(stop(&b), dec!(105));
    step(&mut b, 3, &[bar(3, dec!(108), dec!(108), dec!(101), dec!(102))]);
    let t = &b.trades()[0];
    assert_eq!(t.exit_reason, ExitReason::TrailingStop);
    assert_eq!(t.exit_price, dec!(105));
    assert_eq!(t.net_pnl, dec!(10)); // (105 - 100) * 2
}

#[test]
fn a_trailing_stop_by_fraction_on_a_short() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(200))]);
    let kind = b.trailing_stop(0, Side::Buy, TrailOffset::Fraction(dec!(0.1))).unwrap();
    assert_eq!(
        kind,
        OrderKind::TrailingStop { offset: TrailOffset::Fraction(dec!(0.1)), stop: dec!(220.0), extreme: dec!(200) }
    );
    b.submit(OrderRequest::new(0, qty(Side::Sell, dec!(1)), OrderKind::Market), 0, day(0)).unwrap();
    b.submit(OrderRequest::new(0, qty(Side::Buy, dec!(1)), kind), 0, day(0)).unwrap();
    step(&mut b, 1, &[bar(1, dec!(200), dec!(205), dec!(150), dec!(160))]); // low 150 → stop 165
    step(&mut b, 2, &[bar(2, dec!(170), dec!(171), dec!(160), dec!(168))]); // opens above 165: fills at the open
    let t = &b.trades()[0];
    assert_eq!(t.exit_price, dec!(170));
    assert_eq!(t.exit_reason, ExitReason::Signal, "a plain trailing stop is the strategy's own order");
    assert_eq!(t.gross_pnl, dec!(30));
}

#[test]
fn bad_exits_and_offsets_are_refused() {
    let mut b = one(cash(dec!(10000)));
    let bad = |exits| bracket(Side::Buy, dec!(1), exits);
    let e = b.submit(bad(Exits { stop_loss: Some(ExitLevel::Fraction(dec!(1))), ..Exits::default() }), 0, day(0));
    assert!(e.unwrap_err().to_string().contains("stop-loss fraction"));
    let e = b.submit(bad(Exits { take_profit: Some(ExitLevel::Price(dec!(0))), ..Exits::default() }), 0, day(0));
    assert!(e.unwrap_err().to_string().contains("take-profit price"));
    let both = Exits {
        stop_loss: Some(ExitLevel::Price(dec!(1))),
        trailing: Some(TrailOffset::Amount(dec!(1))),
        take_profit: None,
    };
    assert!(b.submit(bad(both), 0, day(0)).is_err());
    assert_eq!(b.trailing_stop(0, Side::Sell, TrailOffset::Amount(dec!(1))), Err(BrokerError::NoPriceYet(0)));
    step(&mut b, 0, &[flat(0, dec!(10))]);
    assert!(b.trailing_stop(0, Side::Sell, TrailOffset::Fraction(dec!(1.5))).is_err());
    assert!(b.trailing_stop(0, Side::Sell, TrailOffset::Amount(dec!(-1))).is_err());
}

#[test]
fn leverage_allows_more_exposure_than_cash() {
    let mut config = cash(dec!(1000));
    config.leverage = dec!(2);
    let mut b = one(config);
    b.submit(OrderRequest::new(0, qty(Side::Buy, dec!(20)), OrderKind::Market), 0, day(0)).unwrap();
    b.submit(OrderRequest::new(0, qty(Side::Buy, dec!(1)), OrderKind::Market), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]);
    // 20 × 100 = 2000 = 2 × equity 1000; one more unit does not fit.
    assert_eq!(b.position(0).qty, dec!(20));
    assert_eq!(b.cash(), dec!(-1000));
    assert_eq!(b.equity(), dec!(1000));
    assert!(b.rejections()[0].reason.contains("needs 50 more equity"), "{}", b.rejections()[0].reason);
}

#[test]
fn a_margin_call_liquidates_at_the_close_and_is_recorded() {
    let mut config = cash(dec!(1000));
    config.leverage = dec!(2);
    config.maintenance_margin = dec!(0.25);
    config.commission = CommissionModel::Fixed { amount: dec!(1) };
    let mut b = one(config);
    b.submit(OrderRequest::new(0, qty(Side::Buy, dec!(19)), OrderKind::Market), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]); // cash 1000 - 1900 - 1 = -901
                                            // At 64: equity = -901 + 1216 = 315 ≥ 0.25 × 1216 = 304.
    step(&mut b, 2, &[flat(2, dec!(64))]);
    assert!(b.margin_calls().is_empty());
    // At 63: equity = -901 + 1197 = 296 < 0.25 × 1197 = 299.25.
    b.submit(OrderRequest::new(0, qty(Side::Buy, dec!(1)), OrderKind::Limit(dec!(1))), 2, day(2)).unwrap();
    step(&mut b, 3, &[bar(3, dec!(64), dec!(64), dec!(63), dec!(63))]);
    let call = &b.margin_calls()[0];
    assert_eq!((call.step, call.equity, call.requirement, call.orders_cancelled), (3, dec!(296), dec!(299.25), 1));
    let t = &b.trades()[0];
    assert_eq!(t.exit_reason, ExitReason::MarginCall);
    assert_eq!(t.exit_price, dec!(63));
    assert_eq!(t.net_pnl, dec!(-705)); // (63 - 100) × 19 - 2 fees
    assert_eq!(b.cash(), dec!(295)); // -901 + 1197 - 1
    assert!(b.position(0).qty.is_zero() && b.open_orders().is_empty());
}

#[test]
fn a_short_whose_losses_exceed_equity_is_liquidated_even_without_maintenance() {
    let mut b = one(cash(dec!(1000)));
    b.submit(OrderRequest::new(0, qty(Side::Sell, dec!(5)), OrderKind::Market), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]); // cash 1500, 500 short
    step(&mut b, 2, &[flat(2, dec!(290))]); // equity 1500 - 1450 = 50
    assert!(b.margin_calls().is_empty());
    step(&mut b, 3, &[flat(3, dec!(301))]); // equity 1500 - 1505 = -5 < 0
    assert_eq!(b.margin_calls().len(), 1);
    assert_eq!(b.trades()[0].exit_reason, ExitReason::MarginCall);
    assert_eq!(b.cash(), dec!(-5));
}

#[test]
fn margin_settings_are_checked() {
    let mut config = cash(dec!(1000));
    config.leverage = dec!(0.5);
    assert!(config.check().unwrap_err().to_string().contains("leverage"));
    config.leverage = dec!(4);
    config.maintenance_margin = dec!(0.3);
    assert!(config
        .check()
        .unwrap_err()
        .to_string()
        .contains("maintenance_margin must be between 0 and 1/leverage (0.25)"));
    config.maintenance_margin = dec!(0.25);
    config.max_positions = Some(0);
    assert!(config.check().unwrap_err().to_string().contains("max_positions"));
    config.max_positions = Some(1);
    assert_eq!(config.check(), Ok(()));
}

fn three() -> Broker {
    Broker::new(cash(dec!(3000)), vec![Symbol::new("A"), Symbol::new("B"), Symbol::new("C")])
}

fn target(symbol: usize, fraction: Decimal) -> OrderRequest {
    OrderRequest::new(symbol, OrderSize::TargetPercent(fraction), OrderKind::Market)
}

#[test]
fn a_rebalance_sells_before_it_buys_so_cash_suffices() {
    let mut b = three();
    let prices = |i, a, b, c| [flat(i, a), flat(i, b), flat(i, c)];
    step(&mut b, 0, &prices(0, dec!(10), dec!(10), dec!(10)));
    b.submit(target(0, dec!(0.5)), 0, day(0)).unwrap();
    b.submit(target(1, dec!(0.5)), 0, day(0)).unwrap();
    step(&mut b, 1, &prices(1, dec!(10), dec!(10), dec!(10)));
    assert_eq!((b.position(0).qty, b.position(1).qty, b.cash()), (dec!(150), dec!(150), dec!(0)));
    // Rotate into C, placing the purchase first: it still fills after the sales.
    b.submit(target(2, dec!(0.5)), 1, day(1)).unwrap();
    b.submit(target(1, dec!(0.5)), 1, day(1)).unwrap();
    b.submit(target(0, dec!(0)), 1, day(1)).unwrap();
    step(&mut b, 2, &prices(2, dec!(12), dec!(10), dec!(20)));
    // Equity at the open: 150 × 12 + 150 × 10 = 3300. A sold for 1800;
    // B keeps 150 (0.5 × 3300 / 10 = 165 would buy 15 more: B is a buy);
    // C gets floor(1650 / 20) = 82 → 1640, B then buys 15 for 150 → cash 10.
    assert_eq!(b.position(0).qty, dec!(0));
    assert_eq!(b.position(2).qty, dec!(82));
    assert_eq!(b.position(1).qty, dec!(165));
    assert_eq!(b.cash(), dec!(10));
    assert!(b.rejections().is_empty());
}

#[test]
fn max_positions_rejects_a_new_position_beyond_the_limit() {
    let mut config = cash(dec!(3000));
    config.max_positions = Some(2);
    let mut b = Broker::new(config, vec![Symbol::new("A"), Symbol::new("B"), Symbol::new("C")]);
    let prices = |i| [flat(i, dec!(10)), flat(i, dec!(10)), flat(i, dec!(10))];
    for s in 0..3 {
        b.submit(target(s, dec!(0.3)), 0, day(0)).unwrap();
    }
    step(&mut b, 1, &prices(1));
    assert_eq!(b.open_positions(), 2);
    assert!(b.rejections()[0].reason.contains("max_positions (2) reached"));
    // Closing A makes room for C within the same step.
    b.submit(target(2, dec!(0.3)), 1, day(1)).unwrap();
    b.submit(target(0, dec!(0)), 1, day(1)).unwrap();
    step(&mut b, 2, &prices(2));
    assert_eq!((b.position(0).qty, b.position(2).qty), (dec!(0), dec!(90)));
}

#[test]
fn exits_go_when_their_position_turns_to_the_other_side() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(bracket(Side::Buy, dec!(5), stop_and_target(dec!(90), dec!(120))), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]);
    assert_eq!(b.open_orders().len(), 2);
    // Sell 8: the long of 5 becomes a short of 3; the sell exits have nothing to exit.
    b.submit(OrderRequest::new(0, qty(Side::Sell, dec!(8)), OrderKind::Market), 1, day(1)).unwrap();
    step(&mut b, 2, &[flat(2, dec!(100))]);
    assert_eq!(b.position(0).qty, dec!(-3));
    assert!(b.open_orders().is_empty(), "{:?}", b.open_orders());
}

#[test]
fn exit_fractions_are_bounded() {
    let mut b = one(cash(dec!(10000)));
    let huge = Exits { take_profit: Some(ExitLevel::Fraction(dec!(1000))), ..Exits::default() };
    let err = b.submit(bracket(Side::Buy, dec!(1), huge), 0, day(0)).unwrap_err().to_string();
    assert!(err.contains("take-profit fraction must be above 0 and at most 100"), "{err}");
}

#[test]
fn a_market_exit_at_the_open_comes_before_exits_the_bar_reaches_later() {
    // The strategy sells at the open (100); the same bar later falls to the
    // stop (95). The market order happened first: the stop has nothing left.
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(bracket(Side::Buy, dec!(10), stop_and_target(dec!(95), dec!(110))), 0, day(0)).unwrap();
    step(&mut b, 1, &[bar(1, dec!(100), dec!(104), dec!(99), dec!(103))]);
    b.submit(OrderRequest::new(0, qty(Side::Sell, dec!(10)), OrderKind::Market), 1, day(1)).unwrap();
    step(&mut b, 2, &[bar(2, dec!(100), dec!(101), dec!(94), dec!(96))]);
    assert!(b.position(0).qty.is_zero(), "no short was opened");
    assert_eq!(b.trades().len(), 1);
    assert_eq!(b.trades()[0].exit_price, dec!(100));
    assert_eq!(b.trades()[0].exit_reason, ExitReason::Signal);
    assert!(b.open_orders().is_empty());

    // Nor may a target the bar reaches after its open book a better price
    // than the open where the strategy sold.
    step(&mut b, 3, &[flat(3, dec!(100))]);
    b.submit(bracket(Side::Buy, dec!(10), stop_and_target(dec!(90), dec!(105))), 3, day(3)).unwrap();
    step(&mut b, 4, &[flat(4, dec!(100))]);
    b.submit(OrderRequest::new(0, qty(Side::Sell, dec!(10)), OrderKind::Market), 4, day(4)).unwrap();
    step(&mut b, 5, &[bar(5, dec!(101), dec!(107), dec!(100), dec!(106))]);
    assert!(b.position(0).qty.is_zero());
    assert_eq!(b.trades()[1].exit_price, dec!(101));
    assert_eq!(b.trades()[1].exit_reason, ExitReason::Signal);
    assert_eq!(net_pnl_sum(&b), b.cash() - dec!(10000));
}

#[test]
fn exits_of_a_closed_position_never_act_on_one_reopened_in_the_same_step() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(bracket(Side::Buy, dec!(10), stop_and_target(dec!(95), dec!(110))), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]);
    // Close and re-enter the same way with new exits, in one step.
    b.submit(OrderRequest::new(0, qty(Side::Sell, dec!(10)), OrderKind::Market), 1, day(1)).unwrap();
    b.submit(bracket(Side::Buy, dec!(10), stop_and_target(dec!(90), dec!(120))), 1, day(1)).unwrap();
    step(&mut b, 2, &[flat(2, dec!(100))]);
    assert_eq!(b.position(0).qty, dec!(10));
    let levels: Vec<OrderKind> = b.open_orders().iter().map(|o| o.kind).collect();
    assert_eq!(levels, [OrderKind::Stop(dec!(90)), OrderKind::Limit(dec!(120))], "only the new exits are left");
    // A bar down to 94 reaches the old stop (95) but not the new one (90).
    step(&mut b, 3, &[bar(3, dec!(100), dec!(100), dec!(94), dec!(96))]);
    assert_eq!(b.position(0).qty, dec!(10));
    assert_eq!(b.trades().len(), 1);

    // The same when the old exits come later in the step than the re-entry:
    // an exit is tied to the opening it protects, not to the symbol.
    let mut ledger = Ledger::new(dec!(1000), 1);
    let x = Symbol::new("X");
    let fill =
        |delta, price| Fill { delta, price, fee: Decimal::ZERO, step: 0, ts: day(0), reason: ExitReason::Signal };
    ledger.fill(0, &x, fill(dec!(2), dec!(10)));
    let first = ledger.opening(0);
    ledger.fill(0, &x, fill(dec!(1), dec!(10)));
    assert_eq!(ledger.opening(0), first, "growing keeps the opening");
    ledger.fill(0, &x, fill(dec!(-1), dec!(10)));
    assert_eq!(ledger.opening(0), first, "shrinking keeps it");
    ledger.fill(0, &x, fill(dec!(-2), dec!(10)));
    ledger.fill(0, &x, fill(dec!(2), dec!(10)));
    let second = ledger.opening(0);
    assert_ne!(second, first, "flat then open again is a new opening");
    ledger.fill(0, &x, fill(dec!(-5), dec!(10)));
    assert_ne!(ledger.opening(0), second, "turning short is a new opening");
}

#[test]
fn a_target_percent_flip_is_cut_to_what_the_margin_carries() {
    // Long 100 at 100 with 10 of cash left: equity 10 010. Short all of it:
    // floor(10 010 / (100 × 1.001)) = 100, a sell of 200 whose fee (20)
    // leaves equity 9 990 for a short needing 10 000. The largest short
    // that fits is 99: a sell of 199, fee 19.9, equity 9 990.1 ≥ 9 900.
    let mut c = cash(dec!(10020));
    c.commission = CommissionModel::Percent { rate: dec!(0.001) };
    let mut b = one(c);
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(OrderRequest::new(0, qty(Side::Buy, dec!(100)), OrderKind::Market), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]);
    b.submit(target(0, dec!(-1)), 1, day(1)).unwrap();
    step(&mut b, 2, &[flat(2, dec!(100))]);
    assert!(b.rejections().is_empty(), "{:?}", b.rejections());
    assert_eq!(b.position(0).qty, dec!(-99));
    assert_eq!(b.cash(), dec!(10) + dec!(19900) - dec!(19.9));
}

#[test]
fn a_levered_target_percent_with_fees_is_cut_to_what_the_margin_carries() {
    // Leverage 2, fee 0.1 %, 10 000 of cash, price 100, fractional: the
    // fee-inclusive size floor(20 000 / 100.1) = 199.80019980 leaves equity
    // 10 000 − 19.98001998 below half its value (9 990.00999). The largest
    // q with 10 000 − 0.1 q ≥ 50 q is 10 000 / 50.1 = 199.60079840 (to 8 places).
    let mut c = cash(dec!(10000));
    c.commission = CommissionModel::Percent { rate: dec!(0.001) };
    c.leverage = dec!(2);
    c.fractional = true;
    let mut b = one(c);
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(target(0, dec!(2)), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]);
    assert!(b.rejections().is_empty(), "{:?}", b.rejections());
    let q = b.position(0).qty;
    assert_eq!(q, dec!(199.60079840));
    let equity_after = dec!(10000) - q * dec!(100) * dec!(0.001);
    assert!(equity_after >= q * dec!(50));
    let one_more = q + dec!(0.00000001);
    assert!(dec!(10000) - one_more * dec!(0.1) < one_more * dec!(50), "the largest that fits");
}

#[test]
fn target_percent_orders_fit_the_margin_under_every_fee_model() {
    let models = [
        CommissionModel::None,
        CommissionModel::Percent { rate: dec!(0.0025) },
        CommissionModel::PerUnit { per_unit: dec!(0.01), minimum: dec!(1) },
        CommissionModel::Fixed { amount: dec!(5) },
    ];
    for commission in models {
        for leverage in [dec!(1), dec!(2), dec!(3.5)] {
            for (fractional, slippage) in [(false, dec!(0)), (true, dec!(0)), (false, dec!(7)), (true, dec!(7))] {
                let mut c = cash(dec!(10000));
                (c.commission, c.leverage, c.fractional, c.slippage_bps) = (commission, leverage, fractional, slippage);
                let mut b = one(c);
                step(&mut b, 0, &[flat(0, dec!(100))]);
                // All in long, then all in short (a flip), then long again.
                for (i, fraction) in [leverage, -leverage, leverage].into_iter().enumerate() {
                    b.submit(target(0, fraction), i, day(i as i64)).unwrap();
                    step(&mut b, i + 1, &[flat(i as i64 + 1, dec!(100) + Decimal::from(i))]);
                    let case = format!(
                        "{commission:?} leverage {leverage} fractional {fractional} slippage {slippage} step {i}"
                    );
                    assert!(b.rejections().is_empty(), "{case}: {:?}", b.rejections());
                    let qty = b.position(0).qty;
                    assert!(!qty.is_zero() && qty.is_sign_positive() == fraction.is_sign_positive(), "{case}: {qty}");
                    // Marked at the fill price (the close, without slippage), the account carries it.
                    let price = dec!(100) + Decimal::from(i);
                    let free = b.margin_free_after(0, Decimal::ZERO, price, Decimal::ZERO);
                    assert!(slippage > Decimal::ZERO || free >= Decimal::ZERO, "{case}: {free}");
                }
            }
        }
    }
}

#[test]
fn unrealized_pnl_is_exact_where_the_average_price_is_not() {
    // 1 at 10 and 2 at 11: the average 32/3 has no exact decimal, the PnL at 12 is 4.
    let mut ledger = Ledger::new(dec!(1000), 1);
    let x = Symbol::new("X");
    let fill =
        |delta, price| Fill { delta, price, fee: Decimal::ZERO, step: 0, ts: day(0), reason: ExitReason::Signal };
    ledger.fill(0, &x, fill(dec!(1), dec!(10)));
    ledger.fill(0, &x, fill(dec!(2), dec!(11)));
    assert_eq!(ledger.position_view(0, Some(dec!(12))).unrealized_pnl, dec!(4));
    let mut short = Ledger::new(dec!(1000), 1);
    short.fill(0, &x, fill(dec!(-1), dec!(10)));
    short.fill(0, &x, fill(dec!(-2), dec!(11)));
    assert_eq!(short.position_view(0, Some(dec!(12))).unrealized_pnl, dec!(-4));
    assert_eq!(short.position_view(0, Some(dec!(9))).unrealized_pnl, dec!(5));
}

#[test]
fn quantities_and_fills_beyond_the_engine_s_range_are_refused_not_overflowed() {
    let mut b = one(cash(dec!(10000)));
    step(&mut b, 0, &[flat(0, dec!(100))]);
    let huge = OrderRequest::new(0, qty(Side::Buy, dec!(1e27)), OrderKind::Market);
    assert!(matches!(b.submit(huge, 0, day(0)), Err(BrokerError::QuantityTooLarge(_))));
    let most = Decimal::from(MAX_ORDER_QUANTITY);
    b.submit(OrderRequest::new(0, qty(Side::Sell, most), OrderKind::Market), 0, day(0)).unwrap();
    // 10^15 units at 10^10 is beyond one fill's limit (10^24): refused with the reason, no panic.
    step(&mut b, 1, &[flat(1, dec!(10000000000))]);
    assert!(b.position(0).qty.is_zero());
    assert!(b.rejections()[0].reason.contains("worth more than one fill may"), "{:?}", b.rejections());
    // At 100 the same order is only refused for want of margin.
    b.submit(OrderRequest::new(0, qty(Side::Sell, most), OrderKind::Market), 1, day(1)).unwrap();
    step(&mut b, 2, &[flat(2, dec!(100))]);
    assert!(b.rejections()[1].reason.contains("insufficient buying power"), "{:?}", b.rejections());
}

#[test]
fn a_target_percent_top_up_the_margin_cannot_carry_is_refused_not_turned_into_an_empty_fill() {
    // Leverage 2, a fixed fee of 5: long 199 at 100 (equity 10 003 after
    // fees); a target of 2 asks for 200, whose margin falls 2 short, and
    // no position above 199 fits: refused, nothing charged.
    let mut c = cash(dec!(10008));
    (c.leverage, c.commission) = (dec!(2), CommissionModel::Fixed { amount: dec!(5) });
    let mut b = one(c);
    step(&mut b, 0, &[flat(0, dec!(100))]);
    b.submit(OrderRequest::new(0, qty(Side::Buy, dec!(199)), OrderKind::Market), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100))]);
    let cash_before = b.cash();
    b.submit(target(0, dec!(2)), 1, day(1)).unwrap();
    step(&mut b, 2, &[flat(2, dec!(100))]);
    assert_eq!(b.position(0).qty, dec!(199));
    assert_eq!(b.cash(), cash_before, "no fee without a fill");
    assert_eq!(b.rejections().len(), 1, "{:?}", b.rejections());
    assert!(b.rejections()[0].reason.contains("insufficient buying power"));
}

#[test]
fn a_stop_the_bar_opens_beyond_fills_at_the_open_with_the_market_orders_and_frees_their_cash() {
    // All in A with a stop at 95; A opens at 90, through the stop: it sold at
    // the open, as the market buy of B did, and a sale goes first.
    let mut b = three();
    step(&mut b, 0, &[flat(0, dec!(100)), flat(0, dec!(100)), flat(0, dec!(100))]);
    let stop_only = Exits { stop_loss: Some(ExitLevel::Price(dec!(95))), take_profit: None, trailing: None };
    b.submit(bracket(Side::Buy, dec!(30), stop_only), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, dec!(100)), flat(1, dec!(100)), flat(1, dec!(100))]);
    assert_eq!(b.cash(), dec!(0));
    b.submit(OrderRequest::new(1, qty(Side::Buy, dec!(20)), OrderKind::Market), 1, day(1)).unwrap();
    step(&mut b, 2, &[flat(2, dec!(90)), flat(2, dec!(100)), flat(2, dec!(100))]);
    assert!(b.rejections().is_empty(), "{:?}", b.rejections());
    assert_eq!((b.position(0).qty, b.position(1).qty), (dec!(0), dec!(20)));
    assert_eq!(b.trades()[0].exit_price, dec!(90));
    assert_eq!(b.cash(), dec!(700));
}

/// Cash 10 000 all in B at 16 (fills at the next open), then on step 2 a
/// sale of B and a target of all of it in A; B has no bar on step 3, so its
/// sale waits and A's target must fit the cash left beside B.
fn rotation_while_a_sale_waits(commission: CommissionModel, a_price: Decimal) -> Broker {
    let mut c = cash(dec!(10000));
    c.commission = commission;
    let mut b = Broker::new(c, vec![Symbol::new("A"), Symbol::new("B")]);
    step(&mut b, 0, &[flat(0, a_price), flat(0, dec!(16))]);
    b.submit(target(1, dec!(1)), 0, day(0)).unwrap();
    step(&mut b, 1, &[flat(1, a_price), flat(1, dec!(16))]);
    step(&mut b, 2, &[flat(2, a_price), flat(2, dec!(16))]);
    b.submit(target(1, dec!(0)), 2, day(2)).unwrap();
    b.submit(target(0, dec!(1)), 2, day(2)).unwrap();
    step(&mut b, 3, &[flat(3, a_price), None]);
    b
}

#[test]
fn a_target_percent_that_only_fits_small_is_cut_not_refused_when_the_fee_the_cut_saves_matters() {
    // All in B: floor(10 000 / (16 × 1.001)) = 624 for 9 984 + fee 9.984,
    // cash 6.016. On step 3 A's target is floor(9 990.016 / 5.005) = 1 996,
    // far beyond the cash; 1 share costs 5 + 0.005 ≤ 6.016, 2 cost 10.01.
    let b = rotation_while_a_sale_waits(CommissionModel::Percent { rate: dec!(0.001) }, dec!(5));
    assert!(b.rejections().is_empty(), "{:?}", b.rejections());
    assert_eq!((b.position(0).qty, b.position(1).qty), (dec!(1), dec!(624)));
    assert_eq!(b.cash(), dec!(1.011)); // 6.016 − 5 − 0.005
}

#[test]
fn a_cut_target_percent_is_the_largest_that_fits_under_every_fee_model() {
    // A at 1. Cash beside B after buying it at 16:
    // - percent 0.1 %: 624 for 9 984 + 9.984 → 6.016; q × 1.001 ≤ 6.016 → 6.
    // - per unit 0.01 (min 1): 624 for 9 984 + 6.24 → 9.76; q + max(0.01 q, 1) ≤ 9.76 → 8.
    // - fixed 1: floor(9 999 / 16) = 624 for 9 984 + 1 → 15; q + 1 ≤ 15 → 14.
    let cases = [
        (CommissionModel::Percent { rate: dec!(0.001) }, dec!(6), dec!(6.016) - dec!(6.006)),
        (CommissionModel::PerUnit { per_unit: dec!(0.01), minimum: dec!(1) }, dec!(8), dec!(9.76) - dec!(9)),
        (CommissionModel::Fixed { amount: dec!(1) }, dec!(14), dec!(15) - dec!(15)),
    ];
    for (commission, bought, cash_left) in cases {
        let b = rotation_while_a_sale_waits(commission, dec!(1));
        assert!(b.rejections().is_empty(), "{commission:?}: {:?}", b.rejections());
        assert_eq!(b.position(0).qty, bought, "{commission:?}");
        assert_eq!(b.cash(), cash_left, "{commission:?}");
    }
}
