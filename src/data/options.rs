//! [`LoadOptions`]: how a data file's text is read when the built-in rules
//! are not enough (`--date-format`, `--delimiter`, `--column`, `--sort` on
//! the command line, the same fields on a dataset upload).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::date_format::DateFormat;

/// What a column holds: the time or one of the bar's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The bar's timestamp.
    Time,
    /// The open price.
    Open,
    /// The high price.
    High,
    /// The low price.
    Low,
    /// The close price.
    Close,
    /// The volume (optional).
    Volume,
}

impl Role {
    /// Every role, time first, in bar order.
    pub const ALL: [Role; 6] = [Role::Time, Role::Open, Role::High, Role::Low, Role::Close, Role::Volume];

    /// The role's name as written in `--column ROLE=NAME` (lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Time => "time",
            Role::Open => "open",
            Role::High => "high",
            Role::Low => "low",
            Role::Close => "close",
            Role::Volume => "volume",
        }
    }

    /// The role named `name` (case-insensitive; `date` is `time`).
    pub fn parse(name: &str) -> Option<Role> {
        let lower = name.trim().to_ascii_lowercase();
        if lower == "date" {
            return Some(Role::Time);
        }
        Role::ALL.into_iter().find(|role| role.as_str() == lower)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A loading option given in a form the loader cannot use; the message names
/// the option and says what would be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{option} {value:?}: {reason}")]
pub struct OptionError {
    /// The option as the user wrote it: `--date-format`, `--delimiter`, `--column`.
    pub option: &'static str,
    /// The value given.
    pub value: String,
    /// Why it cannot be used, and what can.
    pub reason: String,
}

/// How a data file is read, beyond what the loader detects by itself.
///
/// The default reads files as the loader's rules describe: the delimiter
/// detected from the header line, the columns found by their usual names,
/// the built-in timestamp formats, rows in increasing time order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadOptions {
    /// A chrono strftime format for the time column (such as `%m/%d/%Y`),
    /// read as UTC unless it has an offset (`%z`); `None` for the built-in formats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    /// The field separator; `None` to detect `,`, `;` or a tab from the header line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// Header names to take a role's values from, instead of the usual names
    /// (`close` → `Adj Close`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<Role, String>,
    /// Sort the rows by time instead of refusing a file that is not in
    /// increasing order (two rows at one time are still refused).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sort: bool,
}

impl LoadOptions {
    /// Checks every option, so that a bad one is refused before any file is
    /// read: a strftime format chrono cannot use or that has no date in it, a
    /// delimiter that is not one single-byte character other than a quote or
    /// a line break, an empty column name.
    ///
    /// # Errors
    /// [`OptionError`] naming the option and the value.
    pub fn check(&self) -> Result<(), OptionError> {
        if let Some(format) = &self.date_format {
            DateFormat::new(format)?;
        }
        if let Some(delimiter) = self.delimiter {
            check_delimiter(delimiter)?;
        }
        for (role, name) in &self.columns {
            if name.trim().is_empty() {
                return Err(OptionError {
                    option: "--column",
                    value: format!("{role}={name}"),
                    reason: "the column name is empty".to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Whether these are the default options (the loader's own rules).
    pub fn is_default(&self) -> bool {
        *self == LoadOptions::default()
    }

    /// The options as one line of text for a cache key and a manifest:
    /// the same options give the same text.
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Parses `--delimiter`: one character, or `tab`, `\t`, `comma`, `semicolon`, `pipe`.
///
/// # Errors
/// [`OptionError`] for anything else.
pub fn parse_delimiter(text: &str) -> Result<char, OptionError> {
    let delimiter = match text {
        "tab" | "\\t" | "TAB" => '\t',
        "comma" => ',',
        "semicolon" => ';',
        "pipe" => '|',
        _ => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(OptionError {
                        option: "--delimiter",
                        value: text.to_owned(),
                        reason: "give one character, or tab, comma, semicolon or pipe".to_owned(),
                    })
                }
            }
        }
    };
    check_delimiter(delimiter)?;
    Ok(delimiter)
}

/// Parses `--column ROLE=NAME` (such as `close=Adj Close`).
///
/// # Errors
/// [`OptionError`] for a missing `=`, an unknown role or an empty name.
pub fn parse_column(text: &str) -> Result<(Role, String), OptionError> {
    let fail = |reason: &str| OptionError { option: "--column", value: text.to_owned(), reason: reason.to_owned() };
    let (role, name) = text.split_once('=').ok_or_else(|| fail("give ROLE=NAME, such as close=\"Adj Close\""))?;
    let role = Role::parse(role).ok_or_else(|| fail("the role is not one of time, open, high, low, close, volume"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(fail("the column name is empty"));
    }
    Ok((role, name.to_owned()))
}

fn check_delimiter(delimiter: char) -> Result<(), OptionError> {
    if !delimiter.is_ascii() || matches!(delimiter, '"' | '\n' | '\r') {
        return Err(OptionError {
            option: "--delimiter",
            value: delimiter.to_string(),
            reason: "the delimiter must be one ASCII character other than a quote or a line break".to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_in_any_case_and_date_is_time() {
        assert_eq!(Role::parse("Close"), Some(Role::Close));
        assert_eq!(Role::parse(" date "), Some(Role::Time));
        assert_eq!(Role::parse("VOLUME"), Some(Role::Volume));
        assert_eq!(Role::parse("adj close"), None);
    }

    #[test]
    fn columns_are_role_equals_name() {
        assert_eq!(parse_column("close=Adj Close"), Ok((Role::Close, "Adj Close".to_owned())));
        assert_eq!(parse_column("Time= Datum "), Ok((Role::Time, "Datum".to_owned())));
        for (bad, reason) in [("close", "ROLE=NAME"), ("price=Close", "not one of"), ("close= ", "empty")] {
            let err = parse_column(bad).expect_err(bad);
            assert_eq!(err.option, "--column");
            assert!(err.to_string().contains(reason), "{err}");
        }
    }

    #[test]
    fn delimiters_are_one_ascii_character_or_a_name() {
        assert_eq!(parse_delimiter(";"), Ok(';'));
        assert_eq!(parse_delimiter("tab"), Ok('\t'));
        assert_eq!(parse_delimiter("\\t"), Ok('\t'));
        assert_eq!(parse_delimiter("pipe"), Ok('|'));
        for bad in ["", ";;", "\"", "é", "\n"] {
            let err = parse_delimiter(bad).expect_err(bad);
            assert!(err.to_string().starts_with("--delimiter"), "{err}");
        }
    }

    #[test]
    fn a_bad_date_format_is_refused_by_check() {
        let options = LoadOptions { date_format: Some("%H:%M".to_owned()), ..LoadOptions::default() };
        assert_eq!(options.check().map_err(|e| e.option), Err("--date-format"));
    }

    #[test]
    fn the_key_tells_options_apart_and_is_stable() {
        let default = LoadOptions::default();
        assert_eq!(default.key(), "{}");
        let mut sorted = default.clone();
        sorted.sort = true;
        let mut mapped = default.clone();
        mapped.columns.insert(Role::Close, "Adj Close".into());
        assert_ne!(sorted.key(), mapped.key());
        assert_eq!(mapped.key(), r#"{"columns":{"close":"Adj Close"}}"#);
    }
}
