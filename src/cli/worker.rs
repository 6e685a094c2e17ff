//! `backtester worker`: executes queued runs of a PostgreSQL database that
//! one or more `backtester serve --workers 0` processes fill.

use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::serve::DatabaseArgs;
use crate::service::{require_shared_queue, Service, ServiceConfig, WorkerOptions, WORKER};
use crate::store::{with_transaction_timeout, Dialect, Store};

/// `worker`'s flags.
#[derive(Debug, Args)]
pub struct WorkerCommand {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Runs executed at once, 1 to 1024 (default: the number of cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: Option<u64>,
    /// Wall-clock seconds a run may take (a run may ask for less); past it the run fails.
    #[arg(long, value_name = "SECS", default_value = "3600",
          value_parser = clap::value_parser!(u64).range(1..=crate::service::MAX_RUN_TIME_LIMIT_SECS))]
    pub run_time_limit: u64,
    /// Seconds a claim lasts without renewal: how long after this worker dies another takes its runs.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_secs: u64,
    /// Longest pause, in milliseconds, between two looks at the queue when no notification comes.
    #[arg(long, value_name = "MS", default_value = "1000", value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub poll_ms: u64,
}

/// Claims and executes runs until Ctrl-C or SIGTERM; the runs still
/// executing then are queued again for another worker (after a crash or a
/// lost database, their leases run out instead).
///
/// # Errors
/// A database that cannot be opened, or one that is not PostgreSQL.
pub fn work(cmd: &WorkerCommand) -> anyhow::Result<()> {
    let runtime = super::serve::runtime()?;
    let result = runtime.block_on(async {
        // Before opening: a SQLite URL would create a file for nothing.
        require_shared_queue(Dialect::of(&cmd.db.database_url)?, WORKER)?;
        let url = with_transaction_timeout(&cmd.db.database_url, Duration::from_secs(cmd.lease_secs));
        let store = Store::open(&url).await.with_context(|| format!("opening {}", cmd.db.database_url))?;
        let config =
            ServiceConfig { run_time_limit: Duration::from_secs(cmd.run_time_limit), ..ServiceConfig::default() };
        let concurrency = match cmd.concurrency {
            Some(n) => usize::try_from(n).context("--concurrency")?,
            None => config.max_concurrent_runs,
        };
        let service = Service::for_worker(store, config)?;
        let options = WorkerOptions {
            database_url: cmd.db.database_url.clone(),
            concurrency,
            lease: Duration::from_secs(cmd.lease_secs),
            poll: Duration::from_millis(cmd.poll_ms),
        };
        eprintln!("worker {} executing up to {concurrency} runs at once", std::process::id());
        service.work(options, super::serve::shutdown_signal()).await;
        Ok(())
    });
    // Runs on blocking threads do not hold the exit (see above).
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}
