//! Tests of `data::csv`.
use super::number::{is_non_finite, is_number_syntax, parse_decimal};
use super::*;
use crate::data::load_csv_file;
use crate::data::options::Role;
use crate::data::parse_timestamp;
use crate::domain::Timestamp;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::path::Path;

const HEADER: &str = "Date,Open,High,Low,Close,Volume\n";

fn parse(text: &str) -> Result<Vec<Bar>, DataError> {
    parse_csv(text.as_bytes(), "t.csv")
}

fn ok(text: &str) -> Vec<Bar> {
    match parse(text) {
        Ok(bars) => bars,
        Err(e) => panic!("should parse: {e}\n{text}"),
    }
}

fn ts(text: &str) -> Timestamp {
    parse_timestamp(text).unwrap()
}

type Check = fn(&DataError) -> bool;

#[test]
fn bad_inputs_give_their_own_variant_with_line_and_column() {
    let row = |r: &str| format!("{HEADER}2020-01-01,1,2,0.5,1.5,10\n{r}\n");
    let cases: Vec<(String, Check, Vec<&str>)> = vec![
        (
            "Date,Open,High,Close\n2020-01-01,1,1,1\n".into(),
            |e| matches!(e, DataError::MissingColumns { .. }),
            vec!["t.csv: line 1:", "missing required column(s) Low;", "header found: Date,Open,High,Close"],
        ),
        (
            "Idx,Open,High,Low,Close,Volume\n2020-01-01,1,1,1,1,1\n".into(),
            |e| matches!(e, DataError::MissingColumns { .. }),
            vec!["line 1", "Date (or Datetime, Timestamp, Time)", "header found: Idx,Open", "--column ROLE=NAME"],
        ),
        (
            "Date,Open,High,Low,Close,Timestamp,Volume\n".into(),
            |e| matches!(e, DataError::DuplicateColumn { role: "time", .. }),
            vec!["line 1", "columns Date and Timestamp both give the time"],
        ),
        (
            "Date,Open,High,Low,Close,close ,Volume\n".into(),
            |e| matches!(e, DataError::DuplicateColumn { role: "close price", .. }),
            vec!["line 1", "columns Close and close both"],
        ),
        (
            row("2020-01-02,1,2,0.5,1"),
            |e| matches!(e, DataError::FieldCount { expected: 6, found: 5, .. }),
            vec!["t.csv: line 3:", "expected 6 fields", "found 5"],
        ),
        (
            row("2020-01-02,1,2,0.5,1,10,"),
            |e| matches!(e, DataError::FieldCount { expected: 6, found: 7, .. }),
            vec!["line 3", "found 7"],
        ),
        (
            row("2020-01-02,1,,0.5,1,10"),
            |e| matches!(e, DataError::EmptyCell { .. }),
            vec!["t.csv: line 3, column High: empty cell"],
        ),
        (row("  ,1,2,0.5,1,10"), |e| matches!(e, DataError::EmptyCell { .. }), vec!["line 3, column Date: empty cell"]),
        (
            row("2020-01-02,1,2,abc,1,10"),
            |e| matches!(e, DataError::InvalidNumber { .. }),
            vec!["line 3, column Low: cannot read number \"abc\"", "not a decimal number"],
        ),
        (
            row("2020-01-02,1,2,0.5,\"1,5\",10"),
            |e| matches!(e, DataError::InvalidNumber { .. }),
            vec!["line 3, column Close", "\"1,5\""],
        ),
        (
            row("2020-01-02,1_000,2,0.5,1,10"),
            |e| matches!(e, DataError::InvalidNumber { .. }),
            vec!["line 3, column Open", "\"1_000\""],
        ),
        (
            row("2020-01-02,1,2,0.5,1,ten"),
            |e| matches!(e, DataError::InvalidNumber { .. }),
            vec!["line 3, column Volume", "\"ten\""],
        ),
        (
            row("2020-01-02,1.000000000000000000000000000001,2,0.5,1,10"),
            |e| matches!(e, DataError::InvalidNumber { .. }),
            vec!["line 3, column Open", "too many digits"],
        ),
        (
            // 18 digits: an exact decimal, but past what a bar's price holds.
            row("2020-01-02,1,4,0.5,3.00000000000000001,10"),
            |e| matches!(e, DataError::InvalidNumber { .. }),
            vec!["line 3, column Close", "too many digits for a price", "below 2^58"],
        ),
        (
            row("2020-01-02,1e-40,2,0.5,1,10"),
            |e| matches!(e, DataError::InvalidNumber { .. }),
            vec!["line 3, column Open", "exponent is out of range"],
        ),
        (
            row("2020-01-02,NaN,2,0.5,1,10"),
            |e| matches!(e, DataError::NotFinite { .. }),
            vec!["line 3, column Open: \"NaN\" is not a finite number"],
        ),
        (
            row("2020-01-02,1,inf,0.5,1,10"),
            |e| matches!(e, DataError::NotFinite { .. }),
            vec!["line 3, column High: \"inf\""],
        ),
        (
            row("2020-01-02,1,2,-inf,1,10"),
            |e| matches!(e, DataError::NotFinite { .. }),
            vec!["line 3, column Low: \"-inf\""],
        ),
        (
            row("2020-01-02,1,2,0.5,Infinity,10"),
            |e| matches!(e, DataError::NotFinite { .. }),
            vec!["line 3, column Close: \"Infinity\""],
        ),
        (
            row("2020-01-02,1,2,0.5,1,nan"),
            |e| matches!(e, DataError::NotFinite { .. }),
            vec!["line 3, column Volume: \"nan\""],
        ),
        (
            row("2020-01-02,1,2,0.5,1,1e999"),
            |e| matches!(e, DataError::NotFinite { .. }),
            vec!["line 3, column Volume: \"1e999\""],
        ),
        (
            row("2020-13-01,1,2,0.5,1,10"),
            |e| matches!(e, DataError::InvalidTimestamp { .. }),
            vec!["line 3, column Date: cannot read timestamp \"2020-13-01\"", "no such date", "accepted: YYYY-MM-DD"],
        ),
        (
            row("01/02/2020,1,2,0.5,1,10"),
            |e| matches!(e, DataError::InvalidTimestamp { .. }),
            vec!["line 3, column Date", "\"01/02/2020\"", "not a recognized format"],
        ),
        (
            row("2020-01-02,0,2,0.5,1,10"),
            |e| matches!(e, DataError::NonPositivePrice { field: "open", .. }),
            vec!["line 3, column Open: open 0 is not positive"],
        ),
        (
            row("2020-01-02,1,2,-0.5,1,10"),
            |e| matches!(e, DataError::NonPositivePrice { field: "low", .. }),
            vec!["line 3, column Low: low -0.5 is not positive"],
        ),
        (
            row("2020-01-02,1,2,0.5,1,-3"),
            |e| matches!(e, DataError::NegativeVolume { .. }),
            vec!["line 3, column Volume: volume -3 is negative"],
        ),
        (
            row("2020-01-02,1,0.9,1.1,1,10"),
            |e| matches!(e, DataError::HighBelowLow { .. }),
            vec!["line 3, column High: high 0.9 is below low 1.1"],
        ),
        (
            row("2020-01-02,1,1.5,0.5,2,10"),
            |e| matches!(e, DataError::HighBelowOpenClose { other: "close", .. }),
            vec!["line 3, column High: high 1.5 is below close 2"],
        ),
        (
            row("2020-01-02,3,2.5,0.5,2,10"),
            |e| matches!(e, DataError::HighBelowOpenClose { other: "open", .. }),
            vec!["line 3, column High: high 2.5 is below open 3"],
        ),
        (
            row("2020-01-02,1,2,1.5,1.8,10"),
            |e| matches!(e, DataError::LowAboveOpenClose { other: "open", .. }),
            vec!["line 3, column Low: low 1.5 is above open 1"],
        ),
        (
            row("2020-01-02,1.8,2,1.5,1.2,10"),
            |e| matches!(e, DataError::LowAboveOpenClose { other: "close", .. }),
            vec!["line 3, column Low: low 1.5 is above close 1.2"],
        ),
        (
            row("2019-12-31,1,2,0.5,1,10"),
            |e| matches!(e, DataError::OutOfOrder { prev_line: Line::Text(2), .. }),
            vec!["line 3, column Date: timestamp 2019-12-31 is out of order", "earlier than 2020-01-01 on line 2"],
        ),
        (
            row("2020-01-01,1,2,0.5,1,10"),
            |e| matches!(e, DataError::DuplicateTimestamp { prev_line: Line::Text(2), .. }),
            vec!["line 3, column Date: duplicate timestamp 2020-01-01", "line 2 has the same timestamp 2020-01-01"],
        ),
        (String::new(), |e| matches!(e, DataError::EmptyFile { .. }), vec!["t.csv: the file is empty"]),
        ("\u{feff}".into(), |e| matches!(e, DataError::EmptyFile { .. }), vec!["t.csv: the file is empty"]),
        (
            HEADER.into(),
            |e| matches!(e, DataError::NoRows { .. }),
            vec!["t.csv: the header is not followed by any data rows"],
        ),
        (format!("{HEADER}\n\n"), |e| matches!(e, DataError::NoRows { .. }), vec!["not followed by any data rows"]),
    ];
    for (text, check, needles) in cases {
        let err = parse(&text).expect_err(&text);
        assert!(check(&err), "wrong variant {err:?} for\n{text}");
        let msg = err.to_string();
        for needle in needles {
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        }
    }
}

