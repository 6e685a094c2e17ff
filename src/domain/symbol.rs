//! A traded instrument's name and the rule every name follows.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// The longest symbol name allowed.
pub const MAX_SYMBOL_LEN: usize = 32;

/// The symbol naming rule, as shown in error messages.
pub const SYMBOL_RULE: &str = "a symbol has 1 to 32 characters, each an ASCII letter, digit or one of . - _ / :";

/// Whether `name` follows the symbol naming rule: 1 to [`MAX_SYMBOL_LEN`]
/// characters, each an ASCII letter, digit, `.`, `-`, `_`, `/` or `:`.
///
/// Returns `true` for a valid name.
pub fn is_valid_symbol(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SYMBOL_LEN
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'/' | b':'))
}

/// A traded instrument's name, cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol(Arc<str>);

impl Serialize for Symbol {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Symbol {
    /// Wraps a name; callers validate it first (see [`is_valid_symbol`]).
    pub fn new(name: &str) -> Self {
        Symbol(Arc::from(name))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
