//! Arguments shared by the commands that run a strategy.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use rust_decimal::Decimal;

use crate::broker::{BrokerConfig, BrokerConfigError, BrokerField, CommissionModel};
use crate::data::{
    parse_column, parse_delimiter, parse_timestamp, CacheWrites, DataSpec, DataWindow, Interval, LoadOptions,
    LoadedHashes, Loader, ReversedRange, Role, Universe, WindowError,
};
use crate::domain::{CancelToken, Timestamp};
use crate::engine::{Benchmark, ParamOverrides, RawRunSpec, RunSpec, SpecError};
use crate::strategy::wasm::Budget;
use crate::strategy::{Runtime, StrategyLimits};

/// What to run, on which data, with which broker settings.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The strategy file: a .rhai script or a .wasm/.wat plugin.
    pub strategy: PathBuf,
    /// A CSV of bars as [SYMBOL=]PATH (symbol defaults to the file stem); repeat for several symbols.
    #[arg(long = "data", required = true, value_name = "[SYMBOL=]PATH")]
    pub data: Vec<DataSpec>,
    /// Starting cash (> 0).
    #[arg(long, default_value = "100000", value_parser = decimal)]
    pub cash: Decimal,
    /// Commission as a fraction of notional, e.g. 0.001 for 0.1 %.
    #[arg(long, value_parser = decimal, conflicts_with_all = ["commission_per_unit", "commission_fixed"])]
    pub commission: Option<Decimal>,
    /// Commission per unit traded (see --commission-min).
    #[arg(long, value_parser = decimal, conflicts_with = "commission_fixed")]
    pub commission_per_unit: Option<Decimal>,
    /// Minimum commission per fill with --commission-per-unit.
    #[arg(long, value_parser = decimal, requires = "commission_per_unit")]
    pub commission_min: Option<Decimal>,
    /// The same commission for every fill.
    #[arg(long, value_parser = decimal)]
    pub commission_fixed: Option<Decimal>,
    /// Slippage in basis points of the fill price, against the trader.
    #[arg(long, default_value = "0", value_parser = decimal)]
    pub slippage_bps: Decimal,
    /// Allow fractional quantities (8 decimal places) instead of whole units.
    #[arg(long)]
    pub fractional: bool,
    /// Fill market orders at the close of the bar they are placed on.
    #[arg(long)]
    pub trade_on_close: bool,
    /// Gross exposure allowed per unit of equity, 1 to 100 (1 = no borrowing).
    #[arg(long, default_value = "1", value_parser = decimal)]
    pub leverage: Decimal,
    /// Equity to keep as a fraction of gross exposure (0 to 1/leverage); below it at a close, everything is liquidated.
    #[arg(long, default_value = "0", value_parser = decimal)]
    pub maintenance_margin: Decimal,
    /// At most this many symbols with an open position at once.
    #[arg(long, value_name = "N")]
    pub max_positions: Option<usize>,
    /// A CSV of bars to compare with, as [SYMBOL=]PATH: bought with the whole cash at the start and held (not traded).
    #[arg(long, value_name = "[SYMBOL=]PATH")]
    pub benchmark: Option<DataSpec>,
    /// Resample every symbol's bars to this coarser interval first (e.g. 5m, 1h, 1d, 1w).
    #[arg(long, value_name = "INTERVAL", value_parser = interval)]
    pub resample: Option<Interval>,
    /// Override a parameter the strategy declares: name=value (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// First timestamp to include (same formats as the CSV).
    #[arg(long, value_parser = timestamp)]
    pub start: Option<Timestamp>,
    /// Last timestamp to include.
    #[arg(long, value_parser = timestamp)]
    pub end: Option<Timestamp>,
    /// WASM plugins only: wall-clock budget for the whole run, in seconds (default 60).
    #[arg(long, value_name = "SECS", conflicts_with = "wasm_fuel")]
    pub wasm_time_budget: Option<f64>,
    /// WASM plugins only: a deterministic budget of instructions (fuel) for the whole run.
    #[arg(long, value_name = "INSTRUCTIONS")]
    pub wasm_fuel: Option<u64>,
    /// WASM plugins only: memory limit in MiB (default 64).
    #[arg(long, value_name = "MIB")]
    pub wasm_memory_mib: Option<usize>,
    /// How the data files write their time column, as a strftime format (e.g. %m/%d/%Y, %Y%m%d, %d.%m.%Y %H:%M); read as UTC unless it has %z.
    #[arg(long, value_name = "FORMAT")]
    pub date_format: Option<String>,
    /// The data files' field separator (one character, or tab, comma, semicolon, pipe); detected from the header line when left out.
    #[arg(long, value_name = "CHAR", value_parser = delimiter)]
    pub delimiter: Option<char>,
    /// Take a role's values from another column: ROLE=NAME, e.g. close="Adj Close" (roles: time, open, high, low, close, volume); repeatable.
    #[arg(long = "column", value_name = "ROLE=NAME", value_parser = column)]
    pub columns: Vec<(Role, String)>,
    /// Sort the data files' rows by time (a file in descending order is otherwise refused).
    #[arg(long)]
    pub sort: bool,
    /// Parse the data files without the cache of parsed bars (and keep nothing in it).
    #[arg(long)]
    pub no_cache: bool,
    /// Content hashes of the files loaded so far (for the manifest: the
    /// hash of the bytes the run's bars were parsed from).
    #[arg(skip)]
    pub loaded: LoadedHashes,
    /// The cache write under way, which the command's end waits for (a
    /// run goes on while its data are kept).
    #[arg(skip)]
    pub cache_writes: CacheWrites,
}

