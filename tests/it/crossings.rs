//! `ctx.cross` through the CLI: backtrader's rule on exact ties.

use crate::helpers::{backtester, write};

#[test]
fn a_touch_and_return_and_a_tie_on_the_first_bar_are_no_crosses() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(
        dir.path(),
        "crosses.rhai",
        r#"
fn init(ctx) { ctx.sma("c", 1); }
fn on_bar(ctx) {
    let x = ctx.cross("c", 10.0);
    if x != 0 { ctx.log(`cross ${x} at ${ctx.bar_index()}`); }
}
"#,
    );
    // Closes 10 (a tie on the first bar), 11, 10, 11 (a touch and return),
    // 9 (a cross down), 10, 11 (a cross up through a tie).
    let mut csv = String::from("Date,Open,High,Low,Close,Volume\n");
    for (day, close) in [10, 11, 10, 11, 9, 10, 11].into_iter().enumerate() {
        csv.push_str(&format!("2024-01-{:02},{close},{close},{close},{close},100\n", day + 1));
    }
    let data = write(dir.path(), "X.csv", &csv);
    let out = backtester(&["run", &script, "--data", &data]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8(out.stderr).unwrap();
    let crosses: Vec<&str> = log.lines().filter_map(|l| l.split("] ").nth(1)).collect();
    assert_eq!(crosses, ["cross -1 at 4", "cross 1 at 6"], "{log}");
}
