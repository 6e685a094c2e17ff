//! Reading a plainly written row in one pass: its cells found and read as
//! the line is walked, without splitting it first and without the general
//! cell checks. A row that is not plain (whitespace around a cell, a number
//! or time in another form, a wrong number of cells, a failed check, ...)
//! is read the general way ([`Layout::bar`]), which also gives its error:
//! this pass only ever gives the bar the general way would give, never an
//! error of its own.

use super::layout::{broken_price_rule, Layout, Memo};
use super::number::{plain_price, plain_volume};
use crate::data::timestamp::{parse_date_time_memo, parse_timestamp};
use crate::domain::{Bar, Price, Timestamp};

/// What one column of a row gives.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    /// Nothing: a column the layout does not use.
    Skip,
    Time,
    /// Open, high, low or close (0 to 3).
    Price(usize),
    Volume,
}

/// How the rows of one layout are read in one pass.
#[derive(Debug)]
pub(crate) struct OnePass {
    slots: Vec<Slot>,
    delimiter: u8,
}

impl OnePass {
    /// The one-pass reading of `layout`'s rows, split at `delimiter`; `None`
    /// when its rows are read the general way only: with a `--date-format`,
    /// or when one column gives several roles.
    pub(crate) fn new(layout: &Layout, delimiter: u8) -> Option<OnePass> {
        if layout.has_date_format() || delimiter == b'\r' {
            return None;
        }
        let mut slots = vec![Slot::Skip; layout.fields];
        let [time, open, high, low, close, volume] = layout.columns();
        let roles = [(time, Slot::Time), (open, Slot::Price(0)), (high, Slot::Price(1))];
        let roles = roles.into_iter().chain([(low, Slot::Price(2)), (close, Slot::Price(3)), (volume, Slot::Volume)]);
        for (column, slot) in roles {
            let Some(index) = column else { continue };
            if *slots.get(index)? != Slot::Skip {
                return None;
            }
            slots[index] = slot;
        }
        Some(OnePass { slots, delimiter })
    }

    /// The bar of `line` (without its `\n`), or `None` when it must be read
    /// the general way.
    #[inline]
    pub(crate) fn bar(&self, line: &[u8], memo: &Memo) -> Option<Bar> {
        // A CRLF line's `\r` is whitespace after the last cell: trimmed.
        let mut rest = line.strip_suffix(b"\r").unwrap_or(line);
        let mut ts = Timestamp(0);
        let mut prices = [Price::saturating(0, 0); 4];
        let mut volume = f64::NAN;
        let last = self.slots.len() - 1;
        for (i, &slot) in self.slots.iter().enumerate() {
            let cell = if i == last {
                if memchr::memchr(self.delimiter, rest).is_some() {
                    return None; // more cells than the header names
                }
                rest
            } else {
                let end = find_byte(rest, self.delimiter)?;
                let cell = &rest[..end];
                rest = &rest[end + 1..];
                cell
            };
            match slot {
                Slot::Skip => {}
                Slot::Time => ts = timestamp(cell, memo)?,
                Slot::Price(k) => {
                    let price = plain_price(cell)?;
                    if price.mantissa() <= 0 {
                        return None;
                    }
                    prices[k] = price;
                }
                Slot::Volume => volume = plain_volume(cell).or_else(|| decimal_volume(cell))?,
            }
        }
        match broken_price_rule(prices) {
            None => Some(Bar::new(ts, prices, volume)),
            Some(_) => None,
        }
    }
}

/// Where `needle` first occurs in `hay`: eight bytes at a time (a cell
/// is short, so `memchr`'s vector setup costs more than it saves, and a
/// byte at a time was a fifth of reading a row).
#[inline]
fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = u64::from_ne_bytes([needle; 8]);
    let mut words = hay.chunks_exact(8);
    for (k, word) in words.by_ref().enumerate() {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(word);
        // A byte equal to the needle becomes 0; the lowest zero byte sets
        // the lowest high bit here (higher ones may be false, never lower).
        let x = u64::from_le_bytes(bytes) ^ pattern;
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return Some(k * 8 + (zeros.trailing_zeros() / 8) as usize);
        }
    }
    let rest = words.remainder();
    rest.iter().position(|&c| c == needle).map(|at| hay.len() - rest.len() + at)
}

