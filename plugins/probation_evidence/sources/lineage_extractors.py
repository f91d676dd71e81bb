"""OpenLineage extractors for Cosmos's dbt tasks: sources named by their physical tables, and each dbt
node's lineage for the watcher sensors, which run no dbt of their own.

Cosmos reports each dbt node's inputs and outputs through OpenLineage's dbt integration, which names a
source by its dbt name (`raw.staff`) rather than the table it stands for (`identifier: staffing_staff`, so
`raw.staffing_staff`). Every raw source here has such an identifier, so without this the staging models
would read datasets no task writes, and the graph would not join the ingest tasks' outputs. This
extractor takes the lineage Cosmos produces and renames those inputs to the physical tables, read from the
project's dbt manifest. It is registered for Cosmos's local operators and the watcher's producer.

In watcher mode one task (the producer) runs the whole `dbt build`, and each seed and model has a sensor
that mirrors its node's result. Cosmos reports lineage only for the producer, as one job reading every
source and writing every model, so the model-to-model edges would be lost. `DbtWatcherNodeExtractor`
gives each sensor's job its node's lineage from the manifest: what the node reads (its `depends_on`:
models, seeds, snapshots by relation, sources by physical table) and the relation it builds, in the
namespace and database of the connection dbt runs on.

Both are registered by `[openlineage] extractors` (`lineage.airflow_config()` sets it for local runs; a
deployment sets `AIRFLOW__OPENLINEAGE__EXTRACTORS` to `lineage.EXTRACTORS`).
"""

from __future__ import annotations

import json
import logging
from functools import cache

from airflow.providers.common.compat.openlineage.facet import Dataset
from airflow.providers.openlineage.extractors.base import BaseExtractor, DefaultExtractor, OperatorLineage

from probation_evidence import settings
from probation_evidence.sources.lineage import warehouse_namespace

log = logging.getLogger(__name__)

#: Cosmos's local-execution operators (ExecutionMode.LOCAL), by class name as OpenLineage matches them.
COSMOS_LOCAL_OPERATORS = [
    "DbtBuildLocalOperator",
    "DbtRunLocalOperator",
    "DbtSeedLocalOperator",
    "DbtSnapshotLocalOperator",
    "DbtTestLocalOperator",
    "DbtProducerWatcherOperator",
]

#: Cosmos's watcher sensors (ExecutionMode.WATCHER), one per seed, snapshot and model.
COSMOS_WATCHER_SENSORS = ["DbtRunWatcherOperator", "DbtSeedWatcherOperator", "DbtSnapshotWatcherOperator"]
RELATION_TYPES = {"model", "seed", "snapshot"}


def relation(node: dict) -> tuple[str, str]:
    """(schema, table) of a model, seed or snapshot in the manifest."""
    return node["schema"], node.get("alias") or node["name"]


def source_table_renames(manifest: dict) -> dict[tuple[str, str], str]:
    """(schema, source name) -> physical table, for every source whose identifier differs from its name.

    A name that is itself a physical relation of the project (a source's identifier, a model's, seed's or
    snapshot's alias) is left alone, so renaming is unambiguous and applying it twice changes nothing.
    """
    physical = {(s["schema"], s["identifier"]) for s in manifest.get("sources", {}).values()}
    physical |= {relation(n) for n in manifest.get("nodes", {}).values() if n.get("resource_type") in RELATION_TYPES}
    renames: dict[tuple[str, str], set[str]] = {}
    for source in manifest.get("sources", {}).values():
        key = (source["schema"], source["name"])
        if source["identifier"] != source["name"] and key not in physical:
            renames.setdefault(key, set()).add(source["identifier"])
    return {key: tables.pop() for key, tables in renames.items() if len(tables) == 1}


@cache
def _project_manifest() -> dict:
    path = settings.dbt_project_dir() / "target" / "manifest.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("OpenLineage: could not read the dbt manifest %s; dbt lineage is incomplete", path)
        return {}


@cache
def _project_renames() -> dict[tuple[str, str], str]:
    try:
        return source_table_renames(_project_manifest())
    except KeyError:
        log.warning("OpenLineage: the dbt manifest's sources are malformed; source datasets keep dbt's names")
        return {}


def node_relations(manifest: dict, unique_id: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(inputs, outputs) of one dbt node as (schema, table) pairs, from the manifest.

    Inputs are the node's `depends_on` nodes: a source by its identifier, a model, seed or snapshot by its
    alias; an ephemeral model is not a relation, so its own inputs stand in for it. The output is the
    node's relation (none for an ephemeral model or a node that is not a relation).
    """
    nodes, sources = manifest.get("nodes", {}), manifest.get("sources", {})

    def ephemeral(node: dict) -> bool:
        return node.get("config", {}).get("materialized") == "ephemeral"

    inputs: list[tuple[str, str]] = []
    seen: set[str] = set()
    pending = list(nodes.get(unique_id, {}).get("depends_on", {}).get("nodes", []))
    while pending:
        upstream = pending.pop(0)
        if upstream in seen:
            continue
        seen.add(upstream)
        if upstream in sources:
            inputs.append((sources[upstream]["schema"], sources[upstream]["identifier"]))
        elif nodes.get(upstream, {}).get("resource_type") in RELATION_TYPES:
            if ephemeral(nodes[upstream]):
                pending.extend(nodes[upstream].get("depends_on", {}).get("nodes", []))
            else:
                inputs.append(relation(nodes[upstream]))
    node = nodes.get(unique_id)
    built = node is not None and node.get("resource_type") in RELATION_TYPES and not ephemeral(node)
    return sorted(set(inputs)), [relation(node)] if built else []


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


class DbtWatcherNodeExtractor(BaseExtractor):
    """A watcher sensor's lineage: its dbt node's inputs and output, from the manifest (module docstring)."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return COSMOS_WATCHER_SENSORS

    def _execute_extraction(self) -> OperatorLineage | None:
        unique_id = getattr(self.operator, "model_unique_id", None)
        inputs, outputs = node_relations(_project_manifest(), unique_id) if unique_id else ([], [])
        if not (inputs or outputs):
            return None
        # The connection dbt ran on (the profile Cosmos builds from the `warehouse` Airflow connection).
        profile = self.operator.profile_config.profile_mapping.profile
        namespace = warehouse_namespace(profile["host"], profile.get("port"))

        def dataset(schema_table: tuple[str, str]) -> Dataset:
            return Dataset(namespace=namespace, name=f"{profile['dbname']}.{schema_table[0]}.{schema_table[1]}")

        return OperatorLineage(inputs=[dataset(i) for i in inputs], outputs=[dataset(o) for o in outputs])

    def extract_on_complete(self, task_instance) -> OperatorLineage | None:
        return self._execute_extraction()

    def extract_on_failure(self, task_instance) -> OperatorLineage | None:
        return self._execute_extraction()
