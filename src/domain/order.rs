//! Orders as the broker keeps them: what to trade, how much, at what price.

use rust_decimal::Decimal;
use serde::Serialize;

use super::Timestamp;

/// Identifies an order within one run; ids increase in submission order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OrderId(pub u64);

/// Direction of a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Adds the quantity to the position (grows a long or reduces a short).
    Buy,
    /// Takes the quantity off the position (reduces a long or grows a short).
    Sell,
}

impl Side {
    /// +1 for buys, -1 for sells: the sign a fill adds to a position.
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }
}

/// How an order is triggered and priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "price", rename_all = "lowercase")]
pub enum OrderKind {
    /// At the next available price (the next bar's open, or this bar's close
    /// with trade-on-close).
    Market,
    /// At the limit price or better.
    Limit(Decimal),
    /// Becomes a market order once the price trades through the stop.
    Stop(Decimal),
    /// A stop that follows the best price seen since it was placed, `offset`
    /// behind it: `stop` is the current level and `extreme` the best price
    /// (the highest high for a sell stop, the lowest low for a buy stop).
    TrailingStop {
        /// How far the stop trails the best price.
        offset: TrailOffset,
        /// The current stop level.
        stop: Decimal,
        /// The best price seen since the order was placed.
        extreme: Decimal,
    },
}

/// How far a trailing stop trails the best price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum TrailOffset {
    /// A fixed price distance (> 0).
    Amount(Decimal),
    /// A fraction of the best price (0 < f < 1).
    Fraction(Decimal),
}

impl TrailOffset {
    /// The stop level for a stop order on `side` whose best price is
    /// `extreme`: below it for sells, above it for buys.
    pub fn level(self, side: Side, extreme: Decimal) -> Decimal {
        let distance = match self {
            TrailOffset::Amount(a) => a,
            TrailOffset::Fraction(f) => extreme * f,
        };
        match side {
            Side::Sell => extreme - distance,
            Side::Buy => extreme + distance,
        }
    }
}

/// Where an attached exit of a bracket order sits: an absolute price or a
/// fraction of the entry's fill price away from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum ExitLevel {
    /// An absolute price.
    Price(Decimal),
    /// `0 < f`; below 1 for a long's stop and a short's target.
    Fraction(Decimal),
}

/// The exits a bracket entry attaches to the position it opens. They are
/// created when the entry fills, for its filled quantity, on the other
/// side, and form one one-cancels-others group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Exits {
    /// Where a stop order closes the position at a loss; `None` for no stop-loss.
    pub stop_loss: Option<ExitLevel>,
    /// Where a limit order closes the position at a profit; `None` for no take-profit.
    pub take_profit: Option<ExitLevel>,
    /// How far a trailing stop follows the best price; `None` for no trailing stop.
    pub trailing: Option<TrailOffset>,
}

impl Exits {
    /// True when no exit is set.
    pub fn is_empty(&self) -> bool {
        self.stop_loss.is_none() && self.take_profit.is_none() && self.trailing.is_none()
    }
}

/// Why a position (or part of it) was closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// An order the strategy placed itself.
    #[default]
    Signal,
    /// The stop-loss of a bracket.
    StopLoss,
    /// The take-profit of a bracket.
    TakeProfit,
    /// A trailing stop attached to a bracket.
    TrailingStop,
    /// The broker liquidated the account because equity fell below the
    /// maintenance margin.
    MarginCall,
    /// The run ended with the position open.
    EndOfRun,
}

impl ExitReason {
    /// The reason as stored and shown (`stop_loss`, `end_of_run`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Signal => "signal",
            ExitReason::StopLoss => "stop_loss",
            ExitReason::TakeProfit => "take_profit",
            ExitReason::TrailingStop => "trailing_stop",
            ExitReason::MarginCall => "margin_call",
            ExitReason::EndOfRun => "end_of_run",
        }
    }

    /// Every reason, in a fixed order: stored trades number them by it, so
    /// new reasons are appended, never inserted.
    pub const ALL: [ExitReason; 6] = [
        ExitReason::Signal,
        ExitReason::StopLoss,
        ExitReason::TakeProfit,
        ExitReason::TrailingStop,
        ExitReason::MarginCall,
        ExitReason::EndOfRun,
    ];

    /// The reason named by [`ExitReason::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// How much an order trades.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSize {
    /// A fixed quantity (always > 0) in the given direction.
    Quantity {
        /// Buy or sell.
        side: Side,
        /// How many units to trade, > 0.
        qty: Decimal,
    },
    /// Trade whatever brings the position to this fraction of equity, sized
    /// at fill time; 0 closes the position, negative fractions are shorts.
    TargetPercent(Decimal),
}

/// An order accepted by the broker and waiting to fill.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Order {
    /// The order's id, unique within the run.
    pub id: OrderId,
    /// Index of the symbol in the run's universe.
    pub symbol: usize,
    /// How much it trades.
    pub size: OrderSize,
    /// How it is triggered and priced.
    pub kind: OrderKind,
    /// Engine step (timestamp index) on which the strategy placed it.
    pub placed_step: usize,
    /// Timestamp of the engine step on which the strategy placed it.
    pub placed_ts: Timestamp,
    /// `Signal` for the strategy's own orders; the exit's kind for an
    /// attached exit, which only ever reduces its position (it shrinks to
    /// the position and is dropped once the position is flat).
    pub role: ExitReason,
    /// The one-cancels-others group (the entry's id) of an attached exit.
    pub oco: Option<OrderId>,
    /// The opening of the position an attached exit protects (the broker
    /// ledger's serial): once that position is flat or turned, the exit is
    /// dropped, even when a new position opened in the same step.
    pub protects: Option<u64>,
    /// Exits to attach when this order fills.
    pub exits: Option<Exits>,
}

impl Order {
    /// Whether this order may only reduce a position (an attached exit).
    pub fn reduce_only(&self) -> bool {
        self.role != ExitReason::Signal
    }
}

/// What a strategy asks the broker to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderRequest {
    /// Index of the symbol in the run's universe.
    pub symbol: usize,
    /// How much to trade.
    pub size: OrderSize,
    /// How the order is triggered and priced.
    pub kind: OrderKind,
    /// Exits to attach to the position once this order fills (a bracket).
    pub exits: Exits,
}

impl OrderRequest {
    /// A request without attached exits.
    pub fn new(symbol: usize, size: OrderSize, kind: OrderKind) -> Self {
        OrderRequest { symbol, size, kind, exits: Exits::default() }
    }
}
