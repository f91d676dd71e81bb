# Over 450 lines: the rendered pack's properties (escaping, offline, content, access) share one set of contexts.
"""Evidence pack rendering: escaping, self-containment, content, accessibility and determinism.

The pack is read by inspectors who must trust it, possibly offline, so these tests pin the properties
that matter more than the look: no data can inject markup, nothing is fetched from a network, every
standard shows (evidence or not), and the same context renders the same bytes.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from datetime import UTC, date, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from probation_evidence.packs.export import COLUMNS, render_pack_csv
from probation_evidence.packs.figures import spine_rows
from probation_evidence.packs.formats import format_value, highlight_phrase
from probation_evidence.packs.model import (
    CharacteristicRef,
    EvidenceLine,
    FunnelLimitValue,
    FunnelPointValue,
    FunnelView,
    PackContext,
    PduValue,
    PeerProvider,
    PeerValue,
    PreviousValue,
    SeriesPoint,
    SourceBatch,
    StandardSection,
    SubmissionIssue,
)
from probation_evidence.packs.publish import next_version
from probation_evidence.packs.render import ANNEX_SECTIONS, CORE_SECTIONS, FILTER_SCRIPT, render_pack_html, write_pack
from probation_evidence.packs.views import areas_of_interest

HOSTILE = "<script>alert(1)</script>"

INADEQUATE_TEXT = (
    "There are substantial or frequent staff shortages, impacting upon workloads and the quality of the "
    "service and its ability to meet the high-level expectations for probation delivery."
)
GOOD_TEXT = (
    f"{HOSTILE} Staffing levels are planned and reviewed to meet the changing demands and profiles of "
    "service users, while the workloads of practitioners, middle managers and administrative staff are "
    "actively managed."
)
STANDARDS = {
    "1.1": ("Leadership", "The leadership of the organisation supports and promotes the delivery."),
    "1.2": ("Staff", "Staff within the organisation are empowered to deliver a high-quality service."),
    "1.3": ("Services", "A comprehensive range of high-quality services is in place."),
    "1.4": ("Information and facilities", "Timely and relevant information is available."),
}


def _s01_line(**overrides):
    fields = {
        "indicator_id": "S01",
        "indicator_name": "PO vacancy rate",
        "unit": "%",
        "polarity": "down",
        "value": 55.5 / 450,
        "numerator": 55.5,
        "denominator": 450.0,
        "lower_95": 0.0966,
        "upper_95": 0.1557,
        "national_value": 0.08,
        "comparison": "worse",
        "indicative_band": "Requires improvement",
        "definition": "(establishment - PO FTE in post) / establishment",
        "characteristics": [
            CharacteristicRef(
                characteristic_id="1.2-good-02",
                rating="Good",
                phrase="Staffing levels are planned and reviewed",
                characteristic_text=GOOD_TEXT,
            ),
            CharacteristicRef(
                characteristic_id="1.2-inadequate-02",
                rating="Inadequate",
                phrase="substantial or frequent staff shortages",
                characteristic_text=INADEQUATE_TEXT,
            ),
        ],
        "period_end_date": date(2026, 9, 30),
        "trend": (
            SeriesPoint(date(2026, 3, 31), 0.10, 0.08, 0.12, 0.08),
            SeriesPoint(date(2026, 6, 30), None, None, None, 0.08),  # suppressed
            SeriesPoint(date(2026, 9, 30), 55.5 / 450, 0.0966, 0.1557, 0.08),
        ),
        "peers": (
            PeerValue("N07", f"London {HOSTILE}", 55.5 / 450, 0.0966, 0.1557),
            PeerValue("N01", "North East", 0.05, 0.03, 0.07),
            PeerValue("N02", "North West", 0.09, 0.07, 0.11),
        ),
        "pdus": (
            PduValue("N07-01", 0.15, 0.11, 0.2, "worse"),
            PduValue(f"N07-{HOSTILE}", 0.07, 0.04, 0.1, "similar"),
        ),
    }
    fields.update(overrides)
    return EvidenceLine(**fields)


def _context(evidence_by_standard=None, **overrides):
    evidence_by_standard = {"1.2": [_s01_line()]} if evidence_by_standard is None else evidence_by_standard
    fields = {
        "provider_id": "N07",
        "provider_name": f"London {HOSTILE}",
        "inspection_id": "INS-2026-N07",
        "inspection_type": "Domain one",
        "fieldwork_start_date": date(2026, 11, 2),
        "fieldwork_end_date": date(2026, 11, 13),
        "as_at_date": date(2026, 9, 30),
        "pack_version": "1",
        "standards": [
            StandardSection(sid, name, statement, evidence_by_standard.get(sid, []))
            for sid, (name, statement) in STANDARDS.items()
        ],
        "batches": [
            SourceBatch("b-0001", "staffing", "establishment", 120, 0, datetime(2026, 10, 1, 6, 0, tzinfo=UTC)),
            SourceBatch("b-0002", "staffing", "staff", 5400, 3, datetime(2026, 10, 1, 6, 5, tzinfo=UTC)),
        ],
    }
    fields.update(overrides)
    return PackContext(**fields)


def _render(ctx=None) -> str:
    return render_pack_html(ctx or _context())


def _render_line(line) -> str:
    return _render(_context({"1.2": [line]}))


class _Outline(HTMLParser):
    """Collects headings, attributes of every start tag, and per-<svg> accessibility facts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[int] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.svgs: list[dict] = []
        self._in_svg = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(int(tag[1]))
        if tag == "svg":
            self._in_svg = True
            self.svgs.append({"attrs": attributes, "has_title": False})
        elif tag == "title" and self._in_svg:
            self.svgs[-1]["has_title"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_svg = False


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    parser.close()
    return parser


def _annex_article(html: str, indicator_id: str = "s01") -> str:
    """The annex's full page for one indicator (the core shows it as one compact row)."""
    start = html.index(f'<article class="indicator-detail" id="indicator-{indicator_id}"')
    return html[start : html.index("</article>", start)]


def _compact_row(html: str, indicator_id: str = "s01") -> str:
    start = html.index(f'<tbody class="evidence-line" id="line-{indicator_id}"')
    return html[start : html.index("</tbody>", start)]


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S | re.I)


