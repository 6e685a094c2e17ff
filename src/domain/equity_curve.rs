//! The equity curve of a run, stored compactly.
//!
//! Equity changes at every close while a position is open, but cash and
//! exposure change only at fills. So the curve keeps one exact equity per
//! step (16 bytes) and cash and exposure only where they change: a million
//! steps take 16 MB instead of 36, which the allocator can reuse from one
//! run to the next instead of mapping (and zero-filling) fresh pages.

use rust_decimal::Decimal;

use super::EquityPoint;

/// Cash and exposure from `step` on, until the next change.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Change {
    step: usize,
    cash: Decimal,
    exposed: bool,
}

impl Change {
    /// Whether `point` has this change's cash (the same representation, so
    /// that outputs read back exactly what the broker held) and exposure.
    fn holds(&self, point: &EquityPoint) -> bool {
        self.exposed == point.exposed && self.cash.serialize() == point.cash.serialize()
    }
}

/// One [`EquityPoint`] per engine step, in step order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EquityCurve {
    equity: Vec<Decimal>,
    /// Ascending by step; the first (if any) is at step 0.
    changes: Vec<Change>,
}

impl EquityCurve {
    /// An empty curve with room for `steps` points.
    pub fn with_capacity(steps: usize) -> Self {
        EquityCurve { equity: Vec::with_capacity(steps), changes: Vec::new() }
    }

    /// Appends the next step's point.
    #[inline]
    pub fn push(&mut self, point: EquityPoint) {
        let step = self.equity.len();
        self.equity.push(point.equity);
        if !self.changes.last().is_some_and(|c| c.holds(&point)) {
            self.changes.push(Change { step, cash: point.cash, exposed: point.exposed });
        }
    }

    /// Replaces the last point (the run's end, once everything is closed).
    ///
    /// # Panics
    /// If the curve is empty.
    pub fn set_last(&mut self, point: EquityPoint) {
        let step = self.equity.len() - 1;
        self.equity[step] = point.equity;
        if self.changes.last().is_some_and(|c| c.step == step) {
            self.changes.pop();
        }
        if !self.changes.last().is_some_and(|c| c.holds(&point)) {
            self.changes.push(Change { step, cash: point.cash, exposed: point.exposed });
        }
    }

    /// Number of points (steps).
    pub fn len(&self) -> usize {
        self.equity.len()
    }

    /// Whether the curve has no points.
    pub fn is_empty(&self) -> bool {
        self.equity.is_empty()
    }

    /// The equity of every step.
    pub fn amounts(&self) -> &[Decimal] {
        &self.equity
    }

    /// How many steps closed with a position open.
    pub fn exposed_steps(&self) -> usize {
        let ends = self.changes.iter().skip(1).map(|c| c.step).chain([self.equity.len()]);
        self.changes.iter().zip(ends).filter(|(c, _)| c.exposed).map(|(c, end)| end - c.step).sum()
    }

    /// The point of `step`, if the curve reaches it.
    pub fn get(&self, step: usize) -> Option<EquityPoint> {
        let equity = *self.equity.get(step)?;
        let change = &self.changes[self.changes.partition_point(|c| c.step <= step) - 1];
        Some(EquityPoint { equity, cash: change.cash, exposed: change.exposed })
    }

    /// The last point.
    pub fn last(&self) -> Option<EquityPoint> {
        self.get(self.equity.len().checked_sub(1)?)
    }

    /// Every point, in step order.
    pub fn iter(&self) -> impl Iterator<Item = EquityPoint> + '_ {
        let mut change = 0;
        self.equity.iter().enumerate().map(move |(step, &equity)| {
            if self.changes.get(change + 1).is_some_and(|c| c.step == step) {
                change += 1;
            }
            let c = &self.changes[change];
            EquityPoint { equity, cash: c.cash, exposed: c.exposed }
        })
    }
}

impl FromIterator<EquityPoint> for EquityCurve {
    fn from_iter<I: IntoIterator<Item = EquityPoint>>(points: I) -> Self {
        let mut curve = EquityCurve::default();
        for point in points {
            curve.push(point);
        }
        curve
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn point(equity: Decimal, cash: Decimal, exposed: bool) -> EquityPoint {
        EquityPoint { equity, cash, exposed }
    }

    #[test]
    fn reads_back_every_point_and_stores_cash_only_where_it_changes() {
        let points = vec![
            point(dec!(100), dec!(100), false),
            point(dec!(100), dec!(100), false),
            point(dec!(101), dec!(0.5), true),
            point(dec!(99), dec!(0.5), true),
            point(dec!(98), dec!(0.50), true), // same value, another representation: kept as given
            point(dec!(97), dec!(97), false),
        ];
        let curve: EquityCurve = points.iter().copied().collect();
        assert_eq!(curve.len(), 6);
        assert_eq!(curve.changes.len(), 4);
        assert_eq!(curve.iter().collect::<Vec<_>>(), points);
        for (i, p) in points.iter().enumerate() {
            assert_eq!(curve.get(i), Some(*p));
            assert_eq!(curve.get(i).unwrap().cash.to_string(), p.cash.to_string());
        }
        assert_eq!(curve.get(6), None);
        assert_eq!(curve.last(), Some(points[5]));
        assert_eq!(curve.amounts(), points.iter().map(|p| p.equity).collect::<Vec<_>>());
        assert_eq!(curve.exposed_steps(), 3);
        assert_eq!(EquityCurve::default().exposed_steps(), 0);
    }

    #[test]
    fn the_last_point_can_be_replaced() {
        let mut curve: EquityCurve =
            [point(dec!(100), dec!(100), false), point(dec!(110), dec!(5), true)].into_iter().collect();
        curve.set_last(point(dec!(109), dec!(109), false));
        assert_eq!(curve.last(), Some(point(dec!(109), dec!(109), false)));
        assert_eq!(curve.get(0), Some(point(dec!(100), dec!(100), false)));
        // Back to the previous change's cash and exposure: no change of its own.
        curve.set_last(point(dec!(100), dec!(100), false));
        assert_eq!(curve.changes.len(), 1);
        assert_eq!(curve.iter().collect::<Vec<_>>(), vec![point(dec!(100), dec!(100), false); 2]);
        assert!(EquityCurve::default().last().is_none());
    }
}
