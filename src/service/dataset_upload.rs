//! A dataset upload, validated as it streams in: the body's bytes go
//! through the engine's CSV loader on a blocking thread, each validated bar
//! into a columnar bars file on disk, so that the server holds neither the
//! upload nor its bars in memory (only the gaps between bars, to name the
//! dataset's usual interval). A body starting with Parquet's `PAR1` is
//! written to a scratch file first (the Parquet reader needs random access)
//! and parsed from there into the same bars file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Cursor, Read, Write};
use std::path::PathBuf;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

use crate::data::bars_file::BarsWriter;
use crate::data::{is_parquet, parse_csv_into, parse_parquet_into, read_prefix, BarSink, DataError, LoadOptions};
use crate::domain::{Bar, HashingReader};

/// What an upload gave once validated: its bars file and its facts.
pub(super) struct Validated {
    /// The bars file (removed when this is dropped).
    pub file: ScratchFile,
    /// Lowercase hex SHA-256 of the uploaded bytes.
    pub content_hash: String,
    /// Number of bars.
    pub rows: u64,
    /// The first and last bar's time, in epoch milliseconds.
    pub first_ts: i64,
    /// See `first_ts`.
    pub last_ts: i64,
    /// The upper median gap between bars (as `Universe::interval_hint` gives).
    pub interval_ms: Option<i64>,
}

/// Why an upload was not taken.
#[derive(Debug, thiserror::Error)]
pub(super) enum UploadError {
    /// The CSV (or the options) did not pass the loader: the client's to fix.
    #[error(transparent)]
    Invalid(DataError),
    /// The body went over the upload limit.
    #[error("the upload is larger than the server's limit of {0} bytes")]
    TooLarge(u64),
    /// The body could not be read (the client went away).
    #[error("the upload could not be read: {0}")]
    Body(String),
    /// The server could not keep the parsed bars (its scratch disk).
    #[error("could not write the parsed bars: {0}")]
    Scratch(io::Error),
}

/// A file removed when dropped.
pub(super) struct ScratchFile(pub PathBuf);

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Validates the CSV arriving as `body` (at most `limit` bytes), read as
/// `options` say; `name` names it in errors.
///
/// # Errors
/// [`UploadError`]: the loader's error naming line and column, an
/// oversized or broken body, or a scratch file that cannot be written.
pub(super) async fn validate<S, E>(
    body: S,
    limit: u64,
    name: String,
    options: LoadOptions,
) -> Result<Validated, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display,
{
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let parse = tokio::task::spawn_blocking(move || parse(ChannelReader::new(rx), &name, &options));
    let mut body = body;
    let mut received: u64 = 0;
    let mut failure = None;
    // Once the parser stops (at a bad row), the rest of the body is read
    // and dropped, so that the client, still sending, gets the answer.
    let mut parser_stopped = false;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                failure = Some(UploadError::Body(e.to_string()));
                break;
            }
        };
        received += chunk.len() as u64;
        if received > limit {
            if !parser_stopped {
                failure = Some(UploadError::TooLarge(limit));
            }
            break;
        }
        if !parser_stopped && tx.send(Ok(chunk)).await.is_err() {
            parser_stopped = true; // its error says why
        }
    }
    if failure.is_some() {
        let _ = tx.send(Err(io::Error::other("the upload stopped"))).await;
    }
    drop(tx);
    let parsed = parse.await.map_err(|e| UploadError::Scratch(io::Error::other(e.to_string())))?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    parsed
}

fn parse(mut reader: ChannelReader, name: &str, options: &LoadOptions) -> Result<Validated, UploadError> {
    let prefix = read_prefix(&mut reader).map_err(|e| UploadError::Body(e.to_string()))?;
    let parquet = is_parquet(&prefix);
    let file = ScratchFile(scratch_path("bars"));
    let out = File::create(&file.0).map_err(UploadError::Scratch)?;
    let writer = BarsWriter::new(BufWriter::with_capacity(1 << 20, out)).map_err(UploadError::Scratch)?;
    let mut sink = Facts { writer, first: None, last: None, gaps: BTreeMap::new(), scratch_error: None };
    let mut hashing = HashingReader::new(Cursor::new(prefix).chain(reader));
    let outcome = if parquet {
        // The Parquet reader needs random access (the footer first): the
        // body goes to a scratch file of its own, as large as the upload
        // (within the limit), and is parsed from there.
        let upload = ScratchFile(scratch_path("parquet"));
        copy_to_file(&mut hashing, &upload)?;
        let body = File::open(&upload.0).map_err(UploadError::Scratch)?;
        parse_parquet_into(body, name, options, &mut sink)
    } else {
        parse_csv_into(&mut hashing, name, options, &mut sink)
    };
    if let Some(err) = sink.scratch_error.take() {
        return Err(UploadError::Scratch(err));
    }
    let rows = outcome.map_err(UploadError::Invalid)?;
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| UploadError::Body(e.to_string()))?;
    sink.writer.finish().and_then(|w| w.into_inner().map_err(|e| e.into_error())).map_err(UploadError::Scratch)?;
    let (Some(first_ts), Some(last_ts)) = (sink.first, sink.last) else {
        return Err(UploadError::Invalid(DataError::NoRows { input: name.to_owned() }));
    };
    Ok(Validated {
        file,
        content_hash: hashing.content_hash(),
        rows,
        first_ts,
        last_ts,
        interval_ms: upper_median(&sink.gaps),
    })
}

