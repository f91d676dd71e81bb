"""Simulated HR system of a provider: establishment (funded posts) and staff records.

The model is a set of funded posts per PDU and grade. Each post is filled by a chain of occupants: an
occupant stays for an exponential tenure whose mean is set by the annual leaving rate, then the post
stays vacant for an exponential gap sized so that the long-run vacant share equals the provider's vacancy
rate. Both rates come from the provider's hidden 1.2 (Staff) band, so worse bands show more vacancies and
more leavers, with realistic noise at any one date. The post structure and each post's occupant chain
depend only on (seed, provider), never on the as-at date, so successive as-at dates tell one consistent
history: the same people, starters and leavers over time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from probation_evidence.simulator.people import (
    Person,
    occupancies,
    people_in_window,
    provider_posts,
    unit_draws,
)
from probation_evidence.simulator.rng import seeded_rng, stable_digest
from probation_evidence.simulator.truth import provider_bands

_NOTICE_DAYS = 28  # a leave date this close after the as-at date is already known (notice given)
_LOOKBACK_DAYS = 365


def generate_establishment(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Funded FTE per PDU and grade at the as-at date, as API records in a stable order."""
    funded: dict[tuple[str, str], float] = {}
    for post in provider_posts(seed, provider_id, size):
        key = (post.pdu_code, post.grade)
        funded[key] = funded.get(key, 0.0) + post.fte
    return [
        {
            "provider_id": provider_id,
            "pdu_code": pdu_code,
            "grade": grade,
            "funded_fte": round(fte, 2),
            "as_at_date": as_at.isoformat(),
        }
        for (pdu_code, grade), fte in sorted(funded.items())
    ]


def _reported_leave_date(leave: date, as_at: date) -> str | None:
    """What the HR system knows at the as-at date: past leave dates and those already under notice."""
    return leave.isoformat() if leave <= as_at + timedelta(days=_NOTICE_DAYS) else None


