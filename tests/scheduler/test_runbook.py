"""The runbook's operations under the real scheduler: rerun one provider (trigger an ingest DAG with the
`providers` param), replay a run (clear its task instances: `airflow dags clear --run-id`) and replay a
failed slice (`airflow dags clear --run-id ... --only-failed`).

`transform_warehouse` is paused meanwhile, as in test_backfill: the dbt rebuild each ingest run would
trigger is the chain test's subject, not these.
"""

from __future__ import annotations

import pytest

from probation_evidence import settings

#: Beyond the suite's 900 s default: a dbt rebuild under the scheduler is minutes on a busy two-core machine.
pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.warehouse, pytest.mark.timeout(1200)]

DAG_ID = "ingest_planning"
PROVIDER = "N07"
#: The demo's as-at date, at noon: a logical date of its own (the chain test's run is at midnight).
LOGICAL_DATE = f"{settings.DEMO_AS_AT.isoformat()}T12:00:00Z"


def submissions(url: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(
            "select provider_id, entity, period_end_date, status, batch_id from audit.submissions"
            " where source = 'planning' order by 1, 2, 3"
        ).fetchall()


@pytest.fixture
def transform_paused(airflow_stack):
    airflow_stack.wait_quiet([DAG_ID])
    airflow_stack.api("PATCH", "/api/v2/dags/transform_warehouse", json={"is_paused": True})
    yield
    airflow_stack.api("PATCH", "/api/v2/dags/transform_warehouse", json={"is_paused": False})


def wait_success(airflow, run_id: str) -> dict:
    def finished():
        run = airflow.run(DAG_ID, run_id)
        if run["state"] == "failed":
            pytest.fail(f"{DAG_ID} {run_id} failed:\n{airflow.describe([DAG_ID])}")
        return run if run["state"] == "success" else None

    return airflow.wait_until(f"{DAG_ID} {run_id} to succeed", finished, [DAG_ID], timeout_s=600)


def test_rerun_one_provider_replay_the_run_then_a_failed_slice(airflow_stack, transform_paused):
    airflow = airflow_stack
    url = airflow.warehouse_url.url()
    others_before = [row for row in submissions(url) if row[0] != PROVIDER]

    # Rerun one provider: the run maps over that provider only and records only its slices.
    run_id = airflow.trigger(DAG_ID, LOGICAL_DATE, {"providers": [PROVIDER]})
    wait_success(airflow, run_id)
    states = airflow.task_states(DAG_ID, run_id)
    mapped = sorted(task for task in states if task.startswith("extract_provider["))
    assert mapped == ["extract_provider[0]"], f"one provider, one mapped extract: {states}"
    xcom = airflow.api(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/list_providers/xcomEntries/return_value"
    )
    assert xcom["value"] == [PROVIDER], xcom
    after = submissions(url)
    assert any(row[0] == PROVIDER for row in after), f"no planning submission recorded for {PROVIDER}"
    assert [row for row in after if row[0] != PROVIDER] == others_before, "other providers' slices changed"

    # Replay the run: clear its task instances; the scheduler runs them again, changing nothing.
    airflow.airflow_cli("dags", "clear", DAG_ID, "--run-id", run_id, "--yes")
    airflow.wait_until(
        "the cleared run to be picked up again", lambda: airflow.run(DAG_ID, run_id)["state"] != "success", [DAG_ID], 60
    )
    wait_success(airflow, run_id)
    tis = airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
    assert all(ti["try_number"] == 2 and ti["state"] == "success" for ti in tis), [
        (ti["task_id"], ti["try_number"], ti["state"]) for ti in tis
    ]
    assert submissions(url) == after, "replaying the run changed audit.submissions"

    # Replay a failed slice: the provider's extract is marked failed (the UI's "Mark as failed", through the
    # REST API); `dags clear --only-failed` runs that task instance alone again.
    airflow.api(
        "PATCH",
        f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/extract_provider/0",
        json={"new_state": "failed"},
    )
    airflow.airflow_cli("dags", "clear", DAG_ID, "--run-id", run_id, "--only-failed", "--yes")

    def replayed() -> dict | None:
        tis = airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
        tries = {(ti["task_id"], ti["map_index"]): (ti["try_number"], ti["state"]) for ti in tis}
        done = tries[("extract_provider", 0)] == (3, "success") and airflow.run(DAG_ID, run_id)["state"] == "success"
        return tries if done else None

    tries = airflow.wait_until("the failed slice to run again", replayed, [DAG_ID], timeout_s=600)
    others = {task: tried for task, tried in tries.items() if task != ("extract_provider", 0)}
    assert all(tried == (2, "success") for tried in others.values()), f"only the failed slice runs again: {tries}"
    assert submissions(url) == after, "replaying the failed slice changed audit.submissions"


def test_status_names_every_running_service(airflow_stack, capsys):
    import re

    from probation_evidence import cli
    from probation_evidence.local import stack

    assert cli.main(["airflow", "status"]) == 0
    out = capsys.readouterr().out
    for name in (*stack.SERVICES, stack.SIMULATOR):
        assert re.search(rf"{name}\s+running, pid \d+", out), out
    assert f"Airflow UI: {airflow_stack.stack.url}" in out
