"""Book features on the shared AMZN level-5 day against plain Python loops."""

import numpy as np
import pytest

from trading.lobster import EMPTY_ASK, EMPTY_BID, load_day
from trading.research.microstructure import (
    aggregate_by_time,
    book_features,
    depth,
    micro_price,
    mid_price,
    order_flow_imbalance,
    queue_imbalance,
    spread,
)
from trading.shared_data import shared_data_dir

AMZN = "lobster/AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"
SLICE = slice(60_000, 63_000)


@pytest.fixture(scope="module")
def amzn():
    path = shared_data_dir() / AMZN
    if not path.exists():
        pytest.skip(f"shared LOBSTER data missing: {path}")
    return load_day(path)


def _rows(book):
    return [[int(v) for v in row] for row in book]


def _loop_ofi(rows, level=1):
    c = 4 * (level - 1)
    out = [0]
    for prev, cur in zip(rows, rows[1:], strict=False):
        pa0, qa0, pb0, qb0 = prev[c : c + 4]
        pa1, qa1, pb1, qb1 = cur[c : c + 4]
        e = 0
        if pb1 >= pb0:
            e += qb1
        if pb1 <= pb0:
            e -= qb0
        if pa1 <= pa0:
            e -= qa1
        if pa1 >= pa0:
            e += qa0
        out.append(e)
    return out


def test_touch_features_match_a_loop(amzn):
    book = amzn.orderbook[SLICE]
    rows = _rows(book)
    np.testing.assert_array_equal(spread(book), [r[0] - r[2] for r in rows])
    np.testing.assert_array_equal(mid_price(book), [(r[0] + r[2]) / 2 for r in rows])
    expected_micro = [(r[0] * r[3] + r[2] * r[1]) / (r[1] + r[3]) for r in rows]
    np.testing.assert_allclose(micro_price(book), expected_micro, rtol=1e-15)
    expected_qi = [(r[3] - r[1]) / (r[3] + r[1]) for r in rows]
    np.testing.assert_allclose(queue_imbalance(book), expected_qi, rtol=1e-15)
    assert np.all(spread(book) > 0)
    micro = micro_price(book)
    assert np.all((micro >= book[:, 2]) & (micro <= book[:, 0]))


@pytest.mark.parametrize("levels", [1, 3, 5])
def test_depth_and_depth_imbalance_match_a_loop(amzn, levels):
    book = amzn.orderbook[SLICE]
    rows = _rows(book)
    bid, ask = depth(book, levels)
    loop_bid = [sum(r[4 * k + 3] for k in range(levels)) for r in rows]
    loop_ask = [sum(r[4 * k + 1] for k in range(levels)) for r in rows]
    np.testing.assert_array_equal(bid, loop_bid)
    np.testing.assert_array_equal(ask, loop_ask)
    expected = [(b - a) / (b + a) for b, a in zip(loop_bid, loop_ask, strict=True)]
    np.testing.assert_allclose(queue_imbalance(book, levels), expected, rtol=1e-15)


@pytest.mark.parametrize("level", [1, 2, 5])
def test_order_flow_imbalance_matches_a_loop(amzn, level):
    book = amzn.orderbook[SLICE]
    np.testing.assert_array_equal(order_flow_imbalance(book, level), _loop_ofi(_rows(book), level))


def test_order_flow_imbalance_moves_the_mid_price(amzn):
    # Cont, Kukanov and Stoikov's finding: over short intervals the mid-price change is
    # close to linear in the aggregated OFI, with a clearly positive correlation.
    book = amzn.orderbook
    ts = amzn.messages["ts_ns"]
    starts, ofi = aggregate_by_time(order_flow_imbalance(book), ts, 10 * 10**9)
    mid = mid_price(book)
    last_in_bucket = np.r_[np.searchsorted(ts, starts[1:]) - 1, ts.size - 1]
    mid_end = mid[last_in_bucket]
    mid_start = np.r_[mid[0], mid_end[:-1]]
    corr = np.corrcoef(ofi, mid_end - mid_start)[0, 1]
    assert corr > 0.3


def test_aggregate_by_time_matches_a_loop():
    ts = np.array([5, 7, 12, 19, 20, 45, 46], dtype=np.int64)
    values = np.array([1, -2, 3, 4, 5, 6, -7])
    starts, sums = aggregate_by_time(values, ts, 10)
    expected: dict[int, int] = {}
    for t, v in zip(ts, values, strict=True):
        expected[int(t // 10 * 10)] = expected.get(int(t // 10 * 10), 0) + int(v)
    assert starts.tolist() == list(expected)
    assert sums.tolist() == list(expected.values())
    with pytest.raises(ValueError, match="sorted"):
        aggregate_by_time(values, ts[::-1], 10)


def test_one_sided_rows_are_nan_and_removals_count_in_ofi():
    book = np.array(
        [
            [1_000_100, 200, 1_000_000, 300],
            [EMPTY_ASK, 0, 1_000_000, 300],  # the whole ask queue is lifted
            [1_000_100, 100, EMPTY_BID, 0],
        ],
        dtype=np.int64,
    )
    assert np.isnan(spread(book)[1:]).all() and spread(book)[0] == 100
    assert np.isnan(micro_price(book)[1:]).all()
    ofi = order_flow_imbalance(book)
    assert ofi[1] == 200  # ask removal is buying pressure
    assert ofi[2] == _loop_ofi(_rows(book))[2]


def test_book_features_and_bad_input(amzn):
    book = amzn.orderbook[SLICE]
    features = book_features(book, 3)
    assert set(features) >= {"spread", "micro_price", "queue_imbalance", "ofi", "bid_depth"}
    assert all(len(v) == len(book) for v in features.values())
    with pytest.raises(ValueError, match="4 \\* levels"):
        spread(np.zeros((3, 6), dtype=np.int64))
    with pytest.raises(ValueError, match="levels"):
        depth(book, 6)
