//! The portfolio part of the strategy API: bracket and trailing orders,
//! rebalancing to target weights, sizing helpers and schedules. Shared by
//! every runtime, so Rhai scripts and WASM plugins get the same answers.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::broker::{floor_units, MAX_TARGET_FRACTION};
use crate::domain::num::{from_f64, to_f64};
use crate::domain::{Exits, OrderId, OrderKind, OrderRequest, OrderSize, Side, TrailOffset};

use super::ctx::{decimal, PriceKind};
use super::schedule::{starts_period, Period};
use super::{CtxError, IndicatorRef, StrategyCtx};

impl StrategyCtx {
    /// Places an entry with attached exits (a bracket): once it fills, a
    /// stop-loss and/or take-profit (or a trailing stop) for the filled
    /// quantity wait on the other side, and the first to fill cancels the
    /// rest.
    ///
    /// # Errors
    /// Non-finite numbers, no exit at all, or what the broker refuses.
    pub fn order_bracket(
        &self,
        symbol: usize,
        side: Side,
        qty: f64,
        entry: PriceKind,
        exits: Exits,
    ) -> Result<OrderId, CtxError> {
        if exits.is_empty() {
            return Err(CtxError::Order(crate::broker::BrokerError::BadExit(
                "a bracket needs a stop-loss, a take-profit or a trailing stop".into(),
            )));
        }
        let size = OrderSize::Quantity { side, qty: decimal("quantity", qty)? };
        let kind = entry.to_kind()?;
        self.submit(OrderRequest { symbol, size, kind, exits })
    }

    /// Places a trailing stop for `qty` units that starts `offset` away from
    /// `symbol`'s latest close and follows its best price.
    ///
    /// # Errors
    /// Non-finite numbers, no bar of the symbol yet, or a bad offset.
    pub fn order_trailing_stop(
        &self,
        symbol: usize,
        side: Side,
        qty: f64,
        offset: TrailOffset,
    ) -> Result<OrderId, CtxError> {
        let qty = decimal("quantity", qty)?;
        let kind = self.state().broker.trailing_stop(symbol, side, offset)?;
        self.submit(OrderRequest::new(symbol, OrderSize::Quantity { side, qty }, kind))
    }

    /// Rebalances the portfolio to target weights (fractions of equity,
    /// negative for shorts): a close for every held symbol whose weight is
    /// 0 or not given, then one target-percent order per non-zero weight,
    /// each in symbol order. At the fill, sales go before purchases.
    ///
    /// # Errors
    /// A symbol named twice, a non-finite weight, more non-zero weights than
    /// `max_positions`, or gross weights above the run's leverage.
    pub fn rebalance(&self, weights: &[(usize, f64)]) -> Result<Vec<OrderId>, CtxError> {
        let (count, leverage, max_positions, held) = {
            let state = self.state();
            let count = state.market.symbols().len();
            let held: Vec<bool> = (0..count).map(|s| !state.broker.position(s).qty.is_zero()).collect();
            (count, state.broker.config().leverage, state.broker.config().max_positions, held)
        };
        // One weight per symbol (unnamed = 0), so that the orders depend
        // only on the targets, not on how they were listed.
        let mut target = vec![None; count];
        for &(symbol, weight) in weights {
            let slot =
                target.get_mut(symbol).ok_or(CtxError::Order(crate::broker::BrokerError::UnknownSymbol(symbol)))?;
            if slot.is_some() {
                let name = self.state().market.symbols()[symbol].clone();
                return Err(CtxError::Rebalance(format!("rebalance names {name} twice")));
            }
            // Twelve places, towards zero: weights such as 1/3 written in
            // floating point then never add up to more than they should.
            let weight = decimal("weight", weight)?.round_dp_with_strategy(12, RoundingStrategy::ToZero);
            if weight.abs() > Decimal::from(MAX_TARGET_FRACTION) {
                return Err(CtxError::Rebalance(format!(
                    "rebalance weight {weight} is out of range (-{MAX_TARGET_FRACTION} to {MAX_TARGET_FRACTION})"
                )));
            }
            *slot = Some(weight);
        }
        let weight = |s: usize| target[s].unwrap_or(Decimal::ZERO);
        let gross: Decimal = (0..count).map(|s| weight(s).abs()).sum();
        if gross > leverage {
            return Err(CtxError::Rebalance(format!(
                "rebalance weights add up to {gross} of equity (gross), more than the leverage of {leverage}"
            )));
        }
        let holding = (0..count).filter(|&s| !weight(s).is_zero()).count();
        if let Some(max) = max_positions {
            if holding > max {
                return Err(CtxError::Rebalance(format!(
                    "rebalance asks for {holding} positions but max_positions is {max}"
                )));
            }
        }
        let mut ids = Vec::with_capacity(count);
        for s in (0..count).filter(|&s| held[s] && weight(s).is_zero()) {
            ids.push(self.close_position(s)?);
        }
        for s in (0..count).filter(|&s| !weight(s).is_zero()) {
            let request = OrderRequest::new(s, OrderSize::TargetPercent(weight(s)), OrderKind::Market);
            ids.push(self.submit(request)?);
        }
        Ok(ids)
    }

