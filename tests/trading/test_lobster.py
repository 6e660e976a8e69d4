"""LOBSTER loader: exact values from the data README, file names, and malformed files."""

from __future__ import annotations

import datetime as dt
import gzip
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.data import LOBSTER_DIR
from trading import lobster
from trading.lobster import LobsterFormatError

DATA = LOBSTER_DIR
AAPL = DATA / "AAPL_2012-06-21_34200000_57600000_message_1.csv.gz"
AMZN = DATA / "AMZN_2012-06-21_34200000_57600000_message_5.csv.gz"

needs_data = pytest.mark.skipif(not AAPL.exists(), reason=f"LOBSTER samples not in {DATA}")


@pytest.fixture(scope="module")
def aapl() -> lobster.LobsterDay:
    return lobster.load_day(AAPL)


@pytest.fixture(scope="module")
def amzn() -> lobster.LobsterDay:
    return lobster.load_day(AMZN)


def _kind_counts(messages: np.ndarray) -> list[int]:
    return np.bincount(messages["kind"], minlength=8)[1:].tolist()


# --------------------------------------------------------------------------------------------
# The real files (numbers from the shared data README)
# --------------------------------------------------------------------------------------------


@needs_data
def test_aapl_messages_match_the_readme(aapl: lobster.LobsterDay) -> None:
    m = aapl.messages
    assert m.dtype == lobster.MESSAGE_DTYPE
    assert len(m) == 118_497
    assert _kind_counts(m) == [54_818, 252, 28_437, 23_658, 11_332, 0, 0]
    assert m["ts_ns"][0] == 34_200_004_241_176
    assert m["ts_ns"][-1] == 57_599_913_117_637
    assert (np.diff(m["ts_ns"]) >= 0).all()
    assert int((np.diff(m["ts_ns"]) == 0).sum()) == 11_870
    assert int((m["direction"] == 1).sum()) == 57_004
    assert int((m["direction"] == -1).sum()) == 61_493
    assert int(m["size"][m["kind"] == 4].sum()) == 1_845_964
    assert int(m["size"][m["kind"] == 5].sum()) == 1_004_176
    assert (int(m["price"].min()), int(m["price"].max())) == (5_774_500, 5_882_200)
    hidden = m[m["kind"] == 5]
    assert int((hidden["price"] % 100 != 0).sum()) == 372
    assert (hidden["order_id"] == 0).all()
    assert (m[m["kind"] != 5]["price"] % 100 == 0).all()


@needs_data
def test_aapl_first_rows_exact(aapl: lobster.LobsterDay) -> None:
    first = aapl.messages[0].tolist()
    assert first == (34_200_004_241_176, 1, 16_113_575, 18, 5_853_300, 1)
    assert aapl.orderbook[0].tolist() == [5_859_400, 200, 5_853_300, 18]


@needs_data
def test_aapl_orderbook_level_1(aapl: lobster.LobsterDay) -> None:
    book = aapl.orderbook
    assert book.dtype == np.int64
    assert book.shape == (118_497, 4)
    assert lobster.level_count(book) == 1
    ask_p, ask_s = lobster.level(book, lobster.SELL, 1)
    bid_p, bid_s = lobster.level(book, lobster.BUY, 1)
    assert (bid_p < ask_p).all()  # never crossed nor locked
    spread = ask_p - bid_p
    assert (int(spread.min()), int(spread.max())) == (100, 9_200)
    assert (ask_s > 0).all() and (bid_s > 0).all()


@needs_data
def test_amzn_messages_match_the_readme(amzn: lobster.LobsterDay) -> None:
    m = amzn.messages
    assert len(m) == 155_935
    assert _kind_counts(m) == [77_381, 450, 66_685, 8_974, 2_445, 0, 0]
    assert m["ts_ns"][0] == 34_200_017_459_617
    assert m["ts_ns"][-1] == 57_599_959_359_650
    assert (int(m["price"].min()), int(m["price"].max())) == (2_204_700, 2_261_200)
    # "34200.18960767": 8 decimals, so a trailing zero nanosecond digit was dropped.
    assert m["ts_ns"][1] == 34_200_189_607_670


