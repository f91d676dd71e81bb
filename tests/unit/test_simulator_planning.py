"""The simulated planning system: every provider's programme passes the schedule's contract, and the
contract refuses what the planning system must never send."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from probation_evidence.simulator.catalogue import api_entities
from probation_evidence.simulator.planning import generate_inspection_schedule
from probation_evidence.sources.contracts.planning import INSPECTION_SCHEDULE
from probation_evidence.sources.ingest import provider_ids
from probation_evidence.sources.validation import validate_batch

AS_AT = date(2026, 9, 30)


def failures(records: list[dict], provider_id: str) -> dict[str, int]:
    table = pa.table({f.name: pa.array([r[f.name] for r in records], pa.string()) for f in INSPECTION_SCHEDULE.fields})
    _, _, checks = validate_batch(table.to_batches()[0], INSPECTION_SCHEDULE, provider_id, AS_AT, set())
    return {f"{c.field}: {c.reason}": c.mask.true_count for c in checks if c.mask.true_count}


def test_the_planning_system_is_served_over_the_api():
    assert api_entities()["inspection_schedule"] is generate_inspection_schedule


@pytest.mark.parametrize("provider_id", provider_ids())
def test_every_providers_programme_passes_the_contract(provider_id):
    records = generate_inspection_schedule(20260930, AS_AT, provider_id)
    assert records and all(r["provider_id"] == provider_id for r in records)
    assert all(r["fieldwork_start_date"] > AS_AT.isoformat() for r in records), "planned after the as-at date"
    assert failures(records, provider_id) == {}


def test_the_contract_refuses_fieldwork_ending_before_it_starts_and_another_providers_rows():
    good = generate_inspection_schedule(20260930, AS_AT, "N07")[0]
    backwards = {**good, "inspection_id": "INS-X", "fieldwork_end_date": "2026-10-01"}
    elsewhere = {**good, "inspection_id": "INS-Y", "provider_id": "N03"}
    found = failures([good, backwards, elsewhere], "N07")
    assert found == {
        "fieldwork_end_date: is before fieldwork_start_date": 1,
        "provider_id: provider is not N07, the provider of this file": 1,
    }
