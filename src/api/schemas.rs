//! The OpenAPI schemas of the responses that handlers build as JSON values
//! (a run, a sweep, a heatmap, an error): written here by hand, field for
//! field, and checked against served responses by the tests in
//! `tests/it/api/openapi.rs` and by Schemathesis in CI. Types that are
//! serialized as they are (rows, requests) derive their schema where they live.

#![allow(dead_code)] // Read by the schema derive only; never built.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::store::{FailureKind, RunStatus, StrategyRow};

/// What kind of error an error body reports.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 404: no such resource (or an id that is not a number).
    NotFound,
    /// 422: a field is invalid (named in `field` when it is a field of the request).
    Invalid,
    /// 422: the strategy's source does not compile (`line` and `column` when known).
    Compile,
    /// 409: the request conflicts with the resource's state or another resource.
    Conflict,
    /// 503: the database does not answer.
    Unavailable,
    /// 507: the database is full.
    Full,
    /// 500: the server failed; the details are in its log.
    Internal,
    /// 413: the request body is larger than the server's limit.
    TooLarge,
    /// 429: too much work is waiting; try again after `Retry-After` seconds.
    Busy,
    /// 400: the body is not JSON, or not sent as `application/json`.
    BadJson,
    /// 400: a query parameter is missing, unknown or invalid.
    BadQuery,
    /// 401: no token, or one that is not valid, expired or revoked.
    Unauthorized,
    /// 403: the token lacks the route's scope, or the Host, Origin or CSRF header is refused.
    Forbidden,
    /// 415: an upload sent with a Content-Type the route does not take.
    MediaType,
}

/// Every error the API answers: `{"error": kind, "message", "field"?, "line"?, "column"?}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// What kind of error.
    error: ErrorKind,
    /// What went wrong, for a person.
    message: String,
    /// The request field at fault (`invalid` errors of the service).
    field: Option<String>,
    /// The line of a compile error, from 1 (`compile` errors; null when unknown).
    line: Option<u64>,
    /// The column of a compile error, from 1 (`compile` errors; null when unknown).
    column: Option<u64>,
}

/// Whether the service and its database answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// 200: the database answers.
    Ok,
    /// 503: it does not.
    Unavailable,
}

/// `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    status: HealthStatus,
    /// Why it is unavailable (only then).
    message: Option<String>,
}

/// A run or a sweep's run that was queued, or a run or sweep after a cancel.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// The run's (or sweep's) id.
    id: i64,
    /// Its status now.
    status: RunStatus,
}

/// What a `DELETE` removed.
#[derive(Serialize, ToSchema)]
pub struct DeletedBody {
    /// What was deleted (`run 5`, `version 2 of strategy 1`).
    pub deleted: String,
    /// Finished runs deleted with it (with their results).
    pub runs: u64,
    /// Finished sweeps deleted with it (with their variants).
    pub sweeps: u64,
}

/// The answer to `POST /api/session`.
#[derive(Serialize, ToSchema)]
pub struct SessionBody {
    /// The signed-in user's name.
    pub user: String,
    /// The token's scopes, comma-separated.
    pub scopes: String,
}

/// A queued sweep.
#[derive(Serialize, ToSchema)]
pub struct SweepAccepted {
    /// The sweep's id.
    id: i64,
    /// Its status: `queued`.
    status: RunStatus,
    /// How many variants it has.
    total: i64,
}

/// Why a run failed.
#[derive(Serialize, ToSchema)]
pub struct RunError {
    /// What kind of failure.
    kind: FailureKind,
    /// What went wrong.
    message: Option<String>,
}