def test_data_is_escaped_never_executed():
    html = _render()
    # The only script is the pack's own filter script; no data ever opens a tag.
    assert html.lower().count("<script") == 1 and _scripts(html) == [FILTER_SCRIPT]
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Staffing levels" in html  # characteristic text
    assert "London &lt;script&gt;alert(1)&lt;/script&gt;" in html  # provider name


def test_no_network_resources():
    html = _render()
    parser = _outline(html)
    for tag, attrs in parser.tags:
        for name in ("src", "href", "xlink:href", "srcset", "action", "data", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, name, value)
        assert tag not in {"link", "iframe", "img", "object", "embed"}, tag
        if tag == "script":
            assert attrs == {}, attrs  # inline only: no src, no type
    # The SVG namespace is a name, never fetched; any other absolute URL would be a leak.
    text = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in text and "https://" not in text
    assert "url(" not in html and "@import" not in html


def test_all_four_standards_present_with_no_evidence_lines():
    html = _render()
    for sid, (name, _) in STANDARDS.items():
        assert f"{sid} {name}</h2>" in html
    # 1.1, 1.3 and 1.4 have no evidence: each says so, in the section and in the summary table.
    assert html.count("No evidence yet for this standard.") == 3
    assert html.count(">No evidence yet<") == 3


def test_s01_line_shows_value_interval_comparison_and_highlight():
    html = _render()
    assert "12.3%" in html
    assert "55.5 / 450" in html
    assert "9.7% to 15.6%" in html
    assert "8.0%" in html
    assert "\u25bc</span> Worse than national" in html  # a shape and words, not colour alone
    assert "Requires improvement</span>" in html and "(indicative)" in html
    assert "<mark>substantial or frequent staff shortages</mark>" in html
    assert "<mark>Staffing levels are planned and reviewed</mark>" in html


def test_missing_value_is_shown_as_missing():
    line = _s01_line(value=None, numerator=None, denominator=None, lower_95=None, upper_95=None)
    html = _render(_context({"1.2": [line]}))
    assert "No value for 30 September 2026." in html
    assert "<svg" not in _annex_article(html)
    assert "<strong>No value</strong>" in _compact_row(html)


def test_cover_and_notice():
    html = _render()
    assert "Indicative evidence, not a rating" in html
    assert "rather than being a checklist" in html
    assert "2 November 2026 to 13 November 2026" in html
    assert "Data as at</dt><dd>30 September 2026" in html


