"""The market data store: columnar numpy files on disk, read back memory-mapped.

Layout under the store's root::

    catalogue.json                              what is stored (the commit point)
    lobster/<SYMBOL>/<YYYY-MM-DD>/<version>/    one LOBSTER day: messages.npy, orderbook.npy
    daily/<SYMBOL>/<version>/                   daily bars: one .npy per column
    minute/<SYMBOL>/<YYYY-MM-DD>/<version>/     one day of minute bars: one .npy per column
    hour/<SYMBOL>/<YYYY-MM-DD>/<version>/       one day of hour bars
    trades/<SYMBOL>/<YYYY-MM-DD>/<version>/     one day of trades (tick by tick)
    quotes/<SYMBOL>/<YYYY-MM-DD>/<version>/     one day of quotes (tick by tick)
    .staging/                                   files being written
    .lock                                       serialises catalogue updates

Every array is a plain ``.npy`` file that :func:`numpy.load` maps with ``mmap_mode="r"``, so a
backtest touches only the pages it reads and several processes share the page cache.

Writes never leave a half file in view: a new version is written and fsynced under
``.staging/``, renamed into place, and only then does the catalogue (rewritten to a temporary
file and renamed over ``catalogue.json``) point at it.  A crash at any step leaves the catalogue
naming the old, complete version; :meth:`MarketDataStore.vacuum` removes what such a crash left
behind.  Re-importing a day or a symbol's bars replaces the previous version.

Daily bars are kept raw (as traded) and adjusted.  The adjusted series follows the usual
convention: the adjusted close accounts for splits and dividends, open/high/low are scaled by the
same day's ``adjusted_close / close``, and volume is multiplied by the product of the split
factors that take effect after the day, so that share counts are comparable across splits.

Intraday bars, trades and quotes (the "day column" kinds) are kept per symbol and day as the
source delivers them: one column per field, timestamps as int64 nanoseconds since the epoch
(UTC), prices in dollars as float64; :data:`DAY_COLUMNS` names each kind's columns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np

from trading.lobster import MESSAGE_DTYPE
from trading.shared_data import PROJECT_ROOT

try:  # POSIX advisory locks; elsewhere a single writer is assumed.
    import fcntl
except ImportError:  # pragma: no cover - not reached on Linux
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CATALOGUE_NAME",
    "KINDS",
    "CatalogueEntry",
    "DAY_COLUMNS",
    "DAY_KINDS",
    "DailyBars",
    "MarketDataStore",
    "NotInStoreError",
    "RawDailyBars",
    "StoredDayColumns",
    "StoredLobsterDay",
    "adjust_daily_bars",
    "adjusted_close_from_actions",
    "check_raw_daily_bars",
    "default_store_root",
]

CATALOGUE_NAME = "catalogue.json"
CATALOGUE_VERSION = 1
KINDS = ("lobster", "daily", "minute", "hour", "trades", "quotes")
# Kinds stored per symbol and day (the others hold one series per symbol).
DAY_KINDS = ("lobster", "minute", "hour", "trades", "quotes")
_STAGING = ".staging"
_LOCK = ".lock"
# Staging folders older than this belong to a writer that died, not to one still writing.
_STALE_STAGING_SECONDS = 3600.0
_SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9._\-^=]{0,31}$")

_RAW_COLUMNS = ("open", "high", "low", "close", "volume")
_ADJUSTED_COLUMNS = ("adj_open", "adj_high", "adj_low", "adj_close", "adj_volume")
_DAILY_FILES = ("dates", *_RAW_COLUMNS, *_ADJUSTED_COLUMNS, "dividend", "split")

# Condition and indicator codes of a tick, padded with -1 (sources send up to a handful).
TICK_CODES = 4
_BAR_COLUMNS: dict[str, tuple[str, int]] = {
    "t_ns": ("int64", 1),  # start of the bar
    "open": ("float64", 1),
    "high": ("float64", 1),
    "low": ("float64", 1),
    "close": ("float64", 1),
    "volume": ("float64", 1),
    "vwap": ("float64", 1),  # NaN where the source gives none
    "transactions": ("int64", 1),  # -1 where the source gives none
}
# Each kind stored per symbol and day other than LOBSTER: column -> (dtype, width); width > 1
# makes a (rows, width) array.
DAY_COLUMNS: dict[str, dict[str, tuple[str, int]]] = {
    "minute": _BAR_COLUMNS,
    "hour": _BAR_COLUMNS,
    "trades": {
        "sip_ns": ("int64", 1),
        "participant_ns": ("int64", 1),  # 0 where the source gives none
        "price": ("float64", 1),
        "size": ("float64", 1),
        "exchange": ("int64", 1),
        "tape": ("int64", 1),
        "sequence": ("int64", 1),
        "conditions": ("int32", TICK_CODES),
    },
    "quotes": {
        "sip_ns": ("int64", 1),
        "participant_ns": ("int64", 1),
        "bid_price": ("float64", 1),
        "bid_size": ("float64", 1),
        "bid_exchange": ("int64", 1),
        "ask_price": ("float64", 1),
        "ask_size": ("float64", 1),
        "ask_exchange": ("int64", 1),
        "tape": ("int64", 1),
        "sequence": ("int64", 1),
        "conditions": ("int32", TICK_CODES),
        "indicators": ("int32", TICK_CODES),
    },
}
# The column whose values must not decrease, per kind.
_TIME_COLUMN = {"minute": "t_ns", "hour": "t_ns", "trades": "sip_ns", "quotes": "sip_ns"}


def default_store_root() -> Path:
    """``DESK_MARKET_DATA`` if set, else ``<repo>/var/market_data``."""
    configured = os.environ.get("DESK_MARKET_DATA")
    if configured:
        return Path(configured)
    return PROJECT_ROOT / "var" / "market_data"


class NotInStoreError(LookupError):
    """The store holds no data for the symbol (and day) asked for."""

    def __str__(self) -> str:  # LookupError would print the repr of the message
        return str(self.args[0]) if self.args else ""


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One stored item: a day of a symbol (LOBSTER, intraday bars, trades, quotes) or its
    daily bars."""

    kind: str
    symbol: str
    first: dt.date
    last: dt.date
    rows: int
    levels: int | None  # book levels per side for LOBSTER days, None for the other kinds
    source: str  # e.g. "lobster-file", "alphavantage-csv", "polygon"
    files: tuple[str, ...]  # the store's files, relative to its root
    source_files: tuple[str, ...] = ()  # names of the files the data came from
    checksums: Mapping[str, str] = field(default_factory=dict)  # source name -> sha256
    imported_at: str = ""  # UTC, ISO 8601
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """What a re-import replaces: one day of a per-day kind, all bars of a daily one."""
        return (self.kind, self.symbol, self.first.isoformat() if self.kind in DAY_KINDS else "")

    def as_dict(self) -> dict[str, object]:
        """JSON-able form (dates as ISO strings)."""
        return {
            "kind": self.kind,
            "symbol": self.symbol,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "rows": self.rows,
            "levels": self.levels,
            "source": self.source,
            "files": list(self.files),
            "source_files": list(self.source_files),
            "checksums": dict(self.checksums),
            "imported_at": self.imported_at,
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CatalogueEntry:
        """Inverse of :meth:`as_dict`."""
        levels = data.get("levels")
        return cls(
            kind=str(data["kind"]),
            symbol=str(data["symbol"]),
            first=dt.date.fromisoformat(str(data["first"])),
            last=dt.date.fromisoformat(str(data["last"])),
            rows=int(data["rows"]),
            levels=None if levels is None else int(levels),
            source=str(data["source"]),
            files=tuple(str(name) for name in data["files"]),
            source_files=tuple(str(name) for name in data.get("source_files", ())),
            checksums={str(k): str(v) for k, v in data.get("checksums", {}).items()},
            imported_at=str(data.get("imported_at", "")),
            meta=dict(data.get("meta", {})),
        )


@dataclass(frozen=True, slots=True)
class StoredLobsterDay:
    """A LOBSTER day read from the store; the arrays are read-only memory maps."""

    symbol: str
    date: dt.date
    levels: int
    messages: np.ndarray  # MESSAGE_DTYPE
    orderbook: np.ndarray  # int64, (rows, 4 * levels)
    entry: CatalogueEntry

    def __len__(self) -> int:
        return len(self.messages)


@dataclass(frozen=True, slots=True)
class StoredDayColumns:
    """One stored day of intraday bars, trades or quotes; columns are read-only memory maps."""

    kind: str
    symbol: str
    date: dt.date
    columns: Mapping[str, np.ndarray]  # named as in DAY_COLUMNS[kind]
    entry: CatalogueEntry

    def __len__(self) -> int:
        return self.entry.rows

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


@dataclass(frozen=True, slots=True)
class RawDailyBars:
    """Daily bars as a source delivers them, oldest first, prices as traded.

    ``adjusted_close`` is the source's close adjusted for splits and dividends; leave it
    ``None`` to derive it from ``dividend`` and ``split`` (:func:`adjusted_close_from_actions`).
    ``split`` is the factor taking effect that day (2.0 for 2-for-1, 1.0 otherwise) and
    ``dividend`` the cash amount per share going ex that day.
    """

    dates: np.ndarray  # datetime64[D]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    dividend: np.ndarray
    split: np.ndarray
    adjusted_close: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.dates)


