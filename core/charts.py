"""Tiny server-rendered SVG charts: no JavaScript, no chart library, nothing downloaded.

Three kinds, each drawn as inline SVG with a <title> and <desc> for screen readers:
- ``bar_chart_svg``: horizontal stacked bars on one scale (seated / free / waiting of a university;
  with a single series it is a plain horizontal bar chart);
- ``share_bars_svg``: each bar is its own whole, split into shares (invitations by state; refunds
  against forfeits in learners and in rupees, which no common scale could show together);
- ``column_chart_svg``: one column per day (or week), e.g. nominations submitted.
Pages always put the same numbers in a table beside the chart; the chart is the picture, the table
is the record. Only presentation attributes are used (no style=""), so the strict
Content-Security-Policy holds. Charts are drawn left to right in Urdu pages too (direction="ltr"):
a time axis and bar lengths read the same way in both languages, the labels stay translated.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str  # a CSS colour, e.g. "#0b5d3b"


@dataclass(frozen=True)
class Bar:
    label: str
    values: dict[str, int]  # series key -> value, stacked in the order of the chart's series
    note: str = ""  # written after the bar, e.g. "412 of 468"


LABEL_WIDTH_MIN, LABEL_WIDTH_MAX, CHAR_WIDTH = 60, 320, 7  # the label column fits the longest label
BAR_WIDTH = 420
NOTE_WIDTH = 130
ROW_HEIGHT = 22
BAR_HEIGHT = 14
LEGEND_HEIGHT = 28


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def bar_chart_svg(
    *, chart_id: str, title: str, description: str, series: Sequence[Series], bars: Sequence[Bar]
) -> SafeString:
    """An inline <svg> of stacked horizontal bars, all on one scale (the largest bar's total).

    ``chart_id`` must be unique on the page (it names the <title> and <desc> elements).
    """
    longest = max((len(bar.label) for bar in bars), default=0)
    label_width = min(max(CHAR_WIDTH * longest + 12, LABEL_WIDTH_MIN), LABEL_WIDTH_MAX)
    width = label_width + BAR_WIDTH + NOTE_WIDTH
    height = LEGEND_HEIGHT + ROW_HEIGHT * max(len(bars), 1)
    scale_max = max((sum(max(bar.values.get(s.key, 0), 0) for s in series) for bar in bars), default=0) or 1
    parts = [_svg_open(chart_id=chart_id, title=title, description=description, width=width, height=height)]
    parts += _legend(series, x=label_width)[0]
    for row, bar in enumerate(bars):
        y = LEGEND_HEIGHT + row * ROW_HEIGHT
        parts.append(
            format_html(
                '<g><text x="{lx}" y="{ty}" text-anchor="end" fill="{ink}">{label}</text>',
                lx=label_width - 8,
                ty=y + BAR_HEIGHT - 2,
                ink=INK,
                label=bar.label,
            )
        )
        segments, drawn = _segments(
            bar,
            series,
            x=label_width,
            y=y,
            unit=BAR_WIDTH / scale_max,
            title=lambda s, value: f"{bar.label}: {s.label} {value:,}",  # noqa: B023 - called at once
        )
        parts += segments
        parts.append(
            format_html(
                '<text x="{nx}" y="{ty}" fill="{muted}">{note}</text></g>',
                nx=_number(label_width + drawn + 6),
                ty=y + BAR_HEIGHT - 2,
                muted=MUTED,
                note=bar.note,
            )
        )
    return _join(parts)


# Pieces shared by the builders -----------------------------------------------------------------------

INK, MUTED, GRID = "#1b1f23", "#57606a", "#d0d7de"
LEGEND_LINE = 18


def count_text(value: int) -> str:
    """A whole number written as the active language writes it (24,000), for labels inside a chart."""
    return number_format(value, force_grouping=True)


def _svg_open(*, chart_id: str, title: str, description: str, width: float, height: float) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {w} {h}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" direction="ltr" aria-labelledby="{id}-title {id}-desc" font-size="12" '
        'font-family="system-ui, sans-serif">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>',
        w=_number(width),
        h=_number(height),
        id=chart_id,
        title=title,
        desc=description,
    )


def _join(parts: list[SafeString]) -> SafeString:
    parts.append(SafeString("</svg>"))
    # Every piece is already a SafeString whose text was escaped by format_html.
    return format_html_join("", "{}", ((part,) for part in parts))


def _segments(bar: Bar, series: Sequence[Series], *, x: float, y: float, unit: float, title) -> tuple[list, float]:
    """The coloured pieces of one stacked bar from ``x``, ``unit`` wide per 1 of value, each with
    ``title(series, value)`` as its tooltip; returns them and the width they take."""
    parts, drawn = [], 0.0
    for s in series:
        value = max(bar.values.get(s.key, 0), 0)
        if not value:
            continue
        w = unit * value
        parts.append(
            format_html(
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"><title>{t}</title></rect>',
                x=_number(x + drawn),
                y=y,
                w=_number(w),
                h=BAR_HEIGHT,
                c=s.colour,
                t=title(s, value),
            )
        )
        drawn += w
    return parts, drawn


def isolate(text: str) -> str:
    """``text`` as a bidi-isolated run (FSI … PDI), for labels mixing digits and Urdu words.

    The charts are laid out left to right; isolating a label lets "60 میں سے 5" read right to
    left inside it, as in the page around it, while English labels are unchanged.
    """
    return f"\u2068{text}\u2069"


def _legend(series: Sequence[Series], *, x: float, right: float = 0) -> tuple[list[SafeString], int]:
    """The legend's swatches and labels from ``x``, starting a new line before passing ``right``
    (0: never), so a long translated label is not cut off. Returns the parts and the lines used."""
    parts, start, y = [], x, 6
    for s in series:
        width = 16 + 8 * len(s.label) + 16
        if right and x > start and x + width - 16 > right:
            x, y = start, y + LEGEND_LINE
        parts.append(
            format_html(
                '<rect x="{x}" y="{y}" width="12" height="12" fill="{c}"></rect>'
                '<text x="{tx}" y="{ty}" fill="{ink}">{label}</text>',
                x=_number(x),
                y=y,
                tx=_number(x + 16),
                ty=y + 10,
                c=s.colour,
                ink=INK,
                label=s.label,
            )
        )
        x += width
    return parts, (y - 6) // LEGEND_LINE + 1


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "0 %"


def share_bars_svg(
    *, chart_id: str, title: str, description: str, series: Sequence[Series], bars: Sequence[Bar]
) -> SafeString:
    """An inline <svg> of full-width bars, each split into the shares of its own total.

    For wholes that cannot share a scale (learners and rupees) or where the split is the point
    (how many invitations went out). A bar whose total is 0 is drawn as an empty outline, so
    "nothing yet" still shows. Each share's <title> gives its number and percentage.
    """
    longest = max((len(bar.label) for bar in bars), default=0)
    label_width = min(max(CHAR_WIDTH * longest + 12, LABEL_WIDTH_MIN), LABEL_WIDTH_MAX)
    width = label_width + BAR_WIDTH + NOTE_WIDTH
    legend, lines = _legend(series, x=label_width, right=width)
    top = LEGEND_HEIGHT + LEGEND_LINE * (lines - 1)
    height = top + ROW_HEIGHT * max(len(bars), 1)
    parts = [_svg_open(chart_id=chart_id, title=title, description=description, width=width, height=height)]
    parts += legend
    for row, bar in enumerate(bars):
        y = top + row * ROW_HEIGHT
        total = sum(max(bar.values.get(s.key, 0), 0) for s in series)
        parts.append(
            format_html(
                '<g><text x="{lx}" y="{ty}" text-anchor="end" fill="{ink}">{label}</text>'
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" stroke="{grid}"></rect>',
                lx=label_width - 8,
                ty=y + BAR_HEIGHT - 2,
                ink=INK,
                label=bar.label,
                x=label_width,
                y=y,
                w=BAR_WIDTH,
                h=BAR_HEIGHT,
                grid=GRID,
            )
        )
        parts += _segments(
            bar,
            series,
            x=label_width,
            y=y,
            unit=BAR_WIDTH / (total or 1),  # a total of 0 draws no piece: every value is 0
            title=lambda s, value: f"{bar.label}: {s.label} {count_text(value)} ({_percent(value, total)})",  # noqa: B023
        )[0]
        parts.append(
            format_html(
                '<text x="{nx}" y="{ty}" fill="{muted}">{note}</text></g>',
                nx=label_width + BAR_WIDTH + 6,
                ty=y + BAR_HEIGHT - 2,
                muted=MUTED,
                note=bar.note,
            )
        )
    return _join(parts)


@dataclass(frozen=True)
class Column:
    label: str  # under the axis, kept short: "9 Sep"
    value: int
    title: str = ""  # the column's tooltip, e.g. "9 September 2021: 12"; the label and value when empty


PLOT_WIDTH, PLOT_HEIGHT = 600, 160
AXIS_WIDTH = 56  # the value axis' numbers, left of the plot
AXIS_LABELS = 6  # at most this many labels under the columns, evenly spread
TOP, BOTTOM = 12, 30
COLUMN_WIDTH_MAX = 48  # a few days are drawn as columns, not as walls


def column_chart_svg(
    *, chart_id: str, title: str, description: str, columns: Sequence[Column], colour: str
) -> SafeString:
    """An inline <svg> of vertical columns on one scale from 0, e.g. one per day.

    The plot is always PLOT_WIDTH wide, so many days make thin columns rather than a wide page.
    The value axis marks 0 and the largest column; at most AXIS_LABELS column labels are written
    (the first, then every n-th), so they never overlap. Every column has a <title>.
    """
    width = AXIS_WIDTH + PLOT_WIDTH + 12
    height = TOP + PLOT_HEIGHT + BOTTOM
    base = TOP + PLOT_HEIGHT
    top_value = max((max(column.value, 0) for column in columns), default=0)
    scale_max = top_value or 1
    step = PLOT_WIDTH / max(len(columns), 1)
    gap = step * 0.2 if step >= 5 else 0
    every = max(1, math.ceil(len(columns) / AXIS_LABELS))
    parts = [_svg_open(chart_id=chart_id, title=title, description=description, width=width, height=height)]
    parts.append(
        format_html(
            '<line x1="{x0}" y1="{base}" x2="{x1}" y2="{base}" stroke="{muted}"></line>'
            '<line x1="{x0}" y1="{top}" x2="{x1}" y2="{top}" stroke="{grid}"></line>'
            '<text x="{ax}" y="{base}" text-anchor="end" fill="{muted}">{zero}</text>'
            '<text x="{ax}" y="{top_text}" text-anchor="end" fill="{muted}">{top_label}</text>',
            x0=AXIS_WIDTH,
            x1=AXIS_WIDTH + PLOT_WIDTH,
            base=base,
            top=TOP,
            top_text=TOP + 4,
            ax=AXIS_WIDTH - 6,
            muted=MUTED,
            grid=GRID,
            zero=count_text(0),
            top_label=count_text(top_value),
        )
    )
    for index, column in enumerate(columns):
        x = AXIS_WIDTH + index * step
        value = max(column.value, 0)
        h = PLOT_HEIGHT * value / scale_max
        column_width = min(max(step - gap, 0.5), COLUMN_WIDTH_MAX)
        parts.append(
            format_html(
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"><title>{t}</title></rect>',
                x=_number(x + (step - column_width) / 2),
                y=_number(base - h),
                w=_number(column_width),
                h=_number(h),
                c=colour,
                t=column.title or f"{column.label}: {count_text(value)}",
            )
        )
        if index % every == 0:
            parts.append(
                format_html(
                    '<text x="{x}" y="{y}" text-anchor="middle" fill="{muted}">{label}</text>',
                    x=_number(x + step / 2),
                    y=base + 18,
                    muted=MUTED,
                    label=column.label,
                )
            )
    return _join(parts)


__all__ = ["Bar", "Column", "Series", "bar_chart_svg", "column_chart_svg", "count_text", "isolate", "share_bars_svg"]
