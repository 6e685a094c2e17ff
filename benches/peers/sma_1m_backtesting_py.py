"""backtesting.py on one SMA-cross run over a CSV of bars, as a whole process.

The SMA cross 10/20 (long only: buy on a cross up, close on a cross down),
cash 100,000, no commission, on the file given (the synthetic one-minute
bars of `examples/synthetic_csv.rs`, with a `Timestamp` column). Run by
`benches/peers/sma_1m.sh` beside `backtester run` on the same file; needs
`pip install backtesting pandas`.
"""

import sys

import pandas as pd
from backtesting import Backtest

# The same strategy as the sweep's peer script, beside this one.
from sma_sweep_backtesting_py import SmaCross


def main(path):
    data = pd.read_csv(path, parse_dates=["Timestamp"], index_col="Timestamp")
    stats = Backtest(data, SmaCross, cash=100_000, commission=0.0, finalize_trades=True).run()
    print(f"bars {len(data)}, trades {stats['# Trades']}, final equity {stats['Equity Final [$]']:.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
