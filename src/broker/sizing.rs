//! Sizing target-percent orders at fill time.

use rust_decimal::Decimal;

use super::CommissionModel;

/// The largest |fraction| a target-percent order may ask for: the largest
/// leverage a run may have (whether the account can carry it is the
/// margin check's business at the fill).
pub const MAX_TARGET_FRACTION: i64 = super::MAX_LEVERAGE;

/// The position that makes `fraction` of `equity` at `price`, fees included:
/// `floor(|fraction| * equity / (price * (1 + rate)))` for a percentage fee,
/// and likewise for the other models, with the sign of `fraction`.
pub fn target_quantity(
    fraction: Decimal,
    equity: Decimal,
    price: Decimal,
    commission: &CommissionModel,
    fractional: bool,
) -> Decimal {
    if fraction.is_zero() {
        return Decimal::ZERO;
    }
    let budget = fraction.abs() * equity;
    let qty = commission.max_quantity(budget, price, fractional);
    if fraction.is_sign_negative() {
        -qty
    } else {
        qty
    }
}
