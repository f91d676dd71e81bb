"""The simulated staffing (beyond establishment and staff), workload and ICT sources: deterministic, the same
people everywhere, valid under their real contracts, and moved in the right direction by the hidden bands."""

from __future__ import annotations

import functools
import json
import statistics
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from probation_evidence.reference.registry import load_regions
from probation_evidence.simulator import ict, staffing, workload
from probation_evidence.simulator.people import people_in_post
from probation_evidence.simulator.truth import BANDS, provider_bands
from probation_evidence.sources.contracts import CONTRACTS
from probation_evidence.sources.contracts.workload import NOMINAL_TARGET_POINTS
from probation_evidence.sources.validation import validate_batch

SEED = 20260930
AS_AT = date(2026, 9, 30)
WEEK = date(2026, 9, 27)  # a Sunday
PROVIDERS = [region.region_code for region in load_regions()]
BY_ENTITY = {c.entity: c for c in CONTRACTS.values()}

NEW_STAFFING = ("absences", "training_completions", "supervisions", "reasonable_adjustments")
ICT = ("system_availability", "ict_incidents", "remote_access", "record_completeness", "mi_reports")
GENERATORS: dict[str, tuple[Callable, date]] = {
    **{entity: (staffing.API_ENTITIES[entity], AS_AT) for entity in NEW_STAFFING},
    **{entity: (ict.API_ENTITIES[entity], AS_AT) for entity in ICT},
    "weekly_caseload": (workload.FILE_DROPS["weekly_caseload"], WEEK),
}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def contract_failures(records: list[dict], entity: str, provider_id: str, period: date) -> dict[str, int]:
    """Run the loader's own validation over the records, as text, and count the rows failing each check."""
    import pyarrow as pa

    contract = BY_ENTITY[entity]
    table = pa.table({f.name: pa.array([_text(r[f.name]) for r in records], pa.string()) for f in contract.fields})
    _, _, checks = validate_batch(table.to_batches()[0], contract, provider_id, period, set())
    return {f"{c.field}: {c.reason}": c.mask.true_count for c in checks if c.mask.true_count}


def in_post(record: dict, day: date) -> bool:
    leave = record["leave_date"]
    return record["start_date"] <= day.isoformat() and (leave is None or leave > day.isoformat())


@functools.cache
def staff(seed: int, provider_id: str, as_at: date = AS_AT) -> list[dict]:
    return staffing.generate_staff(seed, as_at, provider_id)


# ------------------------------------------------------------------------------------------ determinism
@pytest.mark.parametrize("entity", sorted(GENERATORS))
def test_same_inputs_give_identical_output_and_seeds_differ(entity: str) -> None:
    generator, period = GENERATORS[entity]
    first = json.dumps(generator(SEED, period, "N07", "small"))
    assert first == json.dumps(generator(SEED, period, "N07", "small"))
    assert first != json.dumps(generator(SEED + 1, period, "N07", "small"))


@pytest.mark.parametrize("entity", sorted(GENERATORS))
@pytest.mark.parametrize("provider_id", sorted({PROVIDERS[0], "N07", PROVIDERS[-1]}))
def test_records_pass_the_real_contract_validation(entity: str, provider_id: str) -> None:
    generator, period = GENERATORS[entity]
    records = generator(SEED, period, provider_id, "small")
    contract = BY_ENTITY[entity]
    assert records, f"{entity} generated nothing for {provider_id}"
    assert all(list(r) == contract.column_names for r in records)
    keys = [tuple(r[k] for k in contract.key) for r in records]
    assert len(keys) == len(set(keys)), "keys must be unique"
    assert contract_failures(records, entity, provider_id, period) == {}


def test_api_and_file_entities_are_registered() -> None:
    from probation_evidence.simulator.catalogue import api_entities, file_drops

    assert set(NEW_STAFFING) | set(ICT) <= set(api_entities())
    assert file_drops()[("workload", "weekly_caseload")] is workload.generate_weekly_caseload
    assert {"establishment", "staff"} <= set(staffing.ENTITY_GENERATORS)


