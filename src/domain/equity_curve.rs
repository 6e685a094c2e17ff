//! The equity curve of a run, stored compactly.
//!
//! Equity changes at every close while a position is open, but cash and
//! exposure change only at fills. So the curve keeps one exact equity per
//! step and cash and exposure only where they change. An equity is kept in
//! 8 bytes, the way a bar keeps a price ([`Price`]'s mantissa and scale),
//! when it fits there (nearly always: its digits, without the point, make a
//! number below 2^58); one that does not goes to a side list, and the 8
//! bytes say where. A million steps take 8 MB instead of 36.

use std::fmt;

use rust_decimal::Decimal;

use super::price::SCALE_BITS;
use super::{EquityPoint, Price};

/// The low bits of a kept equity that mark it as an index into the side
/// list of wide amounts: all ones, a scale no [`Price`] has.
const WIDE: u64 = (1 << SCALE_BITS) - 1;

/// `amount` in 8 bytes: its [`Price`] bits, or [`WIDE`] and its index in
/// `wide` (where it is added). A negative zero is kept wide, so that every
/// amount reads back with its sign, scale and value.
#[inline]
fn pack(amount: Decimal, wide: &mut Vec<Decimal>) -> u64 {
    match Price::from_decimal(amount) {
        Some(price) if !(amount.is_zero() && amount.is_sign_negative()) => price.to_bits(),
        _ => {
            wide.push(amount);
            ((wide.len() as u64 - 1) << SCALE_BITS) | WIDE
        }
    }
}

/// The amount [`pack`] kept in `word`.
#[inline]
fn unpack(word: u64, wide: &[Decimal]) -> Decimal {
    match Price::from_bits(word) {
        Some(price) => price.decimal(),
        None => wide[(word >> SCALE_BITS) as usize],
    }
}

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

/// One [`EquityPoint`] per engine step, in step order. Compared and shown
/// by its points (a packed word is not a number).
#[derive(Clone, Default)]
pub struct EquityCurve {
    /// Each step's equity, packed (see [`pack`]).
    equity: Vec<u64>,
    /// The equities too wide for 8 bytes, in step order.
    wide: Vec<Decimal>,
    /// Ascending by step; the first (if any) is at step 0.
    changes: Vec<Change>,
}

impl EquityCurve {
    /// An empty curve with room for `steps` points.
    pub fn with_capacity(steps: usize) -> Self {
        EquityCurve { equity: super::large_vec(steps), wide: Vec::new(), changes: Vec::new() }
    }

    /// Appends the next step's point.
    #[inline]
    pub fn push(&mut self, point: EquityPoint) {
        let step = self.equity.len();
        self.equity.push(pack(point.equity, &mut self.wide));
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
        if Price::from_bits(self.equity[step]).is_none() {
            self.wide.pop(); // the last step's, the last wide amount
        }
        self.equity[step] = pack(point.equity, &mut self.wide);
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

    /// The equity of every step, in step order.
    pub fn amounts(&self) -> impl ExactSizeIterator<Item = Decimal> + Clone + '_ {
        self.equity.iter().map(|&word| unpack(word, &self.wide))
    }

    /// The equity of every step as the nearest f64, in step order: what
    /// [`num::to_f64`](super::num::to_f64) gives for each of
    /// [`amounts`](Self::amounts), without building the `Decimal`s.
    pub fn amounts_f64(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.equity.iter().map(|&word| match Price::from_bits(word) {
            Some(price) => price.to_f64(),
            None => super::num::to_f64(self.wide[(word >> SCALE_BITS) as usize]),
        })
    }

    /// The equity of `step`, if the curve reaches it.
    #[inline]
    pub fn amount(&self, step: usize) -> Option<Decimal> {
        Some(unpack(*self.equity.get(step)?, &self.wide))
    }

    /// How many steps closed with a position open.
    pub fn exposed_steps(&self) -> usize {
        let ends = self.changes.iter().skip(1).map(|c| c.step).chain([self.equity.len()]);
        self.changes.iter().zip(ends).filter(|(c, _)| c.exposed).map(|(c, end)| end - c.step).sum()
    }

