"""The report page: self-contained, parseable, accessible, and safe with hostile names."""

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from trading.research.report import RunRecord, Trade, build_report

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}
SVG_EMPTY = {"line", "polyline", "polygon", "rect", "path", "circle"}
HOSTILE = '<script>alert("x")</script>&"\'</title>'


class _Outline(HTMLParser):
    """Checks that every element closes in order and collects the page's shape."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags, self.titles = [], [], [], []
        self.attrs, self._in_title = [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in VOID:
            self.stack.append(tag)
        self._in_title = tag == "title"

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.titles.append(data)


def _outline(page):
    parser = _Outline()
    parser.feed(page)
    parser.close()
    return parser


def _run(name="momentum 20/100", **kwargs):
    rng = np.random.default_rng(2)
    dates = pd.bdate_range("2020-01-01", periods=400)
    equity = 5e4 * np.cumprod(1 + rng.normal(0.0005, 0.01, 400))
    ns = dates.values.astype("datetime64[ns]").view(np.int64)
    trades = [Trade(int(ns[i]), int(ns[i + 2]), -1, 3, 20.0, 19.0, 3.0, 0.1) for i in range(9)]
    return RunRecord(name, dates, equity, trades, latency_ns=rng.lognormal(10, 1, 800),
                     queue_position=rng.integers(0, 9, 500), kind="tick", **kwargs)  # fmt: skip


@pytest.fixture(scope="module")
def page_and_report():
    report = build_report(_run())
    return report.html(), report


def test_page_is_well_formed_and_has_no_script_or_external_resource(page_and_report):
    page, _ = page_and_report
    outline = _outline(page)
    assert outline.errors == [] and outline.stack == []
    assert "script" not in outline.tags and "<script" not in page.lower()
    assert not {"link", "img", "iframe", "object", "embed"} & set(outline.tags)
    urls = re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", page)
    assert set(urls) == {"http://www.w3.org/2000/svg"}  # only the SVG namespace name
    assert not [a for a in outline.attrs if a[0] in ("src", "href") or a[0].startswith("on")]
    assert "url(" not in page and "@import" not in page


def test_page_contains_every_chart_with_its_title_and_text_alternative(page_and_report):
    page, report = page_and_report
    outline = _outline(page)
    for key in ("equity", "drawdown", "monthly_returns", "rolling_sharpe", "latency",
                "queue_position"):  # fmt: skip
        figure = report.figures[key]
        assert figure["title"] in outline.titles, key
        assert f'id="figure-{key}"' in page
    assert outline.tags.count("svg") == 6
    assert outline.tags.count("svg") == page.count('role="img"')
    assert outline.tags.count("desc") == 6


def test_page_has_the_summary_trades_and_params(page_and_report):
    page, report = page_and_report
    assert "Sharpe ratio" in page and "Max drawdown" in page and "Hit rate" in page
    assert f"{report.figures['summary']['sharpe']:.2f}" in page
    assert page.count("<tr><td>") == 9  # nine trade rows


def test_hostile_names_and_params_are_escaped():
    report = build_report(_run(name=HOSTILE, params={HOSTILE: HOSTILE, "n": [1, HOSTILE]},
                               benchmark_equity=np.linspace(1, 2, 400),
                               benchmark_name=HOSTILE))  # fmt: skip
    page = report.html()
    assert "<script" not in page.lower()
    assert "</title>&" not in page
    assert "&lt;script&gt;" in page
    outline = _outline(page)
    assert outline.errors == [] and outline.stack == []
    assert f"Backtest report: {HOSTILE}" in outline.titles
    assert report.figures["name"] == HOSTILE  # the JSON keeps the name as given
