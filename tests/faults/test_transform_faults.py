# Over 450 lines: the fault runs share one embedded server and one Airflow environment, which take minutes to make.
"""Fault injection in the transform DAG: the warehouse stops in the middle of the dbt build, and a dbt
node fails with the warehouse up.

Real Airflow runs of `transform_warehouse` (DAG.test(), as the demo runs it) against the project's
embedded PostgreSQL, in a state folder of this module's own (never a shared server: a test stops it).
The warehouse holds one provider's one weekly return (every other raw table empty), so the dbt work is
small. The DAG runs dbt in Cosmos's watcher mode: one producer task builds every node, and a sensor per
seed and model reports that node's result.

Retries are turned off for these runs, except the producer's: with the server down a retry only fails
again after its delay, and the promise under test is that the run fails loudly and the next one heals, not
retry timing. The producer's retry builds nothing (it restores the first try's per-node results and
skips, after one second), and it is how the sensors learn each node's result after a failed build.

Run by hand, this file is the runner (`python tests/faults/test_transform_faults.py <logical date>
[<mark-success pattern>]`): one transform run in this process, retries off; it prints the run's id and
state last, and exits 0 only if the run succeeded.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

pytestmark = [pytest.mark.warehouse, pytest.mark.airflow, pytest.mark.slow]

DAG_ID = "transform_warehouse"
PROVIDER = "N07"
WEEK = date(2026, 9, 27)  # a Sunday
#: The warehouse is stopped when the producer's dbt build has finished this many nodes: the marts are then
#: half-built, which is what must never be published.
BUILT_BEFORE_STOP = 3
PRODUCER = "dbt_build.dbt_producer_watcher"
#: What libpq says when the server is gone: refused (not listening) or ended (stopped mid-session).
UNREACHABLE = ("Connection refused", "terminating connection", "server closed the connection")
PASSED = ("passed", "every model built and every dbt test passed")


@dataclass
class Setup:
    server: object  # embedded.EmbeddedWarehouse
    root: Path

    def url(self):
        """The running server's URL (a restart may move it to another port)."""
        return self.server.start()

    def airflow_env(self) -> dict:
        from probation_evidence.local import airflow_env

        return airflow_env.environment(self.url())

    @property
    def airflow_db(self) -> Path:
        from probation_evidence.local import airflow_env

        return airflow_env.airflow_home() / "airflow.db"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """An embedded warehouse with one week of one provider loaded, and a migrated Airflow home, under a
    folder of this module's own; the server is stopped afterwards."""
    from probation_evidence import settings
    from probation_evidence.local import airflow_env, demo, embedded

    root = tmp_path_factory.mktemp("transform-faults")
    with pytest.MonkeyPatch.context() as mp:
        for name, folder in settings.state_folders(root).items():
            mp.setenv(name, folder)
        mp.delenv("WAREHOUSE_URL", raising=False)
        server = embedded.EmbeddedWarehouse(root / "warehouse")
        try:
            url = server.start()
            _load_one_week(url, root / "landing")
            env = airflow_env.environment(url)
            demo.ensure_dbt_manifest(env)
            airflow_env.migrate(env)
            yield Setup(server, root)
        finally:
            server.stop()


def _load_one_week(url, root: Path) -> None:
    """Every raw table (as the loader makes them), and one provider's weekly WMT return loaded."""
    import psycopg

    from probation_evidence import settings, warehouse
    from probation_evidence.sources import contracts

    warehouse.bootstrap(url)
    with psycopg.connect(url.url()) as conn:
        conn.execute(f"set role {settings.LOADER_ROLE}")
        for contract in contracts.CONTRACTS.values():
            conn.execute(contracts.create_table_sql(contract))
    _load_week(url, WEEK, root)


def _marts_state(url) -> tuple | None:
    import psycopg

    with psycopg.connect(url.url()) as conn:
        return conn.execute("select status, detail from audit.marts_state").fetchone()


@dataclass
class DagRunOutcome:
    run_id: str | None
    state: str
    log: str


def _run_dag(
    env: dict, logical_date: date, log_path: Path, mark_success_pattern: str = "", heal_on_retry: str = ""
) -> DagRunOutcome:
    """One transform run in a child process (this file's runner); its output is kept in `log_path`."""
    argv = [sys.executable, __file__, logical_date.isoformat(), mark_success_pattern, heal_on_retry]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=600)
    log = result.stdout + result.stderr
    log_path.write_text(log)
    outcome = re.search(r"^==> run (\S+): ([a-z_]+)", result.stdout, re.MULTILINE)
    return DagRunOutcome(outcome[1], outcome[2], log) if outcome else DagRunOutcome(None, "crashed", log)


