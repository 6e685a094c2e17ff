//! The command-line front end: one file per subcommand.

mod accounts;
mod args;
mod dev;
mod html_report;
mod manifest;
mod output;
mod report;
mod run;
mod serve;
mod sweep;
mod walk_forward;
mod worker;

use clap::{Parser, Subcommand};

pub use args::RunArgs;
pub use report::error_message;

/// Backtest trading strategies written as Rhai scripts.
#[derive(Debug, Parser)]
#[command(name = "backtester", version, about)]
pub struct Cli {
    /// The subcommand given.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a strategy over CSV or Parquet files of bars and print its metrics.
    Run(run::RunCommand),
    /// Run a strategy, then run it again whenever its file or a data file changes.
    Dev(dev::DevCommand),
    /// Run many variants of a strategy (a grid or random draws over parameters
    /// and settings) in parallel and rank them by an objective.
    Sweep(sweep::SweepCommand),
    /// Serve the HTTP API: strategies, datasets and runs, stored in SQLite or PostgreSQL.
    Serve(serve::ServeCommand),
    /// Execute queued runs of a PostgreSQL database shared with `serve --workers 0` (several workers may share it).
    Worker(worker::WorkerCommand),
    /// Create or update the database schema, then exit.
    Migrate(serve::DatabaseArgs),
    /// Add or list the service's users (on the server's host, against its database).
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// Create, list or revoke API tokens (on the server's host, against its database).
    #[command(subcommand)]
    Token(accounts::TokenCommand),
}

/// Runs the parsed command.
///
/// # Errors
/// Anything that stops the command, as one message.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(cmd) => run::execute(&cmd),
        Command::Dev(cmd) => dev::execute(&cmd),
        Command::Sweep(cmd) => sweep::execute(&cmd),
        Command::Serve(cmd) => serve::serve(&cmd),
        Command::Worker(cmd) => worker::work(&cmd),
        Command::Migrate(db) => serve::migrate(&db),
        Command::User(cmd) => accounts::user(&cmd),
        Command::Token(cmd) => accounts::token(&cmd),
    }
}
