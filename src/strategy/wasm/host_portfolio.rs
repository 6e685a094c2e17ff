//! Host functions added in ABI version 2 (and `rebalance_ids`, version 4): brackets, trailing stops,
//! rebalancing, sizing helpers, schedules and second timeframes. The same
//! capabilities as the Rhai portfolio API, over numbers and pointers.

use wasmtime::{bail, format_err, Linker, Result};

use crate::domain::num::from_f64;
use crate::domain::{ExitLevel, Exits, TrailOffset};
use crate::session::{CtxError, Period, PriceKind, StrategyCtx};

use super::caller::{
    back, bar_field, bytes, ctx, handle, nan_if_none, side_of, string, symbol, wrap, write_bytes, Ctx, HostState,
};
use super::imports::define;

/// `len` little-endian f64 weights at `ptr`, one per symbol.
fn weights(c: &mut Ctx<'_>, f: &str, ptr: i32, len: i32) -> Result<Vec<(usize, f64)>> {
    let count = ctx(c, f)?.symbol_count();
    if usize::try_from(len).ok() != Some(count) {
        bail!("bt.{f}: pass one weight per symbol ({count}), got {len}");
    }
    let raw = bytes(c, f, ptr, len.saturating_mul(8))?;
    Ok(raw
        .chunks_exact(8)
        .enumerate()
        .map(|(s, b)| (s, f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])))
        .collect())
}

fn exact(f: &str, what: &'static str, x: f64) -> Result<rust_decimal::Decimal> {
    from_f64(x).ok_or_else(|| format_err!("bt.{f}: {}", CtxError::NotFinite { what, value: x }))
}

/// An exit level from (kind, value): 0 none, 1 price, 2 fraction.
fn level(f: &str, what: &'static str, kind: i32, value: f64) -> Result<Option<ExitLevel>> {
    Ok(match kind {
        0 => None,
        1 => Some(ExitLevel::Price(exact(f, what, value)?)),
        2 => Some(ExitLevel::Fraction(exact(f, what, value)?)),
        other => bail!("bt.{f}: {what} kind must be 0 (none), 1 (price) or 2 (fraction), got {other}"),
    })
}

/// A trailing offset from (kind, value): 1 amount, 2 fraction (0 none).
fn trail(f: &str, kind: i32, value: f64) -> Result<Option<TrailOffset>> {
    Ok(match kind {
        0 => None,
        1 => Some(TrailOffset::Amount(exact(f, "trail amount", value)?)),
        2 => Some(TrailOffset::Fraction(exact(f, "trail fraction", value)?)),
        other => bail!("bt.{f}: trail kind must be 0 (none), 1 (amount) or 2 (fraction), got {other}"),
    })
}

fn timeframe_handle(f: &str, h: i32) -> Result<usize> {
    usize::try_from(h).map_err(|_| format_err!("bt.{f}: timeframe handle must be >= 0, got {h}"))
}

fn tf(cx: &StrategyCtx, f: &str, h: i32, k: i32) -> Result<Option<crate::domain::Bar>> {
    wrap(f, cx.timeframe_bar(timeframe_handle(f, h)?, back(f, k)?))
}

