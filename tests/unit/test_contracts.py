"""Every source contract is well formed: the loader, the raw DDL and docs/sources.md all derive from them."""

from __future__ import annotations

import pytest

from probation_evidence import settings
from probation_evidence.reference.periods import LOOKBACK
from probation_evidence.sources import contracts
from probation_evidence.sources.contracts import CONTRACTS, normalise_header
from probation_evidence.sources.contracts.base import KINDS

ALL = sorted(CONTRACTS.values(), key=lambda c: (c.source, c.entity))
IDS = [f"{c.source}.{c.entity}" for c in ALL]


def test_entity_names_are_unique_across_families() -> None:
    entities = [c.entity for c in ALL]
    assert len(entities) == len(set(entities)), sorted(e for e in entities if entities.count(e) > 1)


def test_raw_table_names_are_unique() -> None:
    assert len({c.table for c in ALL}) == len(ALL)


@pytest.mark.parametrize("contract", ALL, ids=IDS)
def test_contract_shape(contract) -> None:
    names = contract.column_names
    assert len(names) == len(set(names)), "duplicate field names"
    assert contract.key and set(contract.key) <= set(names), "key fields must be fields"
    assert all(contract.field(name).required for name in contract.key), "key fields must be required"
    assert contract.transport in {"api", "file"}
    assert contract.frequency in LOOKBACK
    assert all(f.kind in KINDS for f in contract.fields)
    for earlier, later in contract.date_order:
        assert {contract.field(earlier).kind, contract.field(later).kind} <= {"date", "timestamp"}
    assert contract.description.strip()


@pytest.mark.parametrize("contract", ALL, ids=IDS)
def test_every_field_is_described(contract) -> None:
    assert [f.name for f in contract.fields if not f.description.strip()] == []


@pytest.mark.parametrize("contract", ALL, ids=IDS)
def test_snapshot_and_weekly_contracts_carry_their_period(contract) -> None:
    periods = [f for f in contract.fields if f.is_period]
    assert len(periods) <= 1
    if contract.frequency in {"snapshot", "weekly"}:
        assert len(periods) == 1, "a snapshot or weekly contract needs its period field"
    for f in periods:
        assert f.kind == "date" and f.required and f.name in contract.key


@pytest.mark.parametrize("contract", ALL, ids=IDS)
def test_rules_sit_on_fields_of_the_right_kind(contract) -> None:
    for f in contract.fields:
        if f.minimum is not None or f.maximum is not None:
            assert f.kind in {"numeric", "integer"}, f.name
        if f.not_after_period:
            assert f.kind in {"date", "timestamp"}, f.name
        if f.references:
            assert f.references in {"provider", "pdu"} and f.kind == "text", f.name
        if f.allowed is not None:
            assert f.kind == "text" and f.allowed, f.name
        if f.minimum is not None and f.maximum is not None:
            assert f.minimum <= f.maximum, f.name


@pytest.mark.parametrize("contract", ALL, ids=IDS)
def test_header_spellings_do_not_collide(contract) -> None:
    seen: dict[str, str] = {}
    for f in contract.fields:
        for spelling in (f.name, *f.aliases):
            normalised = normalise_header(spelling)
            assert normalised, f"{f.name}: alias {spelling!r} normalises to nothing"
            assert seen.setdefault(normalised, f.name) == f.name, (
                f"{spelling!r} of {f.name} collides with {seen[normalised]} as {normalised!r}"
            )


def test_workload_header_variants_providers_use_are_known() -> None:
    contract = CONTRACTS[("workload", "weekly_caseload")]
    by_spelling = {normalise_header(a): f.name for f in contract.fields for a in (f.name, *f.aliases)}
    assert by_spelling[normalise_header("Practitioner ID")] == "staff_id"
    assert by_spelling[normalise_header("Staff Ref")] == "staff_id"
    assert by_spelling[normalise_header("Week Ending")] == "week_ending_date"
    assert by_spelling[normalise_header("Capacity %")] == "capacity_pct"


def test_staffing_workload_and_ict_families_are_complete() -> None:
    entities = {(c.source, c.entity) for c in ALL}
    assert {
        ("staffing", "establishment"),
        ("staffing", "staff"),
        ("staffing", "absences"),
        ("staffing", "training_completions"),
        ("staffing", "supervisions"),
        ("staffing", "reasonable_adjustments"),
        ("workload", "weekly_caseload"),
        ("ict", "system_availability"),
        ("ict", "ict_incidents"),
        ("ict", "remote_access"),
        ("ict", "record_completeness"),
        ("ict", "mi_reports"),
    } <= entities


def test_simulated_entities_match_their_contracts_transport() -> None:
    from probation_evidence.simulator.catalogue import api_entities, file_drops

    by_entity = {c.entity: c for c in ALL}
    for entity in api_entities():
        assert entity in by_entity and by_entity[entity].transport == "api", entity
    for family, entity in file_drops():
        assert entity in by_entity, entity
        assert (by_entity[entity].source, by_entity[entity].transport) == (family, "file"), entity


def test_settings_families_are_the_contracts_families_in_order() -> None:
    """DAG files read `settings.FAMILIES` at parse time; the contracts are where the families are defined."""
    assert settings.FAMILIES == contracts.FAMILIES


def test_each_family_has_one_transport_from_its_contracts() -> None:
    for family in contracts.FAMILIES:
        kinds = {c.transport for c in contracts.family_contracts(family)}
        assert kinds == {contracts.transport(family)}, family
