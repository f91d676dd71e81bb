"""Organisation reference data: the 12 probation regions (providers) and their PDUs.

Read from CSV files shipped inside the package so the simulator, the pipeline and the tests all agree on
one list without a database round trip. Loads are cached because the files never change at run time.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

_REFERENCE_PACKAGE = "probation_evidence.reference"


@dataclass(frozen=True)
class Region:
    """A probation region: the inspected provider."""

    region_code: str
    region_name: str


@dataclass(frozen=True)
class Pdu:
    """A probation delivery unit within a region."""

    pdu_code: str
    pdu_name: str
    region_code: str


def _read_csv(filename: str) -> list[dict[str, str]]:
    """Rows of a packaged CSV file as dicts, whether installed as files or zipped."""
    text = resources.files(_REFERENCE_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def _regions() -> tuple[Region, ...]:
    return tuple(Region(row["region_code"], row["region_name"]) for row in _read_csv("regions.csv"))


@functools.cache
def _pdus() -> tuple[Pdu, ...]:
    return tuple(Pdu(row["pdu_code"], row["pdu_name"], row["region_code"]) for row in _read_csv("pdus.csv"))


def load_regions() -> list[Region]:
    """All regions in file order (by region code). A fresh list, so callers may mutate it safely."""
    return list(_regions())


def load_pdus() -> list[Pdu]:
    """All PDUs ordered by region then PDU code."""
    return list(_pdus())


def pdus_by_region() -> dict[str, list[Pdu]]:
    """PDUs grouped under every region code (regions with no PDUs map to an empty list)."""
    grouped: dict[str, list[Pdu]] = {region.region_code: [] for region in _regions()}
    for pdu in _pdus():
        grouped[pdu.region_code].append(pdu)
    return grouped
