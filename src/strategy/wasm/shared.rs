//! ABI version 3: the indicators' latest values shared through the plugin's
//! memory.
//!
//! A plugin may hand the host an area of its memory with
//! `bt.share_indicators(ptr, cap)`. Before each `bt_on_bar` the host then
//! writes, for each indicator output `h < cap`, the output's value now and
//! one bar earlier as two little-endian f64 at `ptr + 16 h` (NaN where there
//! is no value yet). Those are exactly the values `bt.ind(h, 0)`,
//! `bt.ind(h, 1)`, `bt.cross` and `bt.cross_level` read, so a plugin can
//! answer them without a host call: at one crossing test per bar, a host call
//! costs more than the strategy's own work. Nothing later than the current bar
//! is ever written.

use wasmtime::{bail, format_err, Extern, Linker, Result};

use super::caller::{ctx, Ctx, HostState};
use super::imports::define;
use crate::session::IndicatorBank;

/// Bytes per shared output: the value now and one bar earlier.
pub const BYTES_PER_OUTPUT: usize = 16;

/// The area a plugin shared: where it starts and how many outputs it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedArea {
    offset: usize,
    capacity: usize,
}

/// Registers `bt.share_indicators(ptr, cap) -> i32`: shares `cap` outputs'
/// worth of memory at `ptr` (cap 0 stops sharing) and returns how many
/// outputs the run's indicators have, so that a plugin can size the area.
pub(super) fn register(l: &mut Linker<HostState>) -> Result<()> {
    define(l, "share_indicators", |mut c: Ctx<'_>, ptr: i32, cap: i32| -> Result<i32> {
        const F: &str = "share_indicators";
        let outputs = ctx(&c, F)?.with_indicators(IndicatorBank::outputs);
        let outputs = i32::try_from(outputs).map_err(|_| format_err!("bt.{F}: too many indicator outputs"))?;
        let (Ok(offset), Ok(capacity)) = (usize::try_from(ptr), usize::try_from(cap)) else {
            bail!("bt.{F}: pointer and capacity must be >= 0, got {ptr} and {cap}");
        };
        if capacity == 0 {
            c.data_mut().shared = None;
            return Ok(outputs);
        }
        let Some(Extern::Memory(memory)) = c.get_export("memory") else {
            bail!("bt.{F}: the plugin exports no memory");
        };
        let size = memory.data_size(&c);
        let fits =
            capacity.checked_mul(BYTES_PER_OUTPUT).and_then(|n| offset.checked_add(n)).is_some_and(|end| end <= size);
        if !fits {
            bail!(
                "bt.{F}: {capacity} outputs ({BYTES_PER_OUTPUT} bytes each) at pointer {ptr} do not fit in the plugin's memory ({size} bytes)"
            );
        }
        c.data_mut().shared = Some(SharedArea { offset, capacity });
        Ok(outputs)
    })?;
    Ok(())
}

/// Writes the latest values of `bank`'s outputs into `area` of `memory`.
///
/// # Errors
/// The area no longer fits in the memory (it cannot shrink, so never in
/// practice).
// Always: once per bar, and outlined it cost a call frame as large as its loop.
#[inline(always)]
pub(super) fn write(area: SharedArea, bank: &IndicatorBank, memory: &mut [u8]) -> Result<(), String> {
    let count = area.capacity.min(bank.outputs());
    let end = area.offset + count * BYTES_PER_OUTPUT;
    let out = memory.get_mut(area.offset..end).ok_or("the shared indicator area is outside the plugin's memory")?;
    for (slot, (now, previous)) in out.chunks_exact_mut(BYTES_PER_OUTPUT).zip(bank.latest()) {
        let pair = u128::from(now.to_bits()) | u128::from(previous.to_bits()) << 64;
        slot.copy_from_slice(&pair.to_le_bytes());
    }
    Ok(())
}
