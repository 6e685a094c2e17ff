//! Human-readable label/value rows of [`Metrics`] for a printed table.

use rust_decimal::{Decimal, RoundingStrategy};

use super::Metrics;

/// Shown for a statistic that is undefined.
const NA: &str = "n/a";

impl Metrics {
    /// Label/value pairs for a table, in reading order: period, equity,
    /// returns and risk, drawdowns, trades. Percentages and ratios have 2
    /// decimals, money has 2 decimals (rounded half away from zero), spans of
    /// time are in the largest unit that fits (days, hours, minutes or
    /// seconds), undefined values are `"n/a"`.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let mut rows = vec![
            ("Start", self.start.to_string()),
            ("End", self.end.to_string()),
            ("Duration", span(self.duration_secs as f64)),
            ("Bars", self.bars.to_string()),
            ("Periods per year", num(self.periods_per_year)),
            ("Exposure time [%]", num(Some(self.exposure_pct))),
            ("Initial equity", money(self.initial_equity)),
            ("Final equity", money(self.final_equity)),
            ("Peak equity", money(self.peak_equity)),
            ("Net P&L", money(self.net_pnl)),
            ("Commissions", money(self.commission_total)),
            ("Return [%]", num(Some(self.return_pct))),
            ("Buy & hold return [%]", num(self.buy_hold_return_pct)),
            ("Return (ann.) [%]", num(self.annual_return_pct)),
            ("Volatility (ann.) [%]", num(self.annual_volatility_pct)),
            ("Sharpe ratio", num(self.sharpe)),
            ("Sortino ratio", num(self.sortino)),
            ("Calmar ratio", num(self.calmar)),
            ("Max drawdown [%]", num(Some(self.max_drawdown_pct))),
            ("Avg drawdown [%]", num(self.avg_drawdown_pct)),
            (
                "Max drawdown duration",
                bars_and_span(
                    Some(self.max_drawdown_duration_bars as f64),
                    Some(self.max_drawdown_duration_secs as f64),
                ),
            ),
            ("Trades", self.trades.to_string()),
            ("Win rate [%]", num(self.win_rate_pct)),
            ("Best trade [%]", num(self.best_trade_pct)),
            ("Worst trade [%]", num(self.worst_trade_pct)),
            ("Avg trade [%]", num(self.avg_trade_pct)),
            (
                "Max trade duration",
                bars_and_span(
                    self.max_trade_duration_bars.map(|b| b as f64),
                    self.max_trade_duration_secs.map(|s| s as f64),
                ),
            ),
            ("Avg trade duration", bars_and_span(self.avg_trade_duration_bars, self.avg_trade_duration_secs)),
            ("Profit factor", num(self.profit_factor)),
            ("Expectancy", self.expectancy.map_or_else(|| NA.to_string(), money)),
            ("SQN", num(self.sqn)),
            ("Margin calls", self.margin_calls.to_string()),
        ];
        if let Some(b) = &self.benchmark {
            let flat = if b.stats.flat { " (flat: no variance)" } else { "" };
            rows.extend([
                ("Benchmark", format!("{}{flat}", b.symbol)),
                ("Benchmark return [%]", num(Some(b.stats.return_pct))),
                ("Alpha (ann.) [%]", num(b.stats.alpha_annual_pct)),
                ("Beta", num(b.stats.beta)),
                ("Correlation", num(b.stats.correlation)),
                ("Tracking error (ann.) [%]", num(b.stats.tracking_error_pct)),
                ("Information ratio", num(b.stats.information_ratio)),
            ]);
        }
        rows
    }

    /// One row per symbol: `"Contribution AAPL"` → net PnL and its share
    /// of the return, for runs with more than one symbol.
    pub fn contribution_rows(&self) -> Vec<(String, String)> {
        if self.contributions.len() < 2 {
            return Vec::new();
        }
        self.contributions
            .iter()
            .map(|c| {
                let share = num(c.contribution_pct);
                (format!("P&L {} ({} trades)", c.symbol, c.trades), format!("{} ({share} %)", money(c.net_pnl)))
            })
            .collect()
    }
}

/// Two decimals, or `"n/a"`; never `"-0.00"`.
fn num(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() => no_negative_zero(format!("{x:.2}")),
        _ => NA.to_string(),
    }
}

/// Money to 2 decimals, rounded half away from zero.
fn money(d: Decimal) -> String {
    let rounded = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    no_negative_zero(format!("{rounded:.2}"))
}

/// `"12 bars (3.5 days)"`, or `"n/a"` if either part is missing.
fn bars_and_span(bars: Option<f64>, secs: Option<f64>) -> String {
    match (bars, secs) {
        (Some(b), Some(s)) => {
            let b = one_decimal(b);
            let unit = if b == "1" { "bar" } else { "bars" };
            format!("{b} {unit} ({})", span(s))
        }
        _ => NA.to_string(),
    }
}

/// A span of seconds in the largest unit it reaches, with at most one decimal:
/// `"180 days"`, `"2.5 days"`, `"4 hours"`, `"30 minutes"`, `"1 second"`.
fn span(secs: f64) -> String {
    let a = secs.abs();
    let (value, unit) = if a >= 86_400.0 {
        (secs / 86_400.0, "day")
    } else if a >= 3_600.0 {
        (secs / 3_600.0, "hour")
    } else if a >= 60.0 {
        (secs / 60.0, "minute")
    } else {
        (secs, "second")
    };
    let text = one_decimal(value);
    let plural = if text == "1" { "" } else { "s" };
    format!("{text} {unit}{plural}")
}

/// One decimal, with a trailing `.0` dropped: `3`, `2.5`.
fn one_decimal(x: f64) -> String {
    let s = no_negative_zero(format!("{x:.1}"));
    match s.strip_suffix(".0") {
        Some(whole) => whole.to_string(),
        None => s,
    }
}

/// Drops the sign of a value that rounded to zero (`"-0.00"` → `"0.00"`).
fn no_negative_zero(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn spans_pick_the_largest_unit() {
        assert_eq!(span(180.0 * 86_400.0), "180 days");
        assert_eq!(span(2.5 * 86_400.0), "2.5 days");
        assert_eq!(span(86_400.0), "1 day");
        assert_eq!(span(4.0 * 3_600.0), "4 hours");
        assert_eq!(span(90.0), "1.5 minutes");
        assert_eq!(span(1.0), "1 second");
        assert_eq!(span(0.0), "0 seconds");
    }

    #[test]
    fn numbers_and_money() {
        assert_eq!(num(Some(41.2345)), "41.23");
        assert_eq!(num(Some(-0.001)), "0.00");
        assert_eq!(num(None), "n/a");
        assert_eq!(num(Some(f64::NAN)), "n/a");
        assert_eq!(money(dec!(1234.005)), "1234.01");
        assert_eq!(money(dec!(-1234.005)), "-1234.01");
        assert_eq!(money(dec!(-0.004)), "0.00");
        assert_eq!(money(dec!(7)), "7.00");
        assert_eq!(bars_and_span(Some(123.0), Some(180.0 * 86_400.0)), "123 bars (180 days)");
        assert_eq!(bars_and_span(Some(1.0), Some(3_600.0)), "1 bar (1 hour)");
        assert_eq!(bars_and_span(None, None), "n/a");
    }
}