#[test]
fn example_message_reads_as_documented() {
    let text = format!("{HEADER}2020-01-01,101,101.5,102.0,101.2,5\n");
    let err = parse_csv(text.as_bytes(), "data/GOOG.csv").unwrap_err();
    assert_eq!(err.to_string(), "data/GOOG.csv: line 2, column High: high 101.5 is below low 102.0");
}

#[test]
fn line_numbers_count_blank_lines_crlf_and_multiline_cells() {
    let good = "2020-01-01,1,2,0.5,1,10";
    let bad = "2020-01-02,1,2,0.5,1,-1";
    // (text, line of the bad row)
    let cases: Vec<(String, u64)> = vec![
        (format!("{HEADER}{good}\n{bad}\n"), 3),
        (format!("{HEADER}{good}\n{bad}"), 3),
        (format!("{HEADER}{good}\n\n{bad}\n"), 4),
        (format!("{HEADER}{good}\n\n\n{bad}"), 5),
        (format!("\n\n{HEADER}{good}\n{bad}\n"), 5),
        (format!("{HEADER}\n{good}\n  \n{bad}\n\n"), 5),
        (format!("{}\r\n{good}\r\n{bad}\r\n", HEADER.trim_end()), 3),
        (format!("{}\r\n\r\n{good}\r\n\r\n{bad}", HEADER.trim_end()), 5),
        (
            format!(
                "Date,Note,Open,High,Low,Close,Volume\n2020-01-01,\"two\nlines\",1,2,0.5,1,10\n\n{}\n",
                bad.replacen(',', ",,", 1)
            ),
            5,
        ),
        (
            format!(
                "Date,Note,Open,High,Low,Close,Volume\r\n2020-01-01,\"two\r\nlines\",1,2,0.5,1,10\r\n{}",
                bad.replacen(',', ",\"x\n\ny\",", 1)
            ),
            4,
        ),
    ];
    for (text, line) in cases {
        let err = parse(&text).unwrap_err();
        assert!(
            matches!(&err, DataError::NegativeVolume { line: l, .. } if *l == Line::Text(line)),
            "{err} in {text:?}"
        );
        assert!(err.to_string().contains(&format!("line {line}, column Volume")), "{err}");
    }
    // The header line is counted the same way.
    let err = parse("\n\r\nDate,Open\n").unwrap_err();
    assert!(err.to_string().starts_with("t.csv: line 3: missing required column(s)"), "{err}");
}

