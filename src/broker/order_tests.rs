//! The broker's own checks on orders and the corners of its book (the order
//! it keeps, limits under slippage and trade-on-close, bracket exits at
//! impossible levels) against hand-computed cases.

use rust_decimal_macros::dec;

use super::test_support::{bar, day, flat, one, qty, step};
use super::*;
use crate::domain::Side;

fn order(size: OrderSize, kind: OrderKind) -> OrderRequest {
    OrderRequest::new(0, size, kind)
}

fn ids(b: &Broker) -> Vec<u64> {
    b.open_orders().iter().map(|o| o.id.0).collect()
}

#[test]
fn submit_refuses_what_the_broker_cannot_fill_and_books_nothing() {
    let buy = qty(Side::Buy, dec!(1));
    let cases = [
        (OrderRequest::new(1, buy, OrderKind::Market), BrokerError::UnknownSymbol(1)), // one symbol: index 0
        (order(OrderSize::TargetPercent(dec!(100.5)), OrderKind::Market), BrokerError::TargetOutOfRange(dec!(100.5))),
        (order(OrderSize::TargetPercent(dec!(-101)), OrderKind::Market), BrokerError::TargetOutOfRange(dec!(-101))),
        (order(OrderSize::TargetPercent(dec!(0.5)), OrderKind::Limit(dec!(90))), BrokerError::TargetNeedsMarket),
        (order(buy, OrderKind::Limit(dec!(0))), BrokerError::NonPositivePrice(dec!(0))),
        (order(buy, OrderKind::Stop(dec!(-1))), BrokerError::NonPositivePrice(dec!(-1))),
        (
            // A valid offset whose stop came out at 0 (5 below a best price of 5).
            order(
                qty(Side::Sell, dec!(1)),
                OrderKind::TrailingStop { offset: TrailOffset::Amount(dec!(5)), stop: dec!(0), extreme: dec!(5) },
            ),
            BrokerError::NonPositivePrice(dec!(0)),
        ),
    ];
    let mut b = one(BrokerConfig::with_cash(dec!(10000)));
    for (request, refused) in cases {
        assert_eq!(b.submit(request, 0, day(0)), Err(refused), "{request:?}");
    }
    assert!(b.open_orders().is_empty());
    // Refused requests take no ids: the first accepted order is still order 1.
    assert_eq!(b.submit(order(buy, OrderKind::Market), 0, day(0)), Ok(OrderId(1)));
}

#[test]
fn open_orders_stay_in_submission_order_after_a_step_matches_sales_first() {
    let mut b = one(BrokerConfig::with_cash(dec!(10000)));
    b.submit(order(qty(Side::Buy, dec!(10)), OrderKind::Market), 0, day(0)).unwrap();
    step(&mut b, 1, flat(1, dec!(100))); // long 10 @100
    b.submit(order(qty(Side::Buy, dec!(5)), OrderKind::Limit(dec!(90))), 1, day(1)).unwrap(); // order 2
    b.submit(order(qty(Side::Sell, dec!(5)), OrderKind::Limit(dec!(120))), 1, day(1)).unwrap(); // order 3
                                                                                                // The sale reduces the position, so it is matched before order 2; the
                                                                                                // bar (95 to 105) reaches neither limit and both stay open.
    step(&mut b, 2, bar(2, dec!(100), dec!(105), dec!(95), dec!(100)));
    assert_eq!(ids(&b), [2, 3]);
    assert_eq!(b.position(0).qty, dec!(10));
}

#[test]
fn slippage_never_pushes_a_buy_limit_above_its_limit() {
    let mut config = BrokerConfig::with_cash(dec!(10000));
    config.slippage_bps = dec!(10);
    for (open, paid) in [
        (dec!(99), dec!(99.099)), // 99 × 1.001, below the limit
        (dec!(99.95), dec!(100)), // 99.95 × 1.001 = 100.04995, capped at the limit 100
    ] {
        let mut b = one(config.clone());
        b.submit(order(qty(Side::Buy, dec!(10)), OrderKind::Limit(dec!(100))), 0, day(0)).unwrap();
        step(&mut b, 1, bar(1, open, dec!(101), dec!(98), dec!(100)));
        assert_eq!(b.position(0).avg_price, Some(paid), "open {open}");
        assert_eq!(b.cash(), dec!(10000) - dec!(10) * paid); // 9009.01, then 9000
    }
}

#[test]
fn with_trade_on_close_a_limit_waits_for_the_next_bars_range() {
    let mut config = BrokerConfig::with_cash(dec!(10000));
    config.trade_on_close = true;
    let mut b = one(config);
    let fresh = [bar(0, dec!(100), dec!(100), dec!(94), dec!(94))];
    b.on_bar_open(0, day(0), &fresh);
    b.submit(order(qty(Side::Buy, dec!(1)), OrderKind::Market), 0, day(0)).unwrap();
    b.submit(order(qty(Side::Buy, dec!(10)), OrderKind::Limit(dec!(95))), 0, day(0)).unwrap();
    b.on_bar_close(0, day(0), &fresh);
    // The market order fills at this close; the limit does not, though the
    // close (94) is below it: the bar it was placed on is over.
    assert_eq!(b.position(0).qty, dec!(1));
    assert_eq!(b.cash(), dec!(9906)); // 10000 - 94
    assert_eq!(ids(&b), [2]);
    step(&mut b, 1, bar(1, dec!(96), dec!(97), dec!(93), dec!(95)));
    assert_eq!(b.position(0).qty, dec!(11));
    assert_eq!(b.cash(), dec!(8956)); // 9906 - 10 × min(open 96, limit 95)
}

#[test]
fn a_bracket_exit_at_a_price_of_zero_is_rejected_and_its_sibling_stays() {
    let mut b = one(BrokerConfig::with_cash(dec!(10000)));
    let exits = Exits {
        stop_loss: Some(ExitLevel::Fraction(dec!(0.05))),
        // A short's target lies below its fill: 100 × (1 - 1) = 0.
        take_profit: Some(ExitLevel::Fraction(dec!(1))),
        trailing: None,
    };
    let entry = OrderRequest { exits, ..order(qty(Side::Sell, dec!(10)), OrderKind::Market) };
    b.submit(entry, 0, day(0)).unwrap();
    step(&mut b, 1, flat(1, dec!(100)));
    assert_eq!(b.position(0).qty, dec!(-10));
    // The stop-loss is order 2 at 100 × 1.05; the target, order 3, is refused.
    let open = b.open_orders();
    assert_eq!((open.len(), open[0].id, open[0].kind), (1, OrderId(2), OrderKind::Stop(dec!(105))));
    let rejected = &b.rejections()[0];
    assert_eq!((rejected.step, rejected.order_id), (1, OrderId(3)));
    assert_eq!(rejected.reason, "take_profit level 0 of entry 1 is not a positive price");
}
