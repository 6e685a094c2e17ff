//! What a walk-forward hands back: one row per window, the stitched
//! out-of-sample run, the efficiency, and the progress it reports while it
//! runs. Plain data, serialisable as the CLI's `--json` prints it.

use serde::{Serialize, Serializer};

use super::Stitched;
use crate::domain::Timestamp;
use crate::metrics::Metrics;
use crate::sweep::{metrics_json, VariantResult};

/// One window's row: where its parts fall, the variant its training chose,
/// and how that variant did in and out of sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowResult {
    /// The window's number, from 1.
    pub window: usize,
    /// The training part's first bar.
    pub train_from: Timestamp,
    /// The training part's last bar.
    pub train_to: Timestamp,
    /// Steps in the training part.
    pub train_bars: usize,
    /// The test part's first bar (the step after `train_to`).
    pub test_from: Timestamp,
    /// The test part's last bar.
    pub test_to: Timestamp,
    /// Steps in the test part.
    pub test_bars: usize,
    /// Variants that ran on the training part.
    pub ran: u64,
    /// Variants the constraint excluded.
    pub excluded: u64,
    /// Variants whose training run failed.
    pub failed: u64,
    /// The chosen variant's number; `None` when no variant was ranked.
    pub variant: Option<u64>,
    /// The chosen variant's axis values (parameters and settings) by name,
    /// as JSON numbers ([`crate::sweep::values_json`]); an empty object
    /// when no variant was chosen.
    pub values: serde_json::Value,
    /// The objective's value of the chosen variant on the training part.
    pub in_sample: Option<f64>,
    /// The objective's value of its run on the test part.
    pub out_of_sample: Option<f64>,
    /// The chosen variant's metrics on the training part, as a sweep keeps them.
    #[serde(serialize_with = "metrics_map")]
    pub in_sample_metrics: Option<Vec<Option<f64>>>,
    /// The metrics of its run on the test part.
    pub out_of_sample_metrics: Option<Metrics>,
    /// Why the window has no test run (no variant ranked, or the run failed);
    /// the stitched curve then holds cash over its test part.
    pub note: Option<String>,
}

/// The whole walk-forward: its rows, the stitched out-of-sample run and
/// the walk-forward efficiency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WalkForward {
    /// The spec, as text (`train 500 bars, test 100 bars, rolling`).
    pub spec: String,
    /// The objective's metric.
    pub objective: &'static str,
    /// Whether the objective ranks lower values first.
    pub minimize: bool,
    /// The least trades a variant needed to be ranked.
    pub min_trades: usize,
    /// One row per window done, in order.
    pub windows: Vec<WindowResult>,
    /// The test runs chained (see [`Stitched`]); `None` without any window done.
    pub stitched: Option<Stitched>,
    /// The walk-forward efficiency (see [`super::efficiency`]).
    pub efficiency: Option<f64>,
    /// Whether it was cancelled before every window was done (the rows and
    /// the stitched curve then hold the windows done).
    pub cancelled: bool,
}

/// What [`super::run`] reports while it runs.
#[derive(Clone, Copy, Debug)]
pub enum WalkProgress<'a> {
    /// A variant of window `window`'s training sweep finished.
    Variant {
        /// The window's number, from 1.
        window: usize,
        /// How many windows there are.
        windows: usize,
        /// The variant's result.
        result: &'a VariantResult,
    },
    /// Window `window` is done.
    Window {
        /// How many windows there are.
        windows: usize,
        /// Its row.
        result: &'a WindowResult,
    },
}

/// A sweep's metrics as a JSON object by name, as the sweep writes them.
fn metrics_map<S: Serializer>(values: &Option<Vec<Option<f64>>>, serializer: S) -> Result<S::Ok, S::Error> {
    values.as_deref().map(metrics_json).serialize(serializer)
}
