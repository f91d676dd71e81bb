"""The charts of the pack, each with its plain-English summary as the caption and its numbers as a table.

The SVG comes from `packs.charts`; the table (a `DataTable`) is built here from the model, for readers who
cannot see the chart, and is the only way the pack shows a chart's numbers. The overview is one spine
chart of every indicator, with its rows (`spine_rows`) built here from the evidence lines.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markupsafe import Markup

from probation_evidence.packs.charts.dotplot import comparison_chart, comparison_summary, pdu_chart, pdu_summary
from probation_evidence.packs.charts.funnel import FunnelLimit, FunnelPoint, funnel_chart, funnel_summary
from probation_evidence.packs.charts.spine import spine_chart
from probation_evidence.packs.charts.spine_rows import SpineRow, spine_summary
from probation_evidence.packs.charts.trend import trend_chart, trend_summary
from probation_evidence.packs.formats import COMPARISONS, format_limits, format_long_date, format_number, format_value

if TYPE_CHECKING:
    from probation_evidence.packs.model import EvidenceLine, FunnelPointValue, FunnelView, PackContext


@dataclass(frozen=True)
class DataTable:
    """A chart's numbers: a caption, column headings and rows of display-ready strings."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: Column indexes that hold numbers (right-aligned).
    numeric: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Chart:
    """A chart as the template shows it: its SVG, caption, title and numbers."""

    svg: Markup | None
    caption: str
    title: str = ""
    table: DataTable | None = None


def line_charts(line: EvidenceLine, anchor: str, provider_id: str) -> list[Chart]:
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


def _trend_chart(line: EvidenceLine, anchor: str) -> Chart | None:
    if len(line.trend) < 2:
        return None
    title = f"{line.indicator_name}: trend"
    points = [(p.period_end_date, p.value, p.lower_95, p.upper_95) for p in line.trend]
    national = [(p.period_end_date, p.national_value) for p in line.trend]
    rows = tuple(
        (
            format_long_date(p.period_end_date),
            "Suppressed" if p.is_suppressed else format_value(p.value, line.unit),
            "" if p.is_suppressed else format_limits(p.lower_95, p.upper_95, line.unit),
            format_value(p.national_value, line.unit),
        )
        for p in line.trend
    )
    return Chart(
        trend_chart(f"{anchor}-trend", title, line.unit, points, national),
        trend_summary(line.indicator_name, line.unit, points, national),
        title,
        DataTable(
            f"{title}, by period", ("Period ending", "Value", "95% interval", "National"), rows, frozenset({1, 3})
        ),
    )


def _providers_chart(line: EvidenceLine, anchor: str, provider_id: str) -> Chart | None:
    if not line.peers:
        return None
    title = f"{line.indicator_name}: every provider"
    values = [
        (f"{p.provider_id} {p.provider_name}", p.value, p.lower_95, p.upper_95, p.provider_id == provider_id)
        for p in line.peers
    ]
    args = (line.unit, provider_id, values, line.national_value)
    period, polarity = line.period_end_date, line.polarity
    rows = tuple(
        (
            f"{p.provider_id} {p.provider_name}" + (" (this provider)" if p.provider_id == provider_id else ""),
            "Suppressed" if p.is_suppressed else format_value(p.value, line.unit),
            "" if p.is_suppressed else format_limits(p.lower_95, p.upper_95, line.unit),
        )
        for p in line.peers
    )
    return Chart(
        comparison_chart(f"{anchor}-providers", title, *args, period=period, polarity=polarity),
        comparison_summary(line.indicator_name, *args, period=period, polarity=polarity),
        title,
        DataTable(f"{title}, in the same period", ("Provider", "Value", "95% interval"), rows, frozenset({1})),
    )