fn delimiter(text: &str) -> Result<char, String> {
    parse_delimiter(text).map_err(|e| e.reason)
}

fn column(text: &str) -> Result<(Role, String), String> {
    parse_column(text).map_err(|e| e.reason)
}

fn decimal(text: &str) -> Result<Decimal, String> {
    Decimal::from_str(text.trim())
        .or_else(|_| Decimal::from_scientific(text.trim()))
        .map_err(|_| format!("'{text}' is not a decimal number"))
}

fn interval(text: &str) -> Result<Interval, String> {
    Interval::parse(text).map_err(|e| e.to_string())
}

fn timestamp(text: &str) -> Result<Timestamp, String> {
    parse_timestamp(text).map_err(|e| e.to_string())
}

impl RunArgs {
    /// The sandbox limits; WASM flags are refused for a script.
    ///
    /// # Errors
    /// A WASM flag with a Rhai strategy, or a budget that is not positive.
    pub fn strategy_limits(&self) -> anyhow::Result<StrategyLimits> {
        let mut limits = StrategyLimits::default();
        let wasm_flags = self.wasm_time_budget.is_some() || self.wasm_fuel.is_some() || self.wasm_memory_mib.is_some();
        if wasm_flags && Runtime::for_path(&self.strategy) != Some(Runtime::Wasm) {
            bail!("--wasm-time-budget, --wasm-fuel and --wasm-memory-mib apply to WASM plugins (.wasm, .wat) only");
        }
        if let Some(secs) = self.wasm_time_budget {
            if !(secs.is_finite() && secs > 0.0) {
                bail!("--wasm-time-budget must be > 0 seconds, got {secs}");
            }
            limits.wasm.budget = Budget::Time(Duration::from_secs_f64(secs));
        }
        if let Some(fuel) = self.wasm_fuel {
            if fuel == 0 {
                bail!("--wasm-fuel must be > 0");
            }
            limits.wasm.budget = Budget::Fuel(fuel);
        }
        if let Some(mib) = self.wasm_memory_mib {
            if mib == 0 || mib > 4096 {
                bail!("--wasm-memory-mib must be between 1 and 4096, got {mib}");
            }
            limits.wasm.memory_bytes = mib << 20;
        }
        Ok(limits)
    }

    /// The run's settings as the flags give them, unchecked.
    pub fn raw_spec(&self) -> RawRunSpec {
        let commission = match (self.commission, self.commission_per_unit, self.commission_fixed) {
            (Some(rate), _, _) => CommissionModel::Percent { rate },
            (_, Some(per_unit), _) => {
                CommissionModel::PerUnit { per_unit, minimum: self.commission_min.unwrap_or_default() }
            }
            (_, _, Some(amount)) => CommissionModel::Fixed { amount },
            _ => CommissionModel::None,
        };
        let broker = BrokerConfig {
            initial_cash: self.cash,
            commission,
            slippage_bps: self.slippage_bps,
            fractional: self.fractional,
            trade_on_close: self.trade_on_close,
            leverage: self.leverage,
            maintenance_margin: self.maintenance_margin,
            max_positions: self.max_positions,
        };
        RawRunSpec {
            broker,
            start: self.start,
            end: self.end,
            resample: self.resample,
            params: ParamOverrides::Text(self.params.clone()),
        }
    }

    /// The checked settings: broker, data window and parameter overrides.
    ///
    /// # Errors
    /// A setting out of range (see [`BrokerConfig::check`]) or --start
    /// after --end, naming the flag.
    pub fn spec(&self) -> anyhow::Result<RunSpec> {
        RunSpec::try_from(self.raw_spec()).map_err(|e| match e {
            SpecError::Broker(BrokerConfigError { field, reason }) => anyhow!("{} {reason}", flag(field)),
            SpecError::Range(ReversedRange { start, end }) => anyhow!("--start {start} is after --end {end}"),
        })
    }

