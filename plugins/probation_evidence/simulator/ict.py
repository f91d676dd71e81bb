"""Simulated ICT systems of a provider: availability monitoring, service desk, remote access, record
completeness returns and the MI publication log, all driven by the hidden 1.4 (Information and facilities)
band.

Every entity is a snapshot of the 12 months to the as-at date. Events come from random streams keyed by
(seed, provider, system or PDU or report, month), never by the as-at date, so successive as-at dates agree
about the past; remote access is per person, from the staffing simulator's people in post.
"""

from __future__ import annotations

import calendar
import functools
import math
from datetime import UTC, date, datetime, time, timedelta

from probation_evidence.reference.periods import expected_periods
from probation_evidence.reference.registry import pdus_by_region
from probation_evidence.simulator.people import people_in_post, provider_posts, unit_draws
from probation_evidence.simulator.rng import seeded_rng, stable_digest
from probation_evidence.simulator.truth import provider_bands
from probation_evidence.sources.contracts.ict import INCIDENT_SYSTEMS, MI_REPORTS, SYSTEMS

_LOOKBACK_DAYS = 365
_MINUTES_PER_DAY = 1440

# Service hours per system; case management loses a planned maintenance window on the first Sunday of a month.
_SCHEDULED_MINUTES = {"case_management": 1440, "assessment": 1020, "workload": 1440, "email": 1440}
_MAINTENANCE_MINUTES = 240
# Unplanned unavailability (share of scheduled time) by band: ~99.5% availability is typical.
_UNAVAILABILITY = {"Outstanding": 0.0015, "Good": 0.004, "Requires improvement": 0.008, "Inadequate": 0.016}
_SYSTEM_FRAGILITY = {"case_management": 1.0, "assessment": 1.2, "workload": 1.5, "email": 0.5}
_MEAN_OUTAGE_MINUTES = 90.0

# Incidents of all priorities per 100 users per month, and the share of priority 1 and 2.
_INCIDENTS_PER_100_USERS = {"Outstanding": 3.0, "Good": 4.0, "Requires improvement": 6.0, "Inadequate": 9.0}
_PRIORITY_WEIGHTS = {
    "Outstanding": (0.015, 0.08, 0.48, 0.425),
    "Good": (0.02, 0.10, 0.48, 0.40),
    "Requires improvement": (0.03, 0.13, 0.47, 0.37),
    "Inadequate": (0.05, 0.17, 0.45, 0.33),
}
_RESOLUTION_HOURS = {1: 4.0, 2: 12.0, 3: 48.0, 4: 120.0}
_RESOLUTION_MULTIPLIER = {"Outstanding": 0.7, "Good": 1.0, "Requires improvement": 1.4, "Inadequate": 2.0}
_INCIDENT_SYSTEM_WEIGHTS = (0.25, 0.12, 0.08, 0.15, 0.15, 0.25)  # in INCIDENT_SYSTEMS order
_USERS_PER_POST = 0.9

_DEVICE_ISSUED = {"Outstanding": 0.995, "Good": 0.98, "Requires improvement": 0.93, "Inadequate": 0.90}
_DEVICE_DELAY_DAYS = {"Outstanding": 2, "Good": 5, "Requires improvement": 15, "Inadequate": 35}
_REMOTE_ENABLED = {"Outstanding": 0.99, "Good": 0.97, "Requires improvement": 0.92, "Inadequate": 0.85}

_DIVERSITY_RECORDED = {"Outstanding": 0.97, "Good": 0.92, "Requires improvement": 0.84, "Inadequate": 0.72}
_CASES_PER_POST = 10  # open cases per funded post, roughly 250k nationally

_MI_LATENCY_DAYS = {"Outstanding": 5, "Good": 9, "Requires improvement": 16, "Inadequate": 28}
_MI_NEVER = {"Outstanding": 0.0, "Good": 0.01, "Requires improvement": 0.04, "Inadequate": 0.10}


def _band(seed: int, provider_id: str) -> str:
    return provider_bands(seed, provider_id)["1.4"]


def _window(as_at: date) -> tuple[date, date]:
    return as_at - timedelta(days=_LOOKBACK_DAYS - 1), as_at


def _months(first: date, last: date) -> list[tuple[int, int]]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _check_provider(provider_id: str) -> list:
    pdus = pdus_by_region().get(provider_id)
    if not pdus:
        raise KeyError(f"unknown provider {provider_id!r}")
    return pdus


