"""Walk-forward optimisation: window bounds, in-sample-only selection, stitched OOS curve."""

import numpy as np
import pytest

from trading.research.validation.walk_forward import (
    sharpe_score,
    total_return_score,
    walk_forward,
    walk_forward_matrix,
    walk_forward_windows,
)


def _matrix_evaluate(matrix, calls=None):
    """An `evaluate` that scores column `params` of `matrix` by Sharpe, recording its calls."""

    def evaluate(params, start, stop):
        if calls is not None:
            calls.append((params, start, stop))
        block = matrix[start:stop, params]
        return float(sharpe_score(block[:, None])[0]), block.copy()

    return evaluate


def test_rolling_windows_follow_the_definition():
    assert walk_forward_windows(10, 4, 3) == [(0, 4, 4, 7), (3, 7, 7, 10)]
    assert walk_forward_windows(11, 4, 3) == [(0, 4, 4, 7), (3, 7, 7, 10), (6, 10, 10, 11)]
    assert walk_forward_windows(11, 4, 3, partial_last=False) == [(0, 4, 4, 7), (3, 7, 7, 10)]
    assert walk_forward_windows(12, 4, 2, step=3) == [(0, 4, 4, 6), (3, 7, 7, 9), (6, 10, 10, 12)]


def test_anchored_windows_grow_from_the_first_bar():
    assert walk_forward_windows(10, 4, 3, anchored=True) == [(0, 4, 4, 7), (0, 7, 7, 10)]
    windows = walk_forward_windows(100, 20, 10, anchored=True)
    assert all(w[0] == 0 and w[1] == w[2] for w in windows)
    assert [w[1] for w in windows] == list(range(20, 100, 10))


@pytest.mark.parametrize("anchored", [False, True])
def test_selection_never_sees_out_of_sample_data(anchored):
    rng = np.random.default_rng(1)
    matrix = rng.normal(0.0005, 0.01, size=(300, 6))
    calls = []
    result = walk_forward(300, 60, 40, _matrix_evaluate(matrix, calls), range(6), anchored=anchored)
    per_window = 6 + 1
    assert len(calls) == per_window * len(result.windows)
    for k, window in enumerate(result.windows):
        in_sample = calls[k * per_window : k * per_window + 6]
        out_of_sample = calls[k * per_window + 6]
        assert sorted(p for p, _, _ in in_sample) == list(range(6))
        for _, start, stop in in_sample:
            assert (start, stop) == (window.train_start, window.train_stop)
            assert stop <= window.test_start
        assert out_of_sample == (window.best_params, window.test_start, window.test_stop)


def test_changing_the_future_does_not_change_past_choices():
    rng = np.random.default_rng(2)
    matrix = rng.normal(0.0, 0.01, size=(400, 8))
    base = walk_forward_matrix(matrix, 100, 50)
    cut = base.windows[2].test_start
    altered = matrix.copy()
    altered[cut:] = rng.normal(0.0, 0.02, size=altered[cut:].shape)
    changed = walk_forward_matrix(altered, 100, 50)
    for before, after in zip(base.windows[:3], changed.windows[:3], strict=True):
        assert before.best_param_index == after.best_param_index
        assert before.is_score == after.is_score


def test_best_in_sample_parameters_are_applied_out_of_sample():
    # Column j is the best in window j (its mean jumps there), so selection is known.
    rng = np.random.default_rng(3)
    matrix = rng.normal(0.0, 0.01, size=(250, 4))
    for j in range(4):
        matrix[50 * j : 50 * (j + 1), j] += 0.05
    result = walk_forward_matrix(matrix, 50, 50, param_grid=["a", "b", "c", "d"])
    assert [w.best_param_index for w in result.windows] == [0, 1, 2, 3]
    assert [w.best_params for w in result.windows] == ["a", "b", "c", "d"]
    # Brute force: the winner maximises the in-sample Sharpe among all columns.
    for w in result.windows:
        block = matrix[w.train_start : w.train_stop]
        sharpes = block.mean(axis=0) / block.std(axis=0, ddof=1)
        assert w.is_score == pytest.approx(sharpes.max(), rel=1e-12)
        oos = matrix[w.test_start : w.test_stop, w.best_param_index]
        assert w.oos_score == pytest.approx(oos.mean() / oos.std(ddof=1), rel=1e-12)