#[test]
fn invalid_utf8_in_a_used_cell_is_reported_but_ignored_columns_may_hold_anything() {
    let mut bytes = b"Date,Open,High,Low,Close,Volume,Note\n2020-01-01,1,2,0.5,1,10,\xff\xfe\n".to_vec();
    assert_eq!(parse_csv(&bytes[..], "u.csv").unwrap().len(), 1);
    bytes.extend_from_slice(b"2020-01-02,1,2,0.5,\xff,10,x\n");
    let err = parse_csv(&bytes[..], "u.csv").unwrap_err();
    assert!(matches!(err, DataError::InvalidUtf8 { .. }), "{err:?}");
    assert!(err.to_string().contains("u.csv: line 3, column Close"), "{err}");
}

#[test]
fn io_errors_name_the_path_or_input() {
    let err = load_csv_file(Path::new("/nonexistent/dir/GOOG.csv")).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert!(err.to_string().starts_with("/nonexistent/dir/GOOG.csv: cannot read"), "{err}");

    struct Failing(bool);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                return Err(std::io::Error::other("disk on fire"));
            }
            let text = HEADER.as_bytes();
            buf[..text.len()].copy_from_slice(text);
            Ok(text.len())
        }
    }
    let err = parse_csv(Failing(false), "upload.csv").unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert_eq!(err.to_string(), "upload.csv: cannot read: disk on fire");
}

