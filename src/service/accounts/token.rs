//! API tokens: random text with a recognisable prefix, stored only as a
//! SHA-256 (a token has 256 bits of entropy: a slow password hash would add
//! tens of milliseconds to every request and no safety).

use crate::domain::content_hash;

/// What every token starts with, so that a leaked one is found by a scan.
pub const TOKEN_PREFIX: &str = "btk_";

/// Characters of a token shown in lists (the prefix and 8 more): enough to
/// tell tokens apart, far too few to guess the rest.
const HINT_CHARS: usize = TOKEN_PREFIX.len() + 8;

/// A new token's text and what is stored of it.
pub struct MintedToken {
    /// The token, shown once.
    pub secret: String,
    /// Lowercase hex SHA-256 of the token.
    pub hash: String,
    /// Its first characters.
    pub hint: String,
}

/// Draws a new token: the prefix and 32 random bytes in hex.
///
/// # Errors
/// The operating system's random source failing.
pub fn mint() -> Result<MintedToken, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let mut secret = String::with_capacity(TOKEN_PREFIX.len() + 64);
    secret.push_str(TOKEN_PREFIX);
    for b in bytes {
        secret.push_str(&format!("{b:02x}"));
    }
    Ok(MintedToken { hash: hash(&secret), hint: format!("{}…", &secret[..HINT_CHARS]), secret })
}

/// The stored form of a token's text.
pub fn hash(secret: &str) -> String {
    content_hash(secret.as_bytes())
}

/// Random text for a CSRF cookie: 16 bytes in hex.
///
/// # Errors
/// The operating system's random source failing.
pub fn random_hex16() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_stored_as_their_hash() {
        let a = mint().unwrap();
        let b = mint().unwrap();
        assert!(a.secret.starts_with("btk_") && a.secret.len() == 4 + 64, "{}", a.secret);
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, hash(&a.secret));
        assert!(!a.hash.contains(&a.secret[4..]));
        assert!(a.secret.starts_with(a.hint.trim_end_matches('…')) && a.hint.len() < 20);
    }
}
