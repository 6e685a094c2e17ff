//! One axis of a sweep: a strategy parameter or a run setting, and the
//! values it takes, parsed from `name=5:50:5` (a range, both ends included)
//! or `name=5,10,20` (a list).

use std::fmt;

use rust_decimal::Decimal;

use super::SweepError;

/// Most values one axis may take (a range with a tiny step is refused
/// before anything is enumerated).
pub const MAX_AXIS_VALUES: usize = 1_000_000;

/// A run setting a sweep can vary, named as the `run` flag without `--`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `--cash`: the initial cash.
    Cash,
    /// `--commission`: a commission rate (a fraction of each fill's value).
    Commission,
    /// `--slippage-bps`: the slippage in basis points.
    SlippageBps,
    /// `--leverage`: the leverage.
    Leverage,
}

impl Setting {
    /// Every setting, in the order they are listed in messages.
    pub const ALL: [Setting; 4] = [Setting::Cash, Setting::Commission, Setting::SlippageBps, Setting::Leverage];

    /// The axis name: the flag's name without `--`.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Cash => "cash",
            Setting::Commission => "commission",
            Setting::SlippageBps => "slippage-bps",
            Setting::Leverage => "leverage",
        }
    }

    /// The setting an axis called `name` varies, if any.
    pub fn parse(name: &str) -> Option<Setting> {
        Setting::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// What an axis varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A parameter the strategy declares.
    Param,
    /// A run setting.
    Setting(Setting),
}

/// One value of an axis, as written (so that a parameter receives exactly
/// the text `run --param` would) and as a number for constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisValue {
    /// The value as text, e.g. `10` or `0.5`.
    pub text: String,
    /// The value as a number.
    pub number: Number,
}

/// A value's number: integers stay integers (so that `fast < slow`
/// compares integers, and an integer parameter gets an integer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// A whole number.
    Int(i64),
    /// A decimal number.
    Float(f64),
}

impl Number {
    /// The number as JSON: an integer stays an integer (so that an `int`
    /// parameter takes it), a decimal a float.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Number::Int(i) => serde_json::Value::from(i),
            Number::Float(x) => serde_json::Value::from(x),
        }
    }

    /// The number as an `f64` (an integer beyond 2^53 rounds).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(x) => x,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// One axis: a name, what it varies, and its values in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The parameter's or setting's name.
    pub name: String,
    /// What the axis varies.
    pub target: Target,
    /// The values, in the order given (a range ascending or descending as written).
    pub values: Vec<AxisValue>,
}

impl Axis {
    /// Parses `name=a:b:step` or `name=v1,v2,...`.
    ///
    /// # Errors
    /// A missing `=`, an empty name or list, a value that is not a number,
    /// a step of 0 or of the wrong sign, or more than [`MAX_AXIS_VALUES`]
    /// values; the message quotes the argument.
    pub fn parse(arg: &str) -> Result<Axis, SweepError> {
        let bad = |reason: String| SweepError::Axis { arg: arg.to_string(), reason };
        let (name, values) =
            arg.split_once('=').ok_or_else(|| bad("expected NAME=FROM:TO:STEP or NAME=V1,V2,...".into()))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("the name before '=' is empty".into()));
        }
        let values = if values.contains(':') { range(values).map_err(bad)? } else { list(values).map_err(bad)? };
        let target = Setting::parse(name).map_or(Target::Param, Target::Setting);
        if let Target::Setting(_) = target {
            if let Some(v) = values.iter().find(|v| v.text.parse::<Decimal>().is_err()) {
                return Err(bad(format!("{} is not a decimal number", v.text)));
            }
        }
        Ok(Axis { name: name.to_string(), target, values })
    }
}

/// Parses one explicit variant, `NAME=VALUE,NAME=VALUE,...` (one value per
/// name), into its axes of one value each.
///
/// # Errors
/// A pair without `=`, an empty name, a value that is not a number, or a
/// name given twice; the message quotes the argument.
pub fn parse_variant(arg: &str) -> Result<Vec<Axis>, SweepError> {
    let bad = |reason: String| SweepError::Variant { arg: arg.to_string(), reason };
    let mut axes: Vec<Axis> = Vec::new();
    for pair in arg.split(',') {
        if !pair.contains('=') {
            return Err(bad(format!("'{pair}' is not NAME=VALUE")));
        }
        let axis = Axis::parse(pair).map_err(|e| match e {
            SweepError::Axis { reason, .. } => bad(reason),
            e => e,
        })?;
        if axes.iter().any(|a| a.name == axis.name) {
            return Err(bad(format!("'{}' is given twice", axis.name)));
        }
        if axis.values.len() != 1 {
            return Err(bad(format!("'{pair}' gives more than one value")));
        }
        axes.push(axis);
    }
    Ok(axes)
}

/// `v1,v2,...`: each a number (whole or decimal).
fn list(text: &str) -> Result<Vec<AxisValue>, String> {
    let values: Vec<AxisValue> = text.split(',').map(|v| number(v.trim())).collect::<Result<_, _>>()?;
    if values.is_empty() {
        return Err("the list of values is empty".into());
    }
    if values.len() > MAX_AXIS_VALUES {
        return Err(format!("more than {MAX_AXIS_VALUES} values"));
    }
    Ok(values)
}

