//! The raw host imports of ABI version 4 (import module `bt`), exactly as listed in
//! `plugins/README.md`.
//!
//! Everything here is `unsafe` to call: strings are `(ptr, len)` pairs of UTF-8 in this module's
//! linear memory, and any misuse (an unknown symbol or handle, a `k` beyond the lookback, an
//! out-of-range pointer, an invalid order) traps in the host. Prefer the safe wrappers on
//! [`Ctx`](crate::Ctx) and [`Params`](crate::Params); this module is public for tests and for the
//! rare call the safe API does not cover.

#[link(wasm_import_module = "bt")]
extern "C" {
    /// Declares an integer parameter with its default (only in `bt_params`).
    pub fn declare_int(name_ptr: i32, name_len: i32, default: i64);
    /// Declares a float parameter with its default (only in `bt_params`).
    pub fn declare_float(name_ptr: i32, name_len: i32, default: f64);
    /// Declares a boolean parameter with its default, 0 or 1 (only in `bt_params`).
    pub fn declare_bool(name_ptr: i32, name_len: i32, default: i32);
    /// Declares a text parameter with its default (only in `bt_params`).
    pub fn declare_text(name_ptr: i32, name_len: i32, value_ptr: i32, value_len: i32);

    /// The value of an integer parameter.
    pub fn param_int(name_ptr: i32, name_len: i32) -> i64;
    /// The value of an integer or float parameter, as a float.
    pub fn param_float(name_ptr: i32, name_len: i32) -> f64;
    /// The value of a boolean parameter: 0 or 1.
    pub fn param_bool(name_ptr: i32, name_len: i32) -> i32;
    /// Writes up to `out_cap` bytes of a text parameter at `out_ptr`; returns its full length.
    pub fn param_text(name_ptr: i32, name_len: i32, out_ptr: i32, out_cap: i32) -> i32;

    /// Declares an indicator (only in `bt_init`) and returns the handle of its first output.
    ///
    /// `kind` is one of `sma ema wma rsi stddev highest lowest roc atr macd bollinger`; `source`
    /// 0 open, 1 high, 2 low, 3 close, 4 volume; `a` the period (`macd`: `a` fast, `b` slow, `c`
    /// signal); `k` Bollinger's width. Unused arguments must be 0.
    pub fn indicator(
        name_ptr: i32,
        name_len: i32,
        kind_ptr: i32,
        kind_len: i32,
        sym: i32,
        source: i32,
        a: i32,
        b: i32,
        c: i32,
        k: f64,
    ) -> i32;
    /// Asks for at least `bars` bars of history per symbol (only in `bt_init`).
    pub fn lookback(bars: i32);

    /// How many symbols the run has.
    pub fn symbol_count() -> i32;
    /// Writes up to `out_cap` bytes of the symbol's name at `out_ptr`; returns its full length.
    pub fn symbol_name(sym: i32, out_ptr: i32, out_cap: i32) -> i32;
    /// 1 if the symbol has a bar at the current timestamp, else 0.
    pub fn has_bar(sym: i32) -> i32;
    /// A field of the symbol's bar `k` bars back (0 open, 1 high, 2 low, 3 close, 4 volume);
    /// NaN if there is none (and volume is NaN for data without a Volume column).
    pub fn bar(sym: i32, k: i32, field: i32) -> f64;
    /// The time of the symbol's bar `k` bars back in epoch seconds; `i64::MIN` if there is none.
    pub fn bar_time(sym: i32, k: i32) -> i64;

    /// The current timestamp in epoch seconds.
    pub fn time() -> i64;
    /// The index of the current step (0 on the first bar).
    pub fn bar_index() -> i64;
    /// A calendar part of the current time: 0 year, 1 month, 2 day, 3 weekday (1 = Monday),
    /// 4 hour, 5 minute.
    pub fn calendar(part: i32) -> i64;

    /// An indicator output `k` bars back; NaN while it is not ready.
    pub fn ind(handle: i32, k: i32) -> f64;
    /// 1 if indicator `a` crossed above indicator `b` on this bar, -1 if below, 0 otherwise.
    pub fn cross(a: i32, b: i32) -> i32;
    /// 1 if indicator `a` crossed above `level` on this bar, -1 if below, 0 otherwise.
    pub fn cross_level(a: i32, level: f64) -> i32;
    /// (v3) Shares `cap` indicator outputs' worth of memory at `ptr` (16 bytes each; `cap` 0 stops
    /// sharing): as each bar begins the host writes output `h`'s value now and one bar earlier
    /// as two little-endian f64 at `ptr + 16 h`, NaN where there is none. Returns how many outputs
    /// the run's indicators have.
    pub fn share_indicators(ptr: i32, cap: i32) -> i32;
    /// (v4) Inside `bt_on_bars`: ends the bar handed out last and begins the next one; 1 when a
    /// bar is ready for the strategy, 0 once the host's run of bars is done (return then).
    pub fn next_bar() -> i32;

    /// The symbol's position (signed quantity).
    pub fn position(sym: i32) -> f64;
    /// The symbol's average entry price; NaN when flat.
    pub fn avg_price(sym: i32) -> f64;
    /// The symbol's unrealized profit or loss.
    pub fn unrealized_pnl(sym: i32) -> f64;
    /// The account's cash.
    pub fn cash() -> f64;
    /// The account's equity.
    pub fn equity() -> f64;
    /// How many orders are open for `sym`, or for all symbols when `sym = -1`.
    pub fn open_orders(sym: i32) -> i32;

    /// Places an order: `side` 1 buy, -1 sell; `kind` 0 market, 1 limit, 2 stop (`price` is
    /// ignored for market orders). Returns the order id.
    pub fn order(sym: i32, side: i32, qty: f64, kind: i32, price: f64) -> i64;
    /// Places a market order bringing the symbol's position to `fraction` of equity.
    pub fn order_target_percent(sym: i32, fraction: f64) -> i64;
    /// Places a market order closing the symbol's position.
    pub fn close_position(sym: i32) -> i64;
    /// Cancels an open order: 1 if it was open, else 0.
    pub fn cancel(id: i64) -> i32;
    /// Cancels the open orders of `sym`, or of all symbols when `sym = -1`; returns how many.
    pub fn cancel_all(sym: i32) -> i32;

    // --- added in ABI version 2 -----------------------------------------------------------------

    /// Places an entry with attached exits (a bracket). `side`, `kind` and `price` as in
    /// [`order`]; each exit is a (kind, value) pair: stop-loss and take-profit kinds 0 none,
    /// 1 price, 2 fraction of the fill price; trail kind 0 none, 1 amount, 2 fraction.
    pub fn order_bracket(
        sym: i32,
        side: i32,
        qty: f64,
        kind: i32,
        price: f64,
        sl_kind: i32,
        sl: f64,
        tp_kind: i32,
        tp: f64,
        trail_kind: i32,
        trail: f64,
    ) -> i64;
    /// Places a trailing stop: `kind` 1 amount, 2 fraction of the best price.
    pub fn order_trailing_stop(sym: i32, side: i32, qty: f64, kind: i32, value: f64) -> i64;
    /// Rebalances to target weights: `len` (the symbol count) little-endian f64 weights at `ptr`,
    /// one per symbol; returns how many orders were placed.
    pub fn rebalance(ptr: i32, len: i32) -> i32;
    /// (v4) As `rebalance`, and writes the ids of the orders placed as little-endian i64 at
    /// `out`, which must have room for `len` of them (checked before any order is placed);
    /// returns how many it wrote.
    pub fn rebalance_ids(ptr: i32, len: i32, out: i32) -> i32;
    /// Units of `sym` worth `fraction` of equity at its latest close; NaN before its first bar.
    pub fn qty_for_fraction(sym: i32, fraction: f64) -> f64;
    /// Units such that one volatility (indicator `handle`, e.g. an ATR) moves equity by `fraction`;
    /// NaN while the indicator is not ready.
    pub fn qty_for_risk(fraction: f64, handle: i32) -> f64;
    /// 1 on the first step of a new period: 0 day, 1 week, 2 month.
    pub fn schedule(period: i32) -> i32;
    /// Declares `sym` resampled to the interval named at (`ptr`, `len`), e.g. "1h" (only in
    /// `bt_init`); returns the timeframe handle.
    pub fn timeframe(sym: i32, ptr: i32, len: i32) -> i32;
    /// A field of the completed coarse bar `k` back (0 open … 4 volume); NaN if there is none.
    pub fn tf_bar(handle: i32, k: i32, field: i32) -> f64;
    /// The start time of the completed coarse bar `k` back in epoch seconds; `i64::MIN` if none.
    pub fn tf_bar_time(handle: i32, k: i32) -> i64;

    /// Adds a line to the run's log.
    pub fn log(ptr: i32, len: i32);
    /// Sets the message reported if the current export returns non-zero or traps.
    pub fn fail(ptr: i32, len: i32);
}
