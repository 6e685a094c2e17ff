//! Content hashes: how a strategy version, a data file or a run is named by
//! what it holds.

use sha2::{Digest, Sha256};

/// The lowercase hex SHA-256 of `bytes`: the same for a file on disk, an
/// uploaded dataset or a stored strategy version with the same bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_the_standard_sha256_in_hex() {
        // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(content_hash(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
