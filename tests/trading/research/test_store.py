"""The market data store: exact round trips, memory maps, adjusted series, the catalogue and
writes that a crash cannot leave half done."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from tests.support.research_store import (
    AAPL_MESSAGES,
    AMZN_MESSAGES,
    DAILY_DIR,
    daily_files,
)
from trading import lobster
from trading.research import store as store_module
from trading.research.importers import import_daily_csv, read_daily_csv
from trading.research.store import (
    MarketDataStore,
    NotInStoreError,
    RawDailyBars,
    adjusted_close_from_actions,
    default_store_root,
)

DAY = dt.date(2012, 6, 21)


def reference_csv(symbol: str) -> pd.DataFrame:
    """The file as pandas reads it, turned oldest first."""
    frame = pd.read_csv(DAILY_DIR / f"{symbol}.csv.gz", parse_dates=["timestamp"])
    return frame.iloc[::-1].reset_index(drop=True)


def row_on(frame: pd.DataFrame, day: str) -> pd.Series:
    return frame.loc[frame["timestamp"] == pd.Timestamp(day)].iloc[0]


def small_bars(days: int = 5, start: str = "2020-01-01") -> RawDailyBars:
    dates = np.arange(np.datetime64(start), np.datetime64(start) + days)
    close = np.linspace(10.0, 14.0, days)
    return RawDailyBars(
        dates=dates,
        open=close - 0.5,
        high=close + 1.0,
        low=close - 1.0,
        close=close,
        volume=np.full(days, 1000.0),
        dividend=np.zeros(days),
        split=np.ones(days),
    )


# --------------------------------------------------------------------------------------------
# LOBSTER days
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "symbol", "levels"), [(AMZN_MESSAGES, "AMZN", 5),
                                                         (AAPL_MESSAGES, "AAPL", 1)])  # fmt: skip
def test_a_stored_lobster_day_equals_the_loader_arrays_exactly(
    research_store, path, symbol, levels
):
    expected = lobster.load_day(path)
    stored = research_store.lobster_day(symbol, DAY)
    assert (stored.symbol, stored.date, stored.levels) == (symbol, DAY, levels)
    assert stored.messages.dtype == lobster.MESSAGE_DTYPE
    assert stored.orderbook.dtype == np.int64
    assert stored.orderbook.shape == expected.orderbook.shape == (len(expected.messages),
                                                                   4 * levels)  # fmt: skip
    assert np.array_equal(stored.messages, expected.messages)
    assert np.array_equal(stored.orderbook, expected.orderbook)


def test_stored_arrays_are_read_only_memory_maps(research_store):
    day = research_store.lobster_day("AMZN", "2012-06-21")
    bars = research_store.daily_bars("KO")
    raw = research_store.daily_bars("KO", adjusted=False)
    for array in (day.messages, day.orderbook, bars.dates, bars.close, bars.volume, raw.open):
        assert isinstance(array, np.memmap)
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array[0] = array[1]


def test_lobster_day_accepts_dates_in_several_forms(research_store):
    for day in (DAY, "2012-06-21", np.datetime64("2012-06-21"), dt.datetime(2012, 6, 21, 9)):
        assert research_store.lobster_day("amzn", day).date == DAY


def test_a_day_or_symbol_not_stored_is_a_clear_error(research_store):
    with pytest.raises(NotInStoreError, match=r"no LOBSTER day 2012-06-22 for AMZN.*2012-06-21"):
        research_store.lobster_day("AMZN", "2012-06-22")
    with pytest.raises(NotInStoreError, match="no daily bars for ZZZZ"):
        research_store.daily_bars("ZZZZ")
    with pytest.raises(ValueError, match="2012/06/21"):
        research_store.lobster_day("AMZN", "2012/06/21")
    with pytest.raises(ValueError, match="symbol"):
        research_store.daily_bars("../KO")


# --------------------------------------------------------------------------------------------
# Daily bars
# --------------------------------------------------------------------------------------------


def test_daily_bars_run_oldest_first_and_equal_the_csv_as_pandas_reads_it(research_store):
    for path in daily_files():
        symbol = path.name.split(".")[0]
        frame = reference_csv(symbol)
        raw = research_store.daily_bars(symbol, adjusted=False)
        adjusted = research_store.daily_bars(symbol)
        assert raw.symbol == symbol and not raw.adjusted and adjusted.adjusted
        expected_dates = frame["timestamp"].to_numpy().astype("datetime64[D]")
        assert np.array_equal(raw.dates, expected_dates), symbol
        assert np.all(np.diff(raw.dates.astype(np.int64)) > 0)
        for column in ("open", "high", "low", "close", "volume"):
            assert np.array_equal(getattr(raw, column), frame[column].to_numpy(float)), column
        assert np.array_equal(adjusted.close, frame["adjusted_close"].to_numpy(float))
        assert np.array_equal(raw.dividend, frame["dividend_amount"].to_numpy(float))
        assert np.array_equal(raw.split, frame["split_coefficient"].to_numpy(float))


def test_split_day_adjustment_by_hand_aapl_2014_06_09(research_store):
    adjusted = research_store.daily_bars("AAPL")
    raw = research_store.daily_bars("AAPL", adjusted=False)
    i = int(np.searchsorted(adjusted.dates, np.datetime64("2014-06-09")))
    # Rows of the file: 2014-06-09,92.7,93.88,91.75,93.7,21.1402167487,75414997,0.0000,7.00000700001
    #                   2014-06-06,649.9,651.26,644.47,645.57,20.8072512258,12497800,0.0000,1.0
    assert raw.split[i] == 7.00000700001 and raw.close[i] == 93.7 and raw.close[i - 1] == 645.57
    ratio_split_day = 21.1402167487 / 93.7
    assert adjusted.open[i] == pytest.approx(92.7 * ratio_split_day, rel=1e-15)
    assert adjusted.high[i] == pytest.approx(93.88 * ratio_split_day, rel=1e-15)
    assert adjusted.low[i] == pytest.approx(91.75 * ratio_split_day, rel=1e-15)
    assert adjusted.close[i] == 21.1402167487
    # The split of 2014-06-09 applies to the days before it; the 4:1 of 2020-08-31 to both.
    assert adjusted.volume[i] == pytest.approx(75414997 * 4.0, rel=1e-15)
    ratio_before = 20.8072512258 / 645.57
    assert adjusted.open[i - 1] == pytest.approx(649.9 * ratio_before, rel=1e-15)
    assert adjusted.volume[i - 1] == pytest.approx(12497800 * 7.00000700001 * 4.0, rel=1e-15)
    # The raw close falls about 7x across the split; the adjusted one moves like the market.
    assert raw.close[i] / raw.close[i - 1] < 0.15
    assert abs(adjusted.close[i] / adjusted.close[i - 1] - 1) < 0.02


def test_split_day_adjustment_by_hand_ko_2012_08_13(research_store):
    adjusted = research_store.daily_bars("KO")
    raw = research_store.daily_bars("KO", adjusted=False)
    i = int(np.searchsorted(adjusted.dates, np.datetime64("2012-08-13")))
    # 2012-08-13,39.31,39.39,39.05,39.3,30.0635249541,4449100,0.0000,2.0
    # 2012-08-10,79.16,79.21,78.61,78.79,30.1361975972,20288800,0.0000,1.0
    assert (raw.open[i], raw.high[i], raw.low[i], raw.close[i]) == (39.31, 39.39, 39.05, 39.3)
    assert raw.volume[i] == 4449100 and raw.volume[i - 1] == 20288800
    assert adjusted.high[i] == pytest.approx(39.39 * 30.0635249541 / 39.3, rel=1e-15)
    assert adjusted.low[i - 1] == pytest.approx(78.61 * 30.1361975972 / 78.79, rel=1e-15)
    assert adjusted.volume[i] == 4449100
    assert adjusted.volume[i - 1] == 20288800 * 2
    assert adjusted.volume[0] == raw.volume[0] * 2  # the only KO split in the file


def test_adjusted_close_from_actions_agrees_with_the_source_adjusted_close():
    # Alpha Vantage adjusts with the same convention.  Its factors round differently, most of
    # all for spin-offs booked as cash (COP's 17.025 on 2012-05-01, MS's 14.25 on 2007-07-02),
    # which is where the two drift furthest apart (0.74%).
    for path in daily_files():
        frame = reference_csv(path.name.split(".")[0])
        ours = adjusted_close_from_actions(
            frame["close"].to_numpy(), frame["dividend_amount"].to_numpy(),
            frame["split_coefficient"].to_numpy(),
        )  # fmt: skip
        relative = np.abs(ours / frame["adjusted_close"].to_numpy() - 1)
        assert relative.max() < 1e-2, path.name
        assert ours[-1] == frame["close"].iloc[-1]


def test_adjusted_close_from_actions_on_a_hand_made_history():
    close = np.array([100.0, 102.0, 51.0, 50.0])
    dividend = np.array([0.0, 0.0, 0.0, 1.0])  # 1.00 ex on the last day, close before 51
    split = np.array([1.0, 1.0, 2.0, 1.0])  # 2:1 on the third day
    after_dividend = 1 - 1.0 / 51.0
    expected = [100 / 2 * after_dividend, 102 / 2 * after_dividend, 51 * after_dividend, 50]
    np.testing.assert_allclose(adjusted_close_from_actions(close, dividend, split), expected)


def test_bars_without_a_source_adjusted_close_are_adjusted_from_the_actions(tmp_path):
    store = MarketDataStore(tmp_path)
    raw = read_daily_csv(DAILY_DIR / "KO.csv.gz")
    derived = RawDailyBars(**{**{f: getattr(raw, f) for f in raw.__dataclass_fields__},
                              "adjusted_close": None})  # fmt: skip
    store.put_daily_bars("KO", derived, source="test")
    stored = store.daily_bars("KO")
    expected = adjusted_close_from_actions(raw.close, raw.dividend, raw.split)
    assert np.array_equal(stored.close, expected)
    np.testing.assert_allclose(stored.open, raw.open * expected / raw.close, rtol=1e-15)


def test_daily_bars_can_be_cut_to_a_date_range(research_store):
    whole = research_store.daily_bars("SPY")
    part = research_store.daily_bars("SPY", start="2008-01-01", end=dt.date(2008, 12, 31))
    first, last = np.datetime64("2008-01-01"), np.datetime64("2008-12-31")
    mask = (whole.dates >= first) & (whole.dates <= last)
    assert np.array_equal(part.dates, whole.dates[mask])
    assert np.array_equal(part.close, whole.close[mask])
    assert part.dates[0] == np.datetime64("2008-01-02") and len(part) == mask.sum()


# --------------------------------------------------------------------------------------------
# Aligned closes
# --------------------------------------------------------------------------------------------


def test_aligned_closes_keep_only_the_dates_all_symbols_share(research_store):
    symbols = ["SPY", "TLT", "UPS", "IWM"]
    dates, matrix = research_store.aligned_closes(symbols)
    frames = [reference_csv(s).set_index("timestamp")["adjusted_close"].rename(s)
              for s in symbols]  # fmt: skip
    joined = pd.concat(frames, axis=1, join="inner").sort_index()
    assert dates.dtype == np.dtype("datetime64[D]")
    assert dates[0] == np.datetime64("2002-07-26")  # TLT's first day
    assert len(dates) == 4629 == len(joined)
    assert np.array_equal(dates, joined.index.to_numpy().astype("datetime64[D]"))
    assert matrix.shape == (4629, 4)
    assert np.array_equal(matrix, joined.to_numpy())


def test_aligned_closes_with_a_date_range(research_store):
    dates, matrix = research_store.aligned_closes(["KO", "PEP"], start="2010-01-01",
                                                  end="2010-12-31")  # fmt: skip
    assert dates[0] == np.datetime64("2010-01-04") and dates[-1] == np.datetime64("2010-12-31")
    ko = research_store.daily_bars("KO", start="2010-01-01", end="2010-12-31")
    assert np.array_equal(matrix[:, 0], ko.close)


def test_aligned_closes_rejects_an_empty_symbol_list(research_store):
    with pytest.raises(ValueError, match="non-empty"):
        research_store.aligned_closes([])
    with pytest.raises(ValueError, match="non-empty"):
        research_store.aligned_closes("KO")


# --------------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------------


def test_the_catalogue_survives_reopening_the_store(research_store):
    reopened = MarketDataStore(research_store.root)
    assert reopened.catalogue() == research_store.catalogue()
    assert len(reopened.catalogue()) == 30
    assert reopened.symbols("lobster") == ["AAPL", "AMZN"]
    assert reopened.symbols("daily") == sorted(p.name.split(".")[0] for p in daily_files())
    assert reopened.lobster_dates("AMZN") == [DAY]
    document = json.loads((research_store.root / "catalogue.json").read_text())
    assert len(document["entries"]) == 30
    with pytest.raises(ValueError, match="kind"):
        reopened.symbols("weekly")


def test_catalogue_entries_record_source_files_rows_levels_dates_and_checksums(research_store):
    amzn = research_store.entry("lobster", "AMZN", DAY)
    assert (amzn.rows, amzn.levels, amzn.source) == (155_935, 5, "lobster-file")
    assert (amzn.first, amzn.last) == (DAY, DAY)
    book = AMZN_MESSAGES.with_name(AMZN_MESSAGES.name.replace("message", "orderbook"))
    assert amzn.source_files == (AMZN_MESSAGES.name, book.name)
    for path in (AMZN_MESSAGES, book):
        content = gzip.decompress(path.read_bytes())
        assert amzn.checksums[path.name] == hashlib.sha256(content).hexdigest()
    # The data README's md5 of the uncompressed orderbook file
    assert hashlib.md5(gzip.decompress(book.read_bytes())).hexdigest() == (
        "1bb6a739affef79f132c36c78be63e97"
    )
    tlt = research_store.entry("daily", "TLT")
    assert (tlt.rows, tlt.levels, tlt.source) == (4629, None, "alphavantage-csv")
    assert (tlt.first, tlt.last) == (dt.date(2002, 7, 26), dt.date(2020, 12, 11))
    assert tlt.meta["splits"] == 0 and tlt.meta["dividends"] == 220
    aapl = research_store.entry("daily", "AAPL")
    assert aapl.meta["splits"] == 4 and aapl.meta["dividends"] == 34
    for entry in research_store.catalogue():
        assert all((research_store.root / name).is_file() for name in entry.files)
        assert entry.imported_at.endswith("+00:00")


def test_default_root_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DESK_MARKET_DATA", str(tmp_path / "md"))
    assert default_store_root() == tmp_path / "md"
    assert MarketDataStore().root == tmp_path / "md"
    monkeypatch.delenv("DESK_MARKET_DATA")
    assert default_store_root().parts[-2:] == ("var", "market_data")


def test_an_empty_store_has_an_empty_catalogue(tmp_path):
    store = MarketDataStore(tmp_path / "nothing")
    assert store.catalogue() == [] and store.symbols() == []
    assert not (tmp_path / "nothing").exists()


# --------------------------------------------------------------------------------------------
# Writing: replacement, atomicity, validation, concurrency
# --------------------------------------------------------------------------------------------


def version_dirs(store: MarketDataStore, symbol: str) -> list[str]:
    return sorted(p.name for p in (store.root / "daily" / symbol).iterdir())


def test_reimporting_replaces_the_previous_version(tmp_path):
    store = MarketDataStore(tmp_path)
    store.put_daily_bars("XYZ", small_bars(5), source="test")
    first_version = version_dirs(store, "XYZ")
    assert len(first_version) == 1
    store.put_daily_bars("XYZ", small_bars(3, start="2021-01-01"), source="again")
    assert len(store.catalogue()) == 1
    entry = store.entry("daily", "XYZ")
    assert (entry.rows, entry.source, entry.first) == (3, "again", dt.date(2021, 1, 1))
    assert len(version_dirs(store, "XYZ")) == 1 and version_dirs(store, "XYZ") != first_version
    assert store.daily_bars("XYZ").dates[0] == np.datetime64("2021-01-01")


def test_a_reader_keeps_its_arrays_when_the_data_is_replaced(tmp_path):
    store = MarketDataStore(tmp_path)
    store.put_daily_bars("XYZ", small_bars(5), source="test")
    before = store.daily_bars("XYZ", adjusted=False)
    store.put_daily_bars("XYZ", small_bars(3), source="test")
    assert np.array_equal(before.close, small_bars(5).close)


def test_a_crash_while_writing_files_leaves_the_old_version_and_no_half_file(tmp_path, monkeypatch):
    store = MarketDataStore(tmp_path)
    store.put_daily_bars("XYZ", small_bars(5), source="test")
    catalogue_before = (tmp_path / "catalogue.json").read_bytes()
    real_write = store_module._write_npy
    written = []

    def write_then_crash(path, array):
        if len(written) == 3:
            raise OSError("disk full")
        written.append(path)
        real_write(path, array)

    monkeypatch.setattr(store_module, "_write_npy", write_then_crash)
    with pytest.raises(OSError, match="disk full"):
        store.put_daily_bars("XYZ", small_bars(3), source="test")
    with pytest.raises(OSError, match="disk full"):
        store.put_daily_bars("NEW", small_bars(3), source="test")
    assert (tmp_path / "catalogue.json").read_bytes() == catalogue_before
    assert list((tmp_path / ".staging").iterdir()) == []
    assert not (tmp_path / "daily" / "NEW").exists()
    assert len(store.daily_bars("XYZ")) == 5


def test_a_crash_before_the_catalogue_is_written_is_cleaned_by_vacuum(tmp_path, monkeypatch):
    store = MarketDataStore(tmp_path)
    store.put_daily_bars("XYZ", small_bars(5), source="test")
    old_version = version_dirs(store, "XYZ")

    def crash(self, entries):
        raise OSError("power cut")

    monkeypatch.setattr(MarketDataStore, "_write_catalogue", crash)
    with pytest.raises(OSError, match="power cut"):
        store.put_daily_bars("XYZ", small_bars(3), source="test")
    monkeypatch.undo()
    reopened = MarketDataStore(tmp_path)
    assert len(reopened.daily_bars("XYZ")) == 5  # the catalogue still names the old version
    assert len(version_dirs(store, "XYZ")) == 2
    removed = reopened.vacuum()
    assert len(removed) == 1 and removed[0].name not in old_version
    assert version_dirs(store, "XYZ") == old_version
    assert len(reopened.daily_bars("XYZ")) == 5


def test_put_daily_bars_rejects_unsound_bars_naming_the_bar(tmp_path):
    store = MarketDataStore(tmp_path)
    bars = small_bars(5)
    bad_close = bars.close.copy()
    bad_close[3] = -1.0
    with pytest.raises(ValueError, match=r"XYZ bar 3 \(2020-01-04\): close must be > 0"):
        store.put_daily_bars("XYZ", RawDailyBars(**{**_fields(bars), "close": bad_close}), "t")
    backwards = bars.dates[::-1].copy()
    with pytest.raises(ValueError, match="bar 1 .*increasing"):
        store.put_daily_bars("XYZ", RawDailyBars(**{**_fields(bars), "dates": backwards}), "t")
    short = bars.volume[:4]
    with pytest.raises(ValueError, match="volume has shape"):
        store.put_daily_bars("XYZ", RawDailyBars(**{**_fields(bars), "volume": short}), "t")
    with pytest.raises(ValueError, match="source"):
        store.put_daily_bars("XYZ", bars, "")
    assert store.catalogue() == []


def _fields(bars: RawDailyBars) -> dict:
    return {name: getattr(bars, name) for name in bars.__dataclass_fields__}


def test_put_lobster_day_rejects_mismatched_arrays(tmp_path):
    store = MarketDataStore(tmp_path)
    messages = np.zeros(3, dtype=lobster.MESSAGE_DTYPE)
    with pytest.raises(ValueError, match="MESSAGE_DTYPE"):
        store.put_lobster_day("X", DAY, np.zeros(3), np.zeros((3, 4), np.int64), source="t")
    with pytest.raises(ValueError, match=r"4 \* levels"):
        store.put_lobster_day("X", DAY, messages, np.zeros((3, 6), np.int64), source="t")
    with pytest.raises(ValueError, match="2 orderbook rows for 3 messages"):
        store.put_lobster_day("X", DAY, messages, np.zeros((2, 4), np.int64), source="t")
    entry = store.put_lobster_day("x", DAY, messages, np.zeros((3, 8), np.int32), source="t")
    assert (entry.symbol, entry.levels, entry.rows) == ("X", 2, 3)
    assert store.lobster_day("X", DAY).orderbook.dtype == np.int64


def test_concurrent_writers_lose_no_catalogue_entry(tmp_path):
    store_path = tmp_path / "store"
    files = daily_files()[:8]

    def work(path):
        return import_daily_csv(MarketDataStore(store_path), path).symbol

    with ThreadPoolExecutor(max_workers=4) as pool:
        written = list(pool.map(work, files))
    assert MarketDataStore(store_path).symbols("daily") == sorted(written)


def test_remove_drops_the_entry_and_its_files(tmp_path):
    store = MarketDataStore(tmp_path)
    store.put_daily_bars("XYZ", small_bars(5), source="test")
    store.put_daily_bars("ABC", small_bars(5), source="test")
    store.remove("daily", "XYZ")
    assert store.symbols() == ["ABC"]
    assert not (tmp_path / "daily" / "XYZ").exists() or not version_dirs(store, "XYZ")
