"""The pack's funnel plot: limits drawn where they are given, positions in shape, focus named, gaps honest."""

from __future__ import annotations

import math
import random
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses only this module's own output

import pytest
from markupsafe import Markup

from probation_evidence.packs.charts.funnel import FunnelLimit, FunnelPoint, funnel_chart, funnel_summary
from probation_evidence.packs.figures import funnel_table
from probation_evidence.packs.render import _environment
from tests.svg_reading import NS, elements, parse, texts

HOSTILE = '<script>alert(1)</script> & "x"'
PROVIDER, OTHER = "#1d4f91", "#6f777b"
TARGET = 0.2

POINTS = [
    FunnelPoint("N07", "N07 North West", 400, 0.30, "worse (99.8%)", is_focus=True),
    FunnelPoint("N01", "N01 North East", 100, 0.22, "within limits"),
    FunnelPoint("N02", "N02 Yorkshire", 250, 0.12, "better (95%)"),
    FunnelPoint("N03", "N03 Wales", 600, 0.26, "worse (95%)"),
    FunnelPoint("N04", "N04 Midlands", 800, 0.10, "better (99.8%)"),
    FunnelPoint("N05", "N05 East", 1000, 0.19, "within limits"),
    FunnelPoint("N06", "N06 South West", 900, 0.35, "above (99.8%)"),
]


def limit(n: float) -> FunnelLimit:
    """Binomial limits around the target (inputs for the chart, not results it computes)."""
    se = math.sqrt(TARGET * (1 - TARGET) / n)
    return FunnelLimit(n, TARGET - 1.96 * se, TARGET + 1.96 * se, TARGET - 3.09 * se, TARGET + 3.09 * se)


LIMITS = [limit(n) for n in (100, 200, 400, 700, 1000)]


def funnel(points=POINTS, limits=LIMITS, chart_id: str = "f1", **kw) -> Markup:
    options = dict(target=TARGET, unit="%", polarity="down", chart_id=chart_id, title="Stress share of absence")
    return funnel_chart(points, limits, **{**options, **kw})


def table_html(title: str, unit: str, points=POINTS) -> Markup:
    """The funnel's numbers as the pack shows them: its DataTable through the pack's data_table macro."""
    macro = _environment().get_template("data_table.html.j2").module.data_table
    return macro(funnel_table(title, unit, points))


def desc(root: ET.Element) -> str:
    return root.find(f"{NS}desc").text


def number(text: str) -> float:
    return float(text.replace("\u2212", "-").rstrip("%"))


def axes(root: ET.Element) -> tuple:
    """Data-to-page maps rebuilt from the printed tick labels alone (x from the first and last tick)."""
    ticks = elements(root, "text", "chart-tick")
    x_ticks = [(float(t.text.replace(",", "")), float(t.get("x"))) for t in ticks if t.get("text-anchor") == "middle"]
    y_ticks = [(number(t.text) / 100, float(t.get("y")) - 4) for t in ticks if t.get("text-anchor") == "end"]
    is_log = any("log scale" in t for t in texts(root, "chart-axis-label"))
    fx = math.log10 if is_log else float
    (v0, x0), (v1, x1) = x_ticks[0], x_ticks[-1]
    (w0, y0), (w1, y1) = y_ticks[0], y_ticks[-1]

    def to_x(v: float) -> float:
        return x0 + (fx(v) - fx(v0)) / (fx(v1) - fx(v0)) * (x1 - x0)

    def to_y(v: float) -> float:
        return y0 + (v - w0) / (w1 - w0) * (y1 - y0)

    return to_x, to_y, x_ticks, is_log


def vertices(line: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in line.get("points").split()]


def point_marker(root: ET.Element, label: str) -> ET.Element:
    return next(p for p in elements(root, "path", "chart-point") if p.find(f"{NS}title").text.startswith(label))


def marker_centre(path: ET.Element) -> tuple[float, float]:
    x, y = re.match(r"M(-?[\d.]+) (-?[\d.]+)", path.get("d")).groups()
    return float(x), float(y)


def outline(path: ET.Element) -> tuple[str, str]:
    """A marker's shape without its position (moves after the start are relative), and its fill."""
    return re.sub(r"^M-?[\d.]+ -?[\d.]+", "", path.get("d")), path.get("fill")


