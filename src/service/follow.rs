//! On a server whose runs execute on worker processes (`serve --workers 0`):
//! the events of those runs for the strategies' event streams, read from
//! the runs table while a stream has listeners. The workers write a run's
//! progress with its lease twice a second; this reads it four times a
//! second and publishes what changed: progress, then the final event.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::live::RunEvent;
use super::Service;
use crate::store::{RunFilter, RunStatus};

/// How often the runs of watched strategies are read.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// The most runs of one strategy read per look.
const MOST_PER_LOOK: usize = 500;

/// What the follower published of one strategy's runs.
#[derive(Default)]
struct Followed {
    /// Runs up to this id had ended when last looked at (or were there
    /// before the strategy's stream had a listener): not read again.
    below: i64,
    /// Per run above `below` under way: the bars of its last progress event.
    bars: HashMap<i64, i64>,
    /// Runs above `below` whose final event was sent.
    ended: HashSet<i64>,
}

impl Service {
    /// Publishes the events of runs on workers to the streams of their
    /// strategies, for as long as the service lives.
    pub(super) async fn follow_worker_runs(self) {
        let mut followed: HashMap<i64, Followed> = HashMap::new();
        loop {
            tokio::time::sleep(FOLLOW_EVERY).await;
            let watched: Vec<(i64, tokio::sync::broadcast::Sender<RunEvent>)> = {
                let all = self.inner.strategy_events.lock().unwrap_or_else(|e| e.into_inner());
                all.iter().filter(|(_, s)| s.receiver_count() > 0).map(|(&id, s)| (id, s.clone())).collect()
            };
            followed.retain(|id, _| watched.iter().any(|(w, _)| w == id));
            for (strategy, channel) in watched {
                let state = match followed.get_mut(&strategy) {
                    Some(state) => state,
                    None => match self.start_following(strategy).await {
                        Some(state) => followed.entry(strategy).or_insert(state),
                        None => continue,
                    },
                };
                self.publish_changes(strategy, state, &channel).await;
            }
        }
    }

    /// What strategy `id`'s stream has had of its runs when it gets its
    /// first listener: the runs that ended before are not its stream's; the
    /// queued and running ones are, from their next change on (as a run in
    /// this process sends its events from now on). `None` when the database
    /// does not answer.
    async fn start_following(&self, id: i64) -> Option<Followed> {
        let read = |filter: RunFilter| async move {
            self.inner.store.runs(filter).await.inspect_err(|e| {
                tracing::warn!(strategy = id, error = %e, "cannot read the strategy's runs for its event stream");
            })
        };
        let newest = RunFilter { strategy_id: Some(id), limit: Some(1), newest_first: true, ..RunFilter::default() };
        let newest = read(newest).await.ok()?.first().map_or(0, |r| r.id);
        let mut oldest_unended: Option<i64> = None;
        for status in [RunStatus::Queued, RunStatus::Running] {
            let filter =
                RunFilter { strategy_id: Some(id), status: Some(status), limit: Some(1), ..RunFilter::default() };
            if let Some(row) = read(filter).await.ok()?.first() {
                oldest_unended = Some(oldest_unended.map_or(row.id, |o| o.min(row.id)));
            }
        }
        let mut state = Followed { below: oldest_unended.map_or(newest, |o| o - 1), ..Followed::default() };
        let since = RunFilter { strategy_id: Some(id), after: Some(state.below), ..RunFilter::default() };
        for row in read(since).await.ok()?.into_iter().take_while(|r| r.id <= newest) {
            match row.status {
                RunStatus::Queued => {}
                RunStatus::Running => {
                    state.bars.insert(row.id, row.bars_processed);
                }
                _ => {
                    state.ended.insert(row.id);
                }
            }
        }
        Some(state)
    }

    /// Reads strategy `id`'s runs above `state.below` and sends what
    /// changed since the last look.
    async fn publish_changes(&self, id: i64, state: &mut Followed, channel: &tokio::sync::broadcast::Sender<RunEvent>) {
        let filter = RunFilter {
            strategy_id: Some(id),
            after: Some(state.below),
            limit: Some(MOST_PER_LOOK),
            ..RunFilter::default()
        };
        let rows = match self.inner.store.runs(filter).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(strategy = id, error = %e, "cannot read the strategy's runs for its event stream");
                return;
            }
        };
        let mut all_ended = true;
        for row in &rows {
            match row.status {
                RunStatus::Queued => all_ended = false,
                RunStatus::Running => {
                    all_ended = false;
                    if state.bars.insert(row.id, row.bars_processed) != Some(row.bars_processed) {
                        let _ = channel.send(RunEvent::stored_progress(row));
                    }
                }
                _ => {
                    state.bars.remove(&row.id);
                    if state.ended.insert(row.id) {
                        let _ = channel.send(RunEvent::ended(row));
                    }
                }
            }
            // Everything up to the first run not yet ended is done with.
            if all_ended {
                state.below = row.id;
            }
        }
        let below = state.below;
        state.ended.retain(|&id| id > below);
    }
}
