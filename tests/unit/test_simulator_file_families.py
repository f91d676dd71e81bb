"""The simulated feedback, services and governance sources: deterministic, unique keys, valid against
their real contracts, and moved by the hidden bands the right way."""

from __future__ import annotations

import json
import statistics
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from probation_evidence.reference.registry import load_regions
from probation_evidence.simulator import feedback, governance, services
from probation_evidence.simulator.drops import canonical
from probation_evidence.simulator.staffing import generate_staff
from probation_evidence.simulator.truth import provider_bands
from probation_evidence.sources.contracts import family_contracts, get_contract
from probation_evidence.sources.validation import validate_batch

SEED = 20260930
PERIOD = date(2026, 9, 30)
PROVIDERS = [region.region_code for region in load_regions()]
MODULES = {"feedback": feedback, "services": services, "governance": governance}
ENTITIES = [(family, entity) for family, module in MODULES.items() for entity in module.FILE_DROPS]
GOOD = ("Outstanding", "Good")


def test_every_file_entity_has_a_contract_and_every_contract_a_generator():
    for family, module in MODULES.items():
        assert module.API_ENTITIES == {}
        assert set(module.FILE_DROPS) == {c.entity for c in family_contracts(family)}
        for contract in family_contracts(family):
            assert contract.transport == "file"
            assert contract.frequency == "quarterly"
            assert all(f.description for f in contract.fields), contract.entity
            assert sum(f.is_period for f in contract.fields) == 1
            assert contract.description


@pytest.mark.parametrize(("family", "entity"), ENTITIES)
def test_generators_are_deterministic_and_seed_dependent(family, entity):
    generate = MODULES[family].FILE_DROPS[entity]
    first = json.dumps(generate(SEED, PERIOD, "N07", "small"))
    assert first == json.dumps(generate(SEED, PERIOD, "N07", "small"))
    assert first != json.dumps(generate(SEED + 1, PERIOD, "N07", "small"))
    assert generate(SEED, PERIOD, "N07", "small")
    with pytest.raises(ValueError, match="size"):
        generate(SEED, PERIOD, "N07", "huge")


def _batch(records: list[dict], contract) -> pa.RecordBatch:
    columns = {f.name: pa.array([canonical(r[f.name]) for r in records], pa.string()) for f in contract.fields}
    return pa.RecordBatch.from_pydict(columns)


@pytest.mark.parametrize(("family", "entity"), ENTITIES)
@pytest.mark.parametrize("size", ["small", "national"])
def test_records_have_unique_keys_and_pass_the_contract(family, entity, size):
    contract = get_contract(family, entity)
    for provider_id, period in (("N07", PERIOD), ("N54", date(2026, 3, 31)), ("N03", date(2025, 12, 31))):
        records = MODULES[family].FILE_DROPS[entity](SEED, period, provider_id, size)
        assert records, (entity, provider_id)
        assert all(list(r) == contract.column_names for r in records)
        keys = [tuple(r[k] for k in contract.key) for r in records]
        assert len(set(keys)) == len(keys)
        _, _, checks = validate_batch(_batch(records, contract), contract, provider_id, period, set())
        failures = {f"{c.field}: {c.reason}": pc.sum(c.mask).as_py() for c in checks if pc.any(c.mask).as_py()}
        assert failures == {}, (entity, provider_id, period)


def test_national_is_bigger_than_small():
    for family, entity in (("feedback", "staff_survey"), ("services", "referrals"), ("governance", "audit_actions")):
        generate = MODULES[family].FILE_DROPS[entity]
        assert len(generate(SEED, PERIOD, "N07", "national")) > 2 * len(generate(SEED, PERIOD, "N07", "small"))


def test_staff_survey_response_rate_is_realistic():
    for provider_id in PROVIDERS[:6]:
        staff = generate_staff(SEED, PERIOD, provider_id, "small")
        in_post = [
            s
            for s in staff
            if s["start_date"] <= str(PERIOD) and (s["leave_date"] is None or s["leave_date"] > str(PERIOD))
        ]
        respondents = {r["response_id"] for r in feedback.generate_staff_survey(SEED, PERIOD, provider_id, "small")}
        assert 0.48 <= len(respondents) / len(in_post) <= 0.67
        withheld = [r for r in feedback.generate_staff_survey(SEED, PERIOD, provider_id, "small") if not r["pdu_code"]]
        assert withheld  # anonymous respondents withhold their PDU


def test_referrals_progress_across_quarters():
    earlier = {r["referral_id"]: r for r in services.generate_referrals(SEED, date(2026, 6, 30), "N07", "small")}
    later = {r["referral_id"]: r for r in services.generate_referrals(SEED, PERIOD, "N07", "small")}
    both = set(earlier) & set(later)
    assert len(both) > len(later) / 2
    assert all(earlier[i]["referred_date"] == later[i]["referred_date"] for i in both)
    assert any(earlier[i]["outcome"] == "ongoing" and later[i]["outcome"] == "completed" for i in both)
    order = {"not_started": 0, "ongoing": 1, "completed": 2, "withdrawn": 2}
    assert all(order[earlier[i]["outcome"]] <= order[later[i]["outcome"]] for i in both)


