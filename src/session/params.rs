//! Strategy parameters: declared with defaults by the strategy, overridden
//! per run, checked by name and type before anything runs.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

/// One parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// An `int`.
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `bool`.
    Bool(bool),
    /// A `string`.
    Text(String),
}

impl ParamValue {
    /// The type's name as users see it in errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Int(_) => "int",
            ParamValue::Float(_) => "float",
            ParamValue::Bool(_) => "bool",
            ParamValue::Text(_) => "string",
        }
    }

    /// The type as a sentence names it: "parameter 'fast' is an integer".
    pub fn type_phrase(&self) -> &'static str {
        match self {
            ParamValue::Int(_) => "an integer",
            ParamValue::Float(_) => "a float",
            ParamValue::Bool(_) => "a boolean",
            ParamValue::Text(_) => "a string",
        }
    }

    /// The value as f64 when it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            ParamValue::Int(i) => Some(i as f64),
            ParamValue::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The value as i64 when it is an int.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            ParamValue::Int(i) => Some(i),
            _ => None,
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x:?}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ParamValue::Int(i) => serializer.serialize_i64(*i),
            ParamValue::Float(x) => serializer.serialize_f64(*x),
            ParamValue::Bool(b) => serializer.serialize_bool(*b),
            ParamValue::Text(s) => serializer.serialize_str(s),
        }
    }
}

/// A parameter a strategy declares, with its default (which fixes its type).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamSpec {
    /// The name overrides and reads use.
    pub name: String,
    /// The value used unless overridden; its variant is the parameter's type.
    pub default: ParamValue,
}

/// A parameter override or declaration that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParamError {
    /// An override names a parameter the strategy does not declare.
    #[error("unknown parameter '{name}'; the strategy declares: {declared}")]
    Unknown {
        /// The name as given.
        name: String,
        /// The declared names, comma-separated, or `(none)`.
        declared: String,
    },
    /// An override's value does not have the type of the parameter's default.
    #[error("parameter '{name}' is {expected}, got {got:?}")]
    WrongType {
        /// The parameter's name.
        name: String,
        /// The declared type as a sentence names it, e.g. `an integer`.
        expected: &'static str,
        /// The value as given: the override's text or its JSON.
        got: String,
    },
    /// A `name=value` override names a parameter given earlier in the list.
    #[error("parameter '{name}' is given twice")]
    Duplicate {
        /// The parameter's name.
        name: String,
    },
    /// An override without `=`; holds it as given.
    #[error("parameter override '{0}' must look like name=value")]
    Malformed(String),
    /// A float override that reads as NaN or infinity.
    #[error("parameter '{name}' is not finite: {value}")]
    NotFinite {
        /// The parameter's name.
        name: String,
        /// The override's value text.
        value: String,
    },
}

/// The parameters of one run: every declared name with its final value, in
/// name order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Params(BTreeMap<String, ParamValue>);

impl Params {
    /// The value of `name`, if declared.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.get(name)
    }

    /// (name, value) pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &ParamValue)> {
        self.0.iter()
    }

    /// The declared defaults, unchanged.
    pub fn defaults(declared: &[ParamSpec]) -> Params {
        Params(declared.iter().map(|p| (p.name.clone(), p.default.clone())).collect())
    }

    /// Applies `name=value` overrides as typed on a command line: each name
    /// must be declared, and each value must parse as the default's type
    /// (an int where a float is declared is fine).
    ///
    /// # Errors
    /// A malformed, unknown, repeated or mistyped override.
    pub fn from_text(declared: &[ParamSpec], overrides: &[String]) -> Result<Params, ParamError> {
        let mut params = Params::defaults(declared);
        let mut seen = Vec::new();
        for raw in overrides {
            let (name, text) = raw.split_once('=').ok_or_else(|| ParamError::Malformed(raw.clone()))?;
            let name = name.trim();
            if seen.contains(&name) {
                return Err(ParamError::Duplicate { name: name.to_string() });
            }
            seen.push(name);
            let default = declared_default(declared, name)?;
            let value = parse_as(name, default, text.trim())?;
            params.0.insert(name.to_string(), value);
        }
        Ok(params)
    }

    /// Applies overrides given as JSON values, with the same rules as
    /// [`Params::from_text`] (JSON strings are not parsed as numbers).
    ///
    /// # Errors
    /// An unknown or mistyped override.
    pub fn from_json(
        declared: &[ParamSpec],
        overrides: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Params, ParamError> {
        let mut params = Params::defaults(declared);
        for (name, json) in overrides {
            let default = declared_default(declared, name)?;
            let wrong =
                || ParamError::WrongType { name: name.clone(), expected: default.type_phrase(), got: json.to_string() };
            let value = match (default, json) {
                (ParamValue::Int(_), serde_json::Value::Number(n)) => ParamValue::Int(n.as_i64().ok_or_else(wrong)?),
                (ParamValue::Float(_), serde_json::Value::Number(n)) => {
                    ParamValue::Float(n.as_f64().ok_or_else(wrong)?)
                }
                (ParamValue::Bool(_), serde_json::Value::Bool(b)) => ParamValue::Bool(*b),
                (ParamValue::Text(_), serde_json::Value::String(s)) => ParamValue::Text(s.clone()),
                _ => return Err(wrong()),
            };
            params.0.insert(name.clone(), value);
        }
        Ok(params)
    }
}