def test_provenance_annex_lists_batches():
    html = _render()
    assert "b-0001" in html and "b-0002" in html
    assert "5,400" in html
    assert "2026-10-01 06:05 UTC" in html
    assert "3 rows quarantined" in html
    empty = _render(_context(batches=[]))
    assert "No source batches recorded" in empty


def test_rendering_is_deterministic(tmp_path: Path):
    assert _render() == _render()
    first = write_pack(_context(), tmp_path)
    first_bytes = first.read_bytes()
    second = write_pack(_context(), tmp_path)
    assert first == second == tmp_path / "INS-2026-N07" / "N07-evidence-pack-v1.html"
    assert second.read_bytes() == first_bytes
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temp file left behind


def test_write_pack_refuses_path_traversal(tmp_path: Path):
    with pytest.raises(ValueError, match="Unsafe"):
        write_pack(_context(inspection_id="../escape"), tmp_path)


def test_headings_are_in_order_with_one_h1():
    levels = _outline(_render()).headings
    assert levels[0] == 1 and levels.count(1) == 1
    for previous, current in zip(levels, levels[1:], strict=False):
        assert current <= previous + 1, levels


def test_every_svg_has_alt_text():
    svgs = _outline(_render()).svgs
    assert svgs
    for svg in svgs:
        assert svg["attrs"].get("role") == "img"
        assert svg["attrs"].get("aria-label") or svg["has_title"]


def test_table_headers_have_scope():
    parser = _outline(_render())
    headers = [attrs for tag, attrs in parser.tags if tag == "th"]
    assert headers and all(attrs.get("scope") in {"col", "row"} for attrs in headers)


def test_html_root_declares_language():
    assert '<html lang="en">' in _render()


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0.12333, "%", "12.3%"),
        (-0.02, "%", "\u22122.0%"),
        (-0.0001, "%", "0.0%"),
        (11.04, "days", "11.0 days"),
        (1.234, "ratio", "1.23"),
        (None, "%", "No value"),
    ],
)
def test_format_value(value, unit, expected):
    assert format_value(value, unit) == expected


def test_highlight_escapes_each_fragment():
    markup, found = highlight_phrase('a <b>bold</b> & "q" here now', '<b>bold</b> & "q" here')
    assert found
    assert str(markup) == "a <mark>&lt;b&gt;bold&lt;/b&gt; &amp; &#34;q&#34; here</mark> now"


def test_highlight_handles_ellipsis_and_misses():
    markup, found = highlight_phrase("the workloads are actively managed", "workloads \u2026 actively managed")
    assert found and str(markup) == "the <mark>workloads</mark> are <mark>actively managed</mark>"
    markup, found = highlight_phrase("x < y", "absent")
    assert not found and str(markup) == "x &lt; y"


def test_each_indicator_has_trend_every_provider_and_pdu_charts_with_captions():
    html = _render()
    for suffix in ("trend", "providers", "pdus"):
        assert f'id="indicator-s01-{suffix}-title"' in html
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", _annex_article(html), re.S)
    assert len(captions) == 3
    assert any("12.3%" in c and "national 8.0%" in c for c in captions), captions
    assert "suppressed" in html
    assert HOSTILE not in html  # escaped in every chart label as everywhere else


def test_a_line_without_series_has_no_charts_and_no_value_has_none():
    assert "<svg" not in _annex_article(_render_line(_s01_line(trend=(), peers=(), pdus=())))
    assert "<figure" not in _annex_article(_render_line(_s01_line(value=None, trend=(), peers=(), pdus=())))


def _csv_rows(ctx=None) -> list[dict]:
    return list(csv.DictReader(io.StringIO(render_pack_csv(ctx or _context()))))


