//! ABI version 4: a plugin that drives the bar loop itself.
//!
//! A plugin may export `bt_on_bars() -> i32`. The host then calls it once
//! per run of steps (a few thousand bars, up to the next progress report)
//! instead of calling `bt_on_bar` once per bar, and the plugin takes the
//! bars one by one with `bt.next_bar() -> i32`:
//!
//! ```text
//! while bt.next_bar() == 1 { on_bar logic }   return 0
//! ```
//!
//! `bt.next_bar` ends the bar the plugin was given last (fills at the close,
//! the equity point) and begins the next one (fills at the open, indicators,
//! the shared indicator area), exactly as the host's own loop does around a
//! `bt_on_bar` call; it returns 0 once the run of steps is done, and the
//! plugin returns to the host. A call into the host costs a fraction of a
//! call into the plugin, and a strategy's own work per bar is often smaller
//! than either. Returning a non-zero status fails the run at the current
//! bar, like `bt_on_bar`; returning 0 before `bt.next_bar` said 0 fails it
//! too (the bars would silently be skipped otherwise).

use wasmtime::{bail, Linker, Result};

use super::caller::{Ctx, HostState};
use super::imports::define;
use super::shared;

/// Registers `bt.next_bar() -> i32`.
pub(super) fn register(l: &mut Linker<HostState>) -> Result<()> {
    define(l, "next_bar", |mut c: Ctx<'_>| -> Result<i32> {
        const F: &str = "next_bar";
        let Some(memory) = c.data().memory else {
            bail!("bt.{F}: the plugin exports no memory");
        };
        let (data, host) = memory.data_and_store_mut(&mut c);
        let (Some(bars), Some(ctx)) = (host.bar_loop.as_ref(), host.ctx.as_ref()) else {
            bail!("bt.{F}: only available inside bt_on_bars");
        };
        if !bars.next() {
            return Ok(0);
        }
        if let Some(area) = host.shared {
            if let Err(message) = ctx.with_indicators(|bank| shared::write(area, bank, data)) {
                bail!("bt.{F}: {message}");
            }
        }
        Ok(1)
    })?;
    Ok(())
}