#[test]
fn loads_a_file_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    std::fs::write(&path, format!("{HEADER}2020-01-01,1,2,0.5,1.5,10\n")).unwrap();
    let bars = load_csv_file(&path).unwrap();
    assert_eq!(bars.len(), 1);
    assert_eq!(bars[0].close(), dec!(1.5));
}

#[test]
fn every_timestamp_format_loads() {
    let cases: &[(&str, [&str; 2], [&str; 2])] = &[
        ("Date", ["2020-01-01", "2020-01-02"], ["2020-01-01", "2020-01-02"]),
        ("Datetime", ["2017-04-19 09:00:00", "2017-04-19 10:00:00"], ["2017-04-19 09:00:00", "2017-04-19 10:00:00"]),
        (
            "Datetime",
            ["2017-04-19T09:00:00.125", "2017-04-19T09:00:00.5"],
            ["2017-04-19 09:00:00.125", "2017-04-19 09:00:00.500"],
        ),
        ("Time", ["2017-04-19T11:00:00+02:00", "2017-04-19T10:00:00Z"], ["2017-04-19 09:00:00", "2017-04-19 10:00:00"]),
        // Epoch seconds.
        ("Timestamp", ["1492592400", "1492596000"], ["2017-04-19 09:00:00", "2017-04-19 10:00:00"]),
        // Epoch milliseconds.
        ("Timestamp", ["1492592400000", "1492596000000"], ["2017-04-19 09:00:00", "2017-04-19 10:00:00"]),
    ];
    for (column, cells, expected) in cases {
        let text =
            format!("{column},Open,High,Low,Close,Volume\n{},1,2,0.5,1.5,10\n{},1,2,0.5,1.5,10\n", cells[0], cells[1]);
        let bars = ok(&text);
        let got: Vec<String> = bars.iter().map(|b| b.ts.to_text()).collect();
        assert_eq!(got, expected, "{column}: {cells:?}");
    }
    // +02:00 is converted to UTC.
    let bars = ok("Time,Open,High,Low,Close,Volume\n2021-06-30T23:30:00+02:00,1,2,0.5,1.5,10\n");
    assert_eq!(bars[0].ts, ts("2021-06-30 21:30:00"));
}

#[test]
fn headers_are_case_insensitive_and_extra_columns_ignored() {
    let text = "\u{feff}  date ,Extra,OPEN,high,Low,cLoSe,Adj Close,volume,\n\
                2020-01-01,zzz,1.750000,1.953125,1.552083,1.640625,1.518424,67867200,\n\
                \" 2020-01-02 \",, 1.5 ,\"2\",1e0,1.5E+0,n/a,2.5e3,\n";
    let bars = ok(text);
    assert_eq!(bars.len(), 2);
    assert_eq!(bars[0].ts, ts("2020-01-01"));
    assert_eq!(bars[0].open().to_string(), "1.750000", "scale is kept as written");
    assert_eq!(bars[0].high(), dec!(1.953125));
    assert_eq!(bars[0].low(), dec!(1.552083));
    assert_eq!(bars[0].close(), dec!(1.640625));
    assert_eq!(bars[0].volume, 67_867_200.0);
    assert_eq!(bars[1].open(), dec!(1.5));
    assert_eq!(bars[1].low(), dec!(1));
    assert_eq!(bars[1].close(), dec!(1.5));
    assert_eq!(bars[1].volume, 2500.0);
}

