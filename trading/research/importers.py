"""Importers into the market data store: LOBSTER days and daily OHLCV CSV files.

* :func:`import_lobster` reads a LOBSTER message file and the orderbook file of the same name
  (any depth) with :func:`trading.lobster.load_day`.
* :func:`import_daily_csv` reads a daily bar CSV with a header: Alpha Vantage's
  ``TIME_SERIES_DAILY_ADJUSTED`` (``timestamp,open,high,low,close,adjusted_close,volume,
  dividend_amount,split_coefficient``, newest row first) or a plain ``date,open,high,low,close,
  volume`` file, plain or gzip-compressed, in any row order.
* :func:`import_paths` takes files and folders, tells the kinds apart by name and content, and
  imports each, reporting progress.

A malformed file raises :class:`DataImportError` naming the file and, where there is one, the
row; the store is left as it was (see :mod:`trading.research.store` for how writes commit).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trading import lobster
from trading.research.store import (
    CatalogueEntry,
    MarketDataStore,
    RawDailyBars,
    check_raw_daily_bars,
)

__all__ = [
    "DataImportError",
    "ImportOutcome",
    "PlannedImport",
    "file_checksum",
    "import_daily_csv",
    "import_lobster",
    "import_paths",
    "plan_imports",
    "read_daily_csv",
    "symbol_from_daily_file_name",
]

SOURCE_LOBSTER = "lobster-file"
SOURCE_ALPHA_VANTAGE = "alphavantage-csv"
SOURCE_OHLCV_CSV = "ohlcv-csv"

_GZIP_MAGIC = b"\x1f\x8b"
# Header names are compared lower-cased with spaces as underscores; these are the synonyms.
_HEADER_ALIASES = {
    "date": "timestamp",
    "time": "timestamp",
    "adj_close": "adjusted_close",
    "adjclose": "adjusted_close",
    "dividend": "dividend_amount",
    "dividends": "dividend_amount",
    "split": "split_coefficient",
    "split_factor": "split_coefficient",
    "stock_splits": "split_coefficient",
}
_REQUIRED = ("timestamp", "open", "high", "low", "close", "volume")
_ALPHA_VANTAGE = ("adjusted_close", "dividend_amount", "split_coefficient")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# "AAPL.csv.gz", "daily_adjusted_AAPL.csv" (Alpha Vantage's download name), "AAPL_daily.csv"
_DAILY_NAME_RE = re.compile(
    r"^(?:daily_adjusted_|daily_)?(?P<symbol>[A-Za-z0-9.\-^=]+?)(?:_daily)?\.csv(?:\.gz)?$",
    re.IGNORECASE,
)


class DataImportError(ValueError):
    """A file that cannot be imported: missing, of unknown kind, or malformed.

    ``path`` names the file; ``row`` is the 0-based data row (``None`` for the file as a whole)
    and ``line`` the 1-based line in the file, when known.
    """

    def __init__(
        self, path: str | Path, row: int | None, reason: str, *, line: int | None = None
    ) -> None:
        if row is None:
            where = f"{path}"
        elif line is None:
            where = f"{path}, row {row}"
        else:
            where = f"{path}, row {row} (line {line})"
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.row = row
        self.line = line
        self.reason = reason


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip (by its first bytes, not its name)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataImportError(path, None, "no such file") from None
    except OSError as exc:
        raise DataImportError(path, None, f"cannot read: {exc.strerror or exc}") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataImportError(path, None, f"broken gzip data: {exc}") from None
    return raw


def file_checksum(path: str | Path) -> str:
    """SHA-256 of the file's content (after gzip decompression), as hex."""
    return hashlib.sha256(_read_bytes(Path(path))).hexdigest()


def symbol_from_daily_file_name(path: str | Path) -> str:
    """The ticker a daily CSV's name gives (``AAPL.csv.gz``, ``daily_adjusted_AAPL.csv``)."""
    match = _DAILY_NAME_RE.match(Path(path).name)
    if match is None:
        raise DataImportError(
            path, None, "cannot tell the symbol from the file name; name it TICKER.csv[.gz]"
        )
    return match["symbol"].upper()


def _header_names(cells: list[str]) -> list[str]:
    names = [cell.strip().lstrip("\ufeff").lower().replace(" ", "_") for cell in cells]
    return [_HEADER_ALIASES.get(name, name) for name in names]


