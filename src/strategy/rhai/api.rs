//! The strategy API as Rhai sees it: methods on the `ctx` argument that
//! return plain numbers (or `()` when a value is not ready yet).
//!
//! Where a symbol is optional it defaults to the run's first symbol; `k` is
//! how many of that symbol's bars back (0 = the latest).

use std::any::TypeId;
use std::fmt::Display;

use chrono::{DateTime, Datelike, Timelike};
use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Position, INT};

use crate::domain::num::to_f64;
use crate::domain::{Bar, OrderId, Price, PriceField, Side};
use crate::indicators::{Arg, ArgType, ArgValue, IndicatorKind, IndicatorSpec, DEFAULT_SOURCE, KINDS};
use crate::session::{CtxError, Operand, ParamValue, PriceKind, StrategyCtx};

pub(super) type Res<T> = Result<T, Box<EvalAltResult>>;
/// Reads one field of a bar for a script.
type BarField = fn(&Bar) -> Dynamic;
/// Reads one part of a position for a script.
type PositionPart = fn(&crate::domain::PositionView) -> Dynamic;
/// Reads one calendar part of a time.
type CalendarPart = fn(&DateTime<chrono::Utc>) -> INT;

pub(super) fn fail(e: impl Display) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(e.to_string().into(), Position::NONE).into()
}

pub(super) fn symbol(ctx: &StrategyCtx, name: &str) -> Res<usize> {
    ctx.symbol_index(name).map_err(fail)
}

pub(super) fn back(k: INT) -> Res<usize> {
    usize::try_from(k).map_err(|_| fail(CtxError::Negative { what: "bars back", value: k }))
}

/// A number argument that may be written as an int or a float.
pub(super) fn number(what: &str, value: &Dynamic) -> Res<f64> {
    if let Ok(f) = value.as_float() {
        return Ok(f);
    }
    if let Ok(i) = value.as_int() {
        return Ok(i as f64);
    }
    Err(fail(format!("{what} must be a number, got {}", value.type_name())))
}

pub(super) fn opt(value: Option<f64>) -> Dynamic {
    value.map_or(Dynamic::UNIT, Dynamic::from_float)
}

/// A bar's volume for a script: `()` when the data has none (`NaN`).
pub(super) fn volume(v: f64) -> Dynamic {
    if v.is_nan() {
        Dynamic::UNIT
    } else {
        Dynamic::from_float(v)
    }
}

fn price(p: rust_decimal::Decimal) -> Dynamic {
    Dynamic::from_float(to_f64(p))
}

/// A bar's price as a script sees it: the same f64 as [`price`] of its decimal.
fn bar_price(p: Price) -> Dynamic {
    Dynamic::from_float(p.to_f64())
}

/// The context's type name in Rhai's messages.
pub(super) const CTX_TYPE: &str = "Ctx";

/// Registers the whole API on `engine`.
pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<StrategyCtx>(CTX_TYPE);
    register_bars(engine);
    register_time(engine);
    register_indicators(engine);
    register_portfolio(engine);
    register_orders(engine);
    engine.register_fn("param", |ctx: &mut StrategyCtx, name: &str| -> Res<Dynamic> {
        Ok(match ctx.param(name).map_err(fail)? {
            ParamValue::Int(i) => Dynamic::from_int(i),
            ParamValue::Float(f) => Dynamic::from_float(f),
            ParamValue::Bool(b) => Dynamic::from_bool(b),
            ParamValue::Text(s) => Dynamic::from(s),
        })
    });
    engine.register_fn("log", |ctx: &mut StrategyCtx, message: &str| ctx.log(message));
}