    /// Loads the --benchmark file, cut at --end and resampled like the data
    /// (see [`DataWindow::benchmark_bars`]); `None` without one.
    ///
    /// # Errors
    /// What loading reports, or a failing resample.
    pub fn benchmark(&self, window: &DataWindow) -> anyhow::Result<Option<Benchmark>> {
        self.benchmark_from(window, &self.loader()?)
    }

    fn benchmark_from(&self, window: &DataWindow, loader: &Loader) -> anyhow::Result<Option<Benchmark>> {
        let Some(spec) = &self.benchmark else { return Ok(None) };
        let universe = Universe::load(std::slice::from_ref(spec), loader).context("loading --benchmark")?;
        let bars = std::sync::Arc::new(universe.bars(0).to_vec());
        let bars = window.benchmark_bars(&spec.symbol, &bars).context("resampling --benchmark")?;
        Ok(Some(Benchmark { symbol: spec.symbol.clone(), bars }))
    }

    /// Loads the --benchmark file (as [`benchmark`](Self::benchmark) does) and
    /// the data files (the window applied), giving up at the next read of a file once
    /// `cancel` is cancelled (see [`Loader::cancelled_by`]).
    ///
    /// # Errors
    /// What loading reports (file, line and column), a failing resample, or
    /// what [`apply_window`] does; or a read refused after cancellation.
    pub fn load_data(
        &self,
        window: &DataWindow,
        cancel: &CancelToken,
    ) -> anyhow::Result<(Option<Benchmark>, Universe)> {
        let loader = self.loader()?.cancelled_by(cancel);
        let benchmark = self.benchmark_from(window, &loader)?;
        Ok((benchmark, apply_window(window, Universe::load(&self.data, &loader)?)?))
    }

    /// How the data files are read: `--date-format`, `--delimiter`, `--column`, `--sort`.
    ///
    /// # Errors
    /// A role given twice to `--column`, or an option the loader cannot use.
    pub fn load_options(&self) -> anyhow::Result<LoadOptions> {
        let mut options = LoadOptions {
            date_format: self.date_format.clone(),
            delimiter: self.delimiter,
            sort: self.sort,
            ..LoadOptions::default()
        };
        for (role, name) in &self.columns {
            if let Some(first) = options.columns.insert(*role, name.clone()) {
                bail!("--column {role} is given twice ({first:?} and {name:?})");
            }
        }
        options.check()?;
        Ok(options)
    }

    /// The loader of this run's files: [`load_options`](Self::load_options)
    /// and the cache of parsed bars (unless `--no-cache`). Every loader of
    /// these arguments shares the content hashes of the files it read.
    ///
    /// # Errors
    /// As [`load_options`](Self::load_options).
    pub fn loader(&self) -> anyhow::Result<Loader> {
        let cache = if self.no_cache { None } else { Loader::default_cache_dir() };
        Ok(Loader::new(self.load_options()?, cache).sharing_hashes(&self.loaded).sharing_writes(&self.cache_writes))
    }
}

/// The flag of a broker setting.
fn flag(field: BrokerField) -> &'static str {
    match field {
        BrokerField::InitialCash => "--cash",
        BrokerField::CommissionRate => "--commission",
        BrokerField::CommissionPerUnit => "--commission-per-unit",
        BrokerField::CommissionMinimum => "--commission-min",
        BrokerField::CommissionAmount => "--commission-fixed",
        BrokerField::SlippageBps => "--slippage-bps",
        BrokerField::Leverage => "--leverage",
        BrokerField::MaintenanceMargin => "--maintenance-margin",
        BrokerField::MaxPositions => "--max-positions",
    }
}

/// Restricts a loaded universe to --start/--end and resamples it
/// (--resample), as [`DataWindow::apply`] does, naming the flags at fault.
///
/// # Errors
/// A range that leaves a symbol without bars, an interval a symbol
/// cannot be resampled to, or symbols left with different bar spacings.
pub fn apply_window(window: &DataWindow, universe: Universe) -> anyhow::Result<Universe> {
    window.apply(universe).map_err(|e| {
        let (error, context) = match e {
            WindowError::Range(e) => (e, "applying --start/--end"),
            WindowError::Resample(e) => (e, "applying --resample"),
            WindowError::Spacing(e) => (e, "checking the --data files' intervals"),
        };
        anyhow::Error::new(error).context(context)
    })
}
