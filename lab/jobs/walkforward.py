"""Walk-forward optimisation of the crossover: the best parameters in each in-sample window,
applied to the next out-of-sample window; the out-of-sample pieces stitched into one curve."""

from __future__ import annotations

from typing import Any

import numpy as np

from lab.jobs import checks
from lab.jobs.crossover_grid import GRID_DEFAULTS, clean_grid, grid_returns
from lab.runner import JobOutput, ParamsError, ProgressFn

DEFAULTS: dict[str, Any] = GRID_DEFAULTS | {
    "train_days": 756,
    "test_days": 252,
    "anchored": False,
    "score": "sharpe",
}


def clean(params: dict[str, Any]) -> dict[str, Any]:
    clean_grid(params)
    checks.integer(params, "train_days", low=20)
    checks.integer(params, "test_days", low=1)
    checks.choice(params, "score", ("sharpe", "total_return"))
    if not isinstance(params["anchored"], bool):
        raise ParamsError(f"anchored: expected true or false, got {params['anchored']!r}")
    return params


def run(params: dict[str, Any], progress: ProgressFn) -> JobOutput:
    from trading.research.report import RunRecord, build_report
    from trading.research.validation.walk_forward import (
        sharpe_score,
        total_return_score,
        walk_forward_matrix,
    )

    dates, returns, grid = grid_returns(params, progress)
    if len(dates) < params["train_days"] + params["test_days"]:
        raise ParamsError(
            f"train_days + test_days = {params['train_days'] + params['test_days']} bars, "
            f"only {len(dates)} in range"
        )
    progress(0.6, "selecting window by window")
    result = walk_forward_matrix(
        returns, params["train_days"], params["test_days"], anchored=params["anchored"],
        score=sharpe_score if params["score"] == "sharpe" else total_return_score,
        param_grid=grid,
    )  # fmt: skip
    equity = result.equity(100_000.0)
    record = RunRecord(
        name=f"Walk-forward MA crossover on {params['symbol']}",
        kind="walkforward",
        timestamps=np.asarray(dates)[result.oos_index].astype("datetime64[ns]").astype(np.int64),
        equity=equity,
        params=params,
    )
    report = build_report(record)
    figures = dict(report.figures)
    windows = [
        {k: (list(v) if isinstance(v, tuple) else v) for k, v in row.items()} | {
            "train": f"{dates[row['train_start']]} .. {dates[row['train_stop'] - 1]}",
            "test": f"{dates[row['test_start']]} .. {dates[row['test_stop'] - 1]}",
        }
        for row in result.table()
    ]  # fmt: skip
    figures["windows"] = windows
    figures["parameter_sets"] = len(grid)
    s = figures["summary"]
    figures["digest"] = {
        "windows": f"{len(windows)} (train {params['train_days']}, test {params['test_days']} bars"
        f"{', anchored' if params['anchored'] else ''})",
        "parameter sets": len(grid),
        "out-of-sample": f"{s['start']} .. {s['end']}",
        "OOS total return": "—" if s["total_return"] is None else f"{s['total_return']:+.2%}",
        "OOS Sharpe": "—" if s["sharpe"] is None else f"{s['sharpe']:.2f}",
        "mean IS / OOS score": f"{np.nanmean(result.is_scores):.3f} / "
        f"{np.nanmean(result.oos_scores):.3f}",
    }
    progress(1.0, "done")
    return JobOutput(figures=figures, report_html=report.html(), summary=record.name)
