//! The variants of a sweep, enumerated as a stream: a grid is never held as
//! a list; variant `i` is computed from `i` (mixed-radix digits over the
//! axes), so any variant can be rebuilt from its number alone.

use std::collections::HashSet;

use super::axis::{Axis, AxisValue};
use super::SweepError;
use crate::data::synthetic::SplitMix64;

/// Most variants one sweep may have.
pub const MAX_VARIANTS: u64 = 1_000_000;

/// Which variants of the axes' grid a sweep runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    /// Every combination of the axes' values.
    Grid,
    /// `count` distinct combinations drawn with `seed` (the whole grid when
    /// it has no more than `count`).
    Random {
        /// How many variants to draw.
        count: u64,
        /// The seed: the same seed draws the same variants.
        seed: u64,
    },
}

/// The variants of a sweep: the axes, and which of their combinations run.
#[derive(Clone, Debug)]
pub struct VariantSet {
    axes: Vec<Axis>,
    /// Whether the variants are the axes' values side by side (explicit
    /// variants: variant i takes value i of each axis) rather than their grid.
    listed: bool,
    /// The grid numbers of the variants, when drawn at random (sorted);
    /// `None` for the whole grid.
    drawn: Option<Vec<u64>>,
    grid_size: u64,
}

/// One variant: its number in the sweep and one value per axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant<'a> {
    /// The variant's number in the sweep (0-based, in enumeration order).
    pub number: u64,
    /// Per axis, in the axes' order: its name and this variant's value.
    pub values: Vec<(&'a str, &'a AxisValue)>,
}

impl VariantSet {
    /// The variants of `axes` chosen by `selection`.
    ///
    /// # Errors
    /// No axis, an axis given twice, or more than [`MAX_VARIANTS`] variants
    /// (refused before anything runs).
    pub fn new(axes: Vec<Axis>, selection: &Selection) -> Result<VariantSet, SweepError> {
        if axes.is_empty() {
            return Err(SweepError::NoAxes);
        }
        for (i, axis) in axes.iter().enumerate() {
            if axes[..i].iter().any(|a| a.name == axis.name) {
                return Err(SweepError::DuplicateAxis(axis.name.clone()));
            }
        }
        let grid_size = axes
            .iter()
            .try_fold(1u64, |n, a| n.checked_mul(a.values.len() as u64))
            .filter(|&n| n <= MAX_VARIANTS || matches!(selection, Selection::Random { .. }))
            .ok_or_else(|| SweepError::TooMany { limit: MAX_VARIANTS, what: "the grid".into() })?;
        let drawn = match *selection {
            Selection::Grid => None,
            Selection::Random { count, .. } if count > MAX_VARIANTS => {
                return Err(SweepError::TooMany { limit: MAX_VARIANTS, what: format!("--random {count}") })
            }
            Selection::Random { count, .. } if count >= grid_size => None,
            Selection::Random { count, seed } => Some(draw(count, grid_size, seed)),
        };
        Ok(VariantSet { axes, listed: false, drawn, grid_size })
    }

    /// Explicit variants, each `NAME=VALUE,...` as parsed by
    /// [`super::axis::parse_variant`] (`args` are the arguments, for errors).
    ///
    /// # Errors
    /// No variant, variants that name different axes, or more than
    /// [`MAX_VARIANTS`].
    pub fn listed(variants: Vec<Vec<Axis>>, args: &[String]) -> Result<VariantSet, SweepError> {
        let Some(first) = variants.first() else { return Err(SweepError::NoAxes) };
        if variants.len() as u64 > MAX_VARIANTS {
            return Err(SweepError::TooMany { limit: MAX_VARIANTS, what: "the --variant list".into() });
        }
        let names = |axes: &[Axis]| axes.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
        let mut axes: Vec<Axis> = first.iter().map(|a| Axis { values: Vec::new(), ..a.clone() }).collect();
        for (variant, arg) in variants.iter().zip(args) {
            if names(variant) != names(&axes) {
                return Err(SweepError::VariantNames { arg: arg.clone(), names: names(variant), first: names(&axes) });
            }
            for (axis, one) in axes.iter_mut().zip(variant) {
                axis.values.extend(one.values.iter().cloned());
            }
        }
        let count = variants.len() as u64;
        Ok(VariantSet { axes, listed: true, drawn: None, grid_size: count })
    }

    /// The axes, in order.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// How many variants the sweep has.
    pub fn len(&self) -> u64 {
        self.drawn.as_ref().map_or(self.grid_size, |d| d.len() as u64)
    }

    /// Whether the sweep has no variant (never: every axis has a value).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Variant `number` (below [`VariantSet::len`]).
    ///
    /// # Panics
    /// If `number` is out of range.
    pub fn get(&self, number: u64) -> Variant<'_> {
        if self.listed {
            let values = self.axes.iter().map(|a| (a.name.as_str(), &a.values[number as usize])).collect();
            return Variant { number, values };
        }
        let mut cell = self.drawn.as_ref().map_or(number, |d| d[number as usize]);
        // The last axis varies fastest, as in nested loops written in the axes' order.
        let mut values = Vec::with_capacity(self.axes.len());
        for axis in self.axes.iter().rev() {
            let n = axis.values.len() as u64;
            values.push((axis.name.as_str(), &axis.values[(cell % n) as usize]));
            cell /= n;
        }
        values.reverse();
        Variant { number, values }
    }

    /// Every variant, in order, computed one at a time.
    pub fn iter(&self) -> impl Iterator<Item = Variant<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// `count` distinct numbers below `size` (count < size), sorted: Floyd's
