//! The host functions a plugin imports from module `bt`: the same narrow
//! API as Rhai's `ctx`, over integers, floats and (pointer, length) strings.
//!
//! Every misuse traps with `bt.<function>: <what is wrong>`, which fails the
//! run with that message.

use chrono::{DateTime, Datelike, Timelike};
use wasmtime::{bail, format_err, Linker, Result};

use crate::domain::num::to_f64;
use crate::domain::OrderId;
use crate::indicators::{find_kind, ArgType, ArgValue, IndicatorSpec, Source};
use crate::session::{Operand, ParamSpec, ParamValue, PriceKind, StrategyCtx};

pub use super::caller::HostState;
use super::caller::{back, bar_field, ctx, handle, nan_if_none, side_of, string, symbol, wrap, write, Ctx};
use super::imports::define;
use super::limits::MAX_PARAMS;

/// The symbol index `sym`, or `None` (all symbols) for -1.
fn symbol_or_all(ctx: &StrategyCtx, f: &str, sym: i32) -> Result<Option<usize>> {
    if sym == -1 {
        Ok(None)
    } else {
        symbol(ctx, f, sym).map(Some)
    }
}

/// A linker offering exactly the ABI's host functions (the table in
/// imports.rs).
///
/// # Errors
/// Never in practice: a function without a table entry, or a duplicate.
pub fn linker(engine: &wasmtime::Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    let l = &mut linker;
    declarations(l)?;
    params(l)?;
    market(l)?;
    indicators(l)?;
    portfolio(l)?;
    orders(l)?;
    super::host_portfolio::register(l)?;
    super::shared::register(l)?;
    super::driven::register(l)?;
    define(l, "log", |mut c: Ctx<'_>, ptr: i32, len: i32| -> Result<()> {
        let text = string(&mut c, "log", ptr, len)?;
        ctx(&c, "log")?.log(&text);
        Ok(())
    })?;
    define(l, "fail", |mut c: Ctx<'_>, ptr: i32, len: i32| -> Result<()> {
        let text = string(&mut c, "fail", ptr, len)?;
        c.data_mut().failure = Some(text);
        Ok(())
    })?;
    Ok(linker)
}

fn declare(c: &mut Ctx<'_>, f: &str, name_ptr: i32, name_len: i32, default: ParamValue) -> Result<()> {
    let name = string(c, f, name_ptr, name_len)?;
    let state = c.data_mut();
    if !state.declaring {
        bail!("bt.{f}: parameters can only be declared in bt_params");
    }
    if state.declared.len() >= MAX_PARAMS {
        bail!("bt.{f}: at most {MAX_PARAMS} parameters can be declared");
    }
    if name.is_empty() || state.declared.iter().any(|p| p.name == name) {
        bail!("bt.{f}: parameter name {name:?} is empty or declared twice");
    }
    if let ParamValue::Float(x) = default {
        if !x.is_finite() {
            bail!("bt.{f}: default of {name} is not finite");
        }
    }
    state.declared.push(ParamSpec { name, default });
    Ok(())
}

fn declarations(l: &mut Linker<HostState>) -> Result<()> {
    define(l, "declare_int", |mut c: Ctx<'_>, p: i32, n: i32, v: i64| {
        declare(&mut c, "declare_int", p, n, ParamValue::Int(v))
    })?;
    define(l, "declare_float", |mut c: Ctx<'_>, p: i32, n: i32, v: f64| {
        declare(&mut c, "declare_float", p, n, ParamValue::Float(v))
    })?;
    define(l, "declare_bool", |mut c: Ctx<'_>, p: i32, n: i32, v: i32| {
        declare(&mut c, "declare_bool", p, n, ParamValue::Bool(v != 0))
    })?;
    define(l, "declare_text", |mut c: Ctx<'_>, p: i32, n: i32, vp: i32, vn: i32| {
        let value = string(&mut c, "declare_text", vp, vn)?;
        declare(&mut c, "declare_text", p, n, ParamValue::Text(value))
    })?;
    Ok(())
}

fn param(c: &mut Ctx<'_>, f: &str, p: i32, n: i32) -> Result<ParamValue> {
    let name = string(c, f, p, n)?;
    wrap(f, ctx(c, f)?.param(&name))
}

