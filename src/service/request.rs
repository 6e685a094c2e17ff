//! A run request as it arrives, and its check into a runnable config.
//!
//! The stored config is the request with every default filled in and the
//! version resolved, so that a rerun is the same request again.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ServiceError;
use crate::broker::{BrokerConfig, BrokerConfigError, BrokerField, CommissionModel};
use crate::data::{parse_timestamp, Interval};
use crate::engine::{ParamOverrides, RawRunSpec, RunSpec, SpecError};

/// The longest wall-clock time limit a server or a run may set (a week).
pub const MAX_RUN_TIME_LIMIT_SECS: u64 = 7 * 24 * 3600;

/// The most datasets one run may name.
pub const MAX_RUN_SYMBOLS: usize = 1000;
/// The most parameters one run may set.
pub const MAX_RUN_PARAMS: usize = 256;
/// The slowest paced replay: a bar every 100 s (a pace is for watching a
/// run, and a slower one would hold a run slot for days).
pub const MIN_BARS_PER_SECOND: f64 = 0.01;
/// The slowest acceleration: real time (a daily bar a day).
pub const MIN_ACCELERATION: f64 = 1.0;
/// The fastest pace either way; beyond it a run is as fast as unpaced.
pub const MAX_PACE: f64 = 1e9;

/// How fees are charged, as a request names them.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum CommissionRequest {
    /// No fees. (A struct variant, not a unit one: serde lets a unit
    /// variant of a tagged enum take any other fields and drops them.)
    None {},
    /// A fraction of each fill's notional ([`CommissionModel::Percent`]).
    Percent {
        /// Fraction charged, 0 ≤ rate < 1 (0.001 = 0.1 %).
        rate: Decimal,
    },
    /// A fee per unit traded ([`CommissionModel::PerUnit`]).
    PerUnit {
        /// Fee per unit, in the account currency.
        per_unit: Decimal,
        /// Least fee per fill, in the account currency; 0 when absent.
        #[serde(default)]
        minimum: Decimal,
    },
    /// The same fee for every fill ([`CommissionModel::Fixed`]).
    Fixed {
        /// Fee per fill, in the account currency.
        amount: Decimal,
    },
}

/// Paced replay, for demos and live tooling: bars per second, or an
/// acceleration against the bars' own interval. The default is full speed.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", try_from = "PaceFields")]
pub enum Pace {
    /// This many bars a second, from 0.01 to 1e9.
    BarsPerSecond(f64),
    /// This many times the bars' own interval (3600 plays an hourly bar a
    /// second), from 1 to 1e9.
    Acceleration(f64),
}

/// `pace` as it arrives: read as a struct, not as serde's externally tagged
/// enum, whose refusal of a second key is a JSON syntax error (a 400
/// "expected value") rather than a 422 that says what to send.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaceFields {
    bars_per_second: Option<f64>,
    acceleration: Option<f64>,
}

/// `pace`'s schema: an object with one of the two fields, as [`PaceFields`]
/// reads it (serde's derive would describe the enum, not what is read).
impl utoipa::PartialSchema for Pace {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
        let one = |name: &str, description: &str| {
            ObjectBuilder::new()
                .property(name, ObjectBuilder::new().schema_type(Type::Number).description(Some(description)))
                .required(name)
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        OneOfBuilder::new()
            .item(one("bars_per_second", "This many bars a second, from 0.01 to 1e9"))
            .item(one("acceleration", "This many times the bars' own interval, from 1 to 1e9"))
            .description(Some("Replay the bars at a pace: bars per second, or an acceleration"))
            .into()
    }
}

impl utoipa::ToSchema for Pace {
    fn name() -> std::borrow::Cow<'static, str> {
        "Pace".into()
    }
}

impl TryFrom<PaceFields> for Pace {
    type Error = &'static str;

    fn try_from(fields: PaceFields) -> Result<Self, Self::Error> {
        match (fields.bars_per_second, fields.acceleration) {
            (Some(bars), None) => Ok(Pace::BarsPerSecond(bars)),
            (None, Some(x)) => Ok(Pace::Acceleration(x)),
            _ => Err("pace takes one of `bars_per_second` or `acceleration`"),
        }
    }
}