@functools.lru_cache(maxsize=64)
def _provider_factor(seed: int, provider_id: str) -> float:
    """A provider's own multiplier on failure rates, so providers of one band still differ."""
    return seeded_rng(seed, provider_id, "ict-structure").uniform(0.75, 1.3)


# ------------------------------------------------------------------------------------------ availability
def _month_availability(seed: int, provider_id: str, system: str, year: int, month: int, band: str):
    """(day, scheduled, available) for every day of one month of one system."""
    rng = seeded_rng(seed, provider_id, "availability", system, year, month)
    factor = _provider_factor(seed, provider_id) * _SYSTEM_FRAGILITY[system]
    outage_chance = _UNAVAILABILITY[band] * factor * _SCHEDULED_MINUTES[system] / _MEAN_OUTAGE_MINUTES
    first_sunday = min(d for d in range(1, 8) if date(year, month, d).weekday() == 6)
    for day_number in range(1, calendar.monthrange(year, month)[1] + 1):
        scheduled = _SCHEDULED_MINUTES[system]
        if system == "case_management" and day_number == first_sunday:
            scheduled -= _MAINTENANCE_MINUTES
        lost = 0
        if rng.random() < outage_chance:
            lost = min(scheduled, max(1, round(rng.expovariate(1 / _MEAN_OUTAGE_MINUTES))))
        yield date(year, month, day_number), scheduled, scheduled - lost


