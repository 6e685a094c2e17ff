//! Parquet data files, as pandas and polars write them, run like their CSV:
//! the files are written here with the `parquet` crate's own Arrow writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, TimestampNanosecondArray};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde_json::Value;

use crate::helpers::{fails, ok, repo, results_only};

/// data/GOOG.csv's rows: date (days since the epoch) and the five numbers, as floats.
fn goog_rows() -> Vec<(i32, [f64; 5])> {
    let text = std::fs::read_to_string(repo("data/GOOG.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let day = chrono_free_days(f[0]);
            let n = |i: usize| f[i].parse::<f64>().unwrap();
            (day, [n(1), n(2), n(3), n(4), n(5)])
        })
        .collect()
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (Howard Hinnant's `days_from_civil`).
fn chrono_free_days(date: &str) -> i32 {
    let (y, m, d): (i64, i64, i64) =
        (date[0..4].parse().unwrap(), date[5..7].parse().unwrap(), date[8..10].parse().unwrap());
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// Writes GOOG's rows as pandas' `df.set_index("Date").to_parquet()` does:
/// float prices, int64 volume, snappy, and the index (timestamp[ns]) last;
/// `edit` changes the columns first.
pub fn goog_as_pandas(path: &Path, edit: impl FnOnce(&mut Vec<(&'static str, ArrayRef)>)) {
    pandas_file(path, &goog_rows(), edit);
}

fn pandas_file(path: &Path, rows: &[(i32, [f64; 5])], edit: impl FnOnce(&mut Vec<(&'static str, ArrayRef)>)) {
    let column = |i: usize| -> ArrayRef { Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1[i]))) };
    let nanos = rows.iter().map(|r| i64::from(r.0) * 86_400_000_000_000);
    let mut columns: Vec<(&'static str, ArrayRef)> = vec![
        ("Open", column(0)),
        ("High", column(1)),
        ("Low", column(2)),
        ("Close", column(3)),
        ("Volume", Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1[4] as i64)))),
        ("Date", Arc::new(TimestampNanosecondArray::from_iter_values(nanos))),
    ];
    edit(&mut columns);
    write(path, columns, Compression::SNAPPY);
}

/// Writes `columns` as one Parquet file compressed with `compression`.
fn write(path: &Path, columns: Vec<(&'static str, ArrayRef)>, compression: Compression) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let properties =
        WriterProperties::builder().set_compression(compression).set_max_row_group_row_count(Some(1000)).build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("parquet");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(data: &str, extra: &[&str]) -> String {
    let data = format!("GOOG={data}");
    let mut args = vec!["run", "scripts/sma_cross.rhai", "--data", &data, "--json"];
    args.extend(extra);
    ok(&args)
}

#[test]
fn a_pandas_file_runs_like_its_csv() {
    let file = scratch("GOOG-pandas.parquet");
    goog_as_pandas(&file, |_| {});
    let csv = run("data/GOOG.csv", &[]);
    let parquet = run(file.to_str().unwrap(), &[]);
    let (a, b): (Value, Value) = (serde_json::from_str(&csv).unwrap(), serde_json::from_str(&parquet).unwrap());
    for key in ["final_equity", "trades", "sharpe", "return_pct", "max_drawdown_pct"] {
        assert_eq!(b[key], a[key], "{key}");
    }
    assert_eq!(results_only(&parquet), results_only(&csv), "every result, trade by trade");
    assert_ne!(b["config"]["data"][0]["content_hash"], a["config"]["data"][0]["content_hash"]);
}

#[test]
fn a_polars_file_with_dates_and_zstd_runs_like_its_csv() {
    // polars' `write_parquet()`: zstd, its column names as given.
    let rows = goog_rows();
    let column = |i: usize| -> ArrayRef { Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1[i]))) };
    let file = scratch("GOOG-polars.parquet");
    write(
        &file,
        vec![
            ("date", Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| r.0)))),
            ("open", column(0)),
            ("high", column(1)),
            ("low", column(2)),
            ("close", column(3)),
            ("volume", column(4)),
        ],
        Compression::ZSTD(ZstdLevel::default()),
    );
    assert_eq!(results_only(&run(file.to_str().unwrap(), &[])), results_only(&run("data/GOOG.csv", &[])));
}

#[test]
fn bad_parquet_rows_are_named_by_row_and_descending_files_need_sort() {
    let nulled = scratch("GOOG-null.parquet");
    goog_as_pandas(&nulled, |columns| {
        let rows = goog_rows();
        let close = rows.iter().enumerate().map(|(i, r)| (i != 1499).then_some(r.1[3]));
        columns[3].1 = Arc::new(Float64Array::from_iter(close));
    });
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", nulled.to_str().unwrap()]);
    assert!(err.contains("GOOG-null.parquet: row 1500, column Close: empty cell"), "{err}");

    let partial = scratch("GOOG-partial.parquet");
    goog_as_pandas(&partial, |columns| columns.retain(|(name, _)| *name != "Low"));
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", partial.to_str().unwrap()]);
    assert!(err.contains("GOOG-partial.parquet: schema: missing required column(s) Low"), "{err}");

    let descending = scratch("GOOG-descending.parquet");
    let mut rows = goog_rows();
    rows.reverse();
    pandas_file(&descending, &rows, |_| {});
    let path = descending.to_str().unwrap();
    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", path]);
    assert!(err.contains("row 2, column Date: timestamp"), "{err}");
    assert!(err.contains("--sort"), "{err}");
    assert_eq!(results_only(&run(path, &["--sort"])), results_only(&run("data/GOOG.csv", &[])));

    let err = fails(&["run", "scripts/sma_cross.rhai", "--data", path, "--delimiter", ";"]);
    assert!(err.contains("--delimiter \";\": a Parquet file has no delimiter"), "{err}");
}

#[test]
fn a_parquet_file_is_parsed_once_then_read_from_the_cache() {
    let file = scratch("GOOG-cached.parquet");
    goog_as_pandas(&file, |_| {});
    let cache = scratch("own-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backtester"))
            .args(["run", "scripts/sma_cross.rhai", "--data", file.to_str().unwrap(), "--json"])
            .current_dir(crate::helpers::root())
            .env("BACKTESTER_CACHE_DIR", &cache)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = run();
    let kept: Vec<String> =
        std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(kept.iter().any(|n| n.starts_with("bars-")), "the parsed bars are kept: {kept:?}");
    assert_eq!(run(), first);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(first["config"]["data"][0]["content_hash"], backtester::domain::content_hash(&bytes));
}
