//! The fast path of CSV reading: files are read in large chunks and split
//! into lines and cells directly, as long as no line holds a quote. The
//! first line that does (a quoted cell may hold the delimiter or a line
//! break) hands the rest of the input, from that line on, to the general
//! reader of the `csv` crate.

use std::io::{self, Cursor, Read};

use ::csv::ByteRecord;

/// The cells of one row, however they were split.
pub(crate) trait Cells {
    /// How many cells the row has.
    fn count(&self) -> usize;
    /// Cell `i` as written, untrimmed (empty past the last).
    fn cell(&self, i: usize) -> &[u8];
}

impl Cells for ByteRecord {
    fn count(&self) -> usize {
        self.len()
    }

    fn cell(&self, i: usize) -> &[u8] {
        self.get(i).unwrap_or_default()
    }
}

/// A line split at every delimiter (it holds no quote).
pub(crate) struct SplitLine<'a> {
    line: &'a [u8],
    /// Where each cell ends (exclusive); cell `i` starts after `ends[i - 1]`.
    ends: &'a [usize],
}

impl Cells for SplitLine<'_> {
    fn count(&self) -> usize {
        self.ends.len()
    }

    fn cell(&self, i: usize) -> &[u8] {
        match self.ends.get(i) {
            Some(&end) => {
                let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
                &self.line[start..end]
            }
            None => &[],
        }
    }
}

/// Splits `line` at each `delimiter` into `ends` (reused between lines);
/// `None` when the line holds a quote (for the general reader).
pub(crate) fn split<'a>(line: &'a [u8], delimiter: u8, ends: &'a mut Vec<usize>) -> Option<SplitLine<'a>> {
    ends.clear();
    for at in memchr::memchr2_iter(delimiter, b'"', line) {
        if line[at] == b'"' {
            return None;
        }
        ends.push(at);
    }
    ends.push(line.len());
    Some(SplitLine { line, ends })
}

/// The size of the chunks the input is read in.
const CHUNK: usize = 1 << 20;

/// Reads an input line by line from large chunks.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// Where the line last returned starts in `buf`, and its number.
    last_start: usize,
    line: u64,
}

impl<R: Read> LineReader<R> {
    /// Reads `inner` from its start (line 1).
    pub(crate) fn new(inner: R) -> LineReader<R> {
        LineReader { inner, buf: vec![0; CHUNK], start: 0, end: 0, eof: false, last_start: 0, line: 0 }
    }