    /// The point of `step`, if the curve reaches it.
    pub fn get(&self, step: usize) -> Option<EquityPoint> {
        let equity = self.amount(step)?;
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
        self.amounts().enumerate().map(move |(step, equity)| {
            if self.changes.get(change + 1).is_some_and(|c| c.step == step) {
                change += 1;
            }
            let c = &self.changes[change];
            EquityPoint { equity, cash: c.cash, exposed: c.exposed }
        })
    }
}

/// Equal when every point is: equities and cash as numbers (`1.5 == 1.50`,
/// as `Decimal`s compare), the same exposure.
impl PartialEq for EquityCurve {
    fn eq(&self, other: &EquityCurve) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for EquityCurve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
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
        assert_eq!(curve.amounts().collect::<Vec<_>>(), points.iter().map(|p| p.equity).collect::<Vec<_>>());
        assert_eq!(curve.exposed_steps(), 3);
        assert_eq!(EquityCurve::default().exposed_steps(), 0);
    }

    #[test]
    fn every_amount_reads_back_exactly_the_wide_ones_from_the_side_list() {
        let negative_zero = -Decimal::new(0, 2);
        assert!(negative_zero.is_sign_negative());
        let amounts = [
            dec!(100000.25),
            Decimal::MAX,                             // past 59 bits: wide
            dec!(99999.7500),                         // scale kept
            dec!(-12.5),                              // a loss past the cash
            dec!(0.1234567890123456789012345678),     // 28 digits: wide
            negative_zero,                            // wide, to keep its sign
            Decimal::new(Price::MAX_MANTISSA, 3),     // the largest that packs
            Decimal::new(Price::MAX_MANTISSA + 1, 3), // the smallest that does not
        ];
        let mut curve = EquityCurve::with_capacity(amounts.len());
        for &equity in &amounts {
            curve.push(point(equity, dec!(1), false));
        }
        assert_eq!(curve.wide, [Decimal::MAX, dec!(0.1234567890123456789012345678), negative_zero, amounts[7]]);
        for (i, (got, want)) in curve.amounts().zip(amounts).enumerate() {
            assert_eq!(got.serialize(), want.serialize(), "step {i}: {got} for {want}");
            assert_eq!(curve.amount(i).map(|d| d.serialize()), Some(want.serialize()));
        }
        assert_eq!(curve.amounts().len(), amounts.len());
        assert_eq!(curve.amount(amounts.len()), None);
        // In f64, bit for bit what converting each amount gives, packed or wide.
        let converted: Vec<u64> = curve.amounts_f64().map(f64::to_bits).collect();
        let expected: Vec<u64> = amounts.iter().map(|&a| crate::domain::num::to_f64(a).to_bits()).collect();
        assert_eq!(converted, expected);
        // Replacing a wide last point drops its side entry.
        curve.set_last(point(dec!(5), dec!(5), false));
        assert_eq!(curve.wide.len(), 3);
        curve.set_last(point(Decimal::MIN, dec!(5), false));
        assert_eq!((curve.wide.len(), curve.last().map(|p| p.equity)), (4, Some(Decimal::MIN)));
    }

    #[test]
    fn curves_compare_and_show_as_their_points() {
        let a: EquityCurve = [point(dec!(1.5), dec!(1), false), point(dec!(2), dec!(1), true)].into_iter().collect();
        let b: EquityCurve = [point(dec!(1.50), dec!(1.0), false), point(dec!(2), dec!(1), true)].into_iter().collect();
        assert_eq!(a, b, "as numbers, whatever the scales");
        let c: EquityCurve = [point(dec!(1.5), dec!(1), false), point(dec!(2), dec!(1), false)].into_iter().collect();
        assert_ne!(a, c, "the exposure differs");
        assert_ne!(a, EquityCurve::default());
        assert!(format!("{a:?}").contains("equity: 1.5"), "{a:?}");
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