def size(path: ET.Element) -> float:
    return max(abs(float(n)) for n in re.findall(r"-?[\d.]+", outline(path)[0]))


# ---------------------------------------------------------------------------------------------------
# Structure and accessibility
# ---------------------------------------------------------------------------------------------------


def test_svg_parses_and_is_labelled_by_its_title_and_summary() -> None:
    svg = funnel(chart_id="fun-a")
    assert isinstance(svg, Markup)
    root = parse(svg)
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "fun-a-title fun-a-desc"
    assert re.fullmatch(r"0 0 640 \d+(\.\d+)?", root.get("viewBox")) and root.get("width") == "100%"
    assert root[0].text == "Stress share of absence"
    assert desc(root) == funnel_summary(POINTS, target=TARGET, unit="%", adjusted=False, polarity="down")
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert ids and all(i.startswith("fun-a-") for i in ids) and len(ids) == len(set(ids))
    with pytest.raises(ValueError, match="chart_id"):
        funnel(chart_id="bad id")


def test_summary_counts_positions_and_names_the_focus_and_the_far_outliers() -> None:
    assert funnel_summary(POINTS, target=TARGET, unit="%", adjusted=False, polarity="down") == (
        "7 units, target 20.0%: 3 outside the 99.8% limits, 2 outside the 95% limits only, 2 within the limits. "
        "Lower is better. N07 North West 30.0% (denominator 400), worse (99.8%). Others outside the 99.8% limits: "
        "N04 Midlands 10.0% (denominator 800), N06 South West 35.0% (denominator 900). "
        "Limits not adjusted for overdispersion."
    )
    with_gap = [*POINTS[1:3], FunnelPoint("N09", "N09", 0, 0.1, "within limits")]
    assert funnel_summary(with_gap, target=TARGET, unit="%", adjusted=True) == (
        "2 units, target 20.0%: 0 outside the 99.8% limits, 1 outside the 95% limits only, 1 within the limits. "
        "1 not plotted (no value or no denominator). Limits adjusted for overdispersion."
    )


# ---------------------------------------------------------------------------------------------------
# Limits, target and scale
# ---------------------------------------------------------------------------------------------------


def test_limit_lines_are_drawn_through_the_given_limits() -> None:
    root = parse(funnel())
    to_x, to_y, _, is_log = axes(root)
    assert not is_log, "100 to 1,000 is a tenfold range: linear"
    for field in ("lower_95", "upper_95", "lower_998", "upper_998"):
        (line,) = elements(root, "polyline", f"funnel-{field.replace('_', '-')}")
        expected = [(to_x(lim.denominator), to_y(getattr(lim, field))) for lim in LIMITS]
        assert [c for v in vertices(line) for c in v] == pytest.approx([c for v in expected for c in v], abs=0.03)
    assert elements(root, "g", "funnel-limits")[0].get("clip-path") == "url(#f1-plot)"


def test_limit_styles_differ_and_the_target_is_solid_and_labelled() -> None:
    root = parse(funnel())
    dash_95 = {e.get("stroke-dasharray") for e in elements(root, "polyline", "funnel-95")}
    dash_998 = {e.get("stroke-dasharray") for e in elements(root, "polyline", "funnel-998")}
    assert len(dash_95) == len(dash_998) == 1 and dash_95 != dash_998 and None not in dash_95 | dash_998
    (target,) = elements(root, "line", "funnel-target")
    assert target.get("stroke-dasharray") is None
    _, to_y, _, _ = axes(root)
    assert float(target.get("y1")) == pytest.approx(to_y(TARGET), abs=0.03)
    assert texts(root, "funnel-target-label") == ["Target 20.0%"]
    root = parse(funnel(target_label="National"))
    assert texts(root, "funnel-target-label") == ["National 20.0%"]
    assert {"95% limits", "99.8% limits", "National"} <= set(texts(root, "chart-legend"))


