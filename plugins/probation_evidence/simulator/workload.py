"""Simulated Workload Management Tool (WMT): one weekly return per provider, a row per case-holding practitioner.

The practitioners are the staffing simulator's people (same staff ids, PDUs, grades and FTE), in post at the
week's end; SPOs hold no caseload. Capacity is the sum of a provider level set by the hidden 1.2 band, a PDU
offset, a persistent personal offset, a slowly drifting component (random values every few weeks,
interpolated) and weekly noise. Every part is a pure function of (seed, provider or person, week), so any one
week generates on its own, quickly, and successive weeks tell one story (runs of weeks above 110% happen).

WMT arithmetic: available points = 2176 x hours / 37 x (hours - reductions) / hours; capacity % = total points /
available points x 100. Cases follow from points via a points-per-case rate by grade and person (case mix).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date

from probation_evidence.reference.registry import pdus_by_region
from probation_evidence.simulator.people import Person, people_in_window, unit_draws
from probation_evidence.simulator.rng import seeded_rng, stable_digest
from probation_evidence.simulator.truth import provider_bands
from probation_evidence.sources.contracts.workload import FULL_TIME_HOURS, NOMINAL_TARGET_POINTS

CASE_HOLDING_GRADES = ("PO", "PSO", "PQiP")
_EPOCH_SUNDAY = date(2000, 1, 2)
_BLOCK_WEEKS = 6

# Mean capacity % by the hidden 1.2 band; nationally about 100-110%.
_PROVIDER_CAPACITY = {"Outstanding": 92.0, "Good": 100.0, "Requires improvement": 107.0, "Inadequate": 114.0}
_PROVIDER_SD, _PDU_SD, _PERSON_SD, _DRIFT_SD, _WEEKLY_SD = 2.5, 4.0, 10.0, 7.0, 3.0
_MIN_CAPACITY = 15.0
_RAMP_WEEKS = 12  # new starters build up to a full caseload
_RAMP_FLOOR = 0.3

# Points per case at 100% and 1 FTE: PO ~36 cases, PSO ~45 (lower-tier cases weigh less).
_POINTS_PER_CASE = {"PO": 60.0, "PQiP": 60.0, "PSO": 48.0}
_CASE_MIX_SD = 0.15
_HIGH_TIER_SHARE = {"PO": 0.45, "PQiP": 0.22}
# Worse bands let more high-tier work fall to PSOs.
_PSO_HIGH_TIER_SHARE = {"Outstanding": 0.03, "Good": 0.06, "Requires improvement": 0.10, "Inadequate": 0.15}

_PQIP_REDUCTION_SHARE = 0.35  # protected study time
_REDUCTION_SHARE_OF_STAFF = 0.15
_REDUCTION_HOURS = (2.0, 7.5)


@dataclass(frozen=True)
class _Traits:
    """What stays with a practitioner from week to week."""

    capacity_offset: float
    points_per_case: float
    high_tier_share: float
    reduction_hours: float


def _normal(u1: float, u2: float) -> float:
    """A standard normal from two uniforms (Box-Muller)."""
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _check_week(period: date) -> int:
    if period.weekday() != 6:
        raise ValueError(f"a weekly return ends on a Sunday; {period} is not one")
    return (period - _EPOCH_SUNDAY).days // 7


@functools.lru_cache(maxsize=64)
def _provider_levels(seed: int, provider_id: str) -> tuple[str, dict[str, float]]:
    """The provider's 1.2 band and the mean capacity of each of its PDUs."""
    band = provider_bands(seed, provider_id)["1.2"]
    rng = seeded_rng(seed, provider_id, "workload-structure")
    level = _PROVIDER_CAPACITY[band] + rng.gauss(0.0, _PROVIDER_SD)
    pdus = pdus_by_region().get(provider_id)
    if not pdus:
        raise KeyError(f"unknown provider {provider_id!r}")
    return band, {pdu.pdu_code: level + rng.gauss(0.0, _PDU_SD) for pdu in pdus}


