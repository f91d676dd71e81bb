"""Content of an evidence pack, as plain frozen dataclasses.

The pack is assembled in two steps that must not know about each other: `queries` reads the marts into
these objects, and `render` turns them into HTML. Keeping the content as inert data in between means a
renderer can be tested without a database, and the same context always renders the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

#: The four standards of domain one, in framework order. Every pack shows all four, evidence or not,
#: because a standard without evidence is itself something a planner needs to see.
DOMAIN_ONE_STANDARD_IDS: tuple[str, ...] = ("1.1", "1.2", "1.3", "1.4")

#: Ratings from best to worst, as the framework orders them (rating_rank 3..0 in the marts).
RATINGS: tuple[str, ...] = ("Outstanding", "Good", "Requires improvement", "Inadequate")


@dataclass(frozen=True)
class CharacteristicRef:
    """One framework characteristic statement an indicator bears on, and the words it echoes."""

    characteristic_id: str
    rating: str
    phrase: str
    characteristic_text: str


@dataclass(frozen=True)
class SeriesPoint:
    """The provider's value in one period, with its interval and the national value (trend chart)."""

    period_end_date: date
    value: float | None
    lower_95: float | None
    upper_95: float | None
    national_value: float | None
    #: Withheld by the marts' disclosure rule (value and limits are then None).
    is_suppressed: bool = False


@dataclass(frozen=True)
class PeerValue:
    """One provider's value in the same period (the provider against all others)."""

    provider_id: str
    provider_name: str
    value: float | None
    lower_95: float | None
    upper_95: float | None
    #: Withheld by the marts' disclosure rule (value and limits are then None).
    is_suppressed: bool = False


@dataclass(frozen=True)
class PduValue:
    """One PDU of the provider in the same period, compared with national."""

    pdu_code: str
    value: float | None
    lower_95: float | None
    upper_95: float | None
    comparison: str | None
    #: Withheld by the marts' disclosure rule (value and limits are then None).
    is_suppressed: bool = False


@dataclass(frozen=True)
class EvidenceLine:
    """One indicator's value for the provider at the as-at date, with its benchmark and framework links.

    Numbers are None when the marts hold no value for the period: the line is still shown, because a
    missing indicator is evidence about the provider's data too.
    """

    indicator_id: str
    indicator_name: str
    unit: str
    polarity: str
    value: float | None
    numerator: float | None
    denominator: float | None
    lower_95: float | None
    upper_95: float | None
    national_value: float | None
    comparison: str | None
    indicative_band: str | None
    definition: str
    characteristics: list[CharacteristicRef]
    #: The period the value is for (sources report weekly, monthly, quarterly or as snapshots).
    period_end_date: date | None = None
    #: A submission this indicator reads was late, missing or failed for the period (audit.submissions).
    has_late_or_missing_data: bool = False
    #: Why the marts withhold the value (disclosure control: numbers too small to publish); None when shown.
    suppression_reason: str | None = None
    #: How the value and its limits are worked out, and when it is withheld (methods appendix).
    method: str = ""
    disclosure_rule: str = ""
    #: The provider's recent periods, oldest first; every provider in that period; the provider's PDUs.
    trend: tuple[SeriesPoint, ...] = ()
    peers: tuple[PeerValue, ...] = ()
    pdus: tuple[PduValue, ...] = ()


@dataclass(frozen=True)
class StandardSection:
    """A domain-one standard with the evidence lines that bear on it (possibly none yet)."""

    standard_id: str
    standard_name: str
    standard_statement: str
    evidence: list[EvidenceLine]
    #: The indicative roll-up of the standard's indicator bands (marts.fct_standard_indicative_ratings).
    indicative_rating: str | None = None
    mean_points: float | None = None
    rule_version: str | None = None


@dataclass(frozen=True)
class SourceBatch:
    """A load batch behind the pack's numbers, for the provenance annex."""

    batch_id: str
    source: str
    entity: str
    rows_loaded: int
    rows_quarantined: int
    loaded_at: datetime


@dataclass(frozen=True)
class SubmissionIssue:
    """A submission the provider owed that came late, never came, or failed to load (audit.submissions)."""

    source: str
    entity: str
    period_end_date: date
    due_date: date
    status: str
    received_at: datetime | None
    detail: str | None


@dataclass(frozen=True)
class PackContext:
    """Everything one provider's evidence pack for one inspection shows, frozen at an as-at date."""

    provider_id: str
    provider_name: str
    inspection_id: str
    inspection_type: str
    fieldwork_start_date: date
    fieldwork_end_date: date
    as_at_date: date
    pack_version: str
    standards: list[StandardSection]
    batches: list[SourceBatch]
    #: Late, missing and failed submissions of the year to the as-at date: put first in the pack.
    submission_issues: tuple[SubmissionIssue, ...] = ()
