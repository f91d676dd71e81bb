"""Read one provider's evidence pack content from the marts (the marts models in dbt_project/models/marts).

Only the public `marts` tables and `audit.load_batches` are read, so the pack depends on the contracted
interface and not on how dbt builds it. Every value travels as a bound parameter (%s), never as text
spliced into SQL; the statements are in packs/sql. What each line is compared with is read by
`packs.comparators`, which this module calls (never the other way round).
"""

from __future__ import annotations

from datetime import date, timedelta

import psycopg

from probation_evidence.packs import comparators
from probation_evidence.packs.model import (
    DOMAIN_ONE_STANDARD_IDS,
    CharacteristicRef,
    EvidenceLine,
    PackContext,
    PduValue,
    PeerValue,
    SeriesPoint,
    SourceBatch,
    StandardSection,
    SubmissionIssue,
)
from probation_evidence.packs.rows import as_float, fetch_dicts
from probation_evidence.warehouse import read_sql

_INSPECTION_SQL = read_sql("probation_evidence.packs", "inspection")
_STANDARDS_SQL = read_sql("probation_evidence.packs", "standards")
_EVIDENCE_SQL = read_sql("probation_evidence.packs", "evidence")
_CHARACTERISTICS_SQL = read_sql("probation_evidence.packs", "characteristics")
_TREND_SQL = read_sql("probation_evidence.packs", "trend")
_PEERS_SQL = read_sql("probation_evidence.packs", "peers")
_PDUS_SQL = read_sql("probation_evidence.packs", "pdus")
_RATINGS_SQL = read_sql("probation_evidence.packs", "ratings")
_SUBMISSION_ISSUES_SQL = read_sql("probation_evidence.packs", "submission_issues")
_BATCHES_SQL = read_sql("probation_evidence.packs", "batches")
_DUE_SQL = read_sql("probation_evidence.packs", "due")


def load_pack_context(
    conn: psycopg.Connection, inspection_id: str, as_at: date, pack_version: str = "1"
) -> PackContext:
    """Assemble the pack content for one inspection from the marts at the as-at date.

    Raises LookupError when the inspection is unknown, so a publisher asked for the wrong id fails with
    a message naming it instead of rendering an empty pack.
    """
    inspection = fetch_inspection(conn, inspection_id)
    provider_id = inspection["provider_id"]
    return PackContext(
        provider_id=provider_id,
        provider_name=inspection["provider_name"],
        inspection_id=inspection["inspection_id"],
        inspection_type=inspection["inspection_type"],
        fieldwork_start_date=inspection["fieldwork_start_date"],
        fieldwork_end_date=inspection["fieldwork_end_date"],
        as_at_date=as_at,
        pack_version=pack_version,
        standards=_fetch_standards(conn, inspection, as_at),
        batches=_fetch_batches(conn, provider_id, as_at),
        submission_issues=_fetch_submission_issues(conn, provider_id, as_at),
        peer_group=comparators.fetch_peer_group(conn, provider_id),
        disclosure_note=comparators.fetch_disclosure_note(conn),
    )


def find_due_inspections(conn: psycopg.Connection, as_at: date, lead_days: int = 56) -> list[dict]:
    """Inspections whose fieldwork starts inside the lead window (as_at, as_at + lead_days].

    An inspection starting on the as-at date itself is excluded: its pack should already have gone out.
    """
    return fetch_dicts(conn, _DUE_SQL, (as_at, as_at + timedelta(days=lead_days)))


def fetch_inspection(conn: psycopg.Connection, inspection_id: str) -> dict:
    """The inspection row joined to its provider, or LookupError naming the id."""
    rows = fetch_dicts(conn, _INSPECTION_SQL, (inspection_id,))
    if not rows:
        raise LookupError(f"Unknown inspection {inspection_id!r}: not in marts.dim_inspection")
    return rows[0]


def _fetch_standards(conn: psycopg.Connection, inspection: dict, as_at: date) -> list[StandardSection]:
    """All standards with their evidence lines; every domain-one standard must be present."""
    provider_id = inspection["provider_id"]
    standards = fetch_dicts(conn, _STANDARDS_SQL)
    missing = sorted(set(DOMAIN_ONE_STANDARD_IDS) - {s["standard_id"] for s in standards})
    if missing:
        # A pack silently missing a standard would read as "nothing to say"; fail loudly instead.
        raise ValueError(f"marts.dim_standard lacks domain-one standard(s) {', '.join(missing)}")
    lines_by_standard = _fetch_evidence(conn, inspection, as_at)
    ratings = {r["standard_id"]: r for r in fetch_dicts(conn, _RATINGS_SQL, (provider_id,))}
    return [
        StandardSection(
            standard_id=s["standard_id"],
            standard_name=s["standard_name"],
            standard_statement=s["standard_statement"],
            evidence=lines_by_standard.get(s["standard_id"], []),
            indicative_rating=ratings.get(s["standard_id"], {}).get("indicative_rating"),
            mean_points=as_float(ratings.get(s["standard_id"], {}).get("mean_points")),
            rule_version=ratings.get(s["standard_id"], {}).get("rule_version"),
        )
        for s in standards
    ]