@needs_data
def test_amzn_orderbook_level_5(amzn: lobster.LobsterDay) -> None:
    book = amzn.orderbook
    assert book.shape == (155_935, 20)
    assert amzn.levels == 5
    assert book[0].tolist()[:8] == [2_239_500, 100, 2_231_800, 100, 2_239_900, 100, 2_230_700, 200]
    for k in range(1, 5):
        # Levels are strictly ordered away from the touch on both sides.
        assert (
            lobster.level(book, lobster.SELL, k)[0] < lobster.level(book, lobster.SELL, k + 1)[0]
        ).all()
        assert (
            lobster.level(book, lobster.BUY, k)[0] > lobster.level(book, lobster.BUY, k + 1)[0]
        ).all()
    price, size = lobster.level(book[0], lobster.BUY, 5)
    assert (int(price), int(size)) == (2_226_200, 100)


@needs_data
def test_loading_is_fast() -> None:
    start = time.perf_counter()
    lobster.load_day(AMZN)
    # ~0.5 s on a laptop; the bound leaves room for slow CI machines.
    assert time.perf_counter() - start < 3.0


@needs_data
def test_file_names() -> None:
    info = lobster.parse_file_name(AMZN)
    assert info == lobster.LobsterFileName(
        "AMZN", dt.date(2012, 6, 21), 34_200_000, 57_600_000, "message", 5, True
    )
    assert lobster.orderbook_path_for(AMZN) == DATA / AMZN.name.replace("message", "orderbook")


def test_file_name_errors(tmp_path: Path) -> None:
    with pytest.raises(LobsterFormatError, match="file name"):
        lobster.parse_file_name(tmp_path / "AAPL_message_1.csv")
    with pytest.raises(LobsterFormatError, match="bad date"):
        lobster.parse_file_name("X_2012-13-40_1_2_message_1.csv")
    with pytest.raises(FileNotFoundError, match="orderbook"):
        lobster.orderbook_path_for(tmp_path / "X_2012-06-21_1_2_message_1.csv")


def test_orderbook_found_with_other_compression(tmp_path: Path) -> None:
    msg = tmp_path / "X_2012-06-21_1_2_message_1.csv.gz"
    book = tmp_path / "X_2012-06-21_1_2_orderbook_1.csv"
    msg.write_bytes(gzip.compress(b"34200.5,1,7,10,1000000,1\n"))
    book.write_text("1010000,5,1000000,10\n")
    assert lobster.orderbook_path_for(msg) == book
    day = lobster.load_day(msg)
    assert day.messages.tolist() == [(34_200_500_000_000, 1, 7, 10, 1_000_000, 1)]
    assert day.orderbook.tolist() == [[1_010_000, 5, 1_000_000, 10]]


def test_level_helper_bounds() -> None:
    book = np.zeros((3, 8), np.int64)
    with pytest.raises(IndexError):
        lobster.level(book, lobster.BUY, 3)
    with pytest.raises(ValueError):
        lobster.level(book, 0, 1)


# --------------------------------------------------------------------------------------------
# Exact times and malformed files
# --------------------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str, name: str = "T_2012-06-21_0_1_message_1.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("cell", "ns"),
    [
        ("34200", 34_200_000_000_000),
        ("34200.", 34_200_000_000_000),
        ("34200.1", 34_200_100_000_000),
        ("57599.913117637", 57_599_913_117_637),
        ("0.000000001", 1),
        ("1.0000000005", 1_000_000_000),  # tie -> even
        ("1.0000000015", 1_000_000_002),
        ("1.00000000151", 1_000_000_002),
    ],
)
def test_times_are_exact_nanoseconds(tmp_path: Path, cell: str, ns: int) -> None:
    path = _write(tmp_path, f"{cell},1,1,1,100,1\n")
    assert lobster.load_messages(path)["ts_ns"].tolist() == [ns]


