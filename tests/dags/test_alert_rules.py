"""House rules for alerts: every DAG in dags/ alerts when one of its tasks fails for good and when a run
fails, and the DAGs whose runs must not drag carry Airflow's DeadlineAlert when DAG_RUN_DEADLINE_MINUTES
is set."""

from __future__ import annotations

import inspect
from datetime import timedelta
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import AsyncCallback, DeadlineReference
from airflow.sdk._shared.module_loading import import_string

from probation_evidence.orchestration.alerts import AlertNotifier

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
DAG_IDS = sorted(p.stem for p in DAGS_DIR.glob("*.py"))
#: Their runs must finish promptly: a late publish run delays packs, a hung check hides late ones.
DEADLINED = {"publish_evidence_packs", "check_pack_deadlines"}


def _dagbag(**env: str):
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        bag = DagBag(dag_folder=str(DAGS_DIR))
    assert bag.import_errors == {}
    return bag


@pytest.fixture(scope="module")
def dagbag():
    return _dagbag(DAG_RUN_DEADLINE_MINUTES="0")


@pytest.fixture(scope="module")
def dagbag_with_deadlines():
    return _dagbag(DAG_RUN_DEADLINE_MINUTES="45")


def _callbacks(value) -> list:
    return value if isinstance(value, list) else [value] if value else []


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_a_failed_run_raises_an_alert(dagbag, dag_id):
    callbacks = _callbacks(dagbag.dags[dag_id].on_failure_callback)
    assert [c.scope for c in callbacks if isinstance(c, AlertNotifier)] == ["dag_run"], (
        f"{dag_id}: add on_failure_callback=DAG_FAILURE_CALLBACKS"
        " (probation_evidence.orchestration.defaults) to its @dag"
    )


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_every_task_that_fails_for_good_raises_an_alert(dagbag, dag_id):
    """Cosmos's dbt tasks included: they take the DAG's default_args like every operator."""
    silent = [
        task.task_id
        for task in dagbag.dags[dag_id].tasks
        if not any(isinstance(c, AlertNotifier) and c.scope == "task" for c in _callbacks(task.on_failure_callback))
    ]
    assert not silent, f"tasks of {dag_id} that fail silently (use DEFAULT_ARGS): {silent}"


def test_the_pack_deadline_check_runs_daily(dagbag):
    dag = dagbag.dags["check_pack_deadlines"]
    assert dag.timetable.expression == "30 7 * * *"
    assert dag.get_task("alert_late_packs").retries == 0, "a retry would only send every alert again"


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_no_deadline_alert_unless_it_is_set(dagbag, dag_id):
    assert not dagbag.dags[dag_id].deadline


@pytest.mark.parametrize("dag_id", sorted(DEADLINED))
def test_slow_runs_raise_an_alert_when_a_run_deadline_is_set(dagbag_with_deadlines, dag_id):
    [deadline] = dagbag_with_deadlines.dags[dag_id].deadline
    assert deadline.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert deadline.interval == timedelta(minutes=45)
    assert isinstance(deadline.callback, AsyncCallback), "run by the triggerer"
    assert deadline.callback.path == "probation_evidence.orchestration.alerts.alert_dag_run_deadline_missed"


def test_a_deadline_callback_path_imports_to_an_awaitable(dagbag_with_deadlines):
    """The triggerer imports the callback by its path: it must be a top-level coroutine function."""
    [deadline] = dagbag_with_deadlines.dags["publish_evidence_packs"].deadline
    assert inspect.iscoroutinefunction(import_string(deadline.callback.path))
