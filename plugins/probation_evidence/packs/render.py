"""Render an evidence pack to one self-contained, deterministic HTML file.

Self-contained: CSS and SVG are inline and nothing is fetched, so the file opens the same offline, in a
secure inspection laptop, or years later. Deterministic: the output depends only on the PackContext (no
clock, no locale, no random ids), so regenerating a pack for the same as-at date gives identical bytes
and a content hash can prove it. All data is escaped by Jinja's autoescape; the only markup built in
Python is the <mark> highlighting, which wraps individually escaped fragments, the charts (packs.charts,
packs.spine, packs.funnel, which escape their own data) and the constant filter script.

Structure: a core to read before fieldwork (cover, contents, an overview chart of every indicator, the
summary, areas of interest, data quality and one compact row per indicator), then an annex with each
indicator's full page, the methods and the provenance of the numbers. Every chart is keyboard-reachable
and carries its numbers as a table; on screen a sidebar holds the contents and two filters (a small inline
script allowed by its hash in the page's Content-Security-Policy; with scripts off every line shows).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import statistics
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from probation_evidence.packs import funnel, spine
from probation_evidence.packs.charts import format_indicator_value, signed

if TYPE_CHECKING:
    from jinja2 import Environment

    from probation_evidence.packs.model import (
        CharacteristicRef,
        EvidenceLine,
        FunnelView,
        PackContext,
        StandardSection,
    )

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "pack.html.j2"

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SAFE_PATH_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# Shape + words for each comparison, so the result never depends on colour alone.
_COMPARISONS: dict[str | None, tuple[str, str, str]] = {
    "better": ("\u25b2", "Better than national", "better"),
    "similar": ("\u25cf", "Similar to national", "similar"),
    "worse": ("\u25bc", "Worse than national", "worse"),
    "not compared": ("\u25cb", "Not compared with national", "not-compared"),
    None: ("\u25cb", "No comparison available", "not-compared"),
}
_POLARITY_WORDS = {
    "down": "Lower is better",
    "up": "Higher is better",
    "none": "No preferred direction",
}
_FRAMEWORK_QUOTE = (
    "They provide a framework to support the lead inspector's recommendation rather than being a "
    "checklist; we would not expect every characteristic to be present for the corresponding rating "
    "to be given."
)


def render_pack_html(ctx: PackContext) -> str:
    """Render the pack to an HTML string; the same context always gives the same string."""
    template = _environment().get_template(TEMPLATE_NAME)
    return template.render(_view(ctx))


def pack_path(ctx: PackContext, out_dir: Path, suffix: str = ".html") -> Path:
    """`<out_dir>/<inspection_id>/<provider_id>-evidence-pack-v<version><suffix>`, refusing unsafe parts."""
    for part in (ctx.inspection_id, ctx.provider_id, ctx.pack_version):
        if not _SAFE_PATH_PART.match(part):
            raise ValueError(f"Unsafe value for a file name: {part!r}")
    return Path(out_dir) / ctx.inspection_id / f"{ctx.provider_id}-evidence-pack-v{ctx.pack_version}{suffix}"


def write_pack(ctx: PackContext, out_dir: Path) -> Path:
    """Write the pack's HTML atomically (see atomic_write); returns its path."""
    target = pack_path(ctx, out_dir)
    atomic_write(target, render_pack_html(ctx).encode("utf-8"))
    return target


def atomic_write(target: Path, payload: bytes) -> bool:
    """Write `payload` next to `target` and swap it in with os.replace; False when the file already held it.

    A reader (or a publisher computing a hash) never sees a half-written file, a failed write leaves the
    old one, and an unchanged file is not touched at all, so a rerun changes nothing on disk.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.read_bytes() == payload:
        return False
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return True


def _environment() -> Environment:
    """Jinja environment: autoescape everything, and fail on any undefined name rather than print ''."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["long_date"] = format_long_date
    env.filters["utc_timestamp"] = format_utc_timestamp
    env.filters["number"] = format_number
    return env


# ---------------------------------------------------------------------------------------------------
# View model: everything the template needs, precomputed so the template stays declarative.
# ---------------------------------------------------------------------------------------------------


