"""LOBSTER sample files: fast, exact loading of message and orderbook files.

LOBSTER (lobsterdata.com) writes one trading day of one ticker as two header-less CSV files
whose names follow ``TICKER_YYYY-MM-DD_START_END_{message,orderbook}_LEVELS.csv`` (START and END
are milliseconds after midnight; we also accept a trailing ``.gz``).

* The **message** file has one event per row: time (seconds after midnight, up to 9 decimals,
  trailing zeros dropped), type (1 add, 2 partial cancel, 3 delete, 4 visible execution,
  5 hidden execution, 6 cross, 7 halt), order id, size, price ($ x 10,000) and direction (side
  of the *resting* order: 1 buy, -1 sell).  :func:`load_messages` returns it as a numpy
  structured array of :data:`MESSAGE_DTYPE`; times become exact integer nanoseconds.
* The **orderbook** file has ``4 * LEVELS`` columns, ``ask_price_k, ask_size_k, bid_price_k,
  bid_size_k`` for k = 1..LEVELS; row i is the book *after* message i.  Missing levels hold
  :data:`EMPTY_ASK` / :data:`EMPTY_BID` with size 0.  :func:`load_orderbook` returns an
  ``int64`` array of shape ``(rows, 4 * LEVELS)``; :func:`level` reads one level of one side.

Malformed input raises :class:`LobsterFormatError` naming the file and the 0-based row.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
import warnings
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import numpy as np

__all__ = [
    "ADD",
    "BUY",
    "CANCEL",
    "CROSS",
    "DELETE",
    "EMPTY_ASK",
    "EMPTY_BID",
    "EXECUTE_HIDDEN",
    "EXECUTE_VISIBLE",
    "HALT",
    "MESSAGE_DTYPE",
    "SELL",
    "LobsterDay",
    "LobsterFileName",
    "LobsterFormatError",
    "level",
    "level_count",
    "load_day",
    "load_messages",
    "load_orderbook",
    "orderbook_path_for",
    "parse_file_name",
]

# Message types (column 2 of the message file).
ADD = 1
CANCEL = 2
DELETE = 3
EXECUTE_VISIBLE = 4
EXECUTE_HIDDEN = 5
CROSS = 6
HALT = 7
_KINDS = (ADD, CANCEL, DELETE, EXECUTE_VISIBLE, EXECUTE_HIDDEN, CROSS, HALT)

BUY = 1
SELL = -1

# LOBSTER's sentinel values for levels the book does not have.
EMPTY_ASK = 9_999_999_999
EMPTY_BID = -9_999_999_999

MESSAGE_DTYPE = np.dtype(
    [
        ("ts_ns", np.int64),
        ("kind", np.uint8),
        ("order_id", np.int64),
        ("size", np.int64),
        ("price", np.int64),
        ("direction", np.int8),
    ]
)
_MESSAGE_COLUMNS = 6
_NS_DIGITS = 9
_NS_PER_SECOND = 10**_NS_DIGITS

_NAME_RE = re.compile(
    r"^(?P<ticker>[A-Za-z0-9.\-]+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
    r"(?P<kind>message|orderbook)_(?P<levels>\d+)\.csv(?P<gz>\.gz)?$"
)


class LobsterFormatError(ValueError):
    """A LOBSTER file that does not have the documented layout.

    ``path`` names the file and ``row`` the 0-based data row (``None`` when the problem is the
    file as a whole, e.g. its name or an empty file); the text also gives the 1-based line.
    """

    def __init__(self, path: str | Path, row: int | None, reason: str) -> None:
        where = f"{path}" if row is None else f"{path}, row {row} (line {row + 1})"
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.row = row
        self.reason = reason


# --------------------------------------------------------------------------------------------
# File names
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LobsterFileName:
    """The fields of a LOBSTER file name (``AAPL_2012-06-21_34200000_57600000_message_1.csv``)."""

    ticker: str
    date: dt.date
    start_ms: int
    end_ms: int
    kind: str  # "message" or "orderbook"
    levels: int
    compressed: bool


def parse_file_name(path: str | Path) -> LobsterFileName:
    """Parse ticker, date, time window, file kind and level count from a LOBSTER file name."""
    name = Path(path).name
    match = _NAME_RE.match(name)
    if match is None:
        raise LobsterFormatError(
            path, None, "file name is not TICKER_YYYY-MM-DD_START_END_{message|orderbook}_N.csv"
        )
    try:
        date = dt.date.fromisoformat(match["date"])
    except ValueError as exc:
        raise LobsterFormatError(path, None, f"bad date in file name: {exc}") from None
    levels = int(match["levels"])
    if levels < 1:
        raise LobsterFormatError(path, None, "level count in file name must be >= 1")
    return LobsterFileName(
        ticker=match["ticker"],
        date=date,
        start_ms=int(match["start"]),
        end_ms=int(match["end"]),
        kind=match["kind"],
        levels=levels,
        compressed=match["gz"] is not None,
    )


def orderbook_path_for(message_path: str | Path) -> Path:
    """The orderbook file that belongs to a message file (same directory, ``.csv`` or ``.gz``)."""
    message_path = Path(message_path)
    info = parse_file_name(message_path)
    if info.kind != "message":
        raise LobsterFormatError(message_path, None, "not a message file name")
    stem = f"{info.ticker}_{info.date.isoformat()}_{info.start_ms}_{info.end_ms}_orderbook_"
    stem += f"{info.levels}.csv"
    # Prefer the same compression as the message file, but accept the other one.
    suffixes = (".gz", "") if info.compressed else ("", ".gz")
    for suffix in suffixes:
        candidate = message_path.with_name(stem + suffix)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no orderbook file {stem}[.gz] next to {message_path}")


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def _read_lines(path: Path) -> list[str]:
    """The file's data lines, decompressed when the name ends in ``.gz``."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        text = raw.decode("ascii")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise LobsterFormatError(path, None, f"cannot read: {exc}") from None
    lines = text.rstrip("\r\n").splitlines()
    if not lines or lines == [""]:
        raise LobsterFormatError(path, None, "file is empty")
    return lines


