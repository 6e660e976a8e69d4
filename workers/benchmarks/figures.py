"""Repeated measurements, summarised as a median with its spread, beside a target."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Figure:
    """One named figure: its samples over repeated runs and the target it answers to."""

    key: str
    label: str
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def spread_pct(self) -> float:
        """(max - min) / median, in percent: how much the machine's noise moved it."""
        if len(self.samples) < 2 or not self.median:
            return 0.0
        return (max(self.samples) - min(self.samples)) / abs(self.median) * 100

    @property
    def met(self) -> bool | None:
        if self.target is None or not self.samples:
            return None
        return self.median >= self.target if self.higher_is_better else self.median <= self.target

    def line(self) -> str:
        """`label  median unit  (min .. max, spread%, n)  target ...  MET/MISSED`."""
        if not self.samples:
            return f"{self.label:<44} not measured {self.note}"
        text = (
            f"{self.label:<44} {_fmt(self.median):>12} {self.unit:<6} "
            f"(min {_fmt(min(self.samples))}, max {_fmt(max(self.samples))}, "
            f"spread {self.spread_pct:.0f}%, n={len(self.samples)})"
        )
        if self.target is not None:
            relation = ">=" if self.higher_is_better else "<="
            text += f"  target {relation} {_fmt(self.target)}  {'MET' if self.met else 'MISSED'}"
        if self.note:
            text += f"  [{self.note}]"
        return text

    def detail(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "min": min(self.samples) if self.samples else None,
            "max": max(self.samples) if self.samples else None,
            "spread_pct": round(self.spread_pct, 1),
            "samples": self.samples,
            "unit": self.unit,
            "target": self.target,
            "higher_is_better": self.higher_is_better,
            "met": self.met,
            "note": self.note,
        }


def repeat(figure: Figure, runs: int, measure: Callable[[], float]) -> Figure:
    """Run `measure` `runs` times, appending each result to the figure's samples."""
    for _ in range(runs):
        figure.samples.append(float(measure()))
    return figure


def as_json(figures: list[Figure]) -> dict[str, Any]:
    """One JSON object: each figure's median under its key, and the details under `detail`."""
    document: dict[str, Any] = {f.key: f.median for f in figures}
    document["detail"] = {f.key: f.detail() for f in figures}
    return document


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"
