//! `ctx.cross(a, b)`: whether `a` crossed `b` on this bar, by backtrader's
//! rule, which looks through ties.
//!
//! A cross up needs `a > b` now and `a < b` at the latest bar before this one
//! where the two differed; a cross down is the mirror image. Both sides must
//! be defined: a pair seen for the first time, or one that has been equal
//! since its first bar, has no side before, so it never crosses on it. So a
//! touch and return (above, equal, above) is no cross, below, equal, above
//! is one (on the bar it goes above), and a tie on the first bar where both
//! values exist counts as neither.
//!
//! The latest difference before a tie is remembered per pair from the
//! previous call: a strategy that tests a pair on every bar (as strategies
//! do) gets exact answers over ties of any length. The same rule is
//! written once more in the guest SDK, which tests crosses in the plugin.

/// The second side of a pair: an indicator output or a fixed level (its bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossSide {
    Output(usize),
    Level(u64),
}

/// Which side of `b` `a` is on: 1 above, -1 below, 0 equal.
fn side(a: f64, b: f64) -> i8 {
    if a > b {
        1
    } else if a < b {
        -1
    } else {
        0
    }
}

/// The most pairs remembered at once.
pub const MAX_PAIRS: usize = 1024;

/// What the last test of one pair saw.
#[derive(Clone, Copy, Debug)]
struct Seen {
    step: usize,
    /// The side before that step (the latest that differed), if known.
    before: Option<i8>,
    /// The latest side that differed up to and including that step.
    latest: Option<i8>,
}

/// The pairs tested so far in a run, with what each last saw.
#[derive(Debug, Default)]
pub struct Crossings {
    pairs: Vec<((usize, CrossSide), Seen)>,
}

impl Crossings {
    /// 1 if `a` crossed above `b` at `step`, -1 below, 0 otherwise; `now` and
    /// `previous` are the pair's values at this bar and one bar earlier
    /// (`None` where not ready).
    pub fn test(
        &mut self,
        pair: (usize, CrossSide),
        step: usize,
        now: (Option<f64>, Option<f64>),
        previous: (Option<f64>, Option<f64>),
    ) -> i8 {
        let slot = self.pairs.iter().position(|(p, _)| *p == pair);
        let last = slot.map(|i| self.pairs[i].1);
        let before = match (last, previous) {
            // Tested again in the same step: the same answer.
            (Some(seen), _) if seen.step == step => seen.before,
            (_, (Some(a), Some(b))) => match side(a, b) {
                0 => last.and_then(|seen| seen.latest),
                differs => Some(differs),
            },
            _ => None,
        };
        let now_side = match now {
            (Some(a), Some(b)) => Some(side(a, b)),
            _ => None,
        };
        let latest = match now_side {
            Some(0) => before,
            other => other,
        };
        let seen = Seen { step, before, latest };
        match slot {
            Some(i) => self.pairs[i].1 = seen,
            None => {
                if self.pairs.len() >= MAX_PAIRS {
                    // A level that changes every bar makes a new pair each time:
                    // the pair tested longest ago makes room (the SDK does the same).
                    let oldest = (0..self.pairs.len()).min_by_key(|&i| self.pairs[i].1.step).unwrap_or(0);
                    self.pairs.remove(oldest);
                }
                self.pairs.push((pair, seen));
            }
        }
        match (before, now_side) {
            (Some(-1), Some(1)) => 1,
            (Some(1), Some(-1)) => -1,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crosses of `a` against the level 1.5 over a series, testing every bar.
    fn crosses(series: &[Option<f64>]) -> Vec<i8> {
        let mut c = Crossings::default();
        let level = Some(1.5);
        (0..series.len())
            .map(|i| {
                let previous = if i == 0 { None } else { series[i - 1] };
                c.test((0, CrossSide::Level(1.5f64.to_bits())), i, (series[i], level), (previous, level))
            })
            .collect()
    }

    #[test]
    fn a_touch_and_return_is_no_cross() {
        // above, equal, above: the side before the third bar is above (through the tie).
        assert_eq!(crosses(&[Some(2.0), Some(1.5), Some(2.0)]), [0, 0, 0]);
        assert_eq!(crosses(&[Some(1.0), Some(1.5), Some(1.0)]), [0, 0, 0]);
    }

    #[test]
    fn a_cross_through_a_tie_counts_once_on_the_bar_it_goes_beyond() {
        assert_eq!(crosses(&[Some(1.0), Some(1.5), Some(2.0)]), [0, 0, 1]);
        assert_eq!(crosses(&[Some(2.0), Some(1.5), Some(1.5), Some(1.5), Some(1.0)]), [0, 0, 0, 0, -1]);
        assert_eq!(crosses(&[Some(1.0), Some(2.0), Some(1.0), Some(2.0)]), [0, 1, -1, 1]);
    }

    #[test]
    fn a_tie_on_the_first_bar_where_both_exist_is_no_side() {
        assert_eq!(crosses(&[None, Some(1.5), Some(2.0), Some(1.0)]), [0, 0, 0, -1]);
        assert_eq!(crosses(&[Some(1.5), Some(1.5), Some(2.0)]), [0, 0, 0]);
        assert_eq!(crosses(&[None, Some(1.0), Some(2.0)]), [0, 0, 1], "no side before the first value");
    }

    #[test]
    fn testing_twice_in_one_step_gives_the_same_answer() {
        let mut c = Crossings::default();
        let pair = (0, CrossSide::Output(1));
        assert_eq!(c.test(pair, 0, (Some(1.0), Some(2.0)), (None, None)), 0);
        assert_eq!(c.test(pair, 1, (Some(3.0), Some(2.0)), (Some(1.0), Some(2.0))), 1);
        assert_eq!(c.test(pair, 1, (Some(3.0), Some(2.0)), (Some(1.0), Some(2.0))), 1);
        // Another pair keeps its own memory.
        let other = (1, CrossSide::Output(0));
        assert_eq!(c.test(other, 1, (Some(2.0), Some(3.0)), (Some(2.0), Some(2.0))), 0);
    }

    #[test]
    fn a_level_that_changes_every_bar_keeps_the_memory_bounded() {
        let mut c = Crossings::default();
        for step in 0..5_000usize {
            let level = step as f64;
            c.test((0, CrossSide::Level(level.to_bits())), step, (Some(1.0), Some(level)), (Some(1.0), Some(level)));
        }
        assert_eq!(c.pairs.len(), MAX_PAIRS);
        assert!(c.pairs.iter().all(|(_, seen)| seen.step >= 5_000 - MAX_PAIRS), "the latest pairs are kept");
    }
}