def _task_states(airflow_db: Path, run_id: str | None) -> dict[str, str]:
    with sqlite3.connect(f"file:{airflow_db}?mode=ro", uri=True) as db:
        rows = db.execute("select task_id, state from task_instance where run_id = ?", [run_id]).fetchall()
    return dict(rows)


class WarehouseStopper(threading.Thread):
    """Stops the server when the running DAG run's dbt build (the watcher's producer) has reported `built`
    nodes finished, reading Airflow's record of the run (its SQLite database: the producer's per-node
    status XComs, `<resource>__<project>__<name>_status`)."""

    def __init__(self, server, airflow_db: Path, built: int):
        super().__init__(daemon=True)
        self.server, self.airflow_db, self.built = server, airflow_db, built
        self.done = threading.Event()
        self.victim: str | None = None
        self.stopped_at: str | None = None

    def _running_dbt_task(self) -> str | None:
        if not self.airflow_db.exists():
            return None
        try:
            with sqlite3.connect(f"file:{self.airflow_db}?mode=ro", uri=True, timeout=1) as db:
                run = "(select max(run_id) from dag_run where dag_id = ? and state = 'running')"
                producer = db.execute(
                    f"select state from task_instance where dag_id = ? and task_id = ? and run_id = {run}",
                    [DAG_ID, PRODUCER, DAG_ID],
                ).fetchone()
                keys = db.execute(
                    f"select key from xcom where dag_id = ? and task_id = ? and run_id = {run}",
                    [DAG_ID, PRODUCER, DAG_ID],
                ).fetchall()
        except sqlite3.OperationalError:  # Airflow is writing, or has not made its tables yet
            return None
        finished = [key for (key,) in keys if key.endswith("_status") and key.split("__")[0] in {"seed", "model"}]
        if producer is None or producer[0] != "running" or len(finished) < self.built:
            return None
        return PRODUCER

    def run(self) -> None:
        while not self.done.is_set():
            victim = self._running_dbt_task()
            if victim:
                self.server.stop()
                self.victim, self.stopped_at = victim, time.strftime("%H:%M:%S")
                return
            time.sleep(0.05)


def test_a_failed_dbt_node_marks_the_marts_failed_naming_it(setup):
    """The failure path with the warehouse up: a staging model whose raw table has gone fails, and
    mark_marts_failed records 'failed' with the task's name over the last good build's 'passed'. The
    producer's build fails on that model; its retry skips, and that model's sensor fails with the node's
    result. The other sensors are recorded as succeeded without running (dag.test's mark_success_pattern),
    which keeps the run to seconds."""
    import psycopg

    from probation_evidence import settings
    from probation_evidence.sources import contracts

    victim = "dbt_build.stg_governance__policies_run"
    url = setup.url()
    with psycopg.connect(url.url()) as conn:
        conn.execute("insert into audit.marts_state (status, detail) values ('passed', 'the last good build')")
        conn.execute("drop table raw.governance_policies")
    try:
        pattern = rf"dbt_build\.(?!({victim.removeprefix('dbt_build.')}|dbt_producer_watcher)$).*"
        run = _run_dag(setup.airflow_env(), date(2026, 9, 20), setup.root / "node-failed.log", pattern)
        states = _task_states(setup.airflow_db, run.run_id)
        state = _marts_state(url)
    finally:
        with psycopg.connect(url.url()) as conn:
            conn.execute(f"set role {settings.LOADER_ROLE}")
            conn.execute(contracts.create_table_sql(contracts.get_contract("governance", "policies")))
    print(f"injected: raw.governance_policies dropped, so {victim} fails; the marts state was 'passed'")
    print(f"found: run {run.state}; {victim} {states.get(victim)}; mark_marts_failed {states.get('mark_marts_failed')}")
    print(f"found: marts_state {state}")
    assert run.state == "failed", f"the run failed: see {setup.root / 'node-failed.log'}"
    assert states[victim] == "failed"
    assert states[PRODUCER] == "skipped", "the producer's build failed, and its retry restored and skipped"
    assert states["mark_marts_passed"] == "upstream_failed", "the marts Asset was not emitted"
    assert states["mark_marts_failed"] == "success"
    assert state == ("failed", f"run {run.run_id} failed: {victim}")
    assert "governance_policies" in run.log and "does not exist" in run.log, "the task's error names the table"