fn params(l: &mut Linker<HostState>) -> Result<()> {
    define(l, "param_int", |mut c: Ctx<'_>, p: i32, n: i32| -> Result<i64> {
        match param(&mut c, "param_int", p, n)? {
            ParamValue::Int(i) => Ok(i),
            other => bail!("bt.param_int: the parameter is {}", other.type_phrase()),
        }
    })?;
    define(l, "param_float", |mut c: Ctx<'_>, p: i32, n: i32| -> Result<f64> {
        let value = param(&mut c, "param_float", p, n)?;
        value.as_f64().ok_or_else(|| format_err!("bt.param_float: the parameter is {}", value.type_phrase()))
    })?;
    define(l, "param_bool", |mut c: Ctx<'_>, p: i32, n: i32| -> Result<i32> {
        match param(&mut c, "param_bool", p, n)? {
            ParamValue::Bool(b) => Ok(i32::from(b)),
            other => bail!("bt.param_bool: the parameter is {}", other.type_phrase()),
        }
    })?;
    define(l, "param_text", |mut c: Ctx<'_>, p: i32, n: i32, out: i32, cap: i32| -> Result<i32> {
        match param(&mut c, "param_text", p, n)? {
            ParamValue::Text(s) => write(&mut c, "param_text", out, cap, &s),
            other => bail!("bt.param_text: the parameter is {}", other.type_phrase()),
        }
    })?;
    Ok(())
}

fn market(l: &mut Linker<HostState>) -> Result<()> {
    define(l, "symbol_count", |c: Ctx<'_>| -> Result<i32> { Ok(ctx(&c, "symbol_count")?.symbol_count() as i32) })?;
    define(l, "symbol_name", |mut c: Ctx<'_>, sym: i32, out: i32, cap: i32| -> Result<i32> {
        let cx = ctx(&c, "symbol_name")?;
        let s = symbol(cx, "symbol_name", sym)?;
        let name = cx.symbol_name(s).map(|n| n.as_str().to_string()).unwrap_or_default();
        write(&mut c, "symbol_name", out, cap, &name)
    })?;
    define(l, "has_bar", |c: Ctx<'_>, sym: i32| -> Result<i32> {
        let cx = ctx(&c, "has_bar")?;
        Ok(i32::from(cx.has_bar(symbol(cx, "has_bar", sym)?)))
    })?;
    define(l, "bar", |c: Ctx<'_>, sym: i32, k: i32, field: i32| -> Result<f64> {
        let cx = ctx(&c, "bar")?;
        let bar = wrap("bar", cx.bar(symbol(cx, "bar", sym)?, back("bar", k)?))?;
        bar.map_or(Ok(f64::NAN), |bar| bar_field("bar", &bar, field))
    })?;
    define(l, "bar_time", |c: Ctx<'_>, sym: i32, k: i32| -> Result<i64> {
        let cx = ctx(&c, "bar_time")?;
        let bar = wrap("bar_time", cx.bar(symbol(cx, "bar_time", sym)?, back("bar_time", k)?))?;
        Ok(bar.map_or(i64::MIN, |b| b.ts.secs()))
    })?;
    define(l, "time", |c: Ctx<'_>| -> Result<i64> { Ok(ctx(&c, "time")?.time().secs()) })?;
    define(l, "bar_index", |c: Ctx<'_>| -> Result<i64> { Ok(ctx(&c, "bar_index")?.step() as i64) })?;
    define(l, "calendar", |c: Ctx<'_>, part: i32| -> Result<i64> {
        let millis = ctx(&c, "calendar")?.time().millis();
        let t = DateTime::from_timestamp_millis(millis).ok_or_else(|| format_err!("bt.calendar: time out of range"))?;
        Ok(match part {
            0 => i64::from(t.year()),
            1 => i64::from(t.month()),
            2 => i64::from(t.day()),
            3 => i64::from(t.weekday().number_from_monday()),
            4 => i64::from(t.hour()),
            5 => i64::from(t.minute()),
            other => bail!("bt.calendar: part must be 0 (year) to 5 (minute), got {other}"),
        })
    })?;
    define(l, "lookback", |c: Ctx<'_>, bars: i32| -> Result<()> {
        let bars = usize::try_from(bars).map_err(|_| format_err!("bt.lookback: must be >= 1, got {bars}"))?;
        wrap("lookback", ctx(&c, "lookback")?.set_lookback(bars))
    })?;
    Ok(())
}

