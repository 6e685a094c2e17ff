//! Reading a large file's rows on several threads: the input is cut into
//! batches of whole lines, each batch read into bars (and checked in order
//! within itself) by a worker, and the batches' bars passed on in file order
//! with the order checked across them. The first error in file order is the
//! one reported, as reading line by line would report it.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering as Atomic};
use std::sync::{mpsc, Mutex};

use super::layout::{Layout, Memo, Row};
use super::lines::{split, Cells, LineReader};
use super::one_pass::OnePass;
use crate::data::error::{DataError, Line};
use crate::data::order::{misplaced, BarSink, Ordering};
use crate::domain::Bar;

/// What a worker made of one batch.
struct Batch {
    bars: Vec<Bar>,
    /// Each bar's line, kept only when the bars are to be sorted.
    lines: Vec<u64>,
    /// The line of the first and of the last bar.
    first_line: u64,
    last_line: u64,
    /// The first error in the batch: its bars stop before it.
    error: Option<DataError>,
}

/// How reading the rows ended.
pub(super) enum Ended {
    /// Every row was read.
    Done,
    /// A batch holds a quote: the input from its first line on (`lines`
    /// before it), for the general reader.
    Quoted { rest: Vec<u8>, before: u64 },
}

/// How many threads read rows: the machine's cores, at most four.
pub(super) fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

/// Reads the rest of `lines` (the rows after the header) on `workers`
/// threads into `ordering`.
///
/// Returns how the rows ended; on [`Ended::Quoted`] the caller reads the
/// returned bytes and then the rest of `lines`.
///
/// # Errors
/// The first error in file order: a row's, an order error across batches,
/// the sink's, or reading the input.
pub(super) fn read_rows<R: Read, S: BarSink>(
    lines: &mut LineReader<R>,
    layout: &Layout,
    delimiter: u8,
    source: &str,
    ordering: &mut Ordering<'_, S>,
    workers: usize,
) -> Result<Ended, DataError> {
    // The next batch of lines, into a buffer an earlier batch gave back (the first one read already).
    let next = |lines: &mut LineReader<R>, merge: &mut Merge, pending: &mut Option<(u64, Vec<u8>)>| {
        if let Some(batch) = pending.take() {
            return Ok(Some(batch));
        }
        let spare = merge.spare_bytes.pop().unwrap_or_default();
        lines.next_lines_into(spare).map_err(|e| DataError::Io { input: source.to_owned(), source: e })
    };
    let sorting = ordering.sorting();
    let one_pass = OnePass::new(layout, delimiter);
    let read = Reading { layout, one_pass: one_pass.as_ref(), delimiter, source, sorting };
    let mut merge = Merge::default();
    let Some(first) = next(lines, &mut merge, &mut None)? else { return Ok(Ended::Done) };
    if memchr::memchr(b'"', &first.1).is_some() {
        return Ok(Ended::Quoted { rest: first.1, before: first.0 - 1 });
    }
    let mut pending = Some(first);
    if workers < 2 || lines.at_end() {
        // One batch, or one thread: no other thread is worth starting.
        for seq in 0.. {
            let Some((first_line, bytes)) = next(lines, &mut merge, &mut pending)? else { break };
            if memchr::memchr(b'"', &bytes).is_some() {
                return Ok(Ended::Quoted { rest: bytes, before: first_line - 1 });
            }
            let bars = merge.spare_bars.pop().unwrap_or_default();
            merge.waiting.insert(seq, read.batch(first_line, &bytes, bars));
            merge.spare_bytes.push(bytes);
            merge.pass_on(ordering)?;
        }
        return Ok(Ended::Done);
    }
    let stop = AtomicBool::new(false);
    let (work_tx, work_rx) = mpsc::sync_channel::<Work>(workers * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (work_rx, done_tx, stop, read) = (&work_rx, done_tx.clone(), &stop, &read);
            scope.spawn(move || loop {
                let next = work_rx.lock().ok().and_then(|rx| rx.recv().ok());
                let Some(Work { seq, first_line, bytes, bars }) = next else { break };
                if stop.load(Atomic::Relaxed) {
                    continue;
                }
                let batch = read.batch(first_line, &bytes, bars);
                if done_tx.send(Done { seq, batch, bytes }).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        let outcome = (|| {
            let mut seq = 0;
            while let Some((first_line, bytes)) = next(lines, &mut merge, &mut pending)? {
                if memchr::memchr(b'"', &bytes).is_some() {
                    drop(work_tx);
                    merge.drain(&done_rx, ordering, seq)?;
                    return Ok(Ended::Quoted { rest: bytes, before: first_line - 1 });
                }
                let bars = merge.spare_bars.pop().unwrap_or_default();
                if work_tx.send(Work { seq, first_line, bytes, bars }).is_err() {
                    break;
                }
                seq += 1;
                merge.take_ready(&done_rx, ordering)?;
            }
            drop(work_tx);
            merge.drain(&done_rx, ordering, seq)?;
            Ok(Ended::Done)
        })();
        if outcome.is_err() {
            stop.store(true, Atomic::Relaxed);
        }
        outcome
    })
}

/// A batch handed to a worker: its lines (the first is `first_line`), and
/// an empty vector to read its bars into (one an earlier batch gave back).
struct Work {
    seq: u64,
    first_line: u64,
    bytes: Vec<u8>,
    bars: Vec<Bar>,
}

/// What a worker hands back: the batch read, and its lines' buffer for
/// the reader to fill again.
struct Done {
    seq: u64,
    batch: Batch,
    bytes: Vec<u8>,
}

/// Passes finished batches on in order, and keeps their buffers for the
/// batches after them: a large file's batches then reuse a few megabytes
/// instead of mapping (and faulting in) new ones for every batch.
#[derive(Default)]
struct Merge {
    next: u64,
    waiting: BTreeMap<u64, Batch>,
    spare_bytes: Vec<Vec<u8>>,
    spare_bars: Vec<Vec<Bar>>,
}

impl Merge {
    fn receive(&mut self, done: Done) {
        self.waiting.insert(done.seq, done.batch);
        self.spare_bytes.push(done.bytes);
    }

    /// Passes on every batch that is done and next in order, without waiting.
    fn take_ready<S: BarSink>(
        &mut self,
        done: &mpsc::Receiver<Done>,
        ordering: &mut Ordering<'_, S>,
    ) -> Result<(), DataError> {
        while let Ok(finished) = done.try_recv() {
            self.receive(finished);
        }
        self.pass_on(ordering)
    }

    /// Waits for batches up to `count` and passes them all on.
    fn drain<S: BarSink>(
        &mut self,
        done: &mpsc::Receiver<Done>,
        ordering: &mut Ordering<'_, S>,
        count: u64,
    ) -> Result<(), DataError> {
        while self.next < count {
            self.pass_on(ordering)?;
            if self.next == count {
                break;
            }
            let Ok(finished) = done.recv() else { break };
            self.receive(finished);
        }
        self.pass_on(ordering)
    }

    fn pass_on<S: BarSink>(&mut self, ordering: &mut Ordering<'_, S>) -> Result<(), DataError> {
        while let Some(mut batch) = self.waiting.remove(&self.next) {
            self.next += 1;
            if !batch.bars.is_empty() {
                if ordering.sorting() {
                    for (bar, line) in batch.bars.drain(..).zip(batch.lines) {
                        ordering.push(bar, Line::Text(line))?;
                    }
                } else {
                    ordering.push_run(&mut batch.bars, Line::Text(batch.first_line), Line::Text(batch.last_line))?;
                }
            }
            self.spare_bars.push(batch.bars);
            if let Some(error) = batch.error {
                return Err(error);
            }
        }
        Ok(())
    }
}

/// How one file's batches are read: its layout, its one-pass reading (if
/// its rows can be read so), and what errors and the order check need.
struct Reading<'a> {
    layout: &'a Layout,
    one_pass: Option<&'a OnePass>,
    delimiter: u8,
    source: &'a str,
    sorting: bool,
}