def test_a_failed_nodes_retry_runs_that_node_alone_and_clears_a_passing_fault(setup):
    """Per-model retries: the build fails on one staging model (its raw table has gone) and the producer's
    retry skips. That model's sensor fails with the node's result; its retry runs `dbt run --select
    <model>` alone, which builds it, the table being back by then (restored between the two tries, as a
    passing fault clears). The other sensors are recorded as succeeded without running."""
    import psycopg

    from probation_evidence import settings
    from probation_evidence.sources import contracts

    victim = "dbt_build.stg_governance__policies_run"
    model = victim.removeprefix("dbt_build.").removesuffix("_run")
    url = setup.url()
    with psycopg.connect(url.url()) as conn:
        conn.execute("drop table raw.governance_policies")
    try:
        pattern = rf"dbt_build\.(?!({victim.removeprefix('dbt_build.')}|dbt_producer_watcher)$).*"
        run = _run_dag(setup.airflow_env(), date(2026, 9, 21), setup.root / "node-retried.log", pattern, victim)
        with sqlite3.connect(f"file:{setup.airflow_db}?mode=ro", uri=True) as db:
            tries = db.execute(
                "select try_number, state from task_instance where run_id = ? and task_id = ?", [run.run_id, victim]
            ).fetchone()
    finally:
        with psycopg.connect(url.url()) as conn:
            conn.execute(f"set role {settings.LOADER_ROLE}")
            conn.execute(contracts.create_table_sql(contracts.get_contract("governance", "policies")))
    states = _task_states(setup.airflow_db, run.run_id)
    print(f"injected: raw.governance_policies dropped, restored before {victim}'s retry")
    print(f"found: run {run.state}; producer {states.get(PRODUCER)}; {victim} (try, state) {tries}")
    assert states[PRODUCER] == "skipped", "the build failed, and the producer's retry restored and skipped"
    assert tries == (2, "success"), "the model's task failed once with the build, then its retry built it"
    fallback = [line for line in run.log.splitlines() if "Retry attempt #1" in line and model in line]
    assert fallback, f"the retry ran the model itself: see {setup.root / 'node-retried.log'}"
    assert re.search(rf"--select.*\b{model}\b", run.log), "with dbt selecting that model alone"
    assert run.state == "success", f"the run succeeded once the model built: see {setup.root / 'node-retried.log'}"


