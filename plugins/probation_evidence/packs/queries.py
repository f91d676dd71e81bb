"""Read one provider's evidence pack content from the marts (the marts models in dbt_project/models/marts).

Only the public `marts` tables and `audit.load_batches` are read, so the pack depends on the contracted
interface and not on how dbt builds it. Every value travels as a bound parameter (%s), never as text
spliced into SQL. psycopg and the model are imported inside functions: the package is imported by DAG
files, which must parse without heavy imports.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from probation_evidence.packs.rows import as_float, fetch_dicts

if TYPE_CHECKING:
    import psycopg

    from probation_evidence.packs.model import (
        CharacteristicRef,
        EvidenceLine,
        PackContext,
        SourceBatch,
        StandardSection,
    )

_INSPECTION_SQL = """
    select
        i.inspection_id,
        i.provider_id,
        p.provider_name,
        i.inspection_type,
        i.fieldwork_start_date,
        i.fieldwork_end_date
    from marts.dim_inspection as i
    inner join marts.dim_provider as p on p.provider_id = i.provider_id
    where i.inspection_id = %s
"""

_STANDARDS_SQL = """
    select standard_id, standard_name, standard_statement
    from marts.dim_standard
    order by standard_id
"""

# Every catalogued indicator appears, with or without a value for the period (left join): an indicator
# the provider did not supply data for is shown as missing rather than silently dropped.
_EVIDENCE_SQL = """
    select
        d.indicator_id,
        d.indicator_name,
        d.standard_id,
        d.unit,
        d.polarity,
        d.definition,
        d.method,
        d.disclosure_rule,
        f.value,
        f.numerator,
        f.denominator,
        f.lower_95,
        f.upper_95,
        f.lower_998,
        f.upper_998,
        f.interval_method,
        f.national_value,
        f.comparison,
        f.comparison_998,
        f.trend,
        f.trend_p_value,
        f.trend_method,
        f.trend_points,
        f.indicative_band,
        f.period_end_date,
        f.has_late_or_missing_data,
        f.suppression_reason
    from marts.dim_indicator as d
    left join lateral (
        -- each indicator's latest provider-level value on or before the as-at date: sources report
        -- weekly, monthly, quarterly or as snapshots, so their periods need not end on the same day
        select *
        from marts.fct_indicator_values as v
        where
            v.indicator_id = d.indicator_id
            and v.provider_id = %s
            and v.pdu_code is null
            and v.period_end_date <= %s
        order by v.period_end_date desc
        limit 1
    ) as f on true
    order by d.standard_id, d.indicator_id
"""

_CHARACTERISTICS_SQL = """
    select
        b.indicator_id,
        c.characteristic_id,
        c.rating,
        b.phrase,
        c.characteristic_text
    from marts.bridge_indicator_characteristic as b
    inner join marts.dim_characteristic as c on c.characteristic_id = b.characteristic_id
    order by b.indicator_id, c.rating_rank desc, c.paragraph_number, c.characteristic_id
"""

# The provider's own series for the trend charts: its last year of values, oldest first.
_TREND_SQL = """
    select indicator_id, period_end_date, value, lower_95, upper_95, national_value, is_suppressed
    from marts.fct_indicator_values
    where provider_id = %s and pdu_code is null and period_end_date <= %s and period_end_date > %s - 366
    order by indicator_id, period_end_date
"""

# Every provider's value in each indicator's period (the provider against all others).
_PEERS_SQL = """
    select v.indicator_id, v.provider_id, p.provider_name, v.value, v.lower_95, v.upper_95, v.is_suppressed
    from marts.fct_indicator_values as v
    inner join marts.dim_provider as p on v.provider_id = p.provider_id
    inner join unnest(%s::text [], %s::date []) as wanted (indicator_id, period_end_date)
        on v.indicator_id = wanted.indicator_id and v.period_end_date = wanted.period_end_date
    where v.pdu_code is null
    order by v.indicator_id, v.provider_id
"""

# The provider's PDUs in each indicator's period.
_PDUS_SQL = """
    select v.indicator_id, v.pdu_code, v.value, v.lower_95, v.upper_95, v.comparison, v.is_suppressed
    from marts.fct_indicator_values as v
    inner join unnest(%s::text [], %s::date []) as wanted (indicator_id, period_end_date)
        on v.indicator_id = wanted.indicator_id and v.period_end_date = wanted.period_end_date
    where v.provider_id = %s and v.pdu_code is not null
    order by v.indicator_id, v.pdu_code
