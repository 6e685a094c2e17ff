//! The lines a strategy logs, kept with its run.

use serde::Serialize;

use crate::domain::Timestamp;

/// Most lines kept per run; later ones are counted, not stored.
pub const MAX_LOG_LINES: usize = 10_000;
/// Longest line kept, in bytes; longer lines are cut.
pub const MAX_LINE_BYTES: usize = 2_000;

/// One logged line and the step it was logged on (`None` in init).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogLine {
    /// 0-based engine step it was logged on; `None` in init.
    pub step: Option<usize>,
    /// That step's timestamp; `None` in init.
    pub ts: Option<Timestamp>,
    /// The text, cut to `MAX_LINE_BYTES` bytes (ending in `…` when cut).
    pub message: String,
}

/// A run's log, bounded in size.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunLog {
    /// The kept lines, in the order logged (at most [`MAX_LOG_LINES`]).
    pub lines: Vec<LogLine>,
    /// Lines dropped after [`MAX_LOG_LINES`].
    pub dropped: usize,
}

impl RunLog {
    /// Appends a line, or counts it as dropped when the log is full.
    pub fn push(&mut self, step: Option<usize>, ts: Option<Timestamp>, message: &str) {
        if self.lines.len() >= MAX_LOG_LINES {
            self.dropped += 1;
            return;
        }
        let mut message = message.to_string();
        if message.len() > MAX_LINE_BYTES {
            let mut cut = MAX_LINE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        self.lines.push(LogLine { step, ts, message });
    }
}