def test_the_csv_holds_every_number_of_every_chart_and_figure():
    rows = _csv_rows()
    assert tuple(rows[0]) == COLUMNS
    by_type: dict[str, list[dict]] = {}
    for row in rows:
        by_type.setdefault(row["record_type"], []).append(row)
    (value,) = by_type["indicator_value"]
    assert (value["indicator_id"], value["subject"], value["period_end_date"]) == ("S01", "N07", "2026-09-30")
    assert float(value["value"]) == 55.5 / 450 and value["numerator"] == "55.5" and value["comparison"] == "worse"
    assert [r["value"] for r in by_type["trend"]] == ["0.1", "", repr(55.5 / 450)]  # suppressed stays empty
    assert {r["subject"] for r in by_type["provider_comparison"]} == {"N07", "N01", "N02"}
    assert [r["comparison"] for r in by_type["pdu"]] == ["worse", "similar"]
    assert f"N07-{HOSTILE}" in {r["subject"] for r in by_type["pdu"]}  # CSV keeps text as it is
    assert [r["rows_loaded"] for r in by_type["source_batch"]]


def test_the_csv_defuses_spreadsheet_formulas_and_is_deterministic():
    line = _s01_line(pdus=(PduValue("=HYPERLINK(1)", 0.1, None, None, "similar"),))
    rows = _csv_rows(_context({"1.2": [line]}))
    assert "'=HYPERLINK(1)" in {r["subject"] for r in rows}
    assert _csv_rows() == _csv_rows()


@pytest.mark.parametrize(
    ("latest", "republish", "expected"),
    [
        (None, False, (1, "first")),
        (None, True, (1, "first")),
        ((3, "abc"), False, (3, None)),
        ((3, "abc"), True, (4, "requested")),
        ((3, "old"), False, (4, "data changed")),
    ],
)
def test_a_new_pack_version_only_for_a_first_publication_changed_data_or_a_request(latest, republish, expected):
    assert next_version(latest, "abc", republish) == expected


def test_areas_of_interest_name_what_is_worse_better_and_missing():
    section = StandardSection(
        "1.2", "Staff", "Staffing", [
            _s01_line(),
            _s01_line(indicator_id="S02", indicator_name="Sickness", comparison="better", value=0.02,
                      national_value=0.04),
            _s01_line(indicator_id="S03", indicator_name="Training", value=None),
        ],
    )  # fmt: skip
    assert areas_of_interest(section) == [
        "Worse than national on 1 indicator: PO vacancy rate (12.3% against 8.0% nationally).",
        "Better than national on 1 indicator: Sickness (2.0% against 4.0% nationally).",
        "No value for the period on 1 indicator (Training): see the data-quality section for late or missing"
        " submissions.",
    ]
    quiet = StandardSection("1.1", "Leadership", "x", [_s01_line(comparison="similar")])
    assert areas_of_interest(quiet) == ["No indicator differs from national, and none is missing."]


def test_data_quality_comes_before_the_standards_and_methods_list_every_indicator():
    issue = SubmissionIssue("workload", "weekly_caseload", date(2026, 9, 27), date(2026, 10, 4), "missing", None, None)
    html = _render(_context(submission_issues=(issue,)))
    assert html.index('id="data-quality-heading"') < html.index('id="standard-1-1-heading"')
    assert "0 failed, 1 missing and 0 late" in html and "workload.weekly_caseload" in html
    methods = html[html.index('id="methods-heading"') :]
    assert "S01 PO vacancy rate" in methods
    assert "Every submission due" in _render()  # no issues: said plainly


def test_a_value_with_late_or_missing_data_behind_it_is_flagged_on_its_line():
    flagged = _render_line(_s01_line(has_late_or_missing_data=True))
    assert "Late or missing data behind this value" in flagged and 'href="#data-quality"' in flagged
    assert "Late or missing data behind this value" not in _render_line(_s01_line())


def test_a_suppressed_value_is_shown_as_suppressed_with_its_reason_and_flagged_in_the_csv():
    line = _s01_line(
        value=None, numerator=None, denominator=None, lower_95=None, upper_95=None, indicative_band=None,
        comparison="not compared", suppression_reason="numerator between 1 and 4",
    )  # fmt: skip
    html = _render(_context({"1.2": [line]}))
    assert "Suppressed: numbers too small to publish." in html
    assert "(numerator between 1 and 4)" in html and "No value for 30 September 2026." not in html
    section = StandardSection("1.2", "Staff", "Staffing", [line])
    assert areas_of_interest(section) == [
        "Withheld as too small to publish on 1 indicator (PO vacancy rate).",
    ]
    rows = _csv_rows(_context({"1.2": [line]}))
    (value,) = [r for r in rows if r["record_type"] == "indicator_value"]
    assert (value["value"], value["numerator"], value["is_suppressed"]) == ("", "", "true")
    assert {r["is_suppressed"] for r in rows if r["record_type"] == "trend"} == {"false"}
    assert {r["is_suppressed"] for r in rows if r["record_type"] == "source_batch"} == {""}