def generate_staff(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Staff in post at any time in the 12 months to the as-at date (so leavers appear), stable order."""
    window_start = as_at - timedelta(days=_LOOKBACK_DAYS)
    records = []
    for post in provider_posts(seed, provider_id, size):
        for occupant, start, leave in occupancies(seed, provider_id, post, as_at):
            if leave <= window_start:
                continue
            digest = stable_digest(seed, provider_id, post.pdu_code, post.grade, post.index, occupant)
            records.append(
                {
                    "staff_id": f"STF-{digest[:12]}",
                    "provider_id": provider_id,
                    "pdu_code": post.pdu_code,
                    "team_code": post.team_code,
                    "grade": post.grade,
                    "fte": post.fte,
                    "start_date": start.isoformat(),
                    "leave_date": _reported_leave_date(leave, as_at),
                    "as_at_date": as_at.isoformat(),
                }
            )
    return sorted(records, key=lambda r: (r["pdu_code"], r["team_code"], r["grade"], r["staff_id"]))


def _window_start(as_at: date) -> date:
    """First day after the 12-month look-back: events on or after it and on or before the as-at date count."""
    return as_at - timedelta(days=_LOOKBACK_DAYS - 1)


def _years(first: date, last: date) -> range:
    return range(first.year, last.year + 1)


def _weekday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def _add_working_days(start: date, days: int) -> date:
    """The working day ``days - 1`` working days after ``start`` (a weekday): the last day of a ``days`` spell."""
    weeks, extra = divmod(days - 1, 5)
    end = start + timedelta(days=7 * weeks + extra)
    return end + timedelta(days=2) if start.weekday() + extra > 4 else end


def working_days(first: date, last: date) -> int:
    """Weekdays from ``first`` to ``last`` inclusive (bank holidays are ignored)."""
    if last < first:
        return 0
    weeks, extra = divmod((last - first).days + 1, 7)
    return weeks * 5 + sum(1 for i in range(extra) if (first.weekday() + i) % 7 < 5)


def _band(seed: int, provider_id: str) -> str:
    return provider_bands(seed, provider_id)["1.2"]


# ------------------------------------------------------------------------------------------ absences
# National context: ~11 working days lost per FTE a year. Short spells (mostly infections) are frequent and
# brief; long-term spells (over 20 working days) are rarer and dominated by stress and musculoskeletal causes.
_SICKNESS_MULTIPLIER = {"Outstanding": 0.7, "Good": 0.95, "Requires improvement": 1.15, "Inadequate": 1.45}
_SHORT_SPELLS_PER_YEAR, _SHORT_EXTRA_DAYS = 1.4, 2.0  # 1 + exponential(2): mean 3 working days
_LONG_SPELLS_PER_YEAR, _LONG_MIN_DAYS, _LONG_EXTRA_DAYS = 0.165, 21, 24.0  # mean 45 working days
_MAX_SPELL_DAYS = 260
_LONG_STRESS_SHARE = {"Outstanding": 0.36, "Good": 0.44, "Requires improvement": 0.50, "Inadequate": 0.57}
_SHORT_REASONS = (("infection", 0.62), ("musculoskeletal", 0.12), ("mental_health_stress", 0.07), ("other", 0.19))


def _pick(weighted: tuple[tuple[str, float], ...], u: float) -> str:
    total = sum(weight for _, weight in weighted)
    running = 0.0
    for value, weight in weighted:
        running += weight / total
        if u < running:
            return value
    return weighted[-1][0]


def _spells_in_year(seed: int, person: Person, year: int, band: str) -> list[tuple[date, int, str]]:
    """(start, working days, reason) of the sickness spells that would start in ``year``, in date order."""
    rng = seeded_rng(seed, person.staff_id, "absence", year)
    u1, u2 = unit_draws(seed, person.staff_id, "absence-propensity")[:2]
    propensity = -0.5 * math.log(u1 * u2)  # gamma(2, 0.5): mean 1, some people rarely sick
    scale = _SICKNESS_MULTIPLIER[band] * propensity
    days_in_year = (date(year, 12, 31) - date(year, 1, 1)).days + 1
    spells = []
    for rate, long_term in ((_SHORT_SPELLS_PER_YEAR, False), (_LONG_SPELLS_PER_YEAR, True)):
        t = rng.expovariate(rate * scale) if scale > 0 else float("inf")
        while t < 1.0:
            start = _weekday_on_or_after(date(year, 1, 1) + timedelta(days=int(t * days_in_year)))
            if long_term:
                days = _LONG_MIN_DAYS + round(rng.expovariate(1 / _LONG_EXTRA_DAYS))
                stress = _LONG_STRESS_SHARE[band]
                weights = (("mental_health_stress", stress), ("musculoskeletal", 0.3), ("infection", 0.05))
                reason = _pick((*weights, ("other", max(0.0, 0.65 - stress))), rng.random())
            else:
                days = 1 + round(rng.expovariate(1 / _SHORT_EXTRA_DAYS))
                reason = _pick(_SHORT_REASONS, rng.random())
            spells.append((start, min(days, _MAX_SPELL_DAYS), reason))
            t += rng.expovariate(rate * scale)
    return sorted(spells)


def generate_absences(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Sickness spells that started in the 12 months to the as-at date, while the person was in post."""
    band = _band(seed, provider_id)
    first = _window_start(as_at)
    records = []
    for person in people_in_window(seed, provider_id, size, first, as_at):
        busy_until = date.min
        for year in _years(first - timedelta(days=366), as_at):
            for start, days, reason in _spells_in_year(seed, person, year, band):
                end = min(_add_working_days(start, days), person.leave - timedelta(days=1))
                if start <= busy_until or not person.in_post(start) or end < start:
                    continue
                busy_until = end
                if not first <= start <= as_at:
                    continue
                lost = working_days(start, min(end, as_at)) * person.fte
                records.append(
                    {
                        "absence_id": f"ABS-{stable_digest(seed, person.staff_id, start)[:12]}",
                        "staff_id": person.staff_id,
                        "provider_id": provider_id,
                        "pdu_code": person.pdu_code,
                        "start_date": start.isoformat(),
                        "end_date": end.isoformat() if end <= as_at else None,
                        "working_days_lost": round(lost, 1),
                        "reason": reason,
                        "as_at_date": as_at.isoformat(),
                    }
                )
    return sorted(records, key=lambda r: (r["pdu_code"], r["staff_id"], r["start_date"]))


# ------------------------------------------------------------------------------------------ training
@dataclass(frozen=True)
class Course:
    code: str
    mandatory: bool
    hours: float
    #: Days between renewals of a mandatory course; None for one-off (induction) or optional courses.
    cycle_days: int | None = None
    grades: tuple[str, ...] | None = None  # None: every grade


COURSES = (
    Course("INDUCTION", True, 35.0),
    Course("SAFEGUARDING", True, 7.0, 365),
    Course("INFORMATION_SECURITY", True, 2.0, 365),
    Course("RISK_OF_SERIOUS_HARM", True, 14.0, 1095, ("PO", "SPO", "PQiP")),
    Course("DOMESTIC_ABUSE", True, 7.0, 1095),
    Course("EQUALITY_DIVERSITY", True, 3.0, 1095),
    Course("HEALTH_SAFETY", True, 2.0, 1095),
    Course("MOTIVATIONAL_INTERVIEWING", False, 14.0),
    Course("TRAUMA_INFORMED_PRACTICE", False, 7.0),
    Course("NEURODIVERSITY_AWARENESS", False, 3.0),
    Course("LEADERSHIP_ESSENTIALS", False, 21.0, grades=("SPO",)),
)
INDUCTION_DUE_DAYS = 84  # 12 weeks after starting
_ON_TIME = {"Outstanding": 0.96, "Good": 0.90, "Requires improvement": 0.80, "Inadequate": 0.66}
_LATE_COMPLETION = 0.7  # of courses missed, the share completed late (mean 40 days after the deadline)
_OPTIONAL_PER_YEAR = {"Outstanding": 2.0, "Good": 1.5, "Requires improvement": 1.0, "Inadequate": 0.6}
_OPTIONAL_ATTENDED = 0.9


def _applies(course: Course, grade: str) -> bool:
    return course.grades is None or grade in course.grades


def _due_dates(course: Course, person: Person, first: date, last: date) -> list[date]:
    """Deadlines of a mandatory course for a person from ``first`` to ``last``, while in post."""
    first_due = person.start + timedelta(days=INDUCTION_DUE_DAYS)
    if course.cycle_days is None:
        dues = [first_due]
    else:
        k0 = max(0, -(-(first - first_due).days // course.cycle_days))
        dues = []
        due = first_due + timedelta(days=k0 * course.cycle_days)
        while due <= last:
            dues.append(due)
            due += timedelta(days=course.cycle_days)
    return [due for due in dues if first <= due <= last and person.in_post(due)]


def _mandatory_completion(seed: int, person: Person, course: Course, due: date, band: str) -> date | None:
    on_time, early, late, when = unit_draws(seed, person.staff_id, "training", course.code, due)[:4]
    if on_time < _ON_TIME[band]:
        earliest = person.start + timedelta(days=7) if course.code == "INDUCTION" else due - timedelta(days=60)
        return due - timedelta(days=int(early * max(0, (due - max(earliest, person.start)).days)))
    if late < _LATE_COMPLETION:
        return due + timedelta(days=1 + int(-40 * math.log(when)))
    return None


def _optional_sessions(seed: int, person: Person, year: int, band: str) -> list[tuple[Course, date, bool]]:
    rng = seeded_rng(seed, person.staff_id, "optional-training", year)
    options = [c for c in COURSES if not c.mandatory and _applies(c, person.grade)]
    count = 0
    t = rng.expovariate(_OPTIONAL_PER_YEAR[band])
    while t < 1.0 and count < len(options):
        count += 1
        t += rng.expovariate(_OPTIONAL_PER_YEAR[band])
    sessions = []
    for course in rng.sample(options, count):
        day = _weekday_on_or_after(date(year, 1, 1) + timedelta(days=rng.randrange(365)))
        sessions.append((course, day, rng.random() < _OPTIONAL_ATTENDED))
    return sessions


def _completion_record(person: Person, course: Course, due: date, done: date | None, as_at: date) -> dict:
    known = done if done is not None and done <= as_at and person.in_post(done) else None
    return {
        "staff_id": person.staff_id,
        "provider_id": person.provider_id,
        "course_code": course.code,
        "is_mandatory": course.mandatory,
        "due_date": due.isoformat(),
        "completed_date": known.isoformat() if known else None,
        "hours": course.hours,
        "as_at_date": as_at.isoformat(),
    }


def generate_training_completions(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Mandatory courses falling due in the 12 months to the as-at date, and optional sessions booked then."""
    band = _band(seed, provider_id)
    first = _window_start(as_at)
    records = []
    for person in people_in_window(seed, provider_id, size, first, as_at):
        for course in COURSES:
            if course.mandatory and _applies(course, person.grade):
                for due in _due_dates(course, person, first, as_at):
                    done = _mandatory_completion(seed, person, course, due, band)
                    records.append(_completion_record(person, course, due, done, as_at))
        for year in _years(first, as_at):
            for course, day, attended in _optional_sessions(seed, person, year, band):
                if first <= day <= as_at and person.in_post(day):
                    records.append(_completion_record(person, course, day, day if attended else None, as_at))
    return sorted(records, key=lambda r: (r["staff_id"], r["due_date"], r["course_code"]))


# ------------------------------------------------------------------------------------------ supervision
_SUPERVISION_GAP_DAYS = {"Outstanding": 30, "Good": 36, "Requires improvement": 46, "Inadequate": 62}
_APPRAISAL_RATE = {"Outstanding": 0.97, "Good": 0.90, "Requires improvement": 0.78, "Inadequate": 0.60}
_APPRAISAL_ELIGIBLE_DAYS = 180
_FIRST_SUPERVISION_DAYS = 14


def _supervision_dates(seed: int, person: Person, year: int, band: str) -> list[date]:
    rng = seeded_rng(seed, person.staff_id, "supervision", year)
    mean_gap = _SUPERVISION_GAP_DAYS[band] * rng.uniform(0.8, 1.4)
    day = date(year, 1, 1) + timedelta(days=rng.randrange(round(mean_gap)))
    dates = []
    while day.year == year:
        dates.append(_weekday_on_or_after(day))
        day += timedelta(days=max(7, round(rng.gauss(mean_gap, 0.3 * mean_gap))))
    return dates


def _appraisal_date(seed: int, person: Person, year: int, band: str) -> date | None:
    held, when = unit_draws(seed, person.staff_id, "appraisal", year)[:2]
    if held >= _APPRAISAL_RATE[band]:
        return None
    day = _weekday_on_or_after(date(year, 4, 1) + timedelta(days=int(when * 91)))  # April to June
    return day if (day - person.start).days >= _APPRAISAL_ELIGIBLE_DAYS else None


def generate_supervisions(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Supervision sessions and appraisals held in the 12 months to the as-at date with staff then in post."""
    band = _band(seed, provider_id)
    first = _window_start(as_at)
    records = []
    for person in people_in_window(seed, provider_id, size, first, as_at):
        sessions = []
        for year in _years(first, as_at):
            sessions += [(day, "supervision") for day in _supervision_dates(seed, person, year, band)]
            appraisal = _appraisal_date(seed, person, year, band)
            if appraisal is not None:
                sessions.append((appraisal, "appraisal"))
        settled = person.start + timedelta(days=_FIRST_SUPERVISION_DAYS)
        for day, kind in sorted(set(sessions)):
            if first <= day <= as_at and person.in_post(day) and day >= settled:
                records.append(
                    {
                        "staff_id": person.staff_id,
                        "provider_id": provider_id,
                        "supervision_date": day.isoformat(),
                        "kind": kind,
                        "as_at_date": as_at.isoformat(),
                    }
                )
    return sorted(records, key=lambda r: (r["staff_id"], r["supervision_date"], r["kind"]))


# ------------------------------------------------------------------------------------------ adjustments
_ADJUSTMENT_REQUESTS_PER_YEAR = 0.07
_ADJUSTMENT_NEVER = {"Outstanding": 0.01, "Good": 0.03, "Requires improvement": 0.08, "Inadequate": 0.15}
_ADJUSTMENT_DELAY_DAYS = {"Outstanding": 12, "Good": 25, "Requires improvement": 45, "Inadequate": 75}
_ADJUSTMENT_TYPES = (("equipment", 0.35), ("working_pattern", 0.25), ("workplace", 0.15), ("workload", 0.15))


def generate_reasonable_adjustments(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Adjustments requested in the 12 months to the as-at date by staff then in post."""
    band = _band(seed, provider_id)
    first = _window_start(as_at)
    records = []
    for person in people_in_window(seed, provider_id, size, first, as_at):
        for year in _years(first, as_at):
            asked, when, kind, never, delay = unit_draws(seed, person.staff_id, "adjustment", year)[:5]
            if asked >= _ADJUSTMENT_REQUESTS_PER_YEAR:
                continue
            requested = _weekday_on_or_after(date(year, 1, 1) + timedelta(days=int(when * 365)))
            if not (first <= requested <= as_at and person.in_post(requested)):
                continue
            in_place: date | None = None
            if never >= _ADJUSTMENT_NEVER[band]:
                wait = 3 + int(-_ADJUSTMENT_DELAY_DAYS[band] * math.log(delay))
                in_place = requested + timedelta(days=wait)
            known = in_place is not None and in_place <= as_at and person.in_post(in_place)
            records.append(
                {
                    "adjustment_id": f"RA-{stable_digest(seed, person.staff_id, requested)[:12]}",
                    "staff_id": person.staff_id,
                    "provider_id": provider_id,
                    "adjustment_type": _pick((*_ADJUSTMENT_TYPES, ("other", 0.10)), kind),
                    "requested_date": requested.isoformat(),
                    "in_place_date": in_place.isoformat() if known and in_place is not None else None,
                    "as_at_date": as_at.isoformat(),
                }
            )
    return sorted(records, key=lambda r: (r["staff_id"], r["requested_date"]))


ENTITY_GENERATORS = {
    "establishment": generate_establishment,
    "staff": generate_staff,
    "absences": generate_absences,
    "training_completions": generate_training_completions,
    "supervisions": generate_supervisions,
    "reasonable_adjustments": generate_reasonable_adjustments,
}
API_ENTITIES = ENTITY_GENERATORS
FILE_DROPS: dict = {}
