"""One page at a time from Polygon's REST API, through polygon-api-client's ``RESTClient``.

The client's own iterators hide page boundaries, retry inside urllib3 without saying why, and
turn a malformed body into an empty list.  A resumable download needs each page as it comes
and needs to know why a request failed, so pages are fetched with the client's ``raw=True``
calls (the first page through its public ``list_aggs`` / ``list_trades`` / ``list_quotes``, the
following ones from ``next_url`` exactly as the client's own paginator does) and every
response is checked here.

Retries are ours, not urllib3's: a 429 waits for its ``Retry-After`` (or backs off), 5xx and
dropped connections back off exponentially, a bounded number of times; 401 and 403 stop at
once.  The API key goes only into the client (which sends it as a bearer header), never into a
URL, a message or a log line.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import urllib3
from polygon import RESTClient
from polygon.exceptions import BadResponse
from urllib3.util.retry import Retry

from trading.log_format import get_logger
from trading.venues.polygon.errors import (
    PolygonAuthError,
    PolygonError,
    PolygonNotAuthorized,
    PolygonPayloadError,
    PolygonUnavailable,
)
from trading.venues.polygon.pacing import TokenBucket

log = get_logger("MD")

KEY_ENV = "POLYGON_API_KEY"
BASE_URL_ENV = "POLYGON_BASE_URL"
DEFAULT_BASE_URL = "https://api.polygon.io"
# Response statuses under which Polygon delivers data ("DELAYED" on plans with delayed data).
_DATA_STATUSES = ("OK", "DELAYED")
_SECRET_QUERY_KEYS = frozenset({"apikey"})  # compared lower-cased


@dataclass(frozen=True, slots=True)
class Page:
    """One page of results as Polygon sent it."""

    url: str  # what was asked, without any key
    results: list[dict[str, Any]]
    next_url: str | None
    request_id: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before giving up on a request."""

    max_retries: int = 5  # retries after the first attempt, for 429, 5xx and dropped connections
    backoff_s: float = 0.5  # first back-off; doubles each retry
    max_backoff_s: float = 60.0
    max_retry_after_s: float = 120.0  # a Retry-After longer than this is capped


def redact(url: str) -> str:
    """``url`` without query parameters that could carry a key."""
    parts = urlparse(url)
    if not parts.query:
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _SECRET_QUERY_KEYS]
    return urlunparse(parts._replace(query=urlencode(kept)))


class _ResponseRecorder:
    """Stands in for the client's urllib3 pool and remembers the last request and response.

    ``RESTClient`` raises ``BadResponse`` carrying only the body of a failed response; the
    status and ``Retry-After`` header that tell a 429 from a 403 are read from here.  Each
    request goes out with urllib3 retries off (the client's own strategy retries 429 and 5xx
    even with ``retries=0``, then raises without the status), so every answer comes back here.
    """

    _NO_RETRIES = Retry(total=0, redirect=0, status_forcelist=None, raise_on_status=False)

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self.last_url = ""
        self.last_response: Any = None

    def request(self, method: str, url: str, fields: Any = None, **kwargs: Any) -> Any:
        self.last_url = redact(url + (f"?{urlencode(fields)}" if fields else ""))
        self.last_response = None
        kwargs["retries"] = self._NO_RETRIES
        response = self._pool.request(method, url, fields=fields, **kwargs)
        self.last_response = response
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


def api_key_from_environment() -> str:
    """The key in ``POLYGON_API_KEY``, or a clear error when it is not set."""
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise PolygonAuthError(
            f"{KEY_ENV} is not set: export your Polygon API key in the environment of the "
            "process that downloads (it is never read from arguments or stored parameters)"
        )
    return key


def base_url_from_environment() -> str:
    """``POLYGON_BASE_URL`` (a local server in tests) or Polygon's own address."""
    return os.environ.get(BASE_URL_ENV, "").strip().rstrip("/") or DEFAULT_BASE_URL


