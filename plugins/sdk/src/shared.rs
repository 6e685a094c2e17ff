//! The indicator values the host shares through this module's memory (ABI version 3).
//!
//! After `init` the SDK hands the host one buffer with room for every declared indicator output
//! (`bt.share_indicators`); as each bar begins the host writes each output's value now and one
//! bar earlier into it. [`Ctx::ind`](crate::Ctx::ind) with `k` 0 or 1, [`Ctx::cross`](crate::Ctx::cross)
//! and [`Ctx::cross_level`](crate::Ctx::cross_level) read it instead of calling the host, with the
//! same answers: at one crossing test per bar, the host call costs more than the strategy itself.

use std::cell::UnsafeCell;

use crate::sys;

/// Two f64 per output: now, then one bar earlier.
struct Buffer(UnsafeCell<Vec<f64>>);

// SAFETY: a plugin instance is single-threaded (wasm32-unknown-unknown has no threads), and the
// host writes the buffer only inside `bt.next_bar`, never while plugin code runs.
unsafe impl Sync for Buffer {}

static BUFFER: Buffer = Buffer(UnsafeCell::new(Vec::new()));

/// Shares a buffer for every output declared so far (called once `init` has succeeded).
pub(crate) fn start() {
    // SAFETY: see `Sync` above; no reference into the buffer is alive during an export's setup.
    let buffer = unsafe { &mut *BUFFER.0.get() };
    let outputs = unsafe { sys::share_indicators(0, 0) };
    if outputs <= 0 {
        buffer.clear();
        return;
    }
    *buffer = vec![f64::NAN; 2 * outputs as usize];
    unsafe { sys::share_indicators(buffer.as_ptr() as usize as i32, outputs) };
}

/// Output `handle`'s value now and one bar earlier (NaN where there is none), if it is shared.
#[inline]
pub(crate) fn latest(handle: i32) -> Option<(f64, f64)> {
    // SAFETY: see `Sync` above. The host writes the buffer inside `bt.next_bar` calls, so it is
    // read with volatile loads that the compiler cannot cache across them.
    let buffer = unsafe { &*BUFFER.0.get() };
    let i = usize::try_from(handle).ok()?.checked_mul(2)?;
    if i + 1 >= buffer.len() {
        return None;
    }
    let p = buffer.as_ptr();
    unsafe { Some((std::ptr::read_volatile(p.add(i)), std::ptr::read_volatile(p.add(i + 1)))) }
}

/// The crossing test of the host's `cross`: 1 if `a` went from at or below `b` to above it,
/// -1 for the reverse, 0 otherwise or when any of the four values is missing (NaN).
#[inline]
pub(crate) fn crossing(a: (f64, f64), b: (f64, f64)) -> i32 {
    let ((now_a, prev_a), (now_b, prev_b)) = (a, b);
    if now_a.is_nan() || prev_a.is_nan() || now_b.is_nan() || prev_b.is_nan() {
        0
    } else if now_a > now_b && prev_a <= prev_b {
        1
    } else if now_a < now_b && prev_a >= prev_b {
        -1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::crossing;

    const NAN: f64 = f64::NAN;

    #[test]
    fn crossing_matches_the_host_rule() {
        assert_eq!(crossing((2.0, 1.0), (1.5, 1.5)), 1, "from below to above");
        assert_eq!(crossing((2.0, 1.5), (1.5, 1.5)), 1, "from touching to above");
        assert_eq!(crossing((1.0, 2.0), (1.5, 1.5)), -1, "from above to below");
        assert_eq!(crossing((1.5, 1.0), (1.5, 1.5)), 0, "touching is not crossing");
        assert_eq!(crossing((2.0, 1.8), (1.5, 1.5)), 0, "already above");
        assert_eq!(crossing((2.0, NAN), (1.5, 1.5)), 0, "no previous value yet");
        assert_eq!(crossing((2.0, 1.0), (NAN, 1.5)), 0, "other side not ready");
    }
}
