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

/// The second side of a crossing pair: an indicator handle or a level (its bits).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Side {
    Output(i32),
    Level(u64),
}

/// The most pairs remembered at once (the host's `MAX_PAIRS`).
const MAX_PAIRS: usize = 1024;

/// What the last crossing test of one pair saw (the host's rule, `src/strategy/crossing.rs`).
#[derive(Clone, Copy)]
struct Seen {
    bar: u64,
    /// The side before that bar (the latest that differed): 1, -1, or 0 when not known.
    before: i32,
    /// The latest side that differed up to and including that bar, or 0.
    latest: i32,
}

/// The bar count and each tested pair's memory.
struct Crossings {
    bar: u64,
    pairs: Vec<((i32, Side), Seen)>,
}

struct Memory(UnsafeCell<Crossings>);

// SAFETY: as `Buffer`: one thread, and no reference into it outlives a call below.
unsafe impl Sync for Memory {}

static CROSSINGS: Memory = Memory(UnsafeCell::new(Crossings { bar: 0, pairs: Vec::new() }));

/// Marks the start of a new bar (`bt_on_bars` calls it after each `bt.next_bar`).
pub(crate) fn bar_started() {
    // SAFETY: see `Memory`.
    let memory = unsafe { &mut *CROSSINGS.0.get() };
    memory.bar += 1;
}

fn side(a: f64, b: f64) -> i32 {
    if a > b {
        1
    } else if a < b {
        -1
    } else {
        0
    }
}

/// The host's `cross` rule (backtrader's): 1 if `a` is above `b` now and was below it at the
/// latest earlier bar where they differed, -1 for the reverse, 0 otherwise or when a value is
/// missing (NaN). Ties are looked through with what the pair's previous test saw.
pub(crate) fn crossing(pair: (i32, Side), a: (f64, f64), b: (f64, f64)) -> i32 {
    // SAFETY: see `Memory`.
    let memory = unsafe { &mut *CROSSINGS.0.get() };
    let ((now_a, prev_a), (now_b, prev_b)) = (a, b);
    let slot = memory.pairs.iter().position(|(p, _)| *p == pair);
    let last = slot.map(|i| memory.pairs[i].1);
    let before = match last {
        Some(seen) if seen.bar == memory.bar => seen.before,
        _ if prev_a.is_nan() || prev_b.is_nan() => 0,
        _ => match side(prev_a, prev_b) {
            0 => last.map_or(0, |seen| seen.latest),
            differs => differs,
        },
    };
    let ready = !(now_a.is_nan() || now_b.is_nan());
    let now = if ready { side(now_a, now_b) } else { 0 };
    let latest = if !ready {
        0
    } else if now == 0 {
        before
    } else {
        now
    };
    let seen = Seen { bar: memory.bar, before, latest };
    match slot {
        Some(i) => memory.pairs[i].1 = seen,
        None => {
            if memory.pairs.len() >= MAX_PAIRS {
                // As the host: the pair tested longest ago makes room.
                let oldest = (0..memory.pairs.len()).min_by_key(|&i| memory.pairs[i].1.bar).unwrap_or(0);
                memory.pairs.remove(oldest);
            }
            memory.pairs.push((pair, seen));
        }
    }
    if before == -1 && now == 1 {
        1
    } else if before == 1 && now == -1 {
        -1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::{bar_started, crossing, Side};

    const NAN: f64 = f64::NAN;

    /// The crosses of a series against the level 1.5, one test per bar, on a fresh pair `id`.
    fn crosses(id: i32, series: &[f64]) -> Vec<i32> {
        let pair = (id, Side::Level(1.5f64.to_bits()));
        (0..series.len())
            .map(|i| {
                bar_started();
                let previous = if i == 0 { NAN } else { series[i - 1] };
                crossing(pair, (series[i], previous), (1.5, 1.5))
            })
            .collect::<Vec<_>>()
    }

    #[test]
    fn crossing_matches_the_host_rule() {
        // The cases of the host's own tests (src/strategy/crossing.rs).
        assert_eq!(crosses(1, &[2.0, 1.5, 2.0]), [0, 0, 0], "touch and return");
        assert_eq!(crosses(2, &[1.0, 1.5, 2.0]), [0, 0, 1], "through a tie");
        assert_eq!(crosses(3, &[2.0, 1.5, 1.5, 1.5, 1.0]), [0, 0, 0, 0, -1], "through a long tie");
        assert_eq!(crosses(4, &[1.0, 2.0, 1.0, 2.0]), [0, 1, -1, 1]);
        assert_eq!(crosses(5, &[NAN, 1.5, 2.0, 1.0]), [0, 0, 0, -1], "a tie first");
        assert_eq!(crosses(6, &[NAN, 1.0, 2.0]), [0, 0, 1]);
        // Two pairs on the same bars keep their own memory; a second test in a bar repeats.
        bar_started();
        let (a, b) = ((7, Side::Output(0)), (8, Side::Output(0)));
        assert_eq!(crossing(a, (1.0, NAN), (2.0, NAN)), 0);
        assert_eq!(crossing(b, (3.0, NAN), (2.0, NAN)), 0);
        bar_started();
        assert_eq!(crossing(a, (3.0, 1.0), (2.0, 2.0)), 1);
        assert_eq!(crossing(a, (3.0, 1.0), (2.0, 2.0)), 1);
        assert_eq!(crossing(b, (1.0, 3.0), (2.0, 2.0)), -1);
    }
}