/// Reads and drops a body refused before it was read (at most `limit`
/// bytes), so that the client, still sending, gets the answer.
pub(super) async fn discard<S, E>(mut body: S, limit: u64)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut received: u64 = 0;
    while let Some(Ok(chunk)) = body.next().await {
        received += chunk.len() as u64;
        if received > limit {
            break;
        }
    }
}

/// A scratch path no other upload of this process uses, ending in `.kind`.
fn scratch_path(kind: &str) -> PathBuf {
    std::env::temp_dir().join(format!("backtester-upload-{}-{}.{kind}", std::process::id(), unique()))
}

/// Copies the rest of the body into `to`: a failed read is the body's
/// fault, a failed write the server's.
fn copy_to_file(body: &mut impl Read, to: &ScratchFile) -> Result<(), UploadError> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&to.0).map_err(UploadError::Scratch)?);
    let mut chunk = vec![0; 1 << 16];
    loop {
        let n = match body.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(UploadError::Body(e.to_string())),
        };
        out.write_all(&chunk[..n]).map_err(UploadError::Scratch)?;
    }
    out.into_inner().map_err(|e| UploadError::Scratch(e.into_error()))?;
    Ok(())
}

/// A number no other upload of this process has.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The gap at index `count / 2` of the sorted gaps, from their counts.
fn upper_median(gaps: &BTreeMap<i64, u64>) -> Option<i64> {
    let count: u64 = gaps.values().sum();
    let middle = count.checked_sub(1).map(|_| count / 2)?;
    let mut seen = 0;
    for (&gap, &n) in gaps {
        seen += n;
        if seen > middle {
            return Some(gap);
        }
    }
    None
}

/// Writes each bar to the bars file and keeps what the dataset's row needs.
struct Facts {
    writer: BarsWriter<BufWriter<File>>,
    first: Option<i64>,
    last: Option<i64>,
    gaps: BTreeMap<i64, u64>,
    scratch_error: Option<io::Error>,
}

impl BarSink for Facts {
    fn accept(&mut self, bar: Bar) -> Result<(), DataError> {
        let ts = bar.ts.millis();
        if let Some(last) = self.last {
            *self.gaps.entry(ts.saturating_sub(last)).or_default() += 1;
        }
        self.first.get_or_insert(ts);
        self.last = Some(ts);
        self.writer.push(&bar).map_err(|err| {
            let message = err.to_string();
            self.scratch_error = Some(err);
            DataError::Io { input: "the server's scratch file".to_owned(), source: io::Error::other(message) }
        })
    }
}