fn register_bars(engine: &mut Engine) {
    let fields: [(&str, BarField); 6] = [
        ("open", |b| bar_price(b.narrow(PriceField::Open))),
        ("high", |b| bar_price(b.narrow(PriceField::High))),
        ("low", |b| bar_price(b.narrow(PriceField::Low))),
        ("close", |b| bar_price(b.narrow(PriceField::Close))),
        ("volume", |b| volume(b.volume)),
        ("bar_time", |b| Dynamic::from_int(b.ts.secs())),
    ];
    for (name, field) in fields {
        let read = move |ctx: &StrategyCtx, s: usize, k: usize| -> Res<Dynamic> {
            Ok(ctx.bar(s, k).map_err(fail)?.as_ref().map_or(Dynamic::UNIT, field))
        };
        engine.register_fn(name, move |ctx: &mut StrategyCtx| read(ctx, 0, 0));
        engine.register_fn(name, move |ctx: &mut StrategyCtx, k: INT| read(ctx, 0, back(k)?));
        engine.register_fn(name, move |ctx: &mut StrategyCtx, sym: &str| read(ctx, symbol(ctx, sym)?, 0));
        engine
            .register_fn(name, move |ctx: &mut StrategyCtx, sym: &str, k: INT| read(ctx, symbol(ctx, sym)?, back(k)?));
    }
    engine.register_fn("has_bar", |ctx: &mut StrategyCtx| ctx.has_bar(0));
    engine
        .register_fn("has_bar", |ctx: &mut StrategyCtx, sym: &str| -> Res<bool> { Ok(ctx.has_bar(symbol(ctx, sym)?)) });
    engine.register_fn("symbols", |ctx: &mut StrategyCtx| -> Array {
        ctx.symbols().iter().map(|s| Dynamic::from(s.as_str().to_string())).collect()
    });
    engine.register_fn("symbol", |ctx: &mut StrategyCtx| -> ImmutableString { ctx.symbols()[0].as_str().into() });
    engine.register_fn("lookback", |ctx: &mut StrategyCtx, bars: INT| -> Res<()> {
        let bars = usize::try_from(bars).map_err(|_| fail(CtxError::Negative { what: "lookback", value: bars }))?;
        ctx.set_lookback(bars).map_err(fail)
    });
}

fn register_time(engine: &mut Engine) {
    engine.register_fn("bar_index", |ctx: &mut StrategyCtx| ctx.step() as INT);
    engine.register_fn("time", |ctx: &mut StrategyCtx| ctx.time().secs());
    let parts: [(&str, CalendarPart); 6] = [
        ("year", |t| t.year() as INT),
        ("month", |t| t.month() as INT),
        ("day", |t| t.day() as INT),
        ("weekday", |t| t.weekday().number_from_monday() as INT),
        ("hour", |t| t.hour() as INT),
        ("minute", |t| t.minute() as INT),
    ];
    for (name, part) in parts {
        engine.register_fn(name, move |ctx: &mut StrategyCtx| -> Res<INT> {
            let t =
                DateTime::from_timestamp_millis(ctx.time().millis()).ok_or_else(|| fail("timestamp out of range"))?;
            Ok(part(&t))
        });
    }
}

fn register_indicators(engine: &mut Engine) {
    for kind in KINDS {
        register_short_form(engine, kind);
    }
    engine.register_fn("indicator", |ctx: &mut StrategyCtx, name: &str, kind: &str, options: Map| -> Res<()> {
        let (spec, sym) = super::options::spec_from_map(kind, &options).map_err(fail)?;
        let s = match sym {
            Some(sym) => symbol(ctx, &sym)?,
            None => 0,
        };
        declare(ctx, name, s, spec)
    });

    engine.register_fn("ind", |ctx: &mut StrategyCtx, name: &str| -> Res<Dynamic> {
        Ok(opt(ctx.indicator(name, 0).map_err(fail)?))
    });
    engine.register_fn("ind", |ctx: &mut StrategyCtx, name: &str, k: INT| -> Res<Dynamic> {
        Ok(opt(ctx.indicator(name, back(k)?).map_err(fail)?))
    });
    // One call for both directions: each host call costs a Rhai script
    // about 1,200 instructions (Rhai's dispatch and the test; callgrind,
    // `crossed_above` then `crossed_below` against one `cross`), so the hot
    // path of a crossover needs only this one.
    engine.register_fn("cross", |ctx: &mut StrategyCtx, a: &str, b: &str| -> Res<INT> {
        cross(ctx, a, Operand::Indicator(b.into()))
    });
    engine.register_fn("cross", |ctx: &mut StrategyCtx, a: &str, level: Dynamic| -> Res<INT> {
        cross(ctx, a, Operand::Level(number("level", &level)?))
    });
    for (fname, above) in [("crossed_above", true), ("crossed_below", false)] {
        engine.register_fn(fname, move |ctx: &mut StrategyCtx, a: &str, b: &str| -> Res<bool> {
            ctx.crossed(a, Operand::Indicator(b.into()), above).map_err(fail)
        });
        engine.register_fn(fname, move |ctx: &mut StrategyCtx, a: &str, level: Dynamic| -> Res<bool> {
            ctx.crossed(a, Operand::Level(number("level", &level)?), above).map_err(fail)
        });
    }
}