def _looks_like_daily_header(first_line: str) -> bool:
    names = set(_header_names(first_line.split(",")))
    return {"timestamp", "close"} <= names


@dataclass(frozen=True, slots=True)
class _ParsedDaily:
    bars: RawDailyBars
    source: str
    file_rows: np.ndarray  # 0-based data row in the file of each bar


def _parse_daily(path: Path, text: str) -> _ParsedDaily:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise DataImportError(path, None, "file is empty or has no header row")
    header = _header_names(next(csv.reader([lines[0]])))
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise DataImportError(
            path,
            None,
            f"header {lines[0]!r} lacks {', '.join(missing)} "
            f"(expected {','.join(_REQUIRED[:5])},[adjusted_close,]volume,...)",
        )
    if len(set(header)) != len(header):
        raise DataImportError(path, None, f"header {lines[0]!r} repeats a column")
    wanted = [*_REQUIRED[1:], *(name for name in _ALPHA_VANTAGE if name in header)]
    where = {name: header.index(name) for name in (*_REQUIRED, *wanted)}
    width = len(header)
    fast = _parse_daily_fast(lines[1:], width, where, wanted)
    if fast is not None:
        day_array, table, file_rows_array = fast
    else:
        day_array, table, file_rows_array = _parse_daily_rows(path, lines[1:], width, where, wanted)
    order = np.argsort(day_array, kind="stable")
    columns = {name: table[order, i] for i, name in enumerate(wanted)}
    n = len(order)
    bars = RawDailyBars(
        dates=day_array[order],
        open=columns["open"],
        high=columns["high"],
        low=columns["low"],
        close=columns["close"],
        volume=columns["volume"],
        dividend=columns.get("dividend_amount", np.zeros(n)),
        split=columns.get("split_coefficient", np.ones(n)),
        adjusted_close=columns.get("adjusted_close"),
    )
    source = SOURCE_ALPHA_VANTAGE if all(c in header for c in _ALPHA_VANTAGE) else SOURCE_OHLCV_CSV
    return _ParsedDaily(bars=bars, source=source, file_rows=file_rows_array[order])