def test_the_warehouse_stopping_mid_build_fails_the_run_loudly_and_the_next_run_heals(setup):
    """A thread stops the server (`pg_ctl stop -m fast`, which ends every session) while the producer's
    dbt build runs, with some nodes already built. The run fails: the sensors of the built nodes succeed,
    those of the nodes that could not be built fail, and the log says the warehouse could not be reached;
    audit.marts_state is not 'passed' (mark_marts_failed cannot reach the warehouse either, so it stays
    'building'), so nothing is published from the half-built marts. After the server is started
    again, the next run builds every model, every dbt test passes and the state is 'passed'."""
    import psycopg

    # As after a good build (only this run can change it), with no record of what it was built from: this
    # run then builds every node, as a build after a failed one does.
    with psycopg.connect(setup.url().url()) as conn:
        conn.execute(
            "insert into audit.marts_state (status, detail) values ('passed', 'the last good build')"
            " on conflict (singleton) do update set status = excluded.status, detail = excluded.detail,"
            " built_from = null"
        )
    stopper = WarehouseStopper(setup.server, setup.airflow_db, BUILT_BEFORE_STOP)
    stopper.start()
    try:
        failed = _run_dag(setup.airflow_env(), WEEK, setup.root / "stopped-run.log")
    finally:
        stopper.done.set()
        stopper.join()
    print(f"injected: the warehouse was stopped at {stopper.stopped_at}, as {stopper.victim} was building")
    assert stopper.victim, f"the dbt build was not seen running: see {setup.root / 'stopped-run.log'}"
    states = _task_states(setup.airflow_db, failed.run_id)
    assert failed.state == "failed", f"the run failed: see {setup.root / 'stopped-run.log'}"
    sensors = {task: state for task, state in states.items() if task.startswith("dbt_build.") and task != PRODUCER}
    assert "failed" in sensors.values(), f"a node the build could not reach fails its task: {sensors}"
    assert "success" in sensors.values(), f"the nodes built before the stop show as built: {sensors}"
    assert states["mark_marts_passed"] == "upstream_failed", "the marts Asset was not emitted"
    errors = [line.strip() for line in failed.log.splitlines() if any(sign in line for sign in UNREACHABLE)]
    assert errors, f"the error says the warehouse could not be reached: see {setup.root / 'stopped-run.log'}"

    url = setup.url()  # started again, on another port if the old one is still held
    state = _marts_state(url)
    failed_tasks = sorted(task for task, task_state in states.items() if task_state == "failed")
    print(
        f"found: run {failed.state}; the producer {states[PRODUCER]}; {len(failed_tasks)} tasks failed"
        f" ({', '.join(failed_tasks[:3])}...): {errors[0][:200]}"
    )
    print(f"found: marts_state {state}")
    assert state is not None and state[0] == "building", "nothing may publish from the half-built marts"

    healed = _run_dag(setup.airflow_env(), WEEK.replace(day=28), setup.root / "next-run.log")
    states = _task_states(setup.airflow_db, healed.run_id)
    not_built = {
        task for task, task_state in states.items() if task.startswith("dbt_build.") and task_state != "success"
    }
    state = _marts_state(url)
    with psycopg.connect(url.url()) as conn:
        values = conn.execute(
            "select count(*) from marts.fct_indicator_values where provider_id = %s and period_end_date = %s",
            [PROVIDER, WEEK],
        ).fetchone()[0]
    print(f"found: the next run {healed.state}: {len(states)} tasks, marts_state {state}, {values} indicator values")
    assert healed.state == "success", f"the next run heals: see {setup.root / 'next-run.log'}"
    assert not not_built, "every model and seed built and every dbt test passed"
    assert state == PASSED
    assert values > 0, "the provider's week reached the marts"


def test_new_weekly_returns_rebuild_only_the_nodes_they_reach_and_equal_a_full_rebuild(setup, monkeypatch):
    """Selective builds (orchestration/build_plan.py). After a passed build that recorded what it was built from, a run
    with nothing new builds nothing: every node's sensor is skipped, the marts stay 'passed' with the same
    record. Then one more week of the provider's returns, loaded by the loader: the next run builds only
    the six nodes downstream of the weekly returns, skips the others, and the marts and incremental models
    then equal a `dbt build --full-refresh` of the same data, row for row. The passed build is the previous
    test's last run (a full one); run alone, this test makes it first."""
    from probation_evidence.local import dbt_runner
    from tests.unit.test_build_plan import WEEKLY_RETURNS_REACH

    url = setup.url()
    if _marts_state(url) != PASSED or _built_from(url) is None:
        full = _run_dag(setup.airflow_env(), date(2026, 10, 1), setup.root / "selective-full.log")
        assert full.state == "success", f"see {setup.root / 'selective-full.log'}"
    recorded = _built_from(url)
    assert recorded is not None, "a passed build records what it was built from"
    same = _run_dag(setup.airflow_env(), date(2026, 10, 2), setup.root / "selective-nothing-new.log")
    nodes = _node_states(setup.airflow_db, same.run_id)
    print(f"found: with nothing new, run {same.state}, node states {sorted(set(nodes.values()))}")
    assert same.state == "success", f"see {setup.root / 'selective-nothing-new.log'}"
    assert set(nodes.values()) == {"skipped"}, nodes
    assert _built_from(url) == recorded
    assert _marts_state(url) == PASSED

    _load_week(url, WEEK + timedelta(weeks=1), setup.root / "landing")
    increment = _run_dag(setup.airflow_env(), date(2026, 10, 3), setup.root / "selective-week.log")
    nodes = _node_states(setup.airflow_db, increment.run_id)
    built = {node for node, state in nodes.items() if state == "success"}
    print(f"found: after a new week, built {sorted(built)}; {len(nodes) - len(built)} other nodes")
    assert increment.state == "success", f"see {setup.root / 'selective-week.log'}"
    assert built == WEEKLY_RETURNS_REACH
    assert {state for node, state in nodes.items() if node not in built} == {"skipped"}
    assert _marts_state(url) == PASSED
    after_increment = _table_digests(url)
    assert after_increment["marts.fct_indicator_values"][0] > 0

    with monkeypatch.context() as mp:  # a target folder of its own: the project's manifest stays the DAG's
        mp.setenv("DBT_TARGET_PATH", str(setup.root / "full-refresh-target"))
        mp.setenv("DBT_LOG_PATH", str(setup.root / "full-refresh-target"))
        dbt_runner.run(["build", "--full-refresh"], url=url)
    rebuilt = _table_digests(url)
    differing = sorted(name for name in rebuilt if rebuilt[name] != after_increment.get(name))
    print(f"found: {len(rebuilt)} tables compared with a full rebuild; differing: {differing}")
    assert not differing


