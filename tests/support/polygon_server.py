"""A local Polygon REST server for tests: recorded responses, real HTTP, faults on demand.

It serves the recorded responses under ``tests/data/polygon`` (see ``make_fixtures.py``
there) in Polygon's published format:

* ``GET /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}`` with ``adjusted``,
  ``sort`` and ``limit``; ``from``/``to`` as ``YYYY-MM-DD`` (New York days) or Unix ms.  Minute
  and hour bars of any multiplier are made from the recorded minute bars.
* ``GET /v3/trades/{ticker}`` and ``GET /v3/quotes/{ticker}`` with ``timestamp=YYYY-MM-DD``,
  ``limit``, ``sort`` and ``order``.

A page holds at most ``limit`` results; when more remain the body carries ``next_url``, whose
opaque ``cursor`` holds the rest of the query, as Polygon's does.  The key goes in an
``Authorization: Bearer`` header (or ``apiKey``); a missing or wrong one is a 401.  Kinds left
out of ``entitled`` answer 403 NOT_AUTHORIZED.  ``inject(n, fault)`` makes the n-th request
(1-based, counting every request) answer 429 with ``Retry-After``, a 5xx, malformed JSON, a
dropped connection, or hang until the server stops.  ``log`` records every request.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse
from zoneinfo import ZoneInfo

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "polygon"
NEW_YORK = ZoneInfo("America/New_York")
API_KEY = "test-polygon-key-5e1f"
_UNIT_MS = {"minute": 60_000, "hour": 3_600_000}


@dataclass(frozen=True)
class Fault:
    """What the n-th request gets instead of its answer."""

    kind: str  # "status", "malformed", "drop" or "hold"
    status: int = 0
    retry_after: float | None = None

    @classmethod
    def http(cls, status: int, retry_after: float | None = None) -> Fault:
        return cls("status", status, retry_after)


RATE_LIMITED = Fault.http(429, retry_after=1)
SERVER_ERROR = Fault.http(500)
BAD_GATEWAY = Fault.http(502)
MALFORMED = Fault("malformed")
DROP = Fault("drop")
HOLD = Fault("hold")


@dataclass
class Request:
    """One request as the server saw it."""

    n: int
    path: str
    query: dict[str, str]
    at: float  # time.monotonic() on arrival
    status: int = 0  # 0: the connection was dropped or held
    authorization: str = ""
    fault: str = ""

    @property
    def url(self) -> str:
        return self.path + (f"?{urlencode(self.query)}" if self.query else "")


@dataclass
class _Answer:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _cursor(params: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(params, sort_keys=True).encode()).decode()


def _uncursor(cursor: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(cursor.encode()))


def _ny_midnight_ms(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), NEW_YORK).timestamp() * 1000)


def _bound_ms(text: str, end: bool) -> int:
    """A path bound as Unix ms: a date means the start (or the end) of that New York day."""
    if text.isdigit():
        return int(text)
    day = dt.date.fromisoformat(text)
    return _ny_midnight_ms(day + dt.timedelta(days=1)) - 1 if end else _ny_midnight_ms(day)


def _ny_date(ns: int) -> dt.date:
    return dt.datetime.fromtimestamp(ns / 1e9, NEW_YORK).date()


class PolygonServer:
    """See the module text.  Use as a context manager or call ``start``/``stop``."""

    def __init__(self, api_key: str = API_KEY, fixtures: Path = FIXTURES) -> None:
        self.api_key = api_key
        self.fixtures = fixtures
        self.entitled = {"aggs", "trades", "quotes"}
        self.log: list[Request] = []
        self._faults: dict[int, Fault] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._cache: dict[Path, dict[str, Any]] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- life cycle -----------------------------------------------------------------------

    def start(self) -> PolygonServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body leave in two writes; without this, Nagle's algorithm and the
                # client's delayed ACK hold every response back some 40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the request log is server.log

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="polygon-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> PolygonServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, n: int, fault: Fault) -> None:
        """The n-th request (1-based, counting all requests so far) meets ``fault``."""
        with self._lock:
            self._faults[n] = fault

    def requests(self, prefix: str = "/") -> list[Request]:
        with self._lock:
            return [r for r in self.log if r.path.startswith(prefix)]

    # ---- one request ------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        with self._lock:
            record = Request(
                n=len(self.log) + 1,
                path=parsed.path,
                query=query,
                at=time.monotonic(),
                authorization=handler.headers.get("Authorization", ""),
            )
            self.log.append(record)
            fault = self._faults.pop(record.n, None)
        if fault is not None:
            record.fault = fault.kind
            if fault.kind == "drop":
                self._drop(handler)
                return
            if fault.kind == "hold":
                self._stopping.wait(60)
                self._drop(handler)
                return
            if fault.kind == "malformed":
                record.status = 200
                self._send(handler, 200, b'{"status":"OK","results":[{"t":1,', {})
                return
            answer = self._error(fault.status, fault)
        else:
            answer = self._answer(parsed.path, query, handler)
        record.status = answer.status
        body = json.dumps(answer.body).encode() if answer.body is not None else b""
        self._send(handler, answer.status, body, answer.headers)

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client went away
            handler.close_connection = True

    def _error(self, status: int, fault: Fault | None = None) -> _Answer:
        request_id = uuid.uuid4().hex
        headers: dict[str, str] = {}
        if status == 429:
            body = {
                "status": "ERROR",
                "request_id": request_id,
                "error": "You've exceeded the maximum requests per minute, please wait or "
                "upgrade your subscription to continue. https://polygon.io/pricing",
            }
            if fault is not None and fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
        elif status == 403:
            body = {
                "status": "NOT_AUTHORIZED",
                "request_id": request_id,
                "message": "You are not entitled to this data. Please upgrade your plan at "
                "https://polygon.io/pricing",
            }
        else:
            body = {"status": "ERROR", "request_id": request_id, "error": "Internal Server Error"}
        return _Answer(status, body, headers)

    def _answer(self, path: str, query: dict[str, str], handler: BaseHTTPRequestHandler) -> _Answer:
        authorization = handler.headers.get("Authorization", "")
        key = authorization.removeprefix("Bearer ").strip() if authorization else ""
        key = key or query.get("apiKey", "")
        request_id = uuid.uuid4().hex
        if not key:
            return _Answer(
                401,
                {"status": "ERROR", "request_id": request_id, "error": "API Key was not provided"},
            )
        if key != self.api_key:
            return _Answer(
                401, {"status": "ERROR", "request_id": request_id, "error": "Unknown API Key"}
            )
        parts = path.strip("/").split("/")
        try:
            if len(parts) == 9 and parts[:3] == ["v2", "aggs", "ticker"] and parts[4] == "range":
                if "aggs" not in self.entitled:
                    return self._error(403)
                return self._aggs(parts[3], int(parts[5]), parts[6], parts[7], parts[8], query)
            if len(parts) == 3 and parts[0] == "v3" and parts[1] in ("trades", "quotes"):
                if parts[1] not in self.entitled:
                    return self._error(403)
                return self._ticks(parts[1], parts[2], query)
        except (ValueError, KeyError) as exc:
            return _Answer(400, {"status": "ERROR", "request_id": request_id, "error": str(exc)})
        return _Answer(
            404, {"status": "NOT_FOUND", "request_id": request_id, "message": "Not Found"}
        )

    def _fixture(self, path: Path) -> dict[str, Any] | None:
        if path not in self._cache:
            if not path.exists():
                return None
            self._cache[path] = json.loads(path.read_text())
        return self._cache[path]

    # ---- aggregates -------------------------------------------------------------------------

    def _aggs(
        self,
        ticker: str,
        multiplier: int,
        timespan: str,
        start_text: str,
        end_text: str,
        query: dict[str, str],
    ) -> _Answer:
        params = _uncursor(query["cursor"]) if "cursor" in query else query
        adjusted = str(params.get("adjusted", "true")).lower() != "false"
        limit = min(int(params.get("limit", 5000)), 50000)
        if timespan not in ("day", "minute", "hour"):
            raise ValueError(f"timespan {timespan!r} is not served here (day, minute, hour)")
        if multiplier < 1:
            raise ValueError("multiplier must be a positive integer")
        start, end = _bound_ms(start_text, False), _bound_ms(end_text, True)
        if timespan == "day":
            if multiplier != 1:
                raise ValueError("this server serves day bars with multiplier 1 only")
            name = f"{ticker}.{'adjusted' if adjusted else 'unadjusted'}.json"
            bars = self._bars(self.fixtures / "aggs" / "day" / name)
        else:
            bars = []
            for path in sorted((self.fixtures / "aggs" / "minute").glob(f"{ticker}.*.json")):
                bars += self._bars(path)
            bars = _merge(bars, multiplier * _UNIT_MS[timespan])
        chosen = [b for b in bars if start <= b["t"] <= end]
        page, rest = chosen[:limit], chosen[limit:]
        body: dict[str, Any] = {
            "ticker": ticker,
            "queryCount": len(page),
            "resultsCount": len(page),
            "adjusted": adjusted,
            "status": "OK",
            "request_id": uuid.uuid4().hex,
            "count": len(page),
        }
        if page:  # Polygon leaves "results" out of an empty answer
            body["results"] = page
        if rest:
            cursor = _cursor({"adjusted": str(adjusted).lower(), "limit": limit, "sort": "asc"})
            body["next_url"] = (
                f"{self.base_url}/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/"
                f"{rest[0]['t']}/{end_text}?cursor={cursor}"
            )
        return _Answer(200, body)

    def _bars(self, path: Path) -> list[dict[str, Any]]:
        document = self._fixture(path)
        return list(document["results"]) if document else []

    # ---- trades and quotes --------------------------------------------------------------------

    def _ticks(self, kind: str, ticker: str, query: dict[str, str]) -> _Answer:
        params = _uncursor(query["cursor"]) if "cursor" in query else dict(query)
        day = dt.date.fromisoformat(str(params["timestamp"]))
        limit = min(int(params.get("limit", 1000)), 50000)
        offset = int(params.get("offset", 0))
        document = self._fixture(self.fixtures / kind / f"{ticker}.{day}.json")
        results = [
            r
            for r in (document["results"] if document else [])
            if _ny_date(r["sip_timestamp"]) == day
        ]
        if params.get("order", "asc") == "desc":
            results.reverse()
        page = results[offset : offset + limit]
        body: dict[str, Any] = {"results": page, "status": "OK", "request_id": uuid.uuid4().hex}
        if offset + limit < len(results):
            cursor = _cursor(
                {
                    "timestamp": day.isoformat(),
                    "limit": limit,
                    "offset": offset + limit,
                    "order": params.get("order", "asc"),
                }
            )
            body["next_url"] = f"{self.base_url}/v3/{kind}/{ticker}?cursor={cursor}"
        return _Answer(200, body)


def _merge(bars: list[dict[str, Any]], width_ms: int) -> list[dict[str, Any]]:
    """Minute bars merged into bars ``width_ms`` wide (aligned on the epoch)."""
    if width_ms == 60_000:
        return bars
    merged: list[dict[str, Any]] = []
    for bar in bars:
        start = bar["t"] - bar["t"] % width_ms
        if merged and merged[-1]["t"] == start:
            last = merged[-1]
            volume = last["v"] + bar["v"]
            last["vw"] = round((last["vw"] * last["v"] + bar["vw"] * bar["v"]) / volume, 4)
            last.update(
                v=volume, c=bar["c"], h=max(last["h"], bar["h"]), l=min(last["l"], bar["l"]),
                n=last["n"] + bar["n"],
            )  # fmt: skip
        else:
            merged.append({**bar, "t": start})
    return merged