def _check_columns(lines: list[str], columns: int, path: Path) -> None:
    """Raise for the first row whose column count is wrong."""
    for row, line in enumerate(lines):
        found = line.count(",") + 1
        if found != columns:
            raise LobsterFormatError(path, row, f"expected {columns} columns, got {found}")


def _locate_bad_int(lines: list[str], usecols: range, path: Path) -> LobsterFormatError:
    """Find the row and column of a cell numpy refused (numpy's own message has no file name)."""
    for row, line in enumerate(lines):
        cells = line.split(",")
        for column in usecols:
            try:
                int(cells[column])
            except ValueError:
                return LobsterFormatError(
                    path, row, f"column {column + 1}: {cells[column]!r} is not an integer"
                )
    return LobsterFormatError(path, None, "integer out of range")


def _int_columns(lines: list[str], columns: int, usecols: range, path: Path) -> np.ndarray:
    """Columns ``usecols`` of every line as an ``int64`` array (numpy's C parser, ~0.1 s/Mcell)."""
    if any(line.count(",") != columns - 1 for line in lines):
        _check_columns(lines, columns, path)
    try:
        with warnings.catch_warnings():
            # Before numpy 2.3 a decimal such as "9.5" in an integer column is truncated with
            # only a DeprecationWarning: it is malformed input here, whatever numpy's version.
            warnings.simplefilter("error", DeprecationWarning)
            table = np.loadtxt(
                lines, delimiter=",", dtype=np.int64, usecols=usecols, comments=None, ndmin=2
            )
    except (ValueError, OverflowError, DeprecationWarning):
        raise _locate_bad_int(lines, usecols, path) from None
    if len(table) != len(lines):
        _check_columns(lines, columns, path)
        raise LobsterFormatError(path, None, f"parsed {len(table)} of {len(lines)} rows")
    return table


def _time_error(path: Path, row: int, cell: str) -> LobsterFormatError:
    return LobsterFormatError(path, row, f"time {cell!r} is not seconds with up to 9 decimals")


