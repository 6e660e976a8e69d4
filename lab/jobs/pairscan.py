"""Pair scan: every pair of daily series screened by correlation and ranked by cointegration."""

from __future__ import annotations

from typing import Any

from lab.jobs import checks
from lab.jobs.data import daily_closes
from lab.runner import JobOutput, ParamsError, ProgressFn

DEFAULTS: dict[str, Any] = {
    "symbols": [],
    "paths": [],
    "start": None,
    "end": None,
    "min_correlation": 0.7,
    "max_pvalue": 0.05,
    "top": 0,
}


def clean(params: dict[str, Any]) -> dict[str, Any]:
    if params["symbols"]:
        checks.symbols(params, "symbols", minimum=2)
    paths = params["paths"]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ParamsError(f"paths: expected a list of file paths, got {paths!r}")
    if paths and params["symbols"]:
        raise ParamsError("give either symbols (from the store) or paths (CSV files), not both")
    if paths and len(paths) < 2:
        raise ParamsError(f"paths: a pair needs at least 2 files, got {len(paths)}")
    checks.date_or_none(params, "start")
    checks.date_or_none(params, "end")
    checks.number(params, "min_correlation", low=-1.0, high=1.0)
    checks.number(params, "max_pvalue", low=0.0, high=1.0)
    checks.integer(params, "top", low=0)
    return params


def run(params: dict[str, Any], progress: ProgressFn) -> JobOutput:
    from trading.research.cointegration import rank_pairs

    progress(0.0, "loading daily closes")
    symbols, dates, closes = daily_closes(params)
    progress(0.1, f"{len(symbols)} series, {len(dates)} common days")
    pairs = rank_pairs(
        dates,
        closes,
        symbols,
        min_correlation=params["min_correlation"],
        max_pvalue=params["max_pvalue"],
    )
    if params["top"]:
        pairs = pairs[: params["top"]]
    progress(1.0, f"{len(pairs)} pairs")
    ranked = [pair.as_dict() for pair in pairs]
    figures = {
        "pairs": ranked,
        "symbols": symbols,
        "start": str(dates[0]),
        "end": str(dates[-1]),
        "days": int(len(dates)),
        "candidates": len(symbols) * (len(symbols) - 1) // 2,
        "digest": {
            "series": len(symbols),
            "common days": f"{len(dates)} ({dates[0]} .. {dates[-1]})",
            "pairs kept": len(ranked),
            "best": f"{ranked[0]['a']}/{ranked[0]['b']} p={ranked[0]['pvalue']:.4g}"
            if ranked
            else "none",
        },
    }
    return JobOutput(figures=figures, summary=f"{len(ranked)} cointegrated pairs")
