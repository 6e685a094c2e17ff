//! The bars phase of a run: every step of the timeline, called per bar or
//! handed in runs of steps to a strategy that drives the loop itself, with
//! progress reports and cancellation between them.

use super::{failed, EngineError, Progress, RunHooks};
use crate::domain::CancelToken;
use crate::session::Session;
use crate::strategy::{Strategy, StrategyError};

/// Most steps handed at once to a strategy that drives the loop itself.
const MAX_CHUNK: usize = 1 << 16;

/// Takes the session through every step of its timeline.
///
/// # Errors
/// The strategy's code fails (naming the step), or the run is cancelled.
pub(super) fn run_bars(
    session: &Session,
    strategy: &mut dyn Strategy,
    hooks: &mut RunHooks<'_>,
) -> Result<(), EngineError> {
    let total = session.steps();
    let progress_every = hooks.progress_every.unwrap_or(total / 200).max(1);
    let drives = strategy.drives_bars();
    let mut done = 0;
    while done < total {
        // Up to the next progress report.
        let end = ((done / progress_every + 1) * progress_every).min(total);
        if drives {
            if hooks.cancel.is_cancelled() {
                return Err(EngineError::Cancelled { step: done });
            }
            let end = end.min(done + MAX_CHUNK);
            driven(session, strategy, done, end, &hooks.cancel)?;
            done = end;
        } else {
            called(session, strategy, done, end, &hooks.cancel)?;
            done = end;
        }
        if let Some(report) = hooks.progress.as_mut() {
            if done % progress_every == 0 || done == total {
                report(Progress { step: done, total, equity: session.equity_at(done - 1) });
            }
        }
    }
    Ok(())
}

/// Steps `from..to`, calling the strategy's `on_bar` after each has begun.
fn called(
    session: &Session,
    strategy: &mut dyn Strategy,
    from: usize,
    to: usize,
    cancel: &CancelToken,
) -> Result<(), EngineError> {
    for step in from..to {
        if cancel.is_cancelled() {
            return Err(EngineError::Cancelled { step });
        }
        session.begin_step(step);
        strategy.on_bar(session.ctx()).map_err(|e| failed(strategy.name(), "on_bar", Some(session.at()), e))?;
        session.end_step();
    }
    Ok(())
}

/// Hands steps `from..to` to a strategy that drives the loop itself (the
/// runtime checks for cancellation within them), and checks that it took
/// them all.
fn driven(
    session: &Session,
    strategy: &mut dyn Strategy,
    from: usize,
    to: usize,
    cancel: &CancelToken,
) -> Result<(), EngineError> {
    let bars = session.queue_steps(from, to);
    let result = strategy.on_bars(session.ctx(), &bars);
    let at = session.at();
    if cancel.is_cancelled() {
        return Err(EngineError::Cancelled { step: at.0 });
    }
    if result.is_ok() && !session.queue_done() {
        let message = format!(
            "the strategy returned from its bar loop at step {} before the engine's steps {from}..{to} were done",
            at.0
        );
        return Err(failed(
            strategy.name(),
            "on_bar",
            Some(at),
            StrategyError::Runtime { message, line: None, column: None },
        ));
    }
    result.map_err(|e| failed(strategy.name(), "on_bar", Some(at), e))
}
