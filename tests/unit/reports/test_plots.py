"""The paired plot: well-formed SVG, no inline style, everything inside the drawing, readable
with 1 line, with 60 lines and with a tenfold rise; round ticks; labels kept apart."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from decimal import Decimal
from itertools import pairwise

import pytest

from reports.plots import MAX_LABELLED, PairedLine, nice_ticks, paired_plot

NS = {"svg": "http://www.w3.org/2000/svg"}


def draw(lines, **kw) -> ET.Element:
    svg = paired_plot(
        lines,
        plot_id=kw.pop("plot_id", "p"),
        title="SUVmax of the liver index lesions",
        description="Paired lesions",
        before_label="IV",
        after_label="IAH",
        axis_label="SUVmax",
        legend={"higher": "Higher after IAH", "lower": "Not higher after IAH"},
        empty_text="No lesion measured on both scans yet.",
        **kw,
    )
    assert "style=" not in svg
    return ET.fromstring(svg)


def line(before, after, label="L1") -> PairedLine:
    kind = "higher" if after > before else "lower"
    return PairedLine(Decimal(before), Decimal(after), kind, label, f"{label}: {before} → {after}")


def inside(root: ET.Element) -> None:
    """Every coordinate lies within the drawing: nothing is cut at its edge."""
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    for element in root.iter():
        for name, limit in (("x", width), ("x1", width), ("x2", width), ("cx", width)):
            if element.get(name) is not None:
                assert 0 <= float(element.get(name)) <= limit, (element.tag, name)
        for name, limit in (("y", height), ("y1", height), ("y2", height), ("cy", height)):
            if element.get(name) is not None:
                assert 0 <= float(element.get(name)) <= limit, (element.tag, name)


def lesion_groups(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{{{NS['svg']}}}g") if "line" in g.get("class", "")]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{{{NS['svg']}}}text")]


@pytest.mark.parametrize(
    ("high", "ticks"),
    [
        (1, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (57, [0, 20, 40, 60]),
        (100, [0, 20, 40, 60, 80, 100]),
        (127, [0, 50, 100, 150]),
        (8.3, [0, 2, 4, 6, 8, 10]),
        (0.04, [0, 0.01, 0.02, 0.03, 0.04]),
    ],
)
def test_the_y_axis_has_round_ticks_from_zero_up_to_the_highest_value(high, ticks):
    assert nice_ticks(high) == ticks


def test_one_lesion_is_drawn_with_its_label_and_an_accessible_name():
    root = draw([line("19.43", "43.34")], plot_id="plot-1")
    inside(root)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "plot-1-title plot-1-desc"
    assert root.find("svg:title", NS).text == "SUVmax of the liver index lesions"
    (group,) = lesion_groups(root)
    assert group.find("svg:title", NS).text == "L1: 19.43 → 43.34"
    assert "L1" in texts(root) and "IV" in texts(root) and "IAH" in texts(root)
    assert "Higher after IAH" in texts(root) and "Not higher after IAH" not in texts(root)


def test_sixty_lesions_are_sixty_lines_without_labels_inside_the_drawing():
    rng = random.Random(3)
    lines = [
        line(f"{rng.uniform(5, 60):.2f}", f"{rng.uniform(4, 130):.2f}", f"L{n}") for n in range(60)
    ]
    root = draw(lines)
    inside(root)
    assert len(lesion_groups(root)) == 60
    assert not any(t.startswith("L") for t in texts(root))
    assert {"Higher after IAH", "Not higher after IAH"} <= set(texts(root))


def test_a_tenfold_rise_stays_on_the_axis_with_both_ends_apart():
    root = draw([line("5.1", "51.0"), line("12.0", "13.5", "L2")])
    inside(root)
    ticks = [float(t) for t in texts(root) if t.replace(".", "").isdigit()]
    assert max(ticks) >= 51 and min(ticks) == 0
    first = lesion_groups(root)[0].find("svg:line", NS)
    low, high = float(first.get("y1")), float(first.get("y2"))
    assert low - high > 150  # the rise spans most of the plot's height


def test_labels_of_lines_ending_together_are_pushed_apart():
    root = draw([line("10", "40.0", f"L{n}") for n in range(1, MAX_LABELLED + 1)])
    inside(root)
    ys = sorted(
        float(t.get("y")) for t in root.iter(f"{{{NS['svg']}}}text") if (t.text or "")[:1] == "L"
    )
    assert len(ys) == MAX_LABELLED
    assert all(b - a >= 11.9 for a, b in pairwise(ys))


def test_text_is_escaped_and_an_empty_plot_says_so():
    root = draw([PairedLine(Decimal(1), Decimal(2), "higher", "<b>L1</b>", "a & b")])
    assert "<b>L1</b>" in texts(root)  # escaped in the markup, read back as text
    empty = draw([])
    assert "No lesion measured on both scans yet." in texts(empty)
    assert not lesion_groups(empty)


def test_a_legend_too_long_for_one_row_wraps_inside_the_drawing():
    svg = paired_plot(
        [line("10", "20"), line("20", "10", "L2")],
        plot_id="p",
        title="t",
        description="d",
        before_label="IV",
        after_label="IAH",
        axis_label="SUVmax",
        legend={
            "higher": "Captation plus élevée après injection intra-artérielle hépatique (1)",
            "lower": "Captation non plus élevée après injection intra-artérielle (1)",
        },
    )
    root = ET.fromstring(svg)
    inside(root)
    legend_y = [float(t.get("y")) for t in root.iter(f"{{{NS['svg']}}}text") if "Capt" in t.text]
    assert len(legend_y) == 2 and legend_y[1] > legend_y[0]
