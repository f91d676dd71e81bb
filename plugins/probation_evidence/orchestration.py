"""What the DAG files share: Assets (defined once), default arguments, and reading Airflow connections
at run time (never at parse time).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset

from probation_evidence import settings

START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")

#: Emitted by each ingest DAG when its raw tables are current; the transform DAG is scheduled on them.
RAW_STAFFING = Asset(name="raw_staffing", uri="x-probation-evidence://warehouse/raw/staffing")
#: Emitted when dbt has rebuilt the marts and its tests passed.
MARTS = Asset(name="marts", uri="x-probation-evidence://warehouse/marts")

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def warehouse_url() -> str:
    """The warehouse connection as a libpq URL (credentials live only in the Airflow connection)."""
    from airflow.sdk import Connection

    from probation_evidence.warehouse import WarehouseUrl

    conn = Connection.get(settings.WAREHOUSE_CONN_ID)
    return WarehouseUrl(
        host=conn.host or "127.0.0.1",
        port=conn.port or 5432,
        user=conn.login or "postgres",
        password=conn.password or "",
        dbname=conn.schema or "probation_evidence",
    ).url()


def api_endpoint(conn_id: str) -> tuple[str, str]:
    """(base URL, token) of a provider API connection."""
    from airflow.sdk import Connection

    conn = Connection.get(conn_id)
    scheme = conn.schema or "http"
    return f"{scheme}://{conn.host}:{conn.port}", conn.password or ""


def mapped_results(results) -> list:
    """The values of a mapped task's results, as a list.

    Indexed rather than iterated: iterating Airflow's lazy sequence probes one item past the end, which
    logs a spurious "XCom not found" error in every run.
    """
    return [results[i] for i in range(len(results))]
