"""Combinatorial purged cross-validation of crossover selection: a distribution of
out-of-sample backtest paths, the probability of backtest overfitting and the deflated Sharpe
ratio of the in-sample winner."""

from __future__ import annotations

from typing import Any

import numpy as np

from lab.jobs import checks
from lab.jobs.crossover_grid import GRID_DEFAULTS, clean_grid, grid_returns
from lab.runner import JobOutput, ParamsError, ProgressFn

DEFAULTS: dict[str, Any] = GRID_DEFAULTS | {
    "n_groups": 6,
    "n_test_groups": 2,
    "embargo": 0.01,
    "label_days": 1,
    "pbo_partitions": 16,
}


def clean(params: dict[str, Any]) -> dict[str, Any]:
    clean_grid(params)
    groups = checks.integer(params, "n_groups", low=2, high=20)
    tests = checks.integer(params, "n_test_groups", low=1)
    if tests >= groups:
        raise ParamsError(f"n_test_groups: must be below n_groups={groups}, got {tests}")
    checks.number(params, "embargo", low=0.0, high=0.5)
    checks.integer(params, "label_days", low=1)
    parts = checks.integer(params, "pbo_partitions", low=2, high=24)
    if parts % 2:
        raise ParamsError(f"pbo_partitions: must be even, got {parts}")
    return params


def _sharpe(r: np.ndarray) -> float:
    std = r.std(ddof=1)
    return float(r.mean() / std) if std > 0 else float("nan")


def run(params: dict[str, Any], progress: ProgressFn) -> JobOutput:
    from trading.research.validation.overfitting import (
        deflated_sharpe_ratio,
        probability_of_backtest_overfitting,
    )
    from trading.research.validation.purged_cv import combinatorial_purged_cv, cpcv_paths

    dates, returns, grid = grid_returns(params, progress)
    n = len(dates)
    # Each bar's label is the return over the next `label_days` bars: that span is what the
    # purge keeps out of training when a test block sits next to it.
    t0 = np.arange(n)
    t1 = np.minimum(t0 + params["label_days"], n - 1)
    cv = combinatorial_purged_cv(
        t0, t1, params["n_groups"], params["n_test_groups"], embargo=params["embargo"]
    )
    progress(0.55, f"{cv.n_splits} splits, {cv.n_paths} paths")
    chosen, per_split = [], []
    for split in cv.splits:
        train_sharpes = np.array([_sharpe(returns[split.train, k]) for k in range(len(grid))])
        best = int(np.nanargmax(train_sharpes)) if np.isfinite(train_sharpes).any() else 0
        chosen.append(best)
        per_split.append(returns[split.test, best])
    paths = cpcv_paths(cv, per_split)  # (n_paths, n_obs)
    progress(0.75, "probability of backtest overfitting")
    pbo = probability_of_backtest_overfitting(returns, params["pbo_partitions"])
    trial_sharpes = np.array([_sharpe(returns[:, k]) for k in range(len(grid))])
    finite = trial_sharpes[np.isfinite(trial_sharpes)]
    winner = int(np.nanargmax(trial_sharpes))
    dsr = deflated_sharpe_ratio(returns[:, winner], trial_sharpes=finite)
    path_sharpes = np.array([_sharpe(p) * np.sqrt(252) for p in paths])
    path_returns = np.prod(1.0 + paths, axis=1) - 1.0
    figures = {
        "symbol": params["symbol"],
        "start": str(dates[0]),
        "end": str(dates[-1]),
        "parameter_sets": len(grid),
        "splits": cv.n_splits,
        "paths": cv.n_paths,
        "path_sharpe": path_sharpes.tolist(),
        "path_total_return": path_returns.tolist(),
        "chosen_per_split": [list(grid[k]) for k in chosen],
        "pbo": pbo.pbo,
        "pbo_logits": pbo.logits.tolist(),
        "pbo_probability_of_loss": pbo.probability_of_loss,
        "best_full_sample": {"fast": grid[winner][0], "slow": grid[winner][1],
                             "sharpe_annual": float(trial_sharpes[winner] * np.sqrt(252))},
        "deflated_sharpe": {"dsr": dsr.dsr, "sharpe": dsr.sharpe, "benchmark_sharpe":
                            dsr.benchmark_sharpe, "n_trials": dsr.n_trials},
        "digest": {
            "data": f"{params['symbol']} {dates[0]} .. {dates[-1]} ({n} bars)",
            "CPCV": f"N={params['n_groups']}, k={params['n_test_groups']}: {cv.n_splits} splits, "
            f"{cv.n_paths} paths, embargo {params['embargo']:.1%}",
            "path Sharpe (annual)": f"median {np.nanmedian(path_sharpes):.2f}, "
            f"{np.nanmin(path_sharpes):.2f} .. {np.nanmax(path_sharpes):.2f}",
            "PBO": f"{pbo.pbo:.2f}",
            "deflated Sharpe": f"{dsr.dsr:.3f} (of {dsr.n_trials} trials)",
        },
    }  # fmt: skip
    progress(1.0, "done")
    return JobOutput(figures=figures, report_html=_report(figures), summary=f"PBO {pbo.pbo:.2f}")


def _report(figures: dict[str, Any]) -> str:
    """A small self-contained page: the digest and the distribution of path Sharpe ratios."""
    from html import escape

    from trading.research.report.charts import histogram_chart

    rows = "".join(
        f"<tr><th scope='row'>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
        for k, v in figures["digest"].items()
    )
    sharpes = np.asarray([s for s in figures["path_sharpe"] if s is not None and np.isfinite(s)])
    counts, edges = np.histogram(sharpes, bins=min(20, max(len(sharpes), 1)))
    chart = histogram_chart(
        chart_id="path-sharpe",
        title="Annualised Sharpe ratio of each CPCV backtest path",
        description=f"{len(sharpes)} paths; each bar counts the paths in a band of Sharpe ratios",
        edges=edges,
        counts=counts,
        x_format=lambda v: f"{v:.2f}",
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>CPCV {escape(figures['symbol'])}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#111}"
        "th{text-align:left;padding-right:1rem}</style></head><body>"
        f"<h1>Combinatorial purged CV: {escape(figures['symbol'])}</h1>"
        f"<table>{rows}</table><figure>{chart}</figure></body></html>"
    )
