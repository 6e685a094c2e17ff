//! `backtester run`: one backtest from the command line.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::output;
use super::RunArgs;
use crate::data::Universe;
use crate::domain::CancelToken;
use crate::engine::{self, Progress, RunConfig, RunHooks, RunReport};
use crate::strategy::{load_file, Strategy};

/// `run`'s own flags besides the shared ones.
#[derive(Debug, Args)]
pub struct RunCommand {
    #[command(flatten)]
    pub run: RunArgs,
    /// Print the metrics as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write the trades to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub trades_csv: Option<PathBuf>,
    /// Write the equity curve (equity, cash, drawdown per bar) to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub equity_csv: Option<PathBuf>,
    /// Write the daily, monthly and yearly returns to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub returns_csv: Option<PathBuf>,
    /// Write the run's report to this HTML file: one self-contained page
    /// (charts, trades, metrics, monthly returns) that opens from disk.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
}

/// Bars below which no progress bar is drawn.
const PROGRESS_MIN_BARS: usize = 200_000;

/// Loads, runs and prints one backtest.
///
/// # Errors
/// Bad flags, data or strategy, or a failing run, as one message.
pub fn execute(cmd: &RunCommand) -> anyhow::Result<()> {
    let report = run_once(&cmd.run)?;
    output::print_log(&report);
    if cmd.json {
        let manifest = super::manifest::of_run(&cmd.run, &report)?;
        println!("{}", output::metrics_json(&report, Some(&manifest))?);
    } else {
        print!("{}", output::metrics_table(&cmd.run, &report));
    }
    if let Some(path) = &cmd.trades_csv {
        output::write_trades_csv(path, &report)?;
    }
    if let Some(path) = &cmd.equity_csv {
        output::write_equity_csv(path, &report)?;
    }
    if let Some(path) = &cmd.returns_csv {
        output::write_returns_csv(path, &report)?;
    }
    if let Some(path) = &cmd.report {
        super::html_report::write(path, &super::html_report::run_html(&cmd.run, &report)?)?;
    }
    Ok(())
}

/// Loads the strategy and data of `args` and runs them once.
///
/// # Errors
/// Bad flags, data or strategy, or a failing run.
pub fn run_once(args: &RunArgs) -> anyhow::Result<RunReport> {
    let spec = args.spec()?;
    let mut config = spec.run_config();
    let limits = args.strategy_limits()?;
    let cancel = CancelToken::new();
    // The data is read on a thread of its own while the strategy compiles
    // (a plugin's compile is as long as a large file's parse). A strategy
    // that does not compile is reported first, and stops the reading at its
    // next read instead of waiting for a large file to parse.
    let stop_loading = CancelToken::new();
    let (strategy, data) = std::thread::scope(|scope| {
        let loading = std::thread::Builder::new()
            .name("load-data".into())
            .spawn_scoped(scope, || args.load_data(&spec.window, &stop_loading));
        // A panic too stops the reading before it is passed on.
        let strategy =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load_file(&args.strategy, &limits, &cancel)));
        if !matches!(strategy, Ok(Ok(_))) {
            stop_loading.cancel();
        }
        let data = match loading {
            Ok(loading) => loading.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: read the data here.
            Err(_) => args.load_data(&spec.window, &stop_loading),
        };
        (strategy.unwrap_or_else(|panic| std::panic::resume_unwind(panic)), data)
    });
    let mut strategy = strategy?;
    let (benchmark, universe) = data?;
    config.benchmark = benchmark;
    run_strategy(strategy.as_mut(), &config, &universe, cancel)
}

/// Loads the strategy of `args` and runs it once over an already loaded
/// `universe`, stopping early when `cancel` is cancelled.
///
/// # Errors
/// Bad WASM flags, a strategy that does not load, or a failing run.
pub fn run_loaded(
    args: &RunArgs,
    config: &RunConfig,
    universe: &Universe,
    cancel: CancelToken,
) -> anyhow::Result<RunReport> {
    let mut strategy = load_file(&args.strategy, &args.strategy_limits()?, &cancel)?;
    run_strategy(strategy.as_mut(), config, universe, cancel)
}

/// Runs a loaded strategy once over `universe`, with a progress bar on a
/// terminal for long runs.
fn run_strategy(
    strategy: &mut dyn Strategy,
    config: &RunConfig,
    universe: &Universe,
    cancel: CancelToken,
) -> anyhow::Result<RunReport> {
    let bar = (std::io::stderr().is_terminal() && universe.len() >= PROGRESS_MIN_BARS).then(|| {
        let bar = ProgressBar::new(universe.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} bars {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut on_progress = |p: Progress| {
        if let Some(bar) = &bar {
            bar.set_position(p.step as u64);
        }
    };
    let hooks = RunHooks {
        cancel,
        progress: bar.is_some().then_some(&mut on_progress as &mut dyn FnMut(Progress)),
        progress_every: None,
        shared_indicators: None,
    };
    let report = engine::run(universe, strategy, config, hooks);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    Ok(report?)
}
