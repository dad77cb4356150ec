"""Geometry for the server-rendered SVG charts (bars per block, radar of the blocks).

Pure functions: they take percentages and return coordinates; templates draw them. Every chart
is paired with a text equivalent in the page (a table), so colour is never the only carrier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    percent: int
    y: int
    width: float  # in chart units (0..100 scaled to the bar area)


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    height: int
    label_width: int = 130
    bar_area: int = 300
    row_height: int = 28

    @property
    def width(self) -> int:
        return self.label_width + self.bar_area + 50


def bar_chart(items: list[tuple[str, int]], *, row_height: int = 28) -> BarChart:
    bars = tuple(
        Bar(label, max(0, min(100, percent)), i * row_height, 300 * max(0, min(100, percent)) / 100)
        for i, (label, percent) in enumerate(items)
    )
    return BarChart(bars=bars, height=max(1, len(bars)) * row_height, row_height=row_height)


@dataclass(frozen=True)
class RadarAxis:
    label: str
    percent: int
    x: float  # axis end
    y: float
    label_x: float
    label_y: float
    anchor: str


@dataclass(frozen=True)
class RadarChart:
    size: int
    center: float
    radius: float
    axes: tuple[RadarAxis, ...]
    polygon: str  # "x,y x,y ..." of the values
    rings: tuple[str, ...]  # polygons at 25/50/75/100 %


def _point(
    center: float, radius: float, index: int, count: int, fraction: float
) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * index / count
    return (
        round(center + radius * fraction * math.cos(angle), 1),
        round(center + radius * fraction * math.sin(angle), 1),
    )


def radar_chart(items: list[tuple[str, int]], *, size: int = 320) -> RadarChart:
    count = max(3, len(items))
    padded = items + [("", 0)] * (count - len(items))
    center, radius = size / 2, size / 2 - 48
    axes = []
    for i, (label, percent) in enumerate(padded):
        x, y = _point(center, radius, i, count, 1.0)
        lx, ly = _point(center, radius, i, count, 1.18)
        anchor = "middle" if abs(lx - center) < 8 else ("start" if lx > center else "end")
        axes.append(RadarAxis(label, percent, x, y, lx, ly + 4, anchor))
    polygon = " ".join(
        "{},{}".format(*_point(center, radius, i, count, max(0, min(100, p)) / 100))
        for i, (_label, p) in enumerate(padded)
    )
    rings = tuple(
        " ".join("{},{}".format(*_point(center, radius, i, count, f)) for i in range(count))
        for f in (0.25, 0.5, 0.75, 1.0)
    )
    return RadarChart(size, center, radius, tuple(axes), polygon, rings)
