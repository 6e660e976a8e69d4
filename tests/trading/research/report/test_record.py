"""RunRecord: normalised inputs and clear errors for what the metrics cannot be defined on."""

import numpy as np
import pytest

from trading.research.report import TRADE_DTYPE, RunRecord, Trade
from trading.research.report.record import iso_time, iso_times

DAYS = (np.datetime64("2021-01-04") + np.arange(5)).astype("datetime64[ns]")


def test_datetime64_and_integer_nanoseconds_give_the_same_record():
    a = RunRecord("a", DAYS.astype("datetime64[D]"), [1.0, 2.0, 3.0, 4.0, 5.0])
    b = RunRecord("b", DAYS.view(np.int64), [1.0, 2.0, 3.0, 4.0, 5.0])
    assert a.timestamps.dtype == np.int64
    assert np.array_equal(a.timestamps, b.timestamps)
    assert a.timestamps[0] == np.datetime64("2021-01-04", "ns").astype(np.int64)


@pytest.mark.parametrize("bad", [-1.0, 0.0])
def test_non_positive_equity_is_rejected(bad):
    with pytest.raises(ValueError, match="equity must be positive"):
        RunRecord("x", DAYS, [100.0, 90.0, bad, 80.0, 85.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"equity": [1.0, np.nan, 1.0, 1.0, 1.0]}, "finite"),
        ({"equity": [1.0, 2.0]}, "shape"),
        ({"timestamps": DAYS[::-1]}, "backwards"),
        ({"timestamps": DAYS.astype(float)}, "datetime64 or integer"),
        ({"periods_per_year": 0}, "periods_per_year"),
        ({"exposure": [0.1, 0.2]}, "exposure"),
        ({"benchmark_equity": [1.0, 1.0, -1.0, 1.0, 1.0]}, "benchmark"),
        ({"latency_ns": [1.0, np.inf]}, "latency_ns"),
        ({"traded_notional": -5.0}, "traded_notional"),
    ],
)
def test_bad_inputs_are_rejected_with_a_message(kwargs, message):
    args = {"name": "x", "timestamps": DAYS, "equity": [1.0, 1.1, 1.2, 1.1, 1.3]} | kwargs
    with pytest.raises(ValueError, match=message):
        RunRecord(**args)


def test_empty_run_is_rejected():
    with pytest.raises(ValueError, match="at least one"):
        RunRecord("x", np.array([], dtype=np.int64), [])


def test_trades_from_tuples_and_from_a_structured_array_agree():
    t0 = int(DAYS[0].astype(np.int64))
    tuples = [Trade(t0, t0 + 10, 1, 5, 10.0, 11.0, 4.5, 0.5), Trade(t0, t0 + 20, -1, 2, 9, 8, 1, 1)]
    array = np.array([tuple(t) for t in tuples], dtype=TRADE_DTYPE)
    a = RunRecord("a", DAYS, np.ones(5), tuples)
    b = RunRecord("b", DAYS, np.ones(5), array)
    assert a.trades.dtype == TRADE_DTYPE
    assert np.array_equal(a.trades, b.trades)
    assert a.fees_total == pytest.approx(1.5)  # summed from the trades when not given


def test_bad_trades_are_rejected():
    t0 = int(DAYS[0].astype(np.int64))
    with pytest.raises(ValueError, match="side"):
        RunRecord("x", DAYS, np.ones(5), [Trade(t0, t0, 0, 1, 1, 1, 0, 0)])
    with pytest.raises(ValueError, match="before entering"):
        RunRecord("x", DAYS, np.ones(5), [Trade(t0 + 5, t0, 1, 1, 1, 1, 0, 0)])


def test_iso_times_use_one_precision_per_series():
    assert iso_times(DAYS.view(np.int64)[:2]) == ["2021-01-04", "2021-01-05"]
    ns = DAYS.view(np.int64)[0] + np.array([0, 1_500_000_000])
    assert iso_times(ns) == ["2021-01-04T00:00:00.000Z", "2021-01-04T00:00:01.500Z"]
    assert iso_time(int(ns[1])) == "2021-01-04T00:00:01.500Z"
