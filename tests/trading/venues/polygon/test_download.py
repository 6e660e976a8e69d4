"""Downloads through polygon-api-client's RESTClient against the local Polygon server."""

from __future__ import annotations

import datetime as dt
import json
import logging

import numpy as np
import pytest

from tests.support.polygon_server import (
    API_KEY,
    DROP,
    FIXTURES,
    MALFORMED,
    SERVER_ERROR,
    Fault,
)
from trading.research.store import MarketDataStore
from trading.venues.polygon.download import FetchRequest, plan, run_download
from trading.venues.polygon.errors import (
    PolygonAuthError,
    PolygonNotAuthorized,
    PolygonPayloadError,
    PolygonUnavailable,
)
from trading.venues.polygon.journal import DownloadJournal

pytestmark = pytest.mark.tcp

DAILY = FetchRequest(("AAPL", "KO"), dt.date(2020, 6, 1), dt.date(2020, 12, 11), limit=40)
TICK_DAY = dt.date(2012, 6, 21)
MINUTE = FetchRequest(
    ("AAPL", "AMZN"), TICK_DAY, TICK_DAY, timespan="minute", trades=True, quotes=True, limit=100
)


def fixture(*parts: str) -> list[dict]:
    return json.loads(FIXTURES.joinpath(*parts).read_text())["results"]


def completed_urls(server, since: int = 0) -> list[str]:
    return [r.url for r in server.log[since:] if r.status == 200 and not r.fault]


def same_store(a: MarketDataStore, b: MarketDataStore) -> None:
    """Two stores hold the same items with equal arrays."""
    keyed = {e.key: e for e in b.catalogue()}
    assert sorted(e.key for e in a.catalogue()) == sorted(keyed)
    for entry in a.catalogue():
        other = keyed[entry.key]
        assert (entry.rows, entry.first, entry.last, entry.source) == (
            other.rows, other.first, other.last, other.source,
        )  # fmt: skip
        for name, twin in zip(sorted(entry.files), sorted(other.files), strict=True):
            assert np.array_equal(np.load(a.root / name), np.load(b.root / twin), equal_nan=True), (
                name
            )


# --------------------------------------------------------------------------------------------
# What lands in the store
# --------------------------------------------------------------------------------------------


def test_daily_bars_are_paged_by_next_url_and_stored_as_polygon_sent_them(
    server, store, make_pages
):
    report = run_download(DAILY, store, make_pages())
    # 137 bars a symbol at 40 a page: four pages each, the last three reached by next_url.
    assert report.pages == 8 and report.requests == 8 and report.bars == 274
    aggs = server.requests("/v2/aggs/")
    assert [("cursor" in r.query) for r in aggs] == [False, True, True, True] * 2
    assert all(r.authorization == f"Bearer {API_KEY}" for r in aggs)
    sent = fixture("aggs", "day", "AAPL.adjusted.json")
    bars = store.daily_bars("AAPL")
    assert len(bars) == len(sent) == 137
    assert np.array_equal(bars.close, [b["c"] for b in sent])
    assert np.array_equal(bars.open, [b["o"] for b in sent])
    assert np.array_equal(bars.volume, [b["v"] for b in sent])
    # Polygon's daily bars start at midnight in New York: each is stored under that day.
    assert str(bars.dates[0]) == "2020-06-01" and str(bars.dates[-1]) == "2020-12-11"
    # Adjusted bars fill both series: AAPL's 4-for-1 split of 2020-08-31 is already in them.
    raw = store.daily_bars("AAPL", adjusted=False)
    assert np.array_equal(raw.close, bars.close)
    entry = store.entry("daily", "AAPL")
    assert entry.source == "polygon"
    assert entry.meta["adjusted"] is True and entry.meta["prices"] == "split-adjusted"


def test_unadjusted_bars_are_stored_as_traded(server, store, make_pages):
    request = FetchRequest(("AAPL",), dt.date(2020, 8, 24), dt.date(2020, 9, 4), adjusted=False)
    run_download(request, store, make_pages())
    assert server.log[0].query["adjusted"] == "false"
    closes = store.daily_bars("AAPL", adjusted=False).close
    assert closes[0] > 490 and closes[-1] < 130  # before and after the 4-for-1 split
    assert store.entry("daily", "AAPL").meta["prices"] == "as traded"