/// The fields of a [`RunRequest`], as JSON names them.
pub const RUN_FIELDS: [&str; 18] = [
    "strategy_id",
    "version",
    "symbols",
    "start",
    "end",
    "initial_capital",
    "commission",
    "slippage_bps",
    "fractional",
    "trade_on_close",
    "leverage",
    "maintenance_margin",
    "max_positions",
    "benchmark",
    "resample",
    "params",
    "pace",
    "time_limit_secs",
];

/// `POST /api/runs`. Unknown fields are refused, not ignored.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The stored strategy to run.
    pub strategy_id: i64,
    /// A version number; the latest when absent.
    #[serde(default)]
    pub version: Option<i64>,
    /// Dataset symbols; the first is the primary one.
    pub symbols: Vec<String>,
    /// First timestamp to trade, inclusive, in any format of
    /// [`parse_timestamp`]; from the first bar when absent.
    #[serde(default)]
    pub start: Option<String>,
    /// Last timestamp to trade, inclusive, as `start`; to the last bar when absent.
    #[serde(default)]
    pub end: Option<String>,
    /// Cash at the start, in the account currency (> 0).
    pub initial_capital: Decimal,
    /// How fills are charged; no fees when absent.
    #[serde(default)]
    pub commission: Option<CommissionRequest>,
    /// Basis points added to the fill price against the trader (0 to 10,000); 0 when absent.
    #[serde(default)]
    pub slippage_bps: Option<Decimal>,
    /// Whether quantities may have a fractional part; whole units when false or absent.
    #[serde(default)]
    pub fractional: bool,
    /// Whether market orders fill at the close of the bar they were placed
    /// on; at the next bar's open when false or absent.
    #[serde(default)]
    pub trade_on_close: bool,
    /// Gross exposure per unit of equity (1 to 100); 1 when absent.
    #[serde(default)]
    pub leverage: Option<Decimal>,
    /// Equity to keep as a fraction of gross exposure; 0 when absent.
    #[serde(default)]
    pub maintenance_margin: Option<Decimal>,
    /// At most this many open positions; no limit when absent.
    #[serde(default)]
    pub max_positions: Option<usize>,
    /// A dataset symbol to compare with (held from the start, not traded).
    #[serde(default)]
    pub benchmark: Option<String>,
    /// Resample every dataset (and the benchmark) to this interval first, e.g. "1h", "1d", "1w".
    #[serde(default)]
    pub resample: Option<String>,
    /// Parameter values by name, instead of the strategy's declared defaults.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Replay the bars at this pace; full speed when absent.
    #[serde(default)]
    pub pace: Option<Pace>,
    /// Wall-clock seconds the run may take, at most the server's
    /// `--run-time-limit` (its default when absent).
    #[serde(default)]
    pub time_limit_secs: Option<u64>,
}

/// The checked parts of a request that the engine needs.
#[derive(Clone, Debug)]
pub struct CheckedRun {
    /// The checked broker settings, window and parameter values.
    pub spec: RunSpec,
    /// The pace, within its range; `None` for full speed.
    pub pace: Option<Pace>,
}

/// The request field of a broker setting.
fn field(setting: BrokerField) -> &'static str {
    match setting {
        BrokerField::InitialCash => "initial_capital",
        other => other.key(),
    }
}

