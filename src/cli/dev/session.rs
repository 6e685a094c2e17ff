//! One `dev` session's state between runs: the loaded data and benchmark, the last good results and the run count.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::anyhow;

use super::diff;
use crate::cli::args::apply_window;
use crate::cli::{output, run, RunArgs};
use crate::data::{DataWindow, SharedSeries, Universe};
use crate::domain::{Bar, CancelToken};
use crate::engine::{Benchmark, RunConfig, RunSpec};

/// The results of the last run that succeeded.
struct Good {
    rows: Vec<(String, String)>,
    /// When it ran (HH:MM:SS UTC).
    at: String,
}

/// The data and results kept from one run to the next.
pub struct Session<'a> {
    args: &'a RunArgs,
    /// The settings; the benchmark is taken from `benchmark` at each run.
    config: RunConfig,
    window: DataWindow,
    stop: CancelToken,
    /// Each `--data` file's bars, or why they could not be loaded.
    series: Vec<Result<Arc<Vec<Bar>>, String>>,
    /// The universe built from `series` and --start/--end, or why it could not be.
    universe: Result<Universe, String>,
    /// The `--benchmark` series (`None` without the flag), or why it could not be loaded.
    benchmark: Result<Option<Benchmark>, String>,
    last_good: Option<Good>,
    runs: usize,
    /// Where each good run's HTML report is written.
    report: Option<std::path::PathBuf>,
}

impl<'a> Session<'a> {
    /// Loads every data file of `args` and the benchmark file; a file that
    /// fails to load is reported by the runs until it is fixed. `spec`
    /// holds the checked settings. `stop` cancels a run in progress.
    pub fn new(args: &'a RunArgs, spec: RunSpec, stop: CancelToken, report: Option<std::path::PathBuf>) -> Session<'a> {
        let mut session = Session {
            args,
            config: spec.run_config(),
            window: spec.window,
            stop,
            series: Vec::new(),
            universe: Err(String::new()),
            benchmark: load_benchmark(args, &spec.window),
            last_good: None,
            runs: 0,
            report,
        };
        session.series = args.data.iter().map(|spec| load(args, &spec.path)).collect();
        session.rebuild();
        session
    }

    /// Loads the benchmark file again.
    pub fn reload_benchmark(&mut self) {
        self.benchmark = load_benchmark(self.args, &self.window);
        if let (Ok(Some(benchmark)), Some(spec)) = (&self.benchmark, &self.args.benchmark) {
            println!("reloaded {} ({} bars, benchmark)", spec.path.display(), benchmark.bars.len());
        }
    }

    /// Loads the data files with these `--data` indices again and rebuilds
    /// the universe; the other files' bars are kept.
    pub fn reload(&mut self, indices: &[usize]) {
        for &i in indices {
            let spec = &self.args.data[i];
            self.series[i] = load(self.args, &spec.path);
            if let Ok(bars) = &self.series[i] {
                println!("reloaded {} ({} bars)", spec.path.display(), bars.len());
            }
        }
        self.rebuild();
    }

    fn rebuild(&mut self) {
        let mut series = Vec::with_capacity(self.series.len());
        for (spec, bars) in self.args.data.iter().zip(&self.series) {
            match bars {
                Ok(bars) => series.push((spec.symbol.clone(), SharedSeries::new(bars.clone()))),
                Err(e) => {
                    self.universe = Err(e.clone());
                    return;
                }
            }
        }
        self.universe = Universe::from_shared(series)
            .map_err(anyhow::Error::from)
            .and_then(|universe| apply_window(&self.window, universe))
            .map_err(|e| format!("{e:#}"));
    }

    /// Runs the strategy once and prints its header (`--- run N (...)`),
    /// log and metrics with their changes since the last good run, or the
    /// error and which results stay the reference. Prints nothing more if
    /// the session was stopped during the run.
    pub fn run(&mut self, reason: &str) {
        self.runs += 1;
        println!("--- run {} ({}): {reason} ---", self.runs, clock());
        let started = Instant::now();
        let result = match (&self.universe, &self.benchmark) {
            (Ok(universe), Ok(benchmark)) => {
                self.config.benchmark = benchmark.clone();
                run::run_loaded(self.args, &self.config, universe, self.stop.clone())
            }
            (Err(e), _) | (_, Err(e)) => Err(anyhow!("{e}")),
        };
        let took = started.elapsed();
        if self.stop.is_cancelled() {
            return;
        }
        match result {
            Ok(report) => {
                output::print_log(&report);
                let rows = output::table_rows(self.args, &report);
                let shown = diff::annotate(&rows, self.last_good.as_ref().map(|g| g.rows.as_slice()));
                print!("{}", output::format_table(&shown));
                println!("ran in {}", duration(took));
                if let Some(path) = &self.report {
                    match super::super::html_report::run_html(self.args, &report)
                        .and_then(|html| super::super::html_report::write(path, &html))
                    {
                        Ok(()) => println!("report: {}", path.display()),
                        Err(e) => eprintln!("error: the report could not be written: {e:#}"),
                    }
                }
                self.last_good = Some(Good { rows, at: clock() });
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                match &self.last_good {
                    Some(good) => println!("keeping the last good results ({})", good.at),
                    None => println!("no good run yet"),
                }
            }
        }
    }
}

/// The `--benchmark` series of `args`, or the whole error as one line.
fn load_benchmark(args: &RunArgs, window: &DataWindow) -> Result<Option<Benchmark>, String> {
    args.benchmark(window).map_err(|e| format!("{e:#}"))
}

/// The time of day, `HH:MM:SS UTC` (chrono is built without the local time zone).
fn clock() -> String {
    chrono::DateTime::<chrono::Utc>::from(SystemTime::now()).format("%H:%M:%S UTC").to_string()
}

/// `12 ms` below 10 s, `12.3 s` above.
fn duration(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Loads one data file as the run's flags say, as a message on failure.
fn load(args: &RunArgs, path: &std::path::Path) -> Result<Arc<Vec<Bar>>, String> {
    let loader = args.loader().map_err(|e| format!("{e:#}"))?;
    loader.load(path).map(|loaded| loaded.bars).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_ms_then_seconds() {
        assert_eq!(duration(Duration::from_micros(12_400)), "12 ms");
        assert_eq!(duration(Duration::from_millis(9_999)), "9999 ms");
        assert_eq!(duration(Duration::from_millis(12_345)), "12.3 s");
    }
}
