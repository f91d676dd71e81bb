"""Recomputing history is one command, Airflow's own backfill, and doing it twice changes nothing.

`airflow backfill create` (run as `probation-evidence airflow -- backfill create ...` runs it) over three
logical dates of the planning ingest DAG (one API entity: the cheapest family) for one provider, and of
the publish DAG; the scheduler runs them as `backfill` runs. The warehouse (every raw, audit and marts
table: row count and md5 of its rows in order) is snapshotted, the same backfills are created again with
`--reprocess-behavior completed` (every completed run is run again), and the snapshot must not change.

`transform_warehouse` is paused meanwhile: each backfilled ingest run emits `raw_planning`, and a dbt
rebuild under the scheduler costs minutes on a two-core machine; the chain itself is
test_asset_chain's. A paused DAG does not queue asset events, so nothing runs later either.
"""

from __future__ import annotations

import json
import time

import pytest

from probation_evidence import warehouse
from probation_evidence.local import airflow_env, stack

#: Beyond the suite's 900 s default: a dbt rebuild under the scheduler is minutes on a busy two-core machine.
pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.warehouse, pytest.mark.timeout(2400)]

INGEST = "ingest_planning"
PUBLISH = "publish_evidence_packs"
FROM_DATE, TO_DATE = "2026-12-01", "2026-12-03T23:59:59"
SCHEMAS = ("raw", "audit", "marts")
#: Columns left out of the snapshot because they hold when something ran rather than what the data is:
#: none need to be (reruns rewrite nothing), so none are.
RUN_TIME_COLUMNS: dict[str, set[str]] = {}


def snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the ordered rows of every table in the raw, audit and marts schemas."""
    import psycopg

    result = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
            [list(SCHEMAS)],
        ).fetchall()
        for schema, table in tables:
            name = f"{schema}.{table}"
            columns = [
                row[0]
                for row in conn.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = %s and table_name = %s order by ordinal_position",
                    [schema, table],
                )
                if row[0] not in RUN_TIME_COLUMNS.get(name, set())
            ]
            result[name] = warehouse.table_digest(conn, schema, table, columns)
    return result


def open_backfills(airflow, dag_id: str) -> int:
    backfills = airflow.api("GET", "/api/v2/backfills", params={"dag_id": dag_id})["backfills"]
    return sum(1 for b in backfills if not b["completed_at"])


def backfill(airflow, dag_id: str, reprocess: str, conf: dict | None = None) -> None:
    """The runbook's command, retried as docs/operations.md says. On the local SQLite metadata a write
    that began as a read is refused at once ("database is locked", no busy wait) when the scheduler
    committed meanwhile. Each date's run is written in a savepoint, and on SQLite (pysqlite) releasing it
    commits, so a command refused part-way leaves a backfill holding the dates written before the refusal.
    The scheduler runs those; once it marks that backfill complete, the same command is run again."""
    args = ["backfill", "create", "--dag-id", dag_id, "--from-date", FROM_DATE, "--to-date", TO_DATE]
    args += ["--max-active-runs", "1", "--reprocess-behavior", reprocess]
    if conf:
        args += ["--dag-run-conf", json.dumps(conf)]
    env = stack.environment(airflow.warehouse_url, airflow.stack.port)
    for attempt in range(1, 4):
        result = airflow_env.airflow(args, env, check=False, capture=True)
        if result.returncode == 0:
            return
        output = result.stdout[-3000:] + result.stderr[-3000:]
        if "database is locked" not in output or attempt == 3:
            raise AssertionError(f"airflow {' '.join(args)} failed (attempt {attempt}):\n{output}")
        # Airflow refuses a second backfill of a DAG while one is open: let a partial one finish first.
        airflow.wait_until(
            f"the partial {dag_id} backfill to complete", lambda: open_backfills(airflow, dag_id) == 0, [dag_id]
        )
        time.sleep(2)


def wait_backfills_complete(airflow) -> None:
    """The scheduler marks a backfill complete some time after its last run ends (a 30 s timer); until then
    Airflow refuses another backfill of the same DAG ("Another backfill is running")."""

    def complete() -> bool:
        backfills = [
            b
            for dag_id in (INGEST, PUBLISH)
            for b in airflow.api("GET", "/api/v2/backfills", params={"dag_id": dag_id})["backfills"]
        ]
        return bool(backfills) and all(b["completed_at"] for b in backfills)

    airflow.wait_until("the backfills to be marked complete", complete, [INGEST, PUBLISH], timeout_s=120)


def backfill_runs(airflow, dag_id: str) -> list[dict]:
    return [r for r in airflow.runs(dag_id) if r["run_type"] == "backfill"]


def test_backfill_twice_changes_nothing(airflow_stack):
    airflow = airflow_stack
    airflow.wait_quiet([INGEST, PUBLISH])  # whatever an earlier test started has finished
    airflow.api("PATCH", "/api/v2/dags/transform_warehouse", json={"is_paused": True})
    try:
        conf = {"providers": ["N53"]}
        backfill(airflow, INGEST, "none", conf)
        backfill(airflow, PUBLISH, "none")
        airflow.wait_quiet([INGEST, PUBLISH])
        first = {dag_id: backfill_runs(airflow, dag_id) for dag_id in (INGEST, PUBLISH)}
        for dag_id, runs in first.items():
            assert len(runs) == 3, f"{dag_id}: expected 3 backfill runs, got {[r['logical_date'] for r in runs]}"
            assert all(r["state"] == "success" for r in runs), runs
        assert all(r["conf"] == conf for r in first[INGEST]), "the backfill's --dag-run-conf reached its runs"
        wait_backfills_complete(airflow)
        before = snapshot(airflow.warehouse_url.url())
        assert before["raw.planning_inspection_schedule"][0] > 0, "the backfilled ingest runs loaded nothing"

        # One DAG at a time, each waited for: fewer runs contend for two cores, and a late one is named.
        for dag_id in (INGEST, PUBLISH):
            backfill(airflow, dag_id, "completed", conf if dag_id == INGEST else None)

            def rerun(dag_id=dag_id) -> bool:
                """Every first-pass run started again and finished (quiet alone can be seen before the
                scheduler has picked the reprocessed runs up)."""
                now = {r["dag_run_id"]: r for r in backfill_runs(airflow, dag_id)}
                for run in first[dag_id]:
                    latest = now.get(run["dag_run_id"])
                    # A reprocessed run waits in `queued` with no start date until the scheduler starts it.
                    if latest is None or latest["state"] != "success" or not latest["start_date"]:
                        return False
                    if latest["start_date"] <= run["start_date"]:
                        return False
                return True

            airflow.wait_until(f"every {dag_id} backfill run to run again", rerun, [dag_id], timeout_s=900)
        airflow.wait_quiet([INGEST, PUBLISH])
        for dag_id, runs in first.items():
            again = {r["dag_run_id"]: r for r in backfill_runs(airflow, dag_id)}
            assert set(again) == {r["dag_run_id"] for r in runs}, "reprocessing reuses the runs of the same dates"
            for run in runs:
                rerun = again[run["dag_run_id"]]
                assert rerun["state"] == "success", rerun
                assert rerun["start_date"] > run["start_date"], f"{dag_id} {run['dag_run_id']} was not run again"
        after = snapshot(airflow.warehouse_url.url())
        tables = sorted(set(before) | set(after))
        changed = {t: (before.get(t), after.get(t)) for t in tables if before.get(t) != after.get(t)}
        assert not changed, f"the second backfill changed the warehouse: {changed}"
    finally:
        airflow.api("PATCH", "/api/v2/dags/transform_warehouse", json={"is_paused": False})
