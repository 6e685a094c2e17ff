//! backtester: runs trading strategies, written as Rhai scripts, sandboxed
//! WASM plugins or native Rust, over historical bars, with a simulated
//! broker in exact decimals; from the command line, with hot reload, or as
//! an HTTP service that stores its runs in SQLite or PostgreSQL.
//!
//! The parts, in the direction dependencies point (each depends only on
//! those above it):
//! - [`domain`]: plain types shared by all (bars, symbols, orders, trades,
//!   time, exact-decimal conversions); no I/O.
//! - [`data`]: loads and validates OHLCV files into a run's [`data::Universe`];
//!   resampling; a run's data window.
//! - [`indicators`]: streaming indicators (f64) and the table of their kinds.
//! - [`broker`]: the simulated broker: matching, slippage, commission,
//!   margin and the FIFO ledger (`rust_decimal`).
//! - [`session`]: one run's state and the step that advances it, behind the
//!   one narrow API strategies see ([`session::StrategyCtx`]); the engine
//!   drives it through [`session::Session`].
//! - [`strategy`]: the [`strategy::Strategy`] trait, loading strategies, and
//!   the runtimes behind it (native, Rhai, WASM with its ABI); they see only
//!   the ctx API.
//! - [`engine`]: the run loop (init, bars, finish), its report and manifest.
//! - [`sweep`]: many variants of one run (a grid or random draws over
//!   parameters and settings), in parallel, ranked by an objective.
//! - [`metrics`]: performance statistics from the equity curve and trades.
//! - [`report`]: the self-contained HTML report of a run or a sweep.
//! - [`store`]: sqlx repositories for SQLite and PostgreSQL.
//! - [`service`]: the run queue, execution, live progress and events; the
//!   worker loop that claims runs from a shared PostgreSQL queue.
//! - [`api`]: the axum routes and the server loop.
//! - [`cli`]: the command-line front end (`run`, `dev`, `serve`, `worker`, ...).
//!
//! A run, whichever front end starts it: the CLI's flags or the API's JSON
//! become one checked run specification; its data are loaded into a
//! universe; [`engine::run`] builds a session, calls the strategy's `init`,
//! steps every bar (fills at the open, indicators, the strategy's `on_bar`,
//! fills at the close, the equity point), calls `on_finish`, closes what is
//! open and computes the metrics; the CLI prints the [`engine::RunReport`],
//! the service stores it.

// Lints that keep the code as the house style wants it: every public item
// documented; no unsafe code except where an `#[allow(unsafe_code)]` stands
// with a `SAFETY:` comment saying why it holds; no `unwrap()` outside tests
// (clippy.toml allows it in them), since much of what reaches this crate
// comes from users.
#![warn(missing_docs)]
#![deny(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::undocumented_unsafe_blocks)]

pub mod api;
pub mod broker;
pub mod cli;
pub mod data;
pub mod domain;
pub mod engine;
pub mod indicators;
pub mod metrics;
pub mod report;
pub mod service;
pub mod session;
pub mod store;
pub mod strategy;
pub mod sweep;
