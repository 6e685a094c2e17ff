//! Parameter sweeps: many variants of one strategy over one data set, each
//! the run `backtester run` would make with the variant's parameters and
//! settings, run in parallel and ranked by an objective.
//!
//! - [`Axis`]: a parameter or setting and its values (`fast=5:50:5`);
//! - [`VariantSet`]: the grid of the axes, random draws from it, or an
//!   explicit list, enumerated as a stream (variant `i` is computed from `i`);
//! - [`Constraint`]: which variants run (`fast < slow`), a sandboxed expression;
//! - [`Objective`]: the metric that ranks them, and the metrics kept per variant;
//! - [`run`]: the variants on several threads over one loaded universe;
//! - [`deflated`]: the Deflated Sharpe Ratio of the best variant;
//! - [`walk_forward`]: the sweep on training parts of the data, each best
//!   variant run on the test part that follows.

mod axis;
mod constraint;
pub mod deflated;
mod error;
mod objective;
mod rows;
mod runner;
mod variants;
pub mod walk_forward;

pub use axis::{parse_variant, Axis, AxisValue, Number, Setting, Target, MAX_AXIS_VALUES};
pub use constraint::Constraint;
pub use deflated::{Deflated, ReturnShape};
pub use error::SweepError;
pub use objective::{metric_values, MetricColumn, Objective, METRICS};
pub use rows::{csv_header, csv_row, metrics_json, values_json};
pub use runner::{check, rerun, run, Outcome, Ran, SweepJob, SweepResults, VariantResult};
pub use variants::{Selection, Variant, VariantSet, MAX_VARIANTS};
pub use walk_forward::{WalkForward, WalkForwardError, WalkForwardSpec};
