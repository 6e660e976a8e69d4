"""Walk-forward optimisation: choose parameters in sample, apply them out of sample.

The observations 0..n_obs-1 are cut into consecutive windows. In each window the parameter set
with the best in-sample score is chosen using only the in-sample range, then evaluated on the
out-of-sample range that follows it. The out-of-sample returns of all windows, concatenated in
time order and never overlapping, form the stitched out-of-sample equity curve: the only honest
estimate of how the optimisation procedure (not one parameter set) would have performed.

Two entry points share the window logic:

- `walk_forward` calls a user `evaluate(params, start, stop) -> (score, returns)` per range, for
  strategies that must be re-run per window;
- `walk_forward_matrix` takes a precomputed per-bar returns matrix ``[n_obs, n_params]`` (a bar
  sweep's output) and scores column blocks directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Evaluate = Callable[[Any, int, int], tuple[float, np.ndarray]]
BlockScore = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class WalkForwardWindow:
    """One in-sample / out-of-sample window and what was chosen in it.

    Ranges are half-open bar-index intervals ``[start, stop)``.
    """

    index: int
    train_start: int
    train_stop: int
    test_start: int
    test_stop: int
    best_param_index: int
    best_params: Any
    is_score: float
    oos_score: float

    def as_dict(self) -> dict[str, Any]:
        """The window as a JSON-friendly row of the per-window table."""
        return {
            "index": self.index,
            "train_start": self.train_start,
            "train_stop": self.train_stop,
            "test_start": self.test_start,
            "test_stop": self.test_stop,
            "best_param_index": self.best_param_index,
            "best_params": self.best_params,
            "is_score": _json_float(self.is_score),
            "oos_score": _json_float(self.oos_score),
        }


@dataclass(frozen=True)
class WalkForwardResult:
    """The per-window table and the stitched out-of-sample returns.

    `oos_returns[i]` is the return of bar `oos_index[i]`; `oos_index` is strictly increasing.
    """

    windows: tuple[WalkForwardWindow, ...]
    oos_returns: np.ndarray
    oos_index: np.ndarray
    param_grid: tuple[Any, ...]

    def equity(self, initial: float = 1.0) -> np.ndarray:
        """Stitched out-of-sample equity curve, compounding the simple per-bar returns."""
        return initial * np.cumprod(1.0 + self.oos_returns)

    def table(self) -> list[dict[str, Any]]:
        """Per-window rows: bounds, best parameters, in-sample and out-of-sample scores."""
        return [window.as_dict() for window in self.windows]

    @property
    def is_scores(self) -> np.ndarray:
        return np.array([w.is_score for w in self.windows], dtype=np.float64)

    @property
    def oos_scores(self) -> np.ndarray:
        return np.array([w.oos_score for w in self.windows], dtype=np.float64)


def walk_forward_windows(
    n_obs: int,
    train: int,
    test: int,
    *,
    step: int | None = None,
    anchored: bool = False,
    partial_last: bool = True,
) -> list[tuple[int, int, int, int]]:
    """The ``(train_start, train_stop, test_start, test_stop)`` bounds of every window.

    Rolling windows keep `train` bars in sample; anchored (expanding) windows start every
    in-sample range at bar 0. Windows advance by `step` bars (default `test`), which must be at
    least `test` so out-of-sample ranges never overlap. With `partial_last`, a final
    out-of-sample range shorter than `test` is kept so the stitched curve reaches the last bar.
    """
    n_obs = _positive_int("n_obs", n_obs)
    train = _positive_int("train", train)
    test = _positive_int("test", test)
    step = test if step is None else _positive_int("step", step)
    if step < test:
        raise ValueError(
            f"step={step} is shorter than test={test}: out-of-sample windows would overlap"
        )
    if train + 1 > n_obs:
        raise ValueError(f"train={train} leaves no out-of-sample bar in n_obs={n_obs}")
    windows = []
    k = 0
    while True:
        train_stop = train + k * step
        train_start = 0 if anchored else train_stop - train
        test_start = train_stop
        test_stop = min(test_start + test, n_obs)
        if test_start >= n_obs or (test_stop - test_start < test and not partial_last):
            break
        windows.append((train_start, train_stop, test_start, test_stop))
        k += 1
    if not windows:
        raise ValueError(f"no complete window: n_obs={n_obs}, train={train}, test={test}")
    return windows


def walk_forward(
    n_obs: int,
    train: int,
    test: int,
    evaluate: Evaluate,
    param_grid: Sequence[Any],
    *,
    step: int | None = None,
    anchored: bool = False,
    partial_last: bool = True,
) -> WalkForwardResult:
    """Walk-forward optimisation over `param_grid` with a user evaluation function.

    `evaluate(params, start, stop)` runs the strategy with `params` and returns ``(score,
    returns)`` for bars ``[start, stop)``: `returns` must hold exactly ``stop - start`` per-bar
    returns. It may look at data before `start` (indicator warm-up) but never at or after
    `stop`; walk-forward only ever asks for in-sample ranges that end where the out-of-sample
    range begins. The highest in-sample score wins (NaN scores never win; ties go to the
    earlier parameter set), and its out-of-sample returns are stitched.
    """
    grid = tuple(param_grid)
    if not grid:
        raise ValueError("param_grid is empty")
    windows = walk_forward_windows(
        n_obs, train, test, step=step, anchored=anchored, partial_last=partial_last
    )

    def train_scores(start: int, stop: int) -> np.ndarray:
        scores = np.empty(len(grid), dtype=np.float64)
        for j, params in enumerate(grid):
            score, _ = evaluate(params, start, stop)
            scores[j] = float(score)
        return scores

    def test_run(best: int, start: int, stop: int) -> tuple[float, np.ndarray]:
        oos_score, oos_returns = evaluate(grid[best], start, stop)
        oos_returns = np.asarray(oos_returns, dtype=np.float64).reshape(-1)
        if oos_returns.size != stop - start:
            raise ValueError(
                f"evaluate returned {oos_returns.size} returns for bars "
                f"[{start}, {stop}); expected {stop - start}"
            )
        return float(oos_score), oos_returns

    return _walk(windows, grid, train_scores, test_run)


def sharpe_score(block: np.ndarray) -> np.ndarray:
    """Per-bar Sharpe ratio of each column (mean over sample standard deviation).

    Columns with no variation score NaN, so a strategy that never trades is never chosen over
    one that does.
    """
    if block.shape[0] < 2:
        return np.full(block.shape[1], np.nan)
    std = block.std(axis=0, ddof=1)
    mean = block.mean(axis=0)
    # A constant column's computed std is rounding noise, not zero: treat it as no variation.
    varies = std > 1e-12 * np.abs(mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(varies & (std > 0.0), mean / std, np.nan)


def total_return_score(block: np.ndarray) -> np.ndarray:
    """Compounded total return of each column over the block."""
    return np.prod(1.0 + block, axis=0) - 1.0


def walk_forward_matrix(
    returns: np.ndarray,
    train: int,
    test: int,
    *,
    step: int | None = None,
    anchored: bool = False,
    partial_last: bool = True,
    score: BlockScore = sharpe_score,
    param_grid: Sequence[Any] | None = None,
) -> WalkForwardResult:
    """Walk-forward over a precomputed per-bar returns matrix ``[n_obs, n_params]``.

    Column j holds the per-bar returns of parameter set j over the whole history (as a bar
    sweep produces them). `score(block)` maps a ``[bars, n_params]`` block to one score per
    column; the default is the per-bar Sharpe ratio. Equivalent to `walk_forward` with an
    `evaluate` that slices the matrix, but scores every column of a window in one call.
    """
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"returns must be 2-D [n_obs, n_params], got shape {matrix.shape}")
    n_obs, n_params = matrix.shape
    if n_params == 0:
        raise ValueError("returns has no parameter columns")
    grid = tuple(range(n_params)) if param_grid is None else tuple(param_grid)
    if len(grid) != n_params:
        raise ValueError(f"param_grid has {len(grid)} entries for {n_params} return columns")
    windows = walk_forward_windows(
        n_obs, train, test, step=step, anchored=anchored, partial_last=partial_last
    )

    def train_scores(start: int, stop: int) -> np.ndarray:
        scores = np.asarray(score(matrix[start:stop]), dtype=np.float64)
        if scores.shape != (n_params,):
            raise ValueError(f"score returned shape {scores.shape}; expected ({n_params},)")
        return scores

    def test_run(best: int, start: int, stop: int) -> tuple[float, np.ndarray]:
        oos = matrix[start:stop, best]
        oos_score = float(np.asarray(score(oos[:, None]), dtype=np.float64)[0])
        return oos_score, oos.copy()

    return _walk(windows, grid, train_scores, test_run)


def _best_index(scores: np.ndarray) -> int:
    """Index of the highest finite-or-infinite non-NaN score; the first entry if all are NaN."""
    ranked = np.where(np.isnan(scores), -np.inf, scores)
    if np.all(np.isnan(scores)):
        return 0
    return int(np.argmax(ranked))


def _walk(
    windows: list[tuple[int, int, int, int]],
    grid: tuple[Any, ...],
    train_scores: Callable[[int, int], np.ndarray],
    test_run: Callable[[int, int, int], tuple[float, np.ndarray]],
) -> WalkForwardResult:
    """The walk itself, shared by both entry points: per window, `train_scores(start, stop)`
    scores every parameter set in sample, the best one is chosen and `test_run(best, start,
    stop)` gives its out-of-sample score and returns, which are stitched."""
    rows: list[WalkForwardWindow] = []
    pieces: list[np.ndarray] = []
    for index, (train_start, train_stop, test_start, test_stop) in enumerate(windows):
        scores = train_scores(train_start, train_stop)
        best = _best_index(scores)
        oos_score, oos_returns = test_run(best, test_start, test_stop)
        pieces.append(oos_returns)
        rows.append(
            WalkForwardWindow(
                index=index,
                train_start=train_start,
                train_stop=train_stop,
                test_start=test_start,
                test_stop=test_stop,
                best_param_index=best,
                best_params=grid[best],
                is_score=float(scores[best]),
                oos_score=oos_score,
            )
        )
    index = np.concatenate([np.arange(w.test_start, w.test_stop) for w in rows])
    return WalkForwardResult(
        windows=tuple(rows),
        oos_returns=np.concatenate(pieces),
        oos_index=index.astype(np.int64),
        param_grid=grid,
    )


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _json_float(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)