def _load_week(url, week: date, root: Path) -> None:
    """The provider's weekly WMT return for `week`, landed and loaded by the loader."""
    import psycopg
    import pyarrow as pa

    from probation_evidence.simulator.workload import generate_weekly_caseload
    from probation_evidence.sources import contracts, landing, loading

    contract = contracts.get_contract("workload", "weekly_caseload")
    table = pa.Table.from_pylist(generate_weekly_caseload(7, week, PROVIDER))
    manifest = landing.land_table(table, contract, PROVIDER, week, root)
    with psycopg.connect(url.url()) as conn:
        assert loading.load_landed_file(conn, manifest, root).rows_loaded == table.num_rows


def _built_from(url) -> dict | None:
    import psycopg

    with psycopg.connect(url.url()) as conn:
        return conn.execute("select built_from from audit.marts_state").fetchone()[0]


def _node_states(airflow_db: Path, run_id: str | None) -> dict[str, str]:
    """The states of the run's seed and model sensors, by node name."""
    return {
        re.sub(r"_(run|seed)$", "", task.removeprefix("dbt_build.")): state
        for task, state in _task_states(airflow_db, run_id).items()
        if task.startswith("dbt_build.") and task.endswith(("_run", "_seed"))
    }


def _table_digests(url) -> dict[str, tuple]:
    """Row count and digest of the rows of every table in the intermediate and marts schemas."""
    import psycopg

    from probation_evidence import warehouse

    with psycopg.connect(url.url()) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        return {f"{schema}.{name}": warehouse.table_digest(conn, schema, name) for schema, name in tables}


def _restore_governance_policies(context) -> None:
    """A retry callback: the dropped raw table is back, as a transient fault clears between two tries."""
    import psycopg

    from probation_evidence import settings
    from probation_evidence.orchestration.connections import warehouse_url
    from probation_evidence.sources import contracts

    with psycopg.connect(warehouse_url()) as conn:
        conn.execute(f"set role {settings.LOADER_ROLE}")
        conn.execute(contracts.create_table_sql(contracts.get_contract("governance", "policies")))


def _run_transform(logical_date: str, mark_success_pattern: str = "", heal_on_retry: str = "") -> int:
    """One run of the transform DAG in this process, retries off but the producer's (see the module's
    docstring); tasks matching `mark_success_pattern` are recorded as succeeded without running. The task
    `heal_on_retry` keeps one immediate retry, before which raw.governance_policies is restored."""
    import pendulum
    from airflow.utils.cli import get_bagged_dag
    from airflow.utils.state import DagRunState

    dag = get_bagged_dag(bundle_names=None, dag_id=DAG_ID)
    for task in dag.tasks:
        if task.task_id != PRODUCER:
            task.retries = 0
    if heal_on_retry:
        healed = dag.get_task(heal_on_retry)
        healed.retries, healed.retry_delay, healed.retry_exponential_backoff = 1, timedelta(0), False
        healed.on_retry_callback = [_restore_governance_policies]
    run = dag.test(
        logical_date=pendulum.parse(logical_date, tz="UTC"), mark_success_pattern=mark_success_pattern or None
    )
    state = "success" if run is not None and run.state == DagRunState.SUCCESS else "failed"
    # One write with its newline: print() writes the line and its end separately, and a logging thread
    # (OpenLineage's) writing in between glued a log line onto the state, which read as a crashed run.
    sys.stdout.write(f"==> run {run.run_id if run is not None else '-'}: {state}\n")
    sys.stdout.flush()
    return 0 if state == "success" else 1


if __name__ == "__main__":
    os.environ.setdefault("DO_NOT_TRACK", "1")
    sys.exit(_run_transform(*sys.argv[1:4]))
