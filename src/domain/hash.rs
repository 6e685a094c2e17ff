//! Content hashes: how a strategy version, a data file or a run is named by
//! what it holds.

use sha2::{Digest, Sha256};

/// The lowercase hex SHA-256 of `bytes`: the same for a file on disk, an
/// uploaded dataset or a stored strategy version with the same bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Passes the bytes of a reader through, hashing them: the
/// [`content_hash`] of a file or an upload read once (as it is parsed, or
/// read again after the parse, beside the run).
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R> HashingReader<R> {
    /// Hashes what is read from `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new() }
    }

    /// The [`content_hash`] of the bytes read so far.
    pub fn content_hash(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
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
    fn a_hashing_reader_gives_the_hash_of_what_passed() {
        use std::io::Read;
        let mut reader = HashingReader::new(&b"abc"[..]);
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!((text.as_str(), reader.content_hash()), ("abc", content_hash(b"abc")));
    }

    #[test]
    fn hashes_are_the_standard_sha256_in_hex() {
        // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(content_hash(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
