//! `backtester dev`: runs a strategy, then runs it again whenever the strategy, a data file or the
//! benchmark file changes.
//!
//! - [`watch`]: which files changed (directory watches, content hashes);
//! - [`session`]: the loaded data and the last good results between runs;
//! - [`diff`]: each metric's change since the last good run.

mod diff;
mod session;
mod watch;

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::RunArgs;
use crate::domain::CancelToken;
use session::Session;
use watch::{Input, Watch};

/// `dev`'s flags: the same as `run`'s shared ones.
#[derive(Debug, Args)]
pub struct DevCommand {
    #[command(flatten)]
    pub run: RunArgs,
    /// Write each good run's report to this HTML file (rewritten on every
    /// re-run; reload the page to see the new one).
    #[arg(long, value_name = "PATH")]
    pub report: Option<std::path::PathBuf>,
}

/// Quiet time after a file event before it is acted on: one editor save is
/// several events within a few milliseconds.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// How long the loop waits for events before it looks at the Ctrl-C flag again.
const TICK: Duration = Duration::from_millis(100);

/// Runs the strategy, then watches its file, the data files and the
/// benchmark file and runs it again on every change until Ctrl-C.
///
/// # Errors
/// Bad flags, or a directory that cannot be watched. Bad strategy, data or
/// benchmark files are reported and watched, never fatal.
pub fn execute(cmd: &DevCommand) -> anyhow::Result<()> {
    let args = &cmd.run;
    let spec = args.spec()?;
    args.strategy_limits()?;
    let stop = CancelToken::new();
    let on_interrupt = stop.clone();
    ctrlc::set_handler(move || on_interrupt.cancel()).context("installing the Ctrl-C handler")?;
    let benchmark = args.benchmark.as_ref().map(|spec| spec.path.as_path());
    let mut watch = Watch::start(&args.strategy, &args.data, benchmark, DEBOUNCE)?;
    print_banner(args);
    let mut session = Session::new(args, spec, stop.clone(), cmd.report.clone());
    session.run("first run");
    // Changes seen while a file was missing wait until every file is back.
    let mut pending = BTreeSet::new();
    while !stop.is_cancelled() {
        let found = watch.wait(TICK);
        for error in &found.errors {
            eprintln!("watch: {error}");
        }
        for path in &found.gone {
            println!("waiting for {} (deleted or being replaced)", path.display());
        }
        pending.extend(found.changed);
        if pending.is_empty() || !watch.all_present() || stop.is_cancelled() {
            continue;
        }
        let data: Vec<usize> = pending.iter().filter_map(|input| data_index(*input)).collect();
        session.reload(&data);
        if pending.contains(&Input::Benchmark) {
            session.reload_benchmark();
        }
        session.run(&reason(args, &pending));
        pending.clear();
    }
    println!("stopped");
    Ok(())
}

fn data_index(input: Input) -> Option<usize> {
    match input {
        Input::Data(i) => Some(i),
        Input::Strategy | Input::Benchmark => None,
    }
}

fn print_banner(args: &RunArgs) {
    println!("backtester dev: runs again whenever one of these files changes");
    println!("  {} (strategy)", args.strategy.display());
    for spec in &args.data {
        println!("  {} ({})", spec.path.display(), spec.symbol);
    }
    if let Some(spec) = &args.benchmark {
        println!("  {} ({}, benchmark)", spec.path.display(), spec.symbol);
    }
    println!("press Ctrl-C to stop");
}

/// `"a.rhai changed"`, `"a.rhai and b.csv changed"`.
fn reason(args: &RunArgs, changed: &BTreeSet<Input>) -> String {
    let names: Vec<String> = changed
        .iter()
        .map(|input| match input {
            Input::Strategy => args.strategy.display().to_string(),
            Input::Data(i) => args.data[*i].path.display().to_string(),
            Input::Benchmark => args.benchmark.as_ref().map_or_else(String::new, |s| s.path.display().to_string()),
        })
        .collect();
    format!("{} changed", names.join(" and "))
}
