//! What the service knows of a sweep while it runs: its cancellation, its
//! counts, the best variant so far, and the event stream subscribers
//! listen to.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::domain::CancelToken;

/// An event on a sweep's stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SweepEvent {
    /// A variant finished (and is stored).
    Variant {
        /// The sweep's id.
        sweep_id: i64,
        /// The variant's number.
        number: u64,
        /// `ran`, `excluded` or `failed`.
        outcome: &'static str,
        /// Its objective's value, when it ran and is ranked.
        objective: Option<f64>,
    },
    /// The counts, at most ten a second while the sweep runs.
    Progress {
        /// The sweep's id.
        sweep_id: i64,
        /// Variants finished, in all (before a restart too).
        done: u64,
        /// Variants in the sweep.
        total: u64,
        /// Of those done, how many failed.
        failed: u64,
        /// Of those done, how many the constraint excluded.
        excluded: u64,
        /// The best variant so far and its objective's value.
        best: Option<(u64, f64)>,
    },
    /// Every variant finished; the last event.
    Completed {
        /// The sweep's id.
        sweep_id: i64,
    },
    /// The sweep was cancelled (finished variants are kept); the last event.
    Cancelled {
        /// The sweep's id.
        sweep_id: i64,
    },
    /// The sweep could not run (its data or strategy); the last event.
    Failed {
        /// The sweep's id.
        sweep_id: i64,
        /// Why.
        message: String,
    },
}

impl SweepEvent {
    /// The event's name, for the SSE `event:` field.
    pub fn name(&self) -> &'static str {
        match self {
            SweepEvent::Variant { .. } => "variant",
            SweepEvent::Progress { .. } => "progress",
            SweepEvent::Completed { .. } => "completed",
            SweepEvent::Cancelled { .. } => "cancelled",
            SweepEvent::Failed { .. } => "failed",
        }
    }

    /// Whether it is the last event of its stream.
    pub fn is_last(&self) -> bool {
        matches!(self, SweepEvent::Completed { .. } | SweepEvent::Cancelled { .. } | SweepEvent::Failed { .. })
    }
}

/// A queued or running sweep.
pub struct SweepLive {
    /// Stops the sweep: no more variants start, those running stop between bars.
    pub cancel: CancelToken,
    /// Variants finished and stored, in all.
    pub done: AtomicU64,
    /// Of those, failed.
    pub failed: AtomicU64,
    /// Of those, excluded.
    pub excluded: AtomicU64,
    /// The best so far: (score as ranked, higher first; number).
    best: Mutex<Option<(f64, u64)>>,
    events: broadcast::Sender<SweepEvent>,
}

impl Default for SweepLive {
    fn default() -> Self {
        SweepLive {
            cancel: CancelToken::new(),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            excluded: AtomicU64::new(0),
            best: Mutex::new(None),
            events: broadcast::channel(1024).0,
        }
    }
}

impl SweepLive {
    /// A subscription to the sweep's events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SweepEvent> {
        self.events.subscribe()
    }

    /// Sends `event` to the subscribers (none is fine).
    pub fn publish(&self, event: SweepEvent) {
        let _ = self.events.send(event);
    }

    /// Takes `score` of variant `number` as the best if it beats the best
    /// so far (ties go to the lower number).
    pub fn offer(&self, score: f64, number: u64) {
        let mut best = self.best.lock().unwrap_or_else(|e| e.into_inner());
        if best.is_none_or(|(b, n)| score > b || (score == b && number < n)) {
            *best = Some((score, number));
        }
    }

    /// The best so far: (number, score as ranked).
    pub fn best(&self) -> Option<(u64, f64)> {
        let best = self.best.lock().unwrap_or_else(|e| e.into_inner());
        best.map(|(score, number)| (number, score))
    }

    /// Counts one more finished variant.
    pub fn count(&self, outcome: &str) {
        self.done.fetch_add(1, Ordering::Relaxed);
        match outcome {
            "failed" => self.failed.fetch_add(1, Ordering::Relaxed),
            "excluded" => self.excluded.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }
}