def _parse_daily_fast(
    lines: list[str], width: int, where: dict[str, int], wanted: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """numpy's C parser for well-formed files; ``None`` sends the file to the careful parser."""
    if not lines or any(line.count(",") != width - 1 or '"' in line for line in lines):
        return None
    try:
        table = np.loadtxt(
            lines,
            delimiter=",",
            dtype=np.float64,
            usecols=[where[name] for name in wanted],
            comments=None,
            ndmin=2,
        )
        cells = np.array([line.split(",")[where["timestamp"]].strip() for line in lines])
        dates = cells.astype("datetime64[D]")
    except ValueError:
        return None
    if (
        len(table) != len(lines)
        or not np.isfinite(table).all()
        or not (np.char.str_len(cells) == 10).all()
    ):
        return None
    return dates, table, np.arange(len(lines))


def _parse_daily_rows(
    path: Path, lines: list[str], width: int, where: dict[str, int], wanted: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row by row, so that the first bad cell is reported with its row."""
    dates: list[str] = []
    values: list[list[float]] = []
    file_rows: list[int] = []
    for row, cells in enumerate(csv.reader(io.StringIO("\n".join(lines)))):
        line = row + 2
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank lines (e.g. at the end) carry nothing
        if len(cells) != width:
            raise DataImportError(
                path, row, f"expected {width} columns, got {len(cells)}", line=line
            )
        day = cells[where["timestamp"]].strip()
        if not _DATE_RE.match(day):
            raise DataImportError(path, row, f"date {day!r} is not YYYY-MM-DD", line=line)
        numbers = []
        for name in wanted:
            cell = cells[where[name]].strip()
            try:
                number = float(cell)
            except ValueError:
                raise DataImportError(
                    path, row, f"{name} {cell!r} is not a number", line=line
                ) from None
            if not math.isfinite(number):
                raise DataImportError(path, row, f"{name} {cell!r} is not finite", line=line)
            numbers.append(number)
        dates.append(day)
        values.append(numbers)
        file_rows.append(row)
    if not dates:
        raise DataImportError(path, None, "no data rows after the header")
    try:
        day_array = np.array(dates, dtype="datetime64[D]")
    except ValueError:
        for row_index, day in zip(file_rows, dates, strict=True):
            try:
                np.datetime64(day, "D")
            except ValueError:
                raise DataImportError(
                    path, row_index, f"date {day!r} is not a calendar date", line=row_index + 2
                ) from None
        raise
    return day_array, np.array(values, dtype=np.float64), np.asarray(file_rows)


def read_daily_csv(path: str | Path) -> RawDailyBars:
    """Parse and check a daily bar CSV; returns raw bars, oldest first (nothing is stored)."""
    path = Path(path)
    return _checked_daily(path, _read_bytes(path)).bars


def _checked_daily(path: Path, content: bytes) -> _ParsedDaily:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataImportError(path, None, f"not UTF-8 text: {exc}") from None
    parsed = _parse_daily(path, text)
    problem = check_raw_daily_bars(parsed.bars)
    if problem is not None:
        index, reason = problem
        row = int(parsed.file_rows[index])
        raise DataImportError(path, row, reason, line=row + 2)
    return parsed


# --------------------------------------------------------------------------------------------
# Importers
# --------------------------------------------------------------------------------------------


def import_daily_csv(
    store: MarketDataStore, path: str | Path, symbol: str | None = None
) -> CatalogueEntry:
    """Import a daily bar CSV into ``store`` (symbol from the file name unless given)."""
    path = Path(path)
    content = _read_bytes(path)
    symbol = symbol_from_daily_file_name(path) if symbol is None else symbol
    parsed = _checked_daily(path, content)
    try:
        return store.put_daily_bars(
            symbol,
            parsed.bars,
            parsed.source,
            source_files=(path.name,),
            checksums={path.name: hashlib.sha256(content).hexdigest()},
        )
    except ValueError as exc:
        raise DataImportError(path, None, str(exc)) from None


def _message_path(path: Path) -> Path:
    """The message file for a LOBSTER message or orderbook file name."""
    info = lobster.parse_file_name(path)
    if info.kind == "message":
        return path
    stem = f"{info.ticker}_{info.date.isoformat()}_{info.start_ms}_{info.end_ms}_message_"
    stem += f"{info.levels}.csv"
    suffixes = (".gz", "") if info.compressed else ("", ".gz")
    for suffix in suffixes:
        candidate = path.with_name(stem + suffix)
        if candidate.exists():
            return candidate
    raise DataImportError(path, None, f"no message file {stem}[.gz] next to this orderbook file")


def import_lobster(store: MarketDataStore, message_path: str | Path) -> CatalogueEntry:
    """Import a LOBSTER day (message file plus the orderbook file of the same name)."""
    path = Path(message_path)
    if not path.exists():
        raise DataImportError(path, None, "no such file")
    try:
        path = _message_path(path)
        info = lobster.parse_file_name(path)
        book_path = lobster.orderbook_path_for(path)
        day = lobster.load_day(path)
    except lobster.LobsterFormatError as exc:
        raise DataImportError(exc.path, exc.row, exc.reason, line=_line(exc.row)) from None
    except FileNotFoundError as exc:
        raise DataImportError(path, None, str(exc)) from None
    checksums = {p.name: file_checksum(p) for p in (path, book_path)}
    try:
        return store.put_lobster_day(
            info.ticker,
            info.date,
            day.messages,
            day.orderbook,
            source=SOURCE_LOBSTER,
            source_files=(path.name, book_path.name),
            checksums=checksums,
            meta={"start_ms": info.start_ms, "end_ms": info.end_ms},
        )
    except ValueError as exc:
        raise DataImportError(path, None, str(exc)) from None


def _line(row: int | None) -> int | None:
    return None if row is None else row + 1


# --------------------------------------------------------------------------------------------
# Many paths
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedImport:
    """A file to import and its kind ("lobster" or "daily"), or why it cannot be."""

    path: Path
    kind: str | None
    error: DataImportError | None = None


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What importing one file did."""

    path: Path
    kind: str | None
    entry: CatalogueEntry | None
    error: DataImportError | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        """One line for people."""
        if self.error is not None:
            return f"FAILED {self.error}"
        entry = self.entry
        assert entry is not None
        if entry.kind == "lobster":
            what = (
                f"{entry.symbol} {entry.first} LOBSTER level {entry.levels}: {entry.rows:,} events"
            )
        else:
            splits, dividends = entry.meta.get("splits", 0), entry.meta.get("dividends", 0)
            what = (
                f"{entry.symbol} daily: {entry.rows:,} bars {entry.first}..{entry.last} "
                f"({splits} splits, {dividends} dividends)"
            )
        return f"{what} from {self.path.name} in {self.seconds:.2f} s"

    def as_dict(self) -> dict[str, object]:
        """JSON-able form."""
        return {
            "path": str(self.path),
            "kind": self.kind,
            "ok": self.ok,
            "entry": None if self.entry is None else self.entry.as_dict(),
            "error": None if self.error is None else str(self.error),
            "seconds": round(self.seconds, 6),
        }


def _kind_of(path: Path) -> str:
    """Tell a LOBSTER file from a daily CSV by its name, then by its first line."""
    try:
        lobster.parse_file_name(path)
    except lobster.LobsterFormatError:
        pass
    else:
        return "lobster"
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        try:
            with open(path, "rb") as handle:
                start = handle.read(2)
            opener = gzip.open if start == _GZIP_MAGIC else open
            with opener(path, "rt", encoding="utf-8-sig", errors="replace") as text:
                first_line = text.readline()
        except (OSError, EOFError) as exc:
            raise DataImportError(path, None, f"cannot read: {exc}") from None
        if _looks_like_daily_header(first_line):
            return "daily"
    raise DataImportError(
        path,
        None,
        "unknown kind of file: expected a LOBSTER file "
        "(TICKER_YYYY-MM-DD_START_END_message_N.csv[.gz]) or a daily bar CSV whose header "
        "has timestamp (or date), open, high, low, close and volume",
    )


def _is_data_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith((".csv", ".csv.gz"))


def plan_imports(paths: Iterable[str | Path]) -> list[PlannedImport]:
    """Expand folders (recursively, ``*.csv`` and ``*.csv.gz``) and classify every file.

    A LOBSTER day named by its message file, its orderbook file or both is imported once.
    Missing and unknown files are planned with their error, in order, so callers can report
    them beside the others.
    """
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if _is_data_file(p)))
        else:
            files.append(path)
    plan: list[PlannedImport] = []
    seen: set[Path] = set()
    for path in files:
        try:
            if not path.exists():
                raise DataImportError(path, None, "no such file or folder")
            kind = _kind_of(path)
            target = _message_path(path) if kind == "lobster" else path
        except DataImportError as exc:
            plan.append(PlannedImport(path, None, exc))
            continue
        except lobster.LobsterFormatError as exc:
            plan.append(PlannedImport(path, None, DataImportError(path, None, exc.reason)))
            continue
        key = target.resolve()
        if key in seen:
            continue
        seen.add(key)
        plan.append(PlannedImport(target, kind))
    return plan