/// Reads the chunks a channel brings (on a blocking thread).
pub(super) struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    /// Reads what `rx` brings until its senders are gone.
    pub(super) fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> ChannelReader {
        ChannelReader { rx, current: Bytes::new() }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::content_hash;

    fn chunks(text: &str, size: usize) -> impl Stream<Item = Result<Bytes, String>> + Send + Unpin + 'static {
        let parts: Vec<Result<Bytes, String>> =
            text.as_bytes().chunks(size).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        futures_util::stream::iter(parts)
    }

    const CSV: &str = "Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5\n2020-01-02,1,2,0.5,1.5\n2020-01-03,1,2,0.5,1.5\n2020-01-06,1,2,0.5,1.5\n";

    #[tokio::test]
    async fn a_streamed_upload_gives_the_bars_the_loader_gives() {
        let done = validate(chunks(CSV, 7), 1 << 20, "up".into(), LoadOptions::default()).await.unwrap();
        assert_eq!(done.content_hash, content_hash(CSV.as_bytes()));
        assert_eq!((done.rows, done.interval_ms), (4, Some(86_400_000)));
        let bars = crate::data::bars_file::read_bars(File::open(&done.file.0).unwrap()).unwrap();
        let direct = crate::data::parse_csv(CSV.as_bytes(), "up").unwrap();
        assert_eq!(bars.len(), direct.len());
        assert!(bars.iter().zip(&direct).all(|(a, b)| a.ts == b.ts && a.close() == b.close() && a.volume.is_nan()));
        let path = done.file.0.clone();
        drop(done);
        assert!(!path.exists(), "the scratch file goes with the upload");
    }

    #[tokio::test]
    async fn bad_rows_oversize_and_broken_bodies_are_refused() {
        let bad = CSV.replace("2020-01-03,1,2", "2020-01-03,1,x");
        let err = validate(chunks(&bad, 5), 1 << 20, "up".into(), LoadOptions::default()).await.err().unwrap();
        assert!(err.to_string().starts_with("up: line 4, column High"), "{err}");
        let err = validate(chunks(CSV, 5), 20, "up".into(), LoadOptions::default()).await.err().unwrap();
        assert!(matches!(err, UploadError::TooLarge(20)), "{err}");
        let broken = futures_util::stream::iter(vec![Ok(Bytes::from_static(b"Date,Open")), Err("reset".to_owned())]);
        let err = validate(broken, 1 << 20, "up".into(), LoadOptions::default()).await.err().unwrap();
        assert!(matches!(err, UploadError::Body(_)), "{err}");
    }

    /// The CSV above as a Parquet file: dates as text, prices as floats.
    fn parquet_bytes() -> Vec<u8> {
        use std::sync::Arc;
        let dates = arrow_array::StringArray::from(vec!["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-06"]);
        let price = |v: f64| -> arrow_array::ArrayRef { Arc::new(arrow_array::Float64Array::from(vec![v; 4])) };
        let batch = arrow_array::RecordBatch::try_from_iter([
            ("Date", Arc::new(dates) as arrow_array::ArrayRef),
            ("Open", price(1.0)),
            ("High", price(2.0)),
            ("Low", price(0.5)),
            ("Close", price(1.5)),
        ])
        .unwrap();
        let mut bytes = Vec::new();
        let mut writer = parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        bytes
    }

    #[tokio::test]
    async fn a_parquet_upload_gives_the_bars_its_csv_gives_and_leaves_no_scratch_file() {
        let bytes = parquet_bytes();
        let body = || {
            let parts: Vec<Result<Bytes, String>> = bytes.chunks(3).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
            futures_util::stream::iter(parts)
        };
        let scratch_files = || {
            let prefix = format!("backtester-upload-{}-", std::process::id());
            std::fs::read_dir(std::env::temp_dir())
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(&prefix) && n.ends_with(".parquet"))
                .count()
        };
        let done = validate(body(), 1 << 20, "up".into(), LoadOptions::default()).await.unwrap();
        assert_eq!(done.content_hash, content_hash(&bytes));
        assert_eq!((done.rows, done.interval_ms), (4, Some(86_400_000)));
        let bars = crate::data::bars_file::read_bars(File::open(&done.file.0).unwrap()).unwrap();
        let direct = crate::data::parse_csv(CSV.as_bytes(), "up").unwrap();
        assert!(bars.iter().zip(&direct).all(|(a, b)| a.ts == b.ts && a.close() == b.close() && a.volume.is_nan()));
        assert_eq!(bars.len(), direct.len());
        assert_eq!(scratch_files(), 0, "the uploaded Parquet file is removed once parsed");

        let err = validate(body(), 100, "up".into(), LoadOptions::default()).await.err().unwrap();
        assert!(matches!(err, UploadError::TooLarge(100)), "{err}");
        let delimited = LoadOptions { delimiter: Some(';'), ..LoadOptions::default() };
        let err = validate(body(), 1 << 20, "up".into(), delimited).await.err().unwrap();
        assert!(err.to_string().contains("--delimiter"), "{err}");
    }

    #[test]
    fn the_median_gap_is_the_upper_one_as_the_universe_gives() {
        let gaps: BTreeMap<i64, u64> = [(60, 3), (120, 1)].into();
        assert_eq!(upper_median(&gaps), Some(60));
        let gaps: BTreeMap<i64, u64> = [(60, 1), (120, 1)].into();
        assert_eq!(upper_median(&gaps), Some(120));
        assert_eq!(upper_median(&BTreeMap::new()), None);
    }
}