def _view(ctx: PackContext) -> dict:
    """The template's variables: the context plus derived, display-ready pieces."""
    from probation_evidence.packs.model import RATINGS

    sections = [_section_view(s, ctx.provider_id) for s in ctx.standards]
    return {
        "ctx": ctx,
        "ratings": RATINGS,
        # Soft hyphens let the long band names wrap in the summary table's narrow columns.
        "rating_headers": {
            r: r.replace("Outstanding", "Out\u00adstanding").replace("Inadequate", "Inade\u00adquate") for r in RATINGS
        },
        "framework_quote": _FRAMEWORK_QUOTE,
        "summary": [_summary_row(s) for s in ctx.standards],
        "issues": [_issue_view(i) for i in ctx.submission_issues],
        "issue_counts": {s: sum(i.status == s for i in ctx.submission_issues) for s in ("failed", "missing", "late")},
        "methods": _methods(ctx),
        "sections": sections,
        "overview": _overview(ctx),
        "contents": _contents(sections),
        "peer_names": ", ".join(f"{p.provider_name} ({p.provider_id})" for p in ctx.peer_group),
        "total_quarantined": sum(b.rows_quarantined for b in ctx.batches),
        "line_count": sum(len(s.evidence) for s in ctx.standards),
        "script": Markup(FILTER_SCRIPT),  # noqa: S704 - a constant of this module, no data in it
        "csp": content_security_policy(),
    }


# The on-screen filters: progressive enhancement, so with scripts off the form stays hidden and every line
# shows. The Content-Security-Policy allows this one script by its hash and nothing else.
FILTER_SCRIPT = """
(function () {
  var form = document.getElementById('pack-filters');
  if (!form) { return; }
  var significant = document.getElementById('filter-significant');
  var standard = document.getElementById('filter-standard');
  var status = document.getElementById('filter-status');
  var lines = document.querySelectorAll('[data-filter-line]');
  var groups = document.querySelectorAll('[data-filter-group]');
  function apply() {
    var onlySignificant = significant.checked;
    var only = standard.value;
    var shown = 0;
    var total = 0;
    lines.forEach(function (el) {
      var hide = (onlySignificant && el.getAttribute('data-significant') !== 'true') ||
        (only !== '' && el.getAttribute('data-standard') !== only);
      el.hidden = hide;
      if (el.hasAttribute('data-filter-count')) { total += 1; if (!hide) { shown += 1; } }
    });
    groups.forEach(function (el) {
      el.hidden = only !== '' && el.getAttribute('data-standard') !== only;
    });
    status.textContent = 'Showing ' + shown + ' of ' + total + ' indicators.';
  }
  significant.addEventListener('change', apply);
  standard.addEventListener('change', apply);
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  form.hidden = false;
  apply();
}());
"""


def filter_script_source() -> str:
    """The CSP source that allows the filter script and nothing else: its hash."""
    digest = base64.b64encode(hashlib.sha256(FILTER_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def content_security_policy() -> str:
    """The pack's policy: nothing fetched, inline styles, and only the filter script, allowed by its hash."""
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src {filter_script_source()}; base-uri 'none'; form-action 'none'"
    )


#: The sections of the pack, in order: (anchor, title, part). The core is what a lead inspector reads; the
#: annex holds the detail behind every line.
CORE_SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview: every indicator against all providers"),
    ("summary", "Summary by standard"),
    ("areas", "Areas of interest"),
    ("data-quality", "Data quality: late, missing and failed submissions"),
)
ANNEX_SECTIONS: tuple[tuple[str, str], ...] = (
    ("annex", "Annex: indicator detail"),
    ("methods", "Methods"),
    ("provenance", "Provenance annex: source batches"),
)


def _contents(sections: list[dict]) -> list[dict]:
    """Every section in reading order, one standard after another in the core; the contents page and sidebar."""
    entries = [{"anchor": a, "title": t, "part": "core"} for a, t in CORE_SECTIONS]
    entries.extend(
        {"anchor": s["anchor"], "title": f"Evidence: {s['section'].standard_id} {s['section'].standard_name}",
         "part": "core"}
        for s in sections
    )  # fmt: skip
    entries.extend({"anchor": a, "title": t, "part": "annex"} for a, t in ANNEX_SECTIONS)
    return entries