/// Builds a spec from the ABI's positional arguments, as the kind's entry in
/// the indicator table lists them: its count arguments from `a`, `b`, `c` in
/// order, its number argument from `k`; unused ones must be 0.
fn spec(kind: &str, source: i32, a: i32, b: i32, c: i32, k: f64) -> Result<IndicatorSpec, String> {
    let source = usize::try_from(source)
        .ok()
        .and_then(|i| Source::ALL.get(i).copied())
        .ok_or_else(|| format!("source must be 0 (open) to 4 (volume), got {source}"))?;
    let def = find_kind(kind).map_err(|e| e.to_string())?;
    let mut counts = [("a", a), ("b", b), ("c", c)].into_iter();
    let mut numbers = [("k", k)].into_iter();
    let mut values = Vec::with_capacity(def.args.len());
    for arg in def.args {
        let too_many = || format!("indicator '{kind}' takes more arguments than bt.indicator passes");
        values.push(match arg.ty {
            ArgType::Count => {
                let (slot, v) = counts.next().ok_or_else(too_many)?;
                let n = usize::try_from(v).map_err(|_| format!("{} ({slot}) must be >= 0, got {v}", arg.name))?;
                ArgValue::Count(n)
            }
            ArgType::Number => ArgValue::Number(numbers.next().ok_or_else(too_many)?.1),
        });
    }
    let unused = counts.find(|(_, v)| *v != 0).map(|(slot, _)| slot);
    if let Some(slot) = unused.or_else(|| numbers.find(|(_, v)| *v != 0.0).map(|(slot, _)| slot)) {
        return Err(format!("indicator '{kind}' does not take argument {slot}; pass 0"));
    }
    def.spec(&values, source)
}

fn indicators(l: &mut Linker<HostState>) -> Result<()> {
    define(
        l,
        "indicator",
        |mut cx: Ctx<'_>,
         np: i32,
         nl: i32,
         kp: i32,
         kl: i32,
         sym: i32,
         source: i32,
         a: i32,
         b: i32,
         c: i32,
         k: f64|
         -> Result<i32> {
            let name = string(&mut cx, "indicator", np, nl)?;
            let kind = string(&mut cx, "indicator", kp, kl)?;
            let spec = wrap("indicator", spec(&kind, source, a, b, c, k))?;
            let strategy = ctx(&cx, "indicator")?;
            let s = symbol(strategy, "indicator", sym)?;
            let handle = wrap("indicator", strategy.declare_indicator(&name, s, spec))?;
            i32::try_from(handle).map_err(|_| format_err!("bt.indicator: too many indicators"))
        },
    )?;
    define(l, "ind", |c: Ctx<'_>, h: i32, k: i32| -> Result<f64> {
        let value = ctx(&c, "ind")?.indicator(handle("ind", h)?, back("ind", k)?);
        Ok(nan_if_none(wrap("ind", value)?))
    })?;
    define(l, "cross", |c: Ctx<'_>, a: i32, b: i32| -> Result<i32> {
        let value = ctx(&c, "cross")?.cross(handle("cross", a)?, Operand::Indicator(handle("cross", b)?));
        Ok(i32::from(wrap("cross", value)?))
    })?;
    define(l, "cross_level", |c: Ctx<'_>, a: i32, level: f64| -> Result<i32> {
        let value = ctx(&c, "cross_level")?.cross(handle("cross_level", a)?, Operand::Level(level));
        Ok(i32::from(wrap("cross_level", value)?))
    })?;
    Ok(())
}

fn portfolio(l: &mut Linker<HostState>) -> Result<()> {
    define(l, "position", |c: Ctx<'_>, sym: i32| -> Result<f64> {
        let cx = ctx(&c, "position")?;
        Ok(to_f64(cx.position(symbol(cx, "position", sym)?).qty))
    })?;
    define(l, "avg_price", |c: Ctx<'_>, sym: i32| -> Result<f64> {
        let cx = ctx(&c, "avg_price")?;
        Ok(cx.position(symbol(cx, "avg_price", sym)?).avg_price.map_or(f64::NAN, to_f64))
    })?;
    define(l, "unrealized_pnl", |c: Ctx<'_>, sym: i32| -> Result<f64> {
        let cx = ctx(&c, "unrealized_pnl")?;
        Ok(to_f64(cx.position(symbol(cx, "unrealized_pnl", sym)?).unrealized_pnl))
    })?;
    define(l, "cash", |c: Ctx<'_>| -> Result<f64> { Ok(to_f64(ctx(&c, "cash")?.cash())) })?;
    define(l, "equity", |c: Ctx<'_>| -> Result<f64> { Ok(to_f64(ctx(&c, "equity")?.equity())) })?;
    define(l, "open_orders", |c: Ctx<'_>, sym: i32| -> Result<i32> {
        let cx = ctx(&c, "open_orders")?;
        Ok(cx.open_orders(symbol_or_all(cx, "open_orders", sym)?) as i32)
    })?;
    Ok(())
}

