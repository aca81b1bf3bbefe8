"""Charts of the statistics page, drawn on the server as SVG: no script, no CDN.

``rate_bars`` lays out one row per group (a unit, a session …) with its 办复率 and 按期办复率
as two bars; ``result_donut`` the A/B/C/D mix as a ring. The templates only place the shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tracker.statistics import RESULT_CLASSES, Figures, percent

#: Colours of the result classes (A solved … D for reference), calm and distinguishable.
RESULT_COLOURS = {"A": "#2f7d5b", "B": "#4a7c9b", "C": "#d9a441", "D": "#a0a9b4"}
REPLY_COLOUR, ON_TIME_COLOUR = "#9dbad0", "#1f4e6b"

LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH, ROW_HEIGHT, TOP = 170, 400, 110, 26, 8


@dataclass
class BarRow:
    y: int
    label: str
    reply_width: float
    on_time_width: float
    text: str
    title: str


@dataclass
class Bars:
    width: int
    height: int
    label_width: int
    bar_x: int
    bar_width: int
    value_x: int
    rows: list[BarRow]
    reply_colour: str = REPLY_COLOUR
    on_time_colour: str = ON_TIME_COLOUR


def _short(label: str, limit: int = 11) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def rate_bars(rows: list[Figures]) -> Bars:
    shown = [r for r in rows if r.assigned]
    bar_rows = []
    for i, r in enumerate(shown):
        reply, on_time = r.reply_rate or 0.0, r.on_time_rate or 0.0
        bar_rows.append(
            BarRow(
                y=TOP + i * ROW_HEIGHT,
                label=_short(r.label),
                reply_width=round(BAR_WIDTH * reply, 1),
                on_time_width=round(BAR_WIDTH * on_time, 1),
                text=f"{percent(r.reply_rate)} / {percent(r.on_time_rate)}",
                title=(
                    f"{r.label}：交办 {r.assigned} 件，办复 {r.replied} 件"
                    f"（{percent(r.reply_rate)}），按期 {r.replied_on_time} 件"
                    f"（{percent(r.on_time_rate)}）"
                ),
            )
        )
    return Bars(
        width=LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
        height=TOP * 2 + max(len(bar_rows), 1) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        bar_x=LABEL_WIDTH,
        bar_width=BAR_WIDTH,
        value_x=LABEL_WIDTH + BAR_WIDTH + 8,
        rows=bar_rows,
    )


@dataclass
class Slice:
    key: str
    label: str
    count: int
    share: str
    colour: str
    dash: str  # stroke-dasharray of the ring
    offset: float  # stroke-dashoffset


@dataclass
class Donut:
    radius: float
    circumference: float
    total: int
    slices: list[Slice]


def result_donut(figures: Figures, labels: dict[str, str]) -> Donut:
    radius = 60.0
    circumference = 2 * math.pi * radius
    total = figures.result_total
    slices, start = [], 0.0
    for key in RESULT_CLASSES:
        count = figures.results[key]
        length = circumference * count / total if total else 0.0
        slices.append(
            Slice(
                key=key,
                label=labels.get(key, key),
                count=count,
                share=percent(count / total if total else None),
                colour=RESULT_COLOURS[key],
                dash=f"{length:.2f} {circumference - length:.2f}",
                # SVG rings start at 3 o'clock; the offset turns each slice to where the
                # previous one ended (and the whole ring to 12 o'clock).
                offset=round(circumference / 4 - start, 2),
            )
        )
        start += length
    return Donut(radius=radius, circumference=round(circumference, 2), total=total, slices=slices)