# ------------------------------------------------------------------------------------------ same people
def test_staffing_entities_describe_the_staff_of_generate_staff() -> None:
    people = {r["staff_id"]: r for r in staff(SEED, "N58")}
    for entity in NEW_STAFFING:
        records = staffing.API_ENTITIES[entity](SEED, AS_AT, "N58", "small")
        assert {r["staff_id"] for r in records} <= set(people), entity
    for record in staffing.generate_absences(SEED, AS_AT, "N58"):
        person = people[record["staff_id"]]
        assert record["pdu_code"] == person["pdu_code"]
        assert person["start_date"] <= record["start_date"]
        assert person["leave_date"] is None or record["start_date"] < person["leave_date"]


def test_workload_practitioners_are_the_staff_in_post_at_the_week_end() -> None:
    people = {r["staff_id"]: r for r in staffing.generate_staff(SEED, WEEK, "N55")}
    expected = {sid for sid, r in people.items() if in_post(r, WEEK) and r["grade"] in workload.CASE_HOLDING_GRADES}
    rows = workload.generate_weekly_caseload(SEED, WEEK, "N55")
    assert {r["staff_id"] for r in rows} == expected
    for row in rows:
        person = people[row["staff_id"]]
        assert (row["pdu_code"], row["grade"]) == (person["pdu_code"], person["grade"])
        assert row["contracted_hours"] == pytest.approx(37 * person["fte"])


def test_remote_access_covers_exactly_the_staff_in_post() -> None:
    expected = {r["staff_id"] for r in staff(SEED, "N03") if in_post(r, AS_AT)}
    assert {r["staff_id"] for r in ict.generate_remote_access(SEED, AS_AT, "N03")} == expected


def test_successive_as_at_dates_agree_about_the_past() -> None:
    earlier = date(2026, 6, 30)
    overlap = (AS_AT - timedelta(days=364)).isoformat(), earlier.isoformat()

    def sessions(as_at: date) -> set:
        return {
            (r["staff_id"], r["supervision_date"], r["kind"])
            for r in staffing.generate_supervisions(SEED, as_at, "N07")
            if overlap[0] <= r["supervision_date"] <= overlap[1]
        }

    def availability(as_at: date) -> set:
        return {
            (r["system_name"], r["service_date"], r["available_minutes"])
            for r in ict.generate_system_availability(SEED, as_at, "N07")
            if overlap[0] <= r["service_date"] <= overlap[1]
        }

    def absence_starts(as_at: date) -> set:
        return {
            (r["absence_id"], r["reason"])
            for r in staffing.generate_absences(SEED, as_at, "N07")
            if overlap[0] <= r["start_date"] <= overlap[1]
        }

    assert sessions(earlier) == sessions(AS_AT)
    assert availability(earlier) == availability(AS_AT)
    assert absence_starts(earlier) == absence_starts(AS_AT)


# ------------------------------------------------------------------------------------------ internal logic
def test_wmt_arithmetic_holds() -> None:
    for row in workload.generate_weekly_caseload(SEED, WEEK, "N07"):
        hours, reductions = row["contracted_hours"], row["reduction_hours"]
        assert row["available_points"] == round(NOMINAL_TARGET_POINTS * hours / 37 * (hours - reductions) / hours)
        assert row["capacity_pct"] == pytest.approx(100 * row["total_points"] / row["available_points"], abs=0.051)
        assert row["high_tier_cases"] <= row["active_cases"]


def test_a_weekly_return_ends_on_a_sunday() -> None:
    with pytest.raises(ValueError, match="Sunday"):
        workload.generate_weekly_caseload(SEED, AS_AT, "N07")


