"""Simulated services source: the interventions catalogue, referrals and the volunteer roster, delivered
quarterly as file drops (snapshots at the quarter end).

The hidden 1.3 (Services) band sets how much specialist provision there is and how much is available,
how long people wait from referral to start, and how many finish; the 1.2 (Staff) band sets the size and
activity of the volunteer and mentor roster. Referrals and volunteers come from histories that depend only
on (seed, provider, size), so successive quarters show the same referrals progressing.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date, timedelta

from probation_evidence.reference.registry import pdus_by_region
from probation_evidence.simulator.people import check_size
from probation_evidence.simulator.rng import seeded_rng, stable_digest
from probation_evidence.simulator.truth import provider_bands

SPECIALIST_SHARE = {"Outstanding": 0.32, "Good": 0.24, "Requires improvement": 0.16, "Inadequate": 0.08}
AVAILABLE = {"Outstanding": 0.96, "Good": 0.89, "Requires improvement": 0.78, "Inadequate": 0.64}
MEDIAN_DAYS_TO_START = {"Outstanding": 9, "Good": 16, "Requires improvement": 28, "Inadequate": 48}
NEVER_STARTS = {"Outstanding": 0.07, "Good": 0.11, "Requires improvement": 0.17, "Inadequate": 0.25}
COMPLETES = {"Outstanding": 0.86, "Good": 0.76, "Requires improvement": 0.63, "Inadequate": 0.50}
VOLUNTEERS_PER_PDU = {"Outstanding": 26, "Good": 16, "Requires improvement": 10, "Inadequate": 5}
ACTIVE = {"Outstanding": 0.9, "Good": 0.84, "Requires improvement": 0.74, "Inadequate": 0.62}
_REFERRALS_PER_PDU_MONTH = {"small": 4, "national": 30}
_VOLUNTEER_SCALE = {"small": 0.3, "national": 1.0}
_HISTORY_START = date(2020, 1, 1)

_NAMES = {
    "universal": (
        "Accommodation advice",
        "Employment, training and education",
        "Finance, benefit and debt",
        "Personal wellbeing",
        "Dependency and recovery",
        "Family and significant others",
        "Résumé and job-search clinic",
    ),
    "targeted": (
        "Thinking Skills Programme",
        "Building Choices",
        "Women’s service – one-to-one",
        "Emotional wellbeing – group",
        "Attitudes, thinking and behaviour",
        "Café Connect mentoring",
    ),
    "specialist": (
        "Building Better Relationships",
        "Horizon",
        "iHorizon",
        "Kaizen",
        "Becoming New Me+",
        "New Me Strengths",
        "Domestic abuse – perpetrator programme",
        "Personality disorder pathway",
    ),
}


@dataclass(frozen=True)
class _Intervention:
    intervention_id: str
    name: str
    category: str
    delivery: str
    pdu_code: str | None


@functools.lru_cache(maxsize=64)
def _catalogue(seed: int, provider_id: str) -> tuple[_Intervention, ...]:
    """A provider's interventions: a region-wide core plus a few per PDU; stable over time."""
    band = provider_bands(seed, provider_id)["1.3"]
    rng = seeded_rng(seed, provider_id, "interventions")
    locations = [None] * 10 + [p.pdu_code for p in pdus_by_region()[provider_id] for _ in range(rng.randint(1, 3))]
    items = []
    for number, pdu_code in enumerate(locations, start=1):
        roll = rng.random()
        category = "specialist" if roll < SPECIALIST_SHARE[band] else "targeted" if roll < 0.5 else "universal"
        items.append(
            _Intervention(
                intervention_id=f"INT-{provider_id}-{number:03d}",
                name=rng.choice(_NAMES[category]),
                category=category,
                delivery="partner" if rng.random() < 0.45 else "in_house",
                pdu_code=pdu_code,
            )
        )
    return tuple(items)


