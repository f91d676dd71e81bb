"""Render an evidence pack to one self-contained, deterministic HTML file.

Self-contained: CSS and SVG are inline and nothing is fetched, so the file opens the same offline, in a
secure inspection laptop, or years later. Deterministic: the output depends only on the PackContext (no
clock, no locale, no random ids), so regenerating a pack for the same as-at date gives identical bytes
and a content hash can prove it. All data is escaped by Jinja's autoescape; the only markup built in
Python is the <mark> highlighting, which wraps individually escaped fragments.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from probation_evidence.packs.charts import format_indicator_value, signed

if TYPE_CHECKING:
    from jinja2 import Environment

    from probation_evidence.packs.model import (
        CharacteristicRef,
        EvidenceLine,
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

    return {
        "ctx": ctx,
        "ratings": RATINGS,
        "framework_quote": _FRAMEWORK_QUOTE,
        "summary": [_summary_row(s) for s in ctx.standards],
        "issues": [_issue_view(i) for i in ctx.submission_issues],
        "issue_counts": {s: sum(i.status == s for i in ctx.submission_issues) for s in ("failed", "missing", "late")},
        "methods": _methods(ctx),
        "sections": [_section_view(s, ctx.provider_id) for s in ctx.standards],
        "total_quarantined": sum(b.rows_quarantined for b in ctx.batches),
    }


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
         "disclosure": line.disclosure_rule, "polarity": _POLARITY_WORDS.get(line.polarity, line.polarity)}
        for section in ctx.standards
        for line in section.evidence
    ]  # fmt: skip


def _section_view(section: StandardSection, provider_id: str) -> dict:
    """A standard with each evidence line turned into display-ready pieces."""
    return {
        "anchor": _anchor(section.standard_id),
        "section": section,
        "lines": [_line_view(line, provider_id) for line in section.evidence],
    }


def _line_view(line: EvidenceLine, provider_id: str) -> dict:
    """Formatted numbers, comparison wording, chart geometry and highlighted characteristics."""
    symbol, words, css = _COMPARISONS.get(line.comparison, _COMPARISONS[None])
    return {
        "line": line,
        "anchor": f"indicator-{_slug(line.indicator_id)}",
        "has_value": line.value is not None,
        "value": format_value(line.value, line.unit),
        "numerator": format_number(line.numerator),
        "denominator": format_number(line.denominator),
        "interval": _format_interval(line),
        "national": format_value(line.national_value, line.unit),
        "comparison_symbol": symbol,
        "comparison_words": words,
        "comparison_class": css,
        "polarity_words": _POLARITY_WORDS.get(line.polarity, line.polarity),
        "band": line.indicative_band,
        "band_class": _slug(line.indicative_band or "none"),
        "charts": _charts(line, f"indicator-{_slug(line.indicator_id)}", provider_id),
        "characteristics": [_characteristic_view(c, line.indicative_band) for c in line.characteristics],
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
    if line.lower_95 is None or line.upper_95 is None:
        return "Not defined"
    return f"{format_value(line.lower_95, line.unit)} to {format_value(line.upper_95, line.unit)}"


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
# Charts: inline SVG from packs.charts, each with its plain-English summary as the caption.
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chart:
    svg: Markup
    caption: str


def _charts(line: EvidenceLine, anchor: str, provider_id: str) -> list[_Chart]:
    """Trend, provider against all others, and the PDU breakdown, where the marts hold the data."""
    from probation_evidence.packs import charts

    title = line.indicator_name
    found: list[_Chart] = []
    if len(line.trend) >= 2:
        points = [(p.period_end_date, p.value, p.lower_95, p.upper_95) for p in line.trend]
        national = [(p.period_end_date, p.national_value) for p in line.trend]
        found.append(
            _Chart(
                charts.trend_chart(f"{anchor}-trend", f"{title}: trend", line.unit, points, national),
                charts.trend_summary(title, line.unit, points, national),
            )
        )
    if line.peers:
        values = [
            (f"{p.provider_id} {p.provider_name}", p.value, p.lower_95, p.upper_95, p.provider_id == provider_id)
            for p in line.peers
        ]
        args = (line.unit, provider_id, values, line.national_value)
        options = {"period": line.period_end_date, "polarity": line.polarity}
        found.append(
            _Chart(
                charts.comparison_chart(f"{anchor}-providers", f"{title}: every provider", *args, **options),
                charts.comparison_summary(title, *args, **options),
            )
        )
    if line.pdus:
        rows = [(p.pdu_code, p.value, p.lower_95, p.upper_95, p.comparison or "not compared") for p in line.pdus]
        found.append(
            _Chart(
                charts.pdu_chart(f"{anchor}-pdus", f"{title}: by PDU", line.unit, rows, line.national_value),
                charts.pdu_summary(title, line.unit, rows, line.national_value),
            )
        )
    return found
