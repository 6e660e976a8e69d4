"""SVG charts: extremes survive downsampling, long curves stay small, the heatmap stays legible."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.research.report import charts
from trading.research.report.record import NS_PER_DAY


@given(
    st.lists(st.floats(min_value=-1e9, max_value=1e9), min_size=0, max_size=3000),
    st.integers(min_value=4, max_value=700),
)
def test_downsampling_keeps_endpoints_min_and_max_within_the_limit(values, limit):
    keep = charts.extreme_indices(values, limit)
    assert len(keep) <= max(limit, 0)
    assert np.all(np.diff(keep) > 0)
    if values:
        kept = np.asarray(values)[keep]
        assert kept.min() == min(values) and kept.max() == max(values)
        assert keep[0] == 0 and keep[-1] == len(values) - 1


def test_downsampling_keeps_every_bucket_extreme_of_a_long_series():
    rng = np.random.default_rng(0)
    values = rng.normal(size=100_003).cumsum()
    keep = charts.extreme_indices(values, 1000)
    inner, count = len(values) - 2, (1000 - 2) // 2
    # Bucket b of the inner points starts at floor(b * inner / count); each bucket's own low
    # and high (found by brute force) are among the kept points.
    for b in range(0, count, 37):
        bucket = np.arange(int(b * inner / count), int((b + 1) * inner / count)) + 1
        chunk = values[bucket]
        assert bucket[np.argmin(chunk)] in keep and bucket[np.argmax(chunk)] in keep


def test_downsampling_skips_nans_but_keeps_numbers():
    values = np.full(5000, np.nan)
    values[1234], values[4000] = -3.0, 7.0
    kept = values[charts.extreme_indices(values, 100)]
    assert -3.0 in kept and 7.0 in kept


def _polyline_ys(svg):
    points = re.findall(r'<polyline points="([^"]+)"', svg)
    return [float(p.split(",")[1]) for line in points for p in line.split()]


def test_a_million_point_curve_gives_a_small_svg_that_still_shows_the_crash():
    n = 1_000_000
    t = np.datetime64("2020-01-01", "ns").astype(np.int64) + np.arange(n, dtype=np.int64) * 10**9
    equity = 1e6 + np.sin(np.arange(n) / 5000.0) * 1e4
    equity[654_321] = 5e5  # a one-mark crash
    keep = charts.extreme_indices(equity, charts.MAX_POINTS)
    svg = charts.line_chart(
        chart_id="eq", title="Equity", description="d", times_ns=t[keep],
        lines=[charts.Line(equity[keep])], y_format=str,
    )  # fmt: skip
    assert len(svg) < 60_000
    ys = _polyline_ys(svg)
    assert len(ys) <= charts.MAX_POINTS
    # The crash is the lowest value, drawn on the bottom of the plot area.
    assert max(ys) == pytest.approx(charts.HEIGHT - charts.MARGIN_BOTTOM, abs=0.05)


def test_line_chart_is_an_accessible_image_with_title_and_description():
    t = np.arange(5, dtype=np.int64) * NS_PER_DAY
    svg = charts.line_chart(
        chart_id="x", title="A & B <c>", description="Falls then rises", times_ns=t,
        lines=[charts.Line(np.array([3.0, 1.0, np.nan, 2.0, 4.0]))], y_format=str, baseline=0.0,
    )  # fmt: skip
    assert 'role="img"' in svg and 'aria-labelledby="x-title x-desc"' in svg
    assert '<title id="x-title">A &amp; B &lt;c&gt;</title>' in svg
    assert '<desc id="x-desc">Falls then rises</desc>' in svg
    assert svg.count("<polyline") == 2  # the NaN breaks the line in two


def test_contrast_ratio_agrees_with_the_published_wcag_figures():
    white = (255, 255, 255)
    assert charts.contrast_ratio((0, 0, 0), white) == pytest.approx(21.0)
    # The site's muted grey #57606a is documented at 6.39:1 on white.
    assert charts.contrast_ratio((0x57, 0x60, 0x6A), white) == pytest.approx(6.39, abs=0.01)


def test_heatmap_cells_carry_their_value_and_readable_text():
    values = np.array([[-0.2, -0.05, 0.0, 0.01, 0.05, 0.2] + [np.nan] * 6])
    svg = charts.heatmap(chart_id="h", title="Monthly", description="d", years=[2021],
                         values=values, yearly=np.array([0.1]))  # fmt: skip
    for text in ("-20.0%", "-5.0%", "+0.0%", "+1.0%", "+5.0%", "+20.0%", "+10.0%"):
        assert f">{text}</text>" in svg and f": {text}</title>" in svg
    assert "Jul 2021: no data" in svg
    cells = re.findall(r'<rect [^>]*fill="#(\w{6})"><title>[^<]*: ([^<]+)</title>', svg)
    cells = [(bg, value) for bg, value in cells if value != "no data"]
    texts = re.findall(r'fill="#(\w{6})" text-anchor="middle" dominant-baseline="middle" '
                       r'font-size="11">([^<]+)</text>', svg)  # fmt: skip
    assert [v for _, v in cells] == [v for _, v in texts]
    for (bg, value), (fg, _) in zip(cells, texts, strict=True):
        rgb = tuple(int(bg[i : i + 2], 16) for i in (0, 2, 4))
        text_rgb = tuple(int(fg[i : i + 2], 16) for i in (0, 2, 4))
        assert charts.contrast_ratio(rgb, text_rgb) >= 4.5, (bg, fg)
        number = float(value.rstrip("%"))
        if number < 0:
            assert rgb[0] > rgb[2]  # losses red
        elif number > 0:
            assert rgb[2] > rgb[0]  # gains blue


@pytest.mark.parametrize("level", np.linspace(0.0, 1.0, 41))
def test_text_on_any_scale_colour_meets_aa_contrast(level):
    for sign in (-1, 1):
        bg = charts.diverging_colour(sign * level, 1.0)
        assert charts.contrast_ratio(bg, charts.text_colour_on(bg)) >= 4.5


def test_histogram_bars_add_up_to_the_counts():
    edges = np.linspace(0, 10, 11)
    counts = np.array([0, 3, 5, 8, 2, 0, 0, 1, 0, 4])
    svg = charts.histogram_chart(chart_id="h", title="Latency", description="d", edges=edges,
                                 counts=counts, x_format=lambda v: f"{v:g} us")  # fmt: skip
    drawn = [int(c) for c in re.findall(r": (\d+)</title></rect>", svg)]
    assert sorted(drawn) == sorted(int(c) for c in counts if c)
    assert "<title>1 us to 2 us: 3</title>" in svg