/// 1 if `a` crossed above `b` on this bar, -1 if below, 0 otherwise.
fn cross(ctx: &StrategyCtx, a: &str, b: Operand<'_>) -> Res<INT> {
    Ok(INT::from(ctx.cross(a, b).map_err(fail)?))
}

/// Registers `ctx.<kind>(name, args...)` and `ctx.<kind>(name, args...,
/// symbol)` for one kind of the indicator table: each argument in the table's
/// order (a count as an int, a number as an int or a float), reading the
/// default source. Raw functions, so that one definition serves every kind
/// whatever its arguments; the engine still checks the argument types.
fn register_short_form(engine: &mut Engine, kind: &'static IndicatorKind) {
    let mut types = vec![TypeId::of::<StrategyCtx>(), TypeId::of::<ImmutableString>()];
    types.extend(kind.args.iter().map(|arg| match arg.ty {
        ArgType::Count => TypeId::of::<INT>(),
        ArgType::Number => TypeId::of::<Dynamic>(),
    }));
    for with_symbol in [false, true] {
        let mut types = types.clone();
        if with_symbol {
            types.push(TypeId::of::<ImmutableString>());
        }
        engine.register_raw_fn(kind.name, types, move |_, args: &mut [&mut Dynamic]| -> Res<()> {
            let Some((this, args)) = args.split_first_mut() else {
                return Err(fail("missing context"));
            };
            let ctx = this.read_lock::<StrategyCtx>().ok_or_else(|| fail("missing context"))?;
            let text = |value: &Dynamic| value.clone().into_immutable_string().map_err(fail);
            let name = text(args[0])?;
            let s = if with_symbol { symbol(&ctx, &text(args[args.len() - 1])?)? } else { 0 };
            let values = kind.args.iter().zip(&args[1..]).map(|(arg, value)| short_value(arg, value));
            let spec = kind.spec(&values.collect::<Res<Vec<_>>>()?, DEFAULT_SOURCE).map_err(fail)?;
            declare(&ctx, &name, s, spec)
        });
    }
}

/// One positional argument of a short form.
fn short_value(arg: &Arg, value: &Dynamic) -> Res<ArgValue> {
    match arg.ty {
        ArgType::Count => {
            let value = value.as_int().map_err(fail)?;
            let count = usize::try_from(value).map_err(|_| fail(CtxError::Negative { what: arg.name, value }))?;
            Ok(ArgValue::Count(count))
        }
        ArgType::Number => number(arg.name, value).map(ArgValue::Number),
    }
}

fn declare(ctx: &StrategyCtx, name: &str, symbol: usize, spec: IndicatorSpec) -> Res<()> {
    ctx.declare_indicator(name, symbol, spec).map(|_| ()).map_err(fail)
}

