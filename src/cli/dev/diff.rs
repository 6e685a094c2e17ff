//! The change of each numeric metric since the previous good run, shown beside its value.

/// Returns `current`'s rows with, beside each numeric value, its change since
/// the row of the same label in `previous`: `41.23` becomes `41.23 (+3.10)`,
/// `45` becomes `45 (+4)`.
///
/// A value is numeric when it starts with a number that stands alone (so
/// `2004-08-19` is not one) and the word after it, the unit, is the same in
/// both runs (`12 bars (3 days)` compares with `9 bars (2 days)`, `3 days`
/// does not with `1.5 years`). Nothing is shown on the first run (`previous`
/// is `None`), for `n/a`, for text, or when the value did not change. The
/// values that get a change are padded to one width so the changes line up.
pub fn annotate(current: &[(String, String)], previous: Option<&[(String, String)]>) -> Vec<(String, String)> {
    let Some(previous) = previous else {
        return current.to_vec();
    };
    let changes: Vec<Option<String>> = current
        .iter()
        .map(|(label, value)| {
            let (_, old) = previous.iter().find(|(l, _)| l == label)?;
            change(old, value)
        })
        .collect();
    let width = current
        .iter()
        .zip(&changes)
        .filter(|(_, change)| change.is_some())
        .map(|((_, value), _)| value.chars().count())
        .max()
        .unwrap_or(0);
    current
        .iter()
        .zip(changes)
        .map(|((label, value), change)| match change {
            Some(change) => (label.clone(), format!("{value:<width$} ({change})")),
            None => (label.clone(), value.clone()),
        })
        .collect()
}

/// The change from `old` to `new` with a sign and as many decimals as the
/// values show (`+3.10`, `-1`); `None` when either is not a number, their
/// units differ, or the change rounds to zero.
pub fn change(old: &str, new: &str) -> Option<String> {
    let (old, new) = (Number::parse(old)?, Number::parse(new)?);
    if old.unit != new.unit {
        return None;
    }
    let decimals = old.decimals.max(new.decimals);
    let text = format!("{:+.decimals$}", new.value - old.value);
    let zero = text[1..].bytes().all(|b| b == b'0' || b == b'.');
    (!zero).then_some(text)
}

/// The number a formatted value starts with, and the unit after it.
#[derive(Debug, PartialEq)]
struct Number<'a> {
    value: f64,
    /// Digits after the decimal point, as printed.
    decimals: usize,
    /// The word after the number, singular (`bar` for `bars`); empty if none.
    unit: &'a str,
}

impl<'a> Number<'a> {
    /// Parses `-?digits(.digits)?` at the start of `text`, followed by the end
    /// or a space; `None` otherwise (`n/a`, paths, dates, times).
    fn parse(text: &'a str) -> Option<Number<'a>> {
        let text = text.trim();
        let sign = usize::from(text.starts_with('-'));
        let whole = text[sign..].bytes().take_while(u8::is_ascii_digit).count();
        if whole == 0 {
            return None;
        }
        let mut end = sign + whole;
        let mut decimals = 0;
        if let Some(rest) = text[end..].strip_prefix('.') {
            decimals = rest.bytes().take_while(u8::is_ascii_digit).count();
            if decimals == 0 {
                return None;
            }
            end += 1 + decimals;
        }
        let tail = &text[end..];
        if !(tail.is_empty() || tail.starts_with(' ')) {
            return None;
        }
        let unit = tail.split_whitespace().next().unwrap_or("");
        let unit = unit.strip_suffix('s').unwrap_or(unit);
        Some(Number { value: text[..end].parse().ok()?, decimals, unit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(l, v)| (l.to_string(), v.to_string())).collect()
    }

    /// (value, decimals, unit) of a parsed number.
    type Parsed = Option<(f64, usize, &'static str)>;

    #[test]
    fn numbers_start_the_value_and_stand_alone() {
        let cases: &[(&str, Parsed)] = &[
            ("41.23", Some((41.23, 2, ""))),
            ("-10.00", Some((-10.0, 2, ""))),
            ("45", Some((45.0, 0, ""))),
            ("12 bars (3.5 days)", Some((12.0, 0, "bar"))),
            ("1 bar (1 day)", Some((1.0, 0, "bar"))),
            ("2.5 days", Some((2.5, 1, "day"))),
            ("n/a", None),
            ("2004-08-19", None),
            ("2004-08-19 10:30:00", None),
            ("12:30", None),
            ("3.", None),
            ("scripts/sma_cross.rhai", None),
            ("fast=5, slow=20", None),
            ("", None),
            ("-", None),
        ];
        for (text, expected) in cases {
            let parsed = Number::parse(text).map(|n| (n.value, n.decimals, n.unit));
            assert_eq!(parsed, *expected, "{text:?}");
        }
    }

    #[test]
    fn changes_keep_the_values_decimals_and_sign() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("38.13", "41.23", Some("+3.10")),
            ("41.23", "38.13", Some("-3.10")),
            ("41", "45", Some("+4")),
            ("2148", "2147", Some("-1")),
            ("-10.00", "-12.50", Some("-2.50")),
            ("100.00", "100.00", None), // unchanged: nothing shown
            ("n/a", "1.00", None),
            ("1.00", "n/a", None),
            ("3 bars (3 days)", "5 bars (7 days)", Some("+2")),
            ("1 bar (1 day)", "2 bars (2 days)", Some("+1")), // bar and bars are one unit
            ("3 days", "1.5 years", None),                    // different units
            ("2004-08-19", "2004-08-20", None),
        ];
        for (old, new, expected) in cases {
            assert_eq!(change(old, new).as_deref(), *expected, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn the_first_run_shows_no_change() {
        let current = rows(&[("Return [%]", "41.23"), ("Trades", "45")]);
        assert_eq!(annotate(&current, None), current);
    }

    #[test]
    fn rows_are_matched_by_label_and_changes_line_up() {
        let previous = rows(&[("Trades", "41"), ("Strategy", "a.rhai"), ("Return [%]", "38.13"), ("SQN", "n/a")]);
        let current = rows(&[
            ("Strategy", "b.rhai"),
            ("Return [%]", "41.23"),
            ("Trades", "45"),
            ("SQN", "1.20"),
            ("New row", "7"),
        ]);
        assert_eq!(
            annotate(&current, Some(&previous)),
            rows(&[
                ("Strategy", "b.rhai"),
                ("Return [%]", "41.23 (+3.10)"),
                ("Trades", "45    (+4)"), // padded to the width of "41.23"
                ("SQN", "1.20"),
                ("New row", "7"),
            ])
        );
    }
}
