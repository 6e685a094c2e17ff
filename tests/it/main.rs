//! Integration tests: drive the real `backtester` binary.

mod api;
mod browser;
mod cli_errors;
mod cli_run;
mod crossings;
mod data_forms;
mod dev;
mod golden;
mod helpers;
mod leases;
mod parquet_files;
mod plugins;
mod portfolio;
mod run_manifest;
mod sma_cross_reference;
mod startup_errors;
mod sweep;
mod sweep_chunks;
mod wasm_run;