# ---------------------------------------------------------------------------------------------------
# Structure: a core (cover, contents, overview, summary, areas, data quality, compact evidence) and an
# annex (indicator detail, methods, provenance), with the new model fields rendered where present.
# ---------------------------------------------------------------------------------------------------


def _full_line(**overrides):
    funnel = FunnelView(
        unit_level="provider",
        target=0.08,
        points=(
            FunnelPointValue("N07", f"N07 London {HOSTILE}", 450.0, 55.5 / 450, "worse (99.8%)", is_focus=True),
            FunnelPointValue("N01", "N01 North East", 300.0, 0.05, "within limits"),
        ),
        limits=(FunnelLimitValue(100.0, 0.03, 0.13, 0.01, 0.16), FunnelLimitValue(500.0, 0.06, 0.10, 0.05, 0.12)),
        is_overdispersed=True,
        adjustment_method="multiplicative (phi)",
        funnel_method="exact binomial limits",
    )
    fields = {
        "lower_998": 0.085,
        "upper_998": 0.171,
        "comparison_998": "similar",
        "interval_method": f"Wilson score {HOSTILE}",
        "trend_direction": "worsening",
        "trend_p_value": 0.0123,
        "trend_method": "Mann-Kendall",
        "trend_points": 6,
        "peer_value": 0.09,
        "peer_count": 5,
        "peer_comparison": "worse",
        "previous": PreviousValue(f"INS-2023-{HOSTILE}", date(2023, 6, 30), 0.07, "worsened"),
        "funnel": funnel,
    }
    fields.update(overrides)
    return _s01_line(**fields)


def _full_context(**overrides):
    fields = {
        "peer_group": (
            PeerProvider("N01", f"North East {HOSTILE}", 1, 0.25),
            PeerProvider("N02", "North West", 2, None),
        ),
        "disclosure_note": f"Counts below 5 are withheld and others rounded to the nearest 5 {HOSTILE}.",
    }
    fields.update(overrides)
    return _context({"1.2": [_full_line()]}, **fields)


def _contents_links(html: str) -> list[str]:
    start = html.index('<nav class="contents-page"')
    return re.findall(r'href="#([^"]+)"', html[start : html.index("</nav>", start)])


def test_the_contents_page_links_every_section_in_order():
    html = _render()
    links = _contents_links(html)
    standards = [f"standard-{sid.replace('.', '-')}" for sid in STANDARDS]
    assert links == [a for a, _ in CORE_SECTIONS] + standards + [a for a, _ in ANNEX_SECTIONS]
    positions = [html.index(f'id="{anchor}"') for anchor in links]
    assert positions == sorted(positions)  # the sections appear in the order the contents lists them
    sidebar = html[html.index('<nav class="sidebar"') : html.index("</nav>")]
    assert re.findall(r'href="#([^"]+)"', sidebar) == links


def test_cover_then_contents_then_overview_then_the_core_then_the_annex():
    html = _render()
    order = [
        'class="cover"',
        'class="contents-page"',
        'id="overview-heading"',
        'id="summary-heading"',
        'id="areas-heading"',
        'id="data-quality-heading"',
        'id="standard-1-1-heading"',
        'id="standard-1-4-heading"',
        'id="annex-heading"',
        'id="methods-heading"',
        'id="provenance-heading"',
    ]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    # The core shows each indicator as a compact row; its full page (charts, characteristics) is in the annex.
    assert html.index('id="line-s01"') < html.index('id="annex-heading"') < html.index('id="indicator-s01"')
    core = html[: html.index('id="annex-heading"')]
    assert "indicator-s01-trend" not in core and "<blockquote>" not in core.split('class="contents-page"')[1]