    /// Rebalances to equal weights `1 / n` across `symbols` (closing every
    /// other position).
    ///
    /// # Errors
    /// An empty set, or what [`StrategyCtx::rebalance`] refuses.
    pub fn equal_weight(&self, symbols: &[usize]) -> Result<Vec<OrderId>, CtxError> {
        if symbols.is_empty() {
            return Err(CtxError::Rebalance("equal_weight needs at least one symbol".into()));
        }
        let weight = 1.0 / symbols.len() as f64;
        let weights: Vec<(usize, f64)> = symbols.iter().map(|&s| (s, weight)).collect();
        self.rebalance(&weights)
    }

    /// Units of `symbol` worth `fraction` of equity at its latest close,
    /// rounded down to the run's unit (whole, or 8 decimal places); `None`
    /// before the symbol's first bar.
    ///
    /// # Errors
    /// A non-finite fraction.
    pub fn qty_for_fraction(&self, symbol: usize, fraction: f64) -> Result<Option<f64>, CtxError> {
        let fraction = decimal("fraction", fraction)?;
        let state = self.state();
        let Some(price) = state.broker.mark(symbol) else { return Ok(None) };
        let fractional = state.broker.config().fractional;
        let qty = fraction.abs().checked_mul(state.broker.equity()).and_then(|b| floor_units(b, price, fractional));
        Ok(Some(to_f64(qty.ok_or(CtxError::Overflow("qty_for_fraction"))?)))
    }

    /// Volatility targeting: units of `symbol` such that a move of one
    /// `volatility` (the current value of an ATR or a standard deviation of
    /// price, named by `indicator`) changes equity by `risk_fraction`:
    /// `floor(risk_fraction × equity / volatility)`. `None` while the
    /// indicator is not ready or is 0.
    ///
    /// # Errors
    /// A non-finite fraction or an undeclared indicator.
    pub fn qty_for_risk<'a>(
        &self,
        risk_fraction: f64,
        indicator: impl Into<IndicatorRef<'a>>,
    ) -> Result<Option<f64>, CtxError> {
        let risk = decimal("risk fraction", risk_fraction)?;
        let Some(volatility) = self.indicator(indicator, 0)? else { return Ok(None) };
        let Some(volatility) = from_f64(volatility).filter(|v| *v > Decimal::ZERO) else { return Ok(None) };
        let state = self.state();
        let fractional = state.broker.config().fractional;
        let qty = risk.abs().checked_mul(state.broker.equity()).and_then(|b| floor_units(b, volatility, fractional));
        Ok(Some(to_f64(qty.ok_or(CtxError::Overflow("qty_for_risk"))?)))
    }

    /// True on the first step of each day, week (ISO, from Monday) or month
    /// of the run's clock, and on the run's first step.
    pub fn schedule(&self, period: Period) -> bool {
        let state = self.state();
        starts_period(period, state.previous_ts, state.ts)
    }
}

impl PriceKind {
    /// The broker's order kind.
    ///
    /// # Errors
    /// A non-finite price.
    pub fn to_kind(self) -> Result<OrderKind, CtxError> {
        Ok(match self {
            PriceKind::Market => OrderKind::Market,
            PriceKind::Limit(p) => OrderKind::Limit(decimal("limit price", p)?),
            PriceKind::Stop(p) => OrderKind::Stop(decimal("stop price", p)?),
        })
    }
}
