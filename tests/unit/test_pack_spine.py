# Over 450 lines: the spine chart's placement, shapes, polarity and gaps share one set of made rows.
"""The pack's spine chart: one row per indicator, scaled on national, honest about polarity and gaps."""

from __future__ import annotations

import dataclasses
import random
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses only this module's own output

import pytest
from markupsafe import Markup

from probation_evidence.packs.charts.spine import spine_chart
from probation_evidence.packs.charts.spine_rows import SpineRow, spine_summary
from probation_evidence.packs.figures import overview_table
from probation_evidence.packs.render import _environment
from tests.svg_reading import NS, elements, parse, texts

HOSTILE = '<script>alert(1)</script> & "x"'
BAR_LEFT, BAR_RIGHT = 334.0, 548.0  # the bar's ends in viewBox units
BAR_MID = (BAR_LEFT + BAR_RIGHT) / 2


def row(indicator_id: str = "S01", **kw) -> SpineRow:
    base = dict(
        indicator_id=indicator_id,
        label="PO vacancy rate",
        standard_id="1.2",
        unit="%",
        polarity="down",
        value=0.12,
        national_value=0.10,
        minimum=0.04,
        lower_quartile=0.08,
        upper_quartile=0.13,
        maximum=0.20,
        comparison_95="worse",
        comparison_998="similar",
    )
    return SpineRow(**{**base, **kw})


ROWS = [
    row(
        "L01",
        label="Strategic board attendance",
        standard_id="1.1",
        polarity="up",
        value=0.8,
        national_value=0.7,
        minimum=0.5,
        lower_quartile=0.6,
        upper_quartile=0.75,
        maximum=0.95,
        comparison_95="better",
        comparison_998="better",
    ),
    row("S01"),
    row("S03", label="Trainee PO share", polarity="none", value=0.3, comparison_95="not compared", comparison_998=None),
    row(
        "S05",
        label="Sickness absence days per FTE",
        unit="days",
        value=None,
        national_value=10.0,
        minimum=6.0,
        lower_quartile=8.0,
        upper_quartile=12.0,
        maximum=15.0,
        comparison_95=None,
        comparison_998=None,
        is_suppressed=True,
    ),
    row(
        "V01",
        label="Referral to start, median days",
        standard_id="1.3",
        unit="days",
        value=21.0,
        national_value=20.0,
        minimum=12.0,
        lower_quartile=17.0,
        upper_quartile=24.0,
        maximum=40.0,
        comparison_95="similar",
        comparison_998="similar",
        peer_value=22.5,
    ),
    row(
        "I02",
        label="Priority 1-2 ICT incidents per 100 staff per month",
        standard_id="1.4",
        unit="rate",
        value=None,
        comparison_95=None,
        comparison_998=None,
    ),
]


def table_html(rows=ROWS) -> Markup:
    """The overview's numbers as the pack shows them: its DataTable through the pack's data_table macro."""
    macro = _environment().get_template("data_table.html.j2").module.data_table
    return macro(overview_table([dataclasses.asdict(r) for r in rows]))


def spine(rows=ROWS, chart_id: str = "s1", **kw) -> Markup:
    return spine_chart(rows, chart_id=chart_id, title=kw.pop("title", "All indicators"), **kw)


def row_groups(root: ET.Element) -> dict[str, ET.Element]:
    """Each drawn row by its indicator id."""
    return {next(iter(texts(g, "chart-label-id"))): g for g in elements(root, "g", "spine-row")}


def marker_x(group: ET.Element) -> float:
    (point,) = elements(group, "path", "chart-point")
    return float(re.match(r"M(-?[\d.]+) ", point.get("d")).group(1))


def marker_shape(group: ET.Element) -> tuple[str, str]:
    """The marker's outline, independent of where it is drawn (moves after the start are relative), and fill."""
    (point,) = elements(group, "path", "chart-point")
    return re.sub(r"^M-?[\d.]+ -?[\d.]+", "", point.get("d")), point.get("fill")


# ---------------------------------------------------------------------------------------------------
# Structure and accessibility
# ---------------------------------------------------------------------------------------------------


