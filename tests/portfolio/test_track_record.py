"""The track record's maths, checked against hand-worked series and numpy."""

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.track_record import (
    annualised_sharpe,
    chart,
    daily_closes,
    downsample,
    max_drawdown,
    simple_returns,
    summarise,
    total_return,
)

T0 = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)


def _daily(values):
    return [(T0 + timedelta(days=i), v) for i, v in enumerate(values)]


def test_total_return_from_first_to_last_mark():
    assert total_return([100.0, 110.0, 99.0, 121.0]) == pytest.approx(0.21)
    assert total_return([100.0, 80.0]) == pytest.approx(-0.2)


@pytest.mark.parametrize("equity", [[], [100.0], [0.0, 10.0]])
def test_total_return_is_undefined_without_two_marks_and_a_positive_start(equity):
    assert total_return(equity) is None


def test_max_drawdown_is_the_deepest_fall_from_a_running_peak():
    assert max_drawdown([100.0, 110.0, 99.0, 121.0]) == pytest.approx(0.10)
    # The later, larger fall from the higher peak is the one that counts.
    assert max_drawdown([100.0, 90.0, 200.0, 150.0, 180.0]) == pytest.approx(0.25)
    assert max_drawdown([100.0, 101.0, 102.0]) == 0.0
    assert max_drawdown([]) == 0.0
    assert max_drawdown([100.0]) == 0.0


@given(st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=1, max_size=200))
def test_max_drawdown_matches_numpy_running_maximum(equity):
    arr = np.array(equity)
    expected = float(np.max(1.0 - arr / np.maximum.accumulate(arr)))
    assert max_drawdown(equity) == pytest.approx(expected, abs=1e-12)


def test_daily_closes_keep_the_last_mark_of_each_day():
    points = [
        (datetime(2025, 3, 3, 9, 30), 100.0),
        (datetime(2025, 3, 3, 15, 59), 101.0),
        (datetime(2025, 3, 4, 10, 0), 99.0),
        (datetime(2025, 3, 6, 11, 0), 104.0),
        (datetime(2025, 3, 6, 16, 0), 105.0),
    ]
    assert daily_closes(points) == [101.0, 99.0, 105.0]
    assert daily_closes([]) == []


def test_sharpe_matches_a_direct_numpy_computation():
    rng = np.random.default_rng(7)
    closes = 1_000_000 * np.cumprod(1 + rng.normal(0.0005, 0.01, size=300))
    returns = simple_returns(list(closes))
    r = np.diff(closes) / closes[:-1]
    expected = r.mean() / r.std(ddof=1) * math.sqrt(252)
    assert returns == pytest.approx(list(r))
    assert annualised_sharpe(returns) == pytest.approx(expected, rel=1e-9)


def test_sharpe_of_a_known_series():
    # Returns +10%, -10%, +22.22%: mean 0.074074, sample sd 0.162668, times sqrt(252).
    returns = simple_returns([100.0, 110.0, 99.0, 121.0])
    r = np.array(returns)
    assert annualised_sharpe(returns) == pytest.approx(
        r.mean() / r.std(ddof=1) * math.sqrt(252), rel=1e-12
    )
    assert annualised_sharpe(returns) == pytest.approx(7.2288, abs=1e-4)


@pytest.mark.parametrize("returns", [[], [0.01], [0.01, 0.01, 0.01], [0.0, 0.0]])
def test_sharpe_is_undefined_for_too_few_or_constant_returns(returns):
    assert annualised_sharpe(returns) is None


def test_downsampling_keeps_endpoints_extremes_and_the_limit():
    values = [100.0 + math.sin(i / 50) * 10 for i in range(10_000)]
    values[4321] = 50.0  # a one-tick crash the chart must still show
    values[7777] = 170.0
    points = _daily(values)
    shown = downsample(points, 500)
    assert len(shown) <= 500
    assert shown[0] == points[0] and shown[-1] == points[-1]
    assert (points[4321] in shown) and (points[7777] in shown)
    assert [ts for ts, _ in shown] == sorted(ts for ts, _ in shown)


def test_downsampling_leaves_short_series_alone():
    points = _daily([1.0, 2.0, 3.0])
    assert downsample(points, 500) == points


@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=0, max_size=2000),
    st.integers(min_value=4, max_value=600),
)
def test_downsampling_never_exceeds_the_limit_and_keeps_min_and_max(values, limit):
    points = _daily(values)
    shown = downsample(points, limit)
    assert len(shown) <= limit
    if values:
        kept = [v for _, v in shown]
        assert min(kept) == min(values) and max(kept) == max(values)


def test_chart_scales_the_series_into_the_plot_area():
    c = chart(_daily([100.0, 110.0, 99.0, 121.0]), width=720, height=280)
    assert c is not None
    coords = [tuple(map(float, pair.split(","))) for pair in c.polyline.split()]
    xs, ys = zip(*coords, strict=True)
    assert xs[0] == c.plot_left and xs[-1] == c.plot_right
    assert list(xs) == sorted(xs)
    assert min(ys) == c.plot_top and max(ys) == c.plot_bottom  # 121 at the top, 99 at the bottom
    assert ys[3] == c.plot_top and ys[2] == c.plot_bottom
    assert (c.y_low_label, c.y_high_label) == (99.0, 121.0)
    assert c.n_points == c.source_points == 4


def test_chart_of_a_long_series_draws_at_most_500_points():
    c = chart(_daily([100.0 + (i % 17) for i in range(20_000)]))
    assert c is not None and c.n_points <= 500 and c.source_points == 20_000
    assert len(c.polyline.split()) == c.n_points


def test_chart_of_a_flat_series_does_not_divide_by_zero():
    c = chart(_daily([100.0, 100.0, 100.0]))
    assert c is not None
    assert {pair.split(",")[1] for pair in c.polyline.split()} == {
        f"{(c.plot_top + c.plot_bottom) / 2:.1f}"
    }


@pytest.mark.parametrize("values", [[], [100.0]])
def test_no_chart_under_two_points(values):
    assert chart(_daily(values)) is None


def test_summary_of_a_known_series():
    record = summarise(_daily([100.0, 110.0, 99.0, 121.0]), trades=7)
    assert record.total_return == pytest.approx(0.21)
    assert record.max_drawdown == pytest.approx(0.10)
    assert record.trades == 7 and record.trading_days == 4
    assert (record.start_equity, record.end_equity) == (100.0, 121.0)
    assert record.since == T0 and record.chart is not None


def test_summary_of_zero_and_one_point():
    empty = summarise([], trades=0)
    assert empty.since is None and empty.total_return is None and empty.chart is None
    assert empty.max_drawdown is None and empty.annualised_sharpe is None
    single = summarise(_daily([100.0]), trades=1)
    assert single.total_return is None and single.max_drawdown == 0.0
    assert single.annualised_sharpe is None and single.chart is None and single.trading_days == 1
