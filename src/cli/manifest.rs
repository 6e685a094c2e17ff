//! The manifest of a run started from the command line: the files' paths
//! and content hashes with the settings the run used.

use anyhow::Context;

use super::RunArgs;
use crate::data::DataSpec;
use crate::domain::content_hash;
use crate::engine::{DataSource, RunManifest, RunReport, RunSettings, SandboxLimits, StrategySource};
use crate::strategy::Runtime;

/// States the run of `args` that gave `report`.
///
/// # Errors
/// A file that can no longer be read, or an unknown strategy file type.
pub fn of_run(args: &RunArgs, report: &RunReport) -> anyhow::Result<RunManifest> {
    let runtime = Runtime::for_path(&args.strategy)
        .with_context(|| format!("{}: not a .rhai, .wasm or .wat file", args.strategy.display()))?;
    let strategy = StrategySource {
        name: args.strategy.display().to_string(),
        runtime: runtime.as_str(),
        content_hash: hash_file(&args.strategy)?,
    };
    let loader = args.loader()?;
    let source = |spec: &DataSpec| -> anyhow::Result<DataSource> {
        let content_hash = match loader.hash_of(&spec.path) {
            Some(hash) => hash?,
            None => hash_file(&spec.path)?,
        };
        Ok(DataSource {
            symbol: spec.symbol.to_string(),
            source: spec.path.display().to_string(),
            content_hash,
            options: loader.options().clone(),
        })
    };
    let data = args.data.iter().map(source).collect::<anyhow::Result<Vec<_>>>()?;
    let benchmark = args.benchmark.as_ref().map(source).transpose()?;
    let settings = RunSettings {
        start: args.start,
        end: args.end,
        resample: args.resample.map(|i| i.to_string()),
        broker: &report.broker_config,
        params: &report.params,
        limits: SandboxLimits::of(runtime, &args.strategy_limits()?),
    };
    Ok(RunManifest::new(strategy, data, benchmark, settings))
}

fn hash_file(path: &std::path::Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {} to hash it", path.display()))?;
    Ok(content_hash(&bytes))
}