def test_svg_parses_and_is_labelled_by_its_title_and_the_summary() -> None:
    svg = spine(chart_id="spine-a")
    assert isinstance(svg, Markup)
    root = parse(svg)
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "spine-a-title spine-a-desc"
    assert root.get("width") == "100%" and re.fullmatch(r"0 0 640 \d+(\.\d+)?", root.get("viewBox"))
    title, description = root[0], root[1]
    assert (title.tag, title.get("id"), title.text) == (f"{NS}title", "spine-a-title", "All indicators")
    assert (description.tag, description.get("id")) == (f"{NS}desc", "spine-a-desc")
    assert description.text == spine_summary(ROWS)


def test_ids_are_prefixed_and_invalid_chart_ids_are_rejected() -> None:
    ids = [e.get("id") for e in parse(spine(chart_id="first")).iter() if e.get("id")]
    assert ids and all(i.startswith("first-") for i in ids) and len(ids) == len(set(ids))
    for bad in ("", "a b", 'x"y', "<x>"):
        with pytest.raises(ValueError, match="chart_id"):
            spine(chart_id=bad)


def test_rows_are_grouped_by_standard_with_a_header_each() -> None:
    root = parse(spine(standard_names={"1.2": "Staff"}))
    assert texts(root, "chart-group") == ["Standard 1.1", "Standard 1.2 Staff", "Standard 1.3", "Standard 1.4"]
    assert texts(root, "chart-label-id") == ["L01", "S01", "S03", "S05", "V01", "I02"]
    group_ys = [float(e.get("y")) for e in elements(root, "text", "chart-group")]
    row_ys = {t.text: float(t.get("y")) for t in elements(root, "text", "chart-label-id")}
    assert group_ys[0] < row_ys["L01"] < group_ys[1] < row_ys["S01"] < row_ys["S05"] < group_ys[2] < row_ys["V01"]


def test_a_page_of_47_indicators_fits_the_page_width_and_height() -> None:
    many = [
        row(f"X{i:02d}", standard_id=f"1.{i % 4 + 1}", label="A fairly long indicator name " * 3) for i in range(47)
    ]
    root = parse(spine(many))
    height = float(root.get("viewBox").split()[3])
    # 640 units are drawn across ~170 mm, so 900 units are ~240 mm: one A4 page with the pack's margins.
    assert height < 900
    xs = [float(e.get(a)) for e in root.iter() for a in ("x", "x1", "x2", "cx") if e.get(a) is not None]
    assert xs and min(xs) >= 0 and max(xs) <= 640
    assert all(len(t) <= 40 for t in texts(root, "chart-label")), "names are shortened to their column"


# ---------------------------------------------------------------------------------------------------
# Scale and polarity
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("polarity", "value", "end"),
    [
        pytest.param("down", 0.04, BAR_RIGHT, id="down-lowest-is-best-right"),
        pytest.param("down", 0.20, BAR_LEFT, id="down-highest-is-worst-left"),
        pytest.param("up", 0.20, BAR_RIGHT, id="up-highest-is-best-right"),
        pytest.param("up", 0.04, BAR_LEFT, id="up-lowest-is-worst-left"),
        pytest.param("none", 0.04, BAR_LEFT, id="none-lowest-left"),
        pytest.param("none", 0.20, BAR_RIGHT, id="none-highest-right"),
    ],
)
def test_the_best_end_is_on_the_right_whatever_the_polarity(polarity: str, value: float, end: float) -> None:
    # national 0.10 is nearer the minimum (0.04) than the maximum (0.20): the maximum sets the scale.
    shown = row(polarity=polarity, value=value, minimum=0.04, maximum=0.20)
    group = row_groups(parse(spine([shown])))["S01"]
    x = marker_x(group)
    national = float(elements(group, "line", "spine-national")[0].get("x1"))
    assert national == pytest.approx(BAR_MID)
    distance = abs(x - national) / (BAR_MID - BAR_LEFT)
    expected = abs(value - 0.10) / 0.10
    assert distance == pytest.approx(expected, abs=0.01)
    assert (x > national) == (end == BAR_RIGHT)


