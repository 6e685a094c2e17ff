//! A sweep's report data: the leaderboard with links to the best variants'
//! run reports, the variants the heatmaps and sensitivities are drawn from,
//! the Deflated Sharpe Ratio line, and whether it is still partial.

use serde_json::{json, Value};

use crate::sweep::{metrics_json, values_json, Deflated, Objective, VariantSet, METRICS};

/// Variants embedded in a sweep's report at most (the best by the
/// objective); the page says when there were more.
pub const VARIANT_BUDGET: usize = 20_000;

/// One leaderboard entry.
pub struct Leader {
    /// The variant's number.
    pub number: u64,
    /// Its metrics, in [`METRICS`] order.
    pub metrics: Vec<Option<f64>>,
    /// Where its run report is, when there is one.
    pub report: Option<String>,
}

/// Everything a sweep's report shows.
pub struct SweepInput<'a> {
    /// The page's title.
    pub title: String,
    /// Whether every variant has finished.
    pub is_final: bool,
    /// Variants in all, done, ran, excluded, failed.
    pub counts: [u64; 5],
    /// What ranks the variants.
    pub objective: Objective,
    /// The Deflated Sharpe Ratio of the best, once known.
    pub deflated: Option<Deflated>,
    /// The sweep's variants (their axes and values).
    pub variants: &'a VariantSet,
    /// The best variants, best first.
    pub leaders: Vec<Leader>,
    /// Variants that ran: number and metrics, best first by the objective
    /// (at most [`VARIANT_BUDGET`] are embedded).
    pub ran: Vec<(u64, Vec<Option<f64>>)>,
}

/// The report's data as one JSON value.
pub fn sweep_data(input: &SweepInput<'_>) -> Value {
    let axes = input.variants.axes();
    let axes_json: Vec<Value> = axes
        .iter()
        .map(|a| {
            let mut distinct: Vec<&str> = Vec::new();
            for v in &a.values {
                if !distinct.contains(&v.text.as_str()) {
                    distinct.push(&v.text);
                }
            }
            json!({ "name": a.name, "values": distinct })
        })
        .collect();
    let rows: Vec<Value> = input
        .ran
        .iter()
        .take(VARIANT_BUDGET)
        .map(|(number, metrics)| {
            let values: Vec<&str> = input.variants.get(*number).values.iter().map(|(_, v)| v.text.as_str()).collect();
            json!([number, values, metrics])
        })
        .collect();
    let leaders: Vec<Value> = input
        .leaders
        .iter()
        .enumerate()
        .map(|(rank, l)| {
            json!({
                "rank": rank + 1,
                "number": l.number,
                "values": values_json(input.variants, l.number),
                "metrics": metrics_json(&l.metrics),
                "report": l.report,
            })
        })
        .collect();
    let [total, done, ran, excluded, failed] = input.counts;
    json!({
        "kind": "sweep",
        "title": input.title,
        "final": input.is_final,
        "counts": { "total": total, "done": done, "ran": ran, "excluded": excluded, "failed": failed },
        "objective": { "metric": input.objective.name(), "minimize": input.objective.minimize, "min_trades": input.objective.min_trades },
        "deflated_sharpe": input.deflated,
        "axes": axes_json,
        "metrics": METRICS.iter().map(|m| m.name).collect::<Vec<_>>(),
        "leaderboard": leaders,
        "variants": { "ran": input.ran.len(), "shown": rows.len(), "rows": rows },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{Axis, Selection};

    #[test]
    fn the_data_names_axes_values_and_links() {
        let axes = ["fast=5,10", "slow=20"].map(|a| Axis::parse(a).unwrap()).to_vec();
        let variants = VariantSet::new(axes, &Selection::Grid).unwrap();
        let mut metrics = vec![None; METRICS.len()];
        metrics[3] = Some(1.5);
        let input = SweepInput {
            title: "t".into(),
            is_final: false,
            counts: [2, 1, 1, 0, 0],
            objective: Objective::new("sharpe", None, 0).unwrap(),
            deflated: None,
            variants: &variants,
            leaders: vec![Leader { number: 1, metrics: metrics.clone(), report: Some("variant-1.html".into()) }],
            ran: vec![(1, metrics)],
        };
        let data = sweep_data(&input);
        assert_eq!(data["axes"][0], json!({ "name": "fast", "values": ["5", "10"] }));
        assert_eq!(data["leaderboard"][0]["values"], json!({ "fast": 10, "slow": 20 }));
        assert_eq!(data["leaderboard"][0]["report"], json!("variant-1.html"));
        assert_eq!(
            data["variants"]["rows"][0],
            json!([1, ["10", "20"], metrics_json(&input.ran[0].1).as_object().unwrap().values().collect::<Vec<_>>()])
        );
        assert_eq!(data["final"], json!(false));
    }
}
