//! Integration tests: drive the real `backtester` binary.

mod cli_errors;
mod cli_run;
mod helpers;
mod sma_cross_reference;