def test_range_and_middle_half_are_drawn_about_national_and_the_peer_value_is_marked() -> None:
    group = row_groups(parse(spine()))["V01"]
    (full,) = elements(group, "rect", "spine-range")
    (iqr,) = elements(group, "rect", "spine-iqr")
    # down polarity, national 20, furthest value 40 (20 away): 12 (best) is at 60% right, 40 at the left end.
    half = BAR_MID - BAR_LEFT
    assert float(full.get("x")) == pytest.approx(BAR_LEFT, abs=0.01)
    assert float(full.get("x")) + float(full.get("width")) == pytest.approx(BAR_MID + 0.4 * half, abs=0.02)
    assert float(iqr.get("x")) == pytest.approx(BAR_MID - 0.2 * half, abs=0.02)
    assert float(iqr.get("x")) + float(iqr.get("width")) == pytest.approx(BAR_MID + 0.15 * half, abs=0.02)
    (peer,) = elements(group, "path", "spine-peer")
    assert float(peer.get("d")[1:].split()[0]) == pytest.approx(BAR_MID - 0.125 * half, abs=0.01)
    assert marker_x(group) == pytest.approx(BAR_MID - 0.05 * half, abs=0.01)


# ---------------------------------------------------------------------------------------------------
# Comparisons: shape, fill and word
# ---------------------------------------------------------------------------------------------------

OUTCOMES = [
    ("better", "better", "up", "Better (99.8%)"),
    ("better", "similar", "up", "Better (95%)"),
    ("similar", "similar", "up", "Similar"),
    ("worse", "similar", "up", "Worse (95%)"),
    ("worse", "worse", "up", "Worse (99.8%)"),
    ("not compared", None, "up", "Not compared"),
    ("better", "better", "none", "Higher (99.8%)"),
    ("worse", "similar", "none", "Lower (95%)"),
]


def test_each_comparison_has_its_own_shape_and_word() -> None:
    rows = [
        row(
            f"A{i}",
            comparison_95=c95,
            comparison_998=c998,
            polarity=polarity,
            value=0.15 if word.startswith("Higher") else 0.06,
        )
        for i, (c95, c998, polarity, word) in enumerate(OUTCOMES)
    ]
    groups = row_groups(parse(spine(rows)))
    words = [texts(groups[f"A{i}"], "chart-comparison-word") for i in range(len(OUTCOMES))]
    assert words == [[w] for *_, w in OUTCOMES]
    shapes = [marker_shape(groups[f"A{i}"]) for i in range(len(OUTCOMES))]
    assert len(set(shapes)) == len(OUTCOMES), "no two outcomes may look alike"
    filled = {w: fill != "#ffffff" for (*_, w), (_, fill) in zip(OUTCOMES, shapes, strict=True)}
    assert filled["Better (99.8%)"] and not filled["Better (95%)"]
    assert filled["Worse (99.8%)"] and not filled["Worse (95%)"]


def test_no_polarity_is_never_coloured_better_or_worse() -> None:
    root = parse(spine([row(polarity="none", value=0.15, comparison_95="better", comparison_998="better")]))
    (point,) = elements(root, "path", "chart-point")
    better = parse(spine([row(polarity="up", value=0.15, comparison_95="better", comparison_998="better")]))
    assert point.get("fill") != elements(better, "path", "chart-point")[0].get("fill")
    assert texts(root, "chart-comparison-word") == ["Higher (99.8%)"]
    assert "Higher (99.8%)" in texts(root, "chart-legend")
    assert "Higher (99.8%)" not in texts(better, "chart-legend"), "neutral markers are explained only when used"


def test_suppressed_and_missing_rows_have_no_marker_and_no_zero() -> None:
    rows = [*ROWS, row("S09", value=0.0, is_suppressed=True)]
    groups = row_groups(parse(spine(rows)))
    for indicator_id, word in (("S05", "Suppressed"), ("S09", "Suppressed"), ("I02", "No data")):
        group = groups[indicator_id]
        assert not elements(group, None, "chart-point")
        assert texts(group, "chart-comparison-word") == [word]
        assert texts(group, "chart-value") == ["\u2013"]
        assert elements(group, "rect", "spine-range"), "the spread of providers is still context"
    assert elements(groups["S01"], None, "chart-point")
    assert "2 suppressed" in spine_summary(rows)


# ---------------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------------