fn orders(l: &mut Linker<HostState>) -> Result<()> {
    define(l, "order", |c: Ctx<'_>, sym: i32, side: i32, qty: f64, kind: i32, price: f64| -> Result<i64> {
        let cx = ctx(&c, "order")?;
        let side = side_of("order", side)?;
        let kind = match kind {
            0 => PriceKind::Market,
            1 => PriceKind::Limit(price),
            2 => PriceKind::Stop(price),
            other => {
                bail!("bt.order: kind must be 0 (market), 1 (limit) or 2 (stop), got {other}")
            }
        };
        let id = wrap("order", cx.order(symbol(cx, "order", sym)?, side, qty, kind))?;
        Ok(id.0 as i64)
    })?;
    define(l, "order_target_percent", |c: Ctx<'_>, sym: i32, fraction: f64| -> Result<i64> {
        let cx = ctx(&c, "order_target_percent")?;
        let s = symbol(cx, "order_target_percent", sym)?;
        Ok(wrap("order_target_percent", cx.order_target_percent(s, fraction))?.0 as i64)
    })?;
    define(l, "close_position", |c: Ctx<'_>, sym: i32| -> Result<i64> {
        let cx = ctx(&c, "close_position")?;
        let s = symbol(cx, "close_position", sym)?;
        Ok(wrap("close_position", cx.close_position(s))?.0 as i64)
    })?;
    define(l, "cancel", |c: Ctx<'_>, id: i64| -> Result<i32> {
        let cx = ctx(&c, "cancel")?;
        Ok(u64::try_from(id).map_or(0, |id| i32::from(cx.cancel(OrderId(id)))))
    })?;
    define(l, "cancel_all", |c: Ctx<'_>, sym: i32| -> Result<i32> {
        let cx = ctx(&c, "cancel_all")?;
        Ok(cx.cancel_all(symbol_or_all(cx, "cancel_all", sym)?) as i32)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::spec;

    #[test]
    fn every_kind_builds_from_the_positional_arguments() {
        let shown = |kind, source, a, b, c, k| spec(kind, source, a, b, c, k).map(|s| s.to_string());
        assert_eq!(shown("sma", 3, 5, 0, 0, 0.0).as_deref(), Ok("sma(5, close)"));
        assert_eq!(shown("ema", 0, 5, 0, 0, 0.0).as_deref(), Ok("ema(5, open)"));
        assert_eq!(shown("atr", 3, 14, 0, 0, 0.0).as_deref(), Ok("atr(14)"));
        assert_eq!(shown("macd", 4, 3, 7, 4, 0.0).as_deref(), Ok("macd(3, 7, 4, volume)"));
        assert_eq!(shown("bollinger", 2, 20, 0, 0, 2.5).as_deref(), Ok("bollinger(20, 2.5, low)"));
    }

    #[test]
    fn mistakes_are_named() {
        let err = |kind, source, a, b, c, k| spec(kind, source, a, b, c, k).unwrap_err();
        assert_eq!(
            err("foo", 3, 5, 0, 0, 0.0),
            "unknown indicator kind 'foo'; known kinds: sma, ema, wma, rsi, macd, bollinger, atr, stddev, highest, lowest, roc"
        );
        assert_eq!(err("sma", 5, 5, 0, 0, 0.0), "source must be 0 (open) to 4 (volume), got 5");
        assert_eq!(err("sma", 3, -1, 0, 0, 0.0), "period (a) must be >= 0, got -1");
        assert_eq!(err("macd", 3, 3, -7, 4, 0.0), "slow (b) must be >= 0, got -7");
        assert_eq!(err("sma", 3, 5, 1, 0, 0.0), "indicator 'sma' does not take argument b; pass 0");
        assert_eq!(err("sma", 3, 5, 0, 0, 2.0), "indicator 'sma' does not take argument k; pass 0");
        assert_eq!(err("macd", 3, 3, 7, 4, 1.0), "indicator 'macd' does not take argument k; pass 0");
        assert_eq!(err("bollinger", 3, 20, 0, 9, 2.0), "indicator 'bollinger' does not take argument c; pass 0");
    }
}
