"""What each evidence line is compared with, read from the marts: peers, funnel plots, the previous inspection.

`queries` reads the provider's own values; this module reads the comparators the marts compute beside them,
so a pack shows the same numbers a planner query or a BI tool reads:

* the provider's statistical neighbours (`marts.dim_provider_peer`) and each indicator's pooled peer value
  and comparison (`marts.fct_indicator_peer_comparison`);
* each proportion and rate indicator's funnel plot, for providers and for PDUs: the target, the control
  limits by denominator and the plotted units (`marts.fct_funnel_summary`, `fct_funnel_limits`,
  `fct_funnel_points`), with the overdispersion adjustment where the marts found it;
* the value known when the provider's previous inspection began, and whether it has changed since;
* the disclosure policy in force (`marts.dim_disclosure_policy`), for the methods appendix.

Every value is a bound parameter; the statements are in packs/sql. `queries` calls this module, and this
module never imports `queries`: both read rows through `packs.rows`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from probation_evidence.packs.model import (
    FunnelLimitValue,
    FunnelPointValue,
    FunnelView,
    PeerProvider,
    PreviousValue,
)
from probation_evidence.packs.rows import as_float, fetch_dicts
from probation_evidence.warehouse import read_sql

_PEER_GROUP_SQL = read_sql("probation_evidence.packs", "peer_group")
_PEER_COMPARISON_SQL = read_sql("probation_evidence.packs", "peer_comparison")
_FUNNEL_SUMMARY_SQL = read_sql("probation_evidence.packs", "funnel_summary")
_FUNNEL_LIMITS_SQL = read_sql("probation_evidence.packs", "funnel_limits")
_FUNNEL_POINTS_SQL = read_sql("probation_evidence.packs", "funnel_points")
_PREVIOUS_INSPECTION_SQL = read_sql("probation_evidence.packs", "previous_inspection")
_BASELINE_SQL = read_sql("probation_evidence.packs", "baseline")
_DISCLOSURE_SQL = read_sql("probation_evidence.packs", "disclosure")


def fetch_peer_group(conn: psycopg.Connection, provider_id: str) -> tuple[PeerProvider, ...]:
    """The provider's statistical neighbours, nearest first."""
    return tuple(
        PeerProvider(r["peer_provider_id"], r["provider_name"], int(r["peer_rank"]), as_float(r["distance"]))
        for r in fetch_dicts(conn, _PEER_GROUP_SQL, (provider_id,))
    )


def fetch_peer_comparisons(conn: psycopg.Connection, provider_id: str, wanted: tuple[list, list]) -> dict[str, dict]:
    """Per indicator (in its line's period): peer_value, peer_count and peer_comparison."""
    return {
        r["indicator_id"]: {
            "peer_value": as_float(r["peer_value"]),
            "peer_count": None if r["peer_count"] is None else int(r["peer_count"]),
            "peer_comparison": r["peer_comparison"],
        }
        for r in fetch_dicts(conn, _PEER_COMPARISON_SQL, (*wanted, provider_id))
    }


def fetch_funnels(
    conn: psycopg.Connection, provider_id: str, wanted: tuple[list, list]
) -> dict[tuple[str, str], FunnelView]:
    """Per (indicator, unit level): the funnel the pack draws, with the provider (or its PDUs) as the focus."""
    limits: dict[tuple[str, str], list] = {}
    for r in fetch_dicts(conn, _FUNNEL_LIMITS_SQL, wanted):
        numbers = [as_float(r[k]) for k in ("denominator", "lower_95", "upper_95", "lower_998", "upper_998")]
        limits.setdefault((r["indicator_id"], r["unit_level"]), []).append(FunnelLimitValue(*numbers))
    points: dict[tuple[str, str], list] = {}
    for r in fetch_dicts(conn, _FUNNEL_POINTS_SQL, wanted):
        points.setdefault((r["indicator_id"], r["unit_level"]), []).append(
            FunnelPointValue(
                unit_id=r["unit_id"],
                label=r["unit_label"],
                denominator=as_float(r["denominator"]),
                value=as_float(r["value"]),
                position=r["funnel_position"],
                is_focus=r["provider_id"] == provider_id,
                provider_id=r["provider_id"],
            )
        )
    return {
        (s["indicator_id"], s["unit_level"]): FunnelView(
            unit_level=s["unit_level"],
            target=as_float(s["target_value"]),
            points=tuple(points.get((s["indicator_id"], s["unit_level"]), ())),
            limits=tuple(limits.get((s["indicator_id"], s["unit_level"]), ())),
            is_overdispersed=s["is_overdispersed"],
            adjustment_method=s["adjustment_method"] or "",
            funnel_method=s["funnel_method"] or "",
        )
        for s in fetch_dicts(conn, _FUNNEL_SUMMARY_SQL, wanted)
        if s["target_value"] is not None
    }


def fetch_previous_values(
    conn: psycopg.Connection, provider_id: str, inspection_id: str, fieldwork_start: date, latest: dict[str, dict]
) -> dict[str, PreviousValue]:
    """Per indicator: the value known when the previous inspection began, and the change since.

    `latest` maps indicator ids to the line's row (value, lower_95, upper_95, polarity, period_end_date).
    The change is judged as the marts' planner query judges it: improved or worsened when, by polarity, the
    baseline lies outside the latest value's 95% interval; without an interval, when the value moved by more
    than 5% of the baseline. None when the provider has no earlier inspection in the programme.
    """
    previous = fetch_dicts(conn, _PREVIOUS_INSPECTION_SQL, (provider_id, inspection_id, fieldwork_start))
    if not previous:
        return {}
    baseline_date = previous[0]["fieldwork_start_date"]
    found: dict[str, PreviousValue] = {}
    for r in fetch_dicts(conn, _BASELINE_SQL, (provider_id, baseline_date)):
        line = latest.get(r["indicator_id"])
        if line is None:
            continue
        value = None if r["is_suppressed"] else as_float(r["value"])
        found[r["indicator_id"]] = PreviousValue(
            inspection_id=previous[0]["inspection_id"],
            period_end_date=r["period_end_date"],
            value=value,
            change=_change(line, r["period_end_date"], value),
        )
    return found


def _change(line: dict[str, Any], baseline_period: date, baseline: float | None) -> str:
    latest = as_float(line.get("value"))
    polarity = line.get("polarity")
    if latest is None or baseline is None or polarity not in {"up", "down"}:
        return "not comparable"
    if line.get("period_end_date") is None or line["period_end_date"] <= baseline_period:
        return "not comparable"
    lower, upper = as_float(line.get("lower_95")), as_float(line.get("upper_95"))
    if lower is not None and upper is not None:
        went_up, went_down = baseline < lower, baseline > upper
    else:
        moved = abs(latest - baseline) > 0.05 * abs(baseline)
        went_up, went_down = moved and latest > baseline, moved and latest < baseline
    if not (went_up or went_down):
        return "no significant change"
    return "improved" if went_up == (polarity == "up") else "worsened"


def fetch_disclosure_note(conn: psycopg.Connection) -> str:
    """The disclosure policy's sentence for the methods appendix ('' when the marts hold none)."""
    rows = fetch_dicts(conn, _DISCLOSURE_SQL)
    return rows[0]["methods_appendix_text"] if rows else ""
