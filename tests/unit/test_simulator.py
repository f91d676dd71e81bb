"""The simulated staffing source: deterministic, driven by the hidden truth, pseudonymised."""

import json
import re
import statistics
import subprocess  # noqa: S404
import sys
from datetime import date, timedelta

import pytest

from probation_evidence.reference.registry import load_regions, pdus_by_region
from probation_evidence.simulator.staffing import (
    generate_establishment,
    generate_staff,
)
from probation_evidence.simulator.truth import BANDS, STANDARDS, provider_bands, write_truth

SEED = 20260930
AS_AT = date(2026, 9, 30)
PROVIDERS = [region.region_code for region in load_regions()]
STAFF_KEYS = [
    "staff_id",
    "provider_id",
    "pdu_code",
    "team_code",
    "grade",
    "fte",
    "start_date",
    "leave_date",
    "as_at_date",
]
ESTABLISHMENT_KEYS = ["provider_id", "pdu_code", "grade", "funded_fte", "as_at_date"]


def _dump(seed: int, provider_id: str) -> str:
    return json.dumps([generate_establishment(seed, AS_AT, provider_id), generate_staff(seed, AS_AT, provider_id)])


def _in_post(record: dict, day: date) -> bool:
    leave = record["leave_date"]
    return record["start_date"] <= day.isoformat() and (leave is None or leave > day.isoformat())


def _po_vacancy(seed: int, provider_id: str) -> float:
    funded = sum(r["funded_fte"] for r in generate_establishment(seed, AS_AT, provider_id) if r["grade"] == "PO")
    staff = generate_staff(seed, AS_AT, provider_id)
    in_post = sum(r["fte"] for r in staff if r["grade"] == "PO" and _in_post(r, AS_AT))
    return 1 - in_post / funded


def test_same_inputs_give_identical_output() -> None:
    assert _dump(SEED, "N07") == _dump(SEED, "N07")


def test_output_does_not_depend_on_the_process_hash_salt() -> None:
    code = (
        "import hashlib, json, sys; from datetime import date;"
        "from probation_evidence.simulator.staffing import generate_staff;"
        "sys.stdout.write(hashlib.sha256(json.dumps(generate_staff(7, date(2026, 9, 30), 'N54')).encode())"
        ".hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": salt},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for salt in ("1", "2")
    }
    assert len(digests) == 1


def test_different_seed_gives_different_output() -> None:
    assert _dump(SEED, "N07") != _dump(SEED + 1, "N07")


def test_records_follow_the_contract() -> None:
    pdu_codes = {pdu.pdu_code for pdu in pdus_by_region()["N58"]}
    establishment = generate_establishment(SEED, AS_AT, "N58")
    staff = generate_staff(SEED, AS_AT, "N58")
    assert {(r["pdu_code"], r["grade"]) for r in establishment} == {
        (code, grade) for code in pdu_codes for grade in ("PO", "PSO", "SPO", "PQiP")
    }
    assert all(list(r) == ESTABLISHMENT_KEYS and r["funded_fte"] > 0 for r in establishment)
    window_start = (AS_AT - timedelta(days=365)).isoformat()
    for record in staff:
        assert list(record) == STAFF_KEYS
        assert record["pdu_code"] in pdu_codes and record["grade"] in {"PO", "PSO", "SPO", "PQiP"}
        assert 0 < record["fte"] <= 1 and record["as_at_date"] == AS_AT.isoformat()
        assert record["start_date"] <= AS_AT.isoformat()
        assert record["leave_date"] is None or record["leave_date"] > max(record["start_date"], window_start)


def test_no_field_looks_like_a_person_name() -> None:
    staff = [record for provider_id in PROVIDERS for record in generate_staff(SEED, AS_AT, provider_id)]
    assert len({record["staff_id"] for record in staff}) == len(staff)
    assert all(re.fullmatch(r"STF-[0-9a-f]{12}", record["staff_id"]) for record in staff)
    assert all(re.fullmatch(r"N\d{2}-\d{2}-T\d{2}", record["team_code"]) for record in staff)
    text_values = {value for record in staff for value in record.values() if isinstance(value, str)}
    name_like = re.compile(r"\s|[A-Z][a-z]{2,}")  # a space or a capitalised word: "Jane Smith", "Smith"
    assert not [value for value in text_values if name_like.search(value)]


def test_data_include_leavers_starters_and_part_timers() -> None:
    staff = generate_staff(SEED, AS_AT, "N07")
    year_ago = (AS_AT - timedelta(days=365)).isoformat()
    assert any(r["leave_date"] and r["leave_date"] <= AS_AT.isoformat() for r in staff)
    assert any(r["start_date"] > year_ago for r in staff)
    assert any(r["fte"] < 1 for r in staff)


def test_successive_as_at_dates_tell_one_history() -> None:
    earlier = {r["staff_id"]: r for r in generate_staff(SEED, date(2026, 3, 31), "N55")}
    later = generate_staff(SEED, AS_AT, "N55")
    shared = [r for r in later if r["staff_id"] in earlier]
    assert shared
    assert all(r["start_date"] == earlier[r["staff_id"]]["start_date"] for r in shared)


def test_worse_staffing_band_means_more_po_vacancies_on_average() -> None:
    vacancies: dict[str, list[float]] = {band: [] for band in BANDS}
    for seed in range(30):
        for provider_id in PROVIDERS:
            vacancies[provider_bands(seed, provider_id)["1.2"]].append(_po_vacancy(seed, provider_id))
    means = [statistics.mean(vacancies[band]) for band in BANDS if vacancies[band]]
    assert len(means) == 4, {band: len(values) for band, values in vacancies.items()}
    assert means == sorted(means), dict(zip(BANDS, means, strict=True))
    assert means[0] < 0.06 and means[-1] > 0.18


def test_national_size_is_about_twenty_thousand_fte() -> None:
    in_post = sum(
        record["fte"]
        for provider_id in PROVIDERS
        for record in generate_staff(SEED, AS_AT, provider_id, size="national")
        if _in_post(record, AS_AT)
    )
    assert 18_000 < in_post < 23_000


def test_unknown_provider_and_size_are_refused() -> None:
    with pytest.raises(KeyError):
        generate_staff(SEED, AS_AT, "N99")
    with pytest.raises(ValueError, match="size"):
        generate_establishment(SEED, AS_AT, "N07", size="huge")


def test_truth_is_written_to_its_own_file_and_never_leaks_into_the_data(tmp_path) -> None:
    path = write_truth(tmp_path / "truth" / "latent.json", SEED, PROVIDERS)
    truth = json.loads(path.read_text())
    assert truth["seed"] == SEED
    assert set(truth["providers"]) == set(PROVIDERS)
    assert all(
        set(bands) == set(STANDARDS) and set(bands.values()) <= set(BANDS) for bands in truth["providers"].values()
    )
    assert truth["providers"]["N07"] == provider_bands(SEED, "N07")
    assert not any(band in _dump(SEED, provider_id) for band in BANDS for provider_id in PROVIDERS)