def generate_system_availability(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Scheduled and available minutes per system per day for the 12 months to the as-at date."""
    _check_provider(provider_id)
    band = _band(seed, provider_id)
    first, last = _window(as_at)
    records = []
    for system in SYSTEMS:
        for year, month in _months(first, last):
            for day, scheduled, available in _month_availability(seed, provider_id, system, year, month, band):
                if first <= day <= last:
                    records.append(
                        {
                            "provider_id": provider_id,
                            "system_name": system,
                            "service_date": day.isoformat(),
                            "scheduled_minutes": scheduled,
                            "available_minutes": available,
                            "as_at_date": as_at.isoformat(),
                        }
                    )
    return records


# ------------------------------------------------------------------------------------------ incidents
def _pick(values: tuple, weights: tuple[float, ...], u: float):
    running, total = 0.0, sum(weights)
    for value, weight in zip(values, weights, strict=True):
        running += weight / total
        if u < running:
            return value
    return values[-1]


def _month_incidents(seed: int, provider_id: str, size: str, year: int, month: int, band: str):
    """(incident id, system, priority, opened, resolved) of the incidents opened in one month."""
    rng = seeded_rng(seed, provider_id, "incidents", size, year, month)
    users = len(provider_posts(seed, provider_id, size)) * _USERS_PER_POST
    days = calendar.monthrange(year, month)[1]
    expected = users * _INCIDENTS_PER_100_USERS[band] * _provider_factor(seed, provider_id) / 100
    start = datetime(year, month, 1, tzinfo=UTC)
    t, number = rng.expovariate(expected), 0
    while t < 1.0:
        priority = _pick((1, 2, 3, 4), _PRIORITY_WEIGHTS[band], rng.random())
        system = _pick(INCIDENT_SYSTEMS, _INCIDENT_SYSTEM_WEIGHTS, rng.random())
        opened = start + timedelta(seconds=round(t * days * 86400 / 60) * 60)
        hours = rng.expovariate(1 / (_RESOLUTION_HOURS[priority] * _RESOLUTION_MULTIPLIER[band]))
        resolved = opened + timedelta(minutes=max(5, round(hours * 60)))
        incident_id = f"INC-{stable_digest(seed, provider_id, size, year, month, number)[:10].upper()}"
        yield incident_id, system, priority, opened, resolved
        number += 1
        t += rng.expovariate(expected)


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def generate_ict_incidents(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Incidents opened in the 12 months to the as-at date; resolved_at is null if still open at its end."""
    _check_provider(provider_id)
    band = _band(seed, provider_id)
    first, last = _window(as_at)
    end_of_as_at = datetime.combine(as_at + timedelta(days=1), time(), tzinfo=UTC)
    records = []
    for year, month in _months(first, last):
        for incident_id, system, priority, opened, resolved in _month_incidents(
            seed, provider_id, size, year, month, band
        ):
            if first <= opened.date() <= last:
                records.append(
                    {
                        "incident_id": incident_id,
                        "provider_id": provider_id,
                        "system_name": system,
                        "priority": priority,
                        "opened_at": _timestamp(opened),
                        "resolved_at": _timestamp(resolved) if resolved < end_of_as_at else None,
                        "as_at_date": as_at.isoformat(),
                    }
                )
    return records


# ------------------------------------------------------------------------------------------ remote access
def generate_remote_access(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Device and remote access of each person in post at the as-at date (staffing's people)."""
    band = _band(seed, provider_id)
    records = []
    for person in people_in_post(seed, provider_id, size, as_at):
        issued, delay, enabled = unit_draws(seed, person.staff_id, "remote-access")[:3]
        device_day = person.start + timedelta(days=round(-_DEVICE_DELAY_DAYS[band] * math.log(delay)))
        has_device = issued < _DEVICE_ISSUED[band] and device_day <= as_at
        records.append(
            {
                "staff_id": person.staff_id,
                "provider_id": provider_id,
                "pdu_code": person.pdu_code,
                "has_device": has_device,
                "has_remote_access": has_device and enabled < _REMOTE_ENABLED[band],
                "as_at_date": as_at.isoformat(),
            }
        )
    return sorted(records, key=lambda r: (r["pdu_code"], r["staff_id"]))


# ------------------------------------------------------------------------------------------ completeness
@functools.lru_cache(maxsize=64)
def _pdu_profile(seed: int, provider_id: str, size: str) -> dict[str, tuple[int, float]]:
    """Open cases and diversity-recording rate of each PDU of a provider."""
    band = _band(seed, provider_id)
    posts: dict[str, int] = {}
    for post in provider_posts(seed, provider_id, size):
        posts[post.pdu_code] = posts.get(post.pdu_code, 0) + 1
    rng = seeded_rng(seed, provider_id, "completeness-structure")
    return {
        pdu.pdu_code: (
            posts.get(pdu.pdu_code, 1) * _CASES_PER_POST,
            min(0.995, max(0.3, _DIVERSITY_RECORDED[band] + rng.gauss(0.0, 0.03))),
        )
        for pdu in _check_provider(provider_id)
    }


def generate_record_completeness(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Monthly completeness returns per PDU for the 12 complete months to the as-at date."""
    records = []
    for pdu_code, (base_cases, rate) in _pdu_profile(seed, provider_id, size).items():
        for month_end in expected_periods("monthly", as_at):
            rng = seeded_rng(seed, provider_id, pdu_code, "completeness", month_end)
            cases = max(0, round(base_cases * rng.uniform(0.95, 1.05)))
            spread = math.sqrt(cases * rate * (1 - rate))
            recorded = min(cases, max(0, round(cases * rate + rng.gauss(0.0, spread + 0.5 * cases * 0.01))))
            records.append(
                {
                    "provider_id": provider_id,
                    "pdu_code": pdu_code,
                    "month_end_date": month_end.isoformat(),
                    "cases": cases,
                    "cases_with_diversity_recorded": recorded,
                    "as_at_date": as_at.isoformat(),
                }
            )
    return records


# ------------------------------------------------------------------------------------------ MI reports
def generate_mi_reports(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """The monthly MI reports of the 12 complete months to the as-at date and when each was published."""
    _check_provider(provider_id)
    band = _band(seed, provider_id)
    records = []
    for month_end in expected_periods("monthly", as_at):
        for report in MI_REPORTS:
            rng = seeded_rng(seed, provider_id, "mi-report", report, month_end)
            published = None
            if rng.random() >= _MI_NEVER[band]:
                latency = max(1, round(rng.gammavariate(3.0, _MI_LATENCY_DAYS[band] / 3.0)))
                published = month_end + timedelta(days=latency)
            records.append(
                {
                    "report_id": f"MI-{stable_digest(seed, provider_id, report, month_end)[:10].upper()}",
                    "provider_id": provider_id,
                    "report_name": report,
                    "period_end_date": month_end.isoformat(),
                    "published_date": published.isoformat() if published and published <= as_at else None,
                    "as_at_date": as_at.isoformat(),
                }
            )
    return records


API_ENTITIES = {
    "system_availability": generate_system_availability,
    "ict_incidents": generate_ict_incidents,
    "remote_access": generate_remote_access,
    "record_completeness": generate_record_completeness,
    "mi_reports": generate_mi_reports,
}
FILE_DROPS: dict = {}