#[test]
fn crlf_line_endings_and_quoted_cells_load() {
    let text = "Date,Open,High,Low,Close,Volume\r\n\"2020-01-01\",\"1\",2,0.5,1.5,10\r\n\
                2020-01-02,1,2,0.5,1.5,10\r\n";
    let bars = ok(text);
    assert_eq!(bars.len(), 2);
    assert_eq!(bars[1].ts, ts("2020-01-02"));
    let err = parse(&format!("{text}2020-01-02,1,2,0.5,1.5,10\r\n")).unwrap_err();
    assert!(
        matches!(err, DataError::DuplicateTimestamp { line: Line::Text(4), prev_line: Line::Text(3), .. }),
        "{err}"
    );
}

#[test]
fn number_forms() {
    let cases: &[(&str, Decimal)] = &[
        ("100", dec!(100)),
        ("1.07219", dec!(1.07219)),
        ("+2.5", dec!(2.5)),
        (".5", dec!(0.5)),
        ("5.", dec!(5)),
        ("1.5e-3", dec!(0.0015)),
        ("1.5E3", dec!(1500)),
        ("2e+2", dec!(200)),
        ("0.1000000000000000000000000001", dec!(0.1000000000000000000000000001)),
    ];
    for &(text, value) in cases {
        assert!(is_number_syntax(text), "{text}");
        assert_eq!(parse_decimal(text), Ok(value), "{text}");
    }
    for text in ["", "+", ".", "e5", "1e", "1e+", "1.2.3", "1 2", "0x10", "1,5", "--1", "1_0"] {
        assert!(!is_number_syntax(text), "{text:?}");
    }
    for text in ["nan", "NaN", "-nan", "inf", "+INF", "-inf", "Infinity", "-infinity"] {
        assert!(is_non_finite(text), "{text}");
    }
    let bars = ok(&format!("{HEADER}2020-01-01,1,2,0.5,1.5,-0\n2020-01-02,1,2,0.5,1.5,0.25\n"));
    assert!(bars[0].volume == 0.0 && bars[0].volume.is_sign_positive());
    assert_eq!(bars[1].volume, 0.25);
}

#[test]
fn streams_many_rows() {
    /// Generates `rows` rows on the fly, a few at a time.
    struct Rows {
        next: u64,
        rows: u64,
        pending: Vec<u8>,
    }
    impl Read for Rows {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            while self.pending.len() < buf.len() && self.next <= self.rows {
                let line = if self.next == 0 {
                    HEADER.to_owned()
                } else {
                    let p = 100 + self.next % 50;
                    format!("{},{p}.25,{p}.5,{p},{p}.125,{}\n", self.next * 60, self.next)
                };
                self.pending.extend_from_slice(line.as_bytes());
                self.next += 1;
            }
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }
    let rows = 100_000;
    let bars = parse_csv(Rows { next: 0, rows, pending: Vec::new() }, "gen").unwrap();
    assert_eq!(bars.len() as u64, rows);
    assert_eq!(bars.capacity(), bars.len());
    assert_eq!(bars[rows as usize - 1].ts, Timestamp::from_secs(rows as i64 * 60));
}

