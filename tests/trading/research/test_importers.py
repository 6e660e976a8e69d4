"""Importers: LOBSTER days of any depth, Alpha Vantage daily CSVs (gzip or plain, any row order),
detection of file kinds, and malformed files that are refused without touching the store."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.research_store import AAPL_MESSAGES, AMZN_MESSAGES, DAILY_DIR
from trading import lobster
from trading.research.importers import (
    DataImportError,
    import_daily_csv,
    import_lobster,
    import_paths,
    plan_imports,
    read_daily_csv,
    symbol_from_daily_file_name,
)
from trading.research.store import MarketDataStore

KO_CSV = DAILY_DIR / "KO.csv.gz"


def orderbook_of(message_path: Path) -> Path:
    return message_path.with_name(message_path.name.replace("message", "orderbook"))


def plain_copy(path: Path, folder: Path) -> Path:
    """An uncompressed copy of a .gz file in ``folder``."""
    target = folder / path.name.removesuffix(".gz")
    target.write_bytes(gzip.decompress(path.read_bytes()))
    return target


def ko_lines() -> list[str]:
    return gzip.decompress(KO_CSV.read_bytes()).decode().splitlines()


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def store_is_untouched(store: MarketDataStore) -> bool:
    """No entry and no data file: at most the lock, an empty staging area, no catalogue."""
    if store.catalogue():
        return False
    if not store.root.exists():
        return True
    files = [p for p in store.root.rglob("*") if p.is_file() and p.name != ".lock"]
    return files == []


# --------------------------------------------------------------------------------------------
# LOBSTER
# --------------------------------------------------------------------------------------------


def test_a_plain_lobster_day_imports_like_the_gzip_one_with_the_same_checksums(tmp_path):
    plain = plain_copy(AAPL_MESSAGES, tmp_path)
    plain_copy(orderbook_of(AAPL_MESSAGES), tmp_path)
    store = MarketDataStore(tmp_path / "store")
    entry = import_lobster(store, plain)
    expected = lobster.load_day(AAPL_MESSAGES)
    day = store.lobster_day("AAPL", "2012-06-21")
    assert np.array_equal(day.messages, expected.messages)
    assert np.array_equal(day.orderbook, expected.orderbook)
    assert entry.source_files == (plain.name, plain.name.replace("message", "orderbook"))
    digest = hashlib.md5(plain.read_bytes()).hexdigest()
    assert digest == "71463f4235435a878870de8099552ab2"  # the data README's md5
    assert entry.checksums[plain.name] == hashlib.sha256(plain.read_bytes()).hexdigest()
    assert entry.meta == {"start_ms": 34_200_000, "end_ms": 57_600_000}


def test_an_orderbook_file_name_leads_to_its_message_file(tmp_path):
    store = MarketDataStore(tmp_path)
    entry = import_lobster(store, orderbook_of(AMZN_MESSAGES))
    assert (entry.symbol, entry.levels, entry.rows) == ("AMZN", 5, 155_935)
    assert entry.source_files[0] == AMZN_MESSAGES.name


def test_reimporting_a_lobster_day_replaces_it(tmp_path):
    store = MarketDataStore(tmp_path)
    first = import_lobster(store, AAPL_MESSAGES)
    second = import_lobster(store, AAPL_MESSAGES)
    assert store.catalogue() == [second]
    assert second.files != first.files
    assert not (tmp_path / first.files[0]).exists()
    assert len(list((tmp_path / "lobster" / "AAPL" / "2012-06-21").iterdir())) == 1


def test_a_short_orderbook_is_refused_naming_file_and_row(tmp_path):
    messages = plain_copy(AAPL_MESSAGES, tmp_path)
    book_lines = gzip.decompress(orderbook_of(AAPL_MESSAGES).read_bytes()).splitlines()
    book = tmp_path / messages.name.replace("message", "orderbook")
    book.write_bytes(b"\n".join(book_lines[:1000]) + b"\n")
    store = MarketDataStore(tmp_path / "store")
    with pytest.raises(DataImportError, match="1000 orderbook rows for 118497 messages") as info:
        import_lobster(store, messages)
    assert info.value.path == str(book) and info.value.row == 1000
    assert book.name in str(info.value) and "row 1000" in str(info.value)
    assert store_is_untouched(store)


def test_a_bad_message_row_is_refused_naming_file_and_row(tmp_path):
    lines = gzip.decompress(AAPL_MESSAGES.read_bytes()).decode().splitlines()
    lines[41] = lines[41].replace(",", ",x", 1)  # the type column of data row 41
    messages = tmp_path / AAPL_MESSAGES.name.removesuffix(".gz")
    messages.write_text("\n".join(lines) + "\n")
    plain_copy(orderbook_of(AAPL_MESSAGES), tmp_path)
    store = MarketDataStore(tmp_path / "store")
    with pytest.raises(DataImportError, match=r"row 41 \(line 42\)") as info:
        import_lobster(store, messages)
    assert info.value.path == str(messages)
    assert store_is_untouched(store)


def test_a_message_file_without_its_orderbook_is_refused(tmp_path):
    messages = plain_copy(AAPL_MESSAGES, tmp_path)
    store = MarketDataStore(tmp_path / "store")
    with pytest.raises(DataImportError, match="no orderbook file"):
        import_lobster(store, messages)
    with pytest.raises(DataImportError, match="no such file"):
        import_lobster(store, tmp_path / "AAPL_2012-06-22_34200000_57600000_message_1.csv")
    assert store_is_untouched(store)


# --------------------------------------------------------------------------------------------
# Daily CSV
# --------------------------------------------------------------------------------------------


def test_read_daily_csv_equals_pandas_oldest_first():
    bars = read_daily_csv(KO_CSV)
    frame = pd.read_csv(KO_CSV, parse_dates=["timestamp"]).iloc[::-1]
    assert np.array_equal(bars.dates, frame["timestamp"].to_numpy().astype("datetime64[D]"))
    assert np.array_equal(bars.close, frame["close"].to_numpy(float))
    assert np.array_equal(bars.adjusted_close, frame["adjusted_close"].to_numpy(float))
    assert np.array_equal(bars.split, frame["split_coefficient"].to_numpy(float))


def test_plain_gzip_and_oldest_first_files_give_the_same_bars(tmp_path):
    lines = ko_lines()
    plain = write_csv(tmp_path / "KO.csv", lines)
    oldest_first = write_csv(tmp_path / "daily_adjusted_KO.csv", [lines[0], *lines[:0:-1]])
    reference = read_daily_csv(KO_CSV)
    for path in (plain, oldest_first):
        bars = read_daily_csv(path)
        for name in reference.__dataclass_fields__:
            assert np.array_equal(getattr(bars, name), getattr(reference, name)), name
    store = MarketDataStore(tmp_path / "store")
    entry = import_daily_csv(store, oldest_first)
    assert entry.symbol == "KO" and entry.source == "alphavantage-csv"
    assert entry.source_files == ("daily_adjusted_KO.csv",)


def test_the_checksum_is_of_the_content_so_gzip_and_plain_agree(tmp_path):
    plain = write_csv(tmp_path / "KO.csv", ko_lines())
    store = MarketDataStore(tmp_path / "store")
    from_plain = import_daily_csv(store, plain).checksums["KO.csv"]
    from_gzip = import_daily_csv(store, KO_CSV).checksums["KO.csv.gz"]
    assert from_plain == from_gzip == hashlib.sha256(plain.read_bytes()).hexdigest()


def test_the_symbol_comes_from_the_file_name_unless_given(tmp_path):
    assert symbol_from_daily_file_name("KO.csv.gz") == "KO"
    assert symbol_from_daily_file_name("daily_adjusted_ibm.csv") == "IBM"
    assert symbol_from_daily_file_name("BRK.B.csv") == "BRK.B"
    with pytest.raises(DataImportError, match="symbol"):
        symbol_from_daily_file_name("prices.parquet")
    store = MarketDataStore(tmp_path)
    assert import_daily_csv(store, KO_CSV, symbol="coke").symbol == "COKE"
    assert store.symbols("daily") == ["COKE"]


def test_a_csv_without_corporate_actions_is_taken_as_unadjusted(tmp_path):
    frame = pd.read_csv(KO_CSV).iloc[:50]
    yahoo = frame.rename(columns={"timestamp": "Date", "open": "Open", "high": "High",
                                  "low": "Low", "close": "Close", "volume": "Volume"})  # fmt: skip
    path = tmp_path / "KO.csv"
    yahoo[["Date", "Open", "High", "Low", "Close", "Volume"]].to_csv(path, index=False)
    store = MarketDataStore(tmp_path / "store")
    entry = import_daily_csv(store, path)
    assert entry.source == "ohlcv-csv" and entry.rows == 50
    raw, adjusted = store.daily_bars("KO", adjusted=False), store.daily_bars("KO")
    assert np.array_equal(raw.close, adjusted.close)
    assert np.array_equal(raw.volume, adjusted.volume)
    assert np.all(raw.split == 1.0) and np.all(raw.dividend == 0.0)


def corrupt(lines: list[str], line_number: int, column: int, value: str) -> list[str]:
    """``lines`` with one cell (1-based line, 0-based column) replaced."""
    out = list(lines)
    cells = out[line_number - 1].split(",")
    cells[column] = value
    out[line_number - 1] = ",".join(cells)
    return out


CORRUPTIONS = [
    ("extra column", 100, 4, "12,3", "expected 9 columns, got 10"),
    ("bad number", 100, 4, "abc", "close 'abc' is not a number"),
    ("bad date", 100, 0, "2012/08/13", "date '2012/08/13' is not YYYY-MM-DD"),
    ("impossible date", 100, 0, "2012-02-30", "not a calendar date"),
    ("nan", 100, 5, "nan", "adjusted_close 'nan' is not finite"),
    ("negative price", 100, 2, "-1", "high must be > 0"),
    ("high below low", 100, 2, "1.0", "high below low"),
    ("zero split", 100, 8, "0", "split factor must be > 0"),
    ("negative volume", 100, 6, "-5", "volume must be >= 0"),
]


@pytest.mark.parametrize(("label", "line", "column", "value", "reason"), CORRUPTIONS,
                         ids=[c[0] for c in CORRUPTIONS])  # fmt: skip
def test_a_corrupt_csv_is_refused_naming_file_and_row_and_nothing_is_stored(
    tmp_path, label, line, column, value, reason
):
    path = write_csv(tmp_path / "KO.csv", corrupt(ko_lines(), line, column, value))
    store = MarketDataStore(tmp_path / "store")
    with pytest.raises(DataImportError) as info:
        import_daily_csv(store, path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert f"row {line - 2} (line {line})" in message and reason in message, message
    assert (info.value.row, info.value.line) == (line - 2, line)
    assert store_is_untouched(store)


def test_a_corrupt_gzip_csv_names_its_line_too(tmp_path):
    lines = corrupt(ko_lines(), 4000, 1, "x")
    path = tmp_path / "KO.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(DataImportError, match=r"KO.csv.gz, row 3998 \(line 4000\): open 'x'"):
        import_daily_csv(MarketDataStore(tmp_path / "store"), path)


def test_a_duplicate_date_is_refused_at_its_row(tmp_path):
    lines = ko_lines()
    lines[11] = lines[10]  # line 12 repeats line 11's day
    path = write_csv(tmp_path / "KO.csv", lines)
    with pytest.raises(DataImportError, match=r"row (9|10) \(line (11|12)\): date not after"):
        import_daily_csv(MarketDataStore(tmp_path / "store"), path)


def test_a_corrupt_reimport_keeps_the_stored_version(tmp_path):
    store = MarketDataStore(tmp_path / "store")
    before = import_daily_csv(store, KO_CSV)
    path = write_csv(tmp_path / "KO.csv", corrupt(ko_lines(), 50, 4, "oops"))
    with pytest.raises(DataImportError, match="line 50"):
        import_daily_csv(store, path)
    assert store.catalogue() == [before]
    assert len(store.daily_bars("KO")) == 5314


@pytest.mark.parametrize(("content", "reason"), [
    ("", "empty"),
    ("timestamp,open,high,low,close,adjusted_close,volume\n", "no data rows"),
    ("timestamp,open,high,low,adjusted_close,volume\n2020-01-02,1,1,1,1,1\n", "lacks close"),
    ("timestamp,close,close,open,high,low,volume\n", "repeats a column"),
])  # fmt: skip
def test_files_without_usable_header_or_rows_are_refused(tmp_path, content, reason):
    path = tmp_path / "KO.csv"
    path.write_text(content)
    with pytest.raises(DataImportError, match=reason):
        import_daily_csv(MarketDataStore(tmp_path / "store"), path)


def test_broken_gzip_is_refused(tmp_path):
    path = tmp_path / "KO.csv.gz"
    path.write_bytes(KO_CSV.read_bytes()[:5000])
    with pytest.raises(DataImportError, match="broken gzip"):
        import_daily_csv(MarketDataStore(tmp_path / "store"), path)


# --------------------------------------------------------------------------------------------
# Many paths
# --------------------------------------------------------------------------------------------


def test_plan_imports_expands_folders_and_imports_a_lobster_day_once(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for path in (AAPL_MESSAGES, orderbook_of(AAPL_MESSAGES), KO_CSV, DAILY_DIR / "PEP.csv.gz"):
        shutil.copy(path, folder)
    (folder / "notes.txt").write_text("not data")
    plan = plan_imports([folder, folder / orderbook_of(AAPL_MESSAGES).name])
    assert [(p.path.name, p.kind, p.error) for p in plan] == [
        (AAPL_MESSAGES.name, "lobster", None),
        ("KO.csv.gz", "daily", None),
        ("PEP.csv.gz", "daily", None),
    ]


def test_plan_imports_reports_missing_and_unknown_files(tmp_path):
    unknown = tmp_path / "table.csv"
    unknown.write_text("a,b,c\n1,2,3\n")
    plan = plan_imports([tmp_path / "missing.csv", unknown, KO_CSV])
    assert [p.kind for p in plan] == [None, None, "daily"]
    assert "no such file" in str(plan[0].error)
    assert "unknown kind of file" in str(plan[1].error) and str(unknown) in str(plan[1].error)


def test_import_paths_reports_progress_and_keeps_going_past_failures(tmp_path):
    bad = write_csv(tmp_path / "BAD.csv", corrupt(ko_lines(), 7, 3, "?"))
    store = MarketDataStore(tmp_path / "store")
    calls = []
    paths = [KO_CSV, tmp_path / "missing.csv.gz", bad, DAILY_DIR / "PEP.csv.gz"]
    outcomes = import_paths(
        store, paths, progress=lambda done, total, o: calls.append((done, total, o)),
        keep_going=True,
    )  # fmt: skip
    assert [o.ok for o in outcomes] == [True, False, False, True]
    assert [c[:2] for c in calls] == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert calls[0][2] is None and [c[2] for c in calls[1:]] == outcomes
    assert "line 7" in str(outcomes[2].error)
    assert outcomes[2].summary().startswith("FAILED ")
    assert store.symbols() == ["KO", "PEP"]
    assert outcomes[0].as_dict()["entry"]["rows"] == 5314


def test_import_paths_stops_at_the_first_failure_by_default(tmp_path):
    store = MarketDataStore(tmp_path / "store")
    with pytest.raises(DataImportError, match="no such file"):
        import_paths(store, [KO_CSV, tmp_path / "missing.csv", DAILY_DIR / "PEP.csv.gz"])
    assert store.symbols() == ["KO"]