@dataclass(frozen=True, slots=True)
class DailyBars:
    """A symbol's daily bars, oldest first.

    With ``adjusted=True`` the prices are adjusted for splits and dividends and the volume for
    splits; with ``adjusted=False`` all are as traded.  ``dividend`` and ``split`` are the raw
    corporate actions of each day in both cases.  Arrays read from the store are read-only
    memory maps.
    """

    symbol: str
    adjusted: bool
    dates: np.ndarray  # datetime64[D]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    dividend: np.ndarray
    split: np.ndarray

    def __len__(self) -> int:
        return len(self.dates)


# --------------------------------------------------------------------------------------------
# Adjustment
# --------------------------------------------------------------------------------------------


def adjusted_close_from_actions(
    close: np.ndarray, dividend: np.ndarray, split: np.ndarray
) -> np.ndarray:
    """Close adjusted for splits and dividends, from raw closes and the actions (oldest first).

    The convention of Yahoo, CRSP and Alpha Vantage: a dividend ``D`` going ex on day ``t``
    multiplies every earlier price by ``1 - D / close[t-1]``; a split of factor ``f`` on day
    ``t`` divides every earlier price by ``f``.  The latest close is left as it is.
    """
    close = np.asarray(close, dtype=np.float64)
    dividend = np.asarray(dividend, dtype=np.float64)
    split = np.asarray(split, dtype=np.float64)
    step = np.ones(len(close))
    step[1:] = (1.0 - dividend[1:] / close[:-1]) / split[1:]
    # factor[t] = product of step[s] for s > t
    factor = np.ones(len(close))
    if len(close) > 1:
        factor[:-1] = np.cumprod(step[:0:-1])[::-1]
    return close * factor