#[test]
fn batches_read_on_one_thread_or_several_give_what_the_general_reader_gives() {
    // About 4 MB: several batches, each worker reusing buffers of earlier
    // ones (batches of other lengths, so a shorter one fills a longer buffer).
    let rows: Vec<String> = (1..=90_000u64)
        .map(|i| {
            let p = 100 + i % 50;
            let pad = if i % 7 == 0 { "0" } else { "" };
            format!("{},{p}.25,{p}.5,{p},{p}.125{pad},{}", 1_600_000_000 + i * 60, i)
        })
        .collect();
    let text = |rows: &[String]| format!("{HEADER}{}\n", rows.join("\n"));
    // The general reader of the `csv` crate reads a file whose header is quoted.
    let general = |text: &str, options: &LoadOptions| {
        parse_csv_with(text.replacen("Date", "\"Date\"", 1).as_bytes(), "t.csv", options)
    };
    let on = |text: &str, options: &LoadOptions, workers: usize| {
        let mut bars = Vec::new();
        parse_csv_on(text.as_bytes(), "t.csv", options, &mut bars, workers).map(|_| bars)
    };
    let sorted = LoadOptions { sort: true, ..LoadOptions::default() };
    let mut descending = rows.clone();
    descending.reverse();
    let mut quoted_late = rows.clone();
    let cells: Vec<&str> = rows[80_000].split(',').collect();
    quoted_late[80_000] = format!("{},\"{}\",{}", cells[0], cells[1], cells[2..].join(","));
    let mut broken_late = rows.clone();
    broken_late[70_000] = broken_late[70_000].replacen(".5,", ".5,x", 1);
    let mut misplaced_late = rows.clone();
    misplaced_late.swap(60_000, 60_001);
    // Each case, and the line its error names (none: every row read).
    let cases = [
        ("in order", text(&rows), LoadOptions::default(), None),
        ("descending, sorted", text(&descending), sorted.clone(), None),
        ("a quote late", text(&quoted_late), LoadOptions::default(), None),
        ("a bad cell late", text(&broken_late), LoadOptions::default(), Some("line 70002")),
        ("out of order late", text(&misplaced_late), LoadOptions::default(), Some("line 60003")),
        ("out of order late, sorted", text(&misplaced_late), sorted, None),
    ];
    for (name, text, options, error_line) in &cases {
        let expected = general(text, options).map_err(|e| e.to_string());
        match (error_line, &expected) {
            (None, Ok(bars)) => assert_eq!(bars.len(), rows.len(), "{name}"),
            (Some(line), Err(message)) => assert!(message.contains(line), "{name}: {message}"),
            (_, other) => panic!("{name}: {other:?}"),
        }
        for workers in [1, 2, 4] {
            let got = on(text, options, workers).map_err(|e| e.to_string());
            assert_eq!(got, expected, "{name}, {workers} worker(s)");
        }
    }
}

// The real sample files bundled in the repository's data/ folder.
const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data");

#[test]
fn real_files_load_with_readme_counts_and_exact_values() {
    struct Case {
        file: &'static str,
        rows: usize,
        first: &'static str,
        last: &'static str,
        check: fn(&Bar) -> bool,
    }
    let cases = [
        Case {
            file: "GOOG.csv",
            rows: 2148,
            first: "2004-08-19",
            last: "2013-03-01",
            check: |b| b.open() == dec!(100) && b.close() == dec!(100.34) && b.volume == 22_351_900.0,
        },
        Case {
            file: "EURUSD.csv",
            rows: 5000,
            first: "2017-04-19 09:00:00",
            last: "2018-02-07 15:00:00",
            check: |b| b.close() == dec!(1.07219) && b.low() == dec!(1.07083),
        },
        Case {
            file: "BTCUSD.csv",
            rows: 156,
            first: "2012-01-31",
            last: "2024-12-31",
            check: |b| b.open() == dec!(4.58) && b.volume == 2012.25343589,
        },
        Case {
            file: "orcl-1995-2014.csv",
            rows: 5036,
            first: "1995-01-03",
            last: "2014-12-31",
            check: |b| b.open() == dec!(2.179012) && b.close() == dec!(2.117284),
        },
        Case {
            file: "yhoo-1996-2014.csv",
            rows: 4713,
            first: "1996-04-12",
            last: "2014-12-31",
            check: |b| b.close() == dec!(1.375) && b.high() == dec!(1.791667),
        },
        Case {
            file: "nvda-1999-2014.csv",
            rows: 4012,
            first: "1999-01-22",
            last: "2014-12-31",
            check: |b| b.open() == dec!(1.75) && b.close() == dec!(1.640625) && b.volume == 67_867_200.0,
        },
    ];
    for case in cases {
        let path = Path::new(DATA_DIR).join(case.file);
        let bars = load_csv_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bars.len(), case.rows, "{}", case.file);
        assert_eq!(bars[0].ts.to_text(), case.first, "{}", case.file);
        assert_eq!(bars[bars.len() - 1].ts.to_text(), case.last, "{}", case.file);
        assert!((case.check)(&bars[0]), "{}: {:?}", case.file, bars[0]);
    }
}

