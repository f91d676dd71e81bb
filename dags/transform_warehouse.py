"""
### Transform the warehouse with dbt

Runs the dbt project (`dbt_project/`) through Cosmos's watcher mode: one task (`dbt_producer_watcher`)
runs a single `dbt build` of every seed and model (tests left out: `TestBehavior.AFTER_ALL`), and each seed
and model keeps a task of its own, a sensor that turns green or red with that node's result in the build
(its log shows the node's dbt event). Then one task (`dbt_project_test`) runs the data and unit tests; the
`marts` Asset is emitted only when they all pass. Scheduled on the raw Assets the ingest DAGs emit (any of
them), so the marts are rebuilt whenever new source data lands. Credentials come from the `warehouse`
Airflow connection (Cosmos maps it to a dbt profile); dbt acts as the transformer role.

`audit.marts_state` says whether the marts may be published: `mark_marts_building` sets `building` before
any dbt task starts, `mark_marts_passed` sets `passed` (and emits the Asset) only after every model built
and every test passed, and `mark_marts_failed` (trigger rule `one_failed`) sets `failed`, naming the
failed tasks, when any of them failed for good. The publish DAG refuses to publish unless it is `passed`.
If the warehouse itself is down, `failed` cannot be written and the state stays `building`: refused too.
Every task, each dbt node included, has the `execution_timeout` of the DAG's default arguments.

Each run builds only what changed data reaches (`orchestration/build_plan.py`, docs/scale.md): before the
build, the producer compares every source's load batches with those the last passed build was built from,
and leaves out the seeds and models none of whose inputs changed (their sensors show as skipped). The test
task then runs the tests of the nodes built; the weekly returns' tests read only the rows loaded since the
last passed build. With no record of a passed build (the first, or after a failure), a changed dbt
project, or the `rebuild_all` param, everything is built and tested.

Failures and retries (docs/dbt-execution.md): when a node fails, the producer's try fails; its retry does
not build again (Cosmos restores the first try's per-node results and skips), so it waits a second, not
the default delay. The sensors then run: built nodes succeed, the failed node's sensor fails, and its
retry runs `dbt run --select <node>` alone. Nodes downstream of it wait for it, and rerun themselves
likewise. If `mark_marts_building` failed, no sensor runs.

Parsing reads the dbt manifest (`make install` runs `dbt parse`), which keeps this file fast to parse.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from airflow.sdk import AssetAny, Param, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

from probation_evidence import settings
from probation_evidence.orchestration import build_plan
from probation_evidence.orchestration.connections import warehouse_url
from probation_evidence.orchestration.dbt_profile import WarehouseProfileMapping
from probation_evidence.orchestration.defaults import DAG_FAILURE_CALLBACKS, DEFAULT_ARGS, MARTS, RAW_ASSETS, START_DATE

DBT_PROJECT = settings.dbt_project_dir()
log = logging.getLogger(__name__)


@dag(
    # Any family's new data rebuilds the marts (a family with nothing new does not hold the others back).
    schedule=AssetAny(*RAW_ASSETS.values()),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=DAG_FAILURE_CALLBACKS,
    tags=["transform", "dbt"],
    doc_md=__doc__,
    params={
        "rebuild_all": Param(
            False,
            type="boolean",
            description="Build every seed and model, not only those that data changed since the last passed "
            "build reaches (after a manual fix in the warehouse, say).",
        ),
    },
)
def transform_warehouse():
    dbt_build = DbtTaskGroup(
        group_id="dbt_build",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT,
            manifest_path=DBT_PROJECT / "target" / "manifest.json",
            install_dbt_deps=False,  # the project has no packages; the operators take this too
        ),
        profile_config=ProfileConfig(
            profile_name="probation_evidence",
            target_name="warehouse",
            profile_mapping=WarehouseProfileMapping(
                conn_id=settings.WAREHOUSE_CONN_ID,
                # Four threads, as in profiles.yml: the one task running every data and unit test takes ~24 s
                # on the demo warehouse with four, ~34 s with Cosmos's default of one (two runs each, 2 cores).
                profile_args={"schema": "staging", "role": settings.TRANSFORMER_ROLE, "threads": 4},
            ),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=["path:seeds", "path:models"],
            # The producer's `dbt build` covers seeds and models only (Cosmos passes `--resource-type` for
            # each); every data and unit test then runs in one task, `dbt_project_test`, after the whole
            # build, and mark_marts_passed (which emits the marts Asset) waits for it.
            test_behavior=TestBehavior.AFTER_ALL,
        ),
        execution_config=ExecutionConfig(
            # One dbt process for the whole build instead of one per node: 0.50x the time of per-node tasks,
            # with the same marts (docs/dbt-execution.md).
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.DBT_RUNNER,
            setup_operator_args={
                # The producer's retry only restores its first try's results and skips: nothing to wait for.
                "retry_delay": timedelta(seconds=1),
                "retry_exponential_backoff": False,
                # Before the build, leave out the nodes no changed data reaches (build_plan): Cosmos's
                # source-freshness hook marks them skipped and excludes them from the one `dbt build`.
                "_check_source_freshness": True,
                "freshness_callback": build_plan.skip_unchanged,
            },
        ),
    )

    @task
    def mark_marts_building() -> None:
        """Before dbt touches a table: the marts are not a tested build until the last task says so."""
        set_marts_state("building", "dbt is rebuilding the marts")

    @task(outlets=[MARTS])
    def mark_marts_passed(ti=None) -> str:
        """Mark the marts current: every model built and every test passed upstream. Record what they were
        built from, so the next run rebuilds only what changed data reaches."""
        built_from = ti.xcom_pull(task_ids=PRODUCER, key=build_plan.BUILT_FROM_KEY)
        set_marts_state("passed", "every model built and every dbt test passed", built_from)
        return "marts rebuilt"

    # A task rather than an on_failure_callback: it runs even when the failed task's process died without
    # running its callbacks (killed, out of memory), it is retried and time-limited like any task, and its
    # outcome is in the run's record. The run still fails: mark_marts_passed, a leaf, is upstream_failed.
    @task(trigger_rule="one_failed")
    def mark_marts_failed(dag_run=None) -> None:
        """Some task of this build failed for good: say so, and which, in audit.marts_state."""
        failed = failed_tasks(dag_run)
        named = ", ".join(failed[:10]) + (f" and {len(failed) - 10} more" if len(failed) > 10 else "")
        set_marts_state("failed", f"run {dag_run.run_id} failed: {named or 'see the run'}")

    building = mark_marts_building()
    building >> dbt_build >> mark_marts_passed()
    [building, dbt_build] >> mark_marts_failed()
    sensors_after_producer(dbt_build)
    plan_before_build(dbt_build)


PRODUCER = "dbt_build.dbt_producer_watcher"


def plan_before_build(group) -> None:
    """Build only what changed data reaches, and test only what was built.

    The producer runs `build_plan.skip_unchanged` first, through Cosmos's source-freshness hook (the
    `freshness_callback` of its arguments): the nodes it returns are marked skipped and excluded from the
    `dbt build`. The hook would first run `dbt source freshness`, which the plan does not read (it compares
    load batches, not load times) and which took 11.6 s at 1x: the producer skips that step.

    The one test task then runs the tests of the nodes this run built (all of them on a full build), as the
    plan left in XCom (its trigger rule, set with the sensors', lets it run when some were left as built).
    """
    children = {t.task_id: t for t in group.children.values()}
    children[PRODUCER]._run_source_freshness = lambda context: None
    tests = children["dbt_build.dbt_project_test"]
    tests.select = (
        f"{{{{ ti.xcom_pull(task_ids='{PRODUCER}', key='{build_plan.TEST_SELECTION_KEY}')"
        f" or '{build_plan.ALL_NODES}' }}}}"
    )


def sensors_after_producer(group) -> None:
    """Make the watcher's producer upstream of the group's root sensors.

    Cosmos leaves the root sensors of a `DbtTaskGroup` free to start beside the producer, waiting for its
    results. `DAG.test()` (`make demo`, the e2e tests) runs one task at a time, so a sensor started first
    would wait for ever for a producer that cannot start (measured: docs/dbt-execution.md). After the
    producer, every sensor finds its node's result at its first look, under a scheduler too. They run when
    the producer succeeded or skipped (its retry after a failed build) and `mark_marts_building` succeeded.
    The other sensors run unless an upstream failed: a node left as built (its sensor skipped) does not
    hold back the sensor of a node built from it and from changed data.
    """
    children = list(group.children.values())
    producer = next(t for t in children if t.task_id == PRODUCER)
    members = {t.task_id for t in children}
    for node in children:
        if node is producer or producer.task_id in node.upstream_task_ids:
            continue
        if node.upstream_task_ids & members:
            node.trigger_rule = "none_failed"
            continue
        producer >> node
        node.trigger_rule = "none_failed_min_one_success"


def set_marts_state(status: str, detail: str, built_from: dict | None = None) -> None:
    """Record the marts' state in its one row, as the transformer role. No timestamp, so an identical
    rebuild leaves the row as it was (Airflow records when runs happened). What the marts were built from
    is recorded with 'passed' and cleared with 'failed' (the next build is then a full one); 'building'
    keeps it, for the build to compare against."""
    # At run time: a DAG file imports only orchestration and settings while Airflow parses it.
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(warehouse_url()) as conn, conn.transaction():
        conn.execute(f"set local role {settings.TRANSFORMER_ROLE}")
        conn.execute(build_plan.SET_MARTS_STATE, [status, detail, None if built_from is None else Jsonb(built_from)])


def failed_tasks(dag_run) -> list[str]:
    """The tasks of this run that failed themselves (not those upstream_failed because of another)."""
    # The task runner's own module: it exists only where a task runs.
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    try:
        states = RuntimeTaskInstance.get_task_states(dag_id=dag_run.dag_id, run_ids=[dag_run.run_id])
    except Exception:  # the names are a courtesy: recording 'failed' must not depend on them
        log.warning("could not list the failed tasks of run %s", dag_run.run_id, exc_info=True)
        return []
    return sorted(task_id for task_id, state in states.get(dag_run.run_id, {}).items() if state == "failed")


transform_warehouse()
