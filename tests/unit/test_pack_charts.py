"""The evidence pack's hand-written SVG charts: valid, accessible, escaped, deterministic, honest about gaps."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses only this module's own output
from datetime import date

import pytest
from markupsafe import Markup

from probation_evidence.packs.charts.dotplot import comparison_chart, comparison_summary, pdu_chart, pdu_summary
from probation_evidence.packs.charts.trend import trend_chart, trend_summary
from tests.svg_reading import NS, elements, parse, texts

HOSTILE = '<script>alert(1)</script> & "x"'

SEP25, DEC25, MAR26, JUN26, SEP26 = (date(2025, 9, 30), date(2025, 12, 31), date(2026, 3, 31),
                                     date(2026, 6, 30), date(2026, 9, 30))  # fmt: skip
TREND = [
    (SEP25, 0.08, 0.06, 0.10),
    (DEC25, 0.095, 0.075, 0.118),
    (MAR26, None, None, None),
    (JUN26, 0.11, 0.09, 0.13),
    (SEP26, 0.124, 0.101, 0.149),
]
NATIONAL = [(SEP25, 0.09), (DEC25, 0.092), (MAR26, 0.095), (JUN26, 0.097), (SEP26, 0.098)]
OTHERS = [("N01 North East", 0.05), ("N02 Yorkshire", 0.07), ("N03 Wales", 0.13), ("N04 Midlands", 0.09),
          ("N05 East", 0.06), ("N06 Kent", 0.10), ("N08 London", 0.08), ("N09 South West", 0.04),
          ("N10 South Central", 0.11), ("N11 Manchester", 0.085), ("N12 East Midlands", 0.075)]  # fmt: skip
PROVIDERS = [("N07 North West", 0.124, 0.101, 0.149, True)] + [(n, v, v - 0.02, v + 0.02, False) for n, v in OTHERS]
PDUS = [
    ("Bolton", 0.15, 0.12, 0.19, "worse"),
    ("Wigan", 0.09, 0.06, 0.12, "similar"),
    ("Bury", 0.05, 0.03, 0.07, "better"),
    ("Salford", 0.10, None, None, "not compared"),
]


def trend(chart_id: str = "t1", **kw) -> Markup:
    return trend_chart(chart_id, kw.pop("title", "PO vacancy rate"), "%", kw.pop("points", TREND),
                       kw.pop("national", NATIONAL), provider_label="N07 North West", **kw)  # fmt: skip


def comparison(chart_id: str = "c1", values=PROVIDERS, **kw) -> Markup:
    return comparison_chart(chart_id, "PO vacancy rate", "%", "N07", values, 0.098, period=SEP26, **kw)


def pdu(chart_id: str = "p1", rows=PDUS, national: float | None = 0.098) -> Markup:
    return pdu_chart(chart_id, "PO vacancy rate by PDU", "%", rows, national)


def desc(root: ET.Element) -> str:
    return root.find(f"{NS}desc").text


ALL_CHARTS = [pytest.param(trend, id="trend"), pytest.param(comparison, id="comparison"), pytest.param(pdu, id="pdu")]


# ---------------------------------------------------------------------------------------------------
# Structure and accessibility
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", ALL_CHARTS)
def test_svg_parses_and_is_labelled_by_its_title_and_desc(make) -> None:
    svg = make("chart-a")
    assert isinstance(svg, Markup)
    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-a-title chart-a-desc"
    assert root.get("width") == "100%" and re.fullmatch(r"0 0 640 \d+(\.\d+)?", root.get("viewBox"))
    assert root.get("font-family") == "sans-serif"
    title, description = root[0], root[1]
    assert (title.tag, title.get("id")) == (f"{NS}title", "chart-a-title")
    assert title.text.startswith("PO vacancy rate")
    assert (description.tag, description.get("id")) == (f"{NS}desc", "chart-a-desc")
    assert len(description.text) > 20


@pytest.mark.parametrize("make", ALL_CHARTS)
def test_ids_are_prefixed_unique_and_do_not_clash_between_charts(make) -> None:
    ids_a = [e.get("id") for e in parse(make("first")).iter() if e.get("id")]
    ids_b = [e.get("id") for e in parse(make("second")).iter() if e.get("id")]
    assert ids_a and all(i.startswith("first-") for i in ids_a)
    assert len(ids_a) == len(set(ids_a))
    assert not set(ids_a) & set(ids_b)


@pytest.mark.parametrize("bad", ["", "a b", "a.b", 'x"y', "<x>", "é", "a/b", "id\n"])
def test_invalid_chart_id_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="chart_id"):
        trend(bad)
    with pytest.raises(ValueError, match="chart_id"):
        comparison(bad)
    with pytest.raises(ValueError, match="chart_id"):
        pdu(bad)


def test_markup_is_embedded_unescaped_by_an_autoescaping_template() -> None:
    jinja2 = pytest.importorskip("jinja2")
    html = jinja2.Environment(autoescape=True).from_string("<figure>{{ c }}</figure>").render(c=pdu())
    assert html.startswith('<figure><svg xmlns="http://www.w3.org/2000/svg"')


# ---------------------------------------------------------------------------------------------------
# The generated sentences
# ---------------------------------------------------------------------------------------------------


def test_trend_desc_states_latest_value_interval_national_change_and_suppression() -> None:
    expected = (
        "N07 North West: 12.4% in Sep 2026 (95% interval 10.1% to 14.9%), national 9.8%. "
        "Up from 8.0% in Sep 2025. Suppressed (small numbers): Mar 2026."
    )
    assert desc(parse(trend())) == expected
    assert trend_summary("PO vacancy rate", "%", TREND, NATIONAL, provider_label="N07 North West") == expected


def test_trend_desc_uses_the_last_unsuppressed_value_and_the_unit() -> None:
    points = [(SEP25, 31.0, None, None), (DEC25, 28.5, 20.0, 40.0), (MAR26, None, None, None)]
    assert trend_summary("Days", "days", points) == (
        "Provider: 28.5 days in Dec 2025 (95% interval 20.0 to 40.0 days). "
        "Down from 31.0 days in Sep 2025. Suppressed (small numbers): Mar 2026."
    )


def test_comparison_desc_ranks_the_provider_against_the_others() -> None:
    expected = "N07 North West: 12.4% in Sep 2026, national 9.8%; higher than 10 of 11 other providers."
    assert desc(parse(comparison())) == expected
    assert comparison_summary("t", "%", "N07", PROVIDERS, 0.098, period=SEP26) == expected


def test_comparison_desc_leaves_suppressed_providers_out_of_the_ranking_and_says_so() -> None:
    values = [
        *PROVIDERS[:10],
        ("N11 Manchester", None, None, None, False),
        ("N12 East Midlands", 0.2, None, None, False),
    ]
    text = comparison_summary("t", "%", "N07", values, None, polarity="lower_is_better")
    assert text == "N07 North West: 12.4%; higher than 8 of 10 other providers (1 suppressed). Lower is better."


def test_comparison_desc_when_the_focus_provider_is_suppressed() -> None:
    values = [("N07 North West", None, None, None, True), *PROVIDERS[1:]]
    assert comparison_summary("t", "%", "N07", values, 0.098).startswith("N07 North West: suppressed, national 9.8%")


def test_pdu_desc_groups_pdus_by_comparison() -> None:
    rows = [*PDUS, ("Leigh", None, None, None, "not compared")]
    assert desc(parse(pdu(rows=rows))) == (
        "5 PDUs, national 9.8%. Better than national: Bury 5.0%. Worse than national: Bolton 15.0%. "
        "Similar to national: Wigan 9.0%. Not compared with national: Salford 10.0%. "
        "Suppressed (small numbers): Leigh."
    )
    assert pdu_summary("t", "%", rows, 0.098) == desc(parse(pdu(rows=rows)))


# ---------------------------------------------------------------------------------------------------
# Escaping and determinism
# ---------------------------------------------------------------------------------------------------


def test_hostile_text_is_escaped_everywhere_and_round_trips() -> None:
    charts = [
        trend_chart("t", HOSTILE, HOSTILE, TREND, NATIONAL, provider_label=HOSTILE),
        comparison_chart("c", HOSTILE, HOSTILE, "N07", [(HOSTILE, 1.0, 0.5, 2.0, True), ("x", 2.0, None, None, False)]),
        pdu_chart("p", HOSTILE, HOSTILE, [(HOSTILE, 1.0, 0.5, 2.0, "worse"), ("x\x00y", 2.0, None, None, HOSTILE)]),
    ]
    for svg in charts:
        assert "<script" not in svg and "&lt;script&gt;" in svg
        root = parse(svg)
        assert root.find(f"{NS}title").text == HOSTILE
        assert HOSTILE in desc(root)
        assert all(e.tag.startswith(NS) for e in root.iter()), "data must never create elements"
    assert "x y" in texts(parse(charts[2]), "chart-label")


@pytest.mark.parametrize("make", ALL_CHARTS)
def test_output_is_byte_identical_for_the_same_input(make) -> None:
    assert str(make("same")) == str(make("same"))


def test_input_order_does_not_change_trend_or_comparison_output() -> None:
    shuffled_trend, shuffled_providers = TREND[:], PROVIDERS[:]
    random.Random(7).shuffle(shuffled_trend)
    random.Random(7).shuffle(shuffled_providers)
    assert str(trend(points=shuffled_trend)) == str(trend())
    assert str(comparison(values=shuffled_providers)) == str(comparison())


def test_coordinates_are_rounded_to_two_decimals() -> None:
    for svg in (trend(), comparison(), pdu()):
        numbers = re.findall(r"-?\d+\.\d+", re.sub(r"<(title|desc)>.*?</\1>", "", str(svg)))
        assert numbers and all(len(n.split(".")[1]) <= 2 for n in numbers)


# ---------------------------------------------------------------------------------------------------
# Suppression, focus, comparisons
# ---------------------------------------------------------------------------------------------------


def _zero_y(root: ET.Element) -> float:
    zero = next(e for e in elements(root, "text", "chart-tick") if e.text == "0%")
    return float(zero.get("y")) - 4


def test_suppressed_trend_point_is_a_labelled_gap_never_a_zero() -> None:
    points = [(SEP25, 0.05, None, None), (DEC25, 0.10, None, None), (MAR26, None, None, None), (JUN26, 0.2, None, None)]
    root = parse(trend(points=points, national=[]))
    markers = elements(root, "circle", "chart-point")
    assert len(markers) == 3
    zero_y = _zero_y(root)
    assert all(abs(float(m.get("cy")) - zero_y) > 1 for m in markers)
    gap_x = float(elements(root, "line", "chart-suppressed")[0].get("x1"))
    assert all(abs(float(m.get("cx")) - gap_x) > 1 for m in markers)
    assert "suppressed" in texts(root, "chart-suppressed")
    lines = [e.get("points").split() for e in elements(root, "polyline", "chart-provider")]
    assert lines == [lines[0]] and len(lines[0]) == 2, "the line must break at the suppressed period"
    assert "Suppressed (small numbers): Mar 2026." in desc(root)


def test_suppressed_provider_and_pdu_rows_have_no_marker_and_say_suppressed() -> None:
    values = [*PROVIDERS[:11], ("N12 East Midlands", None, None, None, False)]
    root = parse(comparison(values=values))
    assert len(elements(root, None, "chart-point")) == 11
    assert texts(root, "chart-label")[-1] == "N12 East Midlands", "suppressed rows go last"
    assert texts(root, "chart-value")[-1] == "suppressed"
    root = parse(pdu(rows=[*PDUS, ("Leigh", None, 0.1, 0.2, "similar")]))
    assert len(elements(root, None, "chart-point")) == 4
    assert "suppressed" in texts(root, "chart-suppressed")


def test_focus_provider_has_its_own_shape_and_a_text_label() -> None:
    root = parse(comparison())
    focus = elements(root, None, "chart-focus")
    others = elements(root, None, "chart-other")
    points = [e for e in focus if "chart-point" in e.get("class")]
    assert len(points) == 1 and points[0].tag == f"{NS}path"
    other_points = [e for e in others if "chart-point" in e.get("class")]
    assert len(other_points) == 11 and {e.tag for e in other_points} == {f"{NS}circle"}
    assert texts(root, "chart-focus-label") == ["N07 North West"]
    assert "N07 North West (this provider)" in texts(root, "chart-legend")


def test_focus_falls_back_to_the_provider_id_when_no_row_is_flagged() -> None:
    unflagged = [(label, value, low, high, False) for label, value, low, high, _ in PROVIDERS]
    root = parse(comparison(values=unflagged))
    assert texts(root, "chart-focus-label") == ["N07 North West"]
    assert desc(root).startswith("N07 North West: 12.4%")


def test_providers_are_sorted_best_first_by_polarity() -> None:
    highest_first = texts(parse(comparison()), "chart-label")
    lowest_first = texts(parse(comparison(polarity="down")), "chart-label")
    assert highest_first[0] == "N03 Wales" and highest_first[-1] == "N09 South West"
    assert lowest_first == highest_first[::-1]


def test_pdu_rows_show_comparison_as_word_and_shape() -> None:
    rows = [*PDUS, ("Leigh", 0.1, None, None, "unexpected")]
    root = parse(pdu(rows=rows))
    assert texts(root, "chart-comparison-word") == ["worse", "similar", "better", "not compared", "not compared"]
    shapes = {
        word: elements(root, None, f"chart-{word}")[0]
        for word in ("better", "worse", "similar", "not-compared")
    }  # fmt: skip
    assert shapes["better"].tag == shapes["worse"].tag == f"{NS}path"
    assert shapes["better"].get("d") != shapes["worse"].get("d")
    assert shapes["similar"].tag == shapes["not-compared"].tag == f"{NS}circle"
    assert shapes["similar"].get("fill") != shapes["not-compared"].get("fill"), "hollow vs filled"


def test_whiskers_are_drawn_only_when_both_limits_are_known() -> None:
    root = parse(pdu(rows=[("A", 0.1, 0.05, None, "similar"), ("B", 0.2, None, 0.3, "similar")]))
    assert len(elements(root, "line", "chart-ci")) == 3, "only the legend swatch: no whisker from one limit"
    root = parse(pdu(rows=[("A", 0.1, 0.05, 0.15, "similar")]))
    assert len(elements(root, "line", "chart-ci")) == 6


def test_national_reference_line_is_labelled() -> None:
    root = parse(comparison())
    assert texts(root, "chart-national-label") == ["National 9.8%"]
    assert elements(root, "line", "chart-national")[-1].get("stroke-dasharray")


# ---------------------------------------------------------------------------------------------------
# Edge cases
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "svg",
    [
        pytest.param(lambda: trend(points=[]), id="trend-empty"),
        pytest.param(lambda: trend(points=[(SEP25, None, None, None), (DEC25, None, 0.1, 0.2)]), id="trend-all-none"),
        pytest.param(lambda: comparison(values=[]), id="comparison-empty"),
        pytest.param(lambda: comparison(values=[("N07", None, None, None, True)]), id="comparison-all-none"),
        pytest.param(lambda: pdu(rows=[]), id="pdu-empty"),
        pytest.param(lambda: pdu(rows=[("A", None, None, None, "similar")]), id="pdu-all-none"),
    ],
)
def test_nothing_to_plot_renders_no_data(svg) -> None:
    root = parse(svg())
    assert any(t.startswith("No data") for t in texts(root, "chart-no-data"))
    assert not elements(root, None, "chart-point")
    assert "no data" in desc(root).lower()


@pytest.mark.parametrize(
    "svg",
    [
        pytest.param(lambda: trend(points=[(SEP26, 0.1, None, None)], national=[]), id="single-point"),
        pytest.param(lambda: trend(points=[(d, 0.0, 0.0, 0.0) for d in (SEP25, DEC25, MAR26)]), id="all-zero"),
        pytest.param(lambda: trend(points=[(SEP25, float("nan"), None, None), (DEC25, 0.1, None, None)]), id="nan"),
        pytest.param(
            lambda: comparison(values=[("N07", 3.0, None, None, True), ("N01", 3.0, None, None, False)]), id="all-equal"
        ),  # fmt: skip
        pytest.param(lambda: pdu(rows=[("A", 5.0, None, 7.0, "better")], national=None), id="one-pdu-half-ci"),
    ],
)
def test_edge_cases_render_finite_geometry(svg) -> None:
    text = str(svg())
    root = parse(text)
    assert elements(root, None, "chart-point")
    assert not re.search(r"nan|inf", re.sub(r"<(title|desc)>.*?</\1>", "", text), re.IGNORECASE)


def test_negative_values_are_plotted_below_zero_in_order() -> None:
    points = [(SEP25, -0.05, None, None), (DEC25, 0.02, None, None), (MAR26, -0.1, None, None)]
    root = parse(trend(points=points, national=[]))
    cys = [float(m.get("cy")) for m in elements(root, "circle", "chart-point")]
    zero = elements(root, "line", "chart-zero")
    assert len(zero) == 1
    zero_y = float(zero[0].get("y1"))
    assert cys[1] < zero_y < cys[0] < cys[2], "higher values sit higher on the page"
    assert "\u22125.0%" in desc(root) or "\u221210.0%" in desc(root)


def test_weekly_series_are_labelled_with_iso_dates() -> None:
    points = [(date(2026, 9, d), 0.1, None, None) for d in (7, 14, 21, 28)]
    root = parse(trend(points=points, national=[]))
    assert "2026-09-28" in texts(root, "chart-tick")
    assert "in the period to 2026-09-28" in desc(root)
