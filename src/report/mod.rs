//! Reports: one self-contained HTML file per run or sweep, the same from
//! the command line (`run --report`, `sweep --report`) and from the
//! service (`GET /api/runs/{id}/report`, `GET /api/sweeps/{id}/report`).
//!
//! - [`run`]: a run's data (header, curves, prices with trades, metrics,
//!   trades, monthly returns, contributions, log), reduced for drawing;
//! - [`sweep`]: a sweep's data (leaderboard, variants for heatmaps and
//!   sensitivities, the Deflated Sharpe Ratio);
//! - [`html`]: the page, with the vendored chart library, script and
//!   styles inlined;
//! - [`reduce`]: how long series are reduced without losing extremes.

pub mod html;
pub mod reduce;
pub mod run;
pub mod sweep;

pub use html::{render, Page};
pub use run::{run_data, CurvePoint, RunInput, TradeLine};
pub use sweep::{sweep_data, Leader, SweepInput};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The page template failed (a bug: the template is part of the binary).
    #[error("the report template failed: {0}")]
    Template(#[from] minijinja::Error),
    /// The data could not be serialised.
    #[error("the report's data could not be written: {0}")]
    Data(String),
}