#[test]
fn semicolon_and_tab_separated_files_are_read_like_comma_separated_ones() {
    let comma = ok("Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1.5,2.5,1,2,20\n");
    let semicolon = ok("Date;Open;High;Low;Close;Volume\r\n2020-01-01;1;2;0.5;1.5;10\r\n2020-01-02;1.5;2.5;1;2;20\r\n");
    let tab =
        ok("Date\tOpen\tHigh\tLow\tClose\tVolume\n2020-01-01\t1\t2\t0.5\t1.5\t10\n2020-01-02\t1.5\t2.5\t1\t2\t20\n");
    assert_eq!(semicolon, comma);
    assert_eq!(tab, comma);
    // A comma in the header wins, even beside semicolons in a quoted name.
    assert_eq!(delimiter_of(b"\"a;b\",Date;x\n", &LoadOptions::default()), b',');
    assert_eq!(delimiter_of(b"\"a,b\";Date\n", &LoadOptions::default()), b';');
    assert_eq!(delimiter_of(b"Date\n", &LoadOptions::default()), b',');
    // A semicolon file's bad row still names its line and column.
    let err = parse("Date;Open;High;Low;Close;Volume\n2020-01-01;1;2;0.5;x;10\n").unwrap_err().to_string();
    assert!(err.contains("line 2") && err.contains("column Close"), "{err}");
    // A header line longer than the first read is found whole.
    let long = format!("Date,Open,High,Low,Close,Volume,{}\n2020-01-01,1,2,0.5,1.5,10,x\n", "n".repeat(5000));
    assert_eq!(ok(&long).len(), 1);
}

#[test]
fn minute_bars_without_seconds_are_read() {
    let bars =
        ok("Datetime,Open,High,Low,Close,Volume\n2020-01-02 09:30,1,2,0.5,1.5,10\n2020-01-02 09:31,1,2,0.5,1.5,10\n");
    assert_eq!(bars[1].ts.millis() - bars[0].ts.millis(), 60_000);
    assert_eq!(bars[0].ts, ts("2020-01-02 09:30:00"));
}

fn with(text: &str, options: &LoadOptions) -> Result<Vec<Bar>, DataError> {
    parse_csv_with(text.as_bytes(), "t.csv", options)
}

#[test]
fn a_file_without_volume_loads_with_unknown_volume() {
    let bars = ok("Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,1.5\n2020-01-02,1.5,2.5,1,2\n");
    assert_eq!(bars.len(), 2);
    assert!(bars.iter().all(|b| b.volume.is_nan()), "no Volume column: volume is not known");
    assert_eq!(bars[1].close(), dec!(2));
}

#[test]
fn pandas_to_csv_output_loads_with_its_index_column() {
    // An unnamed DatetimeIndex: the unnamed first column is the time.
    let bars = ok(",Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1.5,2.5,1,2,20\n");
    assert_eq!(bars[1].ts, ts("2020-01-02"));
    // A RangeIndex beside a Date column: the unnamed index is ignored.
    let bars = ok(",Date,Open,High,Low,Close,Volume\n0,2020-01-01,1,2,0.5,1.5,10\n1,2020-01-02,1.5,2.5,1,2,20\n");
    assert_eq!((bars.len(), bars[0].ts), (2, ts("2020-01-01")));
    // Errors in an unnamed time column name it by position.
    let err = parse(",Open,High,Low,Close,Volume\nsoon,1,2,0.5,1.5,10\n").unwrap_err();
    assert!(err.to_string().contains("line 2, column 1 (unnamed): cannot read timestamp \"soon\""), "{err}");
}

