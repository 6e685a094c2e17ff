//! Why a run failed, as its stored `error_kind` and its `failed` event name
//! it: one vocabulary for the service that decides it, the store that keeps
//! it and the API that shows it.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// The kind of a failed run's error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum FailureKind {
    /// Its data could not be loaded, sliced or resampled, or its request no
    /// longer checks (a dataset deleted since).
    Data,
    /// The strategy refused its parameters.
    Params,
    /// The strategy failed to load or raised an error.
    Strategy,
    /// The strategy used up its budget: a script's operations in one call,
    /// a plugin's fuel or CPU time for the run.
    Budget,
    /// The strategy trapped: a plugin's panic, `unreachable` or stack
    /// overflow, a script's call stack too deep.
    Trap,
    /// The run took longer than its wall-clock time limit.
    TimeLimit,
    /// The server failed (a database error, a worker that died).
    Internal,
    /// The server stopped while the run was running.
    Interrupted,
}

impl FailureKind {
    /// Every kind, in the order the README lists them.
    pub const ALL: [FailureKind; 8] = [
        FailureKind::Data,
        FailureKind::Params,
        FailureKind::Strategy,
        FailureKind::Budget,
        FailureKind::Trap,
        FailureKind::TimeLimit,
        FailureKind::Internal,
        FailureKind::Interrupted,
    ];

    /// The kind as stored and sent: `data`, `params`, `strategy`, `budget`,
    /// `trap`, `time_limit`, `internal` or `interrupted`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Data => "data",
            FailureKind::Params => "params",
            FailureKind::Strategy => "strategy",
            FailureKind::Budget => "budget",
            FailureKind::Trap => "trap",
            FailureKind::TimeLimit => "time_limit",
            FailureKind::Internal => "internal",
            FailureKind::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FailureKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        FailureKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown error kind '{s}'"))
    }
}

impl Serialize for FailureKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_text() {
        for kind in FailureKind::ALL {
            assert_eq!(kind.as_str().parse::<FailureKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert!("oops".parse::<FailureKind>().is_err());
    }
}
