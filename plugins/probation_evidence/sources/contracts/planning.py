"""The Inspectorate's planning system: the inspection programme, read per provider as a snapshot.

The schedule is a source like any other, so an inspection added, moved or cancelled in the planning system
reaches the warehouse (and the publish DAG's lead window) on the next run, with the same contract checks,
quarantine and load bookkeeping as the providers' data. `as_at_date` is the period: each extract is the
programme as planned on that day, so fieldwork dates may lie after it.
"""

from __future__ import annotations

from probation_evidence.sources.contracts.base import AS_AT, PROVIDER, Contract, Field

INSPECTION_TYPES = ("Regional inspection", "Re-inspection", "Thematic inspection")

INSPECTION_SCHEDULE = Contract(
    source="planning",
    entity="inspection_schedule",
    version="1.0",
    transport="api",
    description=(
        "Inspections planned for the provider, as the planning system holds them on the as-at date: one row"
        " per inspection, with its type and fieldwork dates."
    ),
    key=("inspection_id", "as_at_date"),
    date_order=(("fieldwork_start_date", "fieldwork_end_date"),),
    fields=(
        Field("inspection_id", "text", "The Inspectorate's inspection reference, e.g. INS-2026-N07."),
        PROVIDER,
        Field("inspection_type", "text", "Kind of inspection.", allowed=INSPECTION_TYPES),
        Field("fieldwork_start_date", "date", "First day of fieldwork."),
        Field("fieldwork_end_date", "date", "Last day of fieldwork; never before the first."),
        AS_AT,
    ),
)

CONTRACTS = (INSPECTION_SCHEDULE,)
