//! Deterministic synthetic bars for benchmarks and tests: a seeded random
//! walk with valid OHLC ranges, prices in cents.

use crate::domain::{Bar, Price, Timestamp};

/// The walk stays below this many cents, far below what a [`Price`] holds
/// (wicks included).
const MAX_CENTS: i64 = 1 << 50;

/// `n` bars of a random walk starting at 100.00, one every `interval_ms`
/// from `start`. The same seed always gives the same bars.
pub fn random_walk(n: usize, seed: u64, start: Timestamp, interval_ms: i64) -> Vec<Bar> {
    let mut rng = SplitMix64(seed);
    let mut cents: i64 = 10_000;
    let mut bars = Vec::with_capacity(n);
    for i in 0..n {
        let open = cents;
        // Moves of up to ±1 % per bar, kept above 1.00.
        let step = (rng.next_f64() - 0.5) * 0.02 * open as f64;
        let close = (open + step.round() as i64).clamp(100, MAX_CENTS);
        let wick = |r: f64| (r * 0.005 * open as f64).round() as i64;
        let high = open.max(close) + wick(rng.next_f64());
        let low = (open.min(close) - wick(rng.next_f64())).max(50);
        let volume = 1_000.0 + (rng.next_f64() * 9_000.0).round();
        let prices = [open, high, low, close].map(|c| Price::saturating(c, 2));
        bars.push(Bar::new(Timestamp(start.0 + i as i64 * interval_ms), prices, volume));
        cents = close;
    }
    bars
}

/// SplitMix64 (Steele, Lea and Flood): tiny, fast, seedable, and the same
/// draws for a seed on every machine; good enough for test data and for a
/// sweep's random variants.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform below `n` (n > 0), without a modulo's bias worth counting
    /// (Lemire's multiply-shift).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_valid_and_repeatable() {
        let bars = random_walk(5_000, 7, Timestamp(0), 60_000);
        assert_eq!(bars, random_walk(5_000, 7, Timestamp(0), 60_000));
        for (i, b) in bars.iter().enumerate() {
            assert!(b.low() <= b.open().min(b.close()) && b.high() >= b.open().max(b.close()), "bar {i}");
            assert!(b.low() > rust_decimal::Decimal::ZERO);
            assert_eq!(b.ts, Timestamp(i as i64 * 60_000));
        }
    }
}
