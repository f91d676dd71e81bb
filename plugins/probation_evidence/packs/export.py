"""Every number in an evidence pack as one CSV, beside the HTML and the PDF.

One row per number-bearing item, in the order the pack shows them: each indicator's value with its
interval, benchmark, band and whether the disclosure rule withholds it; each period of its trend;
every provider in its period; each of the provider's PDUs; then the load batches in the provenance
annex. A reader can check any figure in the pack against this file, and a planner can load it into a
spreadsheet. The output depends only on the PackContext, so the same pack always gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from probation_evidence.packs.model import EvidenceLine, FunnelView, PackContext

COLUMNS = (
    "record_type",
    "standard_id",
    "indicator_id",
    "indicator_name",
    "unit",
    "subject",
    "period_end_date",
    "value",
    "numerator",
    "denominator",
    "lower_95",
    "upper_95",
    "national_value",
    "comparison",
    "indicative_band",
    "is_suppressed",
    "rows_loaded",
    "rows_quarantined",
    "lower_998",
    "upper_998",
    "comparison_998",
    "interval_method",
    "trend",
    "trend_p_value",
    "peer_value",
    "peer_comparison",
)

#: Key (not a CSV column) of the provider whose figures a row holds: the pack's provider, except for
#: 'provider_comparison' rows, which hold another provider's value. The frozen copy in
#: marts.evidence_pack_values is tagged with it, so row-level security hides other providers' figures.
ABOUT_PROVIDER = "about_provider_id"


def pack_rows(ctx: PackContext) -> list[dict]:
    """The CSV's rows as dicts keyed by COLUMNS (missing keys are written empty), plus ABOUT_PROVIDER."""
    rows: list[dict] = []
    for section in ctx.standards:
        for line in section.evidence:
            rows += _line_rows(section.standard_id, line, ctx.provider_id)
    # A peer-group row names another provider: it is tagged with that provider, as comparison rows are,
    # so a provider-scoped reader of the frozen values never sees who its neighbours are.
    rows += [
        {ABOUT_PROVIDER: peer.provider_id, "record_type": "peer_group", "subject": peer.provider_id,
         "indicator_name": peer.provider_name, "value": peer.distance}
        for peer in ctx.peer_group
    ]  # fmt: skip
    for batch in ctx.batches:
        rows.append(
            {
                ABOUT_PROVIDER: ctx.provider_id,
                "record_type": "source_batch",
                "subject": batch.batch_id,
                "indicator_name": f"{batch.source}.{batch.entity}",
                "rows_loaded": batch.rows_loaded,
                "rows_quarantined": batch.rows_quarantined,
            }
        )
    return rows


def _line_rows(standard_id: str, line: EvidenceLine, provider_id: str) -> list[dict]:
    base = {
        ABOUT_PROVIDER: provider_id,
        "standard_id": standard_id,
        "indicator_id": line.indicator_id,
        "indicator_name": line.indicator_name,
        "unit": line.unit,
    }
    rows = [
        {
            **base,
            "record_type": "indicator_value",
            "subject": provider_id,
            "period_end_date": line.period_end_date,
            "value": line.value,
            "numerator": line.numerator,
            "denominator": line.denominator,
            "lower_95": line.lower_95,
            "upper_95": line.upper_95,
            "national_value": line.national_value,
            "comparison": line.comparison,
            "indicative_band": line.indicative_band,
            "is_suppressed": line.suppression_reason is not None,
            "lower_998": line.lower_998,
            "upper_998": line.upper_998,
            "comparison_998": line.comparison_998,
            "interval_method": line.interval_method,
            "trend": line.trend_direction,
            "trend_p_value": line.trend_p_value,
            "peer_value": line.peer_value,
            "peer_comparison": line.peer_comparison,
        }
    ]
    if line.previous is not None:
        rows.append(
            {**base, "record_type": "previous_inspection", "subject": line.previous.inspection_id,
             "period_end_date": line.previous.period_end_date, "value": line.previous.value,
             "comparison": line.previous.change}
        )  # fmt: skip
    for funnel in (line.funnel, line.pdu_funnel):
        if funnel is not None:
            rows += _funnel_rows(base, funnel, line.period_end_date, provider_id)
    rows += [
        {**base, "record_type": "trend", "subject": provider_id, "period_end_date": p.period_end_date,
         "value": p.value, "lower_95": p.lower_95, "upper_95": p.upper_95, "national_value": p.national_value,
         "is_suppressed": p.is_suppressed}
        for p in line.trend
    ]  # fmt: skip
    rows += [
        {**base, ABOUT_PROVIDER: p.provider_id, "record_type": "provider_comparison", "subject": p.provider_id,
         "period_end_date": line.period_end_date, "value": p.value, "lower_95": p.lower_95, "upper_95": p.upper_95,
         "is_suppressed": p.is_suppressed}
        for p in line.peers
    ]  # fmt: skip
    rows += [
        {**base, "record_type": "pdu", "subject": p.pdu_code, "period_end_date": line.period_end_date,
         "value": p.value, "lower_95": p.lower_95, "upper_95": p.upper_95, "comparison": p.comparison,
         "is_suppressed": p.is_suppressed}
        for p in line.pdus
    ]  # fmt: skip
    return rows


def _funnel_rows(base: dict, funnel: FunnelView, period: object, provider_id: str) -> list[dict]:
    """A funnel plot's numbers: its target and limits by denominator, then every unit it plots."""
    level = funnel.unit_level
    rows = [
        {**base, "record_type": f"funnel_limit_{level}", "subject": level, "period_end_date": period,
         "denominator": limit.denominator, "lower_95": limit.lower_95, "upper_95": limit.upper_95,
         "lower_998": limit.lower_998, "upper_998": limit.upper_998, "national_value": funnel.target}
        for limit in funnel.limits
    ]  # fmt: skip
    rows += [
        {**base, ABOUT_PROVIDER: point.provider_id or provider_id, "record_type": f"funnel_point_{level}",
         "subject": point.unit_id, "period_end_date": period, "denominator": point.denominator,
         "value": point.value, "comparison": point.position}
        for point in funnel.points
    ]  # fmt: skip
    return rows


def render_pack_csv(ctx: PackContext) -> str:
    """The CSV text: a header, then pack_rows; numbers unrounded (repr), empty for none."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    for row in pack_rows(ctx):
        writer.writerow({key: _cell(row.get(key)) for key in COLUMNS})
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    # A cell a spreadsheet would run as a formula is quoted with a leading apostrophe (CSV injection).
    return "'" + text if text[:1] in {"=", "+", "-", "@"} and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
