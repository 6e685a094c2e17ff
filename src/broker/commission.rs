//! Commission models: what one fill costs in fees.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::num::{mul, to_f64, POW10};

/// How fees are charged; one model per run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum CommissionModel {
    /// No fees.
    None,
    /// A fraction of the fill's notional (0.001 = 0.1 %).
    Percent {
        /// Fraction of the notional charged, 0 ≤ rate < 1.
        rate: Decimal,
    },
    /// A fee per unit traded, with a minimum per fill.
    PerUnit {
        /// Fee per unit traded, in the account currency.
        per_unit: Decimal,
        /// Least fee charged on one fill, in the account currency.
        minimum: Decimal,
    },
    /// The same fee for every fill.
    Fixed {
        /// Fee charged on each fill, in the account currency.
        amount: Decimal,
    },
}

impl CommissionModel {
    /// The fee for filling `qty` (> 0) units at `price`.
    pub fn fee(&self, qty: Decimal, price: Decimal) -> Decimal {
        match *self {
            CommissionModel::None => Decimal::ZERO,
            CommissionModel::Percent { rate } => mul(mul(qty, price), rate),
            CommissionModel::PerUnit { per_unit, minimum } => mul(qty, per_unit).max(minimum),
            CommissionModel::Fixed { amount } => amount,
        }
    }

    /// The largest quantity whose cost plus fee fits in `budget` at `price`,
    /// rounded down to whole units or to `fractional_dp` decimal places.
    /// For a percentage fee this is `floor(budget / (price * (1 + rate)))`.
    pub fn max_quantity(&self, budget: Decimal, price: Decimal, fractional: bool) -> Decimal {
        if budget <= Decimal::ZERO || price <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        let dp = if fractional { FRACTIONAL_DP } else { 0 };
        let exact = match *self {
            CommissionModel::None => floor_div(budget, price, dp),
            CommissionModel::Percent { rate } => floor_div(budget, price * (Decimal::ONE + rate), dp),
            CommissionModel::Fixed { amount } if budget > amount => floor_div(budget - amount, price, dp),
            CommissionModel::Fixed { .. } => Some(Decimal::ZERO),
            CommissionModel::PerUnit { .. } => None,
        };
        if let Some(qty) = exact {
            return qty;
        }
        let raw = match *self {
            CommissionModel::None => budget / price,
            CommissionModel::Percent { rate } => budget / (price * (Decimal::ONE + rate)),
            CommissionModel::PerUnit { per_unit, minimum } => {
                let proportional = budget / (price + per_unit);
                if proportional * per_unit >= minimum {
                    proportional
                } else {
                    (budget - minimum) / price
                }
            }
            CommissionModel::Fixed { amount } => (budget - amount) / price,
        };
        round_quantity(raw.max(Decimal::ZERO), fractional)
    }
}

/// The largest multiple q of 10^-dp with q × den ≤ num (num, den > 0),
/// normalised, found without a decimal division: an f64 estimate corrected
/// by exact multiplications. `None` when the estimate is out of the range
/// where that works (the caller then divides).
fn floor_div(num: Decimal, den: Decimal, dp: u32) -> Option<Decimal> {
    const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
    if num <= Decimal::ZERO || den <= Decimal::ZERO {
        return None;
    }
    let estimate = to_f64(num) / to_f64(den) * POW10[dp as usize];
    if !(estimate.is_finite() && (0.0..LIMIT).contains(&estimate)) {
        return None;
    }
    let fits = |q: i64| mul(Decimal::new(q, dp), den) <= num;
    // Truncation is the floor here (0 ≤ estimate < 2^53), without a call to libm's floor.
    let mut q = estimate as i64;
    for _ in 0..4 {
        if q > 0 && !fits(q) {
            q -= 1;
        } else if fits(q + 1) {
            q += 1;
        } else {
            return Some(Decimal::new(q, dp).normalize());
        }
    }
    None
}

/// `floor(num / den)` in the run's unit (whole, or [`FRACTIONAL_DP`]
/// places), exactly; `None` if the quotient is too large for a decimal.
/// 0 when `num ≤ 0`.
pub fn floor_units(num: Decimal, den: Decimal, fractional: bool) -> Option<Decimal> {
    if num <= Decimal::ZERO {
        return Some(Decimal::ZERO);
    }
    let dp = if fractional { FRACTIONAL_DP } else { 0 };
    floor_div(num, den, dp).or_else(|| num.checked_div(den).map(|q| round_quantity(q, fractional)))
}

/// Decimal places kept for fractional quantities.
pub const FRACTIONAL_DP: u32 = 8;

