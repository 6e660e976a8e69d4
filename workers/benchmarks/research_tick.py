"""`bench research`, tick part: the tick backtester against hftbacktest on the AMZN day.

Both replay the AMZN 2012-06-21 level-5 day (from the research store when it holds it, else the
shared LOBSTER files), rebuilt once into an order-by-order stream outside the timed region,
with the same market maker, L3 FIFO queue, 0.5 ms constant entry and response latency and the
same fees, under the rules both models share (whole fills, no trade-through, no hidden fills;
see tests/trading/research/tick/test_crosscheck_hftbacktest.py), so they do the same work and
produce the same fills, which is checked on every measured run.

- tick_events_per_s: LOBSTER messages replayed per second of the compiled run (the 155,935
  messages of the day; the synthetic adds of the rebuild are not counted);
- tick_vs_hftbacktest: hftbacktest's run time over ours, measured pairwise in the same round;
- tick_compile_s: compiling the kernels from scratch (an empty numba cache, in a child
  process); with ``quick``, loading them from the cache instead;
- tick_peak_rss_mb: peak RSS (``ru_maxrss``) of a spawned child process that loads the day,
  rebuilds it and runs it (the note gives the peak before the run, i.e. what loading costs, and
  hftbacktest's child: load, rebuild, convert, run).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from workers.benchmarks.figures import Figure

SYMBOL = "AMZN"
DATE = dt.date(2012, 6, 21)
LATENCY_NS = 500_000
MAKER_FEE, TAKER_FEE = -0.00002, 0.0003
INTERVAL_NS = 100_000_000


def load_amzn() -> tuple[np.ndarray, np.ndarray, str]:
    """The AMZN day's messages and orderbook, and where they came from."""
    try:
        from trading.research.store import MarketDataStore

        day = MarketDataStore().lobster_day(SYMBOL, DATE)
        return np.asarray(day.messages), np.asarray(day.orderbook), "store"
    except Exception:  # the store module, or this day in it, may be absent
        from trading.lobster import load_day
        from trading.shared_data import shared_data_dir

        path = shared_data_dir() / "lobster" / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"
        day = load_day(path)
        return day.messages, day.orderbook, "shared LOBSTER files"


def _backtest(messages: np.ndarray, orderbook: np.ndarray):
    from trading.research.tick.backtest import Fees, TickBacktest
    from trading.research.tick.latency import ConstantLatency

    return TickBacktest(
        messages,
        orderbook,
        latency=ConstantLatency(LATENCY_NS, LATENCY_NS),
        fees=Fees(MAKER_FEE, TAKER_FEE),
        interval_ns=INTERVAL_NS,
        whole_fills=True,
        trade_through=False,
        hidden_trades=False,
    )


def _peer(events, params):
    from workers.benchmarks.tick_peer import run_hftbacktest_mm

    return run_hftbacktest_mm(
        events,
        params,
        entry_ns=LATENCY_NS,
        response_ns=LATENCY_NS,
        maker_fee=MAKER_FEE,
        taker_fee=TAKER_FEE,
        interval_ns=INTERVAL_NS,
    )


def _child_rss(side: str, queue: mp.Queue) -> None:
    """Load, prepare and run one side; report its peak RSS in MB."""
    messages, orderbook, _ = load_amzn()
    bt = _backtest(messages, orderbook)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if side == "ours":
        bt.run()
    else:
        from workers.benchmarks.tick_peer import to_hftbacktest_l3

        _peer(to_hftbacktest_l3(bt.events), bt.params)
    queue.put((loaded, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _peak_rss(side: str) -> tuple[float, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_rss, args=(side, queue))
    proc.start()
    loaded, peak = queue.get(timeout=600)
    proc.join()
    return float(loaded), float(peak)


def _cold_compile_s() -> float:
    """Seconds `warm_up()` takes in a fresh interpreter with an empty numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        code = "from trading.research.tick.backtest import warm_up; print(warm_up())"
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        return float(out.stdout.strip().splitlines()[-1])


def measure(runs: int, quick: bool) -> list[Figure]:
    from trading.research.tick.backtest import warm_up
    from workers.benchmarks.tick_peer import to_hftbacktest_l3

    events_per_s = Figure(
        "tick_events_per_s", "tick backtester, AMZN day, L3 FIFO", "ev/s", target=5_000_000
    )
    ratio = Figure(
        "tick_vs_hftbacktest", "tick backtester vs hftbacktest (time ratio)", "x", target=1.0
    )
    compile_s = Figure("tick_compile_s", "tick backtester compile", "s", higher_is_better=False)
    rss = Figure("tick_peak_rss_mb", "tick backtester peak RSS", "MB", higher_is_better=False)

    if quick:
        compile_s.samples.append(warm_up())
        compile_s.note = "numba cache load (quick)"
    else:
        compile_s.samples.append(_cold_compile_s())
        compile_s.note = "empty numba cache, fresh interpreter"

    messages, orderbook, source = load_amzn()
    bt = _backtest(messages, orderbook)
    hbt_events = to_hftbacktest_l3(bt.events)
    ours = bt.run()  # warm: compiled kernels loaded
    peer = _peer(hbt_events, bt.params)  # warm: hftbacktest's strategy loop compiled
    for _ in range(max(1, runs)):
        ours = bt.run()
        peer = _peer(hbt_events, bt.params)
        if len(ours.fills) != len(peer.fills) or ours.position != peer.position:
            raise RuntimeError(
                f"tick backtester and hftbacktest disagree: {len(ours.fills)} vs "
                f"{len(peer.fills)} fills, position {ours.position} vs {peer.position}"
            )
        events_per_s.samples.append(ours.events_processed / ours.elapsed_s)
        ratio.samples.append(peer.elapsed_s / ours.elapsed_s)
    events_per_s.note = f"{ours.events_processed:,} messages from the {source}"
    ratio.note = f"{len(ours.fills)} fills, identical in both"

    loaded, peak = _peak_rss("ours")
    _, peer_peak = _peak_rss("peer")
    rss.samples.append(peak)
    rss.note = (
        f"child processes, ru_maxrss; {loaded:,.0f} MB after loading and rebuilding the "
        f"day; hftbacktest's child {peer_peak:,.0f} MB"
    )
    return [events_per_s, ratio, compile_s, rss]