def _later_split_factor(split: np.ndarray) -> np.ndarray:
    """Product of the split factors taking effect after each day."""
    factor = np.ones(len(split))
    if len(split) > 1:
        factor[:-1] = np.cumprod(np.asarray(split[:0:-1], dtype=np.float64))[::-1]
    return factor


def adjust_daily_bars(raw: RawDailyBars, symbol: str = "") -> DailyBars:
    """The adjusted series of ``raw`` (see the module text for the convention)."""
    adj_close = (
        adjusted_close_from_actions(raw.close, raw.dividend, raw.split)
        if raw.adjusted_close is None
        else np.asarray(raw.adjusted_close, dtype=np.float64)
    )
    ratio = adj_close / np.asarray(raw.close, dtype=np.float64)
    return DailyBars(
        symbol=symbol,
        adjusted=True,
        dates=np.asarray(raw.dates, dtype="datetime64[D]"),
        open=raw.open * ratio,
        high=raw.high * ratio,
        low=raw.low * ratio,
        close=adj_close,
        volume=raw.volume * _later_split_factor(raw.split),
        dividend=np.asarray(raw.dividend, dtype=np.float64),
        split=np.asarray(raw.split, dtype=np.float64),
    )


def check_raw_daily_bars(raw: RawDailyBars) -> tuple[int, str] | None:
    """The first problem in ``raw`` as ``(index, reason)``, or ``None`` when it is sound."""
    n = len(raw.dates)
    columns = {
        "open": raw.open,
        "high": raw.high,
        "low": raw.low,
        "close": raw.close,
        "volume": raw.volume,
        "dividend": raw.dividend,
        "split": raw.split,
    }
    if raw.adjusted_close is not None:
        columns["adjusted_close"] = raw.adjusted_close
    for name, values in columns.items():
        if np.shape(values) != (n,):
            return (0, f"{name} has shape {np.shape(values)}, dates has {n} rows")
    problems: list[tuple[np.ndarray, str]] = []
    for name, values in columns.items():
        problems.append((~np.isfinite(np.asarray(values, dtype=np.float64)), f"{name} not finite"))
    dates = np.asarray(raw.dates, dtype="datetime64[D]")
    later = np.zeros(n, dtype=bool)
    later[1:] = dates[1:] <= dates[:-1]
    problems += [
        (later, "date not after the previous row's (dates must be increasing, no duplicates)"),
        (np.isnat(dates), "missing date"),
        (np.asarray(raw.open) <= 0, "open must be > 0"),
        (np.asarray(raw.high) <= 0, "high must be > 0"),
        (np.asarray(raw.low) <= 0, "low must be > 0"),
        (np.asarray(raw.close) <= 0, "close must be > 0"),
        (np.asarray(raw.high) < np.asarray(raw.low), "high below low"),
        (np.asarray(raw.volume) < 0, "volume must be >= 0"),
        (np.asarray(raw.dividend) < 0, "dividend must be >= 0"),
        (np.asarray(raw.split) <= 0, "split factor must be > 0"),
    ]
    if raw.adjusted_close is not None:
        problems.append((np.asarray(raw.adjusted_close) <= 0, "adjusted close must be > 0"))
    first: tuple[int, str] | None = None
    for mask, reason in problems:
        if mask.any():
            index = int(np.argmax(mask))
            if first is None or index < first[0]:
                first = (index, reason)
    return first


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _as_date(value: object, what: str = "date") -> dt.date:
    """A ``datetime.date`` from a date, datetime, numpy datetime64 or ISO string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return dt.date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{what} must be a date or YYYY-MM-DD, got {value!r}")


def _normal_symbol(symbol: str) -> str:
    if not isinstance(symbol, str):
        raise ValueError(f"symbol must be a string, got {symbol!r}")
    upper = symbol.strip().upper()
    if not _SYMBOL_RE.match(upper):
        raise ValueError(
            f"symbol {symbol!r} must be letters, digits and . _ - ^ = (at most 32 characters)"
        )
    return upper


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class MarketDataStore:
    """Files per symbol (and day) under ``root``, with a JSON catalogue; see the module text."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_store_root()
        self._cached: tuple[tuple[int, int, int], list[CatalogueEntry]] | None = None

    def __repr__(self) -> str:
        return f"MarketDataStore({str(self.root)!r})"

    # ---- catalogue ------------------------------------------------------------------------

    @property
    def catalogue_path(self) -> Path:
        return self.root / CATALOGUE_NAME

    def catalogue(self) -> list[CatalogueEntry]:
        """Everything stored, sorted by kind, symbol and date."""
        return list(self._entries())

    def symbols(self, kind: str | None = None) -> list[str]:
        """Sorted symbols with data of ``kind`` ("lobster", "daily", or None for either)."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} or None, got {kind!r}")
        return sorted({e.symbol for e in self._entries() if kind is None or e.kind == kind})

    def lobster_dates(self, symbol: str) -> list[dt.date]:
        """The days stored for a LOBSTER symbol, oldest first."""
        return self.days("lobster", symbol)

    def days(self, kind: str, symbol: str) -> list[dt.date]:
        """The days stored for ``symbol`` in a per-day kind (see :data:`DAY_KINDS`), oldest first."""
        if kind not in DAY_KINDS:
            raise ValueError(f"kind must be one of {DAY_KINDS}, got {kind!r}")
        symbol = _normal_symbol(symbol)
        return [e.first for e in self._entries() if e.kind == kind and e.symbol == symbol]

    def entry(self, kind: str, symbol: str, date: object = None) -> CatalogueEntry:
        """The catalogue entry of a symbol's daily bars, or of one LOBSTER day."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        symbol = _normal_symbol(symbol)
        if kind in DAY_KINDS:
            if date is None:
                raise ValueError(f"a {'LOBSTER' if kind == 'lobster' else kind} entry needs a date")
            day = _as_date(date)
            key = (kind, symbol, day.isoformat())
        else:
            key = (kind, symbol, "")
        for entry in self._entries():
            if entry.key == key:
                return entry
        if kind in DAY_KINDS:
            held = ", ".join(d.isoformat() for d in self.days(kind, symbol)) or "none"
            what = "LOBSTER day" if kind == "lobster" else f"{kind} day"
            raise NotInStoreError(
                f"no {what} {key[2]} for {symbol} in {self.root} (days held: {held})"
            )
        held = ", ".join(self.symbols("daily")) or "none"
        raise NotInStoreError(f"no daily bars for {symbol} in {self.root} (symbols held: {held})")

    def _entries(self) -> list[CatalogueEntry]:
        path = self.catalogue_path
        try:
            stat = path.stat()
        except FileNotFoundError:
            return []
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if self._cached is not None and self._cached[0] == signature:
            return self._cached[1]
        entries = self._read_catalogue(path)
        self._cached = (signature, entries)
        return entries

    @staticmethod
    def _read_catalogue(path: Path) -> list[CatalogueEntry]:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if document.get("version") != CATALOGUE_VERSION:
                raise ValueError(f"unknown catalogue version {document.get('version')!r}")
            entries = [CatalogueEntry.from_dict(item) for item in document["entries"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: unreadable catalogue: {exc}") from None
        return sorted(entries, key=lambda e: e.key)

    def _write_catalogue(self, entries: Iterable[CatalogueEntry]) -> None:
        ordered = sorted(entries, key=lambda e: e.key)
        document = {
            "version": CATALOGUE_VERSION,
            "entries": [entry.as_dict() for entry in ordered],
        }
        temporary = self.root / f".{CATALOGUE_NAME}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=1)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.catalogue_path)
        finally:
            temporary.unlink(missing_ok=True)
        _fsync_dir(self.root)
        self._cached = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's writer lock (other processes' writers wait)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / _LOCK, "a+b") as handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # ---- reading --------------------------------------------------------------------------

    def _load(self, relative: str) -> np.ndarray:
        path = self.root / relative
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            raise NotInStoreError(
                f"{path} is in the catalogue but missing on disk; re-import it"
            ) from None

    def _columns(self, entry: CatalogueEntry) -> dict[str, np.ndarray]:
        return {Path(name).stem: self._load(name) for name in entry.files}

    def lobster_day(self, symbol: str, date: object) -> StoredLobsterDay:
        """A stored LOBSTER day: messages (:data:`MESSAGE_DTYPE`) and orderbook, memory-mapped."""
        entry = self.entry("lobster", symbol, date)
        columns = self._columns(entry)
        messages, orderbook = columns["messages"], columns["orderbook"]
        if messages.dtype != MESSAGE_DTYPE or len(orderbook) != len(messages):
            raise ValueError(f"{self.root}: stored day {entry.key} is damaged; re-import it")
        return StoredLobsterDay(
            symbol=entry.symbol,
            date=entry.first,
            levels=orderbook.shape[1] // 4,
            messages=messages,
            orderbook=orderbook,
            entry=entry,
        )

    def daily_bars(
        self, symbol: str, adjusted: bool = True, *, start: object = None, end: object = None
    ) -> DailyBars:
        """A symbol's daily bars, oldest first, optionally limited to ``start..end`` inclusive."""
        entry = self.entry("daily", symbol)
        c = self._columns(entry)
        dates = c["dates"]
        lo = 0 if start is None else int(np.searchsorted(dates, _datetime64(start, "start")))
        hi = (
            len(dates)
            if end is None
            else int(np.searchsorted(dates, _datetime64(end, "end"), side="right"))
        )
        names = _ADJUSTED_COLUMNS if adjusted else _RAW_COLUMNS
        o, h, low, cl, v = (c[name][lo:hi] for name in names)
        return DailyBars(
            symbol=entry.symbol,
            adjusted=adjusted,
            dates=dates[lo:hi],
            open=o,
            high=h,
            low=low,
            close=cl,
            volume=v,
            dividend=c["dividend"][lo:hi],
            split=c["split"][lo:hi],
        )

    def day_columns(self, kind: str, symbol: str, date: object) -> StoredDayColumns:
        """One stored day of ``kind`` ("minute", "hour", "trades" or "quotes"), memory-mapped."""
        if kind not in DAY_COLUMNS:
            raise ValueError(f"kind must be one of {tuple(DAY_COLUMNS)}, got {kind!r}")
        entry = self.entry(kind, symbol, date)
        columns = self._columns(entry)
        if set(columns) != set(DAY_COLUMNS[kind]):
            raise ValueError(f"{self.root}: stored day {entry.key} is damaged; re-import it")
        return StoredDayColumns(
            kind=kind, symbol=entry.symbol, date=entry.first, columns=columns, entry=entry
        )

    def intraday_bars(
        self, symbol: str, date: object, timespan: str = "minute"
    ) -> StoredDayColumns:
        """A day of ``timespan`` ("minute" or "hour") bars, oldest first."""
        if timespan not in ("minute", "hour"):
            raise ValueError(f"timespan must be minute or hour, got {timespan!r}")
        return self.day_columns(timespan, symbol, date)

    def trades(self, symbol: str, date: object) -> StoredDayColumns:
        """A day of trades in time order."""
        return self.day_columns("trades", symbol, date)

    def quotes(self, symbol: str, date: object) -> StoredDayColumns:
        """A day of quotes in time order."""
        return self.day_columns("quotes", symbol, date)

    def aligned_closes(
        self, symbols: Sequence[str], start: object = None, end: object = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Adjusted closes on the dates every symbol has: ``(dates, matrix[n_days, n_symbols])``.

        Columns follow the order of ``symbols``; dates are ``datetime64[D]``, oldest first.
        """
        if isinstance(symbols, str) or len(symbols) == 0:
            raise ValueError(f"symbols must be a non-empty list of symbols, got {symbols!r}")
        bars = [self.daily_bars(symbol, adjusted=True, start=start, end=end) for symbol in symbols]
        dates = reduce(np.intersect1d, [b.dates for b in bars])
        matrix = np.empty((len(dates), len(bars)), dtype=np.float64)
        for column, b in enumerate(bars):
            matrix[:, column] = b.close[np.searchsorted(b.dates, dates)]
        return dates.astype("datetime64[D]"), matrix

    # ---- writing --------------------------------------------------------------------------

    def put_lobster_day(
        self,
        symbol: str,
        date: object,
        messages: np.ndarray,
        orderbook: np.ndarray,
        *,
        source: str,
        source_files: Sequence[str] = (),
        checksums: Mapping[str, str] | None = None,
        meta: Mapping[str, object] | None = None,
    ) -> CatalogueEntry:
        """Store one day of LOBSTER-style data for ``symbol``, replacing any earlier version.

        ``messages`` must have :data:`trading.lobster.MESSAGE_DTYPE` and ``orderbook`` be
        integer with ``4 * levels`` columns and one row per message.
        """
        symbol = _normal_symbol(symbol)
        day = _as_date(date)
        messages = np.asarray(messages)
        orderbook = np.asarray(orderbook)
        if messages.dtype != MESSAGE_DTYPE:
            raise ValueError(f"messages must have MESSAGE_DTYPE, got {messages.dtype}")
        if messages.ndim != 1 or len(messages) == 0:
            raise ValueError(f"messages must be a non-empty 1-d array, got {messages.shape}")
        if orderbook.ndim != 2 or orderbook.shape[1] == 0 or orderbook.shape[1] % 4:
            raise ValueError(f"orderbook must be (rows, 4 * levels), got {orderbook.shape}")
        if not np.issubdtype(orderbook.dtype, np.integer):
            raise ValueError(f"orderbook must hold integers, got {orderbook.dtype}")
        if len(orderbook) != len(messages):
            raise ValueError(f"{len(orderbook)} orderbook rows for {len(messages)} messages")
        _check_source(source)
        arrays = {"messages": messages, "orderbook": orderbook.astype(np.int64, copy=False)}
        base = f"lobster/{symbol}/{day.isoformat()}"

        def make_entry(files: tuple[str, ...]) -> CatalogueEntry:
            return CatalogueEntry(
                kind="lobster",
                symbol=symbol,
                first=day,
                last=day,
                rows=len(messages),
                levels=orderbook.shape[1] // 4,
                source=source,
                files=files,
                source_files=tuple(source_files),
                checksums=dict(checksums or {}),
                imported_at=_now_iso(),
                meta=dict(meta or {}),
            )

        return self._commit(base, arrays, make_entry)

    def put_daily_bars(
        self,
        symbol: str,
        bars: RawDailyBars,
        source: str,
        *,
        source_files: Sequence[str] = (),
        checksums: Mapping[str, str] | None = None,
        meta: Mapping[str, object] | None = None,
    ) -> CatalogueEntry:
        """Store a symbol's raw daily bars and their adjusted series, replacing earlier ones."""
        symbol = _normal_symbol(symbol)
        _check_source(source)
        if not isinstance(bars, RawDailyBars):
            raise ValueError(f"bars must be RawDailyBars, got {type(bars).__name__}")
        if len(bars) == 0:
            raise ValueError(f"no daily bars for {symbol}")
        problem = check_raw_daily_bars(bars)
        if problem is not None:
            index, reason = problem
            day = np.asarray(bars.dates, dtype="datetime64[D]")[min(index, len(bars) - 1)]
            raise ValueError(f"{symbol} bar {index} ({day}): {reason}")
        adjusted = adjust_daily_bars(bars, symbol)
        as_float = {name: np.asarray(getattr(bars, name), np.float64) for name in _RAW_COLUMNS}
        arrays = {
            "dates": adjusted.dates,
            **as_float,
            "adj_open": adjusted.open,
            "adj_high": adjusted.high,
            "adj_low": adjusted.low,
            "adj_close": adjusted.close,
            "adj_volume": adjusted.volume,
            "dividend": adjusted.dividend,
            "split": adjusted.split,
        }
        dates = adjusted.dates
        info = {
            "splits": int(np.count_nonzero(adjusted.split != 1.0)),
            "dividends": int(np.count_nonzero(adjusted.dividend > 0)),
            **(meta or {}),
        }

        def make_entry(files: tuple[str, ...]) -> CatalogueEntry:
            return CatalogueEntry(
                kind="daily",
                symbol=symbol,
                first=_as_date(dates[0]),
                last=_as_date(dates[-1]),
                rows=len(dates),
                levels=None,
                source=source,
                files=files,
                source_files=tuple(source_files),
                checksums=dict(checksums or {}),
                imported_at=_now_iso(),
                meta=info,
            )

        return self._commit(f"daily/{symbol}", arrays, make_entry)

    def put_day_columns(
        self,
        kind: str,
        symbol: str,
        date: object,
        columns: Mapping[str, np.ndarray],
        *,
        source: str,
        source_files: Sequence[str] = (),
        checksums: Mapping[str, str] | None = None,
        meta: Mapping[str, object] | None = None,
    ) -> CatalogueEntry:
        """Store one day of intraday bars, trades or quotes, replacing any earlier version.

        ``columns`` must hold exactly the columns of ``DAY_COLUMNS[kind]``, one row per bar or
        tick in time order.
        """
        if kind not in DAY_COLUMNS:
            raise ValueError(f"kind must be one of {tuple(DAY_COLUMNS)}, got {kind!r}")
        symbol = _normal_symbol(symbol)
        day = _as_date(date)
        _check_source(source)
        spec = DAY_COLUMNS[kind]
        missing = sorted(set(spec) - set(columns))
        extra = sorted(set(columns) - set(spec))
        if missing or extra:
            raise ValueError(
                f"{kind} columns: missing {missing or 'none'}, unknown {extra or 'none'}"
            )
        arrays: dict[str, np.ndarray] = {}
        rows: int | None = None
        for name, (dtype, width) in spec.items():
            array = np.asarray(columns[name])
            expected = (len(array),) if width == 1 else (len(array), width)
            if array.shape != expected:
                raise ValueError(
                    f"{kind} column {name} has shape {array.shape}, expected {expected}"
                )
            if rows is None:
                rows = len(array)
            elif len(array) != rows:
                raise ValueError(f"{kind} column {name} has {len(array)} rows, expected {rows}")
            if np.dtype(dtype).kind == "i" and not np.issubdtype(array.dtype, np.integer):
                raise ValueError(f"{kind} column {name} must hold integers, got {array.dtype}")
            arrays[name] = array.astype(dtype, copy=False)
        if not rows:
            raise ValueError(f"no {kind} rows for {symbol} on {day}")
        times = arrays[_TIME_COLUMN[kind]]
        if np.any(np.diff(times) < 0):
            index = int(np.argmax(np.diff(times) < 0)) + 1
            raise ValueError(f"{symbol} {kind} row {index}: time before the previous row's")
        for name, (dtype, _width) in spec.items():
            if name in ("vwap",) or np.dtype(dtype).kind != "f":
                continue
            bad = ~np.isfinite(arrays[name])
            if bad.any():
                raise ValueError(f"{symbol} {kind} row {int(np.argmax(bad))}: {name} not finite")
        first_ns, last_ns = int(times[0]), int(times[-1])
        count = rows

        def make_entry(files: tuple[str, ...]) -> CatalogueEntry:
            return CatalogueEntry(
                kind=kind,
                symbol=symbol,
                first=day,
                last=day,
                rows=count,
                levels=None,
                source=source,
                files=files,
                source_files=tuple(source_files),
                checksums=dict(checksums or {}),
                imported_at=_now_iso(),
                meta={"first_ns": first_ns, "last_ns": last_ns, **(meta or {})},
            )

        return self._commit(f"{kind}/{symbol}/{day.isoformat()}", arrays, make_entry)

    def _commit(self, base: str, arrays: Mapping[str, np.ndarray], make_entry) -> CatalogueEntry:
        """Write ``arrays`` as a new version under ``base`` and point the catalogue at it."""
        version = f"{time.time_ns():x}-{uuid.uuid4().hex[:8]}"
        staging = self.root / _STAGING / version
        staging.mkdir(parents=True)
        try:
            for name, array in arrays.items():
                _write_npy(staging / f"{name}.npy", array)
            _fsync_dir(staging)
            final = self.root / base / version
            with self._locked():
                final.parent.mkdir(parents=True, exist_ok=True)
                os.rename(staging, final)
                _fsync_dir(final.parent)
                entry = make_entry(tuple(f"{base}/{version}/{name}.npy" for name in arrays))
                others = [e for e in self._read_current() if e.key != entry.key]
                self._write_catalogue([*others, entry])
                # Earlier versions are no longer referenced; open memory maps keep working.
                for old in final.parent.iterdir():
                    if old.name != version and old.is_dir():
                        shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return entry

    def _read_current(self) -> list[CatalogueEntry]:
        path = self.catalogue_path
        return self._read_catalogue(path) if path.exists() else []

    def remove(self, kind: str, symbol: str, date: object = None) -> CatalogueEntry:
        """Drop a stored item (daily bars of a symbol, or one day of a per-day kind)."""
        entry = self.entry(kind, symbol, date)
        with self._locked():
            others = [e for e in self._read_current() if e.key != entry.key]
            self._write_catalogue(others)
            if entry.files:
                shutil.rmtree(self.root / Path(entry.files[0]).parent, ignore_errors=True)
        return entry

    def vacuum(self) -> list[Path]:
        """Delete files no catalogue entry refers to (left by a crash); returns what went."""
        removed: list[Path] = []
        with self._locked():
            referenced = {
                (self.root / Path(name).parent).resolve()
                for entry in self._read_current()
                for name in entry.files
            }
            patterns = [(kind, "*/*/*") for kind in DAY_KINDS] + [("daily", "*/*")]
            for kind, pattern in patterns:
                for version in sorted((self.root / kind).glob(pattern)):
                    if version.is_dir() and version.resolve() not in referenced:
                        shutil.rmtree(version, ignore_errors=True)
                        removed.append(version)
            staging = self.root / _STAGING
            now = time.time()
            if staging.is_dir():
                leftovers = [*staging.iterdir(), *self.root.glob(f".{CATALOGUE_NAME}.*.tmp")]
            else:
                leftovers = list(self.root.glob(f".{CATALOGUE_NAME}.*.tmp"))
            for path in leftovers:
                try:
                    stale = now - path.stat().st_mtime > _STALE_STAGING_SECONDS
                except FileNotFoundError:  # its writer finished meanwhile
                    continue
                if stale:
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        path.unlink(missing_ok=True)
                    removed.append(path)
        return removed


def _check_source(source: str) -> None:
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"source must name where the data came from, got {source!r}")


def _datetime64(value: object, what: str) -> np.datetime64:
    return np.datetime64(_as_date(value, what).isoformat(), "D")
