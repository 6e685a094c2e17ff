//! `ctx.indicator(name, kind, #{...})`: the general form of declaring an
//! indicator, with every argument named and none ignored.

use rhai::{Dynamic, Map};

use crate::indicators::{kinds, IndicatorSpec, Source};

/// The options each kind takes.
fn allowed(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "sma" | "ema" | "wma" | "rsi" | "stddev" | "highest" | "lowest" | "roc" => &["period", "source", "symbol"],
        "atr" => &["period", "symbol"],
        "macd" => &["fast", "slow", "signal", "source", "symbol"],
        "bollinger" => &["period", "k", "source", "symbol"],
        _ => return None,
    })
}

/// Builds a spec from a kind and its options; also returns the `symbol`
/// option when given.
///
/// # Errors
/// An unknown kind, a key the kind does not take (nothing is silently
/// ignored), or a missing or mistyped argument.
pub fn spec_from_map(kind: &str, options: &Map) -> Result<(IndicatorSpec, Option<String>), String> {
    let allowed =
        allowed(kind).ok_or_else(|| format!("unknown indicator kind '{kind}'; known kinds: {}", kinds().join(", ")))?;
    if let Some(key) = options.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("indicator '{kind}' does not take option '{key}'; it takes: {}", allowed.join(", ")));
    }
    let int = |key: &str| -> Result<usize, String> {
        let value = options.get(key).ok_or_else(|| format!("indicator '{kind}' needs option '{key}'"))?;
        let i = value.as_int().map_err(|t| format!("option '{key}' must be an int, got {t}"))?;
        usize::try_from(i).map_err(|_| format!("option '{key}' must be >= 0, got {i}"))
    };
    let source = match options.get("source") {
        None => Source::Close,
        Some(value) => {
            let text = text(value, "source")?;
            Source::parse(&text)
                .ok_or_else(|| format!("unknown source '{text}'; use open, high, low, close or volume"))?
        }
    };
    let spec = match kind {
        "sma" => IndicatorSpec::Sma { period: int("period")?, source },
        "ema" => IndicatorSpec::Ema { period: int("period")?, source },
        "wma" => IndicatorSpec::Wma { period: int("period")?, source },
        "rsi" => IndicatorSpec::Rsi { period: int("period")?, source },
        "stddev" => IndicatorSpec::StdDev { period: int("period")?, source },
        "highest" => IndicatorSpec::Highest { period: int("period")?, source },
        "lowest" => IndicatorSpec::Lowest { period: int("period")?, source },
        "roc" => IndicatorSpec::Roc { period: int("period")?, source },
        "atr" => IndicatorSpec::Atr { period: int("period")? },
        "macd" => IndicatorSpec::Macd { fast: int("fast")?, slow: int("slow")?, signal: int("signal")?, source },
        _ => {
            let k = options.get("k").ok_or("indicator 'bollinger' needs option 'k'")?;
            let k = k
                .as_float()
                .or_else(|_| k.as_int().map(|i| i as f64))
                .map_err(|t| format!("option 'k' must be a number, got {t}"))?;
            IndicatorSpec::Bollinger { period: int("period")?, k, source }
        }
    };
    let symbol = options.get("symbol").map(|v| text(v, "symbol")).transpose()?;
    Ok((spec, symbol))
}

fn text(value: &Dynamic, key: &str) -> Result<String, String> {
    value
        .clone()
        .into_immutable_string()
        .map(|s| s.to_string())
        .map_err(|t| format!("option '{key}' must be a string, got {t}"))
}
