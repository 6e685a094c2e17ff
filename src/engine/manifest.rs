//! What a run was: everything that decides its results, stated in full, and
//! one fingerprint over it.
//!
//! The fingerprint is a SHA-256 over the parts that decide the results: the
//! engine's version and its [`RESULTS_VERSION`], the strategy's runtime and content hash, each symbol
//! with its data's content hash (and the benchmark's), the window and the
//! resample interval, every broker setting (numbers as written: `100000.00`
//! prints its results with two places, so it is not `100000`), the
//! parameters after defaults, and the
//! deterministic sandbox limits. Names and paths are left out (the same
//! bytes under another name run the same), and so is a wall-clock time
//! budget (it can only stop a run, and not reproducibly). Two runs with the
//! same fingerprint give the same trades, equity and metrics, byte for byte;
//! later caching and sweeps key on it.

use serde::Serialize;

use crate::broker::BrokerConfig;
use crate::data::LoadOptions;
use crate::domain::{content_hash, Timestamp};
use crate::session::Params;
use crate::strategy::wasm::Budget;
use crate::strategy::{Runtime, StrategyLimits};

/// The engine's version, as the crate states it.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version of the rules that decide results (fills, sizing, indicators,
/// crossings, metrics): raised by hand with every change that makes the same
/// inputs give other results, so that a fingerprint never names two
/// different outcomes. 2: backtrader's crossing rule and exact target-percent
/// cuts (2026-12).
pub const RESULTS_VERSION: u32 = 2;

/// Where a strategy came from and what it holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StrategySource {
    /// A file path (CLI) or `name vN` (service); not fingerprinted.
    pub name: String,
    /// The runtime it ran in: `rhai` or `wasm`.
    pub runtime: &'static str,
    /// Lowercase hex SHA-256 of the code (script text or module bytes).
    pub content_hash: String,
}

/// One series of bars: its symbol, where it came from and what it holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataSource {
    /// The symbol the bars are for.
    pub symbol: String,
    /// A file path (CLI) or `dataset N` (service); not fingerprinted.
    pub source: String,
    /// Lowercase hex SHA-256 of the file's (or the upload's) bytes.
    pub content_hash: String,
    /// How the file was read, when not by the loader's own rules
    /// (fingerprinted: other options read other bars from the same bytes).
    #[serde(skip_serializing_if = "LoadOptions::is_default")]
    pub options: LoadOptions,
}

/// The sandbox limits a run had, for its runtime.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SandboxLimits {
    /// A Rhai script's limits.
    Rhai {
        /// Rhai operations allowed in one call of `init`, `on_bar` or `on_finish`.
        max_operations_per_call: u64,
    },
    /// A WASM plugin's limits.
    Wasm {
        /// Instructions for the whole run (fuel mode); absent in time mode.
        #[serde(skip_serializing_if = "Option::is_none")]
        fuel: Option<u64>,
        /// Wall-clock seconds for the whole run (time mode); not fingerprinted.
        #[serde(skip_serializing_if = "Option::is_none")]
        time_budget_secs: Option<f64>,
        /// Most linear memory the plugin may grow to, in bytes.
        memory_bytes: usize,
    },
}

impl SandboxLimits {
    /// The limits of `runtime` within `limits`.
    pub fn of(runtime: Runtime, limits: &StrategyLimits) -> Self {
        match runtime {
            Runtime::Rhai => SandboxLimits::Rhai { max_operations_per_call: limits.rhai.max_operations },
            Runtime::Wasm => {
                let (fuel, time_budget_secs) = match limits.wasm.budget {
                    Budget::Fuel(fuel) => (Some(fuel), None),
                    Budget::Time(time) => (None, Some(time.as_secs_f64())),
                };
                SandboxLimits::Wasm { fuel, time_budget_secs, memory_bytes: limits.wasm.memory_bytes }
            }
        }
    }

