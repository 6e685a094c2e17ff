#!/usr/bin/env bash
# One SMA-cross run over N synthetic one-minute bars (default 1,000,000) as whole processes, side
# by side on the same file: `backtester run` with the Rhai script and with the WASM plugin, each with
# a cold cache (the CSV parsed; the plugin compiled too) and a warm one, the plugin once more with
# only the parsed bars dropped (a new data file, the plugin compiled before), and backtesting.py
# (benches/peers/sma_1m_backtesting_py.py). Prints wall time and peak memory of each.
#
# Needs a release build (`cargo build --release`), the plugins (`plugins/build.sh`) and
# backtesting.py in PYTHON's environment (default `python3`; e.g. a venv with
# `pip install backtesting pandas`); PEER=0 leaves the peer out (for the size table); BIN names
# another build of backtester (an earlier commit's, to compare).
# Run from anywhere: benches/peers/sma_1m.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bars="${1:-1000000}"
bin="${BIN:-${CARGO_TARGET_DIR:-target}/release/backtester}"
python="${PYTHON:-python3}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
file="$scratch/bars.csv"
"${CARGO_TARGET_DIR:-target}/release/examples/synthetic_csv" "$bars" > "$file"
echo "$bars bars, $(du -h "$file" | cut -f1) of CSV"
timed() {
    /usr/bin/time -f "%e s, peak RSS %M KB" "$@" 2>&1 >/dev/null | tail -1
}
for strategy in scripts/sma_cross.rhai plugins/target/wasm32-unknown-unknown/release/sma_cross.wasm; do
    cache="$scratch/cache-$(basename "$strategy")"
    echo "== backtester run $strategy, cold cache: $(BACKTESTER_CACHE_DIR="$cache" timed "$bin" run "$strategy" --data "X=$file" --json)"
    echo "== backtester run $strategy, warm cache: $(BACKTESTER_CACHE_DIR="$cache" timed "$bin" run "$strategy" --data "X=$file" --json)"
    if [ "${strategy##*.}" = wasm ]; then
        # The parsed bars dropped, the compiled plugin kept: the CSV parsed, as for a new data file.
        rm -f "$cache"/bars-* "$cache"/index-*
        echo "== backtester run $strategy, cold cache of bars, plugin compiled before: $(BACKTESTER_CACHE_DIR="$cache" timed "$bin" run "$strategy" --data "X=$file" --json)"
    fi
done
if [ "${PEER:-1}" != 0 ]; then
    echo "== backtesting.py: $(timed "$python" benches/peers/sma_1m_backtesting_py.py "$file")"
fi
