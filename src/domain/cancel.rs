//! Cooperative cancellation of a run, shared with whatever runs its code.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag that asks a run to stop; clones share it.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// Returns a token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether cancellation was asked for.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