fn register_portfolio(engine: &mut Engine) {
    let views: [(&str, PositionPart); 3] = [
        ("position", |p| price(p.qty)),
        ("avg_price", |p| p.avg_price.map_or(Dynamic::UNIT, price)),
        ("unrealized_pnl", |p| price(p.unrealized_pnl)),
    ];
    for (name, view) in views {
        engine.register_fn(name, move |ctx: &mut StrategyCtx| view(&ctx.position(0)));
        engine.register_fn(name, move |ctx: &mut StrategyCtx, sym: &str| -> Res<Dynamic> {
            Ok(view(&ctx.position(symbol(ctx, sym)?)))
        });
    }
    engine.register_fn("cash", |ctx: &mut StrategyCtx| to_f64(ctx.cash()));
    engine.register_fn("equity", |ctx: &mut StrategyCtx| to_f64(ctx.equity()));
    engine.register_fn("open_orders", |ctx: &mut StrategyCtx| ctx.open_orders(None) as INT);
    engine.register_fn("open_orders", |ctx: &mut StrategyCtx, sym: &str| -> Res<INT> {
        Ok(ctx.open_orders(Some(symbol(ctx, sym)?)) as INT)
    });
}

fn register_orders(engine: &mut Engine) {
    type Make = fn(f64) -> PriceKind;
    let kinds: [(&str, Side, Option<Make>); 6] = [
        ("buy", Side::Buy, None),
        ("sell", Side::Sell, None),
        ("buy_limit", Side::Buy, Some(PriceKind::Limit)),
        ("sell_limit", Side::Sell, Some(PriceKind::Limit)),
        ("buy_stop", Side::Buy, Some(PriceKind::Stop)),
        ("sell_stop", Side::Sell, Some(PriceKind::Stop)),
    ];
    for (name, side, priced) in kinds {
        let place = move |ctx: &StrategyCtx, s: usize, qty: &Dynamic, px: Option<(Make, &Dynamic)>| -> Res<INT> {
            let kind = match px {
                None => PriceKind::Market,
                Some((make, p)) => make(number("price", p)?),
            };
            let id = ctx.order(s, side, number("quantity", qty)?, kind).map_err(fail)?;
            Ok(id.0 as INT)
        };
        match priced {
            None => {
                engine.register_fn(name, move |ctx: &mut StrategyCtx, qty: Dynamic| place(ctx, 0, &qty, None));
                engine.register_fn(name, move |ctx: &mut StrategyCtx, sym: &str, qty: Dynamic| {
                    place(ctx, symbol(ctx, sym)?, &qty, None)
                });
            }
            Some(make) => {
                engine.register_fn(name, move |ctx: &mut StrategyCtx, qty: Dynamic, px: Dynamic| {
                    place(ctx, 0, &qty, Some((make, &px)))
                });
                engine.register_fn(name, move |ctx: &mut StrategyCtx, sym: &str, qty: Dynamic, px: Dynamic| {
                    place(ctx, symbol(ctx, sym)?, &qty, Some((make, &px)))
                });
            }
        }
    }
    engine.register_fn("order_target_percent", |ctx: &mut StrategyCtx, fraction: Dynamic| -> Res<INT> {
        let id = ctx.order_target_percent(0, number("fraction", &fraction)?).map_err(fail)?;
        Ok(id.0 as INT)
    });
    engine.register_fn("order_target_percent", |ctx: &mut StrategyCtx, sym: &str, fraction: Dynamic| -> Res<INT> {
        let s = symbol(ctx, sym)?;
        let id = ctx.order_target_percent(s, number("fraction", &fraction)?).map_err(fail)?;
        Ok(id.0 as INT)
    });
    engine.register_fn("close_position", |ctx: &mut StrategyCtx| -> Res<INT> {
        Ok(ctx.close_position(0).map_err(fail)?.0 as INT)
    });
    engine.register_fn("close_position", |ctx: &mut StrategyCtx, sym: &str| -> Res<INT> {
        Ok(ctx.close_position(symbol(ctx, sym)?).map_err(fail)?.0 as INT)
    });
    engine.register_fn("cancel", |ctx: &mut StrategyCtx, id: INT| -> bool {
        u64::try_from(id).is_ok_and(|id| ctx.cancel(OrderId(id)))
    });
    engine.register_fn("cancel_all", |ctx: &mut StrategyCtx| ctx.cancel_all(None) as INT);
    engine.register_fn("cancel_all", |ctx: &mut StrategyCtx, sym: &str| -> Res<INT> {
        Ok(ctx.cancel_all(Some(symbol(ctx, sym)?)) as INT)
    });
}
