//! Declared parameters as stored with a strategy version:
//! `[{"name": "fast", "type": "int", "default": 10}, ...]`.

use serde_json::{json, Value};

use crate::session::{ParamSpec, ParamValue};

/// The declared parameters as JSON text.
pub fn to_json(params: &[ParamSpec]) -> String {
    let list: Vec<Value> =
        params.iter().map(|p| json!({ "name": p.name, "type": p.default.type_name(), "default": p.default })).collect();
    Value::Array(list).to_string()
}

/// Reads back what [`to_json`] wrote.
///
/// # Errors
/// Text that [`to_json`] did not write.
pub fn from_json(text: &str) -> Result<Vec<ParamSpec>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let list = value.as_array().ok_or("not a list")?;
    list.iter()
        .map(|p| {
            let name = p["name"].as_str().ok_or("name")?.to_string();
            let d = &p["default"];
            let default = match p["type"].as_str().ok_or("type")? {
                "int" => ParamValue::Int(d.as_i64().ok_or("int default")?),
                "float" => ParamValue::Float(d.as_f64().ok_or("float default")?),
                "bool" => ParamValue::Bool(d.as_bool().ok_or("bool default")?),
                "string" => ParamValue::Text(d.as_str().ok_or("string default")?.to_string()),
                other => return Err(format!("unknown parameter type {other}")),
            };
            Ok(ParamSpec { name, default })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let specs = vec![
            ParamSpec { name: "fast".into(), default: ParamValue::Int(10) },
            ParamSpec { name: "level".into(), default: ParamValue::Float(0.5) },
            ParamSpec { name: "whole".into(), default: ParamValue::Float(1.0) },
            ParamSpec { name: "on".into(), default: ParamValue::Bool(true) },
            ParamSpec { name: "mode".into(), default: ParamValue::Text("long".into()) },
        ];
        assert_eq!(from_json(&to_json(&specs)).unwrap(), specs);
    }
}
