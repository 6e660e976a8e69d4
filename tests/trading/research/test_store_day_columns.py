"""Intraday bars, trades and quotes in the store: one entry per symbol and day."""

import datetime as dt

import numpy as np
import pytest

from trading.research.store import (
    DAY_COLUMNS,
    DAY_KINDS,
    KINDS,
    MarketDataStore,
    NotInStoreError,
)

DAY = dt.date(2012, 6, 21)
T0 = 1_340_285_400_000_000_000  # 09:30 New York that day, in ns


def bars(n: int = 5, start: float = 585.0) -> dict[str, np.ndarray]:
    close = start + np.arange(n) * 0.25
    return {
        "t_ns": T0 + np.arange(n, dtype=np.int64) * 60 * 10**9,
        "open": close - 0.1,
        "high": close + 0.2,
        "low": close - 0.3,
        "close": close,
        "volume": np.full(n, 1000.0),
        "vwap": np.where(np.arange(n) == 2, np.nan, close),
        "transactions": np.arange(n, dtype=np.int64),
    }


def trades(n: int = 4) -> dict[str, np.ndarray]:
    return {
        "sip_ns": T0 + np.arange(n, dtype=np.int64),
        "participant_ns": T0 + np.arange(n, dtype=np.int64),
        "price": np.full(n, 585.5),
        "size": np.full(n, 100.0),
        "exchange": np.full(n, 12),
        "tape": np.full(n, 3),
        "sequence": np.arange(n, dtype=np.int64),
        "conditions": np.full((n, 4), -1, dtype=np.int32),
    }


@pytest.fixture
def store(tmp_path):
    return MarketDataStore(tmp_path / "store")


def test_the_new_kinds_are_per_day_kinds_with_named_columns():
    assert set(DAY_COLUMNS) == {"minute", "hour", "trades", "quotes"}
    assert set(DAY_COLUMNS) < set(DAY_KINDS) < set(KINDS)
    assert "daily" not in DAY_KINDS


def test_a_day_of_minute_bars_reads_back_equal_and_memory_mapped(store):
    entry = store.put_day_columns("minute", "aapl", DAY, bars(), source="polygon", meta={"m": 1})
    assert (entry.kind, entry.symbol, entry.first, entry.rows) == ("minute", "AAPL", DAY, 5)
    assert entry.meta == {"first_ns": T0, "last_ns": T0 + 4 * 60 * 10**9, "m": 1}
    stored = store.intraday_bars("AAPL", "2012-06-21")
    assert len(stored) == 5 and stored.date == DAY
    for name, values in bars().items():
        assert np.array_equal(stored[name], values, equal_nan=True), name
        assert isinstance(stored[name], np.memmap) and not stored[name].flags.writeable
    assert store.days("minute", "AAPL") == [DAY]
    assert store.symbols("minute") == ["AAPL"] and store.symbols("daily") == []


def test_each_day_is_its_own_entry_and_a_second_put_replaces_only_that_day(store):
    store.put_day_columns("trades", "AMZN", DAY, trades(4), source="polygon")
    store.put_day_columns("trades", "AMZN", DAY + dt.timedelta(days=1), trades(2), source="x")
    store.put_day_columns("trades", "AMZN", DAY, trades(3), source="polygon")
    assert store.days("trades", "AMZN") == [DAY, DAY + dt.timedelta(days=1)]
    assert len(store.trades("AMZN", DAY)) == 3
    assert len(list((store.root / "trades" / "AMZN" / DAY.isoformat()).iterdir())) == 1
    store.remove("trades", "AMZN", DAY)
    assert store.days("trades", "AMZN") == [DAY + dt.timedelta(days=1)]


def test_kinds_do_not_mix(store):
    store.put_day_columns("minute", "AAPL", DAY, bars(), source="polygon")
    with pytest.raises(NotInStoreError, match=r"no hour day 2012-06-21 for AAPL.*none"):
        store.intraday_bars("AAPL", DAY, "hour")
    with pytest.raises(NotInStoreError, match=r"no quotes day 2012-06-22 for AAPL"):
        store.quotes("AAPL", "2012-06-22")
    with pytest.raises(ValueError, match="needs a date"):
        store.entry("minute", "AAPL")
    with pytest.raises(ValueError, match="timespan must be minute or hour"):
        store.intraday_bars("AAPL", DAY, "day")


@pytest.mark.parametrize(
    ("kind", "columns", "message"),
    [
        ("minute", {k: v for k, v in bars().items() if k != "vwap"}, r"missing \['vwap'\]"),
        ("minute", {**bars(), "extra": np.zeros(5)}, r"unknown \['extra'\]"),
        ("minute", {**bars(), "close": np.zeros(4)}, "close has 4 rows, expected 5"),
        ("minute", {**bars(), "t_ns": bars()["t_ns"][::-1].copy()}, "row 1: time before"),
        ("minute", {**bars(), "open": np.array([1, 2, np.inf, 4, 5.0])}, "row 2: open not finite"),
        ("minute", {**bars(), "transactions": np.zeros(5)}, "transactions must hold integers"),
        ("trades", {**trades(), "conditions": np.zeros((4, 3), np.int32)}, "conditions has shape"),
        ("minute", {k: v[:0] for k, v in bars().items()}, "no minute rows"),
        ("daily", bars(), "kind must be one of"),
    ],
)
def test_bad_columns_are_refused_and_nothing_is_written(store, kind, columns, message):
    with pytest.raises(ValueError, match=message):
        store.put_day_columns(kind, "AAPL", DAY, columns, source="polygon")
    assert store.catalogue() == []
    assert not (store.root / kind).exists()


def test_vacuum_removes_unreferenced_versions_of_the_new_kinds(store):
    store.put_day_columns("quotes", "AAPL", DAY, {
        "sip_ns": np.array([T0]), "participant_ns": np.array([0]), "bid_price": np.array([1.0]),
        "bid_size": np.array([1.0]), "bid_exchange": np.array([12]), "ask_price": np.array([2.0]),
        "ask_size": np.array([1.0]), "ask_exchange": np.array([12]), "tape": np.array([3]),
        "sequence": np.array([1]), "conditions": np.full((1, 4), -1, np.int32),
        "indicators": np.full((1, 4), -1, np.int32),
    }, source="polygon")  # fmt: skip
    orphan = store.root / "quotes" / "AAPL" / DAY.isoformat() / "deadbeef"
    orphan.mkdir()
    assert store.vacuum() == [orphan]
    assert len(store.quotes("AAPL", DAY)) == 1
