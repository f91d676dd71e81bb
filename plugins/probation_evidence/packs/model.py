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
class PreviousValue:
    """The indicator's value at the provider's previous inspection, and whether it has changed since."""

    inspection_id: str
    period_end_date: date
    value: float | None
    #: 'improved' | 'worsened' | 'no significant change' | 'not comparable'
    change: str


@dataclass(frozen=True)
class FunnelPointValue:
    """One unit (provider or PDU) on a funnel plot: its value against its denominator."""

    unit_id: str
    label: str
    denominator: float | None
    value: float | None
    #: Where the unit falls against the control limits (e.g. 'within limits', 'worse (99.8%)').
    position: str | None
    is_focus: bool = False
    #: The provider the unit is (or whose PDU it is): the frozen copy of the pack is tagged with it.
    provider_id: str | None = None


@dataclass(frozen=True)
class FunnelLimitValue:
    """The control limits around the target at one denominator."""

    denominator: float | None
    lower_95: float | None
    upper_95: float | None
    lower_998: float | None
    upper_998: float | None


@dataclass(frozen=True)
class FunnelView:
    """A funnel plot's content: units against their denominators, with the limits around the target."""

    unit_level: str
    target: float | None
    points: tuple[FunnelPointValue, ...] = ()
    limits: tuple[FunnelLimitValue, ...] = ()
    is_overdispersed: bool | None = None
    adjustment_method: str = ""
    funnel_method: str = ""


@dataclass(frozen=True)
class PeerProvider:
    """A provider in this provider's peer group (most similar first)."""

    provider_id: str
    provider_name: str
    rank: int
    distance: float | None


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
    #: 99.8% limits, and the comparison with national they give.
    lower_998: float | None = None
    upper_998: float | None = None
    comparison_998: str | None = None
    #: How the interval is worked out (e.g. 'Wilson score').
    interval_method: str | None = None
    #: 'improving' | 'worsening' | 'stable' | 'not enough data', with the test behind it.
    trend_direction: str | None = None
    trend_p_value: float | None = None
    trend_method: str | None = None
    trend_points: int | None = None
    #: The peer group's value, how many providers it holds, and how the provider compares with it.
    peer_value: float | None = None
    peer_count: int | None = None
    peer_comparison: str | None = None
    previous: PreviousValue | None = None
    funnel: FunnelView | None = None
    pdu_funnel: FunnelView | None = None


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
    #: The providers most like this one, against whom "peers" values are worked out.
    peer_group: tuple[PeerProvider, ...] = ()
    #: The disclosure (small numbers) and count-rounding rules in force, in words, for the methods appendix.
    disclosure_note: str = ""