def generate_interventions(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    check_size(size)
    available = AVAILABLE[provider_bands(seed, provider_id)["1.3"]]
    rng = seeded_rng(seed, provider_id, period, "interventions-available")
    return [
        {
            "intervention_id": item.intervention_id,
            "provider_id": provider_id,
            "name": item.name,
            "category": item.category,
            "delivery": item.delivery,
            "pdu_code": item.pdu_code,
            "is_available": rng.random() < available - (0.08 if item.category == "specialist" else 0.0),
            "quarter_end_date": period.isoformat(),
        }
        for item in _catalogue(seed, provider_id)
    ]


@dataclass(frozen=True)
class _Referral:
    referral_id: str
    pdu_code: str
    intervention_id: str
    referred: date
    started: date | None
    ended: date | None
    completed: bool


def _month_starts(first: date, last: date) -> list[date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return months


@functools.lru_cache(maxsize=4096)
def _referrals_in_month(seed: int, provider_id: str, pdu_code: str, month: date, size: str) -> tuple[_Referral, ...]:
    """Referrals made by one PDU in one month, with their whole future; independent of any as-at date."""
    band = provider_bands(seed, provider_id)["1.3"]
    rng = seeded_rng(seed, provider_id, pdu_code, month, "referrals")
    options = [i for i in _catalogue(seed, provider_id) if i.pdu_code in (None, pdu_code)]
    days = ((month + timedelta(days=32)).replace(day=1) - month).days
    mean = _REFERRALS_PER_PDU_MONTH[size]
    referrals = []
    for number in range(max(0, round(rng.gauss(mean, math.sqrt(mean))))):
        referred = month + timedelta(days=rng.randrange(days))
        started = ended = None
        completed = False
        if rng.random() < NEVER_STARTS[band]:
            ended = referred + timedelta(days=rng.randint(5, 60))
        else:
            wait = max(1, round(rng.lognormvariate(math.log(MEDIAN_DAYS_TO_START[band]), 0.6)))
            started = referred + timedelta(days=wait)
            duration = rng.randint(30, 120)
            completed = rng.random() < COMPLETES[band]
            ended = started + timedelta(days=duration if completed else rng.randint(7, duration))
        referrals.append(
            _Referral(
                referral_id="REF-" + stable_digest(seed, provider_id, pdu_code, month, number)[:10].upper(),
                pdu_code=pdu_code,
                intervention_id=rng.choice(options).intervention_id,
                referred=referred,
                started=started,
                ended=ended,
                completed=completed,
            )
        )
    return tuple(referrals)


def _status(referral: _Referral, period: date) -> tuple[str | None, str | None, str]:
    started = referral.started if referral.started and referral.started <= period else None
    ended = referral.ended if referral.ended and referral.ended <= period else None
    outcome = "ongoing" if started else "not_started"
    if ended:
        outcome = "completed" if referral.completed else "withdrawn"
    return (started.isoformat() if started else None), (ended.isoformat() if ended else None), outcome


def generate_referrals(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """Referrals made in the 12 months to the quarter end, with their status at the quarter end."""
    check_size(size)
    window_start = period - timedelta(days=365)
    records = []
    for pdu in pdus_by_region()[provider_id]:
        for month in _month_starts(window_start, period):
            for referral in _referrals_in_month(seed, provider_id, pdu.pdu_code, month, size):
                if not window_start < referral.referred <= period:
                    continue
                started, ended, outcome = _status(referral, period)
                records.append(
                    {
                        "referral_id": referral.referral_id,
                        "provider_id": provider_id,
                        "pdu_code": referral.pdu_code,
                        "intervention_id": referral.intervention_id,
                        "referred_date": referral.referred.isoformat(),
                        "started_date": started,
                        "ended_date": ended,
                        "outcome": outcome,
                        "quarter_end_date": period.isoformat(),
                    }
                )
    return records


def generate_volunteers(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """Volunteers on the roster at the quarter end: each roster place is filled by a chain of people."""
    check_size(size)
    band = provider_bands(seed, provider_id)["1.2"]
    records = []
    for pdu in pdus_by_region()[provider_id]:
        places = max(1, round(VOLUNTEERS_PER_PDU[band] * _VOLUNTEER_SCALE[size]))
        for place in range(places):
            rng = seeded_rng(seed, provider_id, pdu.pdu_code, place, "volunteer")
            start, occupant = _HISTORY_START - timedelta(days=rng.randrange(700)), 0
            while start <= period:
                leave = start + timedelta(days=max(60, round(rng.expovariate(1 / 700))))
                if start <= period < leave:
                    role = rng.choice(("volunteer", "volunteer", "mentor", "peer_mentor"))
                    active = seeded_rng(seed, provider_id, pdu.pdu_code, place, period).random() < ACTIVE[band]
                    records.append(
                        {
                            "volunteer_id": "VOL-"
                            + stable_digest(seed, provider_id, pdu.pdu_code, place, occupant)[:10].upper(),
                            "provider_id": provider_id,
                            "pdu_code": pdu.pdu_code,
                            "role": role,
                            "start_date": start.isoformat(),
                            "is_active": active,
                            "quarter_end_date": period.isoformat(),
                        }
                    )
                    break
                start, occupant = leave + timedelta(days=rng.randint(0, 120)), occupant + 1
    return records


API_ENTITIES: dict = {}
FILE_DROPS: dict = {
    "interventions": generate_interventions,
    "referrals": generate_referrals,
    "volunteers": generate_volunteers,
}
