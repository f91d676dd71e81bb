"""Every simulated entity, by how it is delivered: over a provider API, or as a file drop.

Each family module exports `API_ENTITIES` and `FILE_DROPS`, mapping an entity name (unique across
families, and equal to its contract's entity) to a generator `(seed, period, provider_id, size) -> records`.
"""

from __future__ import annotations

import functools

from probation_evidence.simulator import feedback, governance, ict, planning, services, staffing, workload

FAMILY_MODULES = {
    "staffing": staffing,
    "workload": workload,
    "ict": ict,
    "feedback": feedback,
    "services": services,
    "governance": governance,
    "planning": planning,
}


@functools.cache
def api_entities() -> dict:
    """entity -> generator, for every entity served over HTTP."""
    entities: dict = {}
    for family, module in FAMILY_MODULES.items():
        for entity, generator in module.API_ENTITIES.items():
            if entity in entities:
                raise ValueError(f"API entity {entity!r} of {family} is defined twice")
            entities[entity] = generator
    return entities


def file_drops() -> dict[tuple[str, str], object]:
    """(family, entity) -> generator, for every entity delivered as files."""
    return {
        (family, entity): gen for family, module in FAMILY_MODULES.items() for entity, gen in module.FILE_DROPS.items()
    }