/// Rounds a non-negative quantity down to whole units, or to
/// [`FRACTIONAL_DP`] places when fractional quantities are allowed.
pub fn round_quantity(qty: Decimal, fractional: bool) -> Decimal {
    let dp = if fractional { FRACTIONAL_DP } else { 0 };
    qty.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::ToZero).normalize()
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn max_quantity_is_the_exact_floor_for_many_budgets_and_prices() {
        // A seeded generator: budgets and prices over several magnitudes.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |modulus: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % modulus
        };
        let models = [
            CommissionModel::None,
            CommissionModel::Percent { rate: dec!(0.001) },
            CommissionModel::Fixed { amount: dec!(4.95) },
        ];
        for _ in 0..3000 {
            let budget = Decimal::new(next(10_000_000_000) as i64 + 1, next(5) as u32);
            let price = Decimal::new(next(100_000_000) as i64 + 1, next(7) as u32);
            for model in &models {
                for fractional in [false, true] {
                    let q = model.max_quantity(budget, price, fractional);
                    let unit = if fractional { Decimal::new(1, FRACTIONAL_DP) } else { Decimal::ONE };
                    let cost = |q: Decimal| q * price + if q.is_zero() { Decimal::ZERO } else { model.fee(q, price) };
                    assert!(q >= Decimal::ZERO && (q / unit).fract().is_zero(), "{q}");
                    assert!(q.is_zero() || cost(q) <= budget, "{model:?} {budget} {price}: {q} overspends");
                    assert!(cost(q + unit) > budget, "{model:?} {budget} {price}: {q} is not the largest");
                }
            }
        }
    }

    #[test]
    fn fees_per_model() {
        let pct = CommissionModel::Percent { rate: dec!(0.001) };
        assert_eq!(pct.fee(dec!(10), dec!(100)), dec!(1)); // 10 * 100 * 0.001
        let per_unit = CommissionModel::PerUnit { per_unit: dec!(0.005), minimum: dec!(1) };
        assert_eq!(per_unit.fee(dec!(100), dec!(50)), dec!(1)); // 100 * 0.005 = 0.5 < min 1
        assert_eq!(per_unit.fee(dec!(1000), dec!(50)), dec!(5)); // 1000 * 0.005
        let fixed = CommissionModel::Fixed { amount: dec!(4.95) };
        assert_eq!(fixed.fee(dec!(1), dec!(1000)), dec!(4.95));
        assert_eq!(CommissionModel::None.fee(dec!(5), dec!(5)), dec!(0));
    }

    #[test]
    fn max_quantity_never_overspends() {
        let pct = CommissionModel::Percent { rate: dec!(0.01) };
        // 10000 / (99 * 1.01) = 100.01 -> 100; cost 9900 + fee 99 = 9999 <= 10000
        assert_eq!(pct.max_quantity(dec!(10000), dec!(99), false), dec!(100));
        // 10000 / 100 = 100 exactly with no fee
        assert_eq!(CommissionModel::None.max_quantity(dec!(10000), dec!(100), false), dec!(100));
        // fixed 10: (1000 - 10) / 30 = 33
        let fixed = CommissionModel::Fixed { amount: dec!(10) };
        assert_eq!(fixed.max_quantity(dec!(1000), dec!(30), false), dec!(33));
        // per unit 0.01 min 5: proportional 1000/10.01 = 99.9 -> fee 0.999 < 5,
        // so (1000 - 5) / 10 = 99.5 -> 99
        let per_unit = CommissionModel::PerUnit { per_unit: dec!(0.01), minimum: dec!(5) };
        assert_eq!(per_unit.max_quantity(dec!(1000), dec!(10), false), dec!(99));
        // fractional: 1000 / 3 = 333.33333333 (8 places, rounded down)
        assert_eq!(CommissionModel::None.max_quantity(dec!(1000), dec!(3), true), dec!(333.33333333));
        // a budget below the fixed fee buys nothing
        assert_eq!(fixed.max_quantity(dec!(5), dec!(1), false), dec!(0));
    }

    #[test]
    fn nothing_to_spend_or_no_price_buys_nothing() {
        // An account whose equity went to 0 or below asks for 0 units, never a negative quantity.
        assert_eq!(CommissionModel::None.max_quantity(dec!(0), dec!(10), false), dec!(0));
        assert_eq!(CommissionModel::None.max_quantity(dec!(-500), dec!(10), true), dec!(0));
        assert_eq!(CommissionModel::None.max_quantity(dec!(1000), dec!(0), false), dec!(0));
        assert_eq!(floor_units(dec!(0), dec!(10), false), Some(dec!(0)));
        assert_eq!(floor_units(dec!(-500), dec!(10), true), Some(dec!(0)));
        // A zero divisor is no quotient, not a panic.
        assert_eq!(floor_units(dec!(1000), dec!(0), false), None);
        assert_eq!(floor_units(dec!(1000), dec!(3), true), Some(dec!(333.33333333)));
        // 8 places, rounded down
    }
}