def test_a_missing_limit_breaks_its_line() -> None:
    limits = [*LIMITS[:2], FunnelLimit(400, None, None, 0.1, 0.3), *LIMITS[3:]]
    root = parse(funnel(limits=limits))
    assert [len(vertices(e)) for e in elements(root, "polyline", "funnel-upper-95")] == [2, 2]
    assert [len(vertices(e)) for e in elements(root, "polyline", "funnel-upper-998")] == [5]


def test_a_wide_range_of_denominators_is_shown_on_a_log_scale() -> None:
    points = [FunnelPoint(f"P{n}", f"P{n}", n, 0.2, "within limits") for n in (10, 40, 300, 5000)]
    root = parse(funnel(points=points, limits=[limit(n) for n in (10, 100, 1000, 5000)]))
    to_x, _, x_ticks, is_log = axes(root)
    assert is_log and "Denominator (log scale)" in texts(root, "chart-axis-label")
    positions = dict(x_ticks)
    assert positions[100] - positions[10] == pytest.approx(positions[1000] - positions[100], abs=0.02)
    for p in points:
        assert marker_centre(point_marker(root, p.label))[0] == pytest.approx(to_x(p.denominator), abs=0.03)


def test_a_narrow_range_stays_linear() -> None:
    points = [FunnelPoint(f"P{n}", f"P{n}", n, 0.2, "within limits") for n in (50, 400, 1000)]  # 20 times
    root = parse(funnel(points=points))
    to_x, _, x_ticks, is_log = axes(root)
    assert not is_log and texts(root, "chart-axis-label") == ["Denominator"]
    steps = {round(b[1] - a[1], 2) for a, b in zip(x_ticks, x_ticks[1:], strict=False)}
    assert len(steps) == 1, "linear ticks are evenly spaced"
    assert marker_centre(point_marker(root, "P400"))[0] == pytest.approx(to_x(400), abs=0.03)


def test_points_are_placed_at_their_denominator_and_value() -> None:
    root = parse(funnel())
    to_x, to_y, _, _ = axes(root)
    for p in POINTS:
        centre = marker_centre(point_marker(root, p.label))
        assert centre == pytest.approx((to_x(p.denominator), to_y(p.value)), abs=0.03)


# ---------------------------------------------------------------------------------------------------
# Points: focus and position
# ---------------------------------------------------------------------------------------------------


def test_focus_point_is_larger_in_the_provider_colour_and_labelled() -> None:
    root = parse(funnel())
    focus = point_marker(root, "N07 North West")
    others = [point_marker(root, p.label) for p in POINTS if not p.is_focus]
    assert focus.get("stroke") == PROVIDER and {o.get("stroke") for o in others} == {OTHER}
    assert size(focus) > max(size(o) for o in others)
    assert texts(root, "chart-focus-label") == ["N07 North West"]
    assert "N07 North West" in texts(root, "chart-legend") and "Other units" in texts(root, "chart-legend")
    assert elements(root, "path", "chart-point")[-1] is focus, "the focus is drawn last, on top"


def test_many_focus_points_get_labels_that_do_not_overlap() -> None:
    points = [FunnelPoint(f"D{i}", f"PDU {i}", 500 + i, 0.2, "within limits", is_focus=True) for i in range(4)]
    root = parse(funnel(points=[*points, *POINTS[1:]]))
    labels = elements(root, "text", "chart-focus-label")
    assert sorted(t.text for t in labels) == ["PDU 0", "PDU 1", "PDU 2", "PDU 3"]
    assert len({t.get("y") for t in labels}) == 4, "stacked apart"
    assert "Focus units" in texts(root, "chart-legend")


def test_position_is_carried_by_shape_and_fill_not_colour_alone() -> None:
    root = parse(funnel())
    by_label = {p.label: outline(point_marker(root, p.label)) for p in POINTS if not p.is_focus}
    within, above_95, below_95 = by_label["N01 North East"], by_label["N03 Wales"], by_label["N02 Yorkshire"]
    below_998, above_998 = by_label["N04 Midlands"], by_label["N06 South West"]
    assert by_label["N05 East"] == within
    assert len({within, above_95, below_95, below_998, above_998}) == 5
    assert above_95[1] == below_95[1] == "#ffffff" and above_998[1] == below_998[1] == OTHER
    assert above_95[0] == above_998[0] and below_95[0] == below_998[0] and above_95[0] != below_95[0]
    assert "Outside 95%" in texts(root, "chart-legend")


