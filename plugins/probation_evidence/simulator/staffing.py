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

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

from probation_evidence.registry import pdus_by_region
from probation_evidence.simulator.rng import seeded_rng, stable_digest
from probation_evidence.simulator.truth import provider_bands

GRADE_MIX = {"PO": 0.40, "PSO": 0.40, "PQiP": 0.12, "SPO": 0.08}
ANNUAL_LEAVING_RATE = {"PO": 0.08, "PSO": 0.12, "SPO": 0.06, "PQiP": 0.10}
SIZE_SCALE = {"small": 0.1, "national": 1.0}

# ~20,400 FTE in post nationally over ~110 PDUs, with ~12% of posts vacant and a mean post of ~0.93 FTE,
# is about 225 funded posts per PDU.
_NATIONAL_POSTS_PER_PDU = 225
_POSTS_PER_TEAM = 10
_PART_TIME_SHARE = 0.2
_PART_TIME_FTES = (0.5, 0.6, 0.7, 0.8)

# Provider-wide PO vacancy rate by the hidden 1.2 band; other grades are easier to fill.
_VACANCY_RANGE = {
    "Outstanding": (0.0, 0.05),
    "Good": (0.05, 0.10),
    "Requires improvement": (0.10, 0.20),
    "Inadequate": (0.20, 0.35),
}
_GRADE_VACANCY_FACTOR = {"PO": 1.0, "PSO": 0.7, "SPO": 0.5, "PQiP": 0.3}
_PDU_VACANCY_NOISE_SD = 0.03
_LEAVING_MULTIPLIER = {"Outstanding": 0.8, "Good": 1.0, "Requires improvement": 1.25, "Inadequate": 1.6}

# Occupant chains start well before any as-at date of interest so that they reach a steady state.
_CHAIN_EPOCH = date(2000, 1, 1)
_MIN_TENURE_DAYS = 30
_NOTICE_DAYS = 28  # a leave date this close after the as-at date is already known (notice given)
_LOOKBACK_DAYS = 365
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class _Post:
    """A funded post and the parameters of the renewal process that fills it."""

    pdu_code: str
    team_code: str
    grade: str
    fte: float
    index: int
    mean_tenure_days: float
    mean_gap_days: float


def _check_size(size: str) -> float:
    if size not in SIZE_SCALE:
        raise ValueError(f"unknown size {size!r}; expected one of {sorted(SIZE_SCALE)}")
    return SIZE_SCALE[size]


def _post_fte(rng: Random) -> float:
    return rng.choice(_PART_TIME_FTES) if rng.random() < _PART_TIME_SHARE else 1.0


def _renewal_means(grade: str, vacancy: float, leaving_multiplier: float) -> tuple[float, float]:
    """Mean tenure and mean vacant gap (days) whose long-run vacant share is ``vacancy``."""
    mean_tenure = _DAYS_PER_YEAR / (ANNUAL_LEAVING_RATE[grade] * leaving_multiplier)
    return mean_tenure, mean_tenure * vacancy / (1.0 - vacancy)


@functools.lru_cache(maxsize=64)
def _provider_posts(seed: int, provider_id: str, size: str) -> tuple[_Post, ...]:
    """All funded posts of a provider, ordered by PDU, grade and index."""
    scale = _check_size(size)
    pdus = pdus_by_region().get(provider_id)
    if not pdus:
        raise KeyError(f"unknown provider {provider_id!r}")
    band = provider_bands(seed, provider_id)["1.2"]
    rng = seeded_rng(seed, provider_id, "staffing-structure")
    provider_vacancy = rng.uniform(*_VACANCY_RANGE[band])
    posts: list[_Post] = []
    for pdu in pdus:
        pdu_factor = rng.uniform(0.7, 1.3)
        pdu_vacancy = provider_vacancy + rng.gauss(0.0, _PDU_VACANCY_NOISE_SD)
        counts = {
            g: max(1, round(_NATIONAL_POSTS_PER_PDU * scale * share * pdu_factor)) for g, share in GRADE_MIX.items()
        }
        team_count = max(1, round(sum(counts.values()) / _POSTS_PER_TEAM))
        for grade in sorted(counts):
            vacancy = min(max(pdu_vacancy * _GRADE_VACANCY_FACTOR[grade], 0.0), 0.6)
            tenure, gap = _renewal_means(grade, vacancy, _LEAVING_MULTIPLIER[band])
            for index in range(counts[grade]):
                team = f"{pdu.pdu_code}-T{rng.randrange(team_count) + 1:02d}"
                posts.append(_Post(pdu.pdu_code, team, grade, _post_fte(rng), index, tenure, gap))
    return tuple(posts)


def _occupancies(seed: int, provider_id: str, post: _Post, until: date) -> Iterator[tuple[int, date, date]]:
    """(occupant number, start date, leave date) of a post's occupants who started by ``until``.

    The post's own random stream is consumed in the same order whatever ``until`` is, so a later as-at
    date only extends the chain.
    """
    rng = seeded_rng(seed, provider_id, "post", post.pdu_code, post.grade, post.index)
    start = _CHAIN_EPOCH - timedelta(days=round(rng.uniform(0.0, post.mean_tenure_days)))
    occupant = 0
    while start <= until:
        tenure = max(_MIN_TENURE_DAYS, round(rng.expovariate(1.0 / post.mean_tenure_days)))
        leave = start + timedelta(days=tenure)
        yield occupant, start, leave
        gap = round(rng.expovariate(1.0 / post.mean_gap_days)) if post.mean_gap_days > 0 else 0
        start = leave + timedelta(days=gap)
        occupant += 1


def generate_establishment(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """Funded FTE per PDU and grade at the as-at date, as API records in a stable order."""
    funded: dict[tuple[str, str], float] = {}
    for post in _provider_posts(seed, provider_id, size):
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
    for post in _provider_posts(seed, provider_id, size):
        for occupant, start, leave in _occupancies(seed, provider_id, post, as_at):
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


ENTITY_GENERATORS = {"establishment": generate_establishment, "staff": generate_staff}
API_ENTITIES = ENTITY_GENERATORS
FILE_DROPS: dict = {}