def _pdu_chart(line: EvidenceLine, anchor: str) -> Chart | None:
    if not line.pdus:
        return None
    title = f"{line.indicator_name}: by PDU"
    rows = [(p.pdu_code, p.value, p.lower_95, p.upper_95, p.comparison or "not compared") for p in line.pdus]
    table_rows = tuple(
        (
            p.pdu_code,
            "Suppressed" if p.is_suppressed else format_value(p.value, line.unit),
            "" if p.is_suppressed else format_limits(p.lower_95, p.upper_95, line.unit),
            COMPARISONS.get(p.comparison, COMPARISONS[None])[1],
        )
        for p in line.pdus
    )
    return Chart(
        pdu_chart(f"{anchor}-pdus", title, line.unit, rows, line.national_value),
        pdu_summary(line.indicator_name, line.unit, rows, line.national_value),
        title,
        DataTable(
            f"{title}, compared with national",
            ("PDU", "Value", "95% interval", "Compared with national"),
            table_rows,
            frozenset({1}),
        ),
    )


def _funnel_chart(line: EvidenceLine, view: FunnelView | None, chart_id: str, units: str) -> Chart | None:
    """A funnel plot (value against denominator, with control limits around the target), where given."""
    if view is None or not view.points:
        return None
    title = f"{line.indicator_name}: funnel plot of {units}"
    adjusted = bool(view.is_overdispersed) and view.adjustment_method not in {"", "none"}
    method_note = "; ".join(part for part in (view.funnel_method, view.adjustment_method if adjusted else "") if part)
    points = [
        FunnelPoint(p.unit_id, p.label, p.denominator, p.value, p.position or "", is_focus=p.is_focus)
        for p in view.points
    ]
    limits = [
        FunnelLimit(lim.denominator, lim.lower_95, lim.upper_95, lim.lower_998, lim.upper_998) for lim in view.limits
    ]
    svg = funnel_chart(
        points, limits, target=view.target, unit=line.unit, polarity=line.polarity, chart_id=chart_id,
        title=title, adjusted=adjusted, method_note=method_note, others_label=f"Other {units}",
    )  # fmt: skip
    caption = funnel_summary(points, target=view.target, unit=line.unit, adjusted=adjusted, polarity=line.polarity)
    if method_note:
        caption += f" Method: {method_note}."
    return Chart(svg, caption, title, funnel_table(title, line.unit, view.points))


def funnel_table(title: str, unit: str, points: Iterable[FunnelPointValue | FunnelPoint]) -> DataTable:
    """A funnel plot's numbers, one row per unit in the order given: its denominator, value and position."""
    rows = tuple(
        (
            p.label + (" (this provider)" if p.is_focus else ""),
            format_number(p.denominator),
            format_value(p.value, unit),
            p.position or "Not placed",
        )
        for p in points
    )
    return DataTable(title, ("Unit", "Denominator", "Value", "Against the limits"), rows, frozenset({1, 2}))


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


def overview(ctx: PackContext) -> dict:
    """The spine chart, its summary, and its numbers as a table."""
    rows = spine_rows(ctx)
    svg, summary = None, ""
    spine_input = [SpineRow(**row) for row in rows]
    if spine_input:
        svg = spine_chart(spine_input, chart_id="overview-spine", title="Every indicator against all providers")
        summary = spine_summary(spine_input)
    return {"svg": svg, "summary": summary, "table": overview_table(rows), "count": len(rows)}


def overview_table(rows: list[dict]) -> DataTable:
    """The overview's numbers (rows as `spine_rows` gives them), in the order given."""
    table_rows = tuple(
        (
            f"{row['indicator_id']} {row['label']}",
            row["standard_id"],
            "Suppressed" if row["is_suppressed"] else format_value(row["value"], row["unit"]),
            format_value(row["national_value"], row["unit"]),
            _spread(row),
            COMPARISONS.get(row["comparison_95"], COMPARISONS[None])[1],
            COMPARISONS.get(row["comparison_998"], COMPARISONS[None])[1] if row["comparison_998"] else "",
        )
        for row in rows
    )
    return DataTable(
        "Every indicator: value, national and the spread of all providers",
        ("Indicator", "Standard", "Value", "National", "All providers: lowest, middle half, highest",
         "Compared at 95%", "Compared at 99.8%"),
        table_rows,
        frozenset({2, 3}),
    )  # fmt: skip


def _spread(row: dict) -> str:
    if row["minimum"] is None:
        return "No provider values"
    unit = row["unit"]
    return (
        f"{format_value(row['minimum'], unit)}; {format_value(row['lower_quartile'], unit)} to "
        f"{format_value(row['upper_quartile'], unit)}; {format_value(row['maximum'], unit)}"
    )
