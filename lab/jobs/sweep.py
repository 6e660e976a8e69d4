"""Moving-average crossover sweep: every (fast, slow, ticker) of a grid, in one process or fanned
out over Celery workers in chunks.

Both ways run the same compiled chunks over the same closes and merge them in combination
order, so a fanned-out sweep's figures equal the single-process ones exactly; `returns_sha256`
(a digest of every total return's bytes) makes that checkable at a glance.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import numpy as np
from django.db.models import F
from django.utils import timezone

from lab.jobs import checks
from lab.jobs.data import daily_closes
from lab.models import ResearchRun, RunStatus
from lab.runner import JobOutput, ParamsError, ProgressFn, json_safe

DEFAULTS: dict[str, Any] = {
    "symbols": [],
    "start": None,
    "end": None,
    "fast": [2, 101],
    "slow": [102, 201],
    "fee": 0.001,
    "long_only": True,
    "init_cash": 100.0,
    "chunks": 8,
    "fan_out": True,
}


def clean(params: dict[str, Any]) -> dict[str, Any]:
    if params["symbols"]:
        checks.symbols(params, "symbols")
    checks.date_or_none(params, "start")
    checks.date_or_none(params, "end")
    fast = checks.window_range(params, "fast")
    slow = checks.window_range(params, "slow")
    if fast[0] >= slow[1]:
        raise ParamsError(f"fast {fast} and slow {slow}: no fast window is shorter than a slow one")
    checks.number(params, "fee", low=0.0, high=0.1)
    checks.number(params, "init_cash", low=1e-6)
    checks.integer(params, "chunks", low=1, high=10_000)
    for flag in ("long_only", "fan_out"):
        if not isinstance(params[flag], bool):
            raise ParamsError(f"{flag}: expected true or false, got {params[flag]!r}")
    return params


def grid(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    fast = np.arange(params["fast"][0], params["fast"][1] + 1, dtype=np.int64)
    slow = np.arange(params["slow"][0], params["slow"][1] + 1, dtype=np.int64)
    return fast, slow


def _chunk(params: dict[str, Any], closes: np.ndarray, start: int, stop: int):
    from trading.research.bars.sweep import sweep_chunk

    fast, slow = grid(params)
    return sweep_chunk(
        closes, fast, slow, start, stop,
        fee=params["fee"], long_only=params["long_only"], init_cash=params["init_cash"],
    )  # fmt: skip


def _plan(params: dict[str, Any], n_tickers: int) -> list[tuple[int, int]]:
    from trading.research.bars.sweep import count_combos, plan_chunks

    fast, slow = grid(params)
    return plan_chunks(count_combos(n_tickers, fast, slow), params["chunks"])


def run(params: dict[str, Any], progress: ProgressFn) -> JobOutput:
    """The whole sweep in this process, chunk after chunk (cancellable between chunks)."""
    from trading.research.bars.sweep import merge_sweeps

    progress(0.0, "loading daily closes")
    symbols, dates, closes = daily_closes(params)
    bounds = _plan(params, len(symbols))
    total = bounds[-1][1]
    parts = []
    for start, stop in bounds:
        parts.append(_chunk(params, closes, start, stop))
        progress(stop / total, f"{stop:,} of {total:,} backtests")
    return output(params, symbols, dates, closes, merge_sweeps(parts))


def output(params, symbols, dates, closes, result) -> JobOutput:
    """Figures and report of a complete sweep (the same for both ways of running it)."""
    fast, slow = grid(params)
    returns = result.grid("total_return")  # (ticker, fast, slow)
    trades = result.grid("n_trades")
    best = []
    for t, symbol in enumerate(symbols):
        i, j = np.unravel_index(int(np.argmax(returns[t])), returns[t].shape)
        best.append({
            "symbol": symbol, "fast": int(fast[i]), "slow": int(slow[j]),
            "total_return": float(returns[t, i, j]), "trades": int(trades[t, i, j]),
            "buy_and_hold": float(closes[-1, t] / closes[0, t] - 1.0),
        })  # fmt: skip
    flat = result.total_return
    order = np.argsort(-flat, kind="stable")[:10]
    ticker, fast_of, slow_of = result.combos()
    top = [
        {"symbol": symbols[int(ticker[k])], "fast": int(fast_of[k]), "slow": int(slow_of[k]),
         "total_return": float(flat[k])}
        for k in order
    ]  # fmt: skip
    mean_grid = returns.mean(axis=0)
    figures = {
        "symbols": symbols,
        "start": str(dates[0]),
        "end": str(dates[-1]),
        "bars": int(len(dates)),
        "fast": [int(fast[0]), int(fast[-1])],
        "slow": [int(slow[0]), int(slow[-1])],
        "parameter_sets": int(fast.size * slow.size),
        "backtests": int(flat.size),
        "returns_sha256": hashlib.sha256(np.ascontiguousarray(flat).tobytes()).hexdigest(),
        "best_per_symbol": best,
        "top": top,
        "mean_total_return": mean_grid.tolist(),
        "digest": {
            "backtests": f"{flat.size:,} ({fast.size * slow.size:,} sets x {len(symbols)} tickers)",
            "bars": f"{len(dates)} ({dates[0]} .. {dates[-1]})",
            "best": f"{top[0]['symbol']} {top[0]['fast']}/{top[0]['slow']}: "
            f"{top[0]['total_return']:+.2%}",
            "median total return": f"{float(np.median(flat)):+.2%}",
        },
    }
    html = best_run_report(params, symbols, dates, closes, top[0])
    return JobOutput(figures=figures, report_html=html, summary=figures["digest"]["best"])


def best_run_report(params, symbols, dates, closes, best) -> str:
    """The report of the sweep's best combination, backtested on its own."""
    from lab.jobs.backtest import ma_crossover_record
    from trading.research.report import build_report

    column = symbols.index(best["symbol"])
    record = ma_crossover_record(
        f"Sweep best: {best['symbol']} MA {best['fast']}/{best['slow']}",
        dates, closes[:, column], best["fast"], best["slow"],
        fees=params["fee"], long_only=params["long_only"], init_cash=params["init_cash"],
        params={k: params[k] for k in ("fast", "slow", "fee", "long_only")} | {"symbols": symbols},
    )  # fmt: skip
    return build_report(record).html()


