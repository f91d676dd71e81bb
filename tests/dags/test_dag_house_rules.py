"""House rules every DAG must keep; they catch the quiet failures (a selector that renders no task, a
slow parse, a DAG file that does work at import time)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import Asset, AssetAll, AssetAny

from probation_evidence.orchestration.defaults import RAW_ASSETS

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
PARSE_BUDGET = timedelta(seconds=2)


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(dag_folder=str(DAGS_DIR))


def test_every_dag_file_imports(dagbag):
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == sorted(p.stem for p in DAGS_DIR.glob("*.py"))


def test_every_dag_file_parses_within_budget(dagbag):
    slow = {Path(s.file).name: s.duration for s in dagbag.dagbag_stats if s.duration > PARSE_BUDGET}
    assert not slow, f"DAG files over the {PARSE_BUDGET.total_seconds()}s parse budget: {slow}"


@pytest.mark.parametrize("dag_id", sorted(p.stem for p in DAGS_DIR.glob("*.py")))
def test_house_rules(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.dag_id == Path(dag.fileloc).stem
    assert dag.tasks, "a DAG with no tasks (e.g. a dbt selector that matched nothing)"
    assert dag.doc_md and dag.tags
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.default_args.get("owner")
    assert dag.default_args.get("retries", 0) >= 1
    assert type(dag.timetable).__name__ != "NullTimetable", "every DAG has a schedule"


@pytest.mark.parametrize("dag_id", sorted(p.stem for p in DAGS_DIR.glob("*.py")))
def test_every_task_has_an_execution_timeout(dagbag, dag_id):
    """Nothing hangs: a task without one (Cosmos's dbt operators included) could hold its slot for ever."""
    missing = [t.task_id for t in dagbag.dags[dag_id].tasks if not t.execution_timeout]
    assert not missing, f"tasks without an execution_timeout: {missing}"


def manifest_nodes(manifest: dict) -> set[str]:
    """The project's own seeds and models, by name."""
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed"} and node["package_name"] == "probation_evidence"
    }


def nodes_without_a_task(nodes: set[str], task_ids: set[str]) -> set[str]:
    """The nodes no task is named after; refuses an empty node list, which would leave nothing to check."""
    assert nodes, "the dbt manifest yields no seeds or models: nothing to check the DAG against"
    # Cosmos names a model's task `<group>.<name>_run` and a seed's `<group>.<name>_seed`.
    rendered = {task_id.rsplit(".", 1)[-1] for task_id in task_ids}
    return {name for name in nodes if not {f"{name}_run", f"{name}_seed"} & rendered}


def test_transform_runs_every_dbt_model_and_seed(dagbag):
    """Cosmos renders one task per node; a wrong selector renders none without an error."""
    manifest = json.loads((DAGS_DIR.parent / "dbt_project" / "target" / "manifest.json").read_text())
    task_ids = {t.task_id for t in dagbag.dags["transform_warehouse"].tasks}
    assert not nodes_without_a_task(manifest_nodes(manifest), task_ids)


def test_the_node_check_bites():
    """A node with no task is found, and a manifest with no project nodes is refused, not passed."""
    manifest = {
        "nodes": {
            "model.probation_evidence.stg_a": {
                "name": "stg_a",
                "resource_type": "model",
                "package_name": "probation_evidence",
            },
            "seed.probation_evidence.s": {"name": "s", "resource_type": "seed", "package_name": "probation_evidence"},
            "test.probation_evidence.t": {"name": "t", "resource_type": "test", "package_name": "probation_evidence"},
            "model.other.m": {"name": "m", "resource_type": "model", "package_name": "other"},
        }
    }
    assert manifest_nodes(manifest) == {"stg_a", "s"}
    assert nodes_without_a_task({"stg_a", "s"}, {"dbt_build.stg_a_run"}) == {"s"}
    with pytest.raises(AssertionError, match="no seeds or models"):
        nodes_without_a_task(manifest_nodes({"nodes": {}}), {"dbt_build.stg_a_run"})


def assets_not_scheduling(schedule_assets: set, raw_assets: dict) -> list[str]:
    """The families whose raw Asset is not in the transform's schedule."""
    return sorted(family for family, asset in raw_assets.items() if asset not in schedule_assets)


def condition_assets(condition) -> set:
    """Every Asset in an Asset condition (AssetAny/AssetAll, nested or not)."""
    if isinstance(condition, Asset):
        return {condition}
    return set().union(*(condition_assets(c) for c in getattr(condition, "objects", ())))


def test_every_family_emits_its_asset_and_the_transform_is_scheduled_on_all_of_them(dagbag):
    assert set(RAW_ASSETS) == {p.stem.removeprefix("ingest_") for p in DAGS_DIR.glob("ingest_*.py")}
    for family, asset in RAW_ASSETS.items():
        ingest = dagbag.dags[f"ingest_{family}"]
        assert asset in {o for t in ingest.tasks for o in getattr(t, "outlets", [])}, family
    condition = dagbag.dags["transform_warehouse"].timetable.asset_condition
    assert type(condition).__name__ == "AssetAny", "any family's new data rebuilds the marts"
    assert not assets_not_scheduling(condition_assets(condition), RAW_ASSETS)


def test_the_schedule_check_bites():
    """A schedule that leaves out one family's Asset is caught, nested conditions included."""
    families = list(RAW_ASSETS)
    partial = AssetAny(*(RAW_ASSETS[f] for f in families[1:]))
    assert assets_not_scheduling(condition_assets(partial), RAW_ASSETS) == [families[0]]
    nested = AssetAny(RAW_ASSETS[families[0]], AssetAll(*(RAW_ASSETS[f] for f in families[1:])))
    assert not assets_not_scheduling(condition_assets(nested), RAW_ASSETS)
