"""Evidence pack rendering: escaping, self-containment, content, accessibility and determinism.

The pack is read by inspectors who must trust it, possibly offline, so these tests pin the properties
that matter more than the look: no data can inject markup, nothing is fetched from a network, every
standard shows (evidence or not), and the same context renders the same bytes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

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
    from probation_evidence.packs.model import CharacteristicRef, EvidenceLine

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
    }
    fields.update(overrides)
    return EvidenceLine(**fields)


def _context(evidence_by_standard=None, **overrides):
    from probation_evidence.packs.model import PackContext, SourceBatch, StandardSection

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
    from probation_evidence.packs.render import render_pack_html

    return render_pack_html(ctx or _context())


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


def test_data_is_escaped_never_executed():
    html = _render()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Staffing levels" in html  # characteristic text
    assert "London &lt;script&gt;alert(1)&lt;/script&gt;" in html  # provider name


def test_no_network_resources():
    html = _render()
    parser = _outline(html)
    for tag, attrs in parser.tags:
        for name in ("src", "href", "xlink:href", "srcset", "action", "data", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, name, value)
        assert tag not in {"script", "link", "iframe", "img", "object", "embed"}, tag
    assert "http://" not in html and "https://" not in html
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
    assert "<svg" not in html


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
    from probation_evidence.packs.render import write_pack

    assert _render() == _render()
    first = write_pack(_context(), tmp_path)
    first_bytes = first.read_bytes()
    second = write_pack(_context(), tmp_path)
    assert first == second == tmp_path / "INS-2026-N07" / "N07-evidence-pack-v1.html"
    assert second.read_bytes() == first_bytes
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temp file left behind


def test_write_pack_refuses_path_traversal(tmp_path: Path):
    from probation_evidence.packs.render import write_pack

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
    from probation_evidence.packs.render import format_value

    assert format_value(value, unit) == expected


def test_highlight_escapes_each_fragment():
    from probation_evidence.packs.render import highlight_phrase

    markup, found = highlight_phrase('a <b>bold</b> & "q" here now', '<b>bold</b> & "q" here')
    assert found
    assert str(markup) == "a <mark>&lt;b&gt;bold&lt;/b&gt; &amp; &#34;q&#34; here</mark> now"


def test_highlight_handles_ellipsis_and_misses():
    from probation_evidence.packs.render import highlight_phrase

    markup, found = highlight_phrase("the workloads are actively managed", "workloads \u2026 actively managed")
    assert found and str(markup) == "the <mark>workloads</mark> are <mark>actively managed</mark>"
    markup, found = highlight_phrase("x < y", "absent")
    assert not found and str(markup) == "x &lt; y"