def test_caption_says_whether_limits_are_adjusted() -> None:
    note = "Multiplicative overdispersion from the winsorised z-scores (phi = 2.1)."
    adjusted = parse(funnel(adjusted=True, method_note=note))
    (line,) = elements(adjusted, "text", "funnel-adjusted")
    assert line.text == f"Limits adjusted for overdispersion. {note}"
    plain = parse(funnel())
    assert texts(plain, "funnel-unadjusted") == ["Limits not adjusted for overdispersion."]
    long_note = parse(funnel(method_note="word " * 200))
    lines = texts(long_note, "chart-caption")
    assert len(lines) == 3 and lines[-1].endswith("\u2026") and all(len(t) <= 112 for t in lines)


# ---------------------------------------------------------------------------------------------------
# Gaps, escaping, determinism, edge cases
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "points",
    [
        pytest.param([], id="no-points"),
        pytest.param([FunnelPoint("A", "A", 0, 0.1, "within limits")], id="zero-denominator"),
        pytest.param([FunnelPoint("A", "A", 10, float("nan"), "within limits")], id="nan-value"),
    ],
)
def test_nothing_to_plot_renders_no_data(points) -> None:
    root = parse(funnel(points=points))
    assert texts(root, "chart-no-data") == ["No data"]
    assert not elements(root, None, "chart-point")
    assert desc(root).startswith("No data")


def test_points_that_cannot_be_placed_are_left_out_and_counted() -> None:
    points = [*POINTS, FunnelPoint("Z", "Z zero", 0, 0.2, "within limits"), FunnelPoint("Y", "Y", -5, 0.2, "")]
    root = parse(funnel(points=points))
    assert len(elements(root, "path", "chart-point")) == len(POINTS)
    assert "2 not plotted (no value or no denominator)." in desc(root)


def test_hostile_text_is_escaped_everywhere() -> None:
    points = [FunnelPoint(HOSTILE, HOSTILE, 100, 0.3, HOSTILE, is_focus=True), *POINTS[1:]]
    svg = funnel(
        points=points,
        title=HOSTILE,
        unit=HOSTILE,
        method_note=HOSTILE,
        target_label=HOSTILE,
        x_label=HOSTILE,
        others_label=HOSTILE,
    )
    table = table_html(HOSTILE, HOSTILE, points)
    for markup in (svg, table):
        assert "<script" not in markup and "&lt;script&gt;" in markup
    root = parse(svg)
    assert root.find(f"{NS}title").text == HOSTILE
    assert all(e.tag.startswith(NS) for e in root.iter()), "data must never create elements"
    assert HOSTILE in desc(root)
    assert texts(root, "chart-focus-label") == [HOSTILE[:27] + "\u2026"]
    cells = ET.fromstring(str(table))  # noqa: S314 - our own output
    assert cells.find("caption").text == HOSTILE
    assert cells.find("tbody/tr/th").text == f"{HOSTILE} (this provider)"


def test_output_is_byte_identical_and_independent_of_input_order() -> None:
    points, limits = POINTS[:], LIMITS[:]
    random.Random(5).shuffle(points)
    random.Random(5).shuffle(limits)
    assert points != POINTS and limits != LIMITS
    assert str(funnel()) == str(funnel())
    assert str(funnel(points=points, limits=limits)) == str(funnel())
    assert str(table_html("t", "%")) == str(table_html("t", "%"))
    assert sorted(funnel_table("t", "%", points).rows) == sorted(funnel_table("t", "%", POINTS).rows)


def test_coordinates_are_rounded_to_two_decimals() -> None:
    points = [FunnelPoint("A", "A", 1 / 3 * 1000, 1 / 7, "within limits"), *POINTS]
    numbers = re.findall(r"-?\d+\.\d+", re.sub(r"<(title|desc)>.*?</\1>", "", str(funnel(points=points)), flags=re.S))
    assert numbers and all(len(n.split(".")[1]) <= 2 for n in numbers)


