"""Simulated feedback source: a quarterly staff pulse survey, people-on-probation feedback and complaints,
delivered as file drops (one file per provider per quarter).

Answers are drawn from the provider's hidden bands: 1.1 (Leadership) moves the vision and raising-concerns
items, 1.2 (Staff) the engagement, feeling-valued and workload items, 1.3 (Services) how easily people on
probation reach services, and 1.4 (Information and facilities) fair treatment and how quickly complaints
are answered. Every generator is deterministic in (seed, period, provider, size).
"""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

from probation_evidence.reference.registry import pdus_by_region
from probation_evidence.simulator.people import SIZE_SCALE
from probation_evidence.simulator.rng import seeded_rng, stable_digest
from probation_evidence.simulator.staffing import generate_staff
from probation_evidence.simulator.truth import provider_bands
from probation_evidence.sources.contracts.feedback import COMPLAINT_CATEGORIES, POP_QUESTIONS, STAFF_QUESTIONS

#: Share agreeing (4 or 5) with a favourable statement, by band.
AGREE_BY_BAND = {"Outstanding": 0.78, "Good": 0.64, "Requires improvement": 0.50, "Inadequate": 0.36}
#: Which standard's band drives each item, and the item's offset from the band's base agreement.
STAFF_ITEM_DRIVERS = {
    **{q: ("1.2", 0.0) for q in STAFF_QUESTIONS[:5]},
    "workload_manageable": ("1.2", -0.14),
    "feel_valued": ("1.2", -0.06),
    "understand_vision": ("1.1", 0.04),
    "safe_to_raise_concerns": ("1.1", -0.02),
}
POP_ITEM_DRIVERS = {
    "services_easy_to_access": ("1.3", 0.02),
    "treated_fairly": ("1.4", 0.08),
    "involved_in_plan": ("1.3", -0.04),
    "overall_satisfied": ("1.4", 0.0),
}
#: Complaints answered within 20 working days, by the 1.4 band.
ON_TIME_BY_BAND = {"Outstanding": 0.93, "Good": 0.83, "Requires improvement": 0.66, "Inadequate": 0.46}
RESPONSE_RATE = (0.50, 0.65)
PDU_WITHHELD = 0.12
ITEM_SKIPPED = 0.03
_POP_PER_PDU = {"small": (4, 10), "national": (15, 40)}
_COMPLAINTS_PER_PDU = {"small": 1.5, "national": 6.0}
COMPLAINT_TARGET_WORKING_DAYS = 20


def quarter_start(quarter_end: date) -> date:
    month = quarter_end.month - 2
    return date(quarter_end.year, month, 1) if month > 0 else date(quarter_end.year - 1, month + 12, 1)


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days (Monday to Friday) after `day`; bank holidays are ignored."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def likert(rng: Random, p_agree: float) -> int:
    """A five-point answer: agree (4/5) with probability p_agree, else neutral or disagree."""
    if rng.random() < min(max(p_agree, 0.02), 0.98):
        return 5 if rng.random() < 0.35 else 4
    roll = rng.random()
    return 3 if roll < 0.45 else 2 if roll < 0.8 else 1


def _in_post(record: dict, day: date) -> bool:
    return record["start_date"] <= day.isoformat() and (
        record["leave_date"] is None or record["leave_date"] > day.isoformat()
    )


def generate_staff_survey(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """One row per respondent per answered item; about 50-65% of staff in post respond."""
    bands = provider_bands(seed, provider_id)
    staff = [s for s in generate_staff(seed, period, provider_id, size) if _in_post(s, period)]
    rng = seeded_rng(seed, provider_id, period, "staff_survey")
    respondents = rng.sample(staff, round(len(staff) * rng.uniform(*RESPONSE_RATE)))
    records = []
    for number, person in enumerate(respondents):
        response_id = "R" + stable_digest(seed, provider_id, period, "staff_survey", number)[:11].upper()
        pdu_code = None if rng.random() < PDU_WITHHELD else person["pdu_code"]
        mood = rng.gauss(0.0, 0.12)  # one person's items move together
        for question in STAFF_QUESTIONS:
            if rng.random() < ITEM_SKIPPED:
                continue
            standard, offset = STAFF_ITEM_DRIVERS[question]
            p_agree = AGREE_BY_BAND[bands[standard]] + offset + mood
            records.append(
                {
                    "response_id": response_id,
                    "provider_id": provider_id,
                    "pdu_code": pdu_code,
                    "question_code": question,
                    "response": likert(rng, p_agree),
                    "quarter_end_date": period.isoformat(),
                }
            )
    return records


def generate_pop_feedback(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """Feedback from people on probation: a handful to a few dozen respondents per PDU per quarter."""
    if size not in SIZE_SCALE:
        raise ValueError(f"unknown size {size!r}")
    bands = provider_bands(seed, provider_id)
    rng = seeded_rng(seed, provider_id, period, "pop_feedback")
    records = []
    for pdu in pdus_by_region()[provider_id]:
        for number in range(rng.randint(*_POP_PER_PDU[size])):
            response_id = "F" + stable_digest(seed, provider_id, period, pdu.pdu_code, number)[:11].upper()
            mood = rng.gauss(0.0, 0.1)
            for question in POP_QUESTIONS:
                if rng.random() < ITEM_SKIPPED * 2:
                    continue
                standard, offset = POP_ITEM_DRIVERS[question]
                records.append(
                    {
                        "response_id": response_id,
                        "provider_id": provider_id,
                        "pdu_code": pdu.pdu_code,
                        "question_code": question,
                        "response": likert(rng, AGREE_BY_BAND[bands[standard]] + offset + mood),
                        "quarter_end_date": period.isoformat(),
                    }
                )
    return records


def _poisson(rng: Random, mean: float) -> int:
    """Knuth's method; fine for the small means used here."""
    limit, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def generate_complaints(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """Complaints received in the quarter; the response date appears once it is sent (by the quarter end)."""
    if size not in SIZE_SCALE:
        raise ValueError(f"unknown size {size!r}")
    on_time = ON_TIME_BY_BAND[provider_bands(seed, provider_id)["1.4"]]
    rng = seeded_rng(seed, provider_id, period, "complaints")
    start = quarter_start(period)
    days = (period - start).days + 1
    records = []
    for pdu in pdus_by_region()[provider_id]:
        for number in range(_poisson(rng, _COMPLAINTS_PER_PDU[size])):
            received = start + timedelta(days=rng.randrange(days))
            if rng.random() < on_time:
                working_days = rng.randint(2, COMPLAINT_TARGET_WORKING_DAYS)
            else:
                working_days = rng.randint(COMPLAINT_TARGET_WORKING_DAYS + 1, 70)
            responded = add_working_days(received, working_days)
            records.append(
                {
                    "complaint_id": "CMP-"
                    + stable_digest(seed, provider_id, period, pdu.pdu_code, number)[:10].upper(),
                    "provider_id": provider_id,
                    "pdu_code": pdu.pdu_code,
                    "category": rng.choice(COMPLAINT_CATEGORIES),
                    "received_date": received.isoformat(),
                    "responded_date": responded.isoformat() if responded <= period else None,
                    "quarter_end_date": period.isoformat(),
                }
            )
    return sorted(records, key=lambda r: (r["received_date"], r["complaint_id"]))


API_ENTITIES: dict = {}
FILE_DROPS: dict = {
    "staff_survey": generate_staff_survey,
    "pop_feedback": generate_pop_feedback,
    "complaints": generate_complaints,
}
