"""Server-rendered SVG charts: line charts, an underwater area, a heatmap and histograms.

Every chart is an accessible image (role="img" labelled by its <title> and <desc>), styled with
presentation attributes so that it also renders on its own, in the palette of the public site
(text #1f2328, muted #57606a, line #0550ae, all 4.5:1 or better on white). Long series are
reduced to each pixel column's extremes before drawing, so a million-point curve gives an SVG
of a few thousand points that still shows every peak and trough.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from trading.research.report.record import NS_PER_DAY

WIDTH = 720
HEIGHT = 260
MARGIN_LEFT = 72
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 36
PLOT_WIDTH = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
# Two points (the low and the high) per pixel column of the plot area.
MAX_POINTS = 2 * PLOT_WIDTH

TEXT = "#1f2328"
MUTED = "#57606a"
LINE = "#0550ae"
SECOND_LINE = "#9a3412"
LOSS = "#b42318"
GRID = "#d0d7de"
# Ends of the diverging scale of the heatmap (ColorBrewer RdBu, readable by the colour-blind).
NEGATIVE_END = (178, 24, 43)
POSITIVE_END = (33, 102, 172)
WHITE = (255, 255, 255)


def extreme_indices(values: Sequence[float] | np.ndarray, max_points: int) -> np.ndarray:
    """Indices (ascending) of at most `max_points` values: the first, the last, and the lowest
    and highest of each of (max_points - 2) // 2 equal buckets of the values in between.

    Keeping each bucket's extremes rather than every n-th value means the drawing still shows
    the deepest trough and the highest peak, whatever the sampling. NaNs are never chosen as an
    extreme of a bucket that has a number.
    """
    array = np.asarray(values, dtype=np.float64)
    n = len(array)
    if n <= max_points:
        return np.arange(n)
    if max_points < 4:
        return np.array([0, n - 1][: max(max_points, 0)], dtype=np.int64)
    buckets = (max_points - 2) // 2
    inner = array[1:-1]
    starts = (np.arange(buckets) * (len(inner) / buckets)).astype(np.int64)
    starts = np.unique(starts)
    sizes = np.diff(np.append(starts, len(inner)))
    bucket_of = np.repeat(np.arange(len(starts)), sizes)
    with np.errstate(invalid="ignore"):
        lows = np.fmin.reduceat(inner, starts)
        highs = np.fmax.reduceat(inner, starts)
    # The first position in each bucket holding its low (or high): positions that match, then
    # the first of each bucket among them.
    kept = [np.array([0, n - 1])]
    for target in (lows, highs):
        match = np.flatnonzero(inner == target[bucket_of])
        _, first = np.unique(bucket_of[match], return_index=True)
        kept.append(match[first] + 1)
    return np.unique(np.concatenate(kept))


@dataclass(frozen=True)
class Frame:
    """The plot area of a chart and the data ranges it maps."""

    x0: float
    x1: float
    y0: float
    y1: float
    left: float = MARGIN_LEFT
    right: float = WIDTH - MARGIN_RIGHT
    top: float = MARGIN_TOP
    bottom: float = HEIGHT - MARGIN_BOTTOM

    def x(self, value: np.ndarray | float) -> np.ndarray | float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (np.asarray(value, dtype=np.float64) - self.x0) / span * (
            self.right - self.left
        )

    def y(self, value: np.ndarray | float) -> np.ndarray | float:
        span = (self.y1 - self.y0) or 1.0
        return self.bottom - (np.asarray(value, dtype=np.float64) - self.y0) / span * (
            self.bottom - self.top
        )


def _value_range(arrays: Sequence[np.ndarray], include: float | None = None) -> tuple[float, float]:
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if len(a)]
    if not finite:
        low, high = 0.0, 1.0
    else:
        low = float(min(a.min() for a in finite))
        high = float(max(a.max() for a in finite))
    if include is not None:
        low, high = min(low, include), max(high, include)
    if high == low:
        # A flat line is drawn through the middle rather than dividing by zero.
        low, high = low - 1.0, high + 1.0
    return low, high


def _points(xs: np.ndarray, ys: np.ndarray) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True))


def _open_svg(chart_id: str, title: str, description: str, width: int = WIDTH,
              height: int = HEIGHT) -> list[str]:  # fmt: skip
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" font-family="system-ui, sans-serif" '
        f'font-size="13">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
    ]


def _label(x: float, y: float, text: str, anchor: str = "start", baseline: str = "auto") -> str:
    extra = f' dominant-baseline="{baseline}"' if baseline != "auto" else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" fill="{MUTED}" text-anchor="{anchor}"{extra}>'
        f"{escape(text)}</text>"
    )


def _axes(frame: Frame, y_format: Callable[[float], str], t_first: int, t_last: int) -> list[str]:
    return [
        f'<line x1="{frame.left}" y1="{frame.bottom}" x2="{frame.right}" y2="{frame.bottom}" '
        f'stroke="{MUTED}" stroke-width="1"/>',
        f'<line x1="{frame.left}" y1="{frame.top}" x2="{frame.left}" y2="{frame.bottom}" '
        f'stroke="{MUTED}" stroke-width="1"/>',
        _label(frame.left - 6, frame.top, y_format(frame.y1), "end", "hanging"),
        _label(frame.left - 6, frame.bottom, y_format(frame.y0), "end"),
        _label(frame.left, HEIGHT - 8.0, time_label(t_first, t_last - t_first)),
        _label(frame.right, HEIGHT - 8.0, time_label(t_last, t_last - t_first), "end"),
    ]


def time_label(ns: int, span_ns: int) -> str:
    """A date, or a time of day when the chart spans less than two days."""
    moment = np.datetime64(int(ns), "ns")
    if span_ns < 2 * NS_PER_DAY:
        return str(moment.astype("datetime64[s]")).replace("T", " ")
    return str(moment.astype("datetime64[D]"))


@dataclass(frozen=True)
class Line:
    """One series of a line chart: values at the chart's times, and how to stroke them."""

    values: np.ndarray
    colour: str = LINE
    label: str = ""
    dashed: bool = False


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    times_ns: np.ndarray,
    lines: Sequence[Line],
    y_format: Callable[[float], str],
    baseline: float | None = None,
    fill_to_baseline: bool = False,
) -> str:
    """An SVG line chart of already-downsampled series sharing the times (NaN breaks a line)."""
    times_ns = np.asarray(times_ns, dtype=np.int64)
    parts = _open_svg(chart_id, title, description)
    if len(times_ns) == 0:
        parts.append(_label(WIDTH / 2, HEIGHT / 2, "No data", "middle"))
        parts.append("</svg>")
        return "\n".join(parts)
    low, high = _value_range([line.values for line in lines], baseline)
    t0, t1 = int(times_ns[0]), int(times_ns[-1])
    frame = Frame(0.0, float(t1 - t0), low, high)
    xs = np.asarray(frame.x((times_ns - t0).astype(np.float64)))
    parts.extend(_axes(frame, y_format, t0, t1))
    if baseline is not None:
        yb = float(frame.y(baseline))
        parts.append(
            f'<line x1="{frame.left}" y1="{yb:.1f}" x2="{frame.right}" y2="{yb:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        # Label the baseline unless it would overprint the top or bottom label.
        if frame.top + 14 < yb < frame.bottom - 14:
            parts.append(_label(frame.left - 6, yb, y_format(baseline), "end", "middle"))
    for line in lines:
        ys = np.asarray(frame.y(line.values))
        for segment in _finite_runs(line.values):
            sx, sy = xs[segment], ys[segment]
            if fill_to_baseline and baseline is not None and len(segment) > 1:
                yb = float(frame.y(baseline))
                area = np.concatenate(([sx[0]], sx, [sx[-1]])), np.concatenate(([yb], sy, [yb]))
                parts.append(
                    f'<polygon points="{_points(*area)}" fill="{line.colour}" '
                    f'fill-opacity="0.25" stroke="none"/>'
                )
            dash = ' stroke-dasharray="6 4"' if line.dashed else ""
            parts.append(
                f'<polyline points="{_points(sx, sy)}" fill="none" stroke="{line.colour}" '
                f'stroke-width="2" stroke-linejoin="round"{dash}/>'
            )
    labelled = [line for line in lines if line.label]
    if len(labelled) > 1:
        for i, line in enumerate(labelled):
            x = frame.left + 8 + 170 * i
            dash = ' stroke-dasharray="6 4"' if line.dashed else ""
            parts.append(
                f'<line x1="{x}" y1="{frame.top + 8}" x2="{x + 20}" y2="{frame.top + 8}" '
                f'stroke="{line.colour}" stroke-width="2"{dash}/>'
            )
            parts.append(
                f'<text x="{x + 26}" y="{frame.top + 12}" fill="{TEXT}">{escape(line.label)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def _finite_runs(values: np.ndarray) -> list[np.ndarray]:
    """Index runs of consecutive finite values (a NaN ends a line segment)."""
    finite = np.isfinite(np.asarray(values, dtype=np.float64))
    idx = np.flatnonzero(finite)
    if len(idx) == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    return [run for run in np.split(idx, breaks) if len(run)]


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""
    channels = []
    for c in rgb:
        s = c / 255.0
        channels.append(s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def diverging_colour(value: float, limit: float) -> tuple[int, int, int]:
    """White at zero, deepening to red below and blue above, saturating at +/- `limit`."""
    if not math.isfinite(value) or limit <= 0:
        return WHITE
    t = min(abs(value) / limit, 1.0)
    end = POSITIVE_END if value > 0 else NEGATIVE_END
    return tuple(round(w + (e - w) * t) for w, e in zip(WHITE, end, strict=True))  # type: ignore[return-value]


def text_colour_on(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on the background (always 4.5:1 or more)."""
    black = (0, 0, 0)
    if contrast_ratio(black, background) >= contrast_ratio(WHITE, background):
        return black
    return WHITE


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def heatmap(
    *,
    chart_id: str,
    title: str,
    description: str,
    years: Sequence[int],
    values: np.ndarray,
    yearly: np.ndarray,
) -> str:
    """A year x month table of returns as coloured cells, each with its value as text and as a
    tooltip <title>; a last column holds the year's compounded return."""
    cell_w, cell_h, left, top = 48, 24, 56, 24
    columns = [*MONTHS, "Year"]
    width = left + cell_w * len(columns) + 8
    height = top + cell_h * max(len(years), 1) + 8
    parts = _open_svg(chart_id, title, description, width, height)
    finite = values[np.isfinite(values)]
    limit = float(np.max(np.abs(finite))) if len(finite) else 0.0
    for j, name in enumerate(columns):
        x = left + cell_w * j + cell_w / 2
        parts.append(
            f'<text x="{x:.1f}" y="{top - 8}" fill="{TEXT}" text-anchor="middle">{name}</text>'
        )
    for i, year in enumerate(years):
        y = top + cell_h * i
        parts.append(
            f'<text x="{left - 8}" y="{y + cell_h / 2:.1f}" fill="{TEXT}" text-anchor="end" '
            f'dominant-baseline="middle">{int(year)}</text>'
        )
        row = [*values[i].tolist(), float(yearly[i])]
        for j, value in enumerate(row):
            x = left + cell_w * j
            label = f"{MONTHS[j]} {year}" if j < 12 else f"Year {year}"
            if not math.isfinite(value):
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                    f'fill="#f6f8fa"><title>{label}: no data</title></rect>'
                )
                continue
            background = diverging_colour(value, limit)
            text = f"{value * 100:+.1f}%"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{hex_colour(background)}"><title>{label}: {text}</title></rect>'
            )
            parts.append(
                f'<text x="{x + (cell_w - 2) / 2:.1f}" y="{y + (cell_h - 2) / 2:.1f}" '
                f'fill="{hex_colour(text_colour_on(background))}" text-anchor="middle" '
                f'dominant-baseline="middle" font-size="11">{text}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def histogram_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    edges: np.ndarray,
    counts: np.ndarray,
    x_format: Callable[[float], str],
    integer_bins: bool = False,
) -> str:
    """Bars of `counts` over the bins between consecutive `edges`; with `integer_bins` the bins
    are centred on whole numbers and labelled by them."""
    parts = _open_svg(chart_id, title, description)
    edges = np.asarray(edges, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    if len(counts) == 0:
        parts.append(_label(WIDTH / 2, HEIGHT / 2, "No samples", "middle"))
        parts.append("</svg>")
        return "\n".join(parts)
    frame = Frame(float(edges[0]), float(edges[-1]), 0.0, float(counts.max()) or 1.0)
    parts += [
        f'<line x1="{frame.left}" y1="{frame.bottom}" x2="{frame.right}" y2="{frame.bottom}" '
        f'stroke="{MUTED}" stroke-width="1"/>',
        f'<line x1="{frame.left}" y1="{frame.top}" x2="{frame.left}" y2="{frame.bottom}" '
        f'stroke="{MUTED}" stroke-width="1"/>',
        _label(frame.left - 6, frame.top, f"{int(frame.y1):,}", "end", "hanging"),
        _label(frame.left - 6, frame.bottom, "0", "end"),
    ]
    xs = np.asarray(frame.x(edges))
    if integer_bins:

        def bin_text(k: int) -> str:
            return x_format(edges[k] + 0.5)

        parts.append(_label(frame.left, HEIGHT - 8.0, bin_text(0)))
        parts.append(_label(frame.right, HEIGHT - 8.0, bin_text(len(counts) - 1), "end"))
    else:

        def bin_text(k: int) -> str:
            return f"{x_format(edges[k])} to {x_format(edges[k + 1])}"

        parts.append(_label(frame.left, HEIGHT - 8.0, x_format(edges[0])))
        parts.append(_label(frame.right, HEIGHT - 8.0, x_format(edges[-1]), "end"))
    for k, count in enumerate(counts.tolist()):
        if count <= 0:
            continue
        x0, x1 = float(xs[k]), float(xs[k + 1])
        y = float(frame.y(count))
        parts.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0 - 1, 0.5):.1f}" '
            f'height="{frame.bottom - y:.1f}" fill="{LINE}">'
            f"<title>{escape(bin_text(k))}: {int(count):,}</title></rect>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