def _summary_row(section: StandardSection) -> dict:
    """Counts of evidence lines by indicative band for one standard, for the summary table."""
    from probation_evidence.packs.model import RATINGS

    bands = [line.indicative_band for line in section.evidence if line.value is not None]
    counts = {rating: bands.count(rating) for rating in RATINGS}
    with_value = sum(1 for line in section.evidence if line.value is not None)
    present = [f"{rating} ({counts[rating]})" for rating in RATINGS if counts[rating]]
    return {
        "anchor": _anchor(section.standard_id),
        "standard_id": section.standard_id,
        "standard_name": section.standard_name,
        "lines": len(section.evidence),
        "with_value": with_value,
        "counts": counts,
        "unbanded": len(section.evidence) - sum(counts.values()),
        "bands_text": ", ".join(present) if present else "None",
        "rating": section.indicative_rating,
        "mean_points": "" if section.mean_points is None else f"{section.mean_points:.2f}",
        "rule_version": section.rule_version,
        "areas": areas_of_interest(section),
    }


def areas_of_interest(section: StandardSection, limit: int = 4) -> list[str]:
    """Plain sentences on what stands out in a standard: worse and better than national, and gaps."""
    with_value = [line for line in section.evidence if line.value is not None]
    sentences = []
    for word in ("worse", "better"):
        lines = [line for line in with_value if line.comparison == word]
        if lines:
            shown = "; ".join(_versus(line) for line in lines[:limit])
            more = f"; and {len(lines) - limit} more" if len(lines) > limit else ""
            sentences.append(f"{word.capitalize()} than national on {_count(len(lines), 'indicator')}: {shown}{more}.")
    suppressed = [line.indicator_name for line in section.evidence if line.suppression_reason]
    missing = [line.indicator_name for line in section.evidence if line.value is None and not line.suppression_reason]
    if missing:
        sentences.append(
            f"No value for the period on {_count(len(missing), 'indicator')} ({', '.join(missing)}): "
            "see the data-quality section for late or missing submissions."
        )
    if suppressed:
        sentences.append(
            f"Withheld as too small to publish on {_count(len(suppressed), 'indicator')} ({', '.join(suppressed)})."
        )
    if not sentences:
        sentences.append("No indicator differs from national, and none is missing.")
    return sentences