def test_stitched_curve_concatenates_oos_returns_without_overlap():
    rng = np.random.default_rng(4)
    matrix = rng.normal(0.0003, 0.01, size=(333, 5))
    result = walk_forward_matrix(matrix, 80, 60)
    assert np.all(np.diff(result.oos_index) == 1)
    assert result.oos_index[0] == 80 and result.oos_index[-1] == 332
    expected = np.concatenate(
        [matrix[w.test_start : w.test_stop, w.best_param_index] for w in result.windows]
    )
    np.testing.assert_array_equal(result.oos_returns, expected)
    np.testing.assert_allclose(result.equity(100.0), 100.0 * np.cumprod(1 + expected))
    table = result.table()
    assert [row["test_start"] for row in table] == [w.test_start for w in result.windows]
    assert set(table[0]) >= {"train_start", "train_stop", "best_params", "is_score", "oos_score"}


def test_matrix_variant_equals_callable_variant():
    rng = np.random.default_rng(5)
    matrix = rng.normal(0.0002, 0.01, size=(500, 7))
    for anchored in (False, True):
        fast = walk_forward_matrix(matrix, 120, 45, step=60, anchored=anchored)
        slow = walk_forward(
            500, 120, 45, _matrix_evaluate(matrix), range(7), step=60, anchored=anchored
        )
        assert len(fast.windows) == len(slow.windows)
        for a, b in zip(fast.windows, slow.windows, strict=True):
            # Column-block and single-column sums round differently in the last bits.
            assert (a.train_start, a.train_stop, a.test_start, a.test_stop) == (
                b.train_start,
                b.train_stop,
                b.test_start,
                b.test_stop,
            )
            assert a.best_params == b.best_params
            assert a.is_score == pytest.approx(b.is_score, rel=1e-12)
            assert a.oos_score == pytest.approx(b.oos_score, rel=1e-12)
        np.testing.assert_array_equal(fast.oos_returns, slow.oos_returns)
        np.testing.assert_array_equal(fast.oos_index, slow.oos_index)


def test_gaps_between_oos_windows_are_reflected_in_the_index():
    result = walk_forward_matrix(np.full((100, 2), 0.001), 20, 10, step=30)
    assert list(result.oos_index[:12]) == [*range(20, 30), 50, 51]


def test_nan_scores_never_win_and_ties_go_to_the_first():
    matrix = np.zeros((40, 3))
    matrix[:, 1] = 0.01  # constant: Sharpe undefined (NaN)
    matrix[::2, 0] = 0.01
    matrix[::2, 2] = 0.01
    result = walk_forward_matrix(matrix, 20, 10)
    assert all(w.best_param_index == 0 for w in result.windows)
    by_return = walk_forward_matrix(matrix, 20, 10, score=total_return_score)
    assert all(w.best_param_index == 1 for w in by_return.windows)


def test_bad_input_is_rejected_with_a_clear_error():
    with pytest.raises(ValueError, match="overlap"):
        walk_forward_windows(100, 20, 10, step=5)
    with pytest.raises(ValueError, match="train=100"):
        walk_forward_windows(100, 100, 10)
    with pytest.raises(ValueError, match="test must be a positive integer"):
        walk_forward_windows(100, 10, 0)
    with pytest.raises(ValueError, match="param_grid is empty"):
        walk_forward(100, 10, 10, lambda p, a, b: (0.0, np.zeros(b - a)), [])
    with pytest.raises(ValueError, match="expected 10"):
        walk_forward(100, 10, 10, lambda p, a, b: (0.0, np.zeros(3)), [1])
    with pytest.raises(ValueError, match="2-D"):
        walk_forward_matrix(np.zeros(10), 5, 5)
