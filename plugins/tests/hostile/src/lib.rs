//! A deliberately misbehaving plugin for testing the host's sandbox and limits.
//!
//! Parameters: `mode` (default 0) chooses the misbehaviour and `at` (default 5) the bar index at
//! which `on_bar` commits it:
//!
//! | mode | misbehaviour |
//! |---|---|
//! | 0 | none: behaves (does nothing) |
//! | 1 | an infinite loop (needs the CPU budget to stop it) |
//! | 2 | unbounded memory growth, 1 MiB chunks kept alive (needs the memory limit) |
//! | 3 | unbounded, non-tail recursion (needs the wasm stack limit) |
//! | 4 | an explicit trap (`unreachable`) |
//! | 5 | a panic with the message "hostile plugin panicked on purpose" |
//! | 6 | an out-of-bounds pointer passed to `bt.log` (ptr 0x7fff_fff0, len 64) |
//! | 7 | an error returned from `on_bar`: "hostile plugin failed on purpose" |

use backtester_plugin::{export_strategy, sys, Ctx, Error, Params, Strategy};

/// The strategy's state: the two parameters.
#[derive(Default)]
struct Hostile {
    mode: i64,
    at: i64,
}

/// Never equal to a real depth: read with `read_volatile` so the optimizer cannot prove the
/// recursion below unbounded (and turn it into a loop or a trap).
static DEPTH_LIMIT: u64 = u64::MAX;

/// Spins forever; the volatile read is a side effect the optimizer must keep.
fn spin() -> ! {
    let word = 0u64;
    loop {
        // SAFETY: reads a live local.
        unsafe { core::ptr::read_volatile(&word) };
    }
}

/// Allocates 1 MiB chunks and keeps them alive until allocation fails.
fn hoard(ctx: &Ctx) {
    const CHUNK: usize = 1 << 20;
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; CHUNK];
        // Touch every page so nothing can be elided.
        for i in (0..CHUNK).step_by(4096) {
            // SAFETY: `i` is within the chunk.
            unsafe { core::ptr::write_volatile(chunk.as_mut_ptr().add(i), 1) };
        }
        kept.push(chunk);
        if kept.len() % 16 == 0 {
            ctx.log(&format!("hostile: holding {} MiB", kept.len()));
        }
    }
}

/// Recurses until the stack runs out; the work after the call keeps it from being a tail call.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    // SAFETY: reads a static.
    if depth == unsafe { core::ptr::read_volatile(&DEPTH_LIMIT) } {
        return depth;
    }
    let below = recurse(depth + 1);
    below.rotate_left(7) ^ depth.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Executes the wasm `unreachable` instruction.
fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

impl Strategy for Hostile {
    fn params(p: &mut Params) {
        p.int("mode", 0).int("at", 5);
    }

    fn init(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        self.mode = ctx.param_int("mode");
        self.at = ctx.param_int("at");
        Ok(())
    }

    fn on_bar(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        if self.mode == 0 || ctx.bar_index() != self.at {
            return Ok(());
        }
        match self.mode {
            1 => spin(),
            2 => hoard(ctx),
            3 => {
                let r = recurse(0);
                ctx.log(&format!("hostile: recursion returned {}", r));
            }
            4 => trap(),
            5 => panic!("hostile plugin panicked on purpose"),
            // SAFETY: not safe at all: the pointer is out of bounds on purpose; the host must
            // refuse it (it never dereferences guest memory without a bounds check).
            6 => unsafe { sys::log(0x7fff_fff0, 64) },
            7 => return Err("hostile plugin failed on purpose".into()),
            other => return Err(format!("hostile: unknown mode {}", other).into()),
        }
        Ok(())
    }
}

export_strategy!(Hostile);
