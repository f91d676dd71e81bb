"""Simulated governance source: policy register, premises audits, risk register, strategic board meetings
and audit actions, delivered quarterly as file drops (register snapshots at the quarter end).

The hidden 1.1 (Leadership) band sets board attendance and how regularly risks are reviewed; the 1.4
(Information and facilities) band sets how many policies are in date, how many sites pass their audits
and how many audit actions close on time. Registers come from histories that depend only on (seed,
provider, size), so successive quarters tell one story.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from probation_evidence.reference.registry import pdus_by_region
from probation_evidence.simulator.people import check_size
from probation_evidence.simulator.rng import seeded_rng, stable_digest
from probation_evidence.simulator.truth import provider_bands
from probation_evidence.sources.contracts.governance import ACTION_ORIGINS, BOARDS

REVIEW_LATE = {"Outstanding": 0.05, "Good": 0.15, "Requires improvement": 0.35, "Inadequate": 0.6}
SITE_ACCESSIBLE = {"Outstanding": 0.97, "Good": 0.9, "Requires improvement": 0.78, "Inadequate": 0.6}
SITE_SAFE = {"Outstanding": 0.98, "Good": 0.93, "Requires improvement": 0.82, "Inadequate": 0.66}
RISK_REVIEWED = {"Outstanding": 0.95, "Good": 0.85, "Requires improvement": 0.66, "Inadequate": 0.45}
BOARD_ATTENDED = {"Outstanding": 0.96, "Good": 0.86, "Requires improvement": 0.7, "Inadequate": 0.52}
ACTION_ON_TIME = {"Outstanding": 0.9, "Good": 0.78, "Requires improvement": 0.6, "Inadequate": 0.42}
_ACTIONS_PER_MONTH = {"small": 2.0, "national": 6.0}
_HISTORY_START = date(2018, 1, 1)

POLICY_TITLES = (
    "Safeguarding adults",
    "Safeguarding children",
    "Domestic abuse – practice guidance",
    "Lone working",
    "Home visits",
    "Case allocation",
    "Enforcement and recall",
    "MAPPA – management of risk",
    "Information security",
    "Data protection and records retention",
    "Diversity and inclusion",
    "Reasonable adjustments",
    "Complaints handling",
    "Supervision of staff",
    "Appraisal and performance",
    "Managing sickness absence",
    "Stress and wellbeing at work",
    "Induction of new staff",
    "Professional qualification (PQiP) support",
    "Volunteer and mentor recruitment",
    "Serious further offence reviews",
    "Approved premises – admissions",
    "Unpaid work – health and safety",
    "Business continuity",
    "Estates and premises safety",
    "Fire safety",
    "Accessibility of premises",
    "Interpreter and translation services",
    "Quality assurance framework",
    "Risk management strategy",
    "Whistleblowing and raising concerns",
    "Commissioned rehabilitative services – contract management",
)
OWNER_ROLES = (
    "Regional Probation Director",
    "Head of Operations",
    "Head of Public Protection",
    "Head of Quality",
    "Head of Business Strategy and Change",
    "Head of Interventions",
    "HR Business Partner",
    "Health and Safety Lead",
)
RISK_TITLES = (
    "PO vacancies exceed tolerance",
    "Workload pressure on practitioners",
    "Case management system outage",
    "Loss of commissioned accommodation provision",
    "Information security breach",
    "Premises unfit for use",
    "Failure to meet court report timeliness",
    "Partnership data sharing gaps",
    "Staff wellbeing and stress",
    "Backlog of unpaid work hours",
    "Approved premises capacity",
    "Budget pressure – estates",
)


def generate_policies(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """The policy register: each policy is reviewed every cycle, sometimes late (more often in weak bands)."""
    check_size(size)
    late = REVIEW_LATE[provider_bands(seed, provider_id)["1.4"]]
    records = []
    for number, title in enumerate(POLICY_TITLES, start=1):
        rng = seeded_rng(seed, provider_id, "policy", number)
        cycle = timedelta(days=rng.choice((365, 730, 1095)))
        owner = rng.choice(OWNER_ROLES)
        reviewed = _HISTORY_START - timedelta(days=rng.randrange(cycle.days))
        while True:  # walk the review history up to the quarter end
            due = reviewed + cycle
            following = due + timedelta(days=rng.randint(30, 400) if rng.random() < late else -rng.randint(0, 60))
            if following > period:
                break
            reviewed = following
        records.append(
            {
                "policy_id": f"POL-{provider_id}-{number:03d}",
                "provider_id": provider_id,
                "title": title,
                "owner_role": owner,
                "last_review_date": reviewed.isoformat(),
                "next_review_date": (reviewed + cycle).isoformat(),
                "quarter_end_date": period.isoformat(),
            }
        )
    return records


def generate_premises_audits(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """The latest audit of each office site (one to three per PDU), within the last year."""
    check_size(size)
    band = provider_bands(seed, provider_id)["1.4"]
    records = []
    for pdu in pdus_by_region()[provider_id]:
        sites = seeded_rng(seed, provider_id, pdu.pdu_code, "sites").randint(1, 3)
        for site in range(1, sites + 1):
            rng = seeded_rng(seed, provider_id, pdu.pdu_code, site, period, "audit")
            records.append(
                {
                    "site_id": f"{pdu.pdu_code}-S{site}",
                    "provider_id": provider_id,
                    "pdu_code": pdu.pdu_code,
                    "audit_date": (period - timedelta(days=rng.randrange(365))).isoformat(),
                    "is_accessible": rng.random() < SITE_ACCESSIBLE[band],
                    "is_safe": rng.random() < SITE_SAFE[band],
                    "quarter_end_date": period.isoformat(),
                }
            )
    return records


@dataclass(frozen=True)
class _Item:
    """A register entry with a life: a risk (opened, closed) or an audit action (raised, due, closed)."""

    number: int
    opened: date
    due: date | None
    closed: date | None
    kind: str


@functools.lru_cache(maxsize=256)
def _history(seed: int, provider_id: str, what: str, rate_per_month: float, until: date) -> tuple[_Item, ...]:
    """Entries opened from the history start to `until`, from one stream consumed in a fixed order."""
    bands = provider_bands(seed, provider_id)
    rng = seeded_rng(seed, provider_id, what)
    items: list[_Item] = []
    day, number = _HISTORY_START, 0
    while True:
        day += timedelta(days=max(1, round(rng.expovariate(rate_per_month / 30.4))))
        if day > until:
            return tuple(items)
        number += 1
        if what == "risks":
            life = round(rng.expovariate(1 / 600))
            closed = day + timedelta(days=life) if rng.random() < 0.8 else None
            items.append(_Item(number, day, None, closed, rng.choice(RISK_TITLES)))
            continue
        due = day + timedelta(days=rng.randint(30, 180))
        roll = rng.random()
        if roll < ACTION_ON_TIME[bands["1.4"]]:
            closed = due - timedelta(days=rng.randint(0, 25))
        elif roll < 0.97:
            closed = due + timedelta(days=rng.randint(5, 240))
        else:
            closed = None
        items.append(_Item(number, day, due, max(closed, day) if closed else None, rng.choice(ACTION_ORIGINS)))


def _history_until(period: date) -> date:
    """Histories are generated to the end of the period's year so nearby quarters share one cache entry."""
    return date(period.year, 12, 31)


