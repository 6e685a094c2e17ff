//! Tests of `data::universe`.
use super::*;
use crate::data::parse_timestamp;
use crate::data::Loader;
use crate::domain::num::to_f64;
use rust_decimal::Decimal;

fn ts(text: &str) -> Timestamp {
    parse_timestamp(text).unwrap()
}

fn bars(days: &[&str]) -> Vec<Bar> {
    days.iter()
        .enumerate()
        .map(|(i, day)| {
            let p = Decimal::from(100 + i as i64);
            Bar::from_decimals(ts(day), [p; 4], 1.0).unwrap()
        })
        .collect()
}

fn texts(stamps: &[Timestamp]) -> Vec<String> {
    stamps.iter().map(|t| t.to_text()).collect()
}

fn two() -> Universe {
    Universe::new(vec![
        (Symbol::new("AAA"), bars(&["2020-01-01", "2020-01-02", "2020-01-06"])),
        (Symbol::new("BTC/USD"), bars(&["2020-01-02", "2020-01-03", "2020-01-04", "2020-01-05"])),
    ])
    .unwrap()
}

#[test]
fn different_calendars_merge_into_the_union_timeline() {
    let u = two();
    assert_eq!(u.symbols(), &[Symbol::new("AAA"), Symbol::new("BTC/USD")]);
    assert_eq!(u.symbol_index("BTC/USD"), Some(1));
    assert_eq!(u.symbol_index("btc/usd"), None);
    assert_eq!(
        texts(u.timeline()),
        ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04", "2020-01-05", "2020-01-06"]
    );
    assert_eq!(u.len(), 6);
    assert!(!u.is_empty());
    assert_eq!(u.bars(0).len(), 3);
    assert_eq!(u.bars(1).len(), 4);
    assert_eq!(u.interval_hint(), Some(86_400_000));
}

#[test]
fn merge_of_many_series_matches_sort_and_dedup() {
    let days: Vec<String> = (1..=28).map(|d| format!("2021-02-{d:02}")).collect();
    let pick = |step: usize, offset: usize| -> Vec<&str> {
        days.iter().skip(offset).step_by(step).map(String::as_str).collect()
    };
    let series = vec![
        (Symbol::new("A"), bars(&pick(2, 0))),
        (Symbol::new("B"), bars(&pick(3, 1))),
        (Symbol::new("C"), bars(&pick(5, 0))),
        (Symbol::new("D"), bars(&pick(7, 6))),
    ];
    let mut expected: Vec<Timestamp> = series.iter().flat_map(|(_, b)| b.iter().map(|b| b.ts)).collect();
    expected.sort_unstable();
    expected.dedup();
    let u = Universe::new(series).unwrap();
    assert_eq!(u.timeline(), &expected[..]);
}

#[test]
fn single_symbol_timeline_is_its_own_timestamps() {
    let u = Universe::new(vec![(Symbol::new("X"), bars(&["2020-01-01", "2020-01-03"]))]).unwrap();
    assert_eq!(texts(u.timeline()), ["2020-01-01", "2020-01-03"]);
    assert_eq!(u.interval_hint(), Some(2 * 86_400_000));
    let one = Universe::new(vec![(Symbol::new("X"), bars(&["2020-01-01"]))]).unwrap();
    assert_eq!(one.interval_hint(), None);
}

#[test]
fn bars_are_not_forward_filled() {
    let u = two();
    // AAA trades on the 2nd and the 6th, nothing in between.
    assert!(u.bar_at(0, ts("2020-01-02")).is_some());
    for day in ["2020-01-03", "2020-01-04", "2020-01-05"] {
        assert_eq!(u.bar_at(0, ts(day)), None, "{day}");
    }
    assert_eq!(u.bar_at(1, ts("2020-01-01")), None);
    assert_eq!(u.bar_at(1, ts("2020-01-03")).unwrap().close(), Decimal::from(101));
    assert!(u.bars(0).iter().all(|b| b.ts != ts("2020-01-04")));
}

