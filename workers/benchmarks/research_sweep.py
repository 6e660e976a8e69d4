"""`bench research`, bar sweeps: the moving-average crossover grid against vectorbt and
backtrader on the shared daily data.

- sweep_vs_vectorbt: 10,000 parameter sets (fast 2..101 x slow 102..201, long only, fee 0.1 %,
  fill at the close) over 4 tickers in one job; vectorbt's time over ours on the same grid, run
  in a child process in column chunks (vectorbt holds every column's signals and records, about
  2.6 GiB per 10,000 columns) with the chunk times summed. Total returns must agree to 1e-9.
- sweep_vs_backtrader: 100 of those sets on one ticker through a backtrader strategy with the
  same rule (cheat-on-close so it fills at the close, 0.1 % commission, all-in sizing).
- sweep_full_28_s: all shared tickers x 10,000 sets (280,000 backtests), ours alone.
- sweep_compile_s: compiling the sweep kernels from an empty numba cache, in a child process.
- sweep_peak_rss_mb: peak RSS (getrusage ru_maxrss) of a child process that runs the full
  28-ticker sweep; vectorbt's child reports its own peak for the 4-ticker grid.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from functools import cache

import numpy as np

from trading.research.bars.sweep import count_combos, decode_combos, sweep_ma_crossover
from trading.shared_data import PROJECT_ROOT, shared_data_dir
from workers.benchmarks.figures import Figure

TICKERS_4 = ("KO", "PEP", "SPY", "XOM")
BACKTRADER_TICKER = "KO"
FEE = 0.001
INIT_CASH = 100.0
VECTORBT_CHUNK_COLUMNS = 2_500
TOLERANCE = 1e-9


def grid(quick: bool) -> tuple[np.ndarray, np.ndarray]:
    """The benchmark grid: 100 x 100 sets, or 25 x 25 in quick mode."""
    if quick:
        return np.arange(2, 27), np.arange(102, 127)
    return np.arange(2, 102), np.arange(102, 202)


def all_daily_symbols() -> list[str]:
    return sorted(
        p.name.removesuffix(".csv.gz") for p in (shared_data_dir() / "daily").glob("*.csv.gz")
    )


@cache
def daily_closes(symbols: tuple[str, ...]) -> np.ndarray:
    """Adjusted closes (n_days, n_symbols), oldest first, on the dates all symbols share: from
    the market data store when it holds them, else from the shared CSVs."""
    try:
        from trading.research.store import MarketDataStore, default_store_root

        store = MarketDataStore(default_store_root())
        if set(symbols) <= set(store.symbols("daily")):
            return np.asarray(store.aligned_closes(list(symbols))[1], dtype=np.float64)
    except (ImportError, OSError, LookupError, ValueError):
        pass
    columns = []
    for symbol in symbols:
        with gzip.open(shared_data_dir() / "daily" / f"{symbol}.csv.gz", "rt") as handle:
            header = handle.readline().strip().split(",")
            d, c = header.index("timestamp"), header.index("adjusted_close")
            rows = (line.split(",") for line in handle if line.strip())
            columns.append({row[d]: float(row[c]) for row in rows})
    dates = sorted(set.intersection(*(set(col) for col in columns)))
    return np.array([[col[day] for col in columns] for day in dates], dtype=np.float64)


# -- vectorbt ---------------------------------------------------------------------------------


def vectorbt_sweep(close: np.ndarray, fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """Total returns of the grid through vectorbt, ticker-major like ours, in column chunks:
    each ticker's averages once per window (`MA.run`), crossovers with the `vbt` accessor,
    `Portfolio.from_signals` with fill at the close."""
    import pandas as pd
    import vectorbt as vbt

    out = np.empty(count_combos(close.shape[1], fast, slow))
    per_ticker = fast.size * slow.size
    for t in range(close.shape[1]):
        price = pd.Series(close[:, t])
        fast_ma = vbt.MA.run(price, list(fast)).ma.to_numpy()
        slow_ma = vbt.MA.run(price, list(slow)).ma.to_numpy()
        for start in range(0, per_ticker, VECTORBT_CHUNK_COLUMNS):
            local = np.arange(start, min(start + VECTORBT_CHUNK_COLUMNS, per_ticker))
            fi, si = np.divmod(local, slow.size)
            f = pd.DataFrame(fast_ma[:, fi])
            s = pd.DataFrame(slow_ma[:, si])
            entries = f.vbt.crossed_above(s)
            exits = f.vbt.crossed_below(s)
            portfolio = vbt.Portfolio.from_signals(
                price, entries, exits, fees=FEE, init_cash=INIT_CASH, freq="1D"
            )
            out[t * per_ticker + local] = portfolio.total_return().to_numpy()
    return out


def _vectorbt_child(conn, symbols: tuple[str, ...], quick: bool) -> None:
    fast, slow = grid(quick)
    close = daily_closes(symbols)
    vectorbt_sweep(close[:400], fast[:2], slow[:2])  # compile / load vectorbt's kernels
    start = time.perf_counter()
    returns = vectorbt_sweep(close, fast, slow)
    elapsed = time.perf_counter() - start
    conn.send((elapsed, returns, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    conn.close()


def _in_child(target, *args):
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=target, args=(child, *args))
    process.start()
    child.close()
    result = parent.recv()
    process.join()
    if process.exitcode:
        raise RuntimeError(f"{target.__name__} child exited with {process.exitcode}")
    return result


# -- backtrader -------------------------------------------------------------------------------


def backtrader_sweep(close: np.ndarray, fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """Total returns of (fast, slow) on one close series through backtrader, fast-major:
    SMA crossover, all-in buy on the cross above, close on the cross below, cheat-on-close
    fills at the bar's close, 0.1 % commission, fractional shares."""
    import backtrader as bt
    import pandas as pd

    class Crossover(bt.Strategy):
        params = (("fast", 10), ("slow", 30))

        def __init__(self) -> None:
            fast_ma = bt.indicators.SMA(self.data.close, period=self.p.fast)
            slow_ma = bt.indicators.SMA(self.data.close, period=self.p.slow)
            self.cross = bt.indicators.CrossOver(fast_ma, slow_ma)

        def next(self) -> None:
            if not self.position and self.cross[0] > 0:
                # All the cash, less a hair so rounding never makes the order exceed it.
                size = self.broker.getcash() / (self.data.close[0] * (1 + FEE)) * (1 - 1e-12)
                self.buy(size=size)
            elif self.position and self.cross[0] < 0:
                self.close()

        def stop(self) -> None:
            self.final_value = self.broker.getvalue()

    frame = pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close, "volume": 1e9},
        index=pd.date_range("2000-01-03", periods=close.size, freq="D"),
    )
    cerebro = bt.Cerebro(stdstats=False, optreturn=False, maxcpus=1)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.broker.setcash(INIT_CASH)
    cerebro.broker.setcommission(commission=FEE)
    cerebro.broker.set_coc(True)
    cerebro.optstrategy(Crossover, fast=list(map(int, fast)), slow=list(map(int, slow)))
    finals = {}
    for run in cerebro.run():
        strategy = run[0]
        finals[(strategy.p.fast, strategy.p.slow)] = strategy.final_value
    return np.array([finals[(int(f), int(s))] / INIT_CASH - 1.0 for f in fast for s in slow])


