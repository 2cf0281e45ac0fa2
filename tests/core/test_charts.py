"""The SVG chart builders: what a reader of the picture gets (sizes in proportion, titles, labels)."""

import xml.etree.ElementTree as ET

from django.utils import translation

from core.charts import (
    AXIS_LABELS,
    BAR_WIDTH,
    PLOT_HEIGHT,
    Bar,
    Column,
    Series,
    bar_chart_svg,
    column_chart_svg,
    share_bars_svg,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
SERIES = [Series("a", "Sent", "#0b5d3b"), Series("b", "Failed", "#a40e26")]


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 -- our own builders' output, not a file from outside


def filled_rects(root: ET.Element, colour: str) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{{{NS['svg']}}}rect") if rect.get("fill") == colour]


def rect_title(rect: ET.Element) -> str:
    return rect.find("svg:title", NS).text


def test_every_chart_is_an_image_named_by_its_title_and_description():
    charts = [
        bar_chart_svg(chart_id="c1", title="T1", description="D1", series=SERIES, bars=[Bar("x", {"a": 1})]),
        share_bars_svg(chart_id="c2", title="T2", description="D2", series=SERIES, bars=[Bar("x", {"a": 1})]),
        column_chart_svg(chart_id="c3", title="T3", description="D3", columns=[Column("1 Sep", 1)], colour="#000"),
    ]
    for n, svg in enumerate(charts, start=1):
        root = parse(svg)
        assert root.get("role") == "img" and root.get("direction") == "ltr"
        assert root.get("aria-labelledby") == f"c{n}-title c{n}-desc"
        assert root.find("svg:title", NS).get("id") == f"c{n}-title" and root.find("svg:title", NS).text == f"T{n}"
        assert root.find("svg:desc", NS).text == f"D{n}"
        assert 'style="' not in str(svg)  # the Content-Security-Policy allows no inline style


def test_labels_and_titles_are_escaped():
    svg = share_bars_svg(
        chart_id="x", title="<script>", description="a & b", series=SERIES, bars=[Bar("<b>U</b>", {"a": 2})]
    )
    assert "<script>" not in str(svg) and "&lt;script&gt;" in str(svg)
    assert parse(svg).find("svg:desc", NS).text == "a & b"


def test_a_single_series_bar_chart_is_a_plain_horizontal_bar_chart_on_one_scale():
    root = parse(
        bar_chart_svg(
            chart_id="h",
            title="t",
            description="d",
            series=[SERIES[0]],
            bars=[Bar("big", {"a": 400}), Bar("half", {"a": 200}), Bar("none", {"a": 0})],
        )
    )
    bars = filled_rects(root, "#0b5d3b")[1:]  # the first is the legend's swatch
    assert [float(rect.get("width")) for rect in bars] == [BAR_WIDTH, BAR_WIDTH / 2]
    assert [rect_title(rect) for rect in bars] == ["big: Sent 400", "half: Sent 200"]


def test_share_bars_split_each_bar_by_its_own_total():
    root = parse(
        share_bars_svg(
            chart_id="s",
            title="t",
            description="d",
            series=SERIES,
            bars=[
                Bar("Learners", {"a": 3, "b": 1}, note="4"),
                Bar("Rupees", {"a": 4_000, "b": 12_000}, note="16,000"),
                Bar("Nothing yet", {}, note="0"),
            ],
        )
    )
    sent = filled_rects(root, "#0b5d3b")[1:]
    failed = filled_rects(root, "#a40e26")[1:]
    # 3 of 4 learners and 4,000 of 16,000 rupees: each bar fills the full width, shared out.
    assert [float(rect.get("width")) for rect in sent] == [BAR_WIDTH * 3 / 4, BAR_WIDTH / 4]
    assert [float(rect.get("width")) for rect in failed] == [BAR_WIDTH / 4, BAR_WIDTH * 3 / 4]
    assert rect_title(failed[1]) == "Rupees: Failed 12,000 (75 %)"
    # The empty bar is still there, as an outline with its note, and has no shares.
    outlines = [rect for rect in root.iter(f"{{{NS['svg']}}}rect") if rect.get("fill") == "none"]
    assert len(outlines) == 3
    texts = [text.text for text in root.iter(f"{{{NS['svg']}}}text")]
    assert "Nothing yet" in texts and "16,000" in texts


def test_columns_rise_in_proportion_from_zero_with_a_few_readable_labels():
    columns = [Column(f"{day} Sep", value) for day, value in zip(range(1, 31), [10, 5, 0] * 10, strict=True)]
    root = parse(column_chart_svg(chart_id="d", title="t", description="d", columns=columns, colour="#0550ae"))
    rects = filled_rects(root, "#0550ae")
    assert len(rects) == 30
    assert [float(rect.get("height")) for rect in rects[:3]] == [PLOT_HEIGHT, PLOT_HEIGHT / 2, 0]
    assert rect_title(rects[1]) == "2 Sep: 5"
    labels = [text.text for text in root.iter(f"{{{NS['svg']}}}text") if text.get("text-anchor") == "middle"]
    assert labels[0] == "1 Sep" and len(labels) <= AXIS_LABELS
    assert [text.text for text in root.iter(f"{{{NS['svg']}}}text") if text.get("text-anchor") == "end"] == ["0", "10"]


def test_numbers_in_a_chart_are_written_as_the_active_language_writes_them():
    columns = [Column("a", 24_000, ""), Column("b", 1_200, "b: custom")]
    for language in ("en", "ur"):
        with translation.override(language):
            root = parse(column_chart_svg(chart_id="n", title="t", description="d", columns=columns, colour="#000"))
        rects = filled_rects(root, "#000")
        assert rect_title(rects[0]) == "a: 24,000" and rect_title(rects[1]) == "b: custom"
        assert "24,000" in [text.text for text in root.iter(f"{{{NS['svg']}}}text")]


def test_an_empty_chart_is_still_a_valid_picture():
    for svg in (
        column_chart_svg(chart_id="e", title="t", description="d", columns=[], colour="#000"),
        share_bars_svg(chart_id="e", title="t", description="d", series=SERIES, bars=[]),
    ):
        assert parse(svg).get("role") == "img"


def test_a_legend_too_long_for_one_line_wraps_inside_the_picture():
    series = [Series(f"s{n}", "دوبارہ کوشش کا منتظر", f"#00000{n}") for n in range(5)]
    svg = share_bars_svg(chart_id="w", title="t", description="d", series=series, bars=[Bar("x", {"s0": 1})])
    root = parse(svg)
    width = float(root.get("viewBox").split()[2])
    swatches = [rect for rect in root.iter(f"{{{NS['svg']}}}rect") if rect.get("width") == "12"]
    assert len({rect.get("y") for rect in swatches}) > 1  # more than one line
    assert all(float(rect.get("x")) + 12 <= width for rect in swatches)
    bar = filled_rects(root, "#000000")[-1]
    assert float(bar.get("y")) > max(float(rect.get("y")) for rect in swatches)  # the bars start below it