/// Registers the version-2 functions and `rebalance_ids` (version 4).
///
/// # Errors
/// Never in practice (duplicate definitions only).
pub fn register(l: &mut Linker<HostState>) -> Result<()> {
    define(
        l,
        "order_bracket",
        |c: Ctx<'_>,
         sym: i32,
         side: i32,
         qty: f64,
         kind: i32,
         price: f64,
         sl_kind: i32,
         sl: f64,
         tp_kind: i32,
         tp: f64,
         trail_kind: i32,
         trail_value: f64|
         -> Result<i64> {
            let f = "order_bracket";
            let cx = ctx(&c, f)?;
            let entry = match kind {
                0 => PriceKind::Market,
                1 => PriceKind::Limit(price),
                2 => PriceKind::Stop(price),
                other => bail!("bt.{f}: kind must be 0 (market), 1 (limit) or 2 (stop), got {other}"),
            };
            let exits = Exits {
                stop_loss: level(f, "stop-loss", sl_kind, sl)?,
                take_profit: level(f, "take-profit", tp_kind, tp)?,
                trailing: trail(f, trail_kind, trail_value)?,
            };
            let id = wrap(f, cx.order_bracket(symbol(cx, f, sym)?, side_of(f, side)?, qty, entry, exits))?;
            Ok(id.0 as i64)
        },
    )?;
    define(
        l,
        "order_trailing_stop",
        |c: Ctx<'_>, sym: i32, side: i32, qty: f64, kind: i32, value: f64| -> Result<i64> {
            let f = "order_trailing_stop";
            let cx = ctx(&c, f)?;
            let offset = trail(f, kind, value)?
                .ok_or_else(|| format_err!("bt.{f}: trail kind must be 1 (amount) or 2 (fraction), got 0"))?;
            Ok(wrap(f, cx.order_trailing_stop(symbol(cx, f, sym)?, side_of(f, side)?, qty, offset))?.0 as i64)
        },
    )?;
    define(l, "rebalance", |mut c: Ctx<'_>, ptr: i32, len: i32| -> Result<i32> {
        let f = "rebalance";
        let weights = weights(&mut c, f, ptr, len)?;
        let ids = wrap(f, ctx(&c, f)?.rebalance(&weights))?;
        Ok(ids.len() as i32)
    })?;
    define(l, "rebalance_ids", |mut c: Ctx<'_>, ptr: i32, len: i32, out: i32| -> Result<i32> {
        let f = "rebalance_ids";
        let weights = weights(&mut c, f, ptr, len)?;
        // Room for one id per symbol (a rebalance places at most one order
        // per symbol), checked before any order is placed.
        bytes(&mut c, f, out, len.saturating_mul(8))?;
        let ids = wrap(f, ctx(&c, f)?.rebalance(&weights))?;
        let raw: Vec<u8> = ids.iter().flat_map(|id| (id.0 as i64).to_le_bytes()).collect();
        write_bytes(&mut c, f, out, &raw)?;
        Ok(ids.len() as i32)
    })?;
    define(l, "qty_for_fraction", |c: Ctx<'_>, sym: i32, fraction: f64| -> Result<f64> {
        let cx = ctx(&c, "qty_for_fraction")?;
        let s = symbol(cx, "qty_for_fraction", sym)?;
        Ok(nan_if_none(wrap("qty_for_fraction", cx.qty_for_fraction(s, fraction))?))
    })?;
    define(l, "qty_for_risk", |c: Ctx<'_>, fraction: f64, h: i32| -> Result<f64> {
        let cx = ctx(&c, "qty_for_risk")?;
        Ok(nan_if_none(wrap("qty_for_risk", cx.qty_for_risk(fraction, handle("qty_for_risk", h)?))?))
    })?;
    define(l, "schedule", |c: Ctx<'_>, period: i32| -> Result<i32> {
        let cx = ctx(&c, "schedule")?;
        let period = Period::from_code(period).ok_or_else(|| {
            format_err!("bt.schedule: period must be 0 (daily), 1 (weekly) or 2 (monthly), got {period}")
        })?;
        Ok(i32::from(cx.schedule(period)))
    })?;
    define(l, "timeframe", |mut c: Ctx<'_>, sym: i32, ptr: i32, len: i32| -> Result<i32> {
        let interval = string(&mut c, "timeframe", ptr, len)?;
        let cx = ctx(&c, "timeframe")?;
        let h = wrap("timeframe", cx.declare_timeframe(symbol(cx, "timeframe", sym)?, &interval))?;
        Ok(h as i32)
    })?;
    define(l, "tf_bar", |c: Ctx<'_>, h: i32, k: i32, field: i32| -> Result<f64> {
        let bar = tf(ctx(&c, "tf_bar")?, "tf_bar", h, k)?;
        bar.map_or(Ok(f64::NAN), |bar| bar_field("tf_bar", &bar, field))
    })?;
    define(l, "tf_bar_time", |c: Ctx<'_>, h: i32, k: i32| -> Result<i64> {
        Ok(tf(ctx(&c, "tf_bar_time")?, "tf_bar_time", h, k)?.map_or(i64::MIN, |b| b.ts.secs()))
    })?;
    Ok(())
}
