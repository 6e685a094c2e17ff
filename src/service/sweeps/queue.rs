//! The sweep queue: sweeps waiting to start, in FIFO order, and the live
//! state of every queued or running sweep. A sweep starts once a run slot
//! is free and takes the free slots it may use (see `RunQueue::slots`), so
//! that runs and sweep variants together stay within `--max-concurrent-runs`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::live::SweepLive;

/// Queued sweeps and the live state of queued and running ones.
#[derive(Default)]
pub struct SweepQueue {
    waiting: Mutex<VecDeque<i64>>,
    live: Mutex<HashMap<i64, Arc<SweepLive>>>,
    wake: Notify,
}

impl SweepQueue {
    /// Queues sweep `id`.
    pub fn push(&self, id: i64) {
        if let Ok(mut live) = self.live.lock() {
            live.entry(id).or_default();
        }
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.push_back(id);
        }
        self.wake.notify_one();
    }

    /// Waits for a queued sweep.
    pub async fn next(&self) -> i64 {
        loop {
            if let Some(id) = self.waiting.lock().ok().and_then(|mut q| q.pop_front()) {
                return id;
            }
            self.wake.notified().await;
        }
    }

    /// Takes sweep `id` out of the queue; false if it was not waiting.
    pub fn take_out(&self, id: i64) -> bool {
        self.waiting.lock().is_ok_and(|mut q| {
            let at = q.iter().position(|&s| s == id);
            at.and_then(|at| q.remove(at)).is_some()
        })
    }

    /// The 1-based place of sweep `id` in the queue while it waits.
    pub fn position(&self, id: i64) -> Option<usize> {
        self.waiting.lock().ok().and_then(|q| q.iter().position(|&s| s == id)).map(|p| p + 1)
    }

    /// The live state of a queued or running sweep.
    pub fn live(&self, id: i64) -> Option<Arc<SweepLive>> {
        self.live.lock().ok()?.get(&id).cloned()
    }

    /// The sweeps queued or running here.
    pub fn ids(&self) -> Vec<i64> {
        self.live.lock().map(|live| live.keys().copied().collect()).unwrap_or_default()
    }

    /// Sweep `id` has ended: its live state is dropped.
    pub fn finished(&self, id: i64) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sweeps_start_in_order_and_one_taken_out_does_not_start() {
        let queue = SweepQueue::default();
        for id in [1, 2, 3] {
            queue.push(id);
        }
        assert_eq!(queue.position(3), Some(3));
        assert!(queue.take_out(2));
        assert!(!queue.take_out(2));
        assert_eq!(queue.next().await, 1);
        assert_eq!(queue.next().await, 3);
        assert!(queue.live(2).is_some());
        queue.finished(2);
        assert!(queue.live(2).is_none());
        let later = tokio::time::timeout(std::time::Duration::from_millis(50), queue.next()).await;
        assert!(later.is_err(), "nothing waits");
    }
}