ProgressCallback = Callable[[int, int, "ImportOutcome | None"], None]


def import_paths(
    store: MarketDataStore,
    paths: Iterable[str | Path],
    progress: ProgressCallback | None = None,
    *,
    keep_going: bool = False,
) -> list[ImportOutcome]:
    """Import files and folders into ``store``, reporting to ``progress(done, total, outcome)``.

    ``progress`` is called once with ``(0, total, None)`` when the files are known, then after
    each file with its outcome.
    By default the first failure raises its :class:`DataImportError` (files before it stay
    imported); with ``keep_going=True`` every file is tried and failures are returned in their
    outcomes.
    """
    plan = plan_imports(paths)
    outcomes: list[ImportOutcome] = []
    if progress is not None:
        progress(0, len(plan), None)
    for done, item in enumerate(plan, start=1):
        started = time.perf_counter()
        entry, error = None, item.error
        if error is None:
            try:
                if item.kind == "lobster":
                    entry = import_lobster(store, item.path)
                else:
                    entry = import_daily_csv(store, item.path)
            except DataImportError as exc:
                error = exc
        outcome = ImportOutcome(item.path, item.kind, entry, error, time.perf_counter() - started)
        outcomes.append(outcome)
        if progress is not None:
            progress(done, len(plan), outcome)
        if error is not None and not keep_going:
            raise error
    return outcomes