# ---- fanned out over Celery workers -------------------------------------------------------


def fan_out(run: ResearchRun):
    """Queue the run's chunks on the workers; the last one to finish triggers the merge."""
    from lab.tasks import fan_out_chord

    symbols, _dates, _closes = daily_closes(run.params)
    bounds = _plan(run.params, len(symbols))
    ResearchRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now(),
        progress_note=f"{len(bounds)} chunks queued",
    )  # fmt: skip
    return fan_out_chord(run.pk, bounds)


def run_chunk(run_id: int, start: int, stop: int) -> dict[str, Any]:
    """One chunk on a worker: its results as JSON-able lists (exact: floats round-trip)."""
    run = ResearchRun.objects.get(pk=run_id)
    if run.cancel_requested or run.finished:
        return {"start": start, "stop": stop, "skipped": True}
    _symbols, _dates, closes = daily_closes(run.params)
    started = time.perf_counter()
    part = _chunk(run.params, closes, start, stop)
    total = _plan(run.params, closes.shape[1])[-1][1]
    ResearchRun.objects.filter(pk=run_id).update(
        progress=F("progress") + (stop - start) / total,
        progress_note=f"chunk {start:,}..{stop:,} in {time.perf_counter() - started:.2f} s",
    )  # fmt: skip
    return {
        "start": start,
        "stop": stop,
        "skipped": False,
        "final_value": _pack(part.final_value, np.float64),
        "n_orders": _pack(part.n_orders, np.int64),
        "n_trades": _pack(part.n_trades, np.int64),
    }


def _pack(values: np.ndarray, dtype) -> str:
    """An array as base64 of its little-endian bytes: exact, and a fraction of JSON's size."""
    return base64.b64encode(
        np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    ).decode()


def _unpack(text: str, dtype) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<")).astype(
        dtype
    )


def merge_chunks(run_id: int, chunks: list[dict[str, Any]]) -> str:
    """Join the chunks in combination order and finish the run (or record why not)."""
    from trading.research.bars.sweep import SweepResult, merge_sweeps

    run = ResearchRun.objects.get(pk=run_id)
    if run.cancel_requested or any(c["skipped"] for c in chunks):
        _finish(run, RunStatus.CANCELLED, error="cancelled")
        return run.status
    try:
        symbols, dates, closes = daily_closes(run.params)
        fast, slow = grid(run.params)
        parts = []
        for c in chunks:
            final_value = _unpack(c["final_value"], np.float64)
            parts.append(SweepResult(
                fast, slow, len(symbols), c["start"], c["stop"],
                final_value / run.params["init_cash"] - 1.0, final_value,
                _unpack(c["n_orders"], np.int64), _unpack(c["n_trades"], np.int64),
                float(run.params["init_cash"]), float(run.params["fee"]), bool(run.params["long_only"]),
            ))  # fmt: skip
        result = output(run.params, symbols, dates, closes, merge_sweeps(parts))
    except Exception as exc:  # recorded with the run: a merge failure must not vanish in a worker
        _finish(run, RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    run.figures = json_safe(result.figures)
    run.report = result.report_html
    run.progress = 1.0
    _finish(run, RunStatus.DONE)
    return run.status


def _finish(run: ResearchRun, status: str, *, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    began = run.started_at or run.created_at
    run.elapsed_s = (run.finished_at - began).total_seconds()
    run.save()
