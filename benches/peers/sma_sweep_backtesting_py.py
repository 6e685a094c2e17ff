"""backtesting.py's `optimize` over the grid of `cargo bench --bench sweeps`.

The SMA cross (long only: buy on a cross up, close on a cross down) on
data/GOOG.csv, fast 2..20 x slow 10..100 step 10 with fast < slow (178
variants), cash 100,000, no commission. Prints variants, seconds and
variants per second. Run by `benches/peers/sma_sweep.sh` beside
`backtester sweep` on the same grid; needs `pip install backtesting`.
"""

import sys
import time

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import SMA


class SmaCross(Strategy):
    fast = 10
    slow = 20

    def init(self):
        self.sma_fast = self.I(SMA, self.data.Close, self.fast)
        self.sma_slow = self.I(SMA, self.data.Close, self.slow)

    def next(self):
        if crossover(self.sma_fast, self.sma_slow):
            self.buy()
        elif crossover(self.sma_slow, self.sma_fast):
            self.position.close()


def main(path):
    data = pd.read_csv(path, parse_dates=["Date"], index_col="Date")
    bt = Backtest(data, SmaCross, cash=100_000, commission=0.0, finalize_trades=True)
    started = time.perf_counter()
    stats, heatmap = bt.optimize(
        fast=range(2, 21),
        slow=range(10, 101, 10),
        constraint=lambda p: p.fast < p.slow,
        maximize="Sharpe Ratio",
        return_heatmap=True,
    )
    seconds = time.perf_counter() - started
    variants = len(heatmap)
    print(f"backtesting.py optimize: {variants} variants in {seconds:.2f} s: {variants / seconds:.1f} variants/s")
    print(f"best: fast={stats._strategy.fast} slow={stats._strategy.slow} sharpe={stats['Sharpe Ratio']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/GOOG.csv")