def _traits(seed: int, person: Person, band: str) -> _Traits:
    u = unit_draws(seed, person.staff_id, "workload-traits")
    hours = FULL_TIME_HOURS * person.fte
    if person.grade == "PQiP":
        reduction = round(hours * _PQIP_REDUCTION_SHARE * 2) / 2
    elif u[4] < _REDUCTION_SHARE_OF_STAFF:
        low, high = _REDUCTION_HOURS
        reduction = min(round((low + u[5] * (high - low)) * 2) / 2, hours / 2)
    else:
        reduction = 0.0
    share = _PSO_HIGH_TIER_SHARE[band] if person.grade == "PSO" else _HIGH_TIER_SHARE[person.grade]
    return _Traits(
        capacity_offset=_PERSON_SD * _normal(u[0], u[1]),
        points_per_case=_POINTS_PER_CASE[person.grade] * math.exp(_CASE_MIX_SD * _normal(u[2], u[3])),
        high_tier_share=min(0.95, share * (0.6 + 0.8 * u[6])),
        reduction_hours=reduction,
    )


@functools.lru_cache(maxsize=64)
def _practitioners(seed: int, provider_id: str, size: str, year: int) -> tuple[tuple[Person, _Traits], ...]:
    """Case-holding people of the staffing simulator's year cache, with their traits worked out once."""
    band, _ = _provider_levels(seed, provider_id)
    people = people_in_window(seed, provider_id, size, date(year - 1, 1, 1), date(year, 12, 31))
    return tuple((p, _traits(seed, p, band)) for p in people if p.grade in CASE_HOLDING_GRADES)


def _uniforms(*parts: object) -> tuple[float, float, float]:
    digest = stable_digest(*parts)
    first, second, third = ((int(digest[i : i + 8], 16) + 0.5) / 4294967296.0 for i in (0, 8, 16))
    return first, second, third


@functools.lru_cache(maxsize=1 << 18)
def _drift_point(seed: int, staff_id: str, block: int) -> float:
    u = _uniforms(seed, staff_id, "workload-drift", block)
    return _DRIFT_SD * _normal(u[0], u[1])


def _row(seed: int, person: Person, traits: _Traits, pdu_level: float, week: int, period: date) -> dict:
    block, step = divmod(week, _BLOCK_WEEKS)
    weight = step / _BLOCK_WEEKS
    drift = (1 - weight) * _drift_point(seed, person.staff_id, block) + weight * _drift_point(
        seed, person.staff_id, block + 1
    )
    u = _uniforms(seed, person.staff_id, "workload-week", week)
    capacity = pdu_level + traits.capacity_offset + drift + _WEEKLY_SD * _normal(u[0], u[1])
    weeks_in_post = (period - person.start).days / 7
    if weeks_in_post < _RAMP_WEEKS:
        capacity *= _RAMP_FLOOR + (1 - _RAMP_FLOOR) * weeks_in_post / _RAMP_WEEKS
    capacity = max(capacity, _MIN_CAPACITY)

    hours = round(FULL_TIME_HOURS * person.fte, 2)
    available = round(NOMINAL_TARGET_POINTS * hours / FULL_TIME_HOURS * (hours - traits.reduction_hours) / hours)
    points = round(capacity / 100 * available)
    cases = round(points / traits.points_per_case)
    high_tier = min(cases, round(cases * traits.high_tier_share + (u[2] - 0.5)))
    return {
        "provider_id": person.provider_id,
        "staff_id": person.staff_id,
        "pdu_code": person.pdu_code,
        "grade": person.grade,
        "week_ending_date": period.isoformat(),
        "active_cases": cases,
        "high_tier_cases": max(0, high_tier),
        "total_points": points,
        "contracted_hours": hours,
        "reduction_hours": traits.reduction_hours,
        "available_points": available,
        "capacity_pct": round(100 * points / available, 1),
    }


def generate_weekly_caseload(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """The WMT return for the week ending ``period`` (a Sunday): practitioners in post that day, stable order."""
    week = _check_week(period)
    _, pdu_levels = _provider_levels(seed, provider_id)
    records = [
        _row(seed, person, traits, pdu_levels[person.pdu_code], week, period)
        for person, traits in _practitioners(seed, provider_id, size, period.year)
        if person.start <= period < person.leave
    ]
    return sorted(records, key=lambda r: (r["pdu_code"], r["staff_id"]))


API_ENTITIES: dict = {}
FILE_DROPS = {"weekly_caseload": generate_weekly_caseload}
