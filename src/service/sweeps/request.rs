//! A sweep request: the fields of a run plus the variant set, constraint,
//! objective and top, and its check into what the sweep runner needs.
//!
//! Axes and variants take the command line's syntax (`fast=5:50:5`,
//! `fast=5,slow=20`), so that a sweep reads the same in both places and
//! enumerates the same variants in the same order.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::super::{RunRequest, ServiceError};
use crate::sweep::{self, Axis, Objective, Selection, VariantSet, WalkForwardSpec};

/// The fields a sweep adds to those of a run.
pub const SWEEP_FIELDS: [&str; 10] =
    ["grid", "random", "variants", "constraint", "objective", "direction", "min_trades", "top", "jobs", "walk_forward"];

/// How many variants the leaderboard keeps unless `top` says otherwise.
pub const DEFAULT_TOP: usize = 10;
/// The most variants a leaderboard may keep.
pub const MAX_TOP: usize = 1000;

/// Draw `count` variants at random from the grid, with `seed`.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RandomDraw {
    /// How many variants (at least 1).
    pub count: u64,
    /// The seed: the same seed draws the same variants.
    #[serde(default)]
    pub seed: u64,
}

/// Which way the objective ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher values first.
    Maximize,
    /// Lower values first.
    Minimize,
}

/// The sweep's own fields. Unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepFields {
    /// Axes, as `backtester sweep --grid` takes them: `fast=5:50:5`, `slow=20,30`.
    #[serde(default)]
    pub grid: Vec<String>,
    /// Draw this many variants of the grid at random instead of all of it.
    #[serde(default)]
    pub random: Option<RandomDraw>,
    /// Explicit variants instead of a grid, as `--variant` takes them: `fast=5,slow=20`.
    #[serde(default)]
    pub variants: Vec<String>,
    /// Only variants for which this expression is true run (`fast < slow`).
    #[serde(default)]
    pub constraint: Option<String>,
    /// The metric that ranks the variants; `sharpe` when absent.
    #[serde(default = "default_objective")]
    pub objective: String,
    /// Which way it ranks; the metric's own direction when absent.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// Variants with fewer trades are not ranked.
    #[serde(default)]
    pub min_trades: usize,
    /// How many of the best variants the leaderboard keeps (1 to 1000; 10 when absent).
    #[serde(default)]
    pub top: Option<usize>,
    /// Variants run at once, at most the server's `--max-concurrent-runs` (its value when absent).
    #[serde(default)]
    pub jobs: Option<usize>,
    /// Walk forward instead of ranking the variants over the whole data:
    /// `train=2y,test=6m` or bar counts, `,anchored` for anchored training
    /// (as `backtester sweep --walk-forward` takes it).
    #[serde(default)]
    pub walk_forward: Option<String>,
}

fn default_objective() -> String {
    "sharpe".into()
}

/// `POST /api/sweeps`: a run's fields and a sweep's, in one object.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRequest {
    /// The run every variant starts from.
    pub run: RunRequest,
    /// The variants and how they are ranked.
    pub sweep: SweepFields,
}

/// A sweep request's parts, checked.
#[derive(Clone, Debug)]
pub struct CheckedSweep {
    /// The variants, enumerated from their number.
    pub variants: VariantSet,
    /// What ranks them.
    pub objective: Objective,
    /// How many the leaderboard keeps.
    pub top: usize,
    /// The walk-forward to run instead of one sweep over the whole data.
    pub walk_forward: Option<WalkForwardSpec>,
}

impl SweepRequest {
    /// Splits one JSON object into the run's fields and the sweep's (a key
    /// that is neither goes with the run's, which refuses it by name).
    pub fn split(object: Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
        let (mut run, mut sweep) = (Map::new(), Map::new());
        for (key, value) in object {
            if SWEEP_FIELDS.contains(&key.as_str()) {
                sweep.insert(key, value);
            } else {
                run.insert(key, value);
            }
        }
        (run, sweep)
    }