@pytest.mark.parametrize(
    ("text", "row", "reason"),
    [
        ("1.0,1,1,1,100,1\n2.0,1,1,1,100\n", 1, "expected 6 columns, got 5"),
        ("1.0,1,1,1,100,1\n2.0,1,1,x,100,1\n", 1, "column 4: 'x' is not an integer"),
        ("1.0,1,1,1,100,1\n1.0,1,1,1,100,1\n2a.5,1,1,1,100,1\n", 2, "time '2a.5'"),
        ("1.0,1,1,1,100,1\n-2.5,1,1,1,100,1\n", 1, "time '-2.5'"),
        ("1.0,1,1,1,100,1\n2.0,9,1,1,100,1\n", 1, "type must be 1..7"),
        ("1.0,1,1,1,100,1\n2.0,1,1,1,100,0\n", 1, "direction must be 1 or -1"),
        ("1.0,1,1,1,100,1\n2.0,1,1,-4,100,1\n", 1, "size must be >= 0"),
        ("1.0,6,-1,9,100,-1\n2.0,3,-1,4,100,1\n", 1, "order id must be >= 0"),
        ("5.0,1,1,1,100,1\n6.0,1,1,1,100,1\n5.5,1,1,1,100,1\n", 2, "time goes backwards"),
    ],
)
def test_malformed_message_file(tmp_path: Path, text: str, row: int, reason: str) -> None:
    path = _write(tmp_path, text, "T_2012-06-21_0_1_message_1.csv.gz")
    with pytest.raises(LobsterFormatError) as info:
        lobster.load_messages(path)
    assert info.value.row == row
    assert info.value.path == str(path)
    assert reason in str(info.value)
    assert f"{path}, row {row} (line {row + 1})" in str(info.value)


def test_empty_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(LobsterFormatError, match="empty") as info:
        lobster.load_messages(_write(tmp_path, "\n"))
    assert info.value.row is None
    bad_gz = tmp_path / "T_2012-06-21_0_1_message_1.csv.gz"
    bad_gz.write_bytes(b"not gzip")
    with pytest.raises(LobsterFormatError, match="cannot read"):
        lobster.load_messages(bad_gz)


def test_malformed_orderbook_file(tmp_path: Path) -> None:
    name = "T_2012-06-21_0_1_orderbook_2.csv"
    good = "10,1,9,1,11,2,8,2\n"
    path = _write(tmp_path, good + "10,1,9,1,11,2,8\n", name)
    with pytest.raises(LobsterFormatError, match="row 1 .*expected 8 columns, got 7"):
        lobster.load_orderbook(path)
    path = _write(tmp_path, good + good + "10,1,9,-1,11,2,8,2\n", name)
    with pytest.raises(LobsterFormatError, match="row 2 .*negative size"):
        lobster.load_orderbook(path)
    path = _write(tmp_path, good + "10,1,9.5,1,11,2,8,2\n", name)
    with pytest.raises(LobsterFormatError, match="row 1 .*column 3: '9.5'"):
        lobster.load_orderbook(path)


def test_row_count_mismatch(tmp_path: Path) -> None:
    _write(tmp_path, "1.0,1,1,1,100,1\n2.0,1,2,1,100,1\n")
    _write(tmp_path, "200,1,100,2\n", "T_2012-06-21_0_1_orderbook_1.csv")
    with pytest.raises(LobsterFormatError, match="1 orderbook rows for 2 messages"):
        lobster.load_day(tmp_path / "T_2012-06-21_0_1_message_1.csv")


def test_empty_levels_keep_placeholders(tmp_path: Path) -> None:
    path = _write(tmp_path, "9999999999,0,-9999999999,0\n", "T_2012-06-21_0_1_orderbook_1.csv")
    book = lobster.load_orderbook(path)
    assert lobster.level(book[0], lobster.SELL, 1) == (lobster.EMPTY_ASK, 0)
    assert lobster.level(book[0], lobster.BUY, 1) == (lobster.EMPTY_BID, 0)


def test_halt_and_cross_rows_parse(tmp_path: Path) -> None:
    # LOBSTER's documented halt / quote / resume rows, and a cross without an order id.
    text = "36023,7,0,0,-1,-1\n36323,7,0,0,0,-1\n36723,7,0,0,1,-1\n36800.5,6,-1,1200,1000000,-1\n"
    m = lobster.load_messages(_write(tmp_path, text))
    assert m["kind"].tolist() == [lobster.HALT] * 3 + [lobster.CROSS]
    assert m["price"].tolist() == [-1, 0, 1, 1_000_000]
    assert m["order_id"].tolist() == [0, 0, 0, -1]
    assert m["ts_ns"].tolist()[-1] == 36_800_500_000_000