def test_minute_bars_trades_and_quotes_land_per_symbol_and_day(server, store, make_pages):
    report = run_download(MINUTE, store, make_pages())
    assert sorted(report.stored) == sorted(
        f"{s} {k} 2012-06-21" for s in ("AAPL", "AMZN") for k in ("minute", "trades", "quotes")
    )
    # 390 and 387 minute bars at 100 a page, 150 trades and 150 quotes at 100 a page.
    assert report.pages == 4 + 4 + 2 * 2 + 2 * 2
    bars = store.intraday_bars("AAPL", TICK_DAY)
    sent = fixture("aggs", "minute", "AAPL.2012-06-21.json")
    assert len(bars) == 390
    assert np.array_equal(bars["t_ns"], [b["t"] * 1_000_000 for b in sent])
    assert np.array_equal(bars["vwap"], [b["vw"] for b in sent])
    assert np.array_equal(bars["transactions"], [b["n"] for b in sent])
    trades = store.trades("AMZN", TICK_DAY)
    sent_trades = fixture("trades", "AMZN.2012-06-21.json")
    assert np.array_equal(trades["sip_ns"], [t["sip_timestamp"] for t in sent_trades])
    assert np.array_equal(trades["price"], [t["price"] for t in sent_trades])
    assert np.all(trades["exchange"] == 12) and np.all(trades["conditions"] == -1)
    quotes = store.quotes("AAPL", TICK_DAY)
    sent_quotes = fixture("quotes", "AAPL.2012-06-21.json")
    assert np.array_equal(quotes["bid_price"], [q["bid_price"] for q in sent_quotes])
    assert np.array_equal(quotes["ask_size"], [q["ask_size"] for q in sent_quotes])
    assert {e.source for e in store.catalogue()} == {"polygon"}
    assert {e.kind for e in store.catalogue()} == {"minute", "trades", "quotes"}


def test_hour_bars_of_a_multiplier_and_weekends_skipped(server, store, make_pages):
    request = FetchRequest(
        ("AAPL",), dt.date(2012, 6, 21), dt.date(2012, 6, 24), timespan="hour", multiplier=2
    )
    report = run_download(request, store, make_pages())
    # Thursday and Friday asked (the weekend is not), Friday held no data.
    assert [u.day for u in plan(request.checked())] == [dt.date(2012, 6, 21), dt.date(2012, 6, 22)]
    assert report.stored == ["AAPL hour 2012-06-21"] and report.empty == ["AAPL hour 2012-06-22"]
    bars = store.intraday_bars("AAPL", TICK_DAY, "hour")
    minute = fixture("aggs", "minute", "AAPL.2012-06-21.json")
    assert bars["volume"].sum() == sum(b["v"] for b in minute)
    assert np.all(np.diff(bars["t_ns"]) == 2 * 3600 * 10**9)
    assert store.entry("hour", "AAPL", TICK_DAY).meta["multiplier"] == 2


# --------------------------------------------------------------------------------------------
# Pacing
# --------------------------------------------------------------------------------------------


def test_requests_are_paced_to_the_rate_limit(server, store, make_pages):
    # 600 a minute is ten a second: no second of the server's log may hold more than
    # ten requests plus the one on its closing edge.
    request = FetchRequest(("AAPL",), dt.date(2020, 6, 1), dt.date(2020, 12, 11), limit=10)
    run_download(request, store, make_pages(rate_per_minute=600))
    times = [r.at for r in server.log]
    assert len(times) == 14
    for start in times:
        assert sum(start <= t < start + 1.0 for t in times) <= 11


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_a_429_waits_for_retry_after_then_the_download_goes_on(server, store, make_pages):
    server.inject(2, Fault.http(429, retry_after=1))
    report = run_download(DAILY, store, make_pages())
    assert [r.status for r in server.log[:3]] == [200, 429, 200]
    assert server.log[2].url == server.log[1].url
    assert server.log[2].at - server.log[1].at >= 1.0  # Retry-After honoured
    assert report.retries == 1 and len(store.daily_bars("KO")) == 137


def test_5xx_and_dropped_connections_are_retried_with_back_off(server, store, make_pages):
    server.inject(1, SERVER_ERROR)
    server.inject(2, Fault.http(503))
    server.inject(4, DROP)
    report = run_download(DAILY, store, make_pages())
    assert report.retries == 3 and report.pages == 8
    assert server.log[0].url == server.log[1].url == server.log[2].url
    assert len(store.daily_bars("AAPL")) == 137


def test_retries_are_bounded_and_the_store_untouched(server, store, make_pages):
    for n in range(1, 10):
        server.inject(n, SERVER_ERROR)
    with pytest.raises(PolygonUnavailable, match=r"after 3 attempts.*HTTP 500"):
        run_download(DAILY, store, make_pages(max_retries=2))
    assert len(server.log) == 3 and store.catalogue() == []


def test_a_wrong_key_stops_at_once_and_never_shows_the_key(server, store, make_pages):
    with pytest.raises(PolygonAuthError, match="HTTP 401.*Unknown API Key") as caught:
        run_download(DAILY, store, make_pages(key="not-the-key-93a1"))
    assert len(server.log) == 1 and "not-the-key-93a1" not in str(caught.value)
    assert store.catalogue() == []


def test_a_403_on_aggregates_stops_with_polygons_message(server, store, make_pages):
    server.entitled.discard("aggs")
    with pytest.raises(PolygonNotAuthorized, match="NOT_AUTHORIZED You are not entitled"):
        run_download(DAILY, store, make_pages())
    assert len(server.log) == 1


def test_trades_and_quotes_refused_by_the_plan_still_land_the_aggregates(server, store, make_pages):
    server.entitled -= {"trades", "quotes"}
    report = run_download(MINUTE, store, make_pages())
    assert set(report.refused) == {"trades", "quotes"}
    assert "You are not entitled to this data" in report.refused["trades"]
    assert report.figures()["digest"]["trades refused"] == report.refused["trades"]
    # One refused request per kind, then that kind is skipped for every other symbol.
    assert len(server.requests("/v3/trades/")) == 1 and len(server.requests("/v3/quotes/")) == 1
    assert store.days("minute", "AAPL") == store.days("minute", "AMZN") == [TICK_DAY]
    assert {e.kind for e in store.catalogue()} == {"minute"}