@pytest.mark.parametrize(
    ("points", "limits", "target"),
    [
        pytest.param([FunnelPoint("A", "A", 50, 0.2, "within limits", True)], LIMITS, TARGET, id="one-point"),
        pytest.param(
            [FunnelPoint(c, c, 200, 0.1 * i, "within limits") for i, c in enumerate("ABC")],
            [],
            TARGET,
            id="same-denominator-no-limits",
        ),
        pytest.param(
            [FunnelPoint(c, c, 10 * (i + 1), 0.0, "within limits") for i, c in enumerate("ABC")],
            [FunnelLimit(10, 0, 0, 0, 0)],
            0.0,
            id="all-zero",
        ),
        pytest.param(
            [FunnelPoint("A", "A", 5, -3.0, "below (99.8%)"), FunnelPoint("B", "B", 9, 2.0, "above (95%)")],
            [limit(5), FunnelLimit(0, -1e9, 1e9, None, None)],
            -0.5,
            id="negative-and-wild-limits",
        ),
        pytest.param(POINTS, LIMITS, float("nan"), id="no-target"),
    ],
)
def test_edge_cases_render_finite_geometry(points, limits, target) -> None:
    text = str(funnel(points=points, limits=limits, target=target))
    assert not re.search(r"nan|inf", re.sub(r"<(title|desc)>.*?</\1>", "", text, flags=re.S), re.IGNORECASE)
    root = parse(text)
    assert len(elements(root, "path", "chart-point")) == len(points)
    numbers = [
        float(n)
        for n in re.findall(r"-?\d+(?:\.\d+)?", " ".join(e.get("points") or e.get("d") or "" for e in root.iter()))
    ]
    assert numbers and max(abs(n) for n in numbers) < 50_000, "off-plot lines are kept within sane bounds"


def test_negative_values_sit_below_the_target_and_positive_above() -> None:
    points = [FunnelPoint("A", "A", 5, -3.0, "below (99.8%)"), FunnelPoint("B", "B", 9, 2.0, "above (95%)")]
    root = parse(funnel(points=points, limits=[], target=-0.5, unit="score"))
    target_y = float(elements(root, "line", "funnel-target")[0].get("y1"))
    assert marker_centre(point_marker(root, "B"))[1] < target_y < marker_centre(point_marker(root, "A"))[1]


# ---------------------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------------------


def test_table_gives_the_numbers_with_scoped_headers() -> None:
    table = ET.fromstring(str(table_html("Stress share of absence: funnel plot of providers", "%")))  # noqa: S314
    assert table.find("caption").text == "Stress share of absence: funnel plot of providers"
    assert [th.get("scope") for th in table.find("thead").iter("th")] == ["col"] * 4
    rows = table.findall("tbody/tr")
    assert [r.find("th").get("scope") for r in rows] == ["row"] * len(POINTS)
    first = [rows[0].find("th").text, *(td.text for td in rows[0].findall("td"))]
    assert first == ["N07 North West (this provider)", "400", "30.0%", "worse (99.8%)"]
    assert [r.find("th").text for r in rows[1:3]] == ["N01 North East", "N02 Yorkshire"]
    empty = ET.fromstring(str(table_html("t", "%", [])))  # noqa: S314
    assert not empty.findall("tbody/tr"), "no unit, no row"


def test_small_fractional_denominators_get_exact_tick_labels() -> None:
    points = [FunnelPoint(c, c, d, 0.2, "within limits") for c, d in (("A", 1.48), ("B", 2.1), ("C", 2.89))]
    _, _, x_ticks, is_log = axes(parse(funnel(points=points, limits=[])))
    assert not is_log and [v for v, _ in x_ticks] == [1.0, 1.5, 2.0, 2.5, 3.0]


def test_points_may_be_any_iterable() -> None:
    assert str(funnel(points=iter(POINTS), limits=iter(LIMITS))) == str(funnel())


def test_chart_and_table_embed_unescaped_in_an_autoescaping_template() -> None:
    jinja2 = pytest.importorskip("jinja2")
    template = jinja2.Environment(autoescape=True).from_string("<figure>{{ c }}</figure>{{ t }}")
    html = template.render(c=funnel(), t=table_html("t", "%"))
    assert html.startswith('<figure><svg xmlns="http://www.w3.org/2000/svg"')
    assert '</figure><table class="data">' in html
