#!/usr/bin/env bash
# The SMA-cross sweep of `cargo bench --bench sweeps` as whole processes, side by side:
# `backtester sweep` (the Rhai script and the WASM plugin) and backtesting.py's `optimize`
# (benches/peers/sma_sweep_backtesting_py.py) on the same grid, data and machine.
#
# Needs a release build (`cargo build --release`), the plugins (`plugins/build.sh`) and
# backtesting.py in PYTHON's environment (default `python3`; e.g. a venv with
# `pip install backtesting`). Run from anywhere: benches/peers/sma_sweep.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bin="${CARGO_TARGET_DIR:-target}/release/backtester"
python="${PYTHON:-python3}"
grid=(--data data/GOOG.csv --grid fast=2:20:1 --grid slow=10:100:10 --constraint 'fast < slow' --objective sharpe --top 1)
for strategy in scripts/sma_cross.rhai plugins/target/wasm32-unknown-unknown/release/sma_cross.wasm; do
    echo "== backtester sweep $strategy"
    /usr/bin/time -f "whole process: %e s, peak RSS %M KB" "$bin" sweep "$strategy" "${grid[@]}" 2>&1 | sed -n '1p;3p;$p'
done
echo "== backtesting.py"
/usr/bin/time -f "whole process: %e s, peak RSS %M KB" "$python" benches/peers/sma_sweep_backtesting_py.py data/GOOG.csv 2>&1