def test_availability_never_exceeds_schedule_and_incidents_resolve_after_opening() -> None:
    assert all(
        0 <= r["available_minutes"] <= r["scheduled_minutes"]
        for r in ict.generate_system_availability(SEED, AS_AT, "N07")
    )
    incidents = ict.generate_ict_incidents(SEED, AS_AT, "N07")
    assert any(r["resolved_at"] is None for r in incidents) or len(incidents) < 50
    assert all(r["resolved_at"] is None or r["resolved_at"] > r["opened_at"] for r in incidents)


def test_absence_days_are_working_days_pro_rata() -> None:
    fte = {r["staff_id"]: r["fte"] for r in staff(SEED, "N07")}
    records = staffing.generate_absences(SEED, AS_AT, "N07")
    assert any(r["end_date"] is None for r in records)
    for r in records:
        last = date.fromisoformat(r["end_date"]) if r["end_date"] else AS_AT
        days = staffing.working_days(date.fromisoformat(r["start_date"]), last)
        assert r["working_days_lost"] == pytest.approx(days * fte[r["staff_id"]], abs=0.051)


def test_new_starters_get_an_induction_course() -> None:
    window_start = (AS_AT - timedelta(days=364 + staffing.INDUCTION_DUE_DAYS)).isoformat()
    cutoff = (AS_AT - timedelta(days=staffing.INDUCTION_DUE_DAYS)).isoformat()
    starters = {
        r["staff_id"]
        for r in staff(SEED, "N07")
        if window_start <= r["start_date"] <= cutoff and (r["leave_date"] is None or r["leave_date"] > cutoff)
    }
    training = staffing.generate_training_completions(SEED, AS_AT, "N07")
    inducted = {r["staff_id"] for r in training if r["course_code"] == "INDUCTION"}
    assert starters and starters <= inducted
    assert all(r["is_mandatory"] for r in training if r["course_code"] == "INDUCTION")
    assert any(not r["is_mandatory"] for r in training)


# ------------------------------------------------------------------------------------------ the bands
SEEDS = range(6)
_FOUR_WEEKS = [WEEK - timedelta(weeks=i) for i in range(4)]


def _staffing_indicators(seed: int, provider_id: str) -> dict[str, float]:
    people = [r for r in staff(seed, provider_id) if in_post(r, AS_AT)]
    fte = sum(r["fte"] for r in people)
    absences = staffing.generate_absences(seed, AS_AT, provider_id, "small")
    days = sum(r["working_days_lost"] for r in absences)
    stress = sum(r["working_days_lost"] for r in absences if r["reason"] == "mental_health_stress")
    mandatory = [r for r in staffing.generate_training_completions(seed, AS_AT, provider_id) if r["is_mandatory"]]
    on_time = [r for r in mandatory if r["completed_date"] and r["completed_date"] <= r["due_date"]]
    recent = (AS_AT - timedelta(weeks=6)).isoformat()
    sessions = staffing.generate_supervisions(seed, AS_AT, provider_id)
    supervised = {r["staff_id"] for r in sessions if r["kind"] == "supervision" and r["supervision_date"] > recent}
    weeks = [workload.generate_weekly_caseload(seed, week, provider_id) for week in _FOUR_WEEKS]
    latest = weeks[0]
    always_over = set.intersection(*({r["staff_id"] for r in rows if r["capacity_pct"] > 110} for rows in weeks))
    return {
        "sickness days per FTE (down)": days / fte,
        "stress share (down)": stress / days,
        "mandatory training on time (up)": len(on_time) / len(mandatory),
        "supervised in 6 weeks (up)": sum(r["staff_id"] in supervised for r in people) / len(people),
        "mean capacity (down)": sum(r["total_points"] for r in latest) / sum(r["available_points"] for r in latest),
        "over 110% (down)": sum(r["capacity_pct"] > 110 for r in latest) / len(latest),
        "over 110% for 4 weeks (down)": len(always_over) / len(latest),
    }


