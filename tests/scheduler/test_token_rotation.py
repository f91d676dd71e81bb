"""The runbook's token rotation under the real scheduler: a provider issues a new API token (here: a second
simulated API that accepts only the new one), the engineer imports the connection with the new token as
docs/operations.md says, and the next run uses it, with nothing restarted. The stack's own connection is
put back afterwards.

`transform_warehouse` is paused meanwhile: the dbt rebuild an ingest run triggers is the chain test's subject.
"""

from __future__ import annotations

import json
import os
import secrets

import pytest

from probation_evidence import settings
from probation_evidence.local import airflow_env, stack
from probation_evidence.simulator.server import serve

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.warehouse, pytest.mark.timeout(1200)]

DAG_ID = "ingest_staffing"
#: A logical date of its own (the other tests' runs are at midnight and noon).
LOGICAL_DATE = f"{settings.DEMO_AS_AT.isoformat()}T18:00:00Z"


def import_connection_file(airflow, path, connections: dict) -> None:
    """What the runbook says to run: a 0600 file with the connection, `connections import --overwrite`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(connections, handle)
    try:
        airflow.airflow_cli("connections", "import", "--overwrite", str(path))
    finally:
        path.unlink()


def test_a_rotated_token_is_used_by_the_next_run_without_a_restart(airflow_stack, tmp_path):
    airflow = airflow_stack
    airflow.wait_quiet([DAG_ID])
    airflow.api("PATCH", "/api/v2/dags/transform_warehouse", json={"is_paused": True})
    new_token = secrets.token_urlsafe(32)
    server, _ = serve(token=new_token, seed=settings.simulator_seed())
    answered = []
    checks = server.is_authorised
    server.is_authorised = lambda header: answered.append(checks(header)) or answered[-1]
    conn_id = settings.api_conn_id("staffing")
    original = airflow_env.api_connections(airflow.stack.simulator_url, stack.simulator_token())[conn_id]
    try:
        rotated = {conn_id: {**original, "port": server.port, "password": new_token}}
        import_connection_file(airflow, tmp_path / "staffing_api.json", rotated)
        listed = airflow.api("GET", f"/api/v2/connections/{conn_id}")
        assert listed["port"] == server.port, listed
        assert new_token not in json.dumps(listed), "the REST API showed the token"

        run_id = airflow.trigger(DAG_ID, LOGICAL_DATE, {"providers": ["N07"]})

        def finished():
            run = airflow.run(DAG_ID, run_id)
            if run["state"] == "failed":
                pytest.fail(f"{DAG_ID} {run_id} failed after the rotation:\n{airflow.describe([DAG_ID])}")
            return run["state"] == "success"

        airflow.wait_until(f"{DAG_ID} {run_id} to succeed with the new token", finished, [DAG_ID], timeout_s=600)
        assert answered, "the run never called the provider API the rotated connection points at"
        assert all(answered), "a request reached the new API without the new token"
    finally:
        import_connection_file(airflow, tmp_path / "restore.json", {conn_id: original})
        airflow.api("PATCH", "/api/v2/dags/transform_warehouse", json={"is_paused": False})
        server.shutdown()
        server.server_close()
    restored = airflow.api("GET", f"/api/v2/connections/{conn_id}")
    assert restored["port"] == original["port"], "the stack's own connection was not put back"