impl Reading<'_> {
    /// Reads the lines of `bytes` (the first is line `first_line`) into
    /// `bars` (emptied first, its room reused), checking their order within
    /// the batch; stops at the first error. Each line is read in one pass
    /// ([`OnePass`]) when it is plainly written, else the general way.
    fn batch(&self, first_line: u64, bytes: &[u8], mut bars: Vec<Bar>) -> Batch {
        let Reading { layout, one_pass, source, sorting, .. } = *self;
        let memo = Memo::new(None);
        bars.clear();
        bars.reserve(bytes.len() / 40);
        let mut batch = Batch { bars, lines: Vec::new(), first_line, last_line: first_line, error: None };
        let mut previous: Option<u64> = None;
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
        let mut cell_ends = Vec::new();
        for (i, end) in ends.enumerate() {
            let line = &body[start..end];
            start = end + 1;
            let number = first_line + i as u64;
            let bar = match one_pass.and_then(|pass| pass.bar(line, &memo)) {
                Some(bar) => bar,
                None => match self.general_bar(line, number, &memo, &mut cell_ends) {
                    Ok(Some(bar)) => bar,
                    Ok(None) => continue,
                    Err(e) => {
                        batch.error = Some(e);
                        return batch;
                    }
                },
            };
            if let (Some(prev_line), Some(prev), false) = (previous, batch.bars.last(), sorting) {
                if bar.ts <= prev.ts {
                    let (at, before) = (Line::Text(number), Line::Text(prev_line));
                    batch.error = Some(misplaced(source, &layout.time.name, bar.ts, at, prev.ts, before));
                    return batch;
                }
            }
            if batch.bars.is_empty() {
                batch.first_line = number;
            }
            batch.last_line = number;
            previous = Some(number);
            batch.bars.push(bar);
            if sorting {
                batch.lines.push(number);
            }
        }
        batch
    }

    /// A line the one pass left, read the general way: its bar, `None` for
    /// a blank line, or its error.
    fn general_bar(
        &self,
        line: &[u8],
        number: u64,
        memo: &Memo,
        cell_ends: &mut Vec<usize>,
    ) -> Result<Option<Bar>, DataError> {
        let Some(cells) = split(line, self.delimiter, cell_ends) else {
            // The caller looked for quotes before handing the batch out.
            let message = format!("a quote on line {number}");
            return Err(DataError::Csv { input: self.source.to_owned(), message });
        };
        if cells.count() == 1 && line.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let row = Row { input: self.source, line: Line::Text(number), cells: &cells };
        self.layout.bar(&row, memo).map(Some)
    }
}
