"""Nothing hangs on the warehouse: every connection made from a WarehouseUrl, by psycopg or by dbt through
the Cosmos profile, carries a connect, a statement and a lock timeout, and each one really stops what it
guards against (a lock held by another session, a runaway statement, a server that never answers)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from probation_evidence import settings
from probation_evidence.warehouse import WarehouseUrl

pytestmark = pytest.mark.warehouse
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def short_limits(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_CONNECT_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("WAREHOUSE_STATEMENT_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("WAREHOUSE_LOCK_TIMEOUT_SECONDS", "1")


def test_every_session_has_statement_and_lock_timeouts(warehouse_url, monkeypatch):
    import psycopg

    monkeypatch.setenv("WAREHOUSE_STATEMENT_TIMEOUT_SECONDS", "1234")
    monkeypatch.setenv("WAREHOUSE_LOCK_TIMEOUT_SECONDS", "7")
    with psycopg.connect(warehouse_url.url()) as conn:
        shown = conn.execute("select current_setting('statement_timeout'), current_setting('lock_timeout')").fetchone()
    print(f"session limits seen by the server: statement_timeout={shown[0]}, lock_timeout={shown[1]}")
    assert shown == ("1234s", "7s")


def test_a_lock_held_by_another_session_fails_the_waiting_statement(warehouse_url, short_limits, monkeypatch):
    import psycopg

    monkeypatch.setenv("WAREHOUSE_STATEMENT_TIMEOUT_SECONDS", "60")  # the lock timeout, not this, must fire
    with psycopg.connect(warehouse_url.url(), autocommit=True) as setup:
        setup.execute("create table if not exists public.session_limits_probe (id int)")
    try:
        with psycopg.connect(warehouse_url.url()) as holder, psycopg.connect(warehouse_url.url()) as waiter:
            holder.execute("lock table public.session_limits_probe in access exclusive mode")
            print("injected: another session holds an ACCESS EXCLUSIVE lock and never lets go")
            with pytest.raises(psycopg.errors.LockNotAvailable) as failure:
                waiter.execute("select count(*) from public.session_limits_probe")
            print(f"found: the waiting statement failed: {failure.value}")
    finally:
        with psycopg.connect(warehouse_url.url(), autocommit=True) as cleanup:
            cleanup.execute("drop table if exists public.session_limits_probe")


def test_a_runaway_statement_is_cancelled(warehouse_url, short_limits):
    import psycopg

    with psycopg.connect(warehouse_url.url()) as conn:
        print("injected: a statement that would run for 10 minutes")
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout") as failure:
            conn.execute("select pg_sleep(600)")
    print(f"found: {failure.value}")


@pytest.mark.timeout(60)
def test_a_server_that_never_answers_fails_the_connection(short_limits):
    """A port that accepts TCP connections and then says nothing (a hung server, a black-holing proxy):
    without a connect timeout libpq would wait for its answer for ever."""
    import psycopg

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = WarehouseUrl("127.0.0.1", silent.getsockname()[1], "pipeline", "secret", "probation_evidence")
        print(f"injected: a server on port {url.port} that accepts connections and never answers")
        with pytest.raises(psycopg.OperationalError, match="timeout") as failure:
            psycopg.connect(url.url())
    print(f"found: {failure.value}")


def test_tls_settings_of_the_url_reach_libpq_through_the_airflow_connection(warehouse_url, monkeypatch, tmp_path):
    """verify-full with a root certificate that does not exist cannot connect, over TLS or not: if the
    connection succeeds, the URL's TLS settings were dropped on the way."""
    import dataclasses

    import psycopg

    from probation_evidence.orchestration import connections as orchestration

    missing = tmp_path / "no-such-root.pem"
    tls = dataclasses.replace(warehouse_url, params=(("sslmode", "verify-full"), ("sslrootcert", str(missing))))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", tls.airflow_conn_uri())
    with pytest.raises(psycopg.OperationalError, match=r"SSL|root certificate") as failure:
        psycopg.connect(orchestration.warehouse_url())
    print(f"found: {failure.value}")
    plain = dataclasses.replace(warehouse_url, params=(("sslmode", "prefer"),))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", plain.airflow_conn_uri())
    with psycopg.connect(orchestration.warehouse_url()) as conn:
        assert conn.info.get_parameters()["dbname"] == warehouse_url.dbname


@pytest.mark.slow
def test_dbt_under_cosmos_runs_with_the_session_limits(warehouse_url, monkeypatch, tmp_path):
    """The profile Cosmos maps from the Airflow connection, and the environment it runs dbt with, as the
    transform DAG uses them: the limits reach dbt's own sessions (dbt-postgres has no `options` field)."""
    from probation_evidence.orchestration.dbt_profile import WarehouseProfileMapping

    monkeypatch.setenv("WAREHOUSE_STATEMENT_TIMEOUT_SECONDS", "1234")
    monkeypatch.setenv("WAREHOUSE_LOCK_TIMEOUT_SECONDS", "7")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse_url.airflow_conn_uri())
    mapping = WarehouseProfileMapping(
        conn_id=settings.WAREHOUSE_CONN_ID, profile_args={"schema": "staging", "role": settings.TRANSFORMER_ROLE}
    )
    (tmp_path / "profiles.yml").write_text(mapping.get_profile_file_contents("probation_evidence", "warehouse"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(mapping.env_vars, DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"))
    query = "select 'ST=' || current_setting('statement_timeout') || ';LT=' || current_setting('lock_timeout') as s"
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "show", "--inline", query, "--project-dir", str(ROOT / "dbt_project"),
         "--profiles-dir", str(tmp_path), "--target", "warehouse"],
        env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    seen = re.search(r"ST=\S+;LT=\S+", result.stdout)
    print(f"dbt's session: {seen and seen[0]}")
    assert seen and seen[0] == "ST=1234s;LT=7s"
