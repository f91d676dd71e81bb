"""Test session fixtures: a real PostgreSQL for every test that needs one.

With `WAREHOUSE_URL` set, tests use that server, in a database of their own (`probation_evidence_test`,
dropped and recreated per session): the user's data is never touched. Without it, the session starts the
project's embedded PostgreSQL in a separate state folder and stops it at the end.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from probation_evidence import warehouse
from probation_evidence.local import embedded

# Two test sessions on one server need different databases: PROBATION_EVIDENCE_TEST_DB names another.
TEST_DB = os.environ.get("PROBATION_EVIDENCE_TEST_DB", "probation_evidence_test")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def server_url():
    """An admin URL of a running PostgreSQL server (database part ignored)."""
    configured = os.environ.get("WAREHOUSE_URL")
    if configured:
        yield warehouse.WarehouseUrl.parse(configured)
        return
    server = embedded.EmbeddedWarehouse(ROOT / ".state" / "test-warehouse")
    was_running = server.is_running()
    url = server.start()
    yield url
    if not was_running:
        server.stop()


@pytest.fixture(scope="session")
def warehouse_url(server_url):
    """A fresh, bootstrapped database for this test session."""
    url = warehouse.fresh_database(server_url, TEST_DB)
    warehouse.bootstrap(url)
    return url


@pytest.fixture
def conn(warehouse_url):
    import psycopg

    with psycopg.connect(warehouse_url.url()) as connection:
        yield connection


def _isolate_airflow() -> None:
    """Point Airflow at a throwaway home before anything imports it (DAG parsing, dag.test)."""
    home = ROOT / ".state" / ("test-airflow" if TEST_DB == "probation_evidence_test" else f"test-airflow-{TEST_DB}")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
    os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
    os.environ["AIRFLOW__COSMOS__CACHE_DIR"] = str(home / "cosmos")
    os.environ.setdefault("DO_NOT_TRACK", "1")


_isolate_airflow()