/// algorithm, so that only the drawn numbers are held.
fn draw(count: u64, size: u64, seed: u64) -> Vec<u64> {
    let mut rng = SplitMix64(seed);
    let mut chosen = HashSet::with_capacity(count as usize);
    for j in size - count..size {
        let t = rng.below(j + 1);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    let mut drawn: Vec<u64> = chosen.into_iter().collect();
    drawn.sort_unstable();
    drawn
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(axes: &[&str], selection: Selection) -> Result<VariantSet, SweepError> {
        VariantSet::new(axes.iter().map(|a| Axis::parse(a).unwrap()).collect(), &selection)
    }

    fn texts(v: &Variant<'_>) -> Vec<String> {
        v.values.iter().map(|(n, v)| format!("{n}={}", v.text)).collect()
    }

    #[test]
    fn a_grid_runs_like_nested_loops_in_the_axes_order() {
        let grid = set(&["fast=1,2", "slow=10:30:10"], Selection::Grid).unwrap();
        assert_eq!(grid.len(), 6); // 2 x 3
        let all: Vec<Vec<String>> = grid.iter().map(|v| texts(&v)).collect();
        assert_eq!(all[0], ["fast=1", "slow=10"]);
        assert_eq!(all[1], ["fast=1", "slow=20"]);
        assert_eq!(all[3], ["fast=2", "slow=10"]);
        assert_eq!(all[5], ["fast=2", "slow=30"]);
        assert_eq!(grid.get(4).number, 4);
    }

    #[test]
    fn random_draws_are_distinct_reproducible_and_cover_a_small_grid() {
        let axes = ["a=1:100:1", "b=1:100:1"];
        let one = set(&axes, Selection::Random { count: 50, seed: 7 }).unwrap();
        let again = set(&axes, Selection::Random { count: 50, seed: 7 }).unwrap();
        let other = set(&axes, Selection::Random { count: 50, seed: 8 }).unwrap();
        let cells = |s: &VariantSet| s.iter().map(|v| texts(&v)).collect::<Vec<_>>();
        assert_eq!(one.len(), 50);
        assert_eq!(cells(&one), cells(&again));
        assert_ne!(cells(&one), cells(&other));
        let distinct: HashSet<Vec<String>> = cells(&one).into_iter().collect();
        assert_eq!(distinct.len(), 50);
        let small = set(&["a=1,2,3"], Selection::Random { count: 10, seed: 1 }).unwrap();
        assert_eq!(small.len(), 3, "more draws than the grid has: the whole grid");
    }

    #[test]
    fn explicit_variants_run_as_listed() {
        let args = ["fast=5,slow=20".to_string(), "fast=8,slow=20".into(), "fast=5,slow=40".into()];
        let parsed = args.iter().map(|a| super::super::axis::parse_variant(a).unwrap()).collect();
        let set = VariantSet::listed(parsed, &args).unwrap();
        assert_eq!(set.len(), 3);
        let all: Vec<Vec<String>> = set.iter().map(|v| texts(&v)).collect();
        assert_eq!(all, [["fast=5", "slow=20"], ["fast=8", "slow=20"], ["fast=5", "slow=40"]]);
        let args = ["fast=5,slow=20".to_string(), "slow=20,fast=8".into()];
        let parsed = args.iter().map(|a| super::super::axis::parse_variant(a).unwrap()).collect();
        let err = VariantSet::listed(parsed, &args).unwrap_err().to_string();
        assert!(err.contains("'slow=20,fast=8' names slow, fast, but the first --variant names fast, slow"), "{err}");
    }

    #[test]
    fn oversized_and_malformed_sweeps_are_refused_before_anything_runs() {
        let err = set(&["a=1:1000:1", "b=1:1000:1", "c=1,2"], Selection::Grid).unwrap_err();
        assert!(err.to_string().contains("more than 1000000 variants"), "{err}");
        // Drawing from a huge grid is fine; drawing too many is not.
        assert_eq!(set(&["a=1:1000000:1", "b=1:1000:1"], Selection::Random { count: 5, seed: 1 }).unwrap().len(), 5);
        let err = set(&["a=1:1000:1", "b=1:2000:1"], Selection::Random { count: 1_000_001, seed: 1 }).unwrap_err();
        assert!(err.to_string().contains("--random 1000001"), "{err}");
        assert!(matches!(set(&[], Selection::Grid), Err(SweepError::NoAxes)));
        assert!(matches!(set(&["a=1", "a=2"], Selection::Grid), Err(SweepError::DuplicateAxis(a)) if a == "a"));
    }
}
