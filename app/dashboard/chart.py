"""The growth chart as plain SVG geometry: no JavaScript, nothing from a CDN.

Every position is a percentage of the plot (the SVG has no viewBox), so the
plot stretches to any width while its text keeps its size: axis labels sit in
the SVG's margins (CSS gives it `overflow: visible`), and each day's value
shows on hover and on keyboard focus by CSS alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from app.kit.resources import GrowthStats

BAR_SHARE = 0.7  # of a day's slot; the rest is the gap
MAX_TICKS = 5


@dataclass(frozen=True)
class Tick:
    y: float  # percent of the plot's height, from the top
    label: str
    zero: bool


@dataclass(frozen=True)
class Bar:
    """One day: its slot (the hover and focus area) and its bar in it."""

    slot_x: float
    slot_width: float
    x: float
    width: float
    y: float
    height: float
    center: float
    value: int
    label: str  # "3 May"
    description: str  # "3 May: +4 net (5 new, 1 cancelled)"
    negative: bool
    anchor: str  # of the value shown on hover: start, middle or end
    tick_label: str  # "" for a day without a label under the axis
    tick_anchor: str

    @property
    def value_x(self) -> float:
        """Where the value shown on hover stands, for its anchor."""
        return self._at(self.anchor)

    @property
    def tick_x(self) -> float:
        return self._at(self.tick_anchor)

    def _at(self, anchor: str) -> float:
        if anchor == "start":
            return self.slot_x
        if anchor == "end":
            return round(self.slot_x + self.slot_width, 3)
        return self.center


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    baseline: float

    @property
    def empty(self) -> bool:
        """No subscriber came or went on any day: nothing to draw."""
        return not self.bars


def day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def growth_chart(days: list[tuple[date, GrowthStats]]) -> Chart:
    """Net new subscribers per day, around a zero line (above: growth, below:
    more cancellations than new), on a y axis of 3 to 5 round ticks."""
    if not any(stats.new_subscribers or stats.cancellations for _, stats in days):
        return Chart([], [], 100.0)
    values = [stats.net_new_subscribers for _, stats in days]
    bottom, top, step = scale(min(values), max(values))
    span = top - bottom

    def y(value: int) -> float:
        return round(100 * (top - value) / span, 3)

    ticks = [
        Tick(y(value), f"{value:,}", value == 0)
        for value in range(top, bottom - 1, -step)
    ]
    labelled = _labelled(len(days))
    slot = 100 / len(days)
    bars = []
    for index, ((day, stats), value) in enumerate(zip(days, values, strict=True)):
        left = index * slot
        third = index * 3 // len(days)
        bars.append(
            Bar(
                slot_x=round(left, 3),
                slot_width=round(slot, 3),
                x=round(left + slot * (1 - BAR_SHARE) / 2, 3),
                width=round(slot * BAR_SHARE, 3),
                y=min(y(value), y(0)),
                height=round(abs(y(value) - y(0)), 3),
                center=round(left + slot / 2, 3),
                value=value,
                label=day_label(day),
                description=(
                    f"{day_label(day)}: {value:+,} net "
                    f"({stats.new_subscribers:,} new, "
                    f"{stats.cancellations:,} cancelled)"
                ),
                negative=value < 0,
                anchor=("start", "middle", "end")[third],
                tick_label=day_label(day) if index in labelled else "",
                tick_anchor=(
                    "start"
                    if index == 0
                    else "end"
                    if index == len(days) - 1
                    else "middle"
                ),
            )
        )
    return Chart(bars, ticks, y(0))


def scale(low: int, high: int) -> tuple[int, int, int]:
    """The axis from `bottom` to `top` in steps of `step`, all round numbers
    (1, 2, 5 times a power of ten), zero included, 3 to 5 ticks."""
    low, high = min(low, 0), max(high, 0)
    power = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * power
            bottom = math.floor(low / step) * step
            top = math.ceil(high / step) * step
            count = (top - bottom) // step + 1
            if count <= MAX_TICKS:
                if count < 3:
                    top = bottom + 2 * step
                return bottom, top, step
        power *= 10


def _labelled(count: int) -> set[int]:
    """The days named under the axis: the last, every `gap` days back from it,
    and the first (a named day too close to it is left out)."""
    gap = 1 if count <= 7 else 7 if count <= 31 else 14
    return {index for index in range(count - 1, -1, -gap) if index >= gap * 2 // 3} | {
        0
    }
