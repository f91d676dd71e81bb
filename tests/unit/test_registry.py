"""The packaged organisation reference: every real PDU once, in a plausible region, with contract codes."""

import re
from importlib import resources

from probation_evidence.reference.registry import Pdu, load_pdus, load_regions, pdus_by_region

EXPECTED_REGIONS = {
    "N03": "Wales",
    "N07": "London",
    "N50": "Greater Manchester",
    "N51": "North West",
    "N52": "West Midlands",
    "N53": "East Midlands",
    "N54": "North East",
    "N55": "Yorkshire and the Humber",
    "N56": "East of England",
    "N57": "Kent, Surrey and Sussex",
    "N58": "South West",
    "N59": "South Central",
}


def _reference_names() -> list[str]:
    text = resources.files("probation_evidence.reference").joinpath("pdu-names.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_all_twelve_regions_load() -> None:
    assert {region.region_code: region.region_name for region in load_regions()} == EXPECTED_REGIONS


def test_every_pdu_name_appears_exactly_once() -> None:
    names = [pdu.pdu_name for pdu in load_pdus()]
    assert sorted(names) == sorted(_reference_names())
    assert len(names) == len(set(names))


def test_each_region_has_five_to_eighteen_pdus() -> None:
    grouped = pdus_by_region()
    assert set(grouped) == set(EXPECTED_REGIONS)
    assert all(5 <= len(pdus) <= 18 for pdus in grouped.values()), {k: len(v) for k, v in grouped.items()}


def test_codes_are_unique_and_follow_alphabetical_index_within_region() -> None:
    pdus = load_pdus()
    assert len({pdu.pdu_code for pdu in pdus}) == len(pdus)
    for region_code, region_pdus in pdus_by_region().items():
        for index, pdu in enumerate(sorted(region_pdus, key=lambda p: p.pdu_name), start=1):
            assert re.fullmatch(r"N\d{2}-\d{2}", pdu.pdu_code)
            assert pdu.pdu_code == f"{region_code}-{index:02d}"


def test_known_places_sit_in_their_real_regions() -> None:
    region_of = {pdu.pdu_name: pdu.region_code for pdu in load_pdus()}
    assert region_of["Cardiff and the Vale"] == "N03"
    assert region_of["Lambeth"] == "N07"
    assert region_of["Bolton"] == "N50"
    assert region_of["Cumbria"] == "N51"
    assert region_of["Coventry"] == "N52"
    assert region_of["Derbyshire"] == "N53"
    assert region_of["Sunderland"] == "N54"
    assert region_of["Leeds"] == "N55"
    assert region_of["Bedfordshire"] == "N56"
    assert region_of["East Kent"] == "N57"
    assert region_of["Devon and Torbay"] == "N58"
    assert region_of["Oxfordshire"] == "N59"


def test_loaders_return_fresh_lists_of_frozen_records() -> None:
    pdus = load_pdus()
    pdus.clear()
    assert load_pdus()
    assert isinstance(load_pdus()[0], Pdu)