def test_the_overview_has_a_row_per_indicator_with_the_spread_of_all_providers():
    peers = (
        PeerValue("N07", "London", 0.10, None, None),
        PeerValue("N01", "North East", 0.02, None, None),
        PeerValue("N02", "North West", 0.06, None, None),
        PeerValue("N03", "Yorkshire", None, None, None, is_suppressed=True),
        PeerValue("N04", "Wales", 0.30, None, None),
    )
    ctx = _context({"1.2": [_s01_line(peers=peers, comparison_998="similar")], "1.4": [_s01_line(indicator_id="I01")]})
    rows = spine_rows(ctx)
    assert [(r["indicator_id"], r["standard_id"]) for r in rows] == [("S01", "1.2"), ("I01", "1.4")]
    first = rows[0]
    # Suppressed providers are left out: quartiles of 0.02, 0.06, 0.10, 0.30 (inclusive method).
    assert (first["minimum"], first["maximum"]) == (0.02, 0.30)
    assert first["lower_quartile"] == pytest.approx(0.05) and first["upper_quartile"] == pytest.approx(0.15)
    assert (first["comparison_95"], first["comparison_998"], first["is_suppressed"]) == ("worse", "similar", False)
    html = _render(ctx)
    overview = html[html.index('id="overview"') : html.index('id="summary"')]
    assert "2.0%; 5.0% to 15.0%; 30.0%" in overview
    assert overview.count("<tr>") == 1 + len(rows)  # header and one row per indicator


def test_new_fields_are_rendered_and_escaped():
    html = _render(_full_context())
    row = _compact_row(html)
    assert "99.8%: 8.5% to 17.1%" in row
    assert "Wilson score &lt;script&gt;" in row
    assert "Peers 9.0% (5 providers)" in row and "Worse than peers" in row
    assert "\u25cf</span> Similar to national</span> <span" not in row  # 99.8% words carry their label
    assert '99.8%: <span class="comparison similar"><span aria-hidden="true">\u25cf</span> Similar to national' in row
    assert '\u25bc</span> Worsening</span><span class="sub">p = 0.012, 6 periods</span>' in row
    assert "Since INS-2023-&lt;script&gt;alert(1)&lt;/script&gt;:" in row and "Worsened</span> (was 7.0%)" in row
    article = _annex_article(html)
    assert 'id="indicator-s01-funnel-title"' in article
    assert "N07 London &lt;script&gt;alert(1)&lt;/script&gt; (this provider)" in article  # funnel data table
    assert "Mann-Kendall" in article
    assert "North East &lt;script&gt;alert(1)&lt;/script&gt; (N01)" in html  # peer group
    assert "rounded to the nearest 5 &lt;script&gt;alert(1)&lt;/script&gt;." in html  # disclosure note
    assert HOSTILE not in html


def test_absent_new_fields_are_left_out():
    html = _render()
    row = _compact_row(html)
    for absent in ("99.8%", "Peers", "Since ", "p = ", "Worsening"):
        assert absent not in row, absent
    assert "funnel" not in _annex_article(html)
    assert "Peer group" not in html and "Disclosure and rounding rules" not in html


def test_every_chart_is_focusable_named_and_has_a_data_table():
    html = _render(_full_context())
    figures = re.findall(r"<figure [^>]*>", html)
    assert len(figures) == 5  # overview, trend, every provider, PDUs, funnel
    for figure in figures:
        assert 'tabindex="0"' in figure and re.search(r'aria-label="[^"]+"', figure), figure
    assert html.count('<details class="chart-data">') == len(figures)


def test_filter_attributes_mark_significant_lines_and_their_standard():
    similar = _s01_line(indicator_id="S02", indicator_name="Sickness", comparison="similar")
    html = _render(_context({"1.2": [_s01_line(), similar]}))
    assert re.search(r'id="line-s01"[^>]*data-standard="1.2" data-significant="true"', html)
    assert re.search(r'id="line-s02"[^>]*data-standard="1.2" data-significant="false"', html)
    assert re.search(r'id="indicator-s02"[^>]*data-significant="false"', html)
    assert '<form id="pack-filters" class="filters" hidden>' in html  # shown by the script only


def test_the_content_security_policy_allows_only_the_filter_script_by_its_hash():
    html = _render()
    (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    directives = dict(d.strip().split(" ", 1) for d in unescape(policy).split(";"))
    digest = base64.b64encode(hashlib.sha256(_scripts(html)[0].encode()).digest()).decode()
    assert _scripts(html) == [FILTER_SCRIPT]
    assert directives["script-src"] == f"'sha256-{digest}'"
    assert directives["default-src"] == "'none'" and "unsafe" not in directives["script-src"]