/// A run: its state, progress, config and, once it ended, its results'
/// summary. Lists leave out `log`.
#[derive(Serialize, ToSchema)]
pub struct Run {
    /// The run's id.
    id: i64,
    /// The strategy it runs.
    strategy_id: i64,
    /// The strategy's version number it runs.
    version: Option<i64>,
    /// The run this one repeats, if it is a rerun.
    rerun_of: Option<i64>,
    /// How many times a worker claimed it (0 while queued; 2 or more after
    /// a worker was lost mid-run, see `backtester worker`).
    attempt: i64,
    /// Where the run is in its life.
    status: RunStatus,
    /// 1-based position in the queue while queued.
    queue_position: Option<u64>,
    /// Bars processed as a percentage of the total, 0 to 100.
    progress_pct: f64,
    /// Bars (engine steps) simulated so far.
    bars_processed: i64,
    /// Bars the run has in all, once it started.
    bars_total: Option<i64>,
    /// When it was queued, in milliseconds since the epoch.
    created_at: i64,
    /// When it started, in milliseconds since the epoch.
    started_at: Option<i64>,
    /// When it ended, in milliseconds since the epoch.
    finished_at: Option<i64>,
    /// The request as stored, every default filled in.
    config: Value,
    /// Hex SHA-256 over what decided the results, once completed.
    fingerprint: Option<String>,
    /// Everything that decided the results, once completed.
    manifest: Value,
    /// How long each phase took.
    timings: Value,
    /// Why it failed, for a failed run.
    error: Option<RunError>,
    /// The performance statistics, once completed.
    metrics: Value,
    /// The strategy's log and the broker's rejections (not in lists).
    log: Option<Value>,
    /// What the strategy used of its sandbox (plugins), once completed.
    sandbox: Value,
}

/// A strategy with its versions (and, from `GET /api/strategies/{id}`, its
/// latest runs, oldest first).
#[derive(Serialize, ToSchema)]
pub struct StrategyDetail {
    #[serde(flatten)]
    strategy: StrategyRow,
    /// Its versions, oldest first.
    versions: Vec<super::strategies::VersionView>,
    /// Its latest runs (all of them: `GET /api/runs?strategy=ID`); not in a create's answer.
    runs: Option<Vec<Run>>,
}

/// A sweep in a list.
#[derive(Serialize, ToSchema)]
pub struct SweepSummary {
    /// The sweep's id.
    id: i64,
    /// The strategy it sweeps.
    strategy_id: i64,
    /// Where it is in its life.
    status: RunStatus,
    /// How many variants it has.
    total: i64,
    /// How many have finished.
    done: u64,
    /// When it was queued, in milliseconds since the epoch.
    created_at: i64,
    /// When it ended, in milliseconds since the epoch.
    finished_at: Option<i64>,
}

/// How a variant ended.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VariantOutcome {
    /// It ran; `metrics` holds its results.
    Ran,
    /// The sweep's constraint excluded it.
    Excluded,
    /// It failed; `error` says why.
    Failed,
}

/// A finished variant of a sweep.
#[derive(Serialize, ToSchema)]
pub struct Variant {
    /// Its number in the sweep's enumeration, from 0.
    number: u64,
    /// Its parameter values, by name.
    values: Value,
    /// How it ended.
    outcome: VariantOutcome,
    /// Why it failed.
    error: Option<String>,
    /// Its metrics, if it ran.
    metrics: Value,
    /// Which attempt stored it: 0 when the server ran it; on worker
    /// processes, the attempt at its chunk (2 or more after a worker that
    /// held it was lost).
    attempt: i64,
    /// Its rank, from 1 (in a leaderboard only).
    rank: Option<u64>,
    /// The run that holds its trades and equity curve, once the sweep
    /// completed (in a leaderboard only).
    run_id: Option<i64>,
}

/// What ranks a sweep's variants.
#[derive(Serialize, ToSchema)]
pub struct SweepObjective {
    /// The metric.
    metric: String,
    /// Whether lower values rank first.
    minimize: bool,
    /// Variants with fewer trades are not ranked.
    min_trades: u64,
}

/// The best variants so far.
#[derive(Serialize, ToSchema)]
pub struct Leaderboard {
    /// Until every variant finished.
    partial: bool,
    /// Best first.
    variants: Vec<Variant>,
}

