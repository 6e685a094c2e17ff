//! Who may queue another run: at most so many runs wait in the queue, and
//! at most so many from one client (an IP address).
//!
//! A place is reserved when a submit is checked and only turns into a
//! queued run once the run is stored and queued, so that parallel submits
//! from one client cannot all pass the check before any of them counts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use super::ServiceError;

/// The runs waiting and the places reserved for submits under way.
#[derive(Debug, Default)]
pub struct Admission {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Submits checked and not yet queued (or given up), by client.
    reserved: HashMap<Option<IpAddr>, usize>,
    /// Queued runs with the client that submitted them (`None`: unknown,
    /// e.g. re-queued after a restart).
    queued: HashMap<i64, Option<IpAddr>>,
}

impl State {
    fn of(&self, client: Option<IpAddr>) -> usize {
        self.reserved.get(&client).copied().unwrap_or(0) + self.queued.values().filter(|&&c| c == client).count()
    }

    fn total(&self) -> usize {
        self.reserved.values().sum::<usize>() + self.queued.len()
    }
}

/// A place held for one submit; given back when dropped unless it became a queued run.
#[derive(Debug)]
pub struct Reservation<'a> {
    admission: &'a Admission,
    client: Option<IpAddr>,
    taken: bool,
}

impl Admission {
    /// Holds a place for a run from `client`.
    ///
    /// # Errors
    /// [`ServiceError::Busy`] when `max_total` runs wait or are being
    /// submitted, or `max_per_client` from this client.
    pub fn reserve(
        &self,
        client: Option<IpAddr>,
        max_total: usize,
        max_per_client: usize,
    ) -> Result<Reservation<'_>, ServiceError> {
        let mut state = self.state.lock().map_err(|_| ServiceError::Internal("the queue's lock is poisoned".into()))?;
        if state.total() >= max_total {
            return Err(ServiceError::Busy(format!(
                "{max_total} runs are queued already; try again when some have started"
            )));
        }
        if let Some(ip) = client {
            let waiting = state.of(client);
            if waiting >= max_per_client {
                return Err(ServiceError::Busy(format!(
                    "{ip} has {waiting} runs queued already, the most one client may; try again when some have started"
                )));
            }
        }
        *state.reserved.entry(client).or_default() += 1;
        Ok(Reservation { admission: self, client, taken: false })
    }

    /// Counts run `id`, queued without a reservation (after a restart).
    pub fn queued_unreserved(&self, id: i64) {
        if let Ok(mut state) = self.state.lock() {
            state.queued.insert(id, None);
        }
    }

    /// Run `id` has left the queue (started or cancelled).
    pub fn left(&self, id: i64) {
        if let Ok(mut state) = self.state.lock() {
            state.queued.remove(&id);
        }
    }
}

impl Reservation<'_> {
    /// The reserved place is run `id`'s, now queued.
    pub fn queued(mut self, id: i64) {
        if let Ok(mut state) = self.admission.state.lock() {
            release(&mut state, self.client);
            state.queued.insert(id, self.client);
        }
        self.taken = true;
    }
}

fn release(state: &mut State, client: Option<IpAddr>) {
    if let Some(n) = state.reserved.get_mut(&client) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            state.reserved.remove(&client);
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.taken {
            if let Ok(mut state) = self.admission.state.lock() {
                release(&mut state, self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn reservations_count_before_their_runs_are_queued() {
        let admission = Admission::default();
        let a = admission.reserve(ip(1), 10, 2).unwrap();
        let b = admission.reserve(ip(1), 10, 2).unwrap();
        assert!(admission.reserve(ip(1), 10, 2).is_err(), "two in flight already");
        assert!(admission.reserve(ip(2), 10, 2).is_ok(), "another client has its own share");
        a.queued(1);
        drop(b); // its submit failed: the place is free again
        let c = admission.reserve(ip(1), 10, 2).unwrap();
        c.queued(2);
        assert!(admission.reserve(ip(1), 10, 2).is_err());
        admission.left(1);
        assert!(admission.reserve(ip(1), 10, 2).is_ok());
    }

    #[test]
    fn the_whole_queue_has_its_cap_whoever_submits() {
        let admission = Admission::default();
        admission.queued_unreserved(7);
        admission.reserve(None, 2, 1).unwrap().queued(8);
        let err = admission.reserve(ip(3), 2, 5).unwrap_err();
        assert!(err.to_string().contains("2 runs are queued"), "{err}");
        admission.left(7);
        assert!(admission.reserve(ip(3), 2, 5).is_ok());
    }
}