/// A time cell in a built-in format, untrimmed.
#[inline]
fn timestamp(cell: &[u8], memo: &Memo) -> Option<Timestamp> {
    match parse_date_time_memo(cell, memo) {
        Some(result) => result.ok(),
        None => parse_timestamp(std::str::from_utf8(cell).ok()?).ok(),
    }
}

/// A volume written as digits with one point (`1234.5`), as the float
/// parser reads it; `None` for anything else, or one too large to be finite.
fn decimal_volume(cell: &[u8]) -> Option<f64> {
    let points = cell.iter().filter(|&&c| c == b'.').count();
    if points != 1 || cell.len() < 2 || !cell.iter().all(|&c| c.is_ascii_digit() || c == b'.') {
        return None;
    }
    let value: f64 = std::str::from_utf8(cell).ok()?.parse().ok()?;
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::csv::layout::Row;
    use crate::data::csv::lines::split;
    use crate::data::error::Line;
    use crate::data::options::{LoadOptions, Role};

    #[test]
    fn a_byte_is_found_where_it_first_is_at_any_position_and_length() {
        for len in 0..40 {
            for at in 0..len {
                for second in [None, Some(at + 1), Some(at + 8), Some(len - 1)] {
                    // Bytes next to the needle's value, which a word-wise test could confuse.
                    let mut hay: Vec<u8> = (0..len).map(|i| [b'7', b'-', b'+', 0x80, 0xac, b'.'][i % 6]).collect();
                    hay[at] = b',';
                    if let Some(second) = second.filter(|&s| s < len) {
                        hay[second] = b',';
                    }
                    assert_eq!(find_byte(&hay, b','), Some(at), "{hay:?}");
                }
            }
            let none: Vec<u8> = (0..len).map(|i| [b'+', b'-', 0xac, 0x2d][i % 4]).collect();
            assert_eq!(find_byte(&none, b','), None, "{none:?}");
        }
        assert_eq!(find_byte(b"\x00\x01;", b';'), Some(2));
        assert_eq!(find_byte(&[0xff; 9], 0xff), Some(0));
        assert_eq!(find_byte(b"abcdefgh\t", b'\t'), Some(8));
    }

    fn layout(header: &str, options: &LoadOptions) -> Layout {
        let names = header.split(',').map(str::to_owned).collect();
        Layout::from_header(names, Line::Text(1), "t.csv", options).unwrap()
    }

    /// The general way's reading of `line`: its bar, or `None` for an error
    /// (or a blank line).
    fn general(layout: &Layout, line: &str) -> Option<Bar> {
        let mut ends = Vec::new();
        let cells = split(line.as_bytes(), b',', &mut ends)?;
        let row = Row { input: "t.csv", line: Line::Text(2), cells: &cells };
        layout.bar(&row, &Memo::new(None)).ok()
    }

    fn same(a: &Bar, b: &Bar) -> bool {
        let prices = |bar: &Bar| bar.prices().map(Price::to_bits);
        a.ts == b.ts && prices(a) == prices(b) && a.volume.to_bits() == b.volume.to_bits()
    }

    const HEADER: &str = "Date,Open,High,Low,Close,Adj Close,Volume";

    #[test]
    fn a_plain_row_gives_the_general_way_s_bar_and_anything_else_is_left_to_it() {
        let layout = layout(HEADER, &LoadOptions::default());
        let pass = OnePass::new(&layout, b',').unwrap();
        let plain = [
            "2020-01-02 09:30:00,100.00,101.5,99.25,100.75,x y,1200",
            "2020-01-02T09:31,100,101,99,100,,0",
            "2020-01-02,1.00000000000000001,2,1,1.5,,12.5\r",
            "1577957400,+100.5,101,99,100,,007",
            "1577957400123,100.5,101,99,100,,999999999999999",
            "2020-01-02 09:30:00.250+02:00,.5,1.,0.25,0.5,,3.",
        ];
        for line in plain {
            let fast = pass.bar(line.as_bytes(), &Memo::new(None)).unwrap_or_else(|| panic!("{line} is plain"));
            let slow = general(&layout, line).unwrap();
            assert!(same(&fast, &slow), "{line}: {fast:?} vs {slow:?}");
        }
        let left = [
            // Not plain, but read the general way.
            " 2020-01-02,100,101,99,100,,1200",
            "2020-01-02,100 ,101,99,100,,1200",
            "2020-01-02,1e2,101,99,100,,1200",
            "2020-01-02,100,101,99,100,,1e3",
            "2020-01-02,100,101,99,100,,",
            // Refused by the general way.
            "2020-01-02,100,101,99,100,,-5",
            "2020-01-02,100,101,99,100,1200",
            "2020-01-02,100,101,99,100,,1200,9",
            "2020-02-30,100,101,99,100,,1200",
            "20200102,100,101,99,100,,1200",
            "2020-01-02,0,101,99,100,,1200",
            "2020-01-02,-100,101,99,100,,1200",
            "2020-01-02,100,98,99,100,,1200",
            "2020-01-02,102,101,99,100,,1200",
            "2020-01-02,100,101,99,98,,1200",
            "2020-01-02,100,101,99,100,,inf",
            "2020-01-02,100,101,99,100,,1.2.3",
            "   ",
            "",
        ];
        for line in left {
            assert!(pass.bar(line.as_bytes(), &Memo::new(None)).is_none(), "{line:?} is left to the general way");
        }
        assert!(general(&layout, left[0]).is_some() && general(&layout, left[5]).is_none());
    }

    #[test]
    fn whatever_a_row_holds_one_pass_gives_the_general_way_s_bar_or_nothing() {
        let times = [
            "2020-01-02",
            "2020-01-02 09:30:00",
            "2020-01-02T09:30",
            "2020-01-02 09:30:00.5Z",
            "1577957400",
            " 2020-01-02",
            "2020-01-02 ",
            "2020-13-02",
            "2020-01-02 24:00:00",
            "20200102",
            "",
            "x",
        ];
        let prices = [
            "100",
            "100.5",
            "99.25",
            "101",
            "0.5",
            "1e2",
            " 100",
            "100 ",
            "-1",
            "0",
            "+100",
            ".5",
            "5.",
            "1.2.3",
            "",
            "nan",
            "123456789012345678",
            "1234567890123456789",
        ];
        let volumes = ["0", "12", "12.5", "1e3", "-3", "", " 7", "inf", "5.", "007"];
        let layout = layout(HEADER, &LoadOptions::default());
        let pass = OnePass::new(&layout, b',').unwrap();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut pick = |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        let mut read = 0;
        for _ in 0..20_000 {
            // A valid row with up to two cells replaced by other writings.
            let mut cells = ["2020-01-02 09:30:00", "100", "101", "99", "100.5", "a b", "12"];
            for _ in 0..pick(3) {
                let column = pick(cells.len());
                cells[column] = match column {
                    0 => times[pick(times.len())],
                    1..=4 => prices[pick(prices.len())],
                    5 => ["", "x,y", " "][pick(3)],
                    _ => volumes[pick(volumes.len())],
                };
            }
            let line = cells.join(",");
            let line = if pick(4) == 0 { format!("{line}\r") } else { line };
            if let Some(fast) = pass.bar(line.as_bytes(), &Memo::new(None)) {
                let slow = general(&layout, &line).unwrap_or_else(|| panic!("{line:?}: the general way refuses it"));
                assert!(same(&fast, &slow), "{line:?}: {fast:?} vs {slow:?}");
                read += 1;
            }
        }
        assert!(read > 5_000, "only {read} rows read in one pass");
    }

    #[test]
    fn a_huge_decimal_volume_is_left_to_the_general_way() {
        let digits = "9".repeat(400);
        assert_eq!(decimal_volume(format!("{digits}.5").as_bytes()), None);
        assert_eq!(decimal_volume(b"12.5"), Some(12.5));
        assert_eq!(decimal_volume(b"."), None);
    }

    #[test]
    fn layouts_it_cannot_read_have_none() {
        let dated = LoadOptions { date_format: Some("%d/%m/%Y".into()), ..LoadOptions::default() };
        assert!(OnePass::new(&layout(HEADER, &dated), b',').is_none(), "a --date-format");
        let mut twice = LoadOptions::default();
        twice.columns.insert(Role::Close, "Open".into());
        assert!(OnePass::new(&layout(HEADER, &twice), b',').is_none(), "one column, two roles");
        let no_volume = layout("Date,Open,High,Low,Close", &LoadOptions::default());
        let pass = OnePass::new(&no_volume, b',').unwrap();
        let bar = pass.bar(b"2020-01-02,100,101,99,100", &Memo::new(None)).unwrap();
        assert!(bar.volume.is_nan());
        assert!(same(&bar, &general(&no_volume, "2020-01-02,100,101,99,100").unwrap()));
    }
}
