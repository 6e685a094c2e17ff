//! What every host function of module `bt` works with: the store's state,
//! the calling plugin's memory, and the checks of its arguments (symbol
//! indexes, bars back, handles, sides), each failing with
//! `bt.<function>: <what is wrong>`.

use std::time::Instant;

use wasmtime::{bail, format_err, Caller, Extern, Memory, Result, StoreLimits};

use crate::domain::{Bar, CancelToken, PriceField, Side};
use crate::session::{BarLoop, IndicatorRef, ParamSpec, StrategyCtx};

use super::limits::MAX_HOST_STRING;
use super::shared::SharedArea;

/// What the store of one plugin instance holds.
pub struct HostState {
    /// The run's context, from init on.
    pub ctx: Option<StrategyCtx>,
    /// True while `bt_params` runs: the only time `declare_*` is allowed.
    pub declaring: bool,
    pub declared: Vec<ParamSpec>,
    /// The last message given to `bt.fail`.
    pub failure: Option<String>,
    pub limits: StoreLimits,
    pub cancel: CancelToken,
    /// End of the run's time budget, if it has one.
    pub deadline: Option<Instant>,
    /// Where the plugin wants the indicators' latest values (ABI version 3).
    pub shared: Option<SharedArea>,
    /// The plugin's memory, once instantiated.
    pub memory: Option<Memory>,
    /// The engine's queued steps while `bt_on_bars` runs: the only time
    /// `bt.next_bar` is allowed (ABI version 4).
    pub bar_loop: Option<BarLoop>,
}

pub(super) type Ctx<'a> = Caller<'a, HostState>;

pub(super) fn ctx<'a>(caller: &'a Ctx<'_>, f: &str) -> Result<&'a StrategyCtx> {
    caller.data().ctx.as_ref().ok_or_else(|| format_err!("bt.{f}: only available from bt_init on (not in bt_params)"))
}

/// Bytes `ptr..ptr + len` of the plugin's memory.
pub(super) fn bytes(caller: &mut Ctx<'_>, f: &str, ptr: i32, len: i32) -> Result<Vec<u8>> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        bail!("bt.{f}: the plugin exports no memory");
    };
    let data = memory.data(&caller);
    let range = usize::try_from(ptr)
        .ok()
        .zip(usize::try_from(len).ok())
        .and_then(|(p, l)| Some(p..p.checked_add(l)?))
        .filter(|r| r.end <= data.len())
        .ok_or_else(|| {
            format_err!("bt.{f}: pointer {ptr} with length {len} is outside the plugin's memory ({} bytes)", data.len())
        })?;
    Ok(data[range].to_vec())
}

pub(super) fn string(caller: &mut Ctx<'_>, f: &str, ptr: i32, len: i32) -> Result<String> {
    if usize::try_from(len).is_ok_and(|n| n > MAX_HOST_STRING) {
        bail!("bt.{f}: a string of {len} bytes is longer than the {MAX_HOST_STRING} a plugin may pass");
    }
    String::from_utf8(bytes(caller, f, ptr, len)?).map_err(|_| format_err!("bt.{f}: the string is not valid UTF-8"))
}

/// Writes up to `cap` bytes of `text` at `ptr`; returns the full length.
pub(super) fn write(caller: &mut Ctx<'_>, f: &str, ptr: i32, cap: i32, text: &str) -> Result<i32> {
    let n = text.len().min(usize::try_from(cap).unwrap_or(0));
    write_bytes(caller, f, ptr, &text.as_bytes()[..n])?;
    i32::try_from(text.len()).map_err(|_| format_err!("bt.{f}: text too long"))
}

/// Writes `data` at `ptr` in the plugin's memory.
pub(super) fn write_bytes(caller: &mut Ctx<'_>, f: &str, ptr: i32, data: &[u8]) -> Result<()> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        bail!("bt.{f}: the plugin exports no memory");
    };
    let offset = usize::try_from(ptr).map_err(|_| format_err!("bt.{f}: negative pointer {ptr}"))?;
    memory
        .write(&mut *caller, offset, data)
        .map_err(|_| format_err!("bt.{f}: pointer {ptr} with length {} is outside the plugin's memory", data.len()))
}

pub(super) fn symbol(ctx: &StrategyCtx, f: &str, sym: i32) -> Result<usize> {
    let count = ctx.symbol_count();
    usize::try_from(sym)
        .ok()
        .filter(|&s| s < count)
        .ok_or_else(|| format_err!("bt.{f}: symbol index {sym} is out of range (this run has {count} symbols)"))
}

pub(super) fn back(f: &str, k: i32) -> Result<usize> {
    usize::try_from(k).map_err(|_| format_err!("bt.{f}: bars back must be >= 0, got {k}"))
}

pub(super) fn handle(f: &str, h: i32) -> Result<IndicatorRef<'static>> {
    usize::try_from(h)
        .map(IndicatorRef::Handle)
        .map_err(|_| format_err!("bt.{f}: indicator handle must be >= 0, got {h}"))
}

pub(super) fn wrap<T, E: std::fmt::Display>(f: &str, r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| format_err!("bt.{f}: {e}"))
}

pub(super) fn nan_if_none(value: Option<f64>) -> f64 {
    value.unwrap_or(f64::NAN)
}

/// Field `field` of `bar` as the ABI numbers them: 0 open, 1 high, 2 low,
/// 3 close, 4 volume.
pub(super) fn bar_field(f: &str, bar: &Bar, field: i32) -> Result<f64> {
    Ok(match field {
        0 => bar.narrow(PriceField::Open).to_f64(),
        1 => bar.narrow(PriceField::High).to_f64(),
        2 => bar.narrow(PriceField::Low).to_f64(),
        3 => bar.narrow(PriceField::Close).to_f64(),
        4 => bar.volume,
        other => bail!("bt.{f}: field must be 0 (open) to 4 (volume), got {other}"),
    })
}

/// The side an ABI argument names: 1 buys, -1 sells.
pub(super) fn side_of(f: &str, side: i32) -> Result<Side> {
    match side {
        1 => Ok(Side::Buy),
        -1 => Ok(Side::Sell),
        other => bail!("bt.{f}: side must be 1 (buy) or -1 (sell), got {other}"),
    }
}
