//! The run queue: runs waiting for a slot in FIFO order, the caps on how
//! many may wait (see `admission`), the slots that bound how many execute
//! at once, and the live state of every queued or running run.
//!
//! It knows run ids only; storing runs and executing them is the service's.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::admission::{Admission, Reservation};
use super::live::Live;
use super::ServiceError;

/// Queued runs, run slots and live runs.
pub struct RunQueue {
    waiting: Mutex<VecDeque<i64>>,
    /// The caps on queued runs, whole and per client.
    admission: Admission,
    live: Mutex<HashMap<i64, Arc<Live>>>,
    wake: Notify,
    slots: Arc<Semaphore>,
    max_queued: usize,
    max_queued_per_client: usize,
}

impl RunQueue {
    /// An empty queue with `slots` run slots, taking at most `max_queued`
    /// waiting runs, `max_queued_per_client` from one client.
    pub fn new(slots: usize, max_queued: usize, max_queued_per_client: usize) -> Self {
        RunQueue {
            waiting: Mutex::new(VecDeque::new()),
            admission: Admission::default(),
            live: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            slots: Arc::new(Semaphore::new(slots)),
            max_queued,
            max_queued_per_client,
        }
    }

    /// Holds a place for a run from `client` while its submit is checked.
    ///
    /// # Errors
    /// [`ServiceError::Busy`] when the queue, or the client's share of it, is full.
    pub fn reserve(&self, client: Option<IpAddr>) -> Result<Reservation<'_>, ServiceError> {
        self.admission.reserve(client, self.max_queued, self.max_queued_per_client)
    }

    /// Queues run `id` (its place reserved, or `place` is `None` for a run
    /// queued again after a restart, counted without a client).
    pub fn push(&self, id: i64, place: Option<Reservation<'_>>) {
        match place {
            Some(place) => place.queued(id),
            None => self.admission.queued_unreserved(id),
        }
        if let Ok(mut live) = self.live.lock() {
            live.entry(id).or_insert_with(|| Arc::new(Live::new()));
        }
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.push_back(id);
        }
        self.wake.notify_one();
    }

    /// Tracks run `id`, claimed by this worker process outside the queue,
    /// with its live state `live` until [`RunQueue::finished`].
    pub fn adopt(&self, id: i64, live: Arc<Live>) {
        if let Ok(mut all) = self.live.lock() {
            all.insert(id, live);
        }
    }

    /// Waits for a free slot and a queued run; returns the run with the
    /// slot it holds until the permit is dropped, or `None` once closed.
    ///
    /// It holds no slot while no run waits, so that a sweep may take them all.
    pub async fn next(&self) -> Option<(i64, OwnedSemaphorePermit)> {
        loop {
            if self.slots.is_closed() {
                return None;
            }
            if self.len() == 0 {
                self.wake.notified().await;
                continue;
            }
            let permit = self.slots.clone().acquire_owned().await.ok()?;
            if let Some(id) = self.waiting.lock().ok().and_then(|mut q| q.pop_front()) {
                self.admission.left(id);
                return Some((id, permit));
            }
            // Taken out (cancelled) while waiting for the slot: wait again.
        }
    }

    /// Waits for a free run slot, then takes as many more as are free, up
    /// to `most` in all (a sweep's threads); `None` once closed.
    pub async fn slots(&self, most: usize) -> Option<Vec<OwnedSemaphorePermit>> {
        let mut permits = vec![self.slots.clone().acquire_owned().await.ok()?];
        while permits.len() < most {
            match self.slots.clone().try_acquire_owned() {
                Ok(permit) => permits.push(permit),
                Err(_) => break,
            }
        }
        Some(permits)
    }

    /// Starts no more runs; the queued ones stay queued.
    pub fn close(&self) {
        self.slots.close();
        self.wake.notify_one();
    }

    /// How many runs wait.
    pub fn len(&self) -> usize {
        self.waiting.lock().map_or(0, |q| q.len())
    }

    /// The 1-based place of run `id` in the queue while it waits.
    pub fn position(&self, id: i64) -> Option<usize> {
        self.waiting.lock().ok().and_then(|q| q.iter().position(|&r| r == id)).map(|p| p + 1)
    }

    /// Takes run `id` out of the queue; returns where it was (0-based) for
    /// [`RunQueue::put_back`], or `None` if it was not waiting.
    pub fn take_out(&self, id: i64) -> Option<usize> {
        self.waiting.lock().ok().and_then(|mut q| {
            let at = q.iter().position(|&r| r == id)?;
            q.remove(at);
            Some(at)
        })
    }

    /// Puts run `id` back at `at`, where [`RunQueue::take_out`] found it.
    pub fn put_back(&self, id: i64, at: usize) {
        if let Ok(mut q) = self.waiting.lock() {
            let at = at.min(q.len());
            q.insert(at, id);
        }
        self.wake.notify_one();
    }

    /// Run `id`, taken out of the queue, will not start: it no longer counts
    /// against the caps; returns its live state, gone now.
    pub fn forget(&self, id: i64) -> Option<Arc<Live>> {
        self.admission.left(id);
        self.finished(id)
    }

    /// The live state of a queued or running run.
    pub fn live(&self, id: i64) -> Option<Arc<Live>> {
        self.live.lock().ok()?.get(&id).cloned()
    }

    /// The runs under way here whose fence names `owner`.
    pub fn held_by(&self, owner: &str) -> Vec<i64> {
        let Ok(live) = self.live.lock() else { return Vec::new() };
        live.iter().filter(|(_, l)| l.fence.get().is_some_and(|f| f.owner == owner)).map(|(&id, _)| id).collect()
    }

    /// Run `id` has ended: its live state is dropped (and returned).
    pub fn finished(&self, id: i64) -> Option<Arc<Live>> {
        self.live.lock().ok().and_then(|mut l| l.remove(&id))
    }

    /// Adds run slots (tests: a slot freed during a shutdown).
    #[cfg(test)]
    pub fn add_slots(&self, n: usize) {
        self.slots.add_permits(n);
    }

    /// The waiting runs, in order (tests).
    #[cfg(test)]
    pub fn waiting(&self) -> Vec<i64> {
        self.waiting.lock().map(|q| q.iter().copied().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_start_in_order_as_slots_free_up() {
        let queue = RunQueue::new(1, 10, 10);
        queue.push(1, None);
        let place = queue.reserve(None).unwrap();
        queue.push(2, Some(place));
        assert_eq!((queue.len(), queue.position(2)), (2, Some(2)));
        let (first, permit) = queue.next().await.unwrap();
        assert_eq!(first, 1);
        let second = tokio::time::timeout(std::time::Duration::from_millis(50), queue.next()).await;
        assert!(second.is_err(), "no slot is free");
        drop(permit);
        assert_eq!(queue.next().await.unwrap().0, 2);
        queue.close();
        assert!(queue.next().await.is_none());
    }

    #[test]
    fn a_run_taken_out_goes_back_to_its_place() {
        let queue = RunQueue::new(0, 10, 10);
        for id in [1, 2, 3] {
            queue.push(id, None);
        }
        let at = queue.take_out(2).unwrap();
        assert_eq!(queue.waiting(), [1, 3]);
        queue.put_back(2, at);
        assert_eq!(queue.waiting(), [1, 2, 3]);
        assert!(queue.take_out(9).is_none());
        assert!(queue.live(2).is_some());
        queue.forget(2);
        assert!(queue.live(2).is_none());
    }
}
