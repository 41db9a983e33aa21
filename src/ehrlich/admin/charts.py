"""Charts drawn on the server as SVG: readable without JavaScript, styled by classes.

`line_chart` returns an `<svg role="img">` whose `<title>` and `<desc>` name what it
shows and sum it up in words; the page puts the same numbers beside it as a table
(`chart_data.html`) for screen readers and anyone who wants figures. No inline
styles (the CSP forbids them): colours come from `.series-N` classes in admin.css,
and each series also differs by its dash pattern, so colour is not the only cue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28
DASHES = ("", "6 4", "2 3")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def nice_ceiling(value: int) -> int:
    """The smallest of 2, 4, 6, 8 × 10^n at or above `value` (at least 2): the axis's top,
    even so that the middle grid line is a whole number too."""
    step = 1
    while True:
        for factor in (2, 4, 6, 8, 10):
            if step * factor >= value:
                return step * factor
        step *= 10


def _points(values: Sequence[int], top: int) -> str:
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    gap = inner_w / max(len(values) - 1, 1)
    return " ".join(f"{LEFT + i * gap:.1f},{TOP + inner_h - v / top * inner_h:.1f}"
                    for i, v in enumerate(values))


def line_chart(chart_id: str, title: str, description: str, x_labels: Sequence[str],
               series: Sequence[Series]) -> Markup:
    """An accessible SVG line chart; `x_labels` has one entry per value (first, middle and
    last are drawn). At most three series (the classes admin.css defines)."""
    if not 1 <= len(series) <= len(DASHES):
        raise ValueError(f"a chart shows 1 to {len(DASHES)} series, not {len(series)}")
    top = nice_ceiling(max((max(s.values, default=0) for s in series), default=0))
    inner_h = HEIGHT - TOP - BOTTOM
    parts = [f'<svg class="chart" id="{escape(chart_id)}" role="img" '
             f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMidYMid meet" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
             f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
             '<g aria-hidden="true">']
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + inner_h - fraction * inner_h
        css = "axis" if fraction == 0 else "grid"
        parts.append(f'<line class="{css}" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
                     f'y2="{y:.1f}"/>')
        label = f"{round(top * fraction):,}"
        parts.append(f'<text class="label" x="{LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{label}</text>')
    if x_labels:
        last = len(x_labels) - 1
        gap = (WIDTH - LEFT - RIGHT) / max(last, 1)
        drawn: set[int] = set()
        for index, anchor in ((0, "start"), (last, "end"), (last // 2, "middle")):
            if index in drawn:  # two or three values: no label drawn over another
                continue
            drawn.add(index)
            parts.append(f'<text class="label" x="{LEFT + index * gap:.1f}" y="{HEIGHT - 8}" '
                         f'text-anchor="{anchor}">{escape(x_labels[index])}</text>')
    for n, s in enumerate(series):
        dash = f' stroke-dasharray="{DASHES[n]}"' if DASHES[n] else ""
        parts.append(f'<polyline class="series-{n}" points="{_points(s.values, top)}"{dash}/>')
    parts.append("</g></svg>")
    return Markup("".join(parts))  # noqa: S704 - every text put in above is escaped
