//! Long-only SMA crossover, the plugin twin of `scripts/sma_cross.rhai`: all in when the fast
//! average crosses above the slow one, flat when it crosses back below.
//!
//! Parameters: `fast` (default 10) and `slow` (default 20), the two periods.

use backtester_plugin::{export_strategy, Ctx, Error, Indicator, Params, Strategy, Symbol};

/// The strategy's state: the two averages' handles.
#[derive(Default)]
struct SmaCross {
    fast: Indicator,
    slow: Indicator,
}

impl Strategy for SmaCross {
    fn params(p: &mut Params) {
        p.int("fast", 10).int("slow", 20);
    }

    fn init(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        self.fast = ctx.sma("fast", ctx.param_int("fast"));
        self.slow = ctx.sma("slow", ctx.param_int("slow"));
        Ok(())
    }

    fn on_bar(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        // 1 when "fast" crossed above "slow" on this bar, -1 when it crossed below, 0 otherwise.
        let cross = ctx.cross(self.fast, self.slow);
        if cross > 0 {
            ctx.order_target_percent(Symbol::PRIMARY, 1.0);
        } else if cross < 0 {
            ctx.close_position(Symbol::PRIMARY);
        }
        Ok(())
    }
}

export_strategy!(SmaCross);