    /// The limits that decide results: all but a time budget.
    fn deterministic(&self) -> Self {
        match self {
            SandboxLimits::Wasm { fuel, memory_bytes, .. } => {
                SandboxLimits::Wasm { fuel: *fuel, time_budget_secs: None, memory_bytes: *memory_bytes }
            }
            rhai => rhai.clone(),
        }
    }
}

/// Everything that went into one run, with its fingerprint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunManifest {
    /// [`ENGINE_VERSION`]: the crate version that ran it.
    pub engine_version: &'static str,
    /// [`RESULTS_VERSION`].
    pub results_version: u32,
    /// The strategy that ran.
    pub strategy: StrategySource,
    /// In the run's order, the primary symbol first.
    pub data: Vec<DataSource>,
    /// The series the run was compared with; `None` without a benchmark.
    pub benchmark: Option<DataSource>,
    /// First timestamp of the run's window (inclusive); `None` from the data's start.
    pub start: Option<Timestamp>,
    /// Last timestamp of the run's window (inclusive); `None` to the data's end.
    pub end: Option<Timestamp>,
    /// The interval every series was resampled to, e.g. `1w`.
    pub resample: Option<String>,
    /// The broker settings, numbers as written.
    pub broker: BrokerConfig,
    /// Every parameter the strategy declares, with the value used.
    pub params: Params,
    /// The sandbox limits the strategy ran under.
    pub limits: SandboxLimits,
    /// Hex SHA-256 over the parts above that decide the results (see the
    /// module doc); shown beside the manifest, not inside it.
    #[serde(skip)]
    pub fingerprint: String,
}

/// A series as the fingerprint sees it: its symbol and content hash.
fn pair(d: &DataSource) -> DataPart<'_> {
    if d.options.is_default() {
        DataPart::Plain(d.symbol.as_str(), d.content_hash.as_str())
    } else {
        DataPart::WithOptions(d.symbol.as_str(), d.content_hash.as_str(), d.options.key())
    }
}

/// A data source as fingerprinted: symbol and content hash, and the
/// loading options when there are any (so that runs without options keep
/// the fingerprints they had before options existed).
#[derive(Serialize)]
#[serde(untagged)]
enum DataPart<'a> {
    Plain(&'a str, &'a str),
    WithOptions(&'a str, &'a str, String),
}

/// The parts of a manifest that the fingerprint covers, in a fixed order.
#[derive(Serialize)]
struct Fingerprinted<'a> {
    engine_version: &'a str,
    results_version: u32,
    runtime: &'a str,
    strategy: &'a str,
    data: Vec<DataPart<'a>>,
    benchmark: Option<DataPart<'a>>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    resample: Option<&'a str>,
    broker: BrokerConfig,
    params: &'a Params,
    limits: SandboxLimits,
}

/// The inputs of [`RunManifest::new`] besides the strategy and the data.
#[derive(Clone, Debug)]
pub struct RunSettings<'a> {
    /// First timestamp of the run's window (inclusive); `None` from the data's start.
    pub start: Option<Timestamp>,
    /// Last timestamp of the run's window (inclusive); `None` to the data's end.
    pub end: Option<Timestamp>,
    /// The interval every series was resampled to, e.g. `1w`; `None` when not resampled.
    pub resample: Option<String>,
    /// The broker settings the run used.
    pub broker: &'a BrokerConfig,
    /// Every declared parameter with the value used.
    pub params: &'a Params,
    /// The sandbox limits the strategy runs under.
    pub limits: SandboxLimits,
}

