//! A variant as a row: its values and metrics as JSON, and its CSV line;
//! the same from `backtester sweep` and from the service.

use serde_json::{json, Map, Value};

use super::objective::METRICS;
use super::runner::{Outcome, VariantResult};
use super::variants::VariantSet;

/// Variant `number`'s values by axis name, as JSON numbers.
pub fn values_json(variants: &VariantSet, number: u64) -> Value {
    let map: Map<String, Value> =
        variants.get(number).values.iter().map(|(n, v)| (n.to_string(), v.number.to_json())).collect();
    Value::Object(map)
}

/// Metrics in [`METRICS`] order as a JSON object by name (`null` where a
/// run has no value).
pub fn metrics_json(values: &[Option<f64>]) -> Value {
    let map: Map<String, Value> = METRICS.iter().zip(values).map(|(m, v)| (m.name.to_string(), json!(v))).collect();
    Value::Object(map)
}

/// The header of a sweep's CSV: `variant`, the axes, `status`, `error`, the metrics.
pub fn csv_header(variants: &VariantSet) -> String {
    let mut header: Vec<&str> = vec!["variant"];
    header.extend(variants.axes().iter().map(|a| a.name.as_str()));
    header.extend(["status", "error"]);
    header.extend(METRICS.iter().map(|m| m.name));
    header.join(",")
}

/// One variant's CSV line (without its line break), under [`csv_header`].
pub fn csv_row(variants: &VariantSet, r: &VariantResult) -> String {
    let mut row = vec![r.number.to_string()];
    row.extend(variants.get(r.number).values.iter().map(|(_, v)| v.text.clone()));
    let (status, error, values) = match &r.outcome {
        Outcome::Ran(ran) => ("ran", String::new(), Some(&ran.metrics)),
        Outcome::Excluded => ("excluded", String::new(), None),
        Outcome::Failed(message) => ("failed", quoted(message), None),
    };
    row.push(status.to_string());
    row.push(error);
    for i in 0..METRICS.len() {
        row.push(values.and_then(|v| v[i]).map_or_else(String::new, |x| x.to_string()));
    }
    row.join(",")
}

/// A CSV field quoted, with its quotes doubled (RFC 4180).
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{Axis, Ran, Selection};

    #[test]
    fn a_row_names_its_values_and_quotes_its_error() {
        let axes = ["fast=5,10", "rate=0.5"].map(|a| Axis::parse(a).unwrap()).to_vec();
        let variants = VariantSet::new(axes, &Selection::Grid).unwrap();
        assert_eq!(values_json(&variants, 1), json!({ "fast": 10, "rate": 0.5 }));
        let header = csv_header(&variants);
        assert!(header.starts_with("variant,fast,rate,status,error,return_pct,"), "{header}");
        let failed = VariantResult { number: 0, outcome: Outcome::Failed("bad \"x\", here".into()) };
        assert_eq!(csv_row(&variants, &failed), format!("0,5,0.5,failed,\"bad \"\"x\"\", here\"{}", ",".repeat(16)));
        let mut metrics = vec![None; METRICS.len()];
        metrics[0] = Some(1.25);
        let ran = VariantResult { number: 1, outcome: Outcome::Ran(Ran { metrics: metrics.clone(), shape: None }) };
        assert_eq!(csv_row(&variants, &ran), format!("1,10,0.5,ran,,1.25{}", ",".repeat(15)));
        assert_eq!(metrics_json(&metrics)["return_pct"], json!(1.25));
        assert_eq!(metrics_json(&metrics)["sharpe"], Value::Null);
    }
}