def test_summary_counts_outcomes_at_both_levels() -> None:
    rows = [
        row("A1", comparison_95="better", comparison_998="better"),
        row("A2", comparison_95="better", comparison_998="similar"),
        row("A3", comparison_95="worse", comparison_998="similar"),
        row("A4", comparison_95="similar", comparison_998="similar"),
        row("A5", comparison_95="not compared", comparison_998=None, standard_id="1.3"),
        row("A6", value=None, is_suppressed=True),
        row("A7", value=None),
    ]
    assert spine_summary(rows) == (
        "7 indicators across 2 standards; 5 with a value. Compared with national at 95%: 2 better, 1 similar, "
        "1 worse. At 99.8%: 1 better, 3 similar, 0 worse. 1 not compared. 1 suppressed, 1 with no data."
    )


def test_summary_with_nothing_to_say() -> None:
    assert spine_summary([]) == "No data: no indicators."
    only_gaps = [row(value=None, is_suppressed=True)]
    assert spine_summary(only_gaps) == (
        "1 indicator across 1 standard: no data (no indicator has a value); 1 suppressed."
    )


def test_no_rows_renders_no_data() -> None:
    root = parse(spine([]))
    assert texts(root, "chart-no-data") == ["No data"]
    assert not elements(root, None, "chart-point")


# ---------------------------------------------------------------------------------------------------
# Escaping and determinism
# ---------------------------------------------------------------------------------------------------


def test_hostile_text_is_escaped_and_round_trips() -> None:
    rows = [
        row(
            HOSTILE,
            label=HOSTILE,
            standard_id=HOSTILE,
            unit=HOSTILE,
            polarity=HOSTILE,
            comparison_95=HOSTILE,
            comparison_998=HOSTILE,
        )
    ]
    svg = spine_chart(rows, chart_id="h", title=HOSTILE, standard_names={HOSTILE: HOSTILE})
    table = table_html(rows)
    for markup in (svg, table):
        assert "<script" not in markup and "&lt;script&gt;" in markup
    root = parse(svg)
    assert root.find(f"{NS}title").text == HOSTILE
    assert all(e.tag.startswith(NS) for e in root.iter()), "data must never create elements"
    assert texts(root, "chart-group") == [f"Standard {HOSTILE} {HOSTILE}"]
    assert texts(root, "chart-comparison-word") == ["Not compared"], "an unknown word is not a comparison"
    parsed = ET.fromstring(str(table))  # noqa: S314 - our own output
    assert parsed.find("tbody/tr/th").text == f"{HOSTILE} {HOSTILE}"
    assert parsed.find("tbody/tr/td").text == HOSTILE


def test_output_is_byte_identical_and_independent_of_row_order() -> None:
    shuffled = ROWS[:]
    random.Random(3).shuffle(shuffled)
    assert shuffled != ROWS
    assert str(spine()) == str(spine())
    assert str(spine(shuffled)) == str(spine())
    assert str(table_html(ROWS)) == str(table_html(ROWS))
    assert sorted(overview_table(list(map(dataclasses.asdict, shuffled))).rows) == sorted(
        overview_table(list(map(dataclasses.asdict, ROWS))).rows
    )
    assert spine_summary(shuffled) == spine_summary(ROWS)


def test_coordinates_are_rounded_to_two_decimals() -> None:
    rows = [row(value=1 / 3, national_value=2 / 7, minimum=1 / 9, maximum=5 / 7, lower_quartile=None)]
    numbers = re.findall(r"-?\d+\.\d+", re.sub(r"<(title|desc)>.*?</\1>", "", str(spine(rows)), flags=re.S))
    assert numbers and all(len(n.split(".")[1]) <= 2 for n in numbers)


