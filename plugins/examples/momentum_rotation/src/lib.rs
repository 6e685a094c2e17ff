//! Monthly momentum rotation, the plugin twin of `scripts/momentum_rotation.rhai`: on the first
//! bar of each month, hold the one symbol with the strongest rate of change over `period` bars.
//!
//! Parameters: `period` (default 63), the rate of change's period in bars, and `fraction`
//! (default 1.0), the share of equity to hold in the chosen symbol.

use backtester_plugin::{export_strategy, Ctx, Error, Indicator, Params, Strategy, Symbol};

/// One symbol of the run and its rate-of-change indicator.
struct Candidate {
    symbol: Symbol,
    name: String,
    roc: Indicator,
}

/// The strategy's state.
struct MomentumRotation {
    candidates: Vec<Candidate>,
    /// The month of the last bar seen (-1 before the first).
    month: i64,
    /// The symbol held, if any.
    held: Option<Symbol>,
    /// The `fraction` parameter.
    fraction: f64,
}

impl Default for MomentumRotation {
    fn default() -> Self {
        MomentumRotation { candidates: Vec::new(), month: -1, held: None, fraction: 1.0 }
    }
}

impl Strategy for MomentumRotation {
    fn params(p: &mut Params) {
        p.int("period", 63).float("fraction", 1.0);
    }

    fn init(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        let period = ctx.param_int("period");
        self.fraction = ctx.param_float("fraction");
        for symbol in ctx.symbols() {
            let name = ctx.symbol_name(symbol);
            let roc = ctx.roc_on(&format!("roc_{}", name), symbol, period);
            self.candidates.push(Candidate { symbol, name, roc });
        }
        self.month = -1;
        self.held = None;
        Ok(())
    }

    fn on_bar(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        let month = ctx.month();
        if month == self.month {
            return Ok(());
        }
        self.month = month;

        // The symbol with a bar now and the highest ready rate of change (the first one wins a
        // tie, as in the script).
        let mut best: Option<(&Candidate, f64)> = None;
        for c in &self.candidates {
            let roc = match ctx.ind(c.roc, 0) {
                Some(roc) => roc,
                None => continue,
            };
            if !ctx.has_bar(c.symbol) {
                continue;
            }
            if best.map_or(true, |(_, best_roc)| roc > best_roc) {
                best = Some((c, roc));
            }
        }
        let (best, best_roc) = match best {
            Some(b) => b,
            None => return Ok(()),
        };
        if Some(best.symbol) == self.held {
            return Ok(());
        }
        if let Some(held) = self.held {
            ctx.close_position(held);
        }
        ctx.order_target_percent(best.symbol, self.fraction);
        ctx.log(&format!("rotating into {} (rate of change {:?}%)", best.name, best_roc));
        self.held = Some(best.symbol);
        Ok(())
    }
}

export_strategy!(MomentumRotation);