impl RunRequest {
    /// The run's settings as the request gives them, with defaults filled
    /// in; the text fields parsed, nothing else checked.
    ///
    /// # Errors
    /// A timestamp or an interval that does not parse, named.
    pub fn raw_spec(&self) -> Result<RawRunSpec, ServiceError> {
        let time = |field: &str, text: &Option<String>| {
            text.as_deref()
                .map(|t| parse_timestamp(t).map_err(|e| ServiceError::invalid(field, e.to_string())))
                .transpose()
        };
        let (start, end) = (time("start", &self.start)?, time("end", &self.end)?);
        let resample = self
            .resample
            .as_deref()
            .map(|text| Interval::parse(text).map_err(|e| ServiceError::invalid("resample", e.to_string())))
            .transpose()?;
        let commission = match self.commission.unwrap_or(CommissionRequest::None {}) {
            CommissionRequest::None {} => CommissionModel::None,
            CommissionRequest::Percent { rate } => CommissionModel::Percent { rate },
            CommissionRequest::PerUnit { per_unit, minimum } => CommissionModel::PerUnit { per_unit, minimum },
            CommissionRequest::Fixed { amount } => CommissionModel::Fixed { amount },
        };
        let broker = BrokerConfig {
            initial_cash: self.initial_capital,
            commission,
            slippage_bps: self.slippage_bps.unwrap_or_default(),
            fractional: self.fractional,
            trade_on_close: self.trade_on_close,
            leverage: self.leverage.unwrap_or(Decimal::ONE),
            maintenance_margin: self.maintenance_margin.unwrap_or_default(),
            max_positions: self.max_positions,
        };
        Ok(RawRunSpec { broker, start, end, resample, params: ParamOverrides::Json(self.params.clone()) })
    }

    /// Checks every field that can be checked without the database.
    ///
    /// # Errors
    /// The first invalid field, named.
    pub fn check(&self) -> Result<CheckedRun, ServiceError> {
        let spec = RunSpec::try_from(self.raw_spec()?).map_err(|e| match e {
            SpecError::Broker(BrokerConfigError { field: setting, reason }) => {
                ServiceError::invalid(field(setting), reason)
            }
            SpecError::Range(_) => ServiceError::invalid("end", "is before start"),
        })?;
        if self.symbols.is_empty() {
            return Err(ServiceError::invalid("symbols", "name at least one dataset"));
        }
        if self.symbols.len() > MAX_RUN_SYMBOLS {
            let reason = format!("names {} datasets; a run takes at most {MAX_RUN_SYMBOLS}", self.symbols.len());
            return Err(ServiceError::invalid("symbols", reason));
        }
        let mut seen = std::collections::HashSet::with_capacity(self.symbols.len());
        if let Some(twice) = self.symbols.iter().find(|s| !seen.insert(s.as_str())) {
            return Err(ServiceError::invalid("symbols", format!("'{twice}' is named twice")));
        }
        if self.params.len() > MAX_RUN_PARAMS {
            let reason = format!("sets {} parameters; a run takes at most {MAX_RUN_PARAMS}", self.params.len());
            return Err(ServiceError::invalid("params", reason));
        }
        if self.time_limit_secs.is_some_and(|secs| !(1..=MAX_RUN_TIME_LIMIT_SECS).contains(&secs)) {
            let reason = format!("must be from 1 to {MAX_RUN_TIME_LIMIT_SECS} seconds");
            return Err(ServiceError::invalid("time_limit_secs", reason));
        }
        match self.pace {
            Some(Pace::BarsPerSecond(x)) if !(MIN_BARS_PER_SECOND..=MAX_PACE).contains(&x) => {
                let reason = format!("must be from {MIN_BARS_PER_SECOND} to {MAX_PACE:e} bars a second");
                return Err(ServiceError::invalid("pace.bars_per_second", reason));
            }
            Some(Pace::Acceleration(x)) if !(MIN_ACCELERATION..=MAX_PACE).contains(&x) => {
                let reason = format!("must be from {MIN_ACCELERATION} to {MAX_PACE:e} times the bars' own pace");
                return Err(ServiceError::invalid("pace.acceleration", reason));
            }
            _ => {}
        }
        if self.benchmark.as_deref() == Some("") {
            return Err(ServiceError::invalid("benchmark", "name a dataset"));
        }
        Ok(CheckedRun { spec, pace: self.pace })
    }