# ------------------------------------------------------------------------------------------ bands
def _share(flags) -> float:
    flags = list(flags)
    return sum(bool(f) for f in flags) / len(flags) if flags else 0.0


def _agree(records, question) -> float:
    return _share(r["response"] >= 4 for r in records if r["question_code"] == question)


def _working_days(start: date, end: date) -> int:
    return sum(1 for n in range(1, (end - start).days + 1) if (start + timedelta(days=n)).weekday() < 5)


def _indicators(seed: int, provider_id: str) -> dict[str, tuple[str, float]]:
    """(standard, value) of each simulated indicator, oriented so that higher is better."""
    staff = feedback.generate_staff_survey(seed, PERIOD, provider_id, "small")
    pop = feedback.generate_pop_feedback(seed, PERIOD, provider_id, "small")
    complaints = [
        c
        for q in (date(2026, 3, 31), date(2026, 6, 30), PERIOD)
        for c in feedback.generate_complaints(seed, q, provider_id, "small")
        if date.fromisoformat(c["received_date"]) <= q - timedelta(days=35)
    ]
    referrals = services.generate_referrals(seed, PERIOD, provider_id, "small")
    started = [r for r in referrals if r["started_date"]]
    ended_after_start = [r for r in started if r["outcome"] in ("completed", "withdrawn")]
    catalogue = services.generate_interventions(seed, PERIOD, provider_id, "small")
    risks = [r for r in governance.generate_risks(seed, PERIOD, provider_id, "small") if r["status"] == "open"]
    actions = [
        a for a in governance.generate_audit_actions(seed, PERIOD, provider_id, "small") if a["due_date"] <= str(PERIOD)
    ]
    sites = governance.generate_premises_audits(seed, PERIOD, provider_id, "small")
    policies = governance.generate_policies(seed, PERIOD, provider_id, "small")
    volunteers = services.generate_volunteers(seed, PERIOD, provider_id, "small")
    wait = [(date.fromisoformat(r["started_date"]) - date.fromisoformat(r["referred_date"])).days for r in started]
    return {
        "engagement": ("1.2", statistics.mean(_agree(staff, q) for q in feedback.STAFF_QUESTIONS[:5])),
        "feel_valued": ("1.2", _agree(staff, "feel_valued")),
        "workload_manageable": ("1.2", _agree(staff, "workload_manageable")),
        "volunteers": ("1.2", sum(v["is_active"] for v in volunteers)),
        "understand_vision": ("1.1", _agree(staff, "understand_vision")),
        "safe_to_raise_concerns": ("1.1", _agree(staff, "safe_to_raise_concerns")),
        "board_attendance": (
            "1.1",
            _share(m["is_attended"] for m in governance.generate_board_meetings(seed, PERIOD, provider_id, "small")),
        ),
        "risks_reviewed": (
            "1.1",
            _share(
                r["last_reviewed_date"] and r["last_reviewed_date"] > str(PERIOD - timedelta(days=91)) for r in risks
            ),
        ),
        "referral_wait (negated)": ("1.3", -statistics.median(wait)),
        "referral_completion": ("1.3", _share(r["outcome"] == "completed" for r in ended_after_start)),
        "specialist_available": (
            "1.3",
            _share(i["category"] == "specialist" and i["is_available"] for i in catalogue),
        ),
        "easy_to_access": ("1.3", _agree(pop, "services_easy_to_access")),
        "treated_fairly": ("1.4", _agree(pop, "treated_fairly")),
        "complaints_on_time": (
            "1.4",
            _share(
                c["responded_date"]
                and _working_days(date.fromisoformat(c["received_date"]), date.fromisoformat(c["responded_date"])) <= 20
                for c in complaints
            ),
        ),
        "policies_in_date": ("1.4", _share(p["next_review_date"] >= str(PERIOD) for p in policies)),
        "premises_passing": ("1.4", _share(s["is_accessible"] and s["is_safe"] for s in sites)),
        "actions_closed_on_time": (
            "1.4",
            _share(a["closed_date"] is not None and a["closed_date"] <= a["due_date"] for a in actions),
        ),
    }


def test_bands_move_indicators_the_right_way_on_average():
    by_indicator: dict[str, dict[bool, list[float]]] = {}
    for seed in range(SEED, SEED + 4):
        for provider_id in PROVIDERS:
            bands = provider_bands(seed, provider_id)
            for name, (standard, value) in _indicators(seed, provider_id).items():
                by_indicator.setdefault(name, {True: [], False: []})[bands[standard] in GOOD].append(value)
    for name, groups in by_indicator.items():
        assert groups[True] and groups[False], name
        assert statistics.mean(groups[True]) > statistics.mean(groups[False]), name
