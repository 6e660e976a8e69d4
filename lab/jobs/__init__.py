"""The work behind each kind of research run: parameters checked, then a plain function run.

Each job module declares `DEFAULTS` (every accepted parameter with its default), a `clean`
function that checks values and returns the parameters to store, and `run(params, progress)`
returning a `JobOutput`. Unknown parameters are refused by name, so a typo never silently
becomes a default.
"""

from __future__ import annotations

import importlib
from typing import Any

from lab.runner import JobOutput, ParamsError, ProgressFn

MODULES = {
    "backtest": "lab.jobs.backtest",
    "tick_backtest": "lab.jobs.tick_backtest",
    "sweep": "lab.jobs.sweep",
    "walkforward": "lab.jobs.walkforward",
    "pairscan": "lab.jobs.pairscan",
    "cpcv": "lab.jobs.cpcv",
    "fetchdata": "lab.jobs.fetchdata",
}


def _module(kind: str) -> Any:
    try:
        return importlib.import_module(MODULES[kind])
    except KeyError:
        raise ParamsError(f"unknown run kind {kind!r}") from None


def validate(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The run's parameters with defaults filled in, or ParamsError naming what is wrong."""
    module = _module(kind)
    if not isinstance(params, dict):
        raise ParamsError(f"params must be an object, got {type(params).__name__}")
    unknown = sorted(set(params) - set(module.DEFAULTS))
    if unknown:
        raise ParamsError(
            f"{kind}: unknown parameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(module.DEFAULTS))}"
        )
    merged = {**module.DEFAULTS, **params}
    return module.clean(merged)


def run(kind: str, params: dict[str, Any], progress: ProgressFn) -> JobOutput:
    """Run a validated job."""
    return _module(kind).run(validate(kind, params), progress)
