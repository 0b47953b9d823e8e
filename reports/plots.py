"""Plots drawn as vector SVG markup by plain code, for the PDF reports and the web pages alike.

Only presentation attributes are used (stroke, fill, x, y...), never a ``style`` attribute:
the web pages forbid inline styles (Content-Security-Policy), and WeasyPrint draws the same
markup into the PDF as vectors. Every text given is escaped; the caller writes the words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import escape

Number = Decimal | float | int

FONT = "DejaVu Sans, sans-serif"
#: Colours of the line kinds (blue and orange tell apart for colour-blind readers); a kind
#: not listed is drawn grey. Lower lines are also dashed: the colour is not the only cue.
COLOURS = {"higher": "#1f5fa8", "lower": "#c2410c", "same": "#6b7280"}
DASHES = {"lower": "5 3"}
#: Above this many lines, the lines are not labelled one by one (the legend tells them apart).
MAX_LABELLED = 12

# Geometry in user units (1 unit = 1 CSS px: 480 units are 127 mm on paper).
WIDTH, HEIGHT = 480, 320
LEFT, TOP = 58, 16
#: Under the plot area: the x labels, then the legend's rows.
AXIS_SPACE, LEGEND_ROW = 30, 15
RIGHT_LABELLED, RIGHT_PLAIN = 92, 24
#: Width of a character of the 11-unit font, on average (to wrap the legend).
LEGEND_CHAR = 6.4


@dataclass(frozen=True)
class PairedLine:
    """One lesion (or any unit measured twice): its value before and after."""

    before: Number
    after: Number
    #: The line's kind, a key of COLOURS ("higher", "lower"...).
    kind: str
    #: Short tag written at the line's end when lines are few (e.g. "L1").
    label: str
    #: Full description, the line's tooltip and accessible name.
    title: str


def nice_step(span: float, target: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10ⁿ) giving about ``target`` intervals."""
    if span <= 0:
        return 1.0
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude * 1.0000001:
            return factor * magnitude
    return 10 * magnitude


def nice_ticks(high: float, target: int = 5) -> list[float]:
    """Ticks from 0 up to the first round value at or above ``high``."""
    step = nice_step(high, target)
    count = max(1, math.ceil(high / step - 1e-9))
    return [round(i * step, 10) for i in range(count + 1)]


def _tick_text(value: float) -> str:
    return f"{value:g}"


def _spread(wanted: list[float], gap: float, low: float, high: float) -> list[float]:
    """Label positions near ``wanted`` (sorted ascending), at least ``gap`` apart, within
    [low, high]: labels of close lines are pushed apart instead of overprinting."""
    placed: list[float] = []
    for y in wanted:
        placed.append(max(y, placed[-1] + gap) if placed else max(y, low))
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:
        placed = [y - overflow for y in placed]
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    return placed


def _legend_layout(texts: list[str]) -> list[tuple[float, float]]:
    """Where each legend entry starts (x, and y below the x labels): side by side, an entry
    that would run past the right edge starting a new row."""
    places: list[tuple[float, float]] = []
    x, y = float(LEFT), float(LEGEND_ROW)
    for text in texts:
        span = 28 + LEGEND_CHAR * len(text)
        if x > LEFT and x + span > WIDTH - 4:
            x, y = float(LEFT), y + LEGEND_ROW
        places.append((x, y))
        x += span + 18
    return places