#[test]
fn construction_errors() {
    let good = || bars(&["2020-01-01"]);
    type Case = (Vec<(Symbol, Vec<Bar>)>, fn(&DataError) -> bool, &'static str);
    let cases: Vec<Case> = vec![
        (vec![], |e| matches!(e, DataError::NoSymbols), "at least one symbol"),
        (
            vec![(Symbol::new("A"), good()), (Symbol::new("A"), good())],
            |e| matches!(e, DataError::DuplicateSymbol { .. }),
            "symbol A is given more than once",
        ),
        (
            vec![(Symbol::new("A"), good()), (Symbol::new("B"), vec![])],
            |e| matches!(e, DataError::NoBars { .. }),
            "symbol B has no bars",
        ),
        (
            vec![(Symbol::new("bad name"), good())],
            |e| matches!(e, DataError::InvalidSymbol { .. }),
            "invalid symbol \"bad name\"",
        ),
        (
            vec![(Symbol::new("A"), bars(&["2020-01-02", "2020-01-01"]))],
            |e| matches!(e, DataError::UnsortedBars { index: 1, .. }),
            "bar 1 at 2020-01-01 follows 2020-01-02",
        ),
        (
            vec![(Symbol::new("A"), bars(&["2020-01-01", "2020-01-01"]))],
            |e| matches!(e, DataError::UnsortedBars { index: 1, .. }),
            "not in strictly increasing time order",
        ),
        (
            vec![(Symbol::new("A"), bars(&["2020-01-01", "2020-01-02", "2020-01-04", "2020-01-03"]))],
            |e| matches!(e, DataError::UnsortedBars { index: 3, .. }),
            "bar 3 at 2020-01-03 follows 2020-01-04",
        ),
        (
            vec![(Symbol::new("A"), good()), (Symbol::new("B"), bars(&["2020-01-01", "2020-01-03", "2020-01-02"]))],
            |e| matches!(e, DataError::UnsortedBars { index: 2, .. }),
            "bar 2 at 2020-01-02 follows 2020-01-03",
        ),
    ];
    for (series, check, needle) in cases {
        let err = Universe::new(series).unwrap_err();
        assert!(check(&err), "{err:?}");
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn slice_keeps_inclusive_bounds_and_shares_bars() {
    let u = two();
    let s = u.slice(Some(ts("2020-01-02")), Some(ts("2020-01-05"))).unwrap();
    assert_eq!(texts(s.timeline()), ["2020-01-02", "2020-01-03", "2020-01-04", "2020-01-05"]);
    assert_eq!(texts(&s.bars(0).iter().map(|b| b.ts).collect::<Vec<_>>()), ["2020-01-02"]);
    assert_eq!(s.bars(1).len(), 4);
    assert!(std::ptr::eq(&s.bars(1)[0], &u.bars(1)[0]), "bars are shared");

    let open_start = u.slice(None, Some(ts("2020-01-02"))).unwrap();
    assert_eq!(texts(open_start.timeline()), ["2020-01-01", "2020-01-02"]);
    let open_end = u.slice(Some(ts("2020-01-05")), None).unwrap();
    assert_eq!(texts(open_end.timeline()), ["2020-01-05", "2020-01-06"]);
    let err = open_end.slice(Some(ts("2020-01-06")), None).unwrap_err();
    assert!(matches!(err, DataError::EmptySlice { .. }), "{err:?}");
    assert_eq!(err.to_string(), "symbol BTC/USD has no bars from 2020-01-06 to the end");

    let nested = u.slice(Some(ts("2020-01-02")), None).unwrap().slice(None, Some(ts("2020-01-03"))).unwrap();
    assert_eq!(texts(nested.timeline()), ["2020-01-02", "2020-01-03"]);
    assert_eq!(nested.bars(0).len(), 1);
    assert_eq!(nested.bars(1).len(), 2);
    assert_eq!(u.slice(None, None).unwrap().timeline(), u.timeline());

    let err = u.slice(Some(ts("2020-01-03")), Some(ts("2020-01-05"))).unwrap_err();
    assert_eq!(err.to_string(), "symbol AAA has no bars from 2020-01-03 to 2020-01-05");
    let err = u.slice(Some(ts("2020-01-05")), Some(ts("2020-01-02"))).unwrap_err();
    assert!(matches!(err, DataError::EmptySlice { .. }));
    let err = u.slice(None, Some(ts("2019-12-31"))).unwrap_err();
    assert_eq!(err.to_string(), "symbol AAA has no bars from the start to 2019-12-31");
}

#[test]
fn symbol_rule() {
    for ok in ["GOOG", "orcl-1995-2014", "BTC/USD", "ES:CME", "BRK.B", "a_b", &"X".repeat(32)] {
        assert!(parse_symbol(ok).is_ok(), "{ok}");
    }
    for bad in ["", "a b", "é", "A=B", "a\\b", &"X".repeat(33)] {
        let err = parse_symbol(bad).unwrap_err();
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
    }
}

#[test]
fn load_reads_every_spec_and_checks_names_first() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, days: &[&str]| {
        let mut text = String::from("Date,Open,High,Low,Close,Volume\n");
        for day in days {
            text.push_str(&format!("{day},1,1,1,1,1\n"));
        }
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let a = write("a.csv", &["2020-01-01", "2020-01-03"]);
    let b = write("b.csv", &["2020-01-02"]);
    let spec =
        |symbol: &str, path: &std::path::Path| DataSpec { symbol: Symbol::new(symbol), path: path.to_path_buf() };
    let u = Universe::load(&[spec("A", &a), spec("B", &b)], &Loader::default()).unwrap();
    assert_eq!(texts(u.timeline()), ["2020-01-01", "2020-01-02", "2020-01-03"]);
    assert_eq!(format!("{u:?}").lines().count(), 1);

    let missing = dir.path().join("missing.csv");
    let err = Universe::load(&[spec("A", &a), spec("A", &missing)], &Loader::default()).unwrap_err();
    assert!(matches!(err, DataError::DuplicateSymbol { .. }), "{err:?}");
    let err = Universe::load(&[spec("A", &a), spec("M", &missing)], &Loader::default()).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert!(matches!(Universe::load(&[], &Loader::default()), Err(DataError::NoSymbols)));
}

#[test]
fn real_files_universe_merges_and_slices() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let load = |args: &[String]| {
        let specs: Vec<DataSpec> = args.iter().map(|a| DataSpec::parse(a).unwrap()).collect();
        Universe::load(&specs, &Loader::default()).unwrap()
    };
    // Disjoint calendars (GOOG ends 2013, EURUSD starts 2017): the union.
    let u = load(&[format!("{dir}/GOOG.csv"), format!("EURUSD={dir}/EURUSD.csv")]);
    assert_eq!(u.symbols(), &[Symbol::new("GOOG"), Symbol::new("EURUSD")]);
    assert_eq!(u.len(), 2148 + 5000);
    assert_eq!(u.interval_hint(), Some(3_600_000));
    let err = u.slice(Some(ts("2017-01-01")), None).unwrap_err();
    assert_eq!(err.to_string(), "symbol GOOG has no bars from 2017-01-01 to the end");

    // NVDA and YHOO trade on a subset of ORCL's days.
    let u = load(&[
        format!("{dir}/orcl-1995-2014.csv"),
        format!("NVDA={dir}/nvda-1999-2014.csv"),
        format!("YHOO={dir}/yhoo-1996-2014.csv"),
    ]);
    assert_eq!(u.len(), 5036);
    assert_eq!(u.timeline(), &u.bars(0).iter().map(|b| b.ts).collect::<Vec<_>>()[..]);
    assert_eq!(u.interval_hint(), Some(86_400_000));
    let y2000 = u.slice(Some(ts("2000-01-01")), Some(ts("2000-12-31"))).unwrap();
    assert_eq!(y2000.len(), 252);
    assert!((0..3).all(|i| y2000.bars(i).len() == 252));
}

#[test]
fn price_columns_are_computed_once_and_shared_with_slices() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let u = Universe::load(&[DataSpec::parse(&format!("{dir}/GOOG.csv")).unwrap()], &Loader::default()).unwrap();
    let (closes, offset) = u.price_column(0, PriceField::Close);
    assert_eq!(offset, 0);
    let expected: Vec<f64> = u.bars(0).iter().map(|b| to_f64(b.close())).collect();
    assert_eq!(&closes[..], &expected[..]);
    let highs: Vec<f64> = u.bars(0).iter().map(|b| to_f64(b.high())).collect();
    assert_eq!(&u.price_column(0, PriceField::High).0[..], &highs[..]);

    let later = u.slice(Some(ts("2010-01-01")), None).unwrap();
    let (shared, offset) = later.price_column(0, PriceField::Close);
    assert!(Arc::ptr_eq(&shared, &closes), "a slice reads the same column");
    assert_eq!(shared[offset], to_f64(later.bars(0)[0].close()), "its first bar sits at the offset");
    let again = Universe::from_shared(vec![(Symbol::new("GOOG"), u.series[0].data.clone())]).unwrap();
    assert!(Arc::ptr_eq(&again.price_column(0, PriceField::Close).0, &closes), "so does a universe on the same series");
}

#[test]
fn symbols_must_share_their_usual_bar_spacing() {
    // Different calendars, one spacing (a weekend in three bars does not count).
    two().check_common_spacing().unwrap();
    assert_eq!(usual_spacing([0, 1, 5].into_iter()), Some(1));
    assert_eq!(usual_spacing([7].into_iter()), None);
    let weekly = bars(&["2020-01-06", "2020-01-13", "2020-01-20"]);
    let daily = bars(&["2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09"]);
    let mixed = Universe::new(vec![(Symbol::new("D"), daily), (Symbol::new("W"), weekly)]).unwrap();
    let err = mixed.check_common_spacing().unwrap_err().to_string();
    assert!(err.starts_with("D has bars 1d apart and W 1w apart"), "{err}");
    assert!(err.contains("resample them to one interval, a whole multiple of both"), "{err}");
    // Months of 28 to 31 days are one interval.
    assert!(same_interval(30 * 86_400_000, 31 * 86_400_000) && same_interval(31, 28));
    assert!(!same_interval(1, 2) && !same_interval(86_400_000, 7 * 86_400_000));
    mixed.resampled("1w".parse().unwrap()).unwrap().check_common_spacing().unwrap();
    // A symbol with a single bar has no spacing to compare.
    let single = Universe::new(vec![
        (Symbol::new("D"), bars(&["2020-01-06", "2020-01-07"])),
        (Symbol::new("S"), bars(&["2020-01-06"])),
    ]);
    single.unwrap().check_common_spacing().unwrap();
}
