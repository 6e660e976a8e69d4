"""The public track record: figures from the ledger, shown only when the owner publishes them."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.urls import reverse

from ledger.models import EquityPoint, Fill, Order
from portfolio.templatetags.portfolio_format import compact_dollars
from tests.portfolio.page_outline import definitions, outline

pytestmark = pytest.mark.django_db

URL = reverse("portfolio:track_record")
# 20:00 UTC is 16:00 in New York, the desk's clock: each mark falls on its own trading day.
DAY0 = datetime(2025, 3, 3, 20, 0, tzinfo=UTC)


def _equity(account, values, start=DAY0):
    for i, value in enumerate(values):
        EquityPoint.objects.create(
            ts=start + timedelta(days=i),
            account=account,
            equity=Decimal(str(value)),
            realised=Decimal("0"),
            unrealised=Decimal("0"),
        )


def _fills(account, n, start=DAY0):
    for i in range(n):
        Fill.objects.create(
            ts=start + timedelta(hours=i),
            account=account,
            order_id=i + 1,
            symbol="AAPL",
            side=1,
            qty=100,
            price=1_500_000,
            match_number=i + 1,
        )


@pytest.fixture
def ledger(profile):
    _equity("demo", [100, 110, 99, 121])
    _equity("live", [100, 50])
    _fills("demo", 5)
    _fills("live", 3)
    Order.objects.create(account="demo", order_id=99, symbol="ZZSECRET", side=1, qty=1, price=1)
    return profile


def test_unpublished_track_record_is_a_polite_page_without_figures(client, ledger):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "not published" in html
    assert "<svg" not in html and "%" not in html and "Sharpe" not in html
    assert [t for lvl, t in outline(html).headings if lvl == 1] == ["Track record"]


def test_published_track_record_shows_the_known_figures(client, ledger):
    ledger.track_record_published = True
    ledger.save()
    html = client.get(URL).content.decode()
    figures = definitions(html)
    assert figures["Total return"] == "21.00%"
    assert figures["Max drawdown"] == "10.00%"
    assert figures["Trades"] == "5"
    assert figures["Trading days"] == "4"
    assert figures["Since"] == "2025-03-03"
    r = np.diff([100, 110, 99, 121]) / np.array([100, 110, 99])
    assert (
        figures["Sharpe ratio (annualised, daily)"] == f"{r.mean() / r.std(ddof=1) * 252**0.5:.2f}"
    )


def test_the_chart_is_an_accessible_inline_svg(client, ledger):
    ledger.track_record_published = True
    ledger.save()
    html = client.get(URL).content.decode()
    page = outline(html)
    svg = page.first("svg")
    assert svg is not None and svg["role"] == "img"
    assert svg["aria-labelledby"] == "equity-title equity-desc"
    assert page.first("title", id="equity-title") is not None
    assert page.first("desc", id="equity-desc") is not None
    assert "from 100.00 dollars on 3 March 2025 to 121.00 dollars on 6 March 2025" in html
    points = page.first("polyline", **{"class": "equity"})["points"].split()
    assert len(points) == 4
    assert ">$121</text>" in html and ">$99</text>" in html
    assert ">2025-03-03</text>" in html and ">2025-03-06</text>" in html
    assert "<script" not in html


def test_the_track_record_never_shows_orders_or_positions(client, ledger):
    ledger.track_record_published = True
    ledger.save()
    html = client.get(URL).content.decode()
    assert "ZZSECRET" not in html and "AAPL" not in html


def test_the_published_account_and_since_date_choose_the_series(client, ledger):
    ledger.track_record_published = True
    ledger.track_record_account = "live"
    ledger.save()
    figures = definitions(client.get(URL).content.decode())
    assert figures["Total return"] == "-50.00%" and figures["Trades"] == "3"

    ledger.track_record_account = "demo"
    ledger.track_record_since = date(2025, 3, 4)
    ledger.save()
    figures = definitions(client.get(URL).content.decode())
    # From 110: 110 -> 99 -> 121 is +10%, with the same 10% drawdown; no fill is that late.
    assert figures["Total return"] == "10.00%"
    assert figures["Max drawdown"] == "10.00%"
    assert figures["Since"] == "2025-03-04"
    assert figures["Trades"] == "0"


def test_a_single_mark_shows_what_it_can(client, profile):
    profile.track_record_published = True
    profile.save()
    _equity("demo", [100])
    response = client.get(URL)
    figures = definitions(response.content.decode())
    assert figures["Total return"] == "n/a"
    assert figures["Sharpe ratio (annualised, daily)"] == "n/a"
    assert figures["Max drawdown"] == "0.00%"
    assert "<svg" not in response.content.decode()


def test_published_but_empty_ledger_says_so(client, profile):
    profile.track_record_published = True
    profile.save()
    html = client.get(URL).content.decode()
    assert "No equity has been recorded yet" in html and "<dl" not in html


def test_daily_sharpe_uses_the_last_mark_of_each_day(client, profile):
    profile.track_record_published = True
    profile.save()
    # Intraday marks swing wildly; only the 16:00 closes (100, 110, 99, 121) enter the Sharpe.
    _equity("demo", [100, 110, 99, 121])
    _equity("demo", [500, 1, 500, 1], start=DAY0 - timedelta(hours=3))
    figures = definitions(client.get(URL).content.decode())
    r = np.diff([100, 110, 99, 121]) / np.array([100, 110, 99])
    assert (
        figures["Sharpe ratio (annualised, daily)"] == f"{r.mean() / r.std(ddof=1) * 252**0.5:.2f}"
    )


@pytest.mark.parametrize(
    ("amount", "label"),
    [(121.0, "$121"), (9_999.4, "$9,999"), (990_626.0, "$991k"), (1_954_442.1, "$1.95M"),
     (2.5e9, "$2.5B"), (-12_345.0, "-$12.3k")],
)  # fmt: skip
def test_axis_labels_are_compact_dollar_amounts(amount, label):
    assert compact_dollars(amount) == label