def _versus(line: EvidenceLine) -> str:
    return (
        f"{line.indicator_name} ({format_value(line.value, line.unit)} against "
        f"{format_value(line.national_value, line.unit)} nationally)"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _issue_view(issue) -> dict:
    return {
        "issue": issue,
        "what": f"{issue.source}.{issue.entity}",
        "received": format_utc_timestamp(issue.received_at) if issue.received_at else "Not received",
        "late_days": (issue.received_at.date() - issue.due_date).days if issue.received_at else None,
    }


def _methods(ctx: PackContext) -> list[dict]:
    """Each indicator's method and disclosure rule, once, in standard order (the methods appendix)."""
    return [
        {"id": line.indicator_id, "name": line.indicator_name, "unit": line.unit, "method": line.method,
         "disclosure": line.disclosure_rule, "polarity": _POLARITY_WORDS.get(line.polarity, line.polarity),
         "interval_method": line.interval_method or "", "trend_method": line.trend_method or ""}
        for section in ctx.standards
        for line in section.evidence
    ]  # fmt: skip


def _section_view(section: StandardSection, provider_id: str) -> dict:
    """A standard with each evidence line turned into display-ready pieces."""
    return {
        "anchor": _anchor(section.standard_id),
        "section": section,
        "lines": [_line_view(line, provider_id, section.standard_id) for line in section.evidence],
    }


def _line_view(line: EvidenceLine, provider_id: str, standard_id: str = "") -> dict:
    """Formatted numbers, comparison wording, chart geometry and highlighted characteristics."""
    symbol, words, css = _COMPARISONS.get(line.comparison, _COMPARISONS[None])
    anchor = f"indicator-{_slug(line.indicator_id)}"
    return {
        "line": line,
        "anchor": anchor,
        "row_anchor": f"line-{_slug(line.indicator_id)}",
        "standard_id": standard_id,
        "significant": line.value is not None and line.comparison in {"better", "worse"},
        "has_value": line.value is not None,
        "value": format_value(line.value, line.unit),
        "numerator": format_number(line.numerator),
        "denominator": format_number(line.denominator),
        "interval": _format_interval(line),
        "interval_998": _format_limits(line.lower_998, line.upper_998, line.unit),
        "national": format_value(line.national_value, line.unit),
        "comparison_symbol": symbol,
        "comparison_words": words,
        "comparison_class": css,
        "comparison_998": _comparison_view(line.comparison_998) if line.comparison_998 else None,
        "polarity_words": _POLARITY_WORDS.get(line.polarity, line.polarity),
        "band": line.indicative_band,
        "band_class": _slug(line.indicative_band or "none"),
        "peers": _peer_view(line),
        "trend": _trend_view(line),
        "previous": _previous_view(line),
        "charts": _charts(line, anchor, provider_id),
        "characteristics": [_characteristic_view(c, line.indicative_band) for c in line.characteristics],
    }


def _comparison_view(word: str | None) -> dict:
    symbol, words, css = _COMPARISONS.get(word, _COMPARISONS[None])
    return {"symbol": symbol, "words": words, "class": css}


#: Trend words with a shape each (never colour alone); the shape follows the comparison shapes.
_TRENDS: dict[str, tuple[str, str, str]] = {
    "improving": ("\u25b2", "Improving", "better"),
    "worsening": ("\u25bc", "Worsening", "worse"),
    "stable": ("\u25cf", "Stable", "similar"),
    "not enough data": ("\u25cb", "Not enough data for a trend", "not-compared"),
}
_CHANGES: dict[str, tuple[str, str]] = {
    "improved": ("Improved", "better"),
    "worsened": ("Worsened", "worse"),
    "no significant change": ("No significant change", "similar"),
    "not comparable": ("Not comparable", "not-compared"),
}


def _trend_view(line: EvidenceLine) -> dict | None:
    """The trend test's result in words, with the p-value, method and number of periods when known."""
    if line.trend_direction is None:
        return None
    symbol, words, css = _TRENDS.get(
        line.trend_direction, ("\u25cb", line.trend_direction.capitalize(), "not-compared")
    )
    details = []
    if line.trend_p_value is not None:
        details.append(_format_p(line.trend_p_value))
    if line.trend_points is not None:
        details.append(_count(line.trend_points, "period"))
    return {
        "symbol": symbol,
        "words": words,
        "class": css,
        "details": ", ".join(details),
        "method": line.trend_method or "",
    }


def _format_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _peer_view(line: EvidenceLine) -> dict | None:
    """The peer group's value and the comparison with it, when the marts give them."""
    if line.peer_value is None and line.peer_comparison is None:
        return None
    comparison = None
    if line.peer_comparison:
        symbol, words, css = _COMPARISONS.get(line.peer_comparison, _COMPARISONS[None])
        comparison = {"symbol": symbol, "words": words.replace("national", "peers"), "class": css}
    return {
        "value": format_value(line.peer_value, line.unit),
        "count": _count(line.peer_count, "provider") if line.peer_count is not None else "",
        "comparison": comparison,
    }


def _previous_view(line: EvidenceLine) -> dict | None:
    """The change since the previous inspection's value, when there was one."""
    if line.previous is None:
        return None
    words, css = _CHANGES.get(line.previous.change, (line.previous.change.capitalize(), "not-compared"))
    return {
        "words": words,
        "class": css,
        "inspection_id": line.previous.inspection_id,
        "period": format_long_date(line.previous.period_end_date),
        "value": format_value(line.previous.value, line.unit),
    }


def _characteristic_view(ref: CharacteristicRef, band: str | None) -> dict:
    """A characteristic with its echoed phrase marked, and whether it matches the indicative band."""
    highlighted, found = highlight_phrase(ref.characteristic_text, ref.phrase)
    return {
        "ref": ref,
        "text": highlighted,
        "phrase_found": found,
        "phrase": _clean_phrase(ref.phrase),
        "matches_band": band is not None and ref.rating == band,
    }


def _format_interval(line: EvidenceLine) -> str:
    return _format_limits(line.lower_95, line.upper_95, line.unit)


def _format_limits(lower: float | None, upper: float | None, unit: str) -> str:
    if lower is None or upper is None:
        return "Not defined"
    return f"{format_value(lower, unit)} to {format_value(upper, unit)}"


def _anchor(standard_id: str) -> str:
    return f"standard-{_slug(standard_id)}"


def _slug(text: str) -> str:
    """A fragment id that is always a valid, inert HTML id whatever the data holds."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


# ---------------------------------------------------------------------------------------------------
# Formatting: locale-free, so output is identical on every machine.
# ---------------------------------------------------------------------------------------------------


def format_value(value: float | None, unit: str) -> str:
    """Format an indicator value by its unit: '%' values are proportions shown as percent, 1 dp."""
    return format_indicator_value(value, unit, missing="No value", suffix=f" {unit}" if unit else "")


def format_number(value: float | None) -> str:
    """A count or FTE: thousands separators, at most 2 dp, no trailing zeros, a true minus sign."""
    if value is None:
        return "\u2014"
    text = f"{abs(value):,.2f}".rstrip("0").rstrip(".")
    return signed(text, value)


def format_long_date(value: date) -> str:
    """'30 September 2026', without depending on the process locale."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_utc_timestamp(value: datetime) -> str:
    """A load time in UTC to the minute; naive values are taken as already UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{value:%Y-%m-%d %H:%M} UTC"


# ---------------------------------------------------------------------------------------------------
# Highlighting the phrase an indicator echoes, without ever emitting unescaped data.
# ---------------------------------------------------------------------------------------------------


def _clean_phrase(phrase: str) -> str:
    return phrase.strip().strip("\"'\u201c\u201d\u2018\u2019").strip()


def highlight_phrase(text: str, phrase: str) -> tuple[Markup, bool]:
    """Escape `text` and wrap the words of `phrase` in <mark>.

    Matching is case-insensitive on the raw text, then each slice is escaped on its own and joined with
    literal <mark> tags, so data can never open or close a tag. A phrase with an ellipsis ("workloads …
    actively managed") is matched part by part, in order. Returns (markup, whether every part was found).
    """
    parts = [p.strip() for p in re.split(r"\u2026|\.\.\.", _clean_phrase(phrase)) if p.strip()]
    spans: list[tuple[int, int]] = []
    cursor = 0
    lowered = text.lower()
    for part in parts:
        start = lowered.find(part.lower(), cursor)
        if start < 0:
            return escape(text), False
        spans.append((start, start + len(part)))
        cursor = start + len(part)
    if not spans:
        return escape(text), False
    pieces: list[Markup] = []
    cursor = 0
    for start, end in spans:
        pieces.append(escape(text[cursor:start]))
        pieces.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        cursor = end
    pieces.append(escape(text[cursor:]))
    return Markup("").join(pieces), True


# ---------------------------------------------------------------------------------------------------
# Charts: inline SVG from packs.charts (and packs.spine, packs.funnel), each with its plain-English summary
# as the caption and its numbers as a table built here from the model, for readers who cannot see it.
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataTable:
    """A chart's numbers: a caption, column headings and rows of display-ready strings."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: Column indexes that hold numbers (right-aligned).
    numeric: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class _Chart:
    svg: Markup | None
    caption: str
    title: str = ""
    table: DataTable | None = None


def _charts(line: EvidenceLine, anchor: str, provider_id: str) -> list[_Chart]:
    """Trend, provider against all others, the PDU breakdown and funnel plots, where the marts hold the data."""
    found = [
        chart
        for chart in (
            _trend_chart(line, anchor),
            _providers_chart(line, anchor, provider_id),
            _pdu_chart(line, anchor),
            _funnel_chart(line, line.funnel, f"{anchor}-funnel", "providers"),
            _funnel_chart(line, line.pdu_funnel, f"{anchor}-pdu-funnel", "PDUs"),
        )
        if chart is not None
    ]
    return found


def _trend_chart(line: EvidenceLine, anchor: str) -> _Chart | None:
    from probation_evidence.packs import charts

    if len(line.trend) < 2:
        return None
    title = f"{line.indicator_name}: trend"
    points = [(p.period_end_date, p.value, p.lower_95, p.upper_95) for p in line.trend]
    national = [(p.period_end_date, p.national_value) for p in line.trend]
    rows = tuple(
        (
            format_long_date(p.period_end_date),
            "Suppressed" if p.is_suppressed else format_value(p.value, line.unit),
            "" if p.is_suppressed else _format_limits(p.lower_95, p.upper_95, line.unit),
            format_value(p.national_value, line.unit),
        )
        for p in line.trend
    )
    return _Chart(
        charts.trend_chart(f"{anchor}-trend", title, line.unit, points, national),
        charts.trend_summary(line.indicator_name, line.unit, points, national),
        title,
        DataTable(
            f"{title}, by period", ("Period ending", "Value", "95% interval", "National"), rows, frozenset({1, 3})
        ),
    )


def _providers_chart(line: EvidenceLine, anchor: str, provider_id: str) -> _Chart | None:
    from probation_evidence.packs import charts

    if not line.peers:
        return None
    title = f"{line.indicator_name}: every provider"
    values = [
        (f"{p.provider_id} {p.provider_name}", p.value, p.lower_95, p.upper_95, p.provider_id == provider_id)
        for p in line.peers
    ]
    args = (line.unit, provider_id, values, line.national_value)
    options = {"period": line.period_end_date, "polarity": line.polarity}
    rows = tuple(
        (
            f"{p.provider_id} {p.provider_name}" + (" (this provider)" if p.provider_id == provider_id else ""),
            "Suppressed" if p.is_suppressed else format_value(p.value, line.unit),
            "" if p.is_suppressed else _format_limits(p.lower_95, p.upper_95, line.unit),
        )
        for p in line.peers
    )
    return _Chart(
        charts.comparison_chart(f"{anchor}-providers", title, *args, **options),
        charts.comparison_summary(line.indicator_name, *args, **options),
        title,
        DataTable(f"{title}, in the same period", ("Provider", "Value", "95% interval"), rows, frozenset({1})),
    )


def _pdu_chart(line: EvidenceLine, anchor: str) -> _Chart | None:
    from probation_evidence.packs import charts

    if not line.pdus:
        return None
    title = f"{line.indicator_name}: by PDU"
    rows = [(p.pdu_code, p.value, p.lower_95, p.upper_95, p.comparison or "not compared") for p in line.pdus]
    table_rows = tuple(
        (
            p.pdu_code,
            "Suppressed" if p.is_suppressed else format_value(p.value, line.unit),
            "" if p.is_suppressed else _format_limits(p.lower_95, p.upper_95, line.unit),
            _COMPARISONS.get(p.comparison, _COMPARISONS[None])[1],
        )
        for p in line.pdus
    )
    return _Chart(
        charts.pdu_chart(f"{anchor}-pdus", title, line.unit, rows, line.national_value),
        charts.pdu_summary(line.indicator_name, line.unit, rows, line.national_value),
        title,
        DataTable(
            f"{title}, compared with national",
            ("PDU", "Value", "95% interval", "Compared with national"),
            table_rows,
            frozenset({1}),
        ),
    )


def _funnel_chart(line: EvidenceLine, view: FunnelView | None, chart_id: str, units: str) -> _Chart | None:
    """A funnel plot (value against denominator, with control limits around the target), where given."""
    if view is None or not view.points:
        return None
    title = f"{line.indicator_name}: funnel plot of {units}"
    adjusted = bool(view.is_overdispersed) and view.adjustment_method not in {"", "none"}
    method_note = "; ".join(part for part in (view.funnel_method, view.adjustment_method if adjusted else "") if part)
    rows = tuple(
        (
            p.label + (" (this provider)" if p.is_focus else ""),
            format_number(p.denominator),
            format_value(p.value, line.unit),
            p.position or "Not placed",
        )
        for p in view.points
    )
    points = [
        funnel.FunnelPoint(p.unit_id, p.label, p.denominator, p.value, p.position or "", is_focus=p.is_focus)
        for p in view.points
    ]
    limits = [
        funnel.FunnelLimit(lim.denominator, lim.lower_95, lim.upper_95, lim.lower_998, lim.upper_998)
        for lim in view.limits
    ]
    svg = funnel.funnel_chart(
        points, limits, target=view.target, unit=line.unit, polarity=line.polarity, chart_id=chart_id,
        title=title, adjusted=adjusted, method_note=method_note, others_label=f"Other {units}",
    )  # fmt: skip
    caption = funnel.funnel_summary(
        points, target=view.target, unit=line.unit, adjusted=adjusted, polarity=line.polarity
    )
    if method_note:
        caption += f" Method: {method_note}."
    return _Chart(
        svg,
        caption,
        title,
        DataTable(title, ("Unit", "Denominator", "Value", "Against the limits"), rows, frozenset({1, 2})),
    )


# ---------------------------------------------------------------------------------------------------
# Overview: one spine chart of every indicator (packs.spine), with its rows built here from the lines.
# ---------------------------------------------------------------------------------------------------


def spine_rows(ctx: PackContext) -> list[dict]:
    """One row per indicator: the provider's value, national, and the spread of every provider's value.

    Minimum, quartiles and maximum are over the values of `line.peers` (every provider in the period) that
    are not suppressed; they are None when no provider has a value.
    """
    rows = []
    for section in ctx.standards:
        for line in section.evidence:
            values = sorted(p.value for p in line.peers if not p.is_suppressed and p.value is not None)
            lower_quartile, upper_quartile = _quartiles(values)
            rows.append(
                {
                    "indicator_id": line.indicator_id,
                    "label": line.indicator_name,
                    "standard_id": section.standard_id,
                    "unit": line.unit,
                    "polarity": line.polarity,
                    "value": line.value,
                    "national_value": line.national_value,
                    "minimum": values[0] if values else None,
                    "lower_quartile": lower_quartile,
                    "upper_quartile": upper_quartile,
                    "maximum": values[-1] if values else None,
                    "comparison_95": line.comparison,
                    "comparison_998": line.comparison_998,
                    "peer_value": line.peer_value,
                    "is_suppressed": line.suppression_reason is not None,
                }
            )
    return rows


def _quartiles(values: list[float]) -> tuple[float | None, float | None]:
    """Lower and upper quartiles (inclusive method: the quartiles of the values themselves)."""
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def _overview(ctx: PackContext) -> dict:
    """The spine chart, its summary, and its numbers as a table."""
    rows = spine_rows(ctx)
    svg, summary = None, ""
    spine_input = [spine.SpineRow(**row) for row in rows]
    if spine_input:
        svg = spine.spine_chart(spine_input, chart_id="overview-spine", title="Every indicator against all providers")
        summary = spine.spine_summary(spine_input)
    table_rows = tuple(
        (
            f"{row['indicator_id']} {row['label']}",
            row["standard_id"],
            "Suppressed" if row["is_suppressed"] else format_value(row["value"], row["unit"]),
            format_value(row["national_value"], row["unit"]),
            _spread(row),
            _COMPARISONS.get(row["comparison_95"], _COMPARISONS[None])[1],
            _COMPARISONS.get(row["comparison_998"], _COMPARISONS[None])[1] if row["comparison_998"] else "",
        )
        for row in rows
    )
    table = DataTable(
        "Every indicator: value, national and the spread of all providers",
        ("Indicator", "Standard", "Value", "National", "All providers: lowest, middle half, highest",
         "Compared at 95%", "Compared at 99.8%"),
        table_rows,
        frozenset({2, 3}),
    )  # fmt: skip
    return {"svg": svg, "summary": summary, "table": table, "count": len(rows)}


def _spread(row: dict) -> str:
    if row["minimum"] is None:
        return "No provider values"
    unit = row["unit"]
    return (
        f"{format_value(row['minimum'], unit)}; {format_value(row['lower_quartile'], unit)} to "
        f"{format_value(row['upper_quartile'], unit)}; {format_value(row['maximum'], unit)}"
    )