@pytest.mark.parametrize(
    "edge",
    [
        pytest.param(
            dict(value=0.1, national_value=0.1, minimum=0.1, lower_quartile=0.1, upper_quartile=0.1, maximum=0.1),
            id="all-providers-equal",
        ),
        pytest.param(
            dict(value=3.0, national_value=3.0, minimum=3.0, lower_quartile=None, upper_quartile=None, maximum=3.0),
            id="one-provider",
        ),
        pytest.param(dict(national_value=None), id="no-national"),
        pytest.param(
            dict(national_value=None, minimum=None, maximum=None, lower_quartile=None, upper_quartile=None),
            id="value-only",
        ),
        pytest.param(
            dict(value=0.0, national_value=0.0, minimum=0.0, lower_quartile=0.0, upper_quartile=0.0, maximum=0.0),
            id="all-zero",
        ),
        pytest.param(
            dict(
                value=-2.5,
                national_value=-1.0,
                minimum=-4.0,
                lower_quartile=-2.0,
                upper_quartile=0.5,
                maximum=1.0,
                unit="score",
            ),
            id="negative",
        ),
        pytest.param(dict(value=float("nan"), national_value=float("inf")), id="nan-and-inf"),
    ],
)
def test_edge_cases_render_finite_geometry_inside_the_bar(edge: dict) -> None:
    text = str(spine([row(**edge)]))
    assert not re.search(r"nan|inf", re.sub(r"<(title|desc)>.*?</\1>", "", text, flags=re.S), re.IGNORECASE)
    group = row_groups(parse(text))["S01"]
    points = elements(group, "path", "chart-point")
    value = edge.get("value", 0.12)
    assert len(points) == (0 if value != value else 1), "NaN is no value"
    for point in points:
        assert BAR_LEFT <= marker_x(group) <= BAR_RIGHT, point.get("d")


def test_no_national_value_centres_the_bar_on_the_spread_and_draws_no_national_line() -> None:
    group = row_groups(parse(spine([row(national_value=None, minimum=0.0, maximum=0.2, value=0.2)])))["S01"]
    assert not elements(group, "line", "spine-national")
    assert texts(group, "chart-national-value") == ["\u2013"]
    assert marker_x(group) == pytest.approx(BAR_LEFT), "down polarity: the highest value is the worst end"


# ---------------------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------------------


def test_table_gives_the_same_numbers_with_headers_scoped() -> None:
    table = ET.fromstring(str(table_html()))  # noqa: S314 - our own output
    assert table.find("caption").text == "Every indicator: value, national and the spread of all providers"
    assert all(th.get("scope") == "col" for th in table.find("thead").iter("th"))
    rows = table.findall("tbody/tr")
    assert {tr.find("th").get("scope") for tr in rows} == {"row"}
    body = {tr.find("th").text: [td.text for td in tr.findall("td")] for tr in rows}
    assert [cells[0] for cells in body.values()] == ["1.1", "1.2", "1.2", "1.2", "1.3", "1.4"]
    assert body["S01 PO vacancy rate"][1:] == [
        "12.0%",
        "10.0%",
        "4.0%; 8.0% to 13.0%; 20.0%",
        "Worse than national",
        "Similar to national",
    ]
    assert body["V01 Referral to start, median days"][1:3] == ["21.0 days", "20.0 days"]
    assert body["S05 Sickness absence days per FTE"][1] == "Suppressed"
    assert body["I02 Priority 1-2 ICT incidents per 100 staff per month"][1] == "No value"
    assert body["S03 Trainee PO share"][-2:] == ["Not compared with national", None]


def test_table_for_no_rows_has_no_rows() -> None:
    table = ET.fromstring(str(table_html([])))  # noqa: S314 - our own output
    assert not table.findall("tbody/tr"), "no indicator, no row"


def test_rows_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ROWS[0].value = 1.0  # type: ignore[misc]


def test_indicators_and_standards_sort_naturally_and_any_id_is_accepted() -> None:
    rows = [row("S10"), row("S2"), row("S1"), row("X\u00b2", standard_id="1.10"), row("A", standard_id="1.9")]
    root = parse(spine(rows))
    assert texts(root, "chart-label-id") == ["S1", "S2", "S10", "A", "X\u00b2"]
    assert texts(root, "chart-group") == ["Standard 1.2", "Standard 1.9", "Standard 1.10"]


def test_chart_and_table_embed_unescaped_in_an_autoescaping_template() -> None:
    jinja2 = pytest.importorskip("jinja2")
    template = jinja2.Environment(autoescape=True).from_string("<figure>{{ c }}</figure>{{ t }}")
    html = template.render(c=spine(), t=table_html())
    assert html.startswith('<figure><svg xmlns="http://www.w3.org/2000/svg"')
    assert '</figure><table class="data">' in html