def _exact_ns(cell: str, path: Path, row: int) -> int:
    """Slow, exact conversion of one time cell (used for > 9 decimals and for error reports)."""
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise _time_error(path, row, cell) from None
    if not value.is_finite() or value < 0 or not re.fullmatch(r"\d+(\.\d*)?", cell):
        raise _time_error(path, row, cell)
    return int((value * _NS_PER_SECOND).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _times_ns(cells: np.ndarray, path: Path) -> np.ndarray:
    """Decimal seconds after midnight -> exact int64 nanoseconds, without going through float.

    Floats cannot hold 57599.913117637 exactly, so the integer and fractional digits are
    parsed separately; fractions longer than 9 digits (not seen in LOBSTER samples) are
    rounded half-to-even one by one.
    """
    parts = np.char.partition(cells, ".")
    whole, frac = parts[:, 0], parts[:, 2]
    frac_len = np.char.str_len(frac)
    try:
        seconds = whole.astype(np.int64)
        nanos = np.char.ljust(frac, _NS_DIGITS, "0").astype(np.int64)
    except (ValueError, OverflowError):
        # The slow path names the offending row (or copes with something numpy refused).
        return np.array([_exact_ns(str(c), path, row) for row, c in enumerate(cells)], np.int64)
    # Signs and stray characters pass astype(int64) but are not valid times.
    bad = (seconds < 0) | (nanos < 0) | (np.char.str_len(whole) == 0)
    bad |= np.char.startswith(whole, "+") | np.char.startswith(frac, "+")
    bad_row = _first_bad_row(bad)
    if bad_row is not None:
        raise _time_error(path, bad_row, str(cells[bad_row]))
    result = seconds * _NS_PER_SECOND + nanos
    for long_row in np.flatnonzero(frac_len > _NS_DIGITS).tolist():
        result[long_row] = _exact_ns(str(cells[long_row]), path, long_row)
    return result


def _first_bad_row(mask: np.ndarray) -> int | None:
    return int(np.argmax(mask)) if mask.any() else None


def _validate_messages(
    msgs: np.ndarray, raw_kind: np.ndarray, raw_dir: np.ndarray, path: Path
) -> None:
    """Reject values the format does not allow, naming the first offending row."""
    checks = (
        (~np.isin(raw_kind, _KINDS), "type must be 1..7"),
        ((raw_dir != BUY) & (raw_dir != SELL), "direction must be 1 or -1"),
        (msgs["size"] < 0, "size must be >= 0"),
        # Crosses and halts carry no order; LOBSTER writes -1 or 0 there.
        ((msgs["order_id"] < 0) & (raw_kind < CROSS), "order id must be >= 0"),
        (np.diff(msgs["ts_ns"], prepend=msgs["ts_ns"][:1]) < 0, "time goes backwards"),
    )
    for mask, reason in checks:
        row = _first_bad_row(mask)
        if row is not None:
            raise LobsterFormatError(path, row, reason)


def load_messages(path: str | Path) -> np.ndarray:
    """Load a LOBSTER message file (``.csv`` or ``.csv.gz``) as a :data:`MESSAGE_DTYPE` array."""
    path = Path(path)
    lines = _read_lines(path)
    ints = _int_columns(lines, _MESSAGE_COLUMNS, range(1, _MESSAGE_COLUMNS), path)
    times = np.array([line.partition(",")[0] for line in lines])
    msgs = np.empty(len(lines), dtype=MESSAGE_DTYPE)
    msgs["ts_ns"] = _times_ns(times, path)
    raw_kind, msgs["order_id"], msgs["size"], msgs["price"], raw_dir = ints.T
    _validate_messages(msgs, raw_kind, raw_dir, path)
    msgs["kind"] = raw_kind
    msgs["direction"] = raw_dir
    return msgs


def load_orderbook(path: str | Path, levels: int | None = None) -> np.ndarray:
    """Load a LOBSTER orderbook file as an ``int64`` array of shape ``(rows, 4 * levels)``.

    ``levels`` defaults to the count in the file name (or, for other names, the first row).
    """
    path = Path(path)
    lines = _read_lines(path)
    if levels is None:
        match = _NAME_RE.match(path.name)
        levels = int(match["levels"]) if match else (lines[0].count(",") + 1) // 4
    if levels < 1:
        raise LobsterFormatError(path, 0, "an orderbook row needs 4 columns per level")
    book = _int_columns(lines, 4 * levels, range(4 * levels), path)
    sizes = book[:, 1::2]
    row = _first_bad_row(np.asarray((sizes < 0).any(axis=1)))
    if row is not None:
        raise LobsterFormatError(path, row, "negative size")
    return book


# --------------------------------------------------------------------------------------------
# Orderbook helpers
# --------------------------------------------------------------------------------------------


def level_count(orderbook: np.ndarray) -> int:
    """How many levels per side an orderbook array holds."""
    return orderbook.shape[-1] // 4


def level(orderbook: np.ndarray, side: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Prices and sizes of level ``k`` (1 = best) of one side (``BUY`` bids, ``SELL`` asks).

    Works on the whole array (returns columns) or on one row (returns scalars).  Empty levels
    keep LOBSTER's sentinels (:data:`EMPTY_ASK` / :data:`EMPTY_BID`, size 0).
    """
    if not 1 <= k <= level_count(orderbook):
        raise IndexError(f"level {k} outside 1..{level_count(orderbook)}")
    if side not in (BUY, SELL):
        raise ValueError(f"side must be BUY (1) or SELL (-1), got {side}")
    column = 4 * (k - 1) + (2 if side == BUY else 0)
    return orderbook[..., column], orderbook[..., column + 1]


# --------------------------------------------------------------------------------------------
# A whole day
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LobsterDay:
    """One LOBSTER day: the parsed file name, the messages and the matching orderbook rows."""

    info: LobsterFileName
    messages: np.ndarray
    orderbook: np.ndarray

    @property
    def levels(self) -> int:
        """Levels per side covered by the orderbook file."""
        return self.info.levels


def load_day(message_path: str | Path) -> LobsterDay:
    """Load a message file and its orderbook file, checking that their rows line up."""
    message_path = Path(message_path)
    info = parse_file_name(message_path)
    book_path = orderbook_path_for(message_path)
    messages = load_messages(message_path)
    orderbook = load_orderbook(book_path, info.levels)
    if len(messages) != len(orderbook):
        raise LobsterFormatError(
            book_path,
            min(len(messages), len(orderbook)),
            f"{len(orderbook)} orderbook rows for {len(messages)} messages",
        )
    return LobsterDay(info=info, messages=messages, orderbook=orderbook)