"""

_RATINGS_SQL = """
    select standard_id, indicative_rating, mean_points, rule_version
    from marts.fct_standard_indicative_ratings
    where provider_id = %s
"""

# Submissions that were late, never arrived or failed, over the year to the as-at date.
_SUBMISSION_ISSUES_SQL = """
    select source, entity, period_end_date, due_date, status, received_at, detail
    from audit.submissions
    where
        provider_id = %s and status in ('late', 'missing', 'failed')
        and period_end_date <= %s and period_end_date > %s - 366
    order by
        case status when 'failed' then 0 when 'missing' then 1 else 2 end, source, entity, period_end_date
"""

_BATCHES_SQL = """
    select batch_id, source, entity, rows_loaded, rows_quarantined, loaded_at
    from audit.load_batches
    where provider_id = %s and period_end_date <= %s and period_end_date > %s - 366
    order by source, entity, loaded_at, batch_id
"""

_DUE_SQL = """
    select
        i.inspection_id,
        i.provider_id,
        i.inspection_type,
        i.fieldwork_start_date,
        i.fieldwork_end_date
    from marts.dim_inspection as i
    where i.fieldwork_start_date > %s and i.fieldwork_start_date <= %s
    order by i.fieldwork_start_date, i.provider_id, i.inspection_id
"""


def load_pack_context(
    conn: psycopg.Connection, inspection_id: str, as_at: date, pack_version: str = "1"
) -> PackContext:
    """Assemble the pack content for one inspection from the marts at the as-at date.

    Raises LookupError when the inspection is unknown, so a publisher asked for the wrong id fails with
    a message naming it instead of rendering an empty pack.
    """
    from probation_evidence.packs import comparators
    from probation_evidence.packs.model import PackContext

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
    from probation_evidence.packs.model import DOMAIN_ONE_STANDARD_IDS, StandardSection

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
    from probation_evidence.packs import comparators
    from probation_evidence.packs.model import EvidenceLine

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
        numbers = {k: as_float(row[k]) for k in _LINE_NUMBERS}
        line = EvidenceLine(
            indicator_id=indicator_id,
            indicator_name=row["indicator_name"],
            unit=row["unit"],
            polarity=row["polarity"],
            **numbers,
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


#: The line's numbers, read from the marts as numeric and handed to the pack as floats.
_LINE_NUMBERS = (
    "value", "numerator", "denominator", "lower_95", "upper_95", "lower_998", "upper_998", "national_value",
    "trend_p_value",
)  # fmt: skip


def _fetch_series(
    conn: psycopg.Connection, provider_id: str, as_at: date, wanted: tuple[list, list]
) -> tuple[dict, ...]:
    """Per indicator: the provider's trend, every provider in the line's period, and the provider's PDUs."""
    from probation_evidence.packs.model import PduValue, PeerValue, SeriesPoint

    trend: dict[str, list] = {}
    for r in fetch_dicts(conn, _TREND_SQL, (provider_id, as_at, as_at)):
        numbers = (as_float(r[k]) for k in ("value", "lower_95", "upper_95", "national_value"))
        trend.setdefault(r["indicator_id"], []).append(
            SeriesPoint(r["period_end_date"], *numbers, bool(r["is_suppressed"]))
        )
    peers: dict[str, list] = {}
    for r in fetch_dicts(conn, _PEERS_SQL, wanted):
        numbers = (as_float(r[k]) for k in ("value", "lower_95", "upper_95"))
        peers.setdefault(r["indicator_id"], []).append(
            PeerValue(r["provider_id"], r["provider_name"], *numbers, bool(r["is_suppressed"]))
        )
    pdus: dict[str, list] = {}
    for r in fetch_dicts(conn, _PDUS_SQL, (*wanted, provider_id)):
        numbers = (as_float(r[k]) for k in ("value", "lower_95", "upper_95"))
        pdus.setdefault(r["indicator_id"], []).append(
            PduValue(r["pdu_code"], *numbers, r["comparison"], bool(r["is_suppressed"]))
        )
    return trend, peers, pdus


def _fetch_characteristics(conn: psycopg.Connection) -> dict[str, list[CharacteristicRef]]:
    """Characteristic statements per indicator, best rating first (the framework's reading order)."""
    from probation_evidence.packs.model import CharacteristicRef

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
    from probation_evidence.packs.model import SourceBatch

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
    from probation_evidence.packs.model import SubmissionIssue

    return tuple(
        SubmissionIssue(**row) for row in fetch_dicts(conn, _SUBMISSION_ISSUES_SQL, (provider_id, as_at, as_at))
    )
