//! What is computed over every variant of a finished sweep: its best
//! variant and that variant's Deflated Sharpe Ratio among all that ran.

use serde_json::json;

use crate::store::{ShapeRow, Store, StoreError};
use crate::sweep::{deflated, Objective};

/// The best of `rows` by `objective` and the Deflated Sharpe Ratio of it
/// among every row with a Sharpe ratio, by the rule `backtester sweep`
/// uses ([`deflated::best_and_deflated`]).
pub fn best_and_deflated(rows: &[ShapeRow], objective: &Objective) -> (Option<u64>, Option<crate::sweep::Deflated>) {
    deflated::best_and_deflated(rows.iter().map(|r| (r.number, objective.score_of(r.value, r.trades), r.shape)))
}

/// The summary stored with a completed sweep: its best variant and the
/// Deflated Sharpe Ratio of it.
///
/// # Errors
/// Database failures.
pub async fn summary(store: &Store, id: i64, objective: &Objective) -> Result<serde_json::Value, StoreError> {
    let rows = store.variant_shapes(id, objective.metric).await?;
    let (best, deflated) = best_and_deflated(&rows, objective);
    Ok(json!({ "best_variant": best, "deflated_sharpe": deflated }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::ReturnShape;

    fn row(number: u64, value: Option<f64>, trades: f64, sharpe: f64) -> ShapeRow {
        ShapeRow {
            number,
            value,
            trades: Some(trades),
            shape: Some(ReturnShape { sharpe, skew: 0.0, kurtosis: 3.0, count: 250 }),
        }
    }

    #[test]
    fn the_best_honours_direction_trades_and_ties_and_every_sharpe_counts() {
        let rows = [row(0, Some(1.0), 5.0, 0.01), row(1, Some(2.0), 1.0, 0.02), row(2, Some(1.0), 5.0, 0.03)];
        let max = Objective::new("sharpe", None, 2).unwrap();
        let (best, deflated) = best_and_deflated(&rows, &max);
        assert_eq!(best, Some(0), "variant 1 has too few trades; 0 and 2 tie, the lower number wins");
        let deflated = deflated.unwrap();
        assert_eq!(deflated.trials, 3, "every variant with a Sharpe ratio is a trial");
        assert_eq!(deflated.best_sharpe, 0.01);
        let min = Objective::new("sharpe", Some(true), 0).unwrap();
        assert_eq!(best_and_deflated(&rows, &min).0, Some(0));
        assert_eq!(best_and_deflated(&rows, &Objective::new("sharpe", None, 0).unwrap()).0, Some(1));
        assert_eq!(best_and_deflated(&[], &max), (None, None));
    }
}