class PolygonPages:
    """Pages of aggregates, trades and quotes, paced and retried; see the module text."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        rate_per_minute: float = 5.0,
        retry: RetryPolicy | None = None,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise PolygonAuthError(f"no Polygon API key given (set {KEY_ENV})")
        self.rest = RESTClient(
            api_key=api_key,
            base=base_url.rstrip("/"),
            retries=0,
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            pagination=True,
        )
        self._recorder = _ResponseRecorder(self.rest.client)
        self.rest.client = self._recorder
        self.base_url = base_url.rstrip("/")
        self.bucket = TokenBucket(rate_per_minute)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.requests = 0  # HTTP requests sent, retries included
        self.retries = 0
        self.bytes = 0

    @classmethod
    def from_environment(cls, **kwargs: Any) -> PolygonPages:
        """A client with the key from ``POLYGON_API_KEY`` and the base URL from the environment."""
        kwargs.setdefault("base_url", base_url_from_environment())
        return cls(api_key_from_environment(), **kwargs)

    # ---- the three first pages and the next one ----------------------------------------

    def first_aggs(
        self,
        ticker: str,
        multiplier: int,
        timespan: str,
        start: str,
        end: str,
        *,
        adjusted: bool,
        limit: int,
    ) -> Page:
        """The first page of aggregates of ``ticker`` from ``start`` to ``end`` (YYYY-MM-DD)."""
        return self._fetch(
            lambda: self.rest.list_aggs(
                ticker,
                multiplier,
                timespan,
                start,
                end,
                adjusted=adjusted,
                sort="asc",
                limit=limit,
                raw=True,
            ),
            f"/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{start}/{end}",
        )

    def first_ticks(self, kind: str, ticker: str, day: str, *, limit: int) -> Page:
        """The first page of a day's ``kind`` ("trades" or "quotes") of ``ticker``."""
        if kind == "trades":
            lister = self.rest.list_trades
        elif kind == "quotes":
            lister = self.rest.list_quotes
        else:
            raise ValueError(f"kind must be trades or quotes, got {kind!r}")
        return self._fetch(
            lambda: lister(
                ticker, timestamp=day, limit=limit, sort="timestamp", order="asc", raw=True
            ),
            f"/v3/{kind}/{ticker}?timestamp={day}",
        )

    def next_page(self, next_url: str) -> Page:
        """The page a previous page's ``next_url`` points at."""
        parsed = urlparse(next_url)
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        # The same call the client's own paginator makes for next_url (its base URL, its
        # headers): only the path and query of next_url are used.
        return self._fetch(
            lambda: self.rest._get(path=path, params={}, raw=True), redact(self.base_url + path)
        )

    # ---- one request, retried ----------------------------------------------------------

    def _fetch(self, call: Callable[[], Any], what: str) -> Page:
        attempt = 0
        while True:
            self.bucket.acquire()
            self.requests += 1
            status, problem, retry_after, response = self._attempt(call)
            url = self._recorder.last_url or self.base_url + what
            if status == 200:
                return self._page(response, url)
            if status == 401:
                raise PolygonAuthError(
                    f"Polygon refused the API key (HTTP 401) for {url}: {problem}; check {KEY_ENV}"
                )
            if status == 403:
                raise PolygonNotAuthorized(
                    f"Polygon says the plan does not include this data (HTTP 403) for {url}: "
                    f"{problem}"
                )
            if status is not None and status != 429 and status < 500:
                raise PolygonError(f"HTTP {status} from Polygon for {url}: {problem}")
            attempt += 1
            if attempt > self.retry.max_retries:
                raise PolygonUnavailable(
                    f"gave up on {url} after {attempt} attempts: {problem} "
                    f"(the next run resumes from this page)"
                )
            if status == 429 and retry_after is not None:
                wait = min(retry_after, self.retry.max_retry_after_s)
            else:
                wait = min(self.retry.backoff_s * 2 ** (attempt - 1), self.retry.max_backoff_s)
            if status == 429:
                self.bucket.drain()
            self.retries += 1
            log.warning(
                "polygon: %s for %s; retry %d of %d in %.1f s",
                problem,
                url,
                attempt,
                self.retry.max_retries,
                wait,
            )
            self._sleep(wait)

    def _attempt(self, call: Callable[[], Any]) -> tuple[int | None, str, float | None, Any]:
        """(status or None for a dropped connection, what went wrong, Retry-After, response)."""
        try:
            response = call()
        except BadResponse as exc:
            response = self._recorder.last_response
            status = int(response.status) if response is not None else None
            retry_after = _retry_after(response)
            return status, _problem(status, str(exc)), retry_after, response
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return None, f"connection failed ({type(exc).__name__})", None, None
        return 200, "", None, response

    def _page(self, response: Any, url: str) -> Page:
        data = response.data
        self.bytes += len(data)
        try:
            body = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise PolygonPayloadError(f"malformed JSON from {url}: {exc}") from None
        if not isinstance(body, dict):
            raise PolygonPayloadError(f"{url}: expected a JSON object, got {type(body).__name__}")
        status = body.get("status")
        if status not in _DATA_STATUSES:
            raise PolygonPayloadError(f"{url}: response status {status!r}, expected OK")
        results = body.get("results", [])  # Polygon leaves "results" out when there are none
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise PolygonPayloadError(f"{url}: results must be a list of objects")
        next_url = body.get("next_url")
        if next_url is not None and (not isinstance(next_url, str) or not next_url):
            raise PolygonPayloadError(f"{url}: next_url must be a URL, got {next_url!r}")
        return Page(
            url=url, results=results, next_url=next_url, request_id=str(body.get("request_id", ""))
        )


def _retry_after(response: Any) -> float | None:
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:  # an HTTP date: fall back to our own back-off
        return None


def _problem(status: int | None, body: str) -> str:
    """``HTTP 429: <Polygon's message>`` from an error body (JSON or not)."""
    message = body.strip()
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        text = document.get("message") or document.get("error")
        if text:
            message = f"{document.get('status', '')} {text}".strip()
    return f"HTTP {status}: {message[:300]}"
