//! The form parsed bars are kept in (the loader's cache, the
//! service's datasets): written and read a block at a time, so that neither
//! side needs the whole series as bytes in memory.
//!
//! Layout: the magic [`MAGIC`], then blocks of at most [`BLOCK_BARS`] bars,
//! each `u32` bar count, a `u8` form and the block's bars; then a `u32` 0
//! and the `u64` total of bars. All numbers little-endian.
//!
//! Written now, the row form: each bar as six 8-byte words, as a [`Bar`]
//! holds it in memory (time in `i64` milliseconds, open, high, low and
//! close as [`Price::to_bits`], volume as `f64` bits, `NaN` for none), so
//! that reading a block back is copying words. Read too, from files written
//! before bars held [`Price`]s: the columnar forms (times, then the four
//! price columns, then the volumes), whose prices are either narrow (an
//! `i64` mantissa column, then a `u8` scale column) or wide (rust_decimal's
//! 16-byte serialized form).

use std::io::{self, Read, Write};

use rust_decimal::Decimal;

use crate::domain::{Bar, Price, Timestamp};

/// The first bytes of every bars file; the last byte is the format version.
pub const MAGIC: &[u8; 8] = b"BTBARS\n\x01";

/// The most bars in one block.
pub const BLOCK_BARS: usize = 1 << 16;

const NARROW: u8 = 0;
const WIDE: u8 = 1;
const ROWS: u8 = 2;

/// Writes bars in the row form, one block per [`BLOCK_BARS`] bars.
pub struct BarsWriter<W: Write> {
    out: W,
    block: Vec<Bar>,
    total: u64,
    bytes: Vec<u8>,
}

impl<W: Write> BarsWriter<W> {
    /// Starts a bars file on `out` (writes the magic).
    ///
    /// # Errors
    /// Writing fails.
    pub fn new(mut out: W) -> io::Result<BarsWriter<W>> {
        out.write_all(MAGIC)?;
        Ok(BarsWriter { out, block: Vec::with_capacity(BLOCK_BARS), total: 0, bytes: Vec::new() })
    }

    /// Adds one bar.
    ///
    /// # Errors
    /// Writing a full block fails.
    pub fn push(&mut self, bar: &Bar) -> io::Result<()> {
        self.block.push(*bar);
        if self.block.len() == BLOCK_BARS {
            self.flush_block()?;
        }
        Ok(())
    }

    /// Adds every bar of `bars`.
    ///
    /// # Errors
    /// Writing fails.
    pub fn extend(&mut self, bars: &[Bar]) -> io::Result<()> {
        bars.iter().try_for_each(|bar| self.push(bar))
    }

    /// Writes the last block and the end, and returns the output.
    ///
    /// # Errors
    /// Writing fails.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_block()?;
        self.out.write_all(&0u32.to_le_bytes())?;
        self.out.write_all(&self.total.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn flush_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        encode_block(&self.block, &mut self.bytes);
        self.out.write_all(&self.bytes)?;
        self.total += self.block.len() as u64;
        self.block.clear();
        Ok(())
    }
}

fn encode_block(bars: &[Bar], bytes: &mut Vec<u8>) {
    bytes.clear();
    bytes.reserve(5 + ROW_BYTES * bars.len());
    bytes.extend_from_slice(&(bars.len() as u32).to_le_bytes());
    bytes.push(ROWS);
    for bar in bars {
        let [open, high, low, close] = bar.prices().map(Price::to_bits);
        for word in [bar.ts.0 as u64, open, high, low, close, bar.volume.to_bits()] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
    }
}

/// The bytes of one bar in the row form.
const ROW_BYTES: usize = 48;

