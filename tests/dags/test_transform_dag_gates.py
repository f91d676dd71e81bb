"""The transform DAG's shape that publishing relies on: the marts state is set to 'building' before any
dbt task, to 'passed' only after every dbt task and test, to 'failed' when any fails; every task, each
Cosmos dbt task included, has an execution timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from cosmos.operators.watcher import DbtConsumerWatcherSensor, DbtProducerWatcherOperator
from jinja2 import Template

from probation_evidence.orchestration import build_plan
from probation_evidence.orchestration.defaults import MARTS

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "transform_warehouse.py"


@pytest.fixture(scope="module")
def dag():
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["transform_warehouse"]


def test_every_task_has_an_execution_timeout(dag):
    dbt_tasks = [task for task in dag.tasks if task.task_id.startswith("dbt_build.")]
    assert len(dbt_tasks) > 40, "Cosmos rendered the dbt project"
    assert not [task.task_id for task in dag.tasks if not task.execution_timeout]


def test_the_marts_are_marked_building_before_any_dbt_task(dag):
    assert [task.task_id for task in dag.roots] == ["mark_marts_building"]
    building = dag.get_task("mark_marts_building")
    assert {t.task_id for t in building.get_flat_relatives(upstream=False)} == {
        t.task_id for t in dag.tasks if t.task_id != "mark_marts_building"
    }


def test_passed_only_after_every_dbt_task_and_failed_when_any_fails(dag):
    passed = dag.get_task("mark_marts_passed")
    assert passed.trigger_rule == "all_success"
    assert list(passed.outlets) == [MARTS], "the marts Asset is emitted only by the task that marks them passed"
    dbt_tasks = {task.task_id for task in dag.tasks if task.task_id.startswith("dbt_build.")}
    assert dbt_tasks <= {t.task_id for t in passed.get_flat_relatives(upstream=True)}

    failed = dag.get_task("mark_marts_failed")
    assert failed.trigger_rule == "one_failed"
    assert dbt_tasks | {"mark_marts_building"} <= {t.task_id for t in failed.get_flat_relatives(upstream=True)}
    # Both are leaves: when mark_marts_failed succeeds the run still fails (mark_marts_passed did not run).
    assert {task.task_id for task in dag.leaves} == {"mark_marts_passed", "mark_marts_failed"}


def test_one_dbt_build_then_every_seed_and_models_sensor(dag):
    """Watcher mode: one producer task builds every node; each seed and model has a sensor that starts only
    after the producer has finished (DAG.test() runs one task at a time and would otherwise wait for ever),
    and only if the marts were marked building."""

    producer = dag.get_task("dbt_build.dbt_producer_watcher")
    assert isinstance(producer, DbtProducerWatcherOperator)
    assert producer.upstream_task_ids == {"mark_marts_building"}
    assert producer.retry_delay.total_seconds() <= 1, "its retry only restores results and skips"
    sensors = [task for task in dag.tasks if isinstance(task, DbtConsumerWatcherSensor)]
    assert len(sensors) > 40
    after_producer = {t.task_id for t in producer.get_flat_relatives(upstream=False)}
    assert {s.task_id for s in sensors} <= after_producer
    roots = [s for s in sensors if producer.task_id in s.upstream_task_ids]
    assert roots, "the sensors of nodes with no upstream node follow the producer directly"
    for sensor in roots:
        assert sensor.upstream_task_ids == {producer.task_id, "mark_marts_building"}, sensor.task_id
        # After the producer succeeded or skipped (its retry), never after mark_marts_building failed.
        assert sensor.trigger_rule == "none_failed_min_one_success", sensor.task_id


def test_the_build_leaves_out_unchanged_nodes_and_tests_only_what_it_built(dag):
    """Selective builds (orchestration/build_plan.py): the producer plans before it builds, through Cosmos's
    source-freshness hook, without running `dbt source freshness`; a skipped sensor (a node left as built)
    holds back neither the sensors after it nor the test task, whose selection comes from the plan."""

    producer = dag.get_task("dbt_build.dbt_producer_watcher")
    assert producer._check_source_freshness and producer._freshness_callback is build_plan.skip_unchanged
    assert producer._run_source_freshness({}) is None, "the hook's own freshness run is not made"
    sensors = [t for t in dag.tasks if t.task_id.startswith("dbt_build.") and t.task_id.endswith(("_run", "_seed"))]
    inner = [s for s in sensors if producer.task_id not in s.upstream_task_ids]
    assert inner and {s.trigger_rule for s in inner} == {"none_failed"}

    tests = dag.get_task("dbt_build.dbt_project_test")
    assert tests.trigger_rule == "none_failed"

    class TaskInstance:
        def __init__(self, pushed):
            self.pushed = pushed

        def xcom_pull(self, task_ids, key):
            assert (task_ids, key) == (producer.task_id, build_plan.TEST_SELECTION_KEY)
            return self.pushed

    assert Template(tests.select).render(ti=TaskInstance("m2 m4")) == "m2 m4"
    assert Template(tests.select).render(ti=TaskInstance(None)) == build_plan.ALL_NODES, "no plan: test all"
    assert dag.params["rebuild_all"] is False
