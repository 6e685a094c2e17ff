//! The HTTP API against a real server, on SQLite and on PostgreSQL.

pub mod accounts;
pub mod app;
mod bad_input;
mod bounds;
mod datasets;
mod edges;
mod failure_kinds;
mod flow;
mod load;
mod openapi;
mod portfolio;
mod queue;
mod recovery;
mod reports;
mod sweeps;
mod watch;
mod workers;
