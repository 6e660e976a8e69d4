"""Purged k-fold and CPCV, checked against a brute-force reading of the definitions."""

import math

import numpy as np
import pytest

from trading.research.validation.purged_cv import (
    combinatorial_purged_cv,
    cpcv_backtest_paths,
    cpcv_path_count,
    cpcv_paths,
    purged_kfold,
)


def _labels(n, seed, max_span=12):
    """Sorted start times with ties and label spans of random length."""
    rng = np.random.default_rng(seed)
    t0 = np.cumsum(rng.integers(0, 3, size=n))
    t1 = t0 + rng.integers(0, max_span, size=n)
    return t0, t1


def _brute_force_train(t0, t1, test, embargo_size):
    """Every non-test observation whose label overlaps no test label, then the embargo.

    The embargo drops the first `embargo_size` observations starting after each contiguous
    test run's last label end.
    """
    n = t0.size
    in_test = np.zeros(n, dtype=bool)
    in_test[test] = True
    keep = []
    for i in range(n):
        if in_test[i]:
            continue
        overlaps = any(t0[i] <= t1[j] and t1[i] >= t0[j] for j in test)
        if not overlaps:
            keep.append(i)
    keep = set(keep)
    runs = np.split(test, np.flatnonzero(np.diff(test) != 1) + 1)
    for run in runs:
        end = t1[run].max()
        after = [i for i in range(n) if t0[i] > end][:embargo_size]
        keep -= set(after)
    return np.array(sorted(keep), dtype=np.int64)


@pytest.mark.parametrize("seed", range(4))
def test_purging_removes_exactly_the_overlapping_observations(seed):
    t0, t1 = _labels(180, seed)
    splits = purged_kfold(t0, t1, n_splits=6)
    assert len(splits) == 6
    np.testing.assert_array_equal(np.concatenate([s.test for s in splits]), np.arange(180))
    for split in splits:
        np.testing.assert_array_equal(split.train, _brute_force_train(t0, t1, split.test, 0))
        assert np.intersect1d(split.train, split.test).size == 0


@pytest.mark.parametrize("embargo", [0.01, 0.05, 0.1])
def test_embargo_drops_the_observations_right_after_each_test_fold(embargo):
    n = 200
    t0 = np.arange(n)
    h = math.ceil(embargo * n)
    for k, split in enumerate(purged_kfold(t0, None, n_splits=5, embargo=embargo)):
        first, last = split.test[0], split.test[-1]
        expected = np.setdiff1d(np.arange(n), np.arange(first, min(n, last + 1 + h)))
        np.testing.assert_array_equal(split.train, expected)
        # Observations before the test fold are never embargoed.
        assert np.all(np.isin(np.arange(first), split.train))
        if k < 4:
            assert split.train.size == n - split.test.size - h


@pytest.mark.parametrize("seed", range(3))
def test_purge_and_embargo_together_match_brute_force(seed):
    t0, t1 = _labels(150, seed + 10)
    h = math.ceil(0.03 * 150)
    for split in purged_kfold(t0, t1, n_splits=5, embargo=0.03):
        np.testing.assert_array_equal(split.train, _brute_force_train(t0, t1, split.test, h))


@pytest.mark.parametrize(("n_groups", "k"), [(6, 2), (5, 1), (7, 3), (8, 2)])
def test_cpcv_split_and_path_counts(n_groups, k):
    t0, t1 = _labels(120, 3, max_span=4)
    cv = combinatorial_purged_cv(t0, t1, n_groups, k, embargo=0.02)
    phi = cpcv_path_count(n_groups, k)
    assert cv.n_splits == math.comb(n_groups, k)
    assert phi == k * math.comb(n_groups, k) // n_groups == math.comb(n_groups - 1, k - 1)
    assert cv.n_paths == phi
    # Every observation is tested in exactly phi splits.
    tested = np.zeros(120, dtype=int)
    for split in cv.splits:
        tested[split.test] += 1
        expected_test = np.concatenate([cv.groups[g] for g in split.test_groups])
        np.testing.assert_array_equal(split.test, expected_test)
        np.testing.assert_array_equal(
            split.train, _brute_force_train(t0, t1, split.test, math.ceil(0.02 * 120))
        )
    assert np.all(tested == phi)
    # Every path takes each group once, from a split that tests it, and every
    # (split, tested group) pair is used by exactly one path.
    used = set()
    for p in range(phi):
        for g in range(n_groups):
            s = int(cv.path_splits[p, g])
            assert g in cv.splits[s].test_groups
            used.add((s, g))
    assert len(used) == cv.n_splits * k == phi * n_groups


def test_paths_take_each_observation_from_the_split_assigned_to_its_group():
    t0, t1 = _labels(90, 5, max_span=3)
    cv = combinatorial_purged_cv(t0, t1, 6, 2)
    values = [split.test * 1.0 + 1000.0 * s for s, split in enumerate(cv.splits)]
    paths = cpcv_paths(cv, values)
    assert paths.shape == (cv.n_paths, 90)
    group_of = np.concatenate([np.full(g.size, i) for i, g in enumerate(cv.groups)])
    for p in range(cv.n_paths):
        expected = np.arange(90) + 1000.0 * cv.path_splits[p, group_of]
        np.testing.assert_array_equal(paths[p], expected)


def test_backtest_paths_of_a_model_free_strategy_all_equal_its_returns():
    rng = np.random.default_rng(9)
    returns = rng.normal(0, 0.01, size=(100, 3))
    cv = combinatorial_purged_cv(np.arange(100), np.arange(100) + 2, 5, 2, embargo=0.01)
    seen_train = []

    def fit_predict(train, test):
        seen_train.append(train)
        return returns[test]

    paths = cpcv_backtest_paths(cv, fit_predict)
    assert paths.shape == (cv.n_paths, 100, 3)
    for p in range(cv.n_paths):
        np.testing.assert_array_equal(paths[p], returns)
    assert len(seen_train) == cv.n_splits


def test_bad_input_is_rejected_with_a_clear_error():
    with pytest.raises(ValueError, match="sorted"):
        purged_kfold([3, 1, 2], None, 2)
    with pytest.raises(ValueError, match="ends before it starts at observation 1"):
        purged_kfold([0, 5, 6], [1, 4, 7], 2)
    with pytest.raises(ValueError, match="n_splits=10 exceeds"):
        purged_kfold(np.arange(5), None, 10)
    with pytest.raises(ValueError, match="embargo"):
        purged_kfold(np.arange(50), None, 5, embargo=1.5)
    with pytest.raises(ValueError, match="n_test_groups=6 must be below"):
        combinatorial_purged_cv(np.arange(50), None, 6, 6)
    cv = combinatorial_purged_cv(np.arange(30), None, 3, 1)
    with pytest.raises(ValueError, match="test values for 2 splits"):
        cpcv_paths(cv, [np.zeros(10), np.zeros(10)])


def test_datetime_label_spans_split_like_their_integer_nanoseconds():
    t0, t1 = _labels(100, 8)
    as_time = np.datetime64("2024-01-02T09:30", "ns") + t0.astype("timedelta64[m]")
    end_time = np.datetime64("2024-01-02T09:30", "ns") + t1.astype("timedelta64[m]")
    by_time = purged_kfold(as_time, end_time, 4, embargo=0.02)
    by_int = purged_kfold(t0, t1, 4, embargo=0.02)
    for a, b in zip(by_time, by_int, strict=True):
        np.testing.assert_array_equal(a.train, b.train)
        np.testing.assert_array_equal(a.test, b.test)
