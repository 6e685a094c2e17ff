//! What the service knows about runs that are queued or running: progress,
//! cancellation, and the event stream subscribers listen to.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::domain::CancelToken;
use crate::store::{FailureKind, Fence, RunRow, RunStatus};

/// An event on a run's stream.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// At most ten a second while the run goes.
    Progress {
        /// The run's id.
        run_id: i64,
        /// Bars processed as a percentage of the total, 0 to 100.
        progress_pct: f64,
        /// Bars (engine steps) simulated so far.
        bars_processed: u64,
        /// Bars (engine steps) the run has in all.
        bars_total: u64,
        /// Equity at the latest bar processed, in the account currency (for
        /// a run executing on a worker process, the latest its worker
        /// reported, twice a second); absent until there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        equity: Option<f64>,
        /// That equity minus the initial capital; absent with `equity`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pnl: Option<f64>,
    },
    /// The run has simulated every bar and its results are being stored.
    Persisting {
        /// The run's id.
        run_id: i64,
    },
    /// The run's results are stored; the last event of its stream.
    Completed {
        /// The run's id.
        run_id: i64,
        /// The run's metrics, as its results show them.
        metrics: serde_json::Value,
    },
    /// The run failed, or its time limit stopped it; the last event of its stream.
    Failed {
        /// The run's id.
        run_id: i64,
        /// What kind of failure, as stored with the run.
        error_kind: FailureKind,
        /// What went wrong, as stored with the run.
        message: String,
    },
    /// A client cancelled the run; the last event of its stream.
    Cancelled {
        /// The run's id.
        run_id: i64,
    },
    /// On a strategy's stream: a new version from a watched file.
    VersionCreated {
        /// The strategy's id.
        strategy_id: i64,
        /// The new version's number.
        version: i64,
    },
    /// On a strategy's stream: a watched file that did not compile.
    ReloadFailed {
        /// The strategy's id.
        strategy_id: i64,
        /// The compile error, as stored with the strategy.
        message: String,
    },
}

impl RunEvent {
    /// The event's name, for the SSE `event:` field.
    pub fn name(&self) -> &'static str {
        match self {
            RunEvent::Progress { .. } => "progress",
            RunEvent::Persisting { .. } => "persisting",
            RunEvent::Completed { .. } => "completed",
            RunEvent::Failed { .. } => "failed",
            RunEvent::Cancelled { .. } => "cancelled",
            RunEvent::VersionCreated { .. } => "version_created",
            RunEvent::ReloadFailed { .. } => "reload_failed",
        }
    }
}

impl RunEvent {
    /// The final event of a run that has ended, from its stored row.
    pub fn ended(row: &RunRow) -> RunEvent {
        match row.status {
            RunStatus::Completed => RunEvent::Completed {
                run_id: row.id,
                metrics: row
                    .metrics
                    .as_deref()
                    .and_then(|m| serde_json::from_str(m).ok())
                    .unwrap_or(serde_json::Value::Null),
            },
            RunStatus::Cancelled => RunEvent::Cancelled { run_id: row.id },
            _ => RunEvent::Failed {
                run_id: row.id,
                error_kind: row.error_kind.unwrap_or(FailureKind::Internal),
                message: row.error_message.clone().unwrap_or_default(),
            },
        }
    }

    /// The progress event of a run executing in another process (a
    /// worker), from its stored row: the bars and equity its worker reported.
    pub fn stored_progress(row: &RunRow) -> RunEvent {
        let total = row.bars_total.unwrap_or(0).max(0) as u64;
        let done = row.bars_processed.max(0) as u64;
        RunEvent::Progress {
            run_id: row.id,
            progress_pct: pct(done, total),
            bars_processed: done,
            bars_total: total,
            equity: row.live_equity,
            pnl: row.live_pnl,
        }
    }
}

/// A queued or running run.
pub struct Live {
    pub cancel: CancelToken,
    /// The time limit (seconds) that cancelled the run, if that, not a
    /// user, did; 0 otherwise.
    timed_out_after: AtomicU64,
    pub bars_done: AtomicU64,
    pub bars_total: AtomicU64,
    equity_bits: AtomicU64,
    /// The PnL at that bar; NaN with the equity until the first bar.
    pnl_bits: AtomicU64,
    pub events: broadcast::Sender<RunEvent>,
    /// The run's strategy's stream, once the run is under way.
    pub strategy_events: std::sync::OnceLock<broadcast::Sender<RunEvent>>,
    /// The attempt a worker process claimed, or a server on PostgreSQL
    /// started under its lease, whose writes are fenced; unset for a run a
    /// server executes without a lease (SQLite).
    pub fence: std::sync::OnceLock<Fence>,
}

impl Live {
    pub fn new() -> Self {
        Live {
            cancel: CancelToken::new(),
            timed_out_after: AtomicU64::new(0),
            bars_done: AtomicU64::new(0),
            bars_total: AtomicU64::new(0),
            equity_bits: AtomicU64::new(f64::NAN.to_bits()),
            pnl_bits: AtomicU64::new(f64::NAN.to_bits()),
            events: broadcast::channel(256).0,
            strategy_events: std::sync::OnceLock::new(),
            fence: std::sync::OnceLock::new(),
        }
    }

    /// The live state of a run a worker claimed as `fence`.
    pub fn claimed(fence: Fence) -> Self {
        let live = Live::new();
        let _ = live.fence.set(fence);
        live
    }

    /// The run's time limit of `secs` passed: it is cancelled, as timed out.
    pub fn time_limit_passed(&self, secs: u64) {
        self.timed_out_after.store(secs.max(1), Ordering::SeqCst);
        self.cancel.cancel();
    }

    /// The time limit that cancelled the run, if one did.
    pub fn timed_out_after(&self) -> Option<u64> {
        Some(self.timed_out_after.load(Ordering::SeqCst)).filter(|&s| s > 0)
    }

    /// Records progress; returns the event to publish.
    pub fn record(&self, run_id: i64, done: u64, total: u64, equity: f64, initial: f64) -> RunEvent {
        self.bars_done.store(done, Ordering::Relaxed);
        self.bars_total.store(total, Ordering::Relaxed);
        self.pnl_bits.store((equity - initial).to_bits(), Ordering::Relaxed);
        self.equity_bits.store(equity.to_bits(), Ordering::Relaxed);
        RunEvent::Progress {
            run_id,
            progress_pct: pct(done, total),
            bars_processed: done,
            bars_total: total,
            equity: Some(equity),
            pnl: Some(equity - initial),
        }
    }

    /// Sends `event` to the run's subscribers and its strategy's.
    pub fn publish(&self, event: RunEvent) {
        if let Some(strategy) = self.strategy_events.get() {
            let _ = strategy.send(event.clone());
        }
        let _ = self.events.send(event);
    }

    /// (equity, PnL) at the latest bar recorded; `None` before the first.
    pub fn equity(&self) -> Option<(f64, f64)> {
        let equity = f64::from_bits(self.equity_bits.load(Ordering::Relaxed));
        let pnl = f64::from_bits(self.pnl_bits.load(Ordering::Relaxed));
        (equity.is_finite() && pnl.is_finite()).then_some((equity, pnl))
    }

    /// (bars done, bars total, percent).
    pub fn progress(&self) -> (u64, u64, f64) {
        let (done, total) = (self.bars_done.load(Ordering::Relaxed), self.bars_total.load(Ordering::Relaxed));
        (done, total, pct(done, total))
    }
}

fn pct(done: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        done as f64 / total as f64 * 100.0
    }
}