#[test]
fn columns_can_be_taken_from_other_names() {
    let text = "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-01,1,2,0.5,1.5,1.25,10\n";
    let mut options = LoadOptions::default();
    options.columns.insert(Role::Close, "adj close".into());
    assert_eq!(with(text, &options).unwrap()[0].close(), dec!(1.25));
    // One column may give several roles: a file of closes only.
    let mut options = LoadOptions::default();
    for role in [Role::Open, Role::High, Role::Low, Role::Close] {
        options.columns.insert(role, "Price".into());
    }
    options.columns.insert(Role::Time, "Datum".into());
    let bars = with("Datum;Price\n2020-01-01;7.5\n", &options).unwrap();
    assert_eq!((bars[0].open(), bars[0].low(), bars[0].close()), (dec!(7.5), dec!(7.5), dec!(7.5)));
    assert!(bars[0].volume.is_nan());
    // A name the header lacks is refused, naming the option and the header.
    let mut options = LoadOptions::default();
    options.columns.insert(Role::Close, "Adj Closee".into());
    let err = with(text, &options).unwrap_err();
    assert!(matches!(err, DataError::MappedColumnMissing { role: "close", .. }), "{err}");
    assert!(
        err.to_string().contains(
            "line 1: --column close=\"Adj Closee\" names a column the header does not have; header found: Date,Open"
        ),
        "{err}"
    );
}

#[test]
fn date_formats_read_other_forms_and_mismatches_name_the_format() {
    let text = "Date,Open,High,Low,Close,Volume\n08/19/2004,1,2,0.5,1.5,10\n08/20/2004,1,2,0.5,1.5,10\n";
    let err = parse(text).unwrap_err();
    assert!(err.to_string().contains("for another form give --date-format"), "the refusal says the way out: {err}");
    let options = LoadOptions { date_format: Some("%m/%d/%Y".into()), ..LoadOptions::default() };
    let bars = with(text, &options).unwrap();
    assert_eq!(bars[0].ts, ts("2004-08-19"));
    let bad = "Date,Open,High,Low,Close,Volume\n08/19/2004,1,2,0.5,1.5,10\n2004-08-20,1,2,0.5,1.5,10\n";
    let err = with(bad, &options).unwrap_err();
    assert!(matches!(err, DataError::DateFormatMismatch { .. }), "{err}");
    assert!(
        err.to_string().starts_with(
            "t.csv: line 3, column Date: timestamp \"2004-08-20\" does not match --date-format \"%m/%d/%Y\""
        ),
        "{err}"
    );
    let options = LoadOptions { date_format: Some("%Y%m%d".into()), ..LoadOptions::default() };
    let bars = with("Date,Open,High,Low,Close,Volume\n20040819,1,2,0.5,1.5,10\n", &options).unwrap();
    assert_eq!(bars[0].ts, ts("2004-08-19"));
    let options = LoadOptions { date_format: Some("%H".into()), ..LoadOptions::default() };
    let err = with(text, &options).unwrap_err();
    assert!(matches!(err, DataError::Option(_)) && err.to_string().starts_with("--date-format \"%H\""), "{err}");
}

#[test]
fn descending_files_are_refused_with_the_hint_and_sorted_when_asked() {
    let text = "Date,Open,High,Low,Close,Volume\n2020-01-03,1,2,0.5,1.5,10\n2020-01-02,1,2,0.5,1.5,10\n2020-01-01,1,2,0.5,1.5,10\n";
    let err = parse(text).unwrap_err();
    assert!(matches!(err, DataError::OutOfOrder { line: Line::Text(3), .. }), "{err}");
    assert!(err.to_string().contains("--sort (sort=true on upload) sorts the rows by time"), "{err}");
    let options = LoadOptions { sort: true, ..LoadOptions::default() };
    let bars = with(text, &options).unwrap();
    let times: Vec<Timestamp> = bars.iter().map(|b| b.ts).collect();
    assert_eq!(times, vec![ts("2020-01-01"), ts("2020-01-02"), ts("2020-01-03")]);
    let dup = format!("{text}2020-01-02,1,2,0.5,1.5,10\n");
    let err = with(&dup, &options).unwrap_err();
    assert!(
        matches!(err, DataError::DuplicateTimestamp { line: Line::Text(5), prev_line: Line::Text(3), .. }),
        "{err}"
    );
}

#[test]
fn a_given_delimiter_overrides_detection() {
    let text = "Date|Open|High|Low|Close|Volume\n2020-01-01|1|2|0.5|1.5|10\n";
    assert!(matches!(parse(text).unwrap_err(), DataError::MissingColumns { .. }));
    let options = LoadOptions { delimiter: Some('|'), ..LoadOptions::default() };
    assert_eq!(with(text, &options).unwrap()[0].close(), dec!(1.5));
}
