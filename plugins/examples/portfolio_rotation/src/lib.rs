//! Monthly portfolio rotation, the plugin twin of `scripts/portfolio_rotation.rhai`: on the first
//! trading day of each month, rank the symbols by their rate of change over `period` bars and hold
//! the best `hold` of them at equal weight (the host closes the rest and sells before it buys).
//!
//! Parameters: `period` (default 63) and `hold` (default 2).

use backtester_plugin::{export_strategy, Ctx, Error, Indicator, Params, Period, Strategy, Symbol};

/// The strategy's state: each symbol with its rate-of-change indicator.
#[derive(Default)]
struct PortfolioRotation {
    candidates: Vec<(Symbol, Indicator)>,
    hold: usize,
}

impl Strategy for PortfolioRotation {
    fn params(p: &mut Params) {
        p.int("period", 63).int("hold", 2);
    }

    fn init(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        let period = ctx.param_int("period");
        self.hold = ctx.param_int("hold").max(0) as usize;
        self.candidates.clear();
        for symbol in ctx.symbols() {
            let name = ctx.symbol_name(symbol);
            let roc = ctx.roc_on(&format!("roc_{}", name), symbol, period);
            self.candidates.push((symbol, roc));
        }
        Ok(())
    }

    fn on_bar(&mut self, ctx: &mut Ctx) -> Result<(), Error> {
        if !ctx.schedule(Period::Monthly) {
            return Ok(());
        }
        let mut ranked = Vec::with_capacity(self.candidates.len());
        for &(symbol, roc) in &self.candidates {
            match ctx.ind(roc, 0) {
                Some(value) => ranked.push((symbol, value)),
                None => return Ok(()), // wait until every symbol has a rate of change
            }
        }
        // Highest first; a stable sort keeps symbol order on ties, as the script's sort does.
        ranked.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
        if ranked.len() < self.hold {
            return Err(Error::new(format!("hold is {} but the run has {} symbols", self.hold, ranked.len())));
        }
        let weight = 1.0 / self.hold as f64;
        let weights: Vec<(Symbol, f64)> = ranked[..self.hold].iter().map(|&(s, _)| (s, weight)).collect();
        ctx.rebalance(&weights);
        Ok(())
    }
}

export_strategy!(PortfolioRotation);