def paired_plot(
    lines: Sequence[PairedLine],
    *,
    plot_id: str,
    title: str,
    description: str,
    before_label: str,
    after_label: str,
    axis_label: str,
    legend: Mapping[str, str],
    empty_text: str = "",
    height: int = HEIGHT,
) -> str:
    """SVG markup of a paired plot: one line per unit from its value at ``before_label`` to
    its value at ``after_label``, on a y axis from 0 with round ticks.

    :param plot_id: unique on the page (the ids of the accessible title and description).
    :param legend: text shown for each line kind present, in this order.
    :param empty_text: written in the plot area when there is no line to draw.
    :param height: of the drawing, in the units of its width (480).
    """
    drawn = [line for line in lines if line.before is not None and line.after is not None]
    labelled = 0 < len(drawn) <= MAX_LABELLED
    right = RIGHT_LABELLED if labelled else RIGHT_PLAIN
    kinds = [kind for kind in legend if any(line.kind == kind for line in drawn)]
    legend_at = _legend_layout([str(legend[kind]) for kind in kinds])
    bottom = AXIS_SPACE + (legend_at[-1][1] + 6 if legend_at else 0)
    plot_w, plot_h = WIDTH - LEFT - right, height - TOP - bottom
    high = max([float(v) for line in drawn for v in (line.before, line.after)] or [1.0])
    ticks = nice_ticks(high)
    top_value = ticks[-1]

    def y_of(value: Number) -> float:
        return TOP + plot_h - float(value) / top_value * plot_h

    x_before, x_after = LEFT + plot_w * 0.18, LEFT + plot_w * 0.82
    title_id, desc_id = f"{plot_id}-title", f"{plot_id}-desc"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="paired-plot" id="{escape(plot_id)}"'
        f' role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}"'
        f' viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        f' font-family="{FONT}" font-size="11">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    # Grid and y axis.
    for tick in ticks:
        y = y_of(tick)
        stroke, stroke_width = ("#333", 1) if tick == 0 else ("#d9dee4", 0.6)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}"'
            f' stroke="{stroke}" stroke-width="{stroke_width}"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">'
            f"{_tick_text(tick)}</text>"
        )
    out.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"'
        ' stroke="#333" stroke-width="1"/>'
    )
    middle = TOP + plot_h / 2
    out.append(
        f'<text x="16" y="{middle:.1f}" text-anchor="middle" fill="#111" font-weight="bold"'
        f' transform="rotate(-90 16 {middle:.1f})">{escape(axis_label)}</text>'
    )
    # The two positions.
    base = TOP + plot_h
    for x, label in ((x_before, before_label), (x_after, after_label)):
        out.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 5}" stroke="#333"/>')
        out.append(
            f'<text x="{x:.1f}" y="{base + 18}" text-anchor="middle" fill="#111"'
            f' font-weight="bold">{escape(label)}</text>'
        )
    if not drawn and empty_text:
        out.append(
            f'<text x="{LEFT + plot_w / 2:.1f}" y="{middle:.1f}" text-anchor="middle"'
            f' fill="#555">{escape(empty_text)}</text>'
        )
    # The lines: many lines are thinner and lighter, so that where they cross stays legible.
    width, radius, opacity = (1.6, 3.2, 0.9) if len(drawn) <= 20 else (1.0, 2.2, 0.6)
    for index, line in enumerate(drawn):
        colour = COLOURS.get(line.kind, "#6b7280")
        dash = f' stroke-dasharray="{DASHES[line.kind]}"' if line.kind in DASHES else ""
        y1, y2 = y_of(line.before), y_of(line.after)
        out.append(
            f'<g class="line line-{escape(line.kind)}" id="{escape(plot_id)}-l{index}">'
            f"<title>{escape(line.title)}</title>"
            f'<line x1="{x_before:.1f}" y1="{y1:.1f}" x2="{x_after:.1f}" y2="{y2:.1f}"'
            f' stroke="{colour}" stroke-width="{width}" stroke-opacity="{opacity}"{dash}/>'
            f'<circle cx="{x_before:.1f}" cy="{y1:.1f}" r="{radius}" fill="{colour}"/>'
            f'<circle cx="{x_after:.1f}" cy="{y2:.1f}" r="{radius}" fill="{colour}"/></g>'
        )
    if labelled:
        order = sorted(range(len(drawn)), key=lambda i: -float(drawn[i].after))
        wanted = [y_of(drawn[i].after) + 4 for i in order]
        placed = _spread(wanted, 12, TOP + 4, base)
        for i, y in zip(order, placed, strict=True):
            line = drawn[i]
            colour = COLOURS.get(line.kind, "#6b7280")
            out.append(
                f'<text x="{x_after + 9:.1f}" y="{y:.1f}" fill="{colour}">'
                f"{escape(line.label)}</text>"
            )
    # Legend, under the x labels: a swatch of each kind present, then its text.
    for kind, (x, row_y) in zip(kinds, legend_at, strict=True):
        y = base + AXIS_SPACE + row_y
        colour = COLOURS.get(kind, "#6b7280")
        dash = f' stroke-dasharray="{DASHES[kind]}"' if kind in DASHES else ""
        out.append(
            f'<line x1="{x}" y1="{y - 4}" x2="{x + 22}" y2="{y - 4}" stroke="{colour}"'
            f' stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{x + 28}" y="{y}" fill="#111">{escape(legend[kind])}</text>')
    out.append("</svg>")
    return "".join(out)
