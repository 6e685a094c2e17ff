//! backtester: runs trading strategies over historical bars.
//!
//! How the parts fit, in the direction dependencies point:
//! - [`domain`]: plain types (bars, orders, trades, time).
//! - [`data`]: loads and validates OHLCV files into a run's universe.
//! - [`indicators`]: streaming indicators computed by the host.
//! - [`broker`]: the simulated broker: fills, slippage, commission, ledger (exact decimals).
//! - [`strategy`]: the one narrow API strategies see, and the runtimes behind it (Rhai).
//! - [`engine`]: the run loop that feeds bars to a strategy and its orders to the broker.
//! - [`metrics`]: performance statistics from the equity curve and trades.
//! - [`cli`]: the command-line front end.

#![warn(missing_docs)]

pub mod api;
pub mod broker;
pub mod cli;
pub mod data;
pub mod domain;
pub mod engine;
pub mod indicators;
pub mod metrics;
pub mod service;
pub mod session;
pub mod store;
pub mod strategy;
