"""House rules every DAG must keep; they catch the quiet failures (a selector that renders no task, a
slow parse, a DAG file that does work at import time)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
PARSE_BUDGET = timedelta(seconds=2)


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

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


def test_transform_runs_every_dbt_model_and_seed(dagbag):
    """Cosmos renders one task per node; a wrong selector renders none without an error."""
    import json

    manifest = json.loads((DAGS_DIR.parent / "dbt_project" / "target" / "manifest.json").read_text())
    nodes = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed"} and node["package_name"] == "probation_evidence"
    }
    task_ids = {t.task_id for t in dagbag.dags["transform_warehouse"].tasks}
    missing = {name for name in nodes if not any(name in task_id for task_id in task_ids)}
    assert not missing


def test_transform_is_scheduled_on_the_ingest_assets(dagbag):
    from probation_evidence.orchestration.defaults import RAW_STAFFING

    ingest = dagbag.dags["ingest_staffing"]
    outlets = {o for t in ingest.tasks for o in getattr(t, "outlets", [])}
    assert RAW_STAFFING in outlets
    schedule = dagbag.dags["transform_warehouse"].timetable
    assert "raw_staffing" in str(schedule.asset_condition)