/// When a sweep was queued, started and ended.
#[derive(Serialize, ToSchema)]
pub struct SweepTimings {
    /// In milliseconds since the epoch.
    created_at: i64,
    /// In milliseconds since the epoch.
    started_at: Option<i64>,
    /// In milliseconds since the epoch.
    finished_at: Option<i64>,
    /// How long its variants took, once it ended.
    elapsed_ms: Option<f64>,
}

/// Whether a sweep ranks variants over the whole data or walks forward.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SweepKind {
    /// Ranks its variants over the whole data.
    Sweep,
    /// Each window chose its own variant.
    WalkForward,
}

/// A sweep: status, counts, the (partial) leaderboard, the best variant,
/// the Deflated Sharpe Ratio once complete, timings.
#[derive(Serialize, ToSchema)]
pub struct Sweep {
    /// The sweep's id.
    id: i64,
    /// The strategy it sweeps.
    strategy_id: i64,
    /// The strategy's version number it asked for (the latest when null).
    version: Option<i64>,
    /// Where it is in its life.
    status: RunStatus,
    /// 1-based position in the queue while queued.
    queue_position: Option<u64>,
    /// Whether its status is final.
    #[serde(rename = "final")]
    is_final: bool,
    /// How many variants it has.
    total: i64,
    /// How many have finished.
    done: u64,
    /// Finished variants that ran.
    ran: u64,
    /// Finished variants its constraint excluded.
    excluded: u64,
    /// Finished variants that failed.
    failed: u64,
    /// What ranks its variants.
    objective: SweepObjective,
    /// Whether it ranks variants or walks forward.
    kind: SweepKind,
    /// The best variant so far.
    best: Option<Variant>,
    /// The best variants so far; null for a walk-forward.
    leaderboard: Option<Leaderboard>,
    /// A walk-forward's windows and their results, once it ended.
    walk_forward: Value,
    /// The Deflated Sharpe Ratio of the best variant, once complete.
    deflated_sharpe: Value,
    /// How many indicator series the sweep computed, once it ended.
    indicators_computed: Value,
    /// Where a sweep resumed after a restart.
    resumed_from: Value,
    /// How many variants ran since the last start.
    ran_this_start: Value,
    /// When it was queued, started and ended.
    timings: SweepTimings,
    /// Why it failed.
    error: Option<String>,
    /// Its request as stored.
    config: Value,
}

/// One axis of a heatmap.
#[derive(Serialize, ToSchema)]
pub struct HeatmapAxis {
    /// The parameter's name.
    axis: String,
    /// Its distinct values, in the order they first appear.
    values: Vec<Value>,
}

/// How cells that differ in other axes are combined.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeatmapAggregate {
    /// The highest value (the metric is better higher).
    Max,
    /// The lowest value.
    Min,
}

/// A metric over two axes of a sweep.
#[derive(Serialize, ToSchema)]
pub struct Heatmap {
    /// The sweep's id.
    sweep_id: i64,
    /// Whether the sweep has ended (else the cells may still change).
    #[serde(rename = "final")]
    is_final: bool,
    /// The metric in the cells.
    metric: String,
    /// How variants differing in other axes are combined.
    aggregate: HeatmapAggregate,
    /// The axis along the columns.
    x: HeatmapAxis,
    /// The axis along the rows.
    y: HeatmapAxis,
    /// Axes held at one value, by name.
    fixed: std::collections::BTreeMap<String, f64>,
    /// `cells[row][column]`; null where no variant ran.
    cells: Vec<Vec<Option<f64>>>,
}

/// How a table is sent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableFormat {
    /// A JSON array (the default).
    Json,
    /// CSV with a header line.
    Csv,
}

/// One Server-Sent Event: its name and its JSON data.
#[derive(Serialize, ToSchema)]
pub struct ServerSentEvent {
    /// The event's name (`progress`, `completed`, ...), as its data's `event` field.
    event: String,
    /// One JSON object: the event's name again and its fields.
    data: String,
}