    /// The next line without its `\n` (a `\r` before it stays), with its
    /// 1-based number; `None` at the end of the input.
    ///
    /// # Errors
    /// Reading the input fails.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        loop {
            if let Some(at) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let (from, to) = (self.start, self.start + at);
                self.start = to + 1;
                return Ok(Some(self.returned(from, to)));
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let (from, to) = (self.start, self.end);
                self.start = self.end;
                return Ok(Some(self.returned(from, to)));
            }
            self.fill()?;
        }
    }

    fn returned(&mut self, from: usize, to: usize) -> (u64, &[u8]) {
        self.last_start = from;
        self.line += 1;
        (self.line, &self.buf[from..to])
    }

    /// Moves the unread bytes to the front (growing the buffer when one
    /// line fills it) and reads more after them.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.end += n;
        self.eof = n == 0;
        Ok(())
    }

    /// The unread input up to its last line break (all of it at the end),
    /// about a chunk's worth, as owned bytes with the number of its first
    /// line; `None` at the end. For reading lines on other threads.
    ///
    /// The input is read straight into `into`: a buffer an earlier batch
    /// gave back, whose memory is reused rather than newly mapped, and whose
    /// old bytes are overwritten rather than cleared first. Only the broken
    /// line after the last line break is copied, back into this reader, to
    /// begin the next batch.
    ///
    /// # Errors
    /// Reading the input fails.
    pub(crate) fn next_lines_into(&mut self, mut into: Vec<u8>) -> io::Result<Option<(u64, Vec<u8>)>> {
        let carried = self.end - self.start;
        if self.eof && carried == 0 {
            return Ok(None);
        }
        // Room for the bytes carried over and at least half a chunk more,
        // and no more than that: a buffer that grew for one long line goes
        // back to a chunk's size. Only bytes cut off by the last batch's
        // truncation are zeroed (shrinking zeroes nothing).
        let room = CHUNK.max(carried + CHUNK / 2);
        into.resize(room, 0);
        into[..carried].copy_from_slice(&self.buf[self.start..self.end]);
        (self.start, self.end) = (0, 0);
        let mut filled = carried;
        let take = loop {
            while !self.eof && filled < into.len() {
                match self.inner.read(&mut into[filled..]) {
                    Ok(0) => self.eof = true,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        // The bytes read so far stay unread, as with `fill`.
                        self.keep_unread(&into[..filled]);
                        return Err(e);
                    }
                }
            }
            if self.eof {
                break filled;
            }
            match memchr::memrchr(b'\n', &into[..filled]) {
                Some(last) => break last + 1,
                // One line longer than the buffer: read on until it ends.
                None => into.resize(into.len() * 2, 0),
            }
        };
        if take == 0 {
            return Ok(None);
        }
        self.keep_unread(&into[take..filled]);
        into.truncate(take);
        let first = self.line + 1;
        let breaks = memchr::memchr_iter(b'\n', &into).count() as u64;
        self.line += breaks + u64::from(into.last() != Some(&b'\n'));
        Ok(Some((first, into)))
    }

    /// Makes `bytes` the unread input before whatever is still to be read
    /// (the reader's own buffer is empty when this is called).
    fn keep_unread(&mut self, bytes: &[u8]) {
        if self.buf.len() < bytes.len() {
            self.buf.resize(bytes.len(), 0);
        }
        self.buf[..bytes.len()].copy_from_slice(bytes);
        (self.start, self.end) = (0, bytes.len());
    }

    /// Whether every byte of the input was read and returned.
    pub(crate) fn at_end(&self) -> bool {
        self.eof && self.start == self.end
    }

    /// The input not read yet.
    pub(crate) fn into_unread(mut self) -> io::Chain<Cursor<Vec<u8>>, R> {
        self.buf.truncate(self.end);
        let rest = self.buf.split_off(self.start);
        Cursor::new(rest).chain(self.inner)
    }

    /// The input from the start of the line last returned on, and how many
    /// lines came before that line.
    pub(crate) fn rest_from_last_line(mut self) -> (io::Chain<Cursor<Vec<u8>>, R>, u64) {
        self.buf.truncate(self.end);
        let rest = self.buf.split_off(self.last_start);
        (Cursor::new(rest).chain(self.inner), self.line.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives its bytes a few at a time, as a socket might.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn lines(text: &[u8], step: usize) -> Vec<(u64, Vec<u8>)> {
        let mut reader = LineReader::new(Trickle(text, step));
        let mut out = Vec::new();
        while let Some((n, line)) = reader.next_line().unwrap() {
            out.push((n, line.to_vec()));
        }
        out
    }

    #[test]
    fn lines_come_whole_with_their_numbers_however_the_input_arrives() {
        let text = b"a,b\r\n\nc,d\nlast";
        let want: Vec<(u64, Vec<u8>)> =
            vec![(1, b"a,b\r".to_vec()), (2, b"".to_vec()), (3, b"c,d".to_vec()), (4, b"last".to_vec())];
        for step in [1, 2, 3, 100] {
            assert_eq!(lines(text, step), want, "step {step}");
        }
        assert!(lines(b"", 5).is_empty());
        assert_eq!(lines(b"x\n", 5), vec![(1, b"x".to_vec())]);
    }

    #[test]
    fn a_line_longer_than_the_buffer_grows_it() {
        let long = vec![b'x'; CHUNK * 2 + 5];
        let mut text = long.clone();
        text.extend_from_slice(b"\nend\n");
        let got = lines(&text, CHUNK);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, long);
        assert_eq!(got[1], (2, b"end".to_vec()));
    }

    #[test]
    fn batches_of_lines_end_at_a_line_break_and_count_their_lines() {
        let mut text = Vec::new();
        for i in 0..100_000 {
            text.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        text.extend_from_slice(b"no break at the end");
        let mut reader = LineReader::new(Trickle(&text, 70_000));
        let (_, first) = reader.next_line().unwrap().unwrap();
        assert_eq!(first, b"line 0");
        let mut joined = Vec::new();
        let mut expected_first = 2;
        // Each batch into the buffer of the one before, as the parallel reader gives them back.
        let mut spare = b"left from before".to_vec();
        while let Some((first_line, bytes)) = reader.next_lines_into(spare).unwrap() {
            assert_eq!(first_line, expected_first);
            assert!(bytes.ends_with(b"\n") || bytes.ends_with(b"end"));
            expected_first += memchr::memchr_iter(b'\n', &bytes).count() as u64;
            joined.extend_from_slice(&bytes);
            spare = bytes;
        }
        assert_eq!(joined, &text[b"line 0\n".len()..]);
        assert!(reader.next_lines_into(Vec::new()).unwrap().is_none());
    }

    #[test]
    fn a_batch_holds_a_line_longer_than_a_chunk_whole() {
        let long = vec![b'x'; CHUNK * 3 + 7];
        let mut text = b"header\nshort\n".to_vec();
        text.extend_from_slice(&long);
        text.extend_from_slice(b"\nafter\n");
        for step in [4096, CHUNK, CHUNK * 4] {
            let mut reader = LineReader::new(Trickle(&text, step));
            reader.next_line().unwrap();
            // A spare buffer longer than a batch, full of bytes that must not show.
            let mut spare = vec![b'?'; CHUNK * 8];
            let mut batches = Vec::new();
            while let Some((first_line, bytes)) = reader.next_lines_into(spare).unwrap() {
                assert!(bytes.ends_with(b"\n"), "step {step}: a batch ends at a line break");
                assert!(
                    bytes.len() <= CHUNK * 2 || bytes.contains(&b'x'),
                    "step {step}: only the long line's batch is long"
                );
                batches.push((first_line, bytes.clone()));
                spare = bytes;
            }
            assert!(reader.at_end());
            // The long line was carried from one batch into the next, and read on to its end.
            assert!(batches.len() >= 2, "step {step}: {} batches", batches.len());
            let whole_line = [long.as_slice(), b"\n"].concat();
            assert!(
                batches.iter().any(|(_, b)| b.starts_with(&whole_line)),
                "step {step}: the long line is whole in one batch"
            );
            let joined: Vec<u8> = batches.iter().flat_map(|(_, b)| b.iter().copied()).collect();
            assert_eq!(joined, &text[b"header\n".len()..], "step {step}");
            let firsts: Vec<u64> = batches.iter().map(|(n, _)| *n).collect();
            let mut expected = 2;
            for (first, bytes) in batches.iter() {
                assert_eq!(*first, expected, "step {step}: {firsts:?}");
                expected += memchr::memchr_iter(b'\n', bytes).count() as u64;
            }
        }
    }

    /// Fails once after giving `good` bytes, then gives the rest.
    struct FailsOnce<'a>(&'a [u8], usize, bool);

    impl Read for FailsOnce<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.1 == 0 && !self.2 {
                self.2 = true;
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0.len()).min(if self.2 { usize::MAX } else { self.1 });
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            self.1 -= n.min(self.1);
            Ok(n)
        }
    }

    #[test]
    fn a_failed_read_loses_no_bytes_read_before_it() {
        let text: Vec<u8> = (0..50_000).flat_map(|i| format!("row {i}\n").into_bytes()).collect();
        let mut reader = LineReader::new(FailsOnce(&text, 123_457, false));
        let err = reader.next_lines_into(Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "disk on fire");
        let mut joined = Vec::new();
        while let Some((_, bytes)) = reader.next_lines_into(Vec::new()).unwrap() {
            joined.extend_from_slice(&bytes);
        }
        assert_eq!(joined, text);
    }

    #[test]
    fn the_rest_starts_at_the_last_line() {
        let mut reader = LineReader::new(Trickle(b"h\n1\n\"q\nx\"\ntail\n", 3));
        reader.next_line().unwrap();
        reader.next_line().unwrap();
        let (_, line) = reader.next_line().unwrap().unwrap();
        assert_eq!(line, b"\"q");
        let (mut rest, before) = reader.rest_from_last_line();
        let mut text = String::new();
        rest.read_to_string(&mut text).unwrap();
        assert_eq!((text.as_str(), before), ("\"q\nx\"\ntail\n", 2));
    }

    #[test]
    fn cells_split_at_each_delimiter() {
        let mut ends = Vec::new();
        let row = split(b"a,,bc,", b',', &mut ends).unwrap();
        let cells: Vec<&[u8]> = (0..row.count()).map(|i| row.cell(i)).collect();
        assert_eq!(cells, vec![&b"a"[..], b"", b"bc", b""]);
        assert_eq!(row.cell(9), b"");
        assert!(split(b"a,\"b\"", b',', &mut ends).is_none(), "a quote goes to the general reader");
    }
}
