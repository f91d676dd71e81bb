"""The warehouse and provider APIs as the DAGs' tasks reach them: Airflow connections, read at run time (never
at parse time), turned into the URLs the pipeline's code takes."""

from __future__ import annotations

from airflow.sdk import Connection

from probation_evidence import settings
from probation_evidence.warehouse import WarehouseUrl, libpq_extras


def warehouse_url() -> str:
    """The warehouse connection as a libpq URL (credentials live only in the Airflow connection)."""
    return connection_url(Connection.get(settings.WAREHOUSE_CONN_ID))


def connection_url(conn) -> str:
    """An Airflow Postgres connection as a libpq URL: its libpq parameters (`sslmode`, `sslrootcert`, ...,
    the query of the URI it was made from) kept, other extras dropped, and the session limits added."""
    return WarehouseUrl(
        host=conn.host or "127.0.0.1",
        port=conn.port or 5432,
        user=conn.login or "postgres",
        password=conn.password or "",
        dbname=conn.schema or "probation_evidence",
        params=tuple(libpq_extras(conn.extra_dejson).items()),
    ).url()


def api_endpoint(conn_id: str) -> tuple[str, str]:
    """(base URL, token) of a provider API connection."""
    conn = Connection.get(conn_id)
    scheme = conn.schema or "http"
    return f"{scheme}://{conn.host}:{conn.port}", conn.password or ""
