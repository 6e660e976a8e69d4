"""Purged k-fold and combinatorial purged cross-validation (Lopez de Prado, AFML ch. 7 and 12).

Financial labels span time: observation i is decided at `t0[i]` and its label is only known at
`t1[i]`. Ordinary k-fold leaks because a training label whose span overlaps a test span shares
information with it. Here a split's training set excludes:

- purged observations: every training observation whose closed label span ``[t0, t1]``
  intersects the span ``[t0[first], max t1]`` of a contiguous block of test observations;
- embargoed observations: the first ``h = ceil(embargo * n_obs)`` observations that start after
  that test span ends, because serially correlated features leak information backwards.

Combinatorial purged cross-validation (CPCV) cuts the observations into N contiguous groups and
tests on every choice of k of them: C(N, k) splits. Each group is tested in C(N-1, k-1) splits,
so the out-of-sample predictions can be assembled into ``phi = k / N * C(N, k)`` complete
backtest paths, a distribution of backtests rather than one.

Observations must be sorted by `t0`; times may be any comparable numbers (integer nanoseconds,
bar indices, floats) or numpy datetime64.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CVSplit:
    """One split: sorted observation positions for training and for testing."""

    train: np.ndarray
    test: np.ndarray
    test_groups: tuple[int, ...]


@dataclass(frozen=True)
class CombinatorialPurgedCV:
    """The C(N, k) purged splits of CPCV and how their test sets form backtest paths.

    `path_splits[p, g]` is the index of the split whose test predictions cover group `g` in
    path `p`.
    """

    n_obs: int
    n_groups: int
    n_test_groups: int
    groups: tuple[np.ndarray, ...]
    splits: tuple[CVSplit, ...]
    path_splits: np.ndarray

    @property
    def n_splits(self) -> int:
        return len(self.splits)

    @property
    def n_paths(self) -> int:
        return int(self.path_splits.shape[0])


def purged_kfold(
    t0: Sequence | np.ndarray,
    t1: Sequence | np.ndarray | None = None,
    n_splits: int = 5,
    *,
    embargo: float = 0.0,
) -> list[CVSplit]:
    """Purged k-fold: contiguous test folds, purged and embargoed training sets.

    `t1` defaults to `t0` (labels known at once: nothing to purge, only the embargo applies).
    """
    start, end = _label_spans(t0, t1)
    n_obs = start.size
    n_splits = _count("n_splits", n_splits, minimum=2)
    if n_splits > n_obs:
        raise ValueError(f"n_splits={n_splits} exceeds the {n_obs} observations")
    h = _embargo_size(embargo, n_obs)
    groups = np.array_split(np.arange(n_obs), n_splits)
    return [_split(start, end, groups, (g,), h) for g in range(n_splits)]


def combinatorial_purged_cv(
    t0: Sequence | np.ndarray,
    t1: Sequence | np.ndarray | None = None,
    n_groups: int = 6,
    n_test_groups: int = 2,
    *,
    embargo: float = 0.0,
) -> CombinatorialPurgedCV:
    """CPCV with `n_groups` contiguous groups, `n_test_groups` of them tested per split."""
    start, end = _label_spans(t0, t1)
    n_obs = start.size
    n_groups = _count("n_groups", n_groups, minimum=2)
    n_test_groups = _count("n_test_groups", n_test_groups, minimum=1)
    if n_groups > n_obs:
        raise ValueError(f"n_groups={n_groups} exceeds the {n_obs} observations")
    if n_test_groups >= n_groups:
        raise ValueError(
            f"n_test_groups={n_test_groups} must be below n_groups={n_groups} "
            "so some data is left to train on"
        )
    h = _embargo_size(embargo, n_obs)
    groups = np.array_split(np.arange(n_obs), n_groups)
    combos = list(itertools.combinations(range(n_groups), n_test_groups))
    splits = tuple(_split(start, end, groups, combo, h) for combo in combos)
    return CombinatorialPurgedCV(
        n_obs=n_obs,
        n_groups=n_groups,
        n_test_groups=n_test_groups,
        groups=tuple(groups),
        splits=splits,
        path_splits=_path_assignment(combos, n_groups),
    )


def cpcv_path_count(n_groups: int, n_test_groups: int) -> int:
    """phi = k / N * C(N, k) = C(N - 1, k - 1): the number of complete backtest paths."""
    n_groups = _count("n_groups", n_groups, minimum=1)
    n_test_groups = _count("n_test_groups", n_test_groups, minimum=1)
    if n_test_groups > n_groups:
        raise ValueError(f"n_test_groups={n_test_groups} exceeds n_groups={n_groups}")
    return math.comb(n_groups - 1, n_test_groups - 1)


def cpcv_paths(cv: CombinatorialPurgedCV, split_test_values: Sequence[np.ndarray]) -> np.ndarray:
    """Assemble per-split out-of-sample values into backtest paths.

    `split_test_values[s]` holds one value (a return, a prediction, or a row of them) per
    observation of ``cv.splits[s].test``, in that order. Returns an array
    ``[n_paths, n_obs, ...]`` where path p at observation i is the value predicted for i by the
    split that covers i's group in path p.
    """
    if len(split_test_values) != cv.n_splits:
        raise ValueError(
            f"got test values for {len(split_test_values)} splits; the CV has {cv.n_splits}"
        )
    values = [np.asarray(v) for v in split_test_values]
    for s, (split, v) in enumerate(zip(cv.splits, values, strict=True)):
        if v.shape[:1] != (split.test.size,):
            raise ValueError(
                f"split {s} has {split.test.size} test observations but {v.shape[:1]} values"
            )
    trailing = values[0].shape[1:]
    dtype = np.result_type(*values)
    paths = np.empty((cv.n_paths, cv.n_obs, *trailing), dtype=dtype)
    for p in range(cv.n_paths):
        for g, members in enumerate(cv.groups):
            s = int(cv.path_splits[p, g])
            # Groups are contiguous and test sets sorted, so the group's rows are a slice.
            offset = int(np.searchsorted(cv.splits[s].test, members[0]))
            paths[p, members] = values[s][offset : offset + members.size]
    return paths


def cpcv_backtest_paths(
    cv: CombinatorialPurgedCV, fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """Run `fit_predict(train, test)` on every split and assemble the backtest paths.

    `fit_predict` fits on the training positions and returns one out-of-sample value per test
    position (for a strategy: its per-observation returns).
    """
    return cpcv_paths(cv, [np.asarray(fit_predict(s.train, s.test)) for s in cv.splits])


def _split(
    start: np.ndarray,
    end: np.ndarray,
    groups: list[np.ndarray],
    test_groups: tuple[int, ...],
    embargo_size: int,
) -> CVSplit:
    n_obs = start.size
    train = np.ones(n_obs, dtype=bool)
    test = np.zeros(n_obs, dtype=bool)
    for g in test_groups:
        test[groups[g]] = True
    train &= ~test
    for first, stop in _contiguous_blocks(test):
        span_start = start[first]
        span_end = end[first:stop].max()
        train &= ~((start <= span_end) & (end >= span_start))
        after = int(np.searchsorted(start, span_end, side="right"))
        train[after : after + embargo_size] = False
    return CVSplit(
        train=np.flatnonzero(train),
        test=np.flatnonzero(test),
        test_groups=tuple(test_groups),
    )


def _contiguous_blocks(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open ``[first, stop)`` runs of True in `mask`; adjacent test groups form one block."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _path_assignment(combos: list[tuple[int, ...]], n_groups: int) -> np.ndarray:
    """Path p takes group g's predictions from the p-th split (in order) that tests g."""
    testing = [[s for s, combo in enumerate(combos) if g in combo] for g in range(n_groups)]
    n_paths = len(testing[0])
    return np.array([[testing[g][p] for g in range(n_groups)] for p in range(n_paths)])


def _label_spans(
    t0: Sequence | np.ndarray, t1: Sequence | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    start = np.asarray(t0)
    end = start if t1 is None else np.asarray(t1)
    if start.ndim != 1 or start.size == 0:
        raise ValueError(f"t0 must be a non-empty 1-D array, got shape {start.shape}")
    if end.shape != start.shape:
        raise ValueError(f"t1 has shape {end.shape}; t0 has {start.shape}")
    if np.any(start[1:] < start[:-1]):
        raise ValueError("t0 must be sorted in non-decreasing order")
    bad = np.flatnonzero(end < start)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"label ends before it starts at observation {i}: t1={end[i]} < t0={start[i]}"
        )
    return start, end


def _embargo_size(embargo: float, n_obs: int) -> int:
    if not 0.0 <= embargo < 1.0:
        raise ValueError(f"embargo must be a fraction in [0, 1), got {embargo!r}")
    return math.ceil(embargo * n_obs - 1e-12) if embargo > 0.0 else 0


def _count(name: str, value: int, *, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
