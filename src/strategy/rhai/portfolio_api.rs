//! The portfolio part of the Rhai API: brackets, trailing stops,
//! rebalancing, sizing helpers, schedules and second timeframes.
//!
//! Options come as maps whose every key is checked: a key the function does
//! not take is an error, never ignored.

use rhai::{Array, Dynamic, Engine, Map, INT};
use rust_decimal::Decimal;

use crate::domain::num::from_f64;
use crate::domain::{Bar, ExitLevel, Exits, PriceField, Side, TrailOffset};
use crate::session::{CtxError, Period, PriceKind, StrategyCtx};

use super::api::{back, fail, number, opt, symbol, Res};

fn exact(what: &'static str, value: &Dynamic) -> Res<Decimal> {
    let x = number(what, value)?;
    from_f64(x).ok_or_else(|| fail(CtxError::NotFinite { what, value: x }))
}

fn check_keys(function: &str, map: &Map, allowed: &[&str]) -> Res<()> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(fail(format!("{function} does not take option '{key}'; it takes: {}", allowed.join(", ")))),
        None => Ok(()),
    }
}

const BRACKET_KEYS: [&str; 8] = [
    "stop_loss",
    "stop_loss_fraction",
    "take_profit",
    "take_profit_fraction",
    "trail",
    "trail_fraction",
    "limit",
    "stop",
];

/// The entry kind and the exits of a bracket's option map.
fn bracket_options(map: &Map) -> Res<(PriceKind, Exits)> {
    check_keys("a bracket", map, &BRACKET_KEYS)?;
    let one_of = |price: &'static str, fraction: &'static str| -> Res<Option<ExitLevel>> {
        match (map.get(price), map.get(fraction)) {
            (Some(_), Some(_)) => Err(fail(format!("give '{price}' or '{fraction}', not both"))),
            (Some(p), None) => Ok(Some(ExitLevel::Price(exact(price, p)?))),
            (None, Some(f)) => Ok(Some(ExitLevel::Fraction(exact(fraction, f)?))),
            (None, None) => Ok(None),
        }
    };
    let trailing = one_of("trail", "trail_fraction")?.map(|level| match level {
        ExitLevel::Price(amount) => TrailOffset::Amount(amount),
        ExitLevel::Fraction(f) => TrailOffset::Fraction(f),
    });
    let exits = Exits {
        stop_loss: one_of("stop_loss", "stop_loss_fraction")?,
        take_profit: one_of("take_profit", "take_profit_fraction")?,
        trailing,
    };
    let entry = match (map.get("limit"), map.get("stop")) {
        (Some(_), Some(_)) => return Err(fail("a bracket entry takes 'limit' or 'stop', not both")),
        (Some(p), None) => PriceKind::Limit(number("limit", p)?),
        (None, Some(p)) => PriceKind::Stop(number("stop", p)?),
        (None, None) => PriceKind::Market,
    };
    Ok((entry, exits))
}

fn trail_offset(map: &Map) -> Res<TrailOffset> {
    check_keys("a trailing stop", map, &["amount", "fraction"])?;
    match (map.get("amount"), map.get("fraction")) {
        (Some(a), None) => Ok(TrailOffset::Amount(exact("amount", a)?)),
        (None, Some(f)) => Ok(TrailOffset::Fraction(exact("fraction", f)?)),
        _ => Err(fail("a trailing stop takes one of 'amount' or 'fraction'")),
    }
}

fn ids(ids: Vec<crate::domain::OrderId>) -> Array {
    ids.into_iter().map(|id| Dynamic::from_int(id.0 as INT)).collect()
}

fn bar_map(bar: &Bar) -> Dynamic {
    let mut map = Map::new();
    map.insert("time".into(), Dynamic::from_int(bar.ts.secs()));
    for (key, field) in
        [("open", PriceField::Open), ("high", PriceField::High), ("low", PriceField::Low), ("close", PriceField::Close)]
    {
        map.insert(key.into(), Dynamic::from_float(bar.narrow(field).to_f64()));
    }
    map.insert("volume".into(), super::api::volume(bar.volume));
    Dynamic::from_map(map)
}