def test_malformed_json_is_an_error_naming_the_url_and_nothing_is_half_written(
    server, store, make_pages
):
    server.inject(3, MALFORMED)
    with pytest.raises(PolygonPayloadError, match=r"malformed JSON from http://127.0.0.1:\d+/v2/"):
        run_download(DAILY, store, make_pages())
    assert store.catalogue() == []
    first = completed_urls(server)
    run_download(DAILY, store, make_pages())
    again = completed_urls(server, since=3)
    assert not set(first) & set(again)  # the two good pages were kept, not fetched again
    assert server.log[3].url == server.log[2].url  # the malformed page is asked for again
    assert len(store.daily_bars("AAPL")) == 137


def test_the_key_never_appears_in_the_log(server, store, make_pages, caplog):
    server.inject(2, Fault.http(429, retry_after=0))
    server.inject(3, DROP)
    server.inject(5, SERVER_ERROR)
    with caplog.at_level(logging.DEBUG):
        run_download(DAILY, store, make_pages())
    assert "retry 1 of 3" in caplog.text and "urllib3" in {
        r.name.split(".")[0] for r in caplog.records
    }
    assert API_KEY not in caplog.text


# --------------------------------------------------------------------------------------------
# Resuming
# --------------------------------------------------------------------------------------------


def test_an_interrupted_download_resumes_without_fetching_a_finished_page_again(
    server, store, make_pages, tmp_path
):
    server.inject(6, SERVER_ERROR)  # AAPL's four pages, KO's first, then KO's second fails
    with pytest.raises(PolygonUnavailable):
        run_download(DAILY, store, make_pages(max_retries=0))
    assert store.symbols("daily") == ["AAPL"]  # a finished unit is committed at once
    before = completed_urls(server)
    resumed = run_download(DAILY, store, make_pages(max_retries=0))
    after = completed_urls(server, since=6)
    assert not set(before) & set(after)
    assert after[0] == server.log[5].url  # KO continues at the page that failed
    assert resumed.skipped == 1 and resumed.pages == 3
    clean = MarketDataStore(tmp_path / "clean")
    run_download(DAILY, clean, make_pages())
    same_store(store, clean)


def test_a_finished_download_run_again_asks_for_nothing_unless_refreshed(server, store, make_pages):
    run_download(MINUTE, store, make_pages())
    served = len(server.log)
    again = run_download(MINUTE, store, make_pages())
    assert len(server.log) == served and again.skipped == again.units == 6
    refreshed = run_download(MINUTE, store, make_pages(), refresh=True)
    assert refreshed.pages == 16 and len(refreshed.stored) == 6


def test_a_unit_removed_from_the_store_is_fetched_again(server, store, make_pages):
    run_download(DAILY, store, make_pages())
    store.remove("daily", "KO")
    again = run_download(DAILY, store, make_pages())
    assert again.stored == ["KO daily"] and again.skipped == 1


def test_the_journal_keeps_pages_until_the_unit_is_stored_then_only_its_state(
    server, store, make_pages
):
    server.inject(3, SERVER_ERROR)
    with pytest.raises(PolygonUnavailable):
        run_download(DAILY, store, make_pages(max_retries=0))
    journal = DownloadJournal.in_store(store.root)
    (unit_dir,) = journal.root.iterdir()
    assert sorted(p.name for p in unit_dir.iterdir()) == ["page-00000.json", "page-00001.json",
                                                          "state.json"]  # fmt: skip
    state = json.loads((unit_dir / "state.json").read_text())
    assert state["pages"] == 2 and state["next_url"].startswith(server.base_url)
    assert API_KEY not in (unit_dir / "state.json").read_text()
    run_download(DAILY, store, make_pages())
    assert sorted(p.name for p in unit_dir.iterdir()) == ["state.json"]


# --------------------------------------------------------------------------------------------
# Requests refused before anything is asked
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"symbols": ()}, "at least one ticker"),
        ({"symbols": ("AAPL", "aapl")}, "repeat"),
        ({"symbols": ("../KO",)}, "symbol"),
        ({"end": dt.date(2020, 5, 1)}, "before --from"),
        ({"timespan": "week"}, "timespan must be one of day, minute, hour"),
        ({"multiplier": 0}, "multiplier must be 1..1440"),
        ({"multiplier": 5}, "multiplier 1 with day"),
        ({"limit": 50001}, "limit must be"),
    ],
)
def test_bad_requests_are_refused_clearly(server, store, make_pages, change, message):
    fields = {
        "symbols": ("AAPL",),
        "start": dt.date(2020, 6, 1),
        "end": dt.date(2020, 12, 11),
        **change,
    }
    with pytest.raises(ValueError, match=message):
        run_download(FetchRequest(**fields), store, make_pages())
    assert server.log == []
