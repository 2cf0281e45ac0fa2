"""Tiny server-rendered SVG bar charts: no JavaScript, no chart library, nothing downloaded.

A chart is one horizontal stacked bar per row (e.g. seated / free / waiting of a university),
drawn as inline SVG with a <title> and <desc> for screen readers. Pages always put the same
numbers in a table beside the chart; the chart is the picture, the table is the record.
Only presentation attributes are used (no style=""), so the strict Content-Security-Policy holds.
"""

from collections.abc import Sequence
from dataclasses import dataclass

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
    parts: list[SafeString] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {w} {h}" width="100%" '
            'preserveAspectRatio="xMinYMin meet" direction="ltr" aria-labelledby="{id}-title {id}-desc" font-size="12" '
            'font-family="system-ui, sans-serif">'
            '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>',
            w=width,
            h=height,
            id=chart_id,
            title=title,
            desc=description,
        )
    ]
    x = label_width
    for s in series:  # the legend
        parts.append(
            format_html(
                '<rect x="{x}" y="6" width="12" height="12" fill="{c}"></rect>'
                '<text x="{tx}" y="16" fill="#1b1f23">{label}</text>',
                x=x,
                tx=x + 16,
                c=s.colour,
                label=s.label,
            )
        )
        x += 16 + 8 * len(s.label) + 16
    for row, bar in enumerate(bars):
        y = LEGEND_HEIGHT + row * ROW_HEIGHT
        parts.append(
            format_html(
                '<g><text x="{lx}" y="{ty}" text-anchor="end" fill="#1b1f23">{label}</text>',
                lx=label_width - 8,
                ty=y + BAR_HEIGHT - 2,
                label=bar.label,
            )
        )
        x_value = 0.0
        for s in series:
            value = max(bar.values.get(s.key, 0), 0)
            if value:
                w = BAR_WIDTH * value / scale_max
                parts.append(
                    format_html(
                        '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"><title>{t}</title></rect>',
                        x=_number(label_width + x_value),
                        y=y,
                        w=_number(w),
                        h=BAR_HEIGHT,
                        c=s.colour,
                        t=f"{bar.label}: {s.label} {value:,}",
                    )
                )
                x_value += w
        parts.append(
            format_html(
                '<text x="{nx}" y="{ty}" fill="#57606a">{note}</text></g>',
                nx=_number(label_width + x_value + 6),
                ty=y + BAR_HEIGHT - 2,
                note=bar.note,
            )
        )
    parts.append(SafeString("</svg>"))
    # Every piece is already a SafeString whose text was escaped by format_html.
    return format_html_join("", "{}", ((part,) for part in parts))


__all__ = ["Bar", "Series", "bar_chart_svg"]