/// Why bytes are not a bars file.
#[derive(Debug, thiserror::Error)]
pub enum BarsFileError {
    /// Reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// The bytes are not a bars file of this version, or are cut short or damaged.
    #[error("not a bars file of this version, or damaged: {0}")]
    Damaged(&'static str),
    /// A price has more digits than a bar holds (written by a version that
    /// kept wider prices).
    #[error("a price has more digits than a bar holds (its digits without the point must make a number below 2^58)")]
    TooManyDigits,
}

/// Reads a whole bars file.
///
/// Returns its bars, in the order written.
///
/// # Errors
/// [`BarsFileError`] for a read failure or bytes that are not a whole,
/// undamaged bars file.
pub fn read_bars<R: Read>(input: R) -> Result<Vec<Bar>, BarsFileError> {
    read_bars_sized(input, 0)
}

/// [`read_bars`] of an input of `size` bytes (0 when not known), so that
/// the bars' memory is taken once.
///
/// # Errors
/// As [`read_bars`].
pub fn read_bars_sized<R: Read>(input: R, size: u64) -> Result<Vec<Bar>, BarsFileError> {
    let mut reader = BarsReader::new(input)?;
    // A bar takes 48 bytes in the row form, more in the others.
    let mut bars = crate::domain::large_vec((size / ROW_BYTES as u64) as usize);
    while reader.next_block_into(&mut bars)? {}
    Ok(bars)
}

/// Reads a bars file a block at a time.
pub struct BarsReader<R: Read> {
    input: R,
    bytes: Vec<u8>,
    total: u64,
    done: bool,
}

impl<R: Read> BarsReader<R> {
    /// Checks the magic at the start of `input`.
    ///
    /// # Errors
    /// A read failure, or another magic.
    pub fn new(mut input: R) -> Result<BarsReader<R>, BarsFileError> {
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic).map_err(|_| BarsFileError::Damaged("no magic"))?;
        if &magic != MAGIC {
            return Err(BarsFileError::Damaged("another magic"));
        }
        Ok(BarsReader { input, bytes: Vec::new(), total: 0, done: false })
    }

