//! `ctx.indicator(name, kind, #{...})`: the general form of declaring an
//! indicator, with every argument named and none ignored.

use rhai::{Dynamic, Map};

use crate::indicators::{find_kind, Arg, ArgType, ArgValue, IndicatorSpec, Source, DEFAULT_SOURCE};

/// Builds a spec from a kind and its options, as the kind's table entry
/// lists them; also returns the `symbol` option when given.
///
/// # Errors
/// An unknown kind, a key the kind does not take (nothing is silently
/// ignored), or a missing or mistyped argument.
pub fn spec_from_map(kind: &str, options: &Map) -> Result<(IndicatorSpec, Option<String>), String> {
    let def = find_kind(kind).map_err(|e| e.to_string())?;
    let allowed: Vec<&str> = def.option_names().chain(["symbol"]).collect();
    if let Some(key) = options.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("indicator '{kind}' does not take option '{key}'; it takes: {}", allowed.join(", ")));
    }
    let source = match options.get("source") {
        None => DEFAULT_SOURCE,
        Some(value) => {
            let text = text(value, "source")?;
            Source::parse(&text)
                .ok_or_else(|| format!("unknown source '{text}'; use open, high, low, close or volume"))?
        }
    };
    let args = def.args.iter().map(|arg| value(kind, arg, options.get(arg.name))).collect::<Result<Vec<_>, _>>()?;
    let spec = def.spec(&args, source)?;
    let symbol = options.get("symbol").map(|v| text(v, "symbol")).transpose()?;
    Ok((spec, symbol))
}

/// The value of option `arg`, or its default when left out.
fn value(kind: &str, arg: &Arg, value: Option<&Dynamic>) -> Result<ArgValue, String> {
    let key = arg.name;
    let Some(value) = value else {
        return arg.default.ok_or_else(|| format!("indicator '{kind}' needs option '{key}'"));
    };
    match arg.ty {
        ArgType::Count => {
            let i = value.as_int().map_err(|t| format!("option '{key}' must be an int, got {t}"))?;
            usize::try_from(i).map(ArgValue::Count).map_err(|_| format!("option '{key}' must be >= 0, got {i}"))
        }
        ArgType::Number => value
            .as_float()
            .or_else(|_| value.as_int().map(|i| i as f64))
            .map(ArgValue::Number)
            .map_err(|t| format!("option '{key}' must be a number, got {t}")),
    }
}

fn text(value: &Dynamic, key: &str) -> Result<String, String> {
    value
        .clone()
        .into_immutable_string()
        .map(|s| s.to_string())
        .map_err(|t| format!("option '{key}' must be a string, got {t}"))
}

#[cfg(test)]
mod tests {
    use rhai::Dynamic;

    use super::*;

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs.iter().map(|(k, v)| ((*k).into(), v.clone())).collect()
    }

    #[test]
    fn every_kind_builds_from_its_options() {
        let int = Dynamic::from_int;
        let cases = [
            ("sma", map(&[("period", int(5))]), "sma(5, close)"),
            ("ema", map(&[("period", int(5)), ("source", "open".into())]), "ema(5, open)"),
            ("atr", map(&[("period", int(14))]), "atr(14)"),
            ("macd", map(&[("fast", int(3)), ("slow", int(7)), ("signal", int(4))]), "macd(3, 7, 4, close)"),
            ("bollinger", map(&[("period", int(20)), ("k", int(2))]), "bollinger(20, 2, close)"),
            ("bollinger", map(&[("period", int(20)), ("k", Dynamic::from_float(2.5))]), "bollinger(20, 2.5, close)"),
            ("roc", map(&[("period", int(3)), ("symbol", "B".into())]), "roc(3, close)"),
        ];
        for (kind, options, shown) in cases {
            let (spec, _) = spec_from_map(kind, &options).unwrap();
            assert_eq!(spec.to_string(), shown);
        }
        let (_, symbol) = spec_from_map("roc", &map(&[("period", int(3)), ("symbol", "B".into())])).unwrap();
        assert_eq!(symbol.as_deref(), Some("B"));
    }

    #[test]
    fn mistakes_are_named() {
        let int = Dynamic::from_int;
        let err = |kind: &str, options: Map| spec_from_map(kind, &options).unwrap_err();
        assert_eq!(
            err("foo", map(&[])),
            "unknown indicator kind 'foo'; known kinds: sma, ema, wma, rsi, macd, bollinger, atr, stddev, highest, lowest, roc"
        );
        assert_eq!(
            err("atr", map(&[("period", int(3)), ("source", "high".into())])),
            "indicator 'atr' does not take option 'source'; it takes: period, symbol"
        );
        assert_eq!(
            err("macd", map(&[("lenght", int(3))])),
            "indicator 'macd' does not take option 'lenght'; it takes: fast, slow, signal, source, symbol"
        );
        assert_eq!(err("macd", map(&[("fast", int(3))])), "indicator 'macd' needs option 'slow'");
        assert_eq!(err("bollinger", map(&[("period", int(3))])), "indicator 'bollinger' needs option 'k'");
        assert_eq!(err("sma", map(&[("period", int(-1))])), "option 'period' must be >= 0, got -1");
        assert_eq!(err("sma", map(&[("period", Dynamic::from_float(2.5))])), "option 'period' must be an int, got f64");
        assert_eq!(
            err("bollinger", map(&[("period", int(3)), ("k", "x".into())])),
            "option 'k' must be a number, got string"
        );
        assert_eq!(
            err("sma", map(&[("period", int(3)), ("source", "adj".into())])),
            "unknown source 'adj'; use open, high, low, close or volume"
        );
    }
}