/// `from:to:step`, both ends included; whole numbers when all three are.
fn range(text: &str) -> Result<Vec<AxisValue>, String> {
    let parts: Vec<&str> = text.split(':').map(str::trim).collect();
    let [from, to, step] = parts[..] else {
        return Err(format!("a range is FROM:TO:STEP, got '{text}'"));
    };
    let (from, to, step) = (number(from)?, number(to)?, number(step)?);
    match (from.number, to.number, step.number) {
        (Number::Int(a), Number::Int(b), Number::Int(s)) => {
            let count = steps(a as f64, b as f64, s as f64)?;
            Ok((0..count).map(|i| int_value(a + i as i64 * s)).collect())
        }
        _ => {
            let (a, b, s) = (as_f64(from.number), as_f64(to.number), as_f64(step.number));
            let count = steps(a, b, s)?;
            // Each value from its index, not by adding the step up: no drift
            // over a long range; printed as the shortest text that reads back.
            Ok((0..count).map(|i| float_value(a + i as f64 * s)).collect())
        }
    }
}

/// How many values `from, from + step, ...` reach `to` (included, within
/// a rounding error of the step).
fn steps(from: f64, to: f64, step: f64) -> Result<usize, String> {
    if step == 0.0 || !step.is_finite() {
        return Err("the step must not be 0".into());
    }
    let span = (to - from) / step;
    if span < -1e-9 {
        return Err(format!("a step of {step} never reaches {to} from {from}"));
    }
    let count = (span + 1e-9).floor() + 1.0;
    if count > MAX_AXIS_VALUES as f64 {
        return Err(format!("the range has more than {MAX_AXIS_VALUES} values"));
    }
    Ok(count as usize)
}

fn number(text: &str) -> Result<AxisValue, String> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(int_value(i));
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(AxisValue { text: text.to_string(), number: Number::Float(x) }),
        _ => Err(format!("'{text}' is not a number")),
    }
}

fn int_value(i: i64) -> AxisValue {
    AxisValue { text: i.to_string(), number: Number::Int(i) }
}

fn float_value(x: f64) -> AxisValue {
    // Rounded to 12 significant digits: 0.1 * 3 prints as 0.3, not 0.30000000000000004.
    let rounded: f64 = format!("{x:.12e}").parse().unwrap_or(x);
    AxisValue { text: rounded.to_string(), number: Number::Float(rounded) }
}

fn as_f64(n: Number) -> f64 {
    match n {
        Number::Int(i) => i as f64,
        Number::Float(x) => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(arg: &str) -> Vec<String> {
        Axis::parse(arg).unwrap().values.into_iter().map(|v| v.text).collect()
    }

    #[test]
    fn ranges_include_both_ends_and_lists_keep_their_order() {
        assert_eq!(texts("fast=5:30:5"), ["5", "10", "15", "20", "25", "30"]);
        assert_eq!(texts("fast=5:29:5"), ["5", "10", "15", "20", "25"]); // 30 is past 29
        assert_eq!(texts("fast=30:5:-10"), ["30", "20", "10"]);
        assert_eq!(texts("k=0.1:0.5:0.1"), ["0.1", "0.2", "0.3", "0.4", "0.5"]); // no 0.30000000000000004
        assert_eq!(texts("slow=20, 10,40"), ["20", "10", "40"]);
        let axis = Axis::parse("fast=5").unwrap();
        assert_eq!((axis.target, axis.values[0].number), (Target::Param, Number::Int(5)));
        let commission = Axis::parse("commission=0,0.001").unwrap();
        assert_eq!(commission.target, Target::Setting(Setting::Commission));
        assert_eq!(commission.values[1].number, Number::Float(0.001));
    }

    #[test]
    fn an_explicit_variant_is_one_value_per_name() {
        let axes = parse_variant("fast=5,commission=0.001").unwrap();
        let names: Vec<(&str, &str)> = axes.iter().map(|a| (a.name.as_str(), a.values[0].text.as_str())).collect();
        assert_eq!(names, [("fast", "5"), ("commission", "0.001")]);
        for (arg, reason) in [
            ("fast=5,slow", "'slow' is not NAME=VALUE"),
            ("fast=5,fast=6", "'fast' is given twice"),
            ("fast=x", "'x' is not a number"),
            ("fast=1:3:1", "more than one value"),
        ] {
            let err = parse_variant(arg).unwrap_err().to_string();
            assert!(err.contains(arg) && err.contains(reason), "{arg}: {err}");
        }
    }

    #[test]
    fn bad_axes_are_refused_naming_the_argument() {
        for (arg, reason) in [
            ("fast", "expected NAME=FROM:TO:STEP"),
            ("=1,2", "name before '=' is empty"),
            ("fast=1:10", "a range is FROM:TO:STEP"),
            ("fast=1:10:0", "must not be 0"),
            ("fast=10:1:1", "never reaches"),
            ("fast=1:2000000:1", "more than 1000000 values"),
            ("fast=a,b", "'a' is not a number"),
            ("fast=1,,2", "'' is not a number"),
            ("fast=inf", "'inf' is not a number"),
        ] {
            let err = Axis::parse(arg).unwrap_err().to_string();
            assert!(err.contains(arg) && err.contains(reason), "{arg}: {err}");
        }
    }
}
