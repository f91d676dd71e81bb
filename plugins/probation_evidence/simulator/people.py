"""The people every staff-based simulator describes: funded posts, the occupants who fill them, and the
draws that decide their events.

Each PDU and grade has funded posts. Each post is filled by a chain of occupants: an occupant stays for an
exponential tenure whose mean is set by the annual leaving rate, then the post stays vacant for an
exponential gap sized so that the long-run vacant share equals the provider's vacancy rate. Both rates come
from the provider's hidden 1.2 (Staff) band. The post structure and each post's occupant chain depend only
on (seed, provider), never on the as-at date, so successive as-at dates tell one consistent history.

The staffing entities and the workload and ICT families all describe these people: same staff ids, PDUs,
grades and FTE. Each person's events come from random streams keyed by (seed, staff id, kind, calendar
year), never by the as-at date, so successive as-at dates agree about the past.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

from probation_evidence.reference.registry import pdus_by_region
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
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Post:
    """A funded post and the parameters of the renewal process that fills it."""

    pdu_code: str
    team_code: str
    grade: str
    fte: float
    index: int
    mean_tenure_days: float
    mean_gap_days: float


def check_size(size: str) -> float:
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
def provider_posts(seed: int, provider_id: str, size: str) -> tuple[Post, ...]:
    """All funded posts of a provider, ordered by PDU, grade and index."""
    scale = check_size(size)
    pdus = pdus_by_region().get(provider_id)
    if not pdus:
        raise KeyError(f"unknown provider {provider_id!r}")
    band = provider_bands(seed, provider_id)["1.2"]
    rng = seeded_rng(seed, provider_id, "staffing-structure")
    provider_vacancy = rng.uniform(*_VACANCY_RANGE[band])
    posts: list[Post] = []
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
                posts.append(Post(pdu.pdu_code, team, grade, _post_fte(rng), index, tenure, gap))
    return tuple(posts)


def occupancies(seed: int, provider_id: str, post: Post, until: date) -> Iterator[tuple[int, date, date]]:
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


@dataclass(frozen=True)
class Person:
    """One occupancy of a post: a member of staff, with their true (not necessarily yet known) leave date."""

    staff_id: str
    provider_id: str
    pdu_code: str
    team_code: str
    grade: str
    fte: float
    start: date
    leave: date

    def in_post(self, day: date) -> bool:
        return self.start <= day < self.leave


@functools.lru_cache(maxsize=64)
def _people_of_year(seed: int, provider_id: str, size: str, year: int) -> tuple[Person, ...]:
    """Everyone in post at any time from 1 January of ``year - 1`` to 31 December of ``year``."""
    first, last = date(year - 1, 1, 1), date(year, 12, 31)
    people = []
    for post in provider_posts(seed, provider_id, size):
        for occupant, start, leave in occupancies(seed, provider_id, post, last):
            if leave <= first:
                continue
            digest = stable_digest(seed, provider_id, post.pdu_code, post.grade, post.index, occupant)
            people.append(
                Person(
                    f"STF-{digest[:12]}", provider_id, post.pdu_code, post.team_code, post.grade, post.fte, start, leave
                )
            )
    return tuple(people)


def people_in_window(seed: int, provider_id: str, size: str, first: date, last: date) -> list[Person]:
    """People in post at any time from ``first`` to ``last`` (at most a year and a bit apart), stable order."""
    if first.year < last.year - 1:
        raise ValueError("people_in_window covers at most the calendar year before the last day")
    return [p for p in _people_of_year(seed, provider_id, size, last.year) if p.start <= last and p.leave > first]


def people_in_post(seed: int, provider_id: str, size: str, day: date) -> list[Person]:
    """People in post on ``day``: start <= day < leave."""
    return [p for p in _people_of_year(seed, provider_id, size, day.year) if p.in_post(day)]


def unit_draws(*parts: object) -> list[float]:
    """Eight independent uniforms in [0, 1) fixed by the parts: cheaper than a Random per small decision."""
    digest = stable_digest(*parts)
    return [(int(digest[i : i + 8], 16) + 0.5) / 4294967296.0 for i in range(0, 64, 8)]