# -- ours in children -------------------------------------------------------------------------


def _full_sweep_child(conn, symbols: tuple[str, ...], quick: bool) -> None:
    fast, slow = grid(quick)
    close = daily_closes(symbols)
    start = time.perf_counter()
    sweep_ma_crossover(close, fast, slow, fee=FEE, init_cash=INIT_CASH)
    elapsed = time.perf_counter() - start
    conn.send((elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    conn.close()


_COMPILE_SCRIPT = """
import json, time
import numpy as np
start = time.perf_counter()
from trading.research.bars.sweep import sweep_ma_crossover
imported = time.perf_counter()
close = np.linspace(10.0, 20.0, 300)[:, None] * np.array([[1.0, 1.1]])
sweep_ma_crossover(close, [2, 3], [20, 21])
first = time.perf_counter()
sweep_ma_crossover(close, [2, 3], [20, 21])
second = time.perf_counter()
print(json.dumps({"first_call_s": first - imported, "steady_s": second - first}))
"""


def compile_seconds(cold: bool) -> float:
    """First-call minus steady-call time of the sweep in a fresh interpreter; `cold` points
    numba at an empty cache directory so everything is compiled."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as cache_dir:
        if cold:
            env["NUMBA_CACHE_DIR"] = cache_dir
        out = subprocess.run(
            [sys.executable, "-c", _COMPILE_SCRIPT], env=env, capture_output=True, text=True,
            check=True, timeout=900,
        )  # fmt: skip
    times = json.loads(out.stdout.strip().splitlines()[-1])
    return times["first_call_s"] - times["steady_s"]


# -- the figures ------------------------------------------------------------------------------


def measure(runs: int, quick: bool) -> list[Figure]:
    fast, slow = grid(quick)
    n_sets = fast.size * slow.size
    close4 = daily_closes(TICKERS_4)
    symbols = tuple(all_daily_symbols())
    close_all = daily_closes(symbols)

    vs_vectorbt = Figure(
        "sweep_vs_vectorbt", f"bar sweep {n_sets:,} sets x 4 tickers, vectorbt / ours", "x", 10.0
    )
    ours_s = Figure("sweep_4_tickers_s", "bar sweep 4 tickers, ours", "s", higher_is_better=False)
    vbt_s = Figure(
        "sweep_vectorbt_4_tickers_s", "bar sweep 4 tickers, vectorbt", "s", higher_is_better=False
    )
    vs_backtrader = Figure("sweep_vs_backtrader", "bar sweep subset, backtrader / ours", "x")
    full_s = Figure(
        "sweep_full_28_s", f"bar sweep {len(symbols)} tickers x {n_sets:,} sets, ours", "s",
        higher_is_better=False,
    )  # fmt: skip
    full_rate = Figure("sweep_full_28_backtests_per_s", "bar sweep, all tickers", "backtests/s")
    compile_s = Figure(
        "sweep_compile_s", "bar sweep kernels compile (cold cache)", "s", higher_is_better=False
    )
    peak = Figure(
        "sweep_peak_rss_mb", "bar sweep peak RSS, all tickers", "MB", higher_is_better=False
    )
    vbt_peak = Figure(
        "sweep_vectorbt_peak_rss_mb", "bar sweep peak RSS, vectorbt 4 tickers", "MB",
        higher_is_better=False,
    )  # fmt: skip

    sweep_ma_crossover(close4[:300], fast[:2], slow[:2])  # compile or load the cached kernels
    worst = 0.0
    for _ in range(runs):
        start = time.perf_counter()
        ours = sweep_ma_crossover(close4, fast, slow, fee=FEE, init_cash=INIT_CASH)
        mine = time.perf_counter() - start
        theirs, returns, rss = _in_child(_vectorbt_child, TICKERS_4, quick)
        worst = max(worst, float(np.abs(returns - ours.total_return).max()))
        if worst > TOLERANCE:
            raise RuntimeError(f"sweep total returns differ from vectorbt's by {worst:.3g}")
        ours_s.samples.append(mine)
        vbt_s.samples.append(theirs)
        vs_vectorbt.samples.append(theirs / mine)
        vbt_peak.samples.append(rss)
    vs_vectorbt.note = (
        f"{count_combos(4, fast, slow):,} backtests, {close4.shape[0]} bars; total returns "
        f"equal to vectorbt's within {worst:.1e} (<= {TOLERANCE:g})"
    )

    bt_fast = fast[:5] if quick else fast[:10]
    bt_slow = slow[:2] if quick else slow[:10]
    series = daily_closes((BACKTRADER_TICKER,))
    bt_worst = 0.0
    for _ in range(runs):
        start = time.perf_counter()
        ours = sweep_ma_crossover(series, bt_fast, bt_slow, fee=FEE, init_cash=INIT_CASH)
        mine = time.perf_counter() - start
        start = time.perf_counter()
        theirs = backtrader_sweep(series[:, 0], bt_fast, bt_slow)
        elapsed = time.perf_counter() - start
        bt_worst = max(bt_worst, float(np.abs(theirs - ours.total_return).max()))
        vs_backtrader.samples.append(elapsed / mine)
    vs_backtrader.note = (
        f"{bt_fast.size * bt_slow.size} sets on {BACKTRADER_TICKER}; backtrader "
        f"{bt_fast.size * bt_slow.size / elapsed:.1f} backtests/s; total returns within "
        f"{bt_worst:.1e} of ours"
    )

    for _ in range(runs):
        start = time.perf_counter()
        sweep_ma_crossover(close_all, fast, slow, fee=FEE, init_cash=INIT_CASH)
        elapsed = time.perf_counter() - start
        full_s.samples.append(elapsed)
        full_rate.samples.append(count_combos(len(symbols), fast, slow) / elapsed)
    full_s.note = (
        f"{count_combos(len(symbols), fast, slow):,} backtests over {close_all.shape[0]} "
        f"shared days, {os.cpu_count()} cores"
    )

    elapsed, rss = _in_child(_full_sweep_child, symbols, quick)
    peak.samples.append(rss)
    peak.note = f"child process running the {len(symbols)}-ticker sweep ({elapsed:.2f} s)"
    compile_s.samples.append(compile_seconds(cold=True))
    compile_s.note = f"cached kernels load in {compile_seconds(cold=False):.2f} s"

    # Keep decode_combos's numbering and vectorbt's in step: a spot check of one combination.
    ticker, f, s = decode_combos(np.array([n_sets + 1]), fast, slow)
    assert (ticker[0], f[0], s[0]) == (1, fast[0], slow[1])
    return [vs_vectorbt, ours_s, vbt_s, vs_backtrader, full_s, full_rate, compile_s, peak, vbt_peak]
