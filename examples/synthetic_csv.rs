//! Writes N synthetic one-minute bars as CSV to stdout, for benchmarks:
//! `cargo run --release --example synthetic_csv -- 1000000 > /tmp/bars.csv`.

use std::io::{BufWriter, Write};

use backtester::data::synthetic::random_walk;
use backtester::domain::Timestamp;

fn main() -> std::io::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let bars = random_walk(n, 42, Timestamp(1_600_000_000_000), 60_000);
    let mut out = BufWriter::new(std::io::stdout().lock());
    writeln!(out, "Timestamp,Open,High,Low,Close,Volume")?;
    for b in &bars {
        writeln!(out, "{},{},{},{},{},{}", b.ts.to_text(), b.open(), b.high(), b.low(), b.close(), b.volume)?;
    }
    out.flush()
}
