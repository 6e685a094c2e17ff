//! Tests of `data::parquet`: files written with the crate's own Arrow writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampNanosecondArray,
};
use parquet::arrow::ArrowWriter;
use rust_decimal_macros::dec;

use super::*;
use crate::data::load_csv_file_with;
use crate::domain::Bar;

const DAY_NS: i64 = 86_400_000_000_000;
/// 2020-01-01T00:00:00Z in nanoseconds.
const JAN_1_NS: i64 = 1_577_836_800 * 1_000_000_000;

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bt-parquet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `columns` (name, values) as one Parquet file.
fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn floats(values: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

/// Three daily bars from 2020-01-01 as pandas writes them: a `Date`
/// timestamp[ns] column and float prices, with `close` as given.
fn pandas_like(path: &Path, close: ArrayRef) {
    let dates: Vec<i64> = (0..3).map(|d| JAN_1_NS + d * DAY_NS).collect();
    write(
        path,
        vec![
            ("Open", floats(&[100.34, 101.0, 102.5])),
            ("High", floats(&[101.0, 102.0, 103.0])),
            ("Low", floats(&[99.5, 100.0, 101.0])),
            ("Close", close),
            ("Volume", Arc::new(Int64Array::from(vec![44_994_500, 1_000, 0]))),
            ("Date", Arc::new(TimestampNanosecondArray::from(dates))),
        ],
    );
}

fn load(path: &Path, options: &LoadOptions) -> Result<Vec<Bar>, DataError> {
    load_csv_file_with(path, options)
}

#[test]
fn a_pandas_like_file_gives_the_bars_its_csv_gives() {
    let dir = dir("pandas");
    let path = dir.join("X.parquet");
    pandas_like(&path, floats(&[100.5, 101.5, 102.75]));
    let bars = load(&path, &LoadOptions::default()).unwrap();
    let csv = "Date,Open,High,Low,Close,Volume\n\
               2020-01-01,100.34,101,99.5,100.5,44994500\n\
               2020-01-02,101,102,100,101.5,1000\n\
               2020-01-03,102.5,103,101,102.75,0\n";
    assert_eq!(bars, crate::data::parse_csv(csv.as_bytes(), "X.csv").unwrap());
    assert_eq!(bars[0].open(), dec!(100.34), "the float's shortest text, exactly");
}

#[test]
fn the_extension_does_not_decide_the_content_does() {
    let dir = dir("extension");
    let path = dir.join("X.csv");
    pandas_like(&path, floats(&[100.5, 101.5, 102.75]));
    assert_eq!(load(&path, &LoadOptions::default()).unwrap().len(), 3);
}

#[test]
fn string_dates_read_with_the_date_format_and_decimal_prices_exactly() {
    let dir = dir("strings");
    let path = dir.join("X.parquet");
    let price = |values: &[i128]| -> ArrayRef {
        Arc::new(Decimal128Array::from(values.to_vec()).with_precision_and_scale(10, 4).unwrap())
    };
    write(
        &path,
        vec![
            ("Day", Arc::new(StringArray::from(vec!["01/02/2020", "01/03/2020"]))),
            ("Open", price(&[1_000_000, 1_010_000])),
            ("High", price(&[1_020_001, 1_030_000])),
            ("Low", price(&[990_000, 1_000_000])),
            ("Close", price(&[1_010_000, 1_020_000])),
        ],
    );
    let mut options = LoadOptions { date_format: Some("%m/%d/%Y".into()), ..LoadOptions::default() };
    options.columns.insert(crate::data::Role::Time, "Day".into());
    let bars = load(&path, &options).unwrap();
    assert_eq!(bars[0].ts.to_text(), "2020-01-02");
    assert_eq!(bars[0].high(), dec!(102.0001)); // 1020001 at scale 4
    assert!(bars[0].volume.is_nan(), "no Volume column");

    // A timestamp column is not text: the format does not apply to it.
    let typed = dir.join("Y.parquet");
    pandas_like(&typed, floats(&[100.5, 101.5, 102.75]));
    let options = LoadOptions { date_format: Some("%m/%d/%Y".into()), ..LoadOptions::default() };
    assert_eq!(load(&typed, &options).unwrap()[2].ts.to_text(), "2020-01-03");
}

#[test]
fn a_null_price_is_an_empty_cell_naming_row_and_column() {
    let dir = dir("null");
    let path = dir.join("X.parquet");
    pandas_like(&path, Arc::new(Float64Array::from(vec![Some(100.5), None, Some(102.75)])));
    let err = load(&path, &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::EmptyCell { line: Line::Row(2), .. }), "{err:?}");
    assert!(err.to_string().ends_with("X.parquet: row 2, column Close: empty cell"), "{err}");
}