def _ict_indicators(seed: int, provider_id: str) -> dict[str, float]:
    availability = [
        r for r in ict.generate_system_availability(seed, AS_AT, provider_id) if r["system_name"] == "case_management"
    ]
    users = ict.generate_remote_access(seed, AS_AT, provider_id)
    incidents = ict.generate_ict_incidents(seed, AS_AT, provider_id)
    completeness = ict.generate_record_completeness(seed, AS_AT, provider_id)
    published = [r for r in ict.generate_mi_reports(seed, AS_AT, provider_id) if r["published_date"]]
    return {
        "case system availability (up)": sum(r["available_minutes"] for r in availability)
        / sum(r["scheduled_minutes"] for r in availability),
        "P1-2 incidents per 100 users a month (down)": sum(r["priority"] <= 2 for r in incidents)
        / len(users)
        * 100
        / 12,
        "remote capable (up)": sum(r["has_remote_access"] for r in users) / len(users),
        "diversity recorded (up)": sum(r["cases_with_diversity_recorded"] for r in completeness)
        / sum(r["cases"] for r in completeness),
        "MI latency days (down)": statistics.mean(
            (date.fromisoformat(r["published_date"]) - date.fromisoformat(r["period_end_date"])).days for r in published
        ),
    }


def _means_by_band(standard: str, indicators: Callable) -> dict[str, dict[str, float]]:
    values: dict[str, dict[str, list[float]]] = {}
    for seed in SEEDS:
        for provider_id in PROVIDERS:
            band = provider_bands(seed, provider_id)[standard]
            for name, value in indicators(seed, provider_id).items():
                values.setdefault(name, {b: [] for b in BANDS})[band].append(value)
    return {name: {b: statistics.mean(v) for b, v in by_band.items() if v} for name, by_band in values.items()}


def _assert_monotone(means: dict[str, dict[str, float]]) -> None:
    for name, by_band in means.items():
        assert list(by_band) == list(BANDS), f"{name}: every band needs providers, got {list(by_band)}"
        ordered = [by_band[b] for b in BANDS]  # best band first
        expected = sorted(ordered, reverse=name.endswith("(up)"))
        assert ordered == expected, f"{name}: {by_band}"


def test_the_staff_band_drives_sickness_training_supervision_and_workload() -> None:
    means = _means_by_band("1.2", _staffing_indicators)
    _assert_monotone(means)
    national_days = statistics.mean(means["sickness days per FTE (down)"].values())
    assert 7 < national_days < 15
    assert 0.2 < means["stress share (down)"]["Good"] < 0.4
    assert 0.9 < means["mean capacity (down)"]["Good"] < 1.12


def test_the_information_band_drives_ict() -> None:
    means = _means_by_band("1.4", _ict_indicators)
    _assert_monotone(means)
    assert 0.993 < means["case system availability (up)"]["Good"] < 0.999


def test_caseloads_look_like_probation() -> None:
    rows = [r for provider_id in PROVIDERS for r in workload.generate_weekly_caseload(SEED, WEEK, provider_id)]
    officers = [r for r in rows if r["grade"] == "PO"]
    per_fte = sum(r["active_cases"] for r in officers) / sum(r["contracted_hours"] / 37 for r in officers)
    assert 33 < per_fte < 40
    assert 0.01 < sum(r["active_cases"] >= 50 for r in officers) / len(officers) < 0.15
    assert 0.95 < sum(r["total_points"] for r in rows) / sum(r["available_points"] for r in rows) < 1.12


# ------------------------------------------------------------------------------------------ national size
def test_national_weekly_workload_is_about_twenty_thousand_staff() -> None:
    # Its speed is measured by the benchmarks, never asserted here: a timing assert fails on a busy machine.
    weeks = [WEEK - timedelta(weeks=i) for i in range(3)]
    counts = [
        sum(len(workload.generate_weekly_caseload(SEED, week, p, "national")) for p in PROVIDERS) for week in weeks
    ]
    people = sum(len(people_in_post(SEED, p, "national", WEEK)) for p in PROVIDERS)
    assert 18_000 < people < 25_000
    assert all(14_000 < count < 23_000 for count in counts), counts