    /// The request as one JSON object, as it is stored.
    pub fn to_json(&self) -> Result<String, ServiceError> {
        let mut object = match serde_json::to_value(&self.run) {
            Ok(Value::Object(map)) => map,
            _ => return Err(ServiceError::Internal("a run request is not a JSON object".into())),
        };
        if let Ok(Value::Object(sweep)) = serde_json::to_value(&self.sweep) {
            object.extend(sweep);
        }
        serde_json::to_string(&object).map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// Reads a stored request back.
    ///
    /// # Errors
    /// Stored JSON that does not read as a sweep request.
    pub fn from_stored(text: &str) -> Result<SweepRequest, String> {
        let object: Map<String, Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let (run, sweep) = SweepRequest::split(object);
        Ok(SweepRequest {
            run: serde_json::from_value(Value::Object(run)).map_err(|e| e.to_string())?,
            sweep: serde_json::from_value(Value::Object(sweep)).map_err(|e| e.to_string())?,
        })
    }

    /// Checks the sweep's own fields (the run's are checked as a run's):
    /// `max_jobs` is the server's `--max-concurrent-runs`.
    ///
    /// # Errors
    /// The first invalid field, named.
    pub fn check(&self, max_jobs: usize) -> Result<CheckedSweep, ServiceError> {
        let s = &self.sweep;
        if self.run.pace.is_some() {
            return Err(ServiceError::invalid("pace", "a sweep's variants run at full speed; pace is for one run"));
        }
        if self.run.time_limit_secs.is_some() {
            return Err(ServiceError::invalid(
                "time_limit_secs",
                "a sweep has no wall-clock limit (cancel it instead); each variant runs within the strategy's sandbox limits",
            ));
        }
        let variants = if s.variants.is_empty() {
            if s.grid.is_empty() {
                return Err(ServiceError::invalid("grid", "give at least one axis, or `variants`"));
            }
            let axes = s
                .grid
                .iter()
                .map(|a| Axis::parse(a).map_err(|e| ServiceError::invalid("grid", e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let selection = match s.random {
                Some(RandomDraw { count: 0, .. }) => {
                    return Err(ServiceError::invalid("random.count", "must be at least 1"))
                }
                Some(RandomDraw { count, seed }) => Selection::Random { count, seed },
                None => Selection::Grid,
            };
            let field = if s.random.is_some() { "random.count" } else { "grid" };
            VariantSet::new(axes, &selection).map_err(|e| ServiceError::invalid(field, e.to_string()))?
        } else {
            if !s.grid.is_empty() || s.random.is_some() {
                return Err(ServiceError::invalid(
                    "variants",
                    "give either `variants` or `grid` (with `random`), not both",
                ));
            }
            let listed = s
                .variants
                .iter()
                .map(|v| sweep::parse_variant(v).map_err(|e| ServiceError::invalid("variants", e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            VariantSet::listed(listed, &s.variants).map_err(|e| ServiceError::invalid("variants", e.to_string()))?
        };
        let minimize = s.direction.map(|d| d == Direction::Minimize);
        let objective = Objective::new(&s.objective, minimize, s.min_trades)
            .map_err(|e| ServiceError::invalid("objective", e.to_string()))?;
        let walk_forward = s
            .walk_forward
            .as_deref()
            .map(|text| WalkForwardSpec::parse(text).map_err(|e| ServiceError::invalid("walk_forward", e.to_string())))
            .transpose()?;
        if walk_forward.is_some() && s.top.is_some() {
            return Err(ServiceError::invalid("top", "a walk-forward keeps each window's best variant; it has no top"));
        }
        let top = s.top.unwrap_or(DEFAULT_TOP);
        if !(1..=MAX_TOP).contains(&top) {
            return Err(ServiceError::invalid("top", format!("must be from 1 to {MAX_TOP}")));
        }
        if s.jobs.is_some_and(|j| !(1..=max_jobs).contains(&j)) {
            let reason = format!("must be from 1 to the server's --max-concurrent-runs, {max_jobs}");
            return Err(ServiceError::invalid("jobs", reason));
        }
        Ok(CheckedSweep { variants, objective, top, walk_forward })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(extra: Value) -> Result<SweepRequest, String> {
        let mut object = serde_json::json!({ "strategy_id": 1, "symbols": ["A"], "initial_capital": 1000 });
        if let (Some(o), Value::Object(e)) = (object.as_object_mut(), extra) {
            o.extend(e);
        }
        SweepRequest::from_stored(&object.to_string())
    }

    #[test]
    fn a_request_splits_into_a_runs_fields_and_a_sweeps_and_back() {
        let r = request(serde_json::json!({ "grid": ["fast=5:10:5"], "constraint": "fast < 9", "top": 3 })).unwrap();
        assert_eq!(r.sweep.grid, ["fast=5:10:5"]);
        assert_eq!((r.sweep.objective.as_str(), r.sweep.top), ("sharpe", Some(3)));
        assert_eq!(SweepRequest::from_stored(&r.to_json().unwrap()).unwrap(), r);
        let checked = r.check(2).unwrap();
        assert_eq!(checked.variants.len(), 2);
        let err = request(serde_json::json!({ "grid": ["fast=5"], "gird": 1 })).unwrap_err();
        assert!(err.contains("unknown field `gird`"), "{err}");
    }

    #[test]
    fn bad_sweep_fields_are_refused_naming_the_field() {
        let cases = [
            (serde_json::json!({}), "grid"),
            (serde_json::json!({ "grid": ["fast=5"], "variants": ["fast=5"] }), "variants"),
            (serde_json::json!({ "grid": ["fast=5:1:1"] }), "grid"),
            (serde_json::json!({ "grid": ["fast=5"], "random": { "count": 0 } }), "random.count"),
            (serde_json::json!({ "grid": ["fast=5"], "objective": "sharp" }), "objective"),
            (serde_json::json!({ "grid": ["fast=5"], "top": 0 }), "top"),
            (serde_json::json!({ "grid": ["fast=5"], "jobs": 3 }), "jobs"),
            (serde_json::json!({ "grid": ["fast=5"], "pace": { "bars_per_second": 10 } }), "pace"),
            (serde_json::json!({ "grid": ["fast=5"], "time_limit_secs": 10 }), "time_limit_secs"),
            (serde_json::json!({ "variants": ["fast=5", "slow=3"] }), "variants"),
            (serde_json::json!({ "grid": ["fast=5"], "walk_forward": "train=5" }), "walk_forward"),
            (serde_json::json!({ "grid": ["fast=5"], "walk_forward": "train=5,test=2", "top": 3 }), "top"),
        ];
        for (extra, field) in cases {
            let r = request(extra.clone()).unwrap();
            match r.check(2) {
                Err(ServiceError::Invalid { field: f, .. }) => assert_eq!(f, field, "{extra}"),
                other => panic!("{extra}: {other:?}"),
            }
        }
    }
}