    /// Appends the next block's bars to `out`; `false` after the last.
    ///
    /// # Errors
    /// A read failure, a damaged block, or a total that does not match.
    pub fn next_block_into(&mut self, out: &mut Vec<Bar>) -> Result<bool, BarsFileError> {
        if self.done {
            return Ok(false);
        }
        let count = u32::from_le_bytes(self.array::<4>()?) as usize;
        if count == 0 {
            self.done = true;
            if u64::from_le_bytes(self.array::<8>()?) != self.total {
                return Err(BarsFileError::Damaged("the bar count at the end does not match"));
            }
            return Ok(false);
        }
        if count > BLOCK_BARS {
            return Err(BarsFileError::Damaged("a block is too long"));
        }
        let form = self.array::<1>()?[0];
        let size = count
            * match form {
                ROWS => ROW_BYTES,
                NARROW => 8 + 4 * 9 + 8,
                WIDE => 8 + 4 * 16 + 8,
                _ => return Err(BarsFileError::Damaged("an unknown form")),
            };
        self.bytes.resize(size, 0);
        self.input.read_exact(&mut self.bytes).map_err(cut_short)?;
        decode_block(&self.bytes, count, form, out)?;
        self.total += count as u64;
        Ok(true)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BarsFileError> {
        let mut buf = [0u8; N];
        self.input.read_exact(&mut buf).map_err(cut_short)?;
        Ok(buf)
    }
}

fn cut_short(err: io::Error) -> BarsFileError {
    if err.kind() == io::ErrorKind::UnexpectedEof {
        BarsFileError::Damaged("cut short")
    } else {
        BarsFileError::Io(err)
    }
}

/// Appends the `n` bars of a block's `bytes` (in `form`) to `out`; a
/// columnar block's bars are each built whole from their place in every
/// column (one pass over the bars' memory). On an error nothing of the
/// block is added.
fn decode_block(bytes: &[u8], n: usize, form: u8, out: &mut Vec<Bar>) -> Result<(), BarsFileError> {
    if form == ROWS {
        return decode_rows(bytes, out);
    }
    let word = |column: &[u8], i: usize| u64::from_le_bytes(column[8 * i..8 * i + 8].try_into().unwrap_or_default());
    let (times, rest) = bytes.split_at(8 * n);
    if form == NARROW {
        let mut columns = [(&[][..], &[][..]); 4];
        let mut rest = rest;
        for column in &mut columns {
            let (mantissas, after) = rest.split_at(8 * n);
            let (scales, after) = after.split_at(n);
            if scales.iter().any(|&s| u32::from(s) > Decimal::MAX_SCALE) {
                return Err(BarsFileError::Damaged("a scale out of range"));
            }
            *column = (mantissas, scales);
            rest = after;
        }
        let price = |k: usize, i: usize| {
            let (mantissas, scales) = columns[k];
            let (mantissa, scale) = (word(mantissas, i) as i64, u32::from(scales[i]));
            Price::new(mantissa, scale).or_else(|| Price::from_decimal_trimmed(Decimal::new(mantissa, scale)))
        };
        push_bars(out, n, times, rest, price)
    } else {
        let (prices, volumes) = rest.split_at(64 * n);
        let price = |k: usize, i: usize| {
            let at = 16 * (k * n + i);
            Price::from_decimal_trimmed(Decimal::deserialize(prices[at..at + 16].try_into().unwrap_or_default()))
        };
        push_bars(out, n, times, volumes, price)
    }
}

/// Appends the bars of a block in the row form to `out`.
fn decode_rows(bytes: &[u8], out: &mut Vec<Bar>) -> Result<(), BarsFileError> {
    let before = out.len();
    out.reserve(bytes.len() / ROW_BYTES);
    let mut valid = true;
    out.extend(bytes.chunks_exact(ROW_BYTES).map(|row| {
        let word = |k: usize| u64::from_le_bytes(row[8 * k..8 * k + 8].try_into().unwrap_or_default());
        let prices = [word(1), word(2), word(3), word(4)];
        // A scale past 28 (never written): checked for the block at once,
        // so that building the bars stays a plain copy of words.
        valid &= prices.iter().all(|&bits| Price::from_bits(bits).is_some());
        let [open, high, low, close] = prices.map(Price::from_bits_unchecked);
        Bar::new(Timestamp(word(0) as i64), [open, high, low, close], f64::from_bits(word(5)))
    }));
    if valid {
        Ok(())
    } else {
        out.truncate(before);
        Err(BarsFileError::Damaged("a price's scale out of range"))
    }
}

/// Appends `n` bars built whole, each from its time, its four prices
/// (`price(k, i)`, k = 0 open to 3 close, `None` for one a [`Price`] does
/// not hold) and its volume.
fn push_bars(
    out: &mut Vec<Bar>,
    n: usize,
    times: &[u8],
    volumes: &[u8],
    price: impl Fn(usize, usize) -> Option<Price>,
) -> Result<(), BarsFileError> {
    let word = |column: &[u8], i: usize| u64::from_le_bytes(column[8 * i..8 * i + 8].try_into().unwrap_or_default());
    let before = out.len();
    out.reserve(n);
    for i in 0..n {
        let (Some(open), Some(high), Some(low), Some(close)) = (price(0, i), price(1, i), price(2, i), price(3, i))
        else {
            out.truncate(before);
            return Err(BarsFileError::TooManyDigits);
        };
        let ts = Timestamp(word(times, i) as i64);
        out.push(Bar::new(ts, [open, high, low, close], f64::from_bits(word(volumes, i))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::data::synthetic::random_walk;

    fn roundtrip(bars: &[Bar]) -> Vec<Bar> {
        let mut writer = BarsWriter::new(Vec::new()).unwrap();
        writer.extend(bars).unwrap();
        read_bars(writer.finish().unwrap().as_slice()).unwrap()
    }

    fn same(a: &[Bar], b: &[Bar]) -> bool {
        // Bar's PartialEq treats NaN volumes as different; compare bits.
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                (x.ts, x.open(), x.high(), x.low(), x.close()) == (y.ts, y.open(), y.high(), y.low(), y.close())
                    && [x.open(), x.high(), x.low(), x.close()]
                        .iter()
                        .zip([y.open(), y.high(), y.low(), y.close()])
                        .all(|(p, q)| p.scale() == q.scale())
                    && x.volume.to_bits() == y.volume.to_bits()
            })
    }

    #[test]
    fn bars_come_back_exactly_over_several_blocks() {
        let bars = random_walk(BLOCK_BARS * 2 + 17, 7, Timestamp(1_600_000_000_000), 60_000);
        assert!(same(&roundtrip(&bars), &bars));
        assert!(roundtrip(&[]).is_empty());
    }

    #[test]
    fn scales_and_missing_volumes_are_kept() {
        let mut bars = random_walk(10, 1, Timestamp(0), 60_000);
        let [open, high, low, _] = bars[0].prices();
        bars[0] = Bar::new(bars[0].ts, [open, high, low, Price::from_decimal(dec!(1.50)).unwrap()], 5.0);
        bars[1].volume = f64::NAN;
        let back = roundtrip(&bars);
        assert!(same(&back, &bars));
        assert_eq!(back[0].close().to_string(), "1.50");
    }

    /// A file of one block of one bar in a columnar form (`NARROW` or
    /// `WIDE`), as versions before `Price` wrote.
    fn columnar_file(form: u8, prices: [Decimal; 4]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.push(form);
        bytes.extend_from_slice(&60_000i64.to_le_bytes());
        for price in prices {
            if form == WIDE {
                bytes.extend_from_slice(&price.serialize());
            } else {
                bytes.extend_from_slice(&(price.mantissa() as i64).to_le_bytes());
                bytes.push(price.scale() as u8);
            }
        }
        bytes.extend_from_slice(&7.5f64.to_bits().to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&1u64.to_le_bytes());
        bytes
    }

    #[test]
    fn the_columnar_forms_are_read_and_a_price_past_what_a_bar_holds_is_refused() {
        let fits = [dec!(1.5), dec!(2.25), dec!(1), dec!(2)];
        for form in [NARROW, WIDE] {
            let back = read_bars(columnar_file(form, fits).as_slice()).unwrap();
            assert_eq!(back, vec![Bar::from_decimals(Timestamp(60_000), fits, 7.5).unwrap()], "form {form}");
            assert_eq!(back[0].open().to_string(), "1.5");
        }
        let too_many_digits = [dec!(1), Decimal::MAX, dec!(1), dec!(1)];
        assert!(matches!(
            read_bars(columnar_file(WIDE, too_many_digits).as_slice()),
            Err(BarsFileError::TooManyDigits)
        ));
        // An i64 mantissa past 59 bits, as the narrow form could hold.
        let wide_i64 = [dec!(1), Decimal::from(i64::MAX), dec!(1), dec!(1)];
        assert!(matches!(read_bars(columnar_file(NARROW, wide_i64).as_slice()), Err(BarsFileError::TooManyDigits)));
        // Nothing of a refused block is added to what was read before.
        let refused = columnar_file(WIDE, too_many_digits);
        let mut reader = BarsReader::new(refused.as_slice()).unwrap();
        let earlier = Bar::from_decimals(Timestamp(0), fits, 1.0).unwrap();
        let mut out = vec![earlier];
        assert!(reader.next_block_into(&mut out).is_err());
        assert_eq!(out, vec![earlier]);
        // Trailing zeros past what fits are dropped: the same number.
        for (form, text, kept) in [(NARROW, "1.000000000000000000", "1"), (WIDE, "123.450000000000000000", "123.45")] {
            let zeros: Decimal = text.parse().unwrap();
            let back = read_bars(columnar_file(form, [zeros; 4]).as_slice()).unwrap();
            assert_eq!(back[0].close().to_string(), kept, "form {form}");
        }
    }

    #[test]
    fn a_row_with_a_scale_past_28_is_refused_and_leaves_nothing() {
        let bars = random_walk(3, 5, Timestamp(0), 60_000);
        let mut writer = BarsWriter::new(Vec::new()).unwrap();
        writer.extend(&bars).unwrap();
        let mut bytes = writer.finish().unwrap();
        // The second bar's high: magic 8, count 4, form 1, then 48 bytes a bar.
        let at = 8 + 4 + 1 + ROW_BYTES + 16;
        bytes[at] = (bytes[at] & !31) | 30;
        let mut reader = BarsReader::new(bytes.as_slice()).unwrap();
        let mut out = vec![bars[0]];
        assert!(matches!(reader.next_block_into(&mut out), Err(BarsFileError::Damaged(_))));
        assert_eq!(out, vec![bars[0]], "what was there before stays, nothing of the block is added");
    }

    #[test]
    fn damaged_files_are_refused() {
        let bars = random_walk(100, 3, Timestamp(0), 60_000);
        let mut writer = BarsWriter::new(Vec::new()).unwrap();
        writer.extend(&bars).unwrap();
        let bytes = writer.finish().unwrap();
        for cut in [0, 5, 8, 12, bytes.len() - 1] {
            assert!(matches!(read_bars(&bytes[..cut]), Err(BarsFileError::Damaged(_))), "cut at {cut}");
        }
        let mut other = bytes.clone();
        other[7] = 2;
        assert!(matches!(read_bars(other.as_slice()), Err(BarsFileError::Damaged("another magic"))));
        let mut wrong_total = bytes.clone();
        let end = wrong_total.len() - 8;
        wrong_total[end] ^= 1;
        assert!(read_bars(wrong_total.as_slice()).is_err());
    }
}
