"""Simulated planning system of the Inspectorate: the inspection programme, served per provider.

The programme itself is reference data (`reference/inspection_programme.csv`): the demo's inspections are
fixed so that its packs are. The extract is the provider's inspections as planned on the as-at date.
"""

from __future__ import annotations

import csv
import functools
from datetime import date
from pathlib import Path

PROGRAMME = Path(__file__).resolve().parents[1] / "reference" / "inspection_programme.csv"


@functools.cache
def _programme() -> tuple[dict, ...]:
    with PROGRAMME.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def generate_inspection_schedule(seed: int, as_at: date, provider_id: str, size: str = "small") -> list[dict]:
    """The provider's planned inspections as at `as_at` (the seed and size do not change the programme)."""
    return [{**row, "as_at_date": as_at.isoformat()} for row in _programme() if row["provider_id"] == provider_id]


API_ENTITIES = {"inspection_schedule": generate_inspection_schedule}
FILE_DROPS: dict = {}
