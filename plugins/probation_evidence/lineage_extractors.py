"""An OpenLineage extractor for Cosmos's dbt tasks that names dbt sources by their physical tables.

Cosmos reports each dbt node's inputs and outputs through OpenLineage's dbt integration, which names a
source by its dbt name (`raw.staff`) rather than the table it stands for (`identifier: staffing_staff`, so
`raw.staffing_staff`). Every raw source here has such an identifier, so without this the staging models
would read datasets no task writes, and the graph would not join the ingest tasks' outputs. This
extractor takes the lineage Cosmos produces and renames those inputs to the physical tables, read from the
project's dbt manifest. It is registered for Cosmos's local operators by `[openlineage] extractors`
(`lineage.airflow_config()` sets it for local runs; set `AIRFLOW__OPENLINEAGE__EXTRACTORS` to
`probation_evidence.lineage_extractors.DbtSourceTablesExtractor` in a deployment).
"""

from __future__ import annotations

import json
import logging
from functools import cache

from airflow.providers.openlineage.extractors.base import DefaultExtractor, OperatorLineage

from probation_evidence import settings

log = logging.getLogger(__name__)

#: Cosmos's local-execution operators (ExecutionMode.LOCAL), by class name as OpenLineage matches them.
COSMOS_LOCAL_OPERATORS = [
    "DbtBuildLocalOperator",
    "DbtRunLocalOperator",
    "DbtSeedLocalOperator",
    "DbtSnapshotLocalOperator",
    "DbtTestLocalOperator",
]


def source_table_renames(manifest: dict) -> dict[tuple[str, str], str]:
    """(schema, source name) -> physical table, for every source whose identifier differs from its name.

    A name that is itself a physical relation of the project (a source's identifier, a model's, seed's or
    snapshot's alias) is left alone, so renaming is unambiguous and applying it twice changes nothing.
    """
    physical = {(s["schema"], s["identifier"]) for s in manifest.get("sources", {}).values()}
    physical |= {
        (n["schema"], n.get("alias") or n["name"])
        for n in manifest.get("nodes", {}).values()
        if n.get("resource_type") in {"model", "seed", "snapshot"}
    }
    renames: dict[tuple[str, str], set[str]] = {}
    for source in manifest.get("sources", {}).values():
        key = (source["schema"], source["name"])
        if source["identifier"] != source["name"] and key not in physical:
            renames.setdefault(key, set()).add(source["identifier"])
    return {key: tables.pop() for key, tables in renames.items() if len(tables) == 1}


@cache
def _project_renames() -> dict[tuple[str, str], str]:
    path = settings.dbt_project_dir() / "target" / "manifest.json"
    try:
        return source_table_renames(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError):
        log.warning("OpenLineage: could not read dbt sources from %s; source datasets keep dbt's names", path)
        return {}


def physical_name(name: str, renames: dict[tuple[str, str], str]) -> str:
    """`database.schema.source_name` -> `database.schema.identifier` when the source has another identifier."""
    parts = name.split(".")
    if len(parts) != 3:
        return name
    database, schema, table = parts
    return f"{database}.{schema}.{renames.get((schema, table), table)}"


def rename_sources(lineage: OperatorLineage | None, renames: dict[tuple[str, str], str]) -> OperatorLineage | None:
    """The lineage with every postgres dataset named by its physical table (inputs and outputs alike)."""
    if lineage is None or not renames:
        return lineage
    for dataset in [*lineage.inputs, *lineage.outputs]:
        if dataset.namespace.startswith("postgres://"):
            renamed = physical_name(dataset.name, renames)
            if renamed != dataset.name:
                object.__setattr__(dataset, "name", renamed)  # attrs datasets may be frozen
    return lineage


class DbtSourceTablesExtractor(DefaultExtractor):
    """Cosmos's own lineage for a dbt task (its `get_openlineage_facets_on_*`), with sources renamed."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return COSMOS_LOCAL_OPERATORS

    def _execute_extraction(self) -> OperatorLineage | None:
        return rename_sources(super()._execute_extraction(), _project_renames())

    def extract_on_complete(self, task_instance) -> OperatorLineage | None:
        return rename_sources(super().extract_on_complete(task_instance), _project_renames())

    def extract_on_failure(self, task_instance) -> OperatorLineage | None:
        return rename_sources(super().extract_on_failure(task_instance), _project_renames())
