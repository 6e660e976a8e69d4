"""Writes the recorded Polygon responses of this folder from the shared market data.

Run ``python tests/data/polygon/make_fixtures.py`` to regenerate them.  Every number comes from
the shared data: daily bars from the daily CSV files (Polygon's adjusted bars are
split-adjusted, so the adjusted responses divide earlier prices by later split factors and
multiply volumes by them), minute bars, trades and quotes of 2012-06-21 from the LOBSTER days
(executions as trades and minute bars, changes of the best bid or offer as quotes; both are
Nasdaq-listed names, tape 3, Nasdaq's exchange id 12).  Each file is one complete response in
Polygon's published format; the local server pages through ``results`` by ``limit``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from trading import lobster  # noqa: E402
from trading.shared_data import shared_data_dir  # noqa: E402

HERE = Path(__file__).resolve().parent
NEW_YORK = ZoneInfo("America/New_York")
DAILY = ("AAPL", "KO", "PEP", "SPY")
DAILY_FROM, DAILY_TO = dt.date(2020, 6, 1), dt.date(2020, 12, 11)
TICK_DAY = dt.date(2012, 6, 21)
TICKS = 150  # trades and quotes kept per symbol
NASDAQ, TAPE_C = 12, 3


def request_id(*parts: object) -> str:
    return hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()


def midnight_ms(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), NEW_YORK).timestamp() * 1000)


def aggs_response(ticker: str, adjusted: bool, results: list[dict]) -> dict:
    return {
        "ticker": ticker,
        "queryCount": len(results),
        "resultsCount": len(results),
        "adjusted": adjusted,
        "results": results,
        "status": "OK",
        "request_id": request_id(ticker, adjusted, len(results)),
        "count": len(results),
    }


def daily(symbol: str) -> None:
    path = shared_data_dir() / "daily" / f"{symbol}.csv.gz"
    with gzip.open(path, "rt") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["timestamp"])
    # A split on day t divides every earlier price by its factor (Polygon's adjustment).
    later = 1.0
    factors = []
    for row in reversed(rows):
        factors.append(later)
        later *= float(row["split_coefficient"])
    factors.reverse()
    for adjusted in (True, False):
        results = []
        for row, factor in zip(rows, factors, strict=True):
            day = dt.date.fromisoformat(row["timestamp"])
            if not DAILY_FROM <= day <= DAILY_TO:
                continue
            f = factor if adjusted else 1.0
            results.append(
                {
                    "v": round(float(row["volume"]) * f),
                    "o": round(float(row["open"]) / f, 4),
                    "c": round(float(row["close"]) / f, 4),
                    "h": round(float(row["high"]) / f, 4),
                    "l": round(float(row["low"]) / f, 4),
                    "t": midnight_ms(day),
                }
            )
        name = f"{symbol}.{'adjusted' if adjusted else 'unadjusted'}.json"
        write(HERE / "aggs" / "day" / name, aggs_response(symbol, adjusted, results))


def lobster_day(symbol: str) -> lobster.LobsterDay:
    level = 5 if symbol == "AMZN" else 1
    name = f"{symbol}_{TICK_DAY}_34200000_57600000_message_{level}.csv.gz"
    return lobster.load_day(shared_data_dir() / "lobster" / name)


def ticks(symbol: str) -> None:
    day = lobster_day(symbol)
    m = day.messages
    base_ns = midnight_ms(TICK_DAY) * 1_000_000
    executed = np.flatnonzero(np.isin(m["kind"], (lobster.EXECUTE_VISIBLE,
                                                  lobster.EXECUTE_HIDDEN)))  # fmt: skip
    # Minute bars of every execution of the day.
    minute_ns = 60 * 1_000_000_000
    bars = []
    buckets = (m["ts_ns"][executed] // minute_ns).astype(np.int64)
    for bucket in np.unique(buckets):
        rows = executed[buckets == bucket]
        price = m["price"][rows] / 10_000
        size = m["size"][rows].astype(np.float64)
        bars.append(
            {
                "v": int(size.sum()),
                "vw": round(float((price * size).sum() / size.sum()), 4),
                "o": float(price[0]),
                "c": float(price[-1]),
                "h": float(price.max()),
                "l": float(price.min()),
                "t": (base_ns + int(bucket) * minute_ns) // 1_000_000,
                "n": len(rows),
            }
        )
    write(HERE / "aggs" / "minute" / f"{symbol}.{TICK_DAY}.json",
          aggs_response(symbol, True, bars))  # fmt: skip
    trades = []
    for row in executed[:TICKS]:
        ts = base_ns + int(m["ts_ns"][row])
        trade = {
            "exchange": NASDAQ,
            "id": str(int(m["order_id"][row])),
            "participant_timestamp": ts,
            "price": m["price"][row] / 10_000,
            "sequence_number": int(row) + 1,
            "sip_timestamp": ts,
            "size": int(m["size"][row]),
            "tape": TAPE_C,
        }
        trades.append(trade)
    write(HERE / "trades" / f"{symbol}.{TICK_DAY}.json", ticks_response(symbol, trades))
    book = day.orderbook
    best = book[:, :4]
    changed = np.ones(len(best), dtype=bool)
    changed[1:] = np.any(best[1:] != best[:-1], axis=1)
    quotes = []
    for row in np.flatnonzero(changed)[:TICKS]:
        ts = base_ns + int(m["ts_ns"][row])
        ask_price, ask_size, bid_price, bid_size = (int(v) for v in best[row])
        quotes.append(
            {
                "ask_exchange": NASDAQ,
                "ask_price": ask_price / 10_000,
                "ask_size": ask_size,
                "bid_exchange": NASDAQ,
                "bid_price": bid_price / 10_000,
                "bid_size": bid_size,
                "participant_timestamp": ts,
                "sequence_number": int(row) + 1,
                "sip_timestamp": ts,
                "tape": TAPE_C,
            }
        )
    write(HERE / "quotes" / f"{symbol}.{TICK_DAY}.json", ticks_response(symbol, quotes))


def ticks_response(symbol: str, results: list[dict]) -> dict:
    return {"results": results, "status": "OK", "request_id": request_id(symbol, len(results))}


def write(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {path.relative_to(ROOT)} ({len(document['results'])} results)")


if __name__ == "__main__":
    for symbol in DAILY:
        daily(symbol)
    for symbol in ("AAPL", "AMZN"):
        ticks(symbol)
