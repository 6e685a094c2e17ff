//! Plain types shared by every layer: time, bars, symbols, orders, trades. No I/O here.

mod bar;
mod cancel;
mod equity_curve;
mod hash;
pub mod num;
mod order;
mod time;
mod trade;

pub use bar::{Bar, PriceField, Symbol};
pub use cancel::CancelToken;
pub use equity_curve::EquityCurve;
pub use hash::content_hash;
pub use order::{ExitLevel, ExitReason, Exits, Order, OrderId, OrderKind, OrderSize, Side, TrailOffset};
pub use time::Timestamp;
pub use trade::{EquityPoint, PositionSide, Trade};
