"""The template's view of a pack: each standard and evidence line turned into display-ready pieces.

Precomputed here so the template stays declarative: formatted numbers, comparison words with a shape
each (never colour alone), trend and peer results, highlighted characteristics and each line's charts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from probation_evidence.packs.figures import line_charts
from probation_evidence.packs.formats import (
    COMPARISONS,
    clean_phrase,
    format_limits,
    format_long_date,
    format_number,
    format_utc_timestamp,
    format_value,
    highlight_phrase,
    plural,
)
from probation_evidence.reference.framework import RATINGS

if TYPE_CHECKING:
    from probation_evidence.packs.model import CharacteristicRef, EvidenceLine, PackContext, StandardSection


_POLARITY_WORDS = {
    "down": "Lower is better",
    "up": "Higher is better",
    "none": "No preferred direction",
}
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


def summary_row(section: StandardSection) -> dict:
    """Counts of evidence lines by indicative band for one standard, for the summary table."""
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
            sentences.append(f"{word.capitalize()} than national on {plural(len(lines), 'indicator')}: {shown}{more}.")
    suppressed = [line.indicator_name for line in section.evidence if line.suppression_reason]
    missing = [line.indicator_name for line in section.evidence if line.value is None and not line.suppression_reason]
    if missing:
        sentences.append(
            f"No value for the period on {plural(len(missing), 'indicator')} ({', '.join(missing)}): "
            "see the data-quality section for late or missing submissions."
        )
    if suppressed:
        sentences.append(
            f"Withheld as too small to publish on {plural(len(suppressed), 'indicator')} ({', '.join(suppressed)})."
        )
    if not sentences:
        sentences.append("No indicator differs from national, and none is missing.")
    return sentences


def _versus(line: EvidenceLine) -> str:
    return (
        f"{line.indicator_name} ({format_value(line.value, line.unit)} against "
        f"{format_value(line.national_value, line.unit)} nationally)"
    )


def issue_view(issue) -> dict:
    return {
        "issue": issue,
        "what": f"{issue.source}.{issue.entity}",
        "received": format_utc_timestamp(issue.received_at) if issue.received_at else "Not received",
        "late_days": (issue.received_at.date() - issue.due_date).days if issue.received_at else None,
    }


def methods(ctx: PackContext) -> list[dict]:
    """Each indicator's method and disclosure rule, once, in standard order (the methods appendix)."""
    return [
        {"id": line.indicator_id, "name": line.indicator_name, "unit": line.unit, "method": line.method,
         "disclosure": line.disclosure_rule, "polarity": _POLARITY_WORDS.get(line.polarity, line.polarity),
         "interval_method": line.interval_method or "", "trend_method": line.trend_method or ""}
        for section in ctx.standards
        for line in section.evidence
    ]  # fmt: skip


def section_view(section: StandardSection, provider_id: str) -> dict:
    """A standard with each evidence line turned into display-ready pieces."""
    return {
        "anchor": _anchor(section.standard_id),
        "section": section,
        "lines": [_line_view(line, provider_id, section.standard_id) for line in section.evidence],
    }


def _line_view(line: EvidenceLine, provider_id: str, standard_id: str = "") -> dict:
    """Formatted numbers, comparison wording, chart geometry and highlighted characteristics."""
    symbol, words, css = COMPARISONS.get(line.comparison, COMPARISONS[None])
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
        "interval_998": format_limits(line.lower_998, line.upper_998, line.unit),
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
        "charts": line_charts(line, anchor, provider_id),
        "characteristics": [_characteristic_view(c, line.indicative_band) for c in line.characteristics],
    }


def _comparison_view(word: str | None) -> dict:
    symbol, words, css = COMPARISONS.get(word, COMPARISONS[None])
    return {"symbol": symbol, "words": words, "class": css}


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
        details.append(plural(line.trend_points, "period"))
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
        symbol, words, css = COMPARISONS.get(line.peer_comparison, COMPARISONS[None])
        comparison = {"symbol": symbol, "words": words.replace("national", "peers"), "class": css}
    return {
        "value": format_value(line.peer_value, line.unit),
        "count": plural(line.peer_count, "provider") if line.peer_count is not None else "",
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
        "phrase": clean_phrase(ref.phrase),
        "matches_band": band is not None and ref.rating == band,
    }


def _format_interval(line: EvidenceLine) -> str:
    return format_limits(line.lower_95, line.upper_95, line.unit)


def _anchor(standard_id: str) -> str:
    return f"standard-{_slug(standard_id)}"


def _slug(text: str) -> str:
    """A fragment id that is always a valid, inert HTML id whatever the data holds."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"