#[test]
fn a_missing_column_names_the_schema_and_a_bad_type_the_column() {
    let dir = dir("schema");
    let path = dir.join("X.parquet");
    write(&path, vec![("Date", Arc::new(StringArray::from(vec!["2020-01-01"]))), ("Open", floats(&[1.0]))]);
    let err = load(&path, &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::MissingColumns { line: Line::Schema, .. }), "{err:?}");
    assert!(err.to_string().contains("X.parquet: schema: missing required column(s) High, Low, Close"), "{err}");

    let flags = dir.join("Y.parquet");
    pandas_like(&flags, Arc::new(BooleanArray::from(vec![true, false, true])));
    let err = load(&flags, &LoadOptions::default()).unwrap_err();
    assert!(matches!(&err, DataError::ColumnType { column, .. } if column == "Close"), "{err:?}");
}

#[test]
fn rows_out_of_order_are_refused_unless_sorted() {
    let dir = dir("order");
    let path = dir.join("X.parquet");
    let dates: Vec<i64> = (0..3).rev().map(|d| JAN_1_NS + d * DAY_NS).collect();
    write(
        &path,
        vec![
            ("Date", Arc::new(TimestampNanosecondArray::from(dates).with_timezone("UTC"))),
            ("Open", floats(&[1.0, 2.0, 3.0])),
            ("High", floats(&[1.5, 2.5, 3.5])),
            ("Low", floats(&[0.5, 1.5, 2.5])),
            ("Close", floats(&[1.25, 2.25, 3.25])),
        ],
    );
    let err = load(&path, &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::OutOfOrder { line: Line::Row(2), .. }), "{err:?}");
    assert!(err.to_string().contains("--sort"), "{err}");
    let sorted = load(&path, &LoadOptions { sort: true, ..LoadOptions::default() }).unwrap();
    assert_eq!(sorted.iter().map(|b| b.close()).collect::<Vec<_>>(), [dec!(3.25), dec!(2.25), dec!(1.25)]);
    assert_eq!(sorted[0].ts.to_text(), "2020-01-01");
}

#[test]
fn a_delimiter_is_refused_and_a_damaged_file_cannot_be_read() {
    let dir = dir("refused");
    let path = dir.join("X.parquet");
    pandas_like(&path, floats(&[100.5, 101.5, 102.75]));
    let err = load(&path, &LoadOptions { delimiter: Some(';'), ..LoadOptions::default() }).unwrap_err();
    assert!(matches!(&err, DataError::Option(e) if e.option == "--delimiter"), "{err:?}");

    let damaged = dir.join("Y.parquet");
    std::fs::write(&damaged, b"PAR1 and then nothing a Parquet reader could use").unwrap();
    let err = load(&damaged, &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::Parquet { .. }), "{err:?}");
    assert!(err.to_string().contains("Y.parquet: cannot read the Parquet file: "), "{err}");
}

#[test]
fn the_loader_hashes_the_whole_file_and_reads_it_from_the_cache_the_second_time() {
    let dir = dir("cache");
    let path = dir.join("X.parquet");
    pandas_like(&path, floats(&[100.5, 101.5, 102.75]));
    let loader = crate::data::Loader::new(LoadOptions::default(), Some(dir.join("cache")));
    let first = loader.load(&path).unwrap();
    assert!(!first.cached);
    assert_eq!(first.content_hash.get().unwrap(), crate::domain::content_hash(&std::fs::read(&path).unwrap()));
    let second = loader.load(&path).unwrap();
    assert!(second.cached, "the same file again is read from the cache");
    assert_eq!((second.bars, second.content_hash.get().unwrap()), (first.bars, first.content_hash.get().unwrap()));
}

#[test]
fn pandas_unnamed_index_is_a_column_like_any_other() {
    let dir = dir("index");
    let path = dir.join("X.parquet");
    write(
        &path,
        vec![
            ("Open", floats(&[1.0])),
            ("High", floats(&[2.0])),
            ("Low", floats(&[0.5])),
            ("Close", floats(&[1.5])),
            ("__index_level_0__", Arc::new(TimestampNanosecondArray::from(vec![JAN_1_NS]))),
        ],
    );
    let err = load(&path, &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::MissingColumns { .. }), "{err:?}");
    let mut options = LoadOptions::default();
    options.columns.insert(crate::data::Role::Time, "__index_level_0__".into());
    assert_eq!(load(&path, &options).unwrap()[0].ts.to_text(), "2020-01-01");
}