fn declared_default<'a>(declared: &'a [ParamSpec], name: &str) -> Result<&'a ParamValue, ParamError> {
    declared
        .iter()
        .find(|p| p.name == name)
        .map(|p| &p.default)
        .ok_or_else(|| ParamError::Unknown { name: name.to_string(), declared: declared_names(declared) })
}

/// Declared names as a comma-separated list, or "(none)".
pub fn declared_names(declared: &[ParamSpec]) -> String {
    if declared.is_empty() {
        return "(none)".to_string();
    }
    declared.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn parse_as(name: &str, default: &ParamValue, text: &str) -> Result<ParamValue, ParamError> {
    let wrong =
        || ParamError::WrongType { name: name.to_string(), expected: default.type_phrase(), got: text.to_string() };
    Ok(match default {
        ParamValue::Int(_) => ParamValue::Int(text.parse().map_err(|_| wrong())?),
        ParamValue::Float(_) => {
            let x: f64 = text.parse().map_err(|_| wrong())?;
            if !x.is_finite() {
                return Err(ParamError::NotFinite { name: name.to_string(), value: text.to_string() });
            }
            ParamValue::Float(x)
        }
        ParamValue::Bool(_) => ParamValue::Bool(text.parse().map_err(|_| wrong())?),
        ParamValue::Text(_) => ParamValue::Text(text.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Vec<ParamSpec> {
        vec![
            ParamSpec { name: "fast".into(), default: ParamValue::Int(10) },
            ParamSpec { name: "level".into(), default: ParamValue::Float(0.5) },
            ParamSpec { name: "short".into(), default: ParamValue::Bool(false) },
        ]
    }

    #[test]
    fn text_overrides_are_typed_by_the_default() {
        let p = Params::from_text(&declared(), &["fast=12".into(), "level=1".into()]).unwrap();
        assert_eq!(p.get("fast"), Some(&ParamValue::Int(12)));
        assert_eq!(p.get("level"), Some(&ParamValue::Float(1.0)));
        assert_eq!(p.get("short"), Some(&ParamValue::Bool(false)));
    }

    #[test]
    fn bad_text_overrides_name_the_problem() {
        let err = Params::from_text(&declared(), &["fsat=3".into()]).unwrap_err();
        assert_eq!(err.to_string(), "unknown parameter 'fsat'; the strategy declares: fast, level, short");
        let err = Params::from_text(&declared(), &["fast=1.5".into()]).unwrap_err();
        assert_eq!(err.to_string(), "parameter 'fast' is an integer, got \"1.5\"");
        assert!(matches!(Params::from_text(&declared(), &["fast".into()]), Err(ParamError::Malformed(_))));
        assert!(matches!(
            Params::from_text(&declared(), &["fast=1".into(), "fast=2".into()]),
            Err(ParamError::Duplicate { .. })
        ));
        assert!(matches!(Params::from_text(&declared(), &["level=NaN".into()]), Err(ParamError::NotFinite { .. })));
    }

    #[test]
    fn a_wrong_type_is_named_in_english_not_as_a_int() {
        let declared = declared();
        let message = |raw: &str| Params::from_text(&declared, &[raw.into()]).unwrap_err().to_string();
        assert_eq!(message("fast=abc"), "parameter 'fast' is an integer, got \"abc\"");
        assert_eq!(message("level=abc"), "parameter 'level' is a float, got \"abc\"");
        assert_eq!(message("short=abc"), "parameter 'short' is a boolean, got \"abc\"");
        let json: serde_json::Value = serde_json::from_str(r#"{"fast": true}"#).unwrap();
        let err = Params::from_json(&declared, json.as_object().unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "parameter 'fast' is an integer, got \"true\"");
    }

    #[test]
    fn json_overrides_follow_the_same_rules() {
        let json: serde_json::Value = serde_json::from_str(r#"{"fast": 7, "short": true}"#).unwrap();
        let p = Params::from_json(&declared(), json.as_object().unwrap()).unwrap();
        assert_eq!(p.get("fast"), Some(&ParamValue::Int(7)));
        assert_eq!(p.get("short"), Some(&ParamValue::Bool(true)));
        let json: serde_json::Value = serde_json::from_str(r#"{"fast": "7"}"#).unwrap();
        assert!(matches!(Params::from_json(&declared(), json.as_object().unwrap()), Err(ParamError::WrongType { .. })));
    }
}