impl RunManifest {
    /// States a run and computes its fingerprint.
    pub fn new(
        strategy: StrategySource,
        data: Vec<DataSource>,
        benchmark: Option<DataSource>,
        settings: RunSettings<'_>,
    ) -> Self {
        let fingerprinted = Fingerprinted {
            engine_version: ENGINE_VERSION,
            results_version: RESULTS_VERSION,
            runtime: strategy.runtime,
            strategy: &strategy.content_hash,
            data: data.iter().map(pair).collect(),
            benchmark: benchmark.as_ref().map(pair),
            start: settings.start,
            end: settings.end,
            resample: settings.resample.as_deref(),
            broker: settings.broker.clone(),
            params: settings.params,
            limits: settings.limits.deterministic(),
        };
        // Serialising plain structs, strings and numbers cannot fail.
        let canonical = serde_json::to_vec(&fingerprinted).unwrap_or_default();
        RunManifest {
            engine_version: ENGINE_VERSION,
            results_version: RESULTS_VERSION,
            fingerprint: content_hash(&canonical),
            strategy,
            data,
            benchmark,
            start: settings.start,
            end: settings.end,
            resample: settings.resample,
            broker: settings.broker.clone(),
            params: settings.params.clone(),
            limits: settings.limits,
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::session::{ParamSpec, ParamValue};

    fn manifest(name: &str, path: &str, broker: &BrokerConfig, params: &Params, limits: SandboxLimits) -> RunManifest {
        let strategy = StrategySource { name: name.into(), runtime: "rhai", content_hash: "s1".into() };
        let data = vec![DataSource {
            symbol: "GOOG".into(),
            source: path.into(),
            content_hash: "d1".into(),
            options: LoadOptions::default(),
        }];
        let settings = RunSettings { start: None, end: None, resample: None, broker, params, limits };
        RunManifest::new(strategy, data, None, settings)
    }

    #[test]
    fn the_fingerprint_follows_what_decides_results_and_nothing_else() {
        let broker = BrokerConfig::with_cash(dec!(100000));
        let params = Params::defaults(&[ParamSpec { name: "fast".into(), default: ParamValue::Int(10) }]);
        let rhai = SandboxLimits::Rhai { max_operations_per_call: 1_000_000 };
        let base = manifest("a.rhai", "data/GOOG.csv", &broker, &params, rhai.clone());
        assert_eq!(base.fingerprint.len(), 64);
        // Another name and path: the same run.
        let renamed = manifest("b.rhai", "/tmp/x.csv", &broker, &params, rhai.clone());
        assert_eq!(renamed.fingerprint, base.fingerprint);
        // Cash written with a scale prints its results so: another run.
        let scaled = BrokerConfig::with_cash(dec!(100000.00));
        assert_ne!(manifest("a.rhai", "p", &scaled, &params, rhai.clone()).fingerprint, base.fingerprint);
        // A parameter, a setting or a limit that differs: another run.
        let other_params = Params::defaults(&[ParamSpec { name: "fast".into(), default: ParamValue::Int(11) }]);
        assert_ne!(manifest("a.rhai", "p", &broker, &other_params, rhai.clone()).fingerprint, base.fingerprint);
        let mut fees = broker.clone();
        fees.slippage_bps = dec!(1);
        assert_ne!(manifest("a.rhai", "p", &fees, &params, rhai).fingerprint, base.fingerprint);
        let fewer_ops = SandboxLimits::Rhai { max_operations_per_call: 1000 };
        assert_ne!(manifest("a.rhai", "p", &broker, &params, fewer_ops).fingerprint, base.fingerprint);
    }

    #[test]
    fn a_wall_clock_budget_is_stated_but_not_fingerprinted() {
        let broker = BrokerConfig::with_cash(dec!(1000));
        let params = Params::default();
        let time = |secs| SandboxLimits::Wasm { fuel: None, time_budget_secs: Some(secs), memory_bytes: 1 << 20 };
        let (a, b) =
            (manifest("p", "d", &broker, &params, time(60.0)), manifest("p", "d", &broker, &params, time(5.0)));
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.limits, b.limits);
        let fuel = SandboxLimits::Wasm { fuel: Some(10), time_budget_secs: None, memory_bytes: 1 << 20 };
        assert_ne!(manifest("p", "d", &broker, &params, fuel).fingerprint, a.fingerprint);
    }
}