/// Registers the portfolio functions on `engine`.
pub fn register(engine: &mut Engine) {
    for (name, side) in [("buy_bracket", Side::Buy), ("sell_bracket", Side::Sell)] {
        let place = move |ctx: &StrategyCtx, s: usize, qty: &Dynamic, options: &Map| -> Res<INT> {
            let (entry, exits) = bracket_options(options)?;
            let id = ctx.order_bracket(s, side, number("quantity", qty)?, entry, exits).map_err(fail)?;
            Ok(id.0 as INT)
        };
        engine
            .register_fn(name, move |ctx: &mut StrategyCtx, qty: Dynamic, options: Map| place(ctx, 0, &qty, &options));
        engine.register_fn(name, move |ctx: &mut StrategyCtx, sym: &str, qty: Dynamic, options: Map| {
            place(ctx, symbol(ctx, sym)?, &qty, &options)
        });
    }
    for (name, side) in [("buy_trailing_stop", Side::Buy), ("sell_trailing_stop", Side::Sell)] {
        let place = move |ctx: &StrategyCtx, s: usize, qty: &Dynamic, options: &Map| -> Res<INT> {
            let offset = trail_offset(options)?;
            Ok(ctx.order_trailing_stop(s, side, number("quantity", qty)?, offset).map_err(fail)?.0 as INT)
        };
        engine
            .register_fn(name, move |ctx: &mut StrategyCtx, qty: Dynamic, options: Map| place(ctx, 0, &qty, &options));
        engine.register_fn(name, move |ctx: &mut StrategyCtx, sym: &str, qty: Dynamic, options: Map| {
            place(ctx, symbol(ctx, sym)?, &qty, &options)
        });
    }
    engine.register_fn("rebalance", |ctx: &mut StrategyCtx, weights: Map| -> Res<Array> {
        let mut list = Vec::with_capacity(weights.len());
        for (name, weight) in &weights {
            list.push((symbol(ctx, name)?, number("weight", weight)?));
        }
        // Symbol order, not the map's, so that order ids are reproducible.
        list.sort_by_key(|(s, _)| *s);
        Ok(ids(ctx.rebalance(&list).map_err(fail)?))
    });
    engine.register_fn("equal_weight", |ctx: &mut StrategyCtx, names: Array| -> Res<Array> {
        let mut list = Vec::with_capacity(names.len());
        for name in &names {
            let name = name
                .clone()
                .into_immutable_string()
                .map_err(|t| fail(format!("symbol names must be strings, got {t}")))?;
            list.push(symbol(ctx, &name)?);
        }
        Ok(ids(ctx.equal_weight(&list).map_err(fail)?))
    });
    engine.register_fn("qty_for_fraction", |ctx: &mut StrategyCtx, fraction: Dynamic| -> Res<Dynamic> {
        Ok(opt(ctx.qty_for_fraction(0, number("fraction", &fraction)?).map_err(fail)?))
    });
    engine.register_fn("qty_for_fraction", |ctx: &mut StrategyCtx, sym: &str, fraction: Dynamic| -> Res<Dynamic> {
        Ok(opt(ctx.qty_for_fraction(symbol(ctx, sym)?, number("fraction", &fraction)?).map_err(fail)?))
    });
    engine.register_fn("qty_for_risk", |ctx: &mut StrategyCtx, fraction: Dynamic, indicator: &str| -> Res<Dynamic> {
        Ok(opt(ctx.qty_for_risk(number("risk fraction", &fraction)?, indicator).map_err(fail)?))
    });
    engine.register_fn("schedule", |ctx: &mut StrategyCtx, period: &str| -> Res<bool> {
        Ok(ctx.schedule(Period::parse(period).map_err(fail)?))
    });
    engine.register_fn("timeframe", |ctx: &mut StrategyCtx, interval: &str| -> Res<INT> {
        Ok(ctx.declare_timeframe(0, interval).map_err(fail)? as INT)
    });
    engine.register_fn("timeframe", |ctx: &mut StrategyCtx, sym: &str, interval: &str| -> Res<INT> {
        Ok(ctx.declare_timeframe(symbol(ctx, sym)?, interval).map_err(fail)? as INT)
    });
    let tf_bar = |ctx: &StrategyCtx, handle: INT, k: INT| -> Res<Dynamic> {
        let handle = usize::try_from(handle)
            .map_err(|_| fail(CtxError::Negative { what: "timeframe handle", value: handle }))?;
        let k = back(k)?;
        Ok(ctx.timeframe_bar(handle, k).map_err(fail)?.as_ref().map_or(Dynamic::UNIT, bar_map))
    };
    engine.register_fn("tf_bar", move |ctx: &mut StrategyCtx, handle: INT| tf_bar(ctx, handle, 0));
    engine.register_fn("tf_bar", move |ctx: &mut StrategyCtx, handle: INT, k: INT| tf_bar(ctx, handle, k));
}
