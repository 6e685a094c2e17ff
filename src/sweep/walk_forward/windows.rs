//! The windows of a walk-forward over a timeline: each a training part and
//! the test part right after it, as ranges of step indices.
//!
//! Test parts are consecutive and do not overlap: the first starts where
//! the first training part (from the first bar) ends, each next one where
//! the previous ended, and the last ends with the data (it may be
//! shorter). In bars, test part k is `[T + kS, T + (k+1)S)` cut at the end,
//! for a training length T and test length S. In calendar lengths, its
//! boundaries are `b_k = first + train + k × test` (each computed from the
//! first bar's time, so months do not drift), and it holds the bars with
//! `b_k ≤ t < b_{k+1}`. A rolling training part holds the bars just before
//! its test part: T of them, or those with `b_k − train ≤ t < b_k`; an
//! anchored one every bar before its test part. A calendar window whose
//! test or training part holds no bar (a gap in the data) is left out.

use std::ops::Range;

use super::spec::{Length, WalkForwardSpec};
use super::WalkForwardError;
use crate::domain::Timestamp;

/// One window: step indices of its training part and of its test part,
/// which starts where the training part ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// The training part's steps.
    pub train: Range<usize>,
    /// The test part's steps.
    pub test: Range<usize>,
}

/// The windows of `spec` over `timeline` (ascending).
///
/// # Errors
/// The training part covers the whole timeline, leaving nothing to test.
pub fn windows(spec: &WalkForwardSpec, timeline: &[Timestamp]) -> Result<Vec<Window>, WalkForwardError> {
    let n = timeline.len();
    let windows = match (spec.train, spec.test) {
        (Length::Bars(train), Length::Bars(test)) => {
            let starts = (train..n).step_by(test);
            starts
                .map(|start| Window {
                    train: if spec.anchored { 0..start } else { start - train..start },
                    test: start..(start + test).min(n),
                })
                .collect()
        }
        (train, test) => calendar(spec.anchored, train, test, timeline),
    };
    if windows.is_empty() {
        let (first, last) = (timeline.first(), timeline.last());
        let span = first.zip(last).map_or_else(|| "no bars".to_string(), |(a, b)| format!("{n} bars, {a} to {b}"));
        return Err(WalkForwardError::Spec {
            field: "train",
            reason: format!("{} leaves nothing to test in the data ({span})", spec.train),
        });
    }
    Ok(windows)
}

/// The windows of calendar lengths (see the module doc).
fn calendar(anchored: bool, train: Length, test: Length, timeline: &[Timestamp]) -> Vec<Window> {
    let n = timeline.len();
    let index = |t: Timestamp| timeline.partition_point(|&x| x < t);
    let Some(&first) = timeline.first() else { return Vec::new() };
    let Some(start) = train.after(first, 1) else { return Vec::new() };
    let mut windows = Vec::new();
    for k in 0.. {
        let Some(from) = test.after(start, k) else { break };
        let begin = index(from);
        if begin >= n {
            break;
        }
        let end = test.after(start, k + 1).map_or(n, index);
        let train_begin = if anchored { 0 } else { train.before(from).map_or(0, index) };
        if begin < end && train_begin < begin {
            windows.push(Window { train: train_begin..begin, test: begin..end });
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse_timestamp;

    fn spec(text: &str) -> WalkForwardSpec {
        WalkForwardSpec::parse(text).unwrap()
    }

    fn bars(n: usize) -> Vec<Timestamp> {
        (0..n as i64).map(|i| Timestamp(i * 86_400_000)).collect()
    }

    fn w(train: Range<usize>, test: Range<usize>) -> Window {
        Window { train, test }
    }

    #[test]
    fn bar_counts_roll_or_anchor() {
        // 1000 bars, train 500, test 100: tests start at 500, 600, ..., 900.
        let rolling = windows(&spec("train=500,test=100"), &bars(1000)).unwrap();
        assert_eq!(
            rolling,
            [
                w(0..500, 500..600),
                w(100..600, 600..700),
                w(200..700, 700..800),
                w(300..800, 800..900),
                w(400..900, 900..1000)
            ]
        );
        let anchored = windows(&spec("train=500,test=100,anchored"), &bars(1000)).unwrap();
        let trains: Vec<_> = anchored.iter().map(|w| w.train.clone()).collect();
        assert_eq!(trains, [0..500, 0..600, 0..700, 0..800, 0..900]);
        // 1030 bars: a sixth, shorter test part 1000..1030.
        let longer = windows(&spec("train=500,test=100"), &bars(1030)).unwrap();
        assert_eq!(longer.last(), Some(&w(500..1000, 1000..1030)));
        assert_eq!(longer.len(), 6);
    }

    #[test]
    fn a_training_part_as_long_as_the_data_is_refused_naming_train() {
        let err = windows(&spec("train=1000,test=100"), &bars(1000)).unwrap_err().to_string();
        assert!(err.starts_with("--walk-forward train: 1000 bars leaves nothing to test"), "{err}");
        assert!(windows(&spec("train=999,test=100"), &bars(1000)).unwrap() == [w(0..999, 999..1000)]);
        let err = windows(&spec("train=3y,test=1m"), &bars(1000)).unwrap_err().to_string();
        assert!(
            err.contains("36 months leaves nothing to test in the data (1000 bars, 1970-01-01 to 1972-09-26)"),
            "{err}"
        );
    }

    #[test]
    fn calendar_lengths_cut_at_dates() {
        let ts = |t: &str| parse_timestamp(t).unwrap();
        // Daily bars from 2020-01-01 (index = days since then; 2020 is a leap year).
        let timeline: Vec<Timestamp> =
            (0..500).map(|i| Timestamp(ts("2020-01-01").millis() + i * 86_400_000)).collect();
        let found = windows(&spec("train=1y,test=6m"), &timeline).unwrap();
        // Tests from 2021-01-01 (day 366), 2021-07-01 (day 547 > 499: none after the first).
        // The first: 2021-01-01..2021-07-01 cut at the data's end (day 500).
        assert_eq!(found, [w(0..366, 366..500)]);
        let found = windows(&spec("train=6m,test=3m"), &timeline).unwrap();
        // Boundaries 2020-07-01 (182), 2020-10-01 (274), 2021-01-01 (366), 2021-04-01 (456), 2021-07-01.
        // Rolling training parts: from 2020-01-01 (0), 2020-04-01 (91), 2020-07-01 (182), 2020-10-01 (274).
        assert_eq!(found, [w(0..182, 182..274), w(91..274, 274..366), w(182..366, 366..456), w(274..456, 456..500)]);
        let anchored = windows(&spec("train=6m,test=3m,anchored"), &timeline).unwrap();
        assert!(anchored.iter().all(|w| w.train.start == 0));
        assert_eq!(
            anchored.iter().map(|w| w.test.clone()).collect::<Vec<_>>(),
            [182..274, 274..366, 366..456, 456..500]
        );
    }

    #[test]
    fn a_calendar_test_part_without_bars_is_left_out() {
        // Bars on days 0..10 and 20..30: test parts of 5 days from day 5.
        let timeline: Vec<Timestamp> = (0..10).chain(20..30).map(|d| Timestamp(d * 86_400_000)).collect();
        let found = windows(&spec("train=5d,test=5d"), &timeline).unwrap();
        // Days 5..10 (indices 5..10); 10..15 and 15..20 hold no bar; 20..25 (10..15), 25..30 (15..20).
        // The training part of 20..25 is days 15..20: no bar, so left out too.
        assert_eq!(found, [w(0..5, 5..10), w(10..15, 15..20)]);
    }
}
