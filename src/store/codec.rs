//! The compact form of a run's series (its equity curve, its trades): what a
//! run stores instead of one row per bar or trade.
//!
//! A series is columns of fixed-width values (integers often as differences
//! from the previous one, decimals in their exact 16-byte form, floats as
//! their bits), each column's bytes laid out plane by plane (all first
//! bytes, then all second bytes, ...), and the whole compressed with LZ4.
//! The planes of slowly changing numbers are long runs of equal bytes, so a
//! million points take a few MB and encode or decode in tens of
//! milliseconds, where a million rows took over a minute to insert.
//! Decimals come back exactly as written, scale and sign included.
//!
//! Layout: a 4-byte kind tag, a format version byte, a flags byte, the
//! value count (u64, little-endian), the caller's own uncompressed header
//! bytes (length-prefixed, u32), then the LZ4 block of the columns with its
//! length prepended.

use rust_decimal::Decimal;

use super::StoreError;

/// Builds one encoded series of `n` values per column.
pub(super) struct Encoder {
    n: usize,
    body: Vec<u8>,
}

impl Encoder {
    pub fn new(n: usize, bytes_per_value: usize) -> Self {
        Encoder { n, body: Vec::with_capacity(n * bytes_per_value) }
    }

    /// Appends a column of `W`-byte values, plane by plane.
    pub fn column<const W: usize>(&mut self, values: impl Iterator<Item = [u8; W]>) {
        let (n, start) = (self.n, self.body.len());
        self.body.resize(start + n * W, 0);
        let planes = &mut self.body[start..];
        for (i, value) in values.take(n).enumerate() {
            for (k, byte) in value.into_iter().enumerate() {
                planes[k * n + i] = byte;
            }
        }
    }

    /// Integers as differences from the previous one (the first from 0).
    pub fn deltas(&mut self, values: impl Iterator<Item = i64>) {
        let mut previous = 0i64;
        self.column(values.map(|v| {
            let d = v.wrapping_sub(previous);
            previous = v;
            d.to_le_bytes()
        }));
    }

    pub fn decimals(&mut self, values: impl Iterator<Item = Decimal>) {
        self.column(values.map(|d| d.serialize()));
    }

    pub fn floats(&mut self, values: impl Iterator<Item = f64>) {
        self.column(values.map(|f| f.to_bits().to_le_bytes()));
    }

    /// The encoded series: `kind`, `flags` and the caller's `header` first.
    pub fn finish(self, kind: &[u8; 4], flags: u8, header: &[u8]) -> Vec<u8> {
        let compressed = lz4_flex::compress_prepend_size(&self.body);
        let mut out = Vec::with_capacity(18 + header.len() + compressed.len());
        out.extend_from_slice(kind);
        out.push(VERSION);
        out.push(flags);
        out.extend_from_slice(&(self.n as u64).to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(header);
        out.extend_from_slice(&compressed);
        out
    }
}

const VERSION: u8 = 1;

/// The most bytes one value of any kind takes over all its columns (a
/// trade takes 118), to bound what a stored block may claim.
const MAX_BYTES_PER_VALUE: usize = 256;

/// Reads a series that [`Encoder`] wrote, column by column in the same order.
pub(super) struct Decoder {
    what: &'static str,
    n: usize,
    flags: u8,
    header: Vec<u8>,
    body: Vec<u8>,
    at: usize,
}

impl Decoder {
    /// Checks the kind tag and version and decompresses the columns, which
    /// must hold `bytes_per_value` bytes for each value.
    ///
    /// # Errors
    /// Bytes that are not a series of this kind and format.
    pub fn new(bytes: &[u8], kind: &[u8; 4], what: &'static str) -> Result<Self, StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt { what, detail };
        if bytes.len() < 18 || &bytes[..4] != kind {
            return Err(corrupt(format!("not an encoded {what}")));
        }
        if bytes[4] != VERSION {
            return Err(corrupt(format!("format version {} is not known to this build", bytes[4])));
        }
        let word = |at: usize, len: usize| bytes.get(at..at + len).ok_or_else(|| corrupt("cut short".into()));
        let n = u64::from_le_bytes(word(6, 8)?.try_into().map_err(|_| corrupt("cut short".into()))?);
        let n = usize::try_from(n).map_err(|_| corrupt(format!("{n} values")))?;
        let header_len = u32::from_le_bytes(word(14, 4)?.try_into().map_err(|_| corrupt("cut short".into()))?);
        let header = word(18, header_len as usize)?.to_vec();
        let rest = &bytes[18 + header.len()..];
        // The size the block claims is checked before anything that size is allocated.
        let claimed =
            u32::from_le_bytes(word(18 + header.len(), 4)?.try_into().map_err(|_| corrupt("cut short".into()))?);
        if claimed as usize > n.saturating_mul(MAX_BYTES_PER_VALUE) {
            return Err(corrupt(format!("{claimed} bytes claimed for {n} values")));
        }
        let body = lz4_flex::decompress_size_prepended(rest).map_err(|e| corrupt(e.to_string()))?;
        Ok(Decoder { what, n, flags: bytes[5], header, body, at: 0 })
    }

    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// The caller's own header bytes.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// The next column of `W`-byte values.
    ///
    /// # Errors
    /// Fewer bytes left than the column needs.
    pub fn column<const W: usize>(&mut self) -> Result<Vec<[u8; W]>, StoreError> {
        let (n, at) = (self.n, self.at);
        let end = n.checked_mul(W).and_then(|len| at.checked_add(len));
        let planes = end.and_then(|end| self.body.get(at..end)).ok_or_else(|| StoreError::Corrupt {
            what: self.what,
            detail: format!("{} bytes for {n} values", self.body.len()),
        })?;
        self.at += n * W;
        Ok((0..n).map(|i| std::array::from_fn(|k| planes[k * n + i])).collect())
    }

    pub fn deltas(&mut self) -> Result<Vec<i64>, StoreError> {
        let mut value = 0i64;
        Ok(self
            .column::<8>()?
            .into_iter()
            .map(|d| {
                value = value.wrapping_add(i64::from_le_bytes(d));
                value
            })
            .collect())
    }

    pub fn decimals(&mut self) -> Result<Vec<Decimal>, StoreError> {
        Ok(self.column::<16>()?.into_iter().map(Decimal::deserialize).collect())
    }

    pub fn floats(&mut self) -> Result<Vec<f64>, StoreError> {
        Ok(self.column::<8>()?.into_iter().map(|b| f64::from_bits(u64::from_le_bytes(b))).collect())
    }

    /// Checks that every column was read.
    ///
    /// # Errors
    /// Bytes left over: the series has more columns than its kind.
    pub fn done(self) -> Result<(), StoreError> {
        if self.at != self.body.len() {
            return Err(StoreError::Corrupt {
                what: self.what,
                detail: format!("{} bytes for {} values", self.body.len(), self.n),
            });
        }
        Ok(())
    }
}
