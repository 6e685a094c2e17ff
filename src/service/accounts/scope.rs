//! What a token may do: read, run, write, admin.

use std::fmt;
use std::str::FromStr;

/// One permission of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read strategies, datasets, runs and sweeps (every `GET`).
    Read,
    /// Start, cancel and re-run runs and sweeps.
    Run,
    /// Upload, replace and delete strategies and datasets; delete runs and sweeps.
    Write,
    /// See and act on every user's rows (only for administrators).
    Admin,
}

/// Every scope, in order.
pub const ALL_SCOPES: [Scope; 4] = [Scope::Read, Scope::Run, Scope::Write, Scope::Admin];

impl Scope {
    /// The scope's name, as tokens list it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Run => "run",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ALL_SCOPES
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| format!("unknown scope '{s}'; use read, run, write or admin"))
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// What a token gets when none are named: read, run and write.
    pub const DEFAULT: Scopes = Scopes(0b0111);
    /// Every scope (the local user of a server without tokens).
    pub const ALL: Scopes = Scopes(0b1111);

    fn bit(scope: Scope) -> u8 {
        1 << (scope as u8)
    }

    /// The set with `scope` added.
    pub fn with(self, scope: Scope) -> Scopes {
        Scopes(self.0 | Scopes::bit(scope))
    }

    /// Whether `scope` is in the set.
    pub fn has(self, scope: Scope) -> bool {
        self.0 & Scopes::bit(scope) != 0
    }

    /// Parses `read,run` (names separated by commas; at least one).
    ///
    /// # Errors
    /// An unknown or missing scope, named.
    pub fn parse(text: &str) -> Result<Scopes, String> {
        let mut scopes = Scopes::default();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            scopes = scopes.with(name.parse()?);
        }
        if scopes == Scopes::default() {
            return Err("no scope given; use read, run, write or admin, separated by commas".into());
        }
        Ok(scopes)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = ALL_SCOPES.into_iter().filter(|s| self.has(*s)).map(Scope::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print_in_a_fixed_order() {
        let scopes = Scopes::parse("write, read").unwrap();
        assert!(scopes.has(Scope::Read) && scopes.has(Scope::Write) && !scopes.has(Scope::Run));
        assert_eq!(scopes.to_string(), "read,write");
        assert_eq!(Scopes::DEFAULT.to_string(), "read,run,write");
        assert_eq!(Scopes::ALL.to_string(), "read,run,write,admin");
        assert!(Scopes::parse("read,delete").unwrap_err().contains("unknown scope 'delete'"));
        assert!(Scopes::parse(" , ").unwrap_err().contains("no scope"));
    }
}