def _fetch_evidence(conn: psycopg.Connection, inspection: dict, as_at: date) -> dict[str, list[EvidenceLine]]:
    """Evidence lines grouped by standard id, each with its series, comparators and characteristics."""
    provider_id = inspection["provider_id"]
    characteristics = _fetch_characteristics(conn)
    rows = fetch_dicts(conn, _EVIDENCE_SQL, (provider_id, as_at))
    valued = [r for r in rows if r["period_end_date"] is not None]
    wanted = ([r["indicator_id"] for r in valued], [r["period_end_date"] for r in valued])
    series = _fetch_series(conn, provider_id, as_at, wanted)
    peer = comparators.fetch_peer_comparisons(conn, provider_id, wanted)
    funnels = comparators.fetch_funnels(conn, provider_id, wanted)
    previous = comparators.fetch_previous_values(
        conn, provider_id, inspection["inspection_id"], inspection["fieldwork_start_date"],
        {r["indicator_id"]: r for r in valued},
    )  # fmt: skip
    grouped: dict[str, list[EvidenceLine]] = {}
    for row in rows:
        indicator_id = row["indicator_id"]
        trend, peers, pdus = (s.get(indicator_id, ()) for s in series)
        line = EvidenceLine(
            indicator_id=indicator_id,
            indicator_name=row["indicator_name"],
            unit=row["unit"],
            polarity=row["polarity"],
            value=as_float(row["value"]),
            numerator=as_float(row["numerator"]),
            denominator=as_float(row["denominator"]),
            lower_95=as_float(row["lower_95"]),
            upper_95=as_float(row["upper_95"]),
            lower_998=as_float(row["lower_998"]),
            upper_998=as_float(row["upper_998"]),
            national_value=as_float(row["national_value"]),
            trend_p_value=as_float(row["trend_p_value"]),
            comparison=row["comparison"],
            comparison_998=row["comparison_998"],
            interval_method=row["interval_method"],
            indicative_band=row["indicative_band"],
            definition=row["definition"] or "",
            method=row["method"] or "",
            disclosure_rule=row["disclosure_rule"] or "",
            characteristics=characteristics.get(indicator_id, []),
            period_end_date=row["period_end_date"],
            has_late_or_missing_data=bool(row["has_late_or_missing_data"]),
            suppression_reason=row["suppression_reason"],
            trend_direction=row["trend"],
            trend_method=row["trend_method"],
            trend_points=row["trend_points"],
            trend=tuple(trend),
            peers=tuple(peers),
            pdus=tuple(pdus),
            previous=previous.get(indicator_id),
            funnel=funnels.get((indicator_id, "provider")),
            pdu_funnel=funnels.get((indicator_id, "pdu")),
            **peer.get(indicator_id, {}),
        )
        grouped.setdefault(row["standard_id"], []).append(line)
    return grouped


def _fetch_series(
    conn: psycopg.Connection, provider_id: str, as_at: date, wanted: tuple[list, list]
) -> tuple[dict, ...]:
    """Per indicator: the provider's trend, every provider in the line's period, and the provider's PDUs."""
    trend: dict[str, list] = {}
    for r in fetch_dicts(conn, _TREND_SQL, (provider_id, as_at, as_at)):
        value, lower, upper, national = (as_float(r[k]) for k in ("value", "lower_95", "upper_95", "national_value"))
        trend.setdefault(r["indicator_id"], []).append(
            SeriesPoint(r["period_end_date"], value, lower, upper, national, bool(r["is_suppressed"]))
        )
    peers: dict[str, list] = {}
    for r in fetch_dicts(conn, _PEERS_SQL, wanted):
        value, lower, upper = (as_float(r[k]) for k in ("value", "lower_95", "upper_95"))
        peers.setdefault(r["indicator_id"], []).append(
            PeerValue(r["provider_id"], r["provider_name"], value, lower, upper, bool(r["is_suppressed"]))
        )
    pdus: dict[str, list] = {}
    for r in fetch_dicts(conn, _PDUS_SQL, (*wanted, provider_id)):
        value, lower, upper = (as_float(r[k]) for k in ("value", "lower_95", "upper_95"))
        pdus.setdefault(r["indicator_id"], []).append(
            PduValue(r["pdu_code"], value, lower, upper, r["comparison"], bool(r["is_suppressed"]))
        )
    return trend, peers, pdus


def _fetch_characteristics(conn: psycopg.Connection) -> dict[str, list[CharacteristicRef]]:
    """Characteristic statements per indicator, best rating first (the framework's reading order)."""
    grouped: dict[str, list[CharacteristicRef]] = {}
    for row in fetch_dicts(conn, _CHARACTERISTICS_SQL):
        grouped.setdefault(row["indicator_id"], []).append(
            CharacteristicRef(
                characteristic_id=row["characteristic_id"],
                rating=row["rating"],
                phrase=row["phrase"],
                characteristic_text=row["characteristic_text"],
            )
        )
    return grouped


def _fetch_batches(conn: psycopg.Connection, provider_id: str, as_at: date) -> list[SourceBatch]:
    """Load batches for the provider and period, for the provenance annex."""
    return [
        SourceBatch(
            batch_id=row["batch_id"],
            source=row["source"],
            entity=row["entity"],
            rows_loaded=int(row["rows_loaded"] or 0),
            rows_quarantined=int(row["rows_quarantined"] or 0),
            loaded_at=row["loaded_at"],
        )
        for row in fetch_dicts(conn, _BATCHES_SQL, (provider_id, as_at, as_at))
    ]


def _fetch_submission_issues(conn: psycopg.Connection, provider_id: str, as_at: date) -> tuple:
    """Late, missing and failed submissions of the year to the as-at date, worst first."""
    return tuple(
        SubmissionIssue(**row) for row in fetch_dicts(conn, _SUBMISSION_ISSUES_SQL, (provider_id, as_at, as_at))
    )
