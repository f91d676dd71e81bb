"""What a transform run must rebuild: the seeds and models that data changed since the last passed build reaches.

A passed build records what it was built from in `audit.marts_state.built_from`: a digest of the dbt
project's files and a fingerprint of every source the models read. The next run compares:
- no record (first build, or the last build failed), a changed project, or the DAG param `rebuild_all`:
  everything is built;
- otherwise a seed or model is left as it is when every input it reads is unchanged: an unchanged source,
  a seed (the project is unchanged), or another node left as it is. This is dbt's `source_status:fresher+`
  with the load audit as the clock, so a replaced or emptied slice counts as a change too.

A source's fingerprint is its load batches (`audit.load_batches`: batch id and load time of every slice):
the loader is the only writer of the raw tables and records each batch there. A source with no batches
there (the audit tables themselves, a source loaded some other way) is fingerprinted by its rows: those
are small tables.

In the watcher transform this runs inside the dbt producer task, as Cosmos's source-freshness callback
(`freshness_callback`): the nodes it returns are excluded from the one `dbt build` and their sensors are
skipped. It also leaves the tests to run (`TEST_SELECTION_KEY`) and the state to record once the build
passed (`BUILT_FROM_KEY`) in the producer's XComs.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from probation_evidence import settings
from probation_evidence.orchestration.connections import warehouse_url
from probation_evidence.warehouse import read_sql

log = logging.getLogger(__name__)

BUILT_FROM_KEY = "built_from"
TEST_SELECTION_KEY = "test_selection"
#: What the tests select when the whole project is built: every test of every seed and model.
ALL_NODES = "path:seeds path:models"
#: The test selection when nothing was rebuilt: a tag no node has, so dbt reports "nothing to do".
NOTHING_REBUILT = "tag:nothing_rebuilt"
#: The dbt project's inputs to a build: a change to any of them rebuilds everything.
PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "tests")
BUILDABLE = ("model", "seed", "snapshot")

LOADED_THROUGH = read_sql("probation_evidence.orchestration", "loaded_through")
BATCH_FINGERPRINTS = read_sql("probation_evidence.orchestration", "batch_fingerprints")
LAST_BUILT_FROM = read_sql("probation_evidence.orchestration", "last_built_from")
FORGET_BUILT_FROM = read_sql("probation_evidence.orchestration", "forget_built_from")
#: The transform DAG's one write of audit.marts_state (`building`, `passed` or `failed`).
SET_MARTS_STATE = read_sql("probation_evidence.orchestration", "set_marts_state")


def project_digest(project_dir: Path | None = None) -> str:
    """sha256 over the names and contents of every file the dbt project builds from."""
    root = project_dir or settings.dbt_project_dir()
    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        path = root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def read_manifest(project_dir: Path | None = None) -> dict:
    root = project_dir or settings.dbt_project_dir()
    return json.loads((root / "target" / "manifest.json").read_text())


def graph(manifest: dict) -> tuple[dict[str, list[str]], dict[str, tuple[str, str, str, str]]]:
    """The seeds and models with their inputs, and each source the models read as (source name, table
    name, schema, identifier), by unique id."""
    nodes = {
        uid: list(node["depends_on"].get("nodes", []))
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in BUILDABLE
    }
    read = {dep for deps in nodes.values() for dep in deps}
    sources = {
        uid: (source["source_name"], source["name"], source["schema"], source["identifier"])
        for uid, source in manifest["sources"].items()
        if uid in read
    }
    return nodes, sources


def left_as_built(nodes: dict[str, list[str]], unchanged_inputs: set[str]) -> set[str]:
    """The nodes none of whose inputs changed, directly or through another node: every input is an
    unchanged source or seed, or a node in the result."""
    kept: set[str] = set()
    grew = True
    while grew:
        grew = False
        for uid, deps in nodes.items():
            if uid not in kept and all(dep in unchanged_inputs or dep in kept for dep in deps):
                kept.add(uid)
                grew = True
    return kept


def loaded_through(conn) -> str | None:
    """The load audit's latest load: rows loaded after it are new to the next build (its tests read only
    those rows of the weekly returns, dbt_project.yml)."""
    latest = conn.execute(LOADED_THROUGH).fetchone()[0]
    return latest.isoformat() if latest else None


def source_fingerprints(conn, sources: dict[str, tuple[str, str, str, str]]) -> dict[str, str]:
    """A fingerprint per source unique id: an md5 of its load batches, or of its rows when it has none."""
    from psycopg import sql  # at run time: DAG files import this module while Airflow parses them

    batches = {(source, entity): fingerprint for source, entity, fingerprint in conn.execute(BATCH_FINGERPRINTS)}
    fingerprints = {}
    for uid, (source_name, table, schema, identifier) in sorted(sources.items()):
        if (source_name, table) in batches:
            fingerprints[uid] = "batches:" + batches[(source_name, table)]
            continue
        rows = sql.SQL("select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) from {} t").format(
            sql.Identifier(schema, identifier)
        )
        fingerprints[uid] = "rows:" + conn.execute(rows).fetchone()[0]
    return fingerprints


def plan(manifest: dict, current: dict, last: dict | None, rebuild_all: bool = False) -> tuple[set[str], str]:
    """(the nodes to leave as built, why): nothing is left when there is no record of a passed build, the
    project changed, or a full rebuild was asked for."""
    nodes, _ = graph(manifest)
    if rebuild_all:
        return set(), "a full rebuild was asked for (rebuild_all)"
    if not last:
        return set(), "no record of what the last passed build was built from"
    if last.get("project") != current["project"]:
        return set(), "the dbt project changed since the last passed build"
    changed = sorted(uid for uid, fp in current["sources"].items() if last.get("sources", {}).get(uid) != fp)
    seeds = {uid for uid in nodes if manifest["nodes"][uid]["resource_type"] == "seed"}
    unchanged = {uid for uid in current["sources"] if uid not in changed} | seeds
    kept = left_as_built(nodes, unchanged)
    names = ", ".join(uid.removeprefix("source.").split(".", 1)[1] for uid in changed) or "none"
    return kept, f"sources changed since the last passed build: {names}"


def test_selection(manifest: dict, kept: set[str]) -> str:
    """What `dbt test` selects after the build: the tests of every rebuilt node (dbt's indirect selection
    adds a test when any node it reads is selected)."""
    nodes, _ = graph(manifest)
    if not kept:
        return ALL_NODES
    rebuilt = sorted(manifest["nodes"][uid]["name"] for uid in nodes if uid not in kept)
    return " ".join(rebuilt) or NOTHING_REBUILT


def last_built_from(conn) -> dict | None:
    row = conn.execute(LAST_BUILT_FROM).fetchone()
    return row[0] if row else None


def skip_unchanged(context: Any, dag: Any, task_group: Any, nodes: Any, _sources_json: Any) -> list[tuple[str, str]]:
    """Cosmos's freshness callback for the watcher producer: the nodes to skip, as (unique id, "skipped").

    Reads the warehouse as the transformer; pushes the tests to run and the state to record to XCom. Cosmos
    passes its five arguments by position; the plan reads the context, and the manifest itself.
    """
    import psycopg  # at run time: DAG files import this module while Airflow parses them

    manifest = read_manifest()
    buildable, sources = graph(manifest)
    with psycopg.connect(warehouse_url()) as conn:
        conn.execute(f"set role {settings.TRANSFORMER_ROLE}")
        current = {
            "project": project_digest(),
            "loaded_through": loaded_through(conn),
            "sources": source_fingerprints(conn, sources),
        }
        last = last_built_from(conn)
        params = context.get("params") or {}
        kept, why = plan(manifest, current, last, rebuild_all=bool(params.get("rebuild_all")))
        if not kept and last is not None:
            # A full build tests every row: forget the last build, so no test reads only the rows since it.
            conn.execute(FORGET_BUILT_FROM)
    log.info(
        "building %d of %d seeds and models, leaving %d as built: %s",
        len(buildable) - len(kept), len(buildable), len(kept), why,
    )  # fmt: skip
    ti = context["ti"]
    ti.xcom_push(key=BUILT_FROM_KEY, value=current)
    ti.xcom_push(key=TEST_SELECTION_KEY, value=test_selection(manifest, kept))
    return [(uid, "skipped") for uid in sorted(kept)]
