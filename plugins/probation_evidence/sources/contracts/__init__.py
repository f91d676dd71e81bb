"""Source contracts for every entity of every source family, and lookups over them."""

from __future__ import annotations

from probation_evidence.sources.contracts import feedback, governance, ict, planning, services, staffing, workload
from probation_evidence.sources.contracts.base import (
    METADATA_COLUMNS,
    Contract,
    Field,
    batch_index_name,
    create_index_sql,
    create_table_sql,
    normalise_header,
)

FAMILY_MODULES = (staffing, workload, ict, feedback, services, governance, planning)

CONTRACTS: dict[tuple[str, str], Contract] = {
    (c.source, c.entity): c for module in FAMILY_MODULES for c in module.CONTRACTS
}


def get_contract(source: str, entity: str) -> Contract:
    try:
        return CONTRACTS[(source, entity)]
    except KeyError:
        raise KeyError(f"no source contract for {source}.{entity}") from None


def family_contracts(source: str) -> list[Contract]:
    return [c for c in CONTRACTS.values() if c.source == source]


def families() -> list[str]:
    return sorted({c.source for c in CONTRACTS.values()})


# Kept for callers of the first version.
STAFFING_ESTABLISHMENT = staffing.ESTABLISHMENT
STAFFING_STAFF = staffing.STAFF

__all__ = [
    "CONTRACTS",
    "METADATA_COLUMNS",
    "Contract",
    "Field",
    "batch_index_name",
    "create_index_sql",
    "create_table_sql",
    "families",
    "family_contracts",
    "get_contract",
    "normalise_header",
]