    /// The request with every default made explicit, as stored with the run.
    pub fn normalized(&self, version: i64, params: serde_json::Map<String, serde_json::Value>) -> RunRequest {
        RunRequest {
            version: Some(version),
            commission: Some(self.commission.unwrap_or(CommissionRequest::None {})),
            slippage_bps: Some(self.slippage_bps.unwrap_or_default()),
            leverage: Some(self.leverage.unwrap_or(Decimal::ONE)),
            maintenance_margin: Some(self.maintenance_margin.unwrap_or_default()),
            params,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<RunRequest, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn run_fields_lists_every_field() {
        let request = parse(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1000}"#).unwrap();
        let json = serde_json::to_value(request).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = RUN_FIELDS.to_vec();
        let mut keys = keys;
        expected.sort_unstable();
        keys.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = parse(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1000,"capital":5}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `capital`"), "{err}");
        let err = parse(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1000,"commission":{"model":"percent","rate":0.1,"x":1}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"), "{err}");
        let err = parse(
            r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1000,"commission":{"model":"none","rate":0.1}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `rate`"), "{err}");
        let none =
            parse(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1000,"commission":{"model":"none"}}"#).unwrap();
        assert_eq!(none.check().unwrap().spec.broker.commission, CommissionModel::None);
        assert_eq!(serde_json::to_string(&CommissionRequest::None {}).unwrap(), r#"{"model":"none"}"#);
    }

    #[test]
    fn pace_with_both_keys_was_a_json_syntax_error() {
        let with =
            |pace: &str| parse(&format!(r#"{{"strategy_id":1,"symbols":["A"],"initial_capital":1,"pace":{pace}}}"#));
        for bad in [r#"{"bars_per_second":5,"acceleration":3}"#, "{}"] {
            let err = with(bad).unwrap_err();
            assert!(err.is_data(), "{bad}: a 422, not a 400: {err}");
            assert!(err.to_string().contains("pace takes one of `bars_per_second` or `acceleration`"), "{err}");
        }
        assert!(with(r#"{"bars_per_second":5,"speed":3}"#).unwrap_err().to_string().contains("unknown field `speed`"));
        assert_eq!(with(r#"{"acceleration":3}"#).unwrap().pace, Some(Pace::Acceleration(3.0)));
        // Stored configs keep the tagged form, which reads back the same.
        let stored = serde_json::to_string(&Pace::BarsPerSecond(5.0)).unwrap();
        assert_eq!(stored, r#"{"bars_per_second":5.0}"#);
        assert_eq!(serde_json::from_str::<Pace>(&stored).unwrap(), Pace::BarsPerSecond(5.0));
    }

    #[test]
    fn money_is_read_exactly() {
        let r = parse(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":100000.10,"commission":{"model":"percent","rate":0.001}}"#)
            .unwrap();
        assert_eq!(r.initial_capital.to_string(), "100000.10");
        let checked = r.check().unwrap();
        assert_eq!(checked.spec.broker.commission, CommissionModel::Percent { rate: Decimal::new(1, 3) });
    }

    #[test]
    fn bad_values_name_the_field() {
        let r = parse(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":0}"#).unwrap();
        assert!(r.check().unwrap_err().to_string().starts_with("initial_capital:"));
        let r = parse(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1e16}"#).unwrap();
        assert!(r.check().unwrap_err().to_string().starts_with("initial_capital: must be at most"));
        let r = parse(r#"{"strategy_id":1,"symbols":["A","A"],"initial_capital":1}"#).unwrap();
        assert!(r.check().unwrap_err().to_string().starts_with("symbols:"));
        let r = parse(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1,"start":"yesterday"}"#).unwrap();
        assert!(r.check().unwrap_err().to_string().starts_with("start:"));
        let r =
            parse(r#"{"strategy_id":1,"symbols":["A"],"initial_capital":1,"start":"2020-02-01","end":"2020-01-01"}"#)
                .unwrap();
        assert_eq!(r.check().unwrap_err().to_string(), "end: is before start");
        let with = |commission: &str| {
            let json = format!(r#"{{"strategy_id":1,"symbols":["A"],"initial_capital":1,"commission":{commission}}}"#);
            parse(&json).unwrap().check().unwrap_err().to_string()
        };
        assert_eq!(with(r#"{"model":"percent","rate":-0.1}"#), "commission.rate: must be >= 0, got -0.1");
        assert!(with(r#"{"model":"per_unit","per_unit":1,"minimum":-1}"#).starts_with("commission.minimum:"));
        assert!(with(r#"{"model":"fixed","amount":-1}"#).starts_with("commission.amount:"));
    }
}
