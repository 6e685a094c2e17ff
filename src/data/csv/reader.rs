//! Reading records from CSV text: the header line, the delimiter, and each
//! non-blank record with the line it starts on.

use std::io::Read;

use ::csv::ByteRecord;

use super::DataError;
use crate::data::options::LoadOptions;

/// The most bytes read to find the header line's end.
const HEADER_PEEK: usize = 64 << 10;

/// The input's first line (with its `\n`, or up to [`HEADER_PEEK`] bytes),
/// and the rest of the input after it.
pub(super) fn read_header_line<R: Read>(mut reader: R) -> std::io::Result<(Vec<u8>, R)> {
    let mut header = Vec::new();
    let mut chunk = [0u8; 1024];
    while header.len() < HEADER_PEEK && !header.contains(&b'\n') {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        header.extend_from_slice(&chunk[..n]);
    }
    Ok((header, reader))
}

/// The field separator of a file whose first line is `header`: the one
/// `options` name, else `,` when the header line has one outside quotes,
/// else `;` or a tab when it has those (files written with a European
/// locale, or as TSV), else `,`.
pub(super) fn delimiter_of(header: &[u8], options: &LoadOptions) -> u8 {
    if let Some(d) = options.delimiter {
        return d as u8; // checked ASCII
    }
    let line = header.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut quoted = false;
    let (mut commas, mut semicolons, mut tabs) = (0, 0, 0);
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            b'\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if commas > 0 {
        b','
    } else if semicolons >= tabs && semicolons > 0 {
        b';'
    } else if tabs > 0 {
        b'\t'
    } else {
        b','
    }
}

/// Reads the next non-blank record into `record`; returns the 1-based line
/// it starts on, or `None` at the end of the input.
///
/// Empty lines never reach us (the reader skips them); a line of only
/// whitespace (such as a lone `\r` in a CRLF file) is skipped here too.
pub(super) fn next_record<R: Read>(
    reader: &mut ::csv::Reader<Tail<R>>,
    record: &mut ByteRecord,
    source: &str,
) -> Result<Option<u64>, DataError> {
    loop {
        let more = reader.read_byte_record(record).map_err(|err| {
            let message = err.to_string();
            match err.into_kind() {
                ::csv::ErrorKind::Io(source_err) => DataError::Io { input: source.to_owned(), source: source_err },
                _ => DataError::Csv { input: source.to_owned(), message },
            }
        })?;
        if !more {
            return Ok(None);
        }
        if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Ok(Some(first_line(reader, record)));
    }
}

/// The line a just-read record starts on.
///
/// The reader's own `ByteRecord::position` is taken before any skipped
/// blank lines, so it can be too low; instead count back from where the
/// record ended. The reader's line counter is 1 + the `\n`s consumed so far,
/// which includes the record's terminator unless the record ended at the end
/// of input, and every `\n` inside its quoted cells.
pub(super) fn first_line<R: Read>(reader: &::csv::Reader<Tail<R>>, record: &ByteRecord) -> u64 {
    let end = reader.position();
    let tail = reader.get_ref();
    let ended_by_newline = end.byte() < tail.total || tail.last == Some(b'\n');
    let inner_newlines = record.as_slice().iter().filter(|&&b| b == b'\n').count();
    end.line().saturating_sub(u64::from(ended_by_newline) + inner_newlines as u64).max(1)
}

/// Passes the input through, remembering how many bytes came and the last
/// one, so [`first_line`] can tell whether a record ended at a newline or at
/// the end of the input.
pub(super) struct Tail<R> {
    pub(super) inner: R,
    pub(super) total: u64,
    pub(super) last: Option<u8>,
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.total += n as u64;
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }
}
