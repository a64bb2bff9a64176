"""Bar charts drawn on the server as SVG: no script, and no style attributes (the Content-Security-Policy refuses
them), only presentation attributes. Each chart is an image with a title and a description for screen readers;
the page shows the same figures in a table beside it, which is what assistive technology reads in full."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# GOV.UK Frontend's palette: each has at least 3:1 contrast with the white page, as WCAG 1.4.11 asks of graphics.
BLUE = "#1d70b8"
GREEN = "#00703c"
PURPLE = "#4c2c92"
ORANGE = "#f47738"
TEXT = "#0b0c0c"
RULE = "#b1b4b6"

WIDTH = 480  # the drawing's own units; the picture scales to the width of its column
LABEL_ROW = 22  # each group's name, on a line of its own above its bars, so long names never squeeze the bars
BAR = 16
GAP = 4
GROUP_GAP = 14
LEGEND_ROW = 24
VALUE_ROOM = 130  # room after the longest bar for its value


@dataclass(frozen=True)
class Series:
    name: str
    colour: str


@dataclass(frozen=True)
class Group:
    name: str
    values: Sequence[int]  # one per series, in the series' order


def _text(x: float, y: float, content: str, *, anchor: str = "start", weight: str = "normal") -> str:
    return (f'<text x="{x:g}" y="{y:g}" fill="{TEXT}" font-size="14" font-family="Arial, sans-serif" '
            f'font-weight="{weight}" text-anchor="{anchor}">{escape(content)}</text>')


def bar_chart(chart_id: str, title: str, description: str, series: Sequence[Series], groups: Sequence[Group],
              show: Callable[[int], str] = str) -> Markup:
    """A horizontal bar chart: for each group, one bar per series, each labelled with its value as `show` writes
    it. Bars share one scale (the largest value fills the width), so they compare across groups. Negative values
    draw as empty bars."""
    for group in groups:
        if len(group.values) != len(series):
            raise ValueError(f"{group.name}: {len(group.values)} values for {len(series)} series")
    largest = max((v for g in groups for v in g.values), default=0)
    room = WIDTH - VALUE_ROOM
    parts: list[str] = []
    y = 0.0
    if len(series) > 1:  # a key, so the colours mean something; one series needs none
        x = 0.0
        for s in series:
            parts.append(f'<rect x="{x:g}" y="{y + 4:g}" width="14" height="14" fill="{s.colour}"/>')
            parts.append(_text(x + 20, y + 16, s.name))
            x += 20 + 9 * len(s.name) + 18
        y += LEGEND_ROW + 6
    for group in groups:
        parts.append(_text(0, y + 15, group.name, weight="bold"))
        y += LABEL_ROW
        for s, value in zip(series, group.values, strict=True):
            length = 0.0 if largest <= 0 or value <= 0 else max(1.0, room * value / largest)
            parts.append(f'<rect x="0" y="{y:g}" width="{length:.1f}" height="{BAR}" fill="{s.colour}"/>')
            parts.append(_text(length + 6, y + BAR - 3, show(value)))
            y += BAR + GAP
        y += GROUP_GAP
    height = max(y, 1.0)
    parts.append(f'<line x1="0" y1="{LEGEND_ROW + 6 if len(series) > 1 else 0:g}" x2="0" y2="{height - GROUP_GAP:g}" '
                 f'stroke="{RULE}" stroke-width="1"/>')
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" viewBox="0 0 {WIDTH} {height:g}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" focusable="false">'
        f'<title id="{escape(title_id)}">{escape(title)}</title>'
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>'
        + "".join(parts) + "</svg>"
    )


def describe(series: Sequence[Series], groups: Sequence[Group], show: Callable[[int], str] = str) -> str:
    """The chart's figures in words, for its description: "Fund 2025-26: Budget £1.00, Paid £0.50."."""
    return " ".join(
        f"{group.name}: " + ", ".join(f"{s.name} {show(v)}" for s, v in zip(series, group.values, strict=True)) + "."
        for group in groups
    )
