"""The work behind the ingest DAGs, as plain functions: extract a provider's entities into the landing
zone, and load a landed file. DAG tasks call these; tests call them too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from probation_evidence import settings
from probation_evidence.contracts import CONTRACTS

SOURCE_ENTITIES: dict[str, tuple[str, ...]] = {}
for _source, _entity in CONTRACTS:
    SOURCE_ENTITIES.setdefault(_source, ())
    SOURCE_ENTITIES[_source] += (_entity,)


def provider_ids() -> list[str]:
    from probation_evidence.registry import load_regions

    return [region.region_code for region in load_regions()]


def extract_staffing(provider_id: str, period: date, base_url: str, token: str, root: Path | None = None) -> list[dict]:
    """Fetch every staffing entity for one provider from its API and land each as Parquet + manifest."""
    from probation_evidence.connectors.staffing_api import fetch_entity
    from probation_evidence.contracts import get_contract
    from probation_evidence.landing import land_table

    root = root or settings.landing_dir()
    manifests = []
    for entity in SOURCE_ENTITIES["staffing"]:
        table = fetch_entity(base_url, token, provider_id, entity, period)
        manifest = land_table(table, get_contract("staffing", entity), provider_id, period, root)
        manifests.append(manifest.to_dict())
    return manifests


def load_manifests(warehouse_url: str, manifests: list[dict], root: Path | None = None) -> list[dict]:
    """Load each landed file as its slice's current batch; each slice is its own transaction."""
    import psycopg

    from probation_evidence.landing import Manifest
    from probation_evidence.loading import load_landed_file

    results = []
    with psycopg.connect(warehouse_url) as conn:
        for data in manifests:
            results.append(load_landed_file(conn, Manifest.from_dict(data), root).to_dict())
    return results
