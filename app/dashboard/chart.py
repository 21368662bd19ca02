"""A bar chart as plain SVG geometry: no JavaScript, nothing from a CDN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.kit.resources import GrowthStats

WIDTH, HEIGHT, GAP = 600, 160, 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str
    negative: bool


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    baseline: float
    width: int = WIDTH
    height: int = HEIGHT


def growth_chart(days: list[tuple[date, GrowthStats]]) -> Chart:
    return Chart(*growth_bars(days))


def growth_bars(days: list[tuple[date, GrowthStats]]) -> tuple[list[Bar], float]:
    """Bars of net new subscribers per day, around a baseline; returns the bars
    and the baseline's y (above it: growth, below it: more cancellations)."""
    values = [stats.net_new_subscribers for _, stats in days]
    if not values:
        return [], HEIGHT / 2
    top, bottom = max(max(values), 0), min(min(values), 0)
    span = (top - bottom) or 1
    baseline = HEIGHT * top / span
    slot = WIDTH / len(values)
    bars: list[Bar] = []
    for (day, _), value in zip(days, values, strict=True):
        height = HEIGHT * abs(value) / span
        bars.append(
            Bar(
                x=round(slot * len(bars) + GAP / 2, 2),
                y=round(baseline - height if value >= 0 else baseline, 2),
                width=round(slot - GAP, 2),
                height=round(max(height, 1.0), 2),
                value=value,
                label=day.strftime("%d %b"),
                negative=value < 0,
            )
        )
    return bars, round(baseline, 2)
