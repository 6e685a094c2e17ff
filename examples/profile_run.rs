//! Runs one strategy over a synthetic random walk, for profilers and
//! instruction counters (`perf stat`, `perf record`), which need one plain
//! process rather than criterion's sampling:
//!
//! ```sh
//! cargo build --release --example profile_run
//! perf stat -e instructions:u target/release/examples/profile_run plugins/target/wasm32-unknown-unknown/release/sma_cross.wasm 1000000 5
//! ```
//!
//! Arguments: the strategy file (.rhai, .wasm or .wat), the number of bars
//! (default 1,000,000) and of runs (default 1). Prints the best run's time.

use std::time::Instant;

use rust_decimal::Decimal;

use backtester::broker::BrokerConfig;
use backtester::data::synthetic::random_walk;
use backtester::data::Universe;
use backtester::domain::{CancelToken, Symbol, Timestamp};
use backtester::engine::{self, ParamOverrides, RunConfig, RunHooks};
use backtester::strategy::{load_file, StrategyLimits};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or_else(|| anyhow::anyhow!("usage: profile_run STRATEGY [BARS] [RUNS]"))?;
    let bars: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let universe =
        Universe::new(vec![(Symbol::new("SYN"), random_walk(bars, 42, Timestamp(1_600_000_000_000), 60_000))])?;
    let config = RunConfig::new(BrokerConfig::with_cash(Decimal::from(100_000)), ParamOverrides::default());
    let mut best = f64::INFINITY;
    let mut trades = 0;
    for _ in 0..runs {
        let mut strategy = load_file(path.as_ref(), &StrategyLimits::default(), &CancelToken::new())?;
        let started = Instant::now();
        let report = engine::run(&universe, strategy.as_mut(), &config, RunHooks::default())?;
        best = best.min(started.elapsed().as_secs_f64());
        trades = report.trades.len();
    }
    println!(
        "{bars} bars, {trades} trades: best of {runs} runs {:.1} ms, {:.2} M bars/s",
        best * 1e3,
        bars as f64 / best / 1e6
    );
    Ok(())
}
