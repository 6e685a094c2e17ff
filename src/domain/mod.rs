//! Plain types shared by every layer: time, bars, symbols, orders, trades. No I/O here.

mod bar;
mod cancel;
mod equity_curve;
mod hash;
mod large_vec;
pub mod num;
mod order;
mod position;
mod price;
mod symbol;
mod time;
mod trade;

pub use bar::{Bar, PriceField};
pub use cancel::CancelToken;
pub use equity_curve::EquityCurve;
pub use hash::{content_hash, HashingReader};
pub use large_vec::large_vec;
pub use order::{ExitLevel, ExitReason, Exits, Order, OrderId, OrderKind, OrderRequest, OrderSize, Side, TrailOffset};
pub use position::PositionView;
pub use price::Price;
pub use symbol::{is_valid_symbol, Symbol, MAX_SYMBOL_LEN, SYMBOL_RULE};
pub use time::Timestamp;
pub use trade::{EquityPoint, PositionSide, Trade};