def generate_risks(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """The risk register: open risks and those closed in the last year; open risks reviewed (or not)."""
    check_size(size)
    reviewed = RISK_REVIEWED[provider_bands(seed, provider_id)["1.1"]]
    records = []
    for item in _history(seed, provider_id, "risks", 0.9, _history_until(period)):
        if item.opened > period or (item.closed and item.closed <= period - timedelta(days=365)):
            continue
        rng = seeded_rng(seed, provider_id, "risk", item.number, period)
        closed = item.closed is not None and item.closed <= period
        last: date
        if item.closed is not None and closed:
            last = item.closed
        elif rng.random() < reviewed:
            last = max(item.opened, period - timedelta(days=rng.randrange(90)))
        else:
            last = period - timedelta(days=rng.randint(90, 400))
        records.append(
            {
                "risk_id": f"RSK-{provider_id}-{item.number:04d}",
                "provider_id": provider_id,
                "title": item.kind,
                "score": rng.randint(1, 5) * rng.randint(1, 5),
                "opened_date": item.opened.isoformat(),
                "last_reviewed_date": last.isoformat() if last >= item.opened else None,
                "status": "closed" if closed else "open",
                "quarter_end_date": period.isoformat(),
            }
        )
    return records


def generate_board_meetings(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """Meetings held in the quarter of the strategic boards covering each PDU's area."""
    check_size(size)
    attended = BOARD_ATTENDED[provider_bands(seed, provider_id)["1.1"]]
    month_start = date(period.year, period.month, 1)
    first = (month_start - timedelta(days=62)).replace(day=1)
    records = []
    for pdu in pdus_by_region()[provider_id]:
        boards = seeded_rng(seed, provider_id, pdu.pdu_code, "boards").sample(BOARDS, 4)
        rng = seeded_rng(seed, provider_id, pdu.pdu_code, period, "meetings")
        for board in boards:
            for _ in range(rng.choice((1, 1, 2))):
                meeting = first + timedelta(days=rng.randrange((period - first).days + 1))
                records.append(
                    {
                        "meeting_id": "MTG-"
                        + stable_digest(seed, provider_id, pdu.pdu_code, board, meeting)[:10].upper(),
                        "provider_id": provider_id,
                        "board_name": f"{board} – {pdu.pdu_name}",
                        "meeting_date": meeting.isoformat(),
                        "is_attended": rng.random() < attended,
                        "quarter_end_date": period.isoformat(),
                    }
                )
    return sorted({r["meeting_id"]: r for r in records}.values(), key=lambda r: (r["meeting_date"], r["meeting_id"]))


def generate_audit_actions(seed: int, period: date, provider_id: str, size: str = "small") -> list[dict]:
    """Actions due in the 12 months to the quarter end, or raised by then and still open."""
    check_size(size)
    records = []
    for item in _history(seed, provider_id, "actions", _ACTIONS_PER_MONTH[size], _history_until(period)):
        if item.due is None:
            raise ValueError(f"audit action {item.number} of {provider_id} has no due date")
        closed = item.closed if item.closed and item.closed <= period else None
        due_in_year = period - timedelta(days=365) < item.due <= period
        if item.opened > period or not (due_in_year or closed is None):
            continue
        records.append(
            {
                "action_id": f"ACT-{provider_id}-{item.number:05d}",
                "provider_id": provider_id,
                "origin": item.kind,
                "due_date": item.due.isoformat(),
                "closed_date": closed.isoformat() if closed else None,
                "quarter_end_date": period.isoformat(),
            }
        )
    return records


API_ENTITIES: dict = {}
FILE_DROPS: dict = {
    "policies": generate_policies,
    "premises_audits": generate_premises_audits,
    "risks": generate_risks,
    "board_meetings": generate_board_meetings,
    "audit_actions": generate_audit_actions,
}
