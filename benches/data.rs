//! Loading data: parsing a CSV of 1,000,000 synthetic one-minute bars (the
//! file `examples/synthetic_csv.rs` writes, 45 MB), and reading the same bars
//! back from the cache of parsed bars.
//!
//! Run with `cargo bench --bench data`; figures are in benches/README.md.

use std::io::Write;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use backtester::data::synthetic::random_walk;
use backtester::data::{parse_csv, LoadOptions, Loader};
use backtester::domain::Timestamp;

const BARS: usize = 1_000_000;

/// The CSV text of `BARS` synthetic bars, as the example writes it.
fn csv_text() -> Vec<u8> {
    let bars = random_walk(BARS, 42, Timestamp(1_600_000_000_000), 60_000);
    let mut out = Vec::with_capacity(BARS * 48);
    writeln!(out, "Timestamp,Open,High,Low,Close,Volume").expect("writing to memory");
    for b in &bars {
        writeln!(out, "{},{},{},{},{},{}", b.ts.to_text(), b.open(), b.high(), b.low(), b.close(), b.volume)
            .expect("writing to memory");
    }
    out
}

fn load(c: &mut Criterion) {
    let text = csv_text();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-data");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let file = dir.join("bars1m.csv");
    std::fs::write(&file, &text).expect("the CSV is written");

    let mut group = c.benchmark_group("load_1m_bars");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BARS as u64));
    group.bench_function("parse_csv", |b| {
        b.iter(|| parse_csv(text.as_slice(), "bars1m.csv").expect("the CSV parses"));
    });
    let uncached = Loader::new(LoadOptions::default(), None);
    group.bench_function("file_uncached", |b| {
        b.iter(|| {
            // Parsed, then hashed beside (waited for: as a run's manifest does).
            let loaded = uncached.load(&file).expect("the file loads");
            loaded.content_hash.get().expect("the file is hashed");
            loaded
        });
    });
    let cached = Loader::new(LoadOptions::default(), Some(dir.join("cache")));
    assert!(!cached.load(&file).expect("the file loads").cached, "the first load parses");
    group.bench_function("file_cached", |b| {
        b.iter(|| {
            let loaded = cached.load(&file).expect("the file loads");
            assert!(loaded.cached);
            loaded
        });
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
