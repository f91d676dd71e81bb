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
    return sorted(FAMILIES)


def _family_transports() -> dict[str, str]:
    """family -> 'api' or 'file': all of a family's entities arrive the same way, or the contracts are wrong."""
    kinds: dict[str, set[str]] = {}
    for contract in CONTRACTS.values():
        kinds.setdefault(contract.source, set()).add(contract.transport)
    mixed = {family: sorted(found) for family, found in kinds.items() if len(found) != 1}
    if mixed:
        raise ValueError(f"source families mixing transports: {mixed}")
    return {family: found.pop() for family, found in kinds.items()}


#: Every source family, in the order of FAMILY_MODULES (`settings.FAMILIES` repeats it for DAG parse time,
#: where importing the contracts is not wanted; a unit test holds the two equal).
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(c.source for c in CONTRACTS.values()))
TRANSPORTS = _family_transports()


def transport(family: str) -> str:
    """'api' or 'file': how a family's systems deliver."""
    try:
        return TRANSPORTS[family]
    except KeyError:
        raise ValueError(f"no source family {family!r}") from None


__all__ = [
    "CONTRACTS",
    "FAMILIES",
    "TRANSPORTS",
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
    "transport",
]
