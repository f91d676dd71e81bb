"""WAREHOUSE_URL's libpq query parameters (sslmode, sslrootcert, ...) and the session limits, hop by hop:
the URL itself, the Airflow connection made from it, the URL the tasks rebuild from that connection, the
dbt profile Cosmos maps from it, and the environment `dbt_runner` gives dbt. libpq's own parser
(`conninfo_to_dict`) reads the URLs, so what is checked is what libpq would be given."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from probation_evidence import settings
from probation_evidence.warehouse import WarehouseUrl

ROOT_CERT = "/etc/ssl/warehouse ca/root.pem"  # a space and slashes: it must survive the quoting
URL = (
    "postgresql://pipeline:p%40ss%2Fw0rd@warehouse.example:5433/probation_evidence"
    "?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fwarehouse%20ca%2Froot.pem&target_session_attrs=read-write"
)
TLS = {"sslmode": "verify-full", "sslrootcert": ROOT_CERT, "target_session_attrs": "read-write"}


@pytest.fixture(autouse=True)
def limits(monkeypatch):
    """Session limits other than the defaults, so that a value seen below came from the settings."""
    monkeypatch.setenv("WAREHOUSE_CONNECT_TIMEOUT_SECONDS", "7")
    monkeypatch.setenv("WAREHOUSE_STATEMENT_TIMEOUT_SECONDS", "1234")
    monkeypatch.setenv("WAREHOUSE_LOCK_TIMEOUT_SECONDS", "5")


LIMITED_OPTIONS = "-c statement_timeout=1234000 -c lock_timeout=5000"


def assert_tls_and_limits(params: dict[str, str]) -> None:
    assert {key: params.get(key) for key in TLS} == TLS
    assert params["connect_timeout"] == "7"
    assert params["options"] == LIMITED_OPTIONS


# ---------------------------------------------------------------------------------------------- the URL
def test_the_url_keeps_its_query_parameters_and_adds_the_session_limits():
    url = WarehouseUrl.parse(URL)
    assert dict(url.params) == TLS
    libpq = conninfo_to_dict(url.url())
    assert_tls_and_limits(libpq)
    assert (libpq["host"], libpq["port"], libpq["user"], libpq["password"]) == (
        "warehouse.example", "5433", "pipeline", "p@ss/w0rd",
    )  # fmt: skip
    assert conninfo_to_dict(url.url("postgres"))["sslmode"] == "verify-full", "another database, same TLS"


def test_limits_the_url_sets_itself_win_and_its_own_options_are_kept():
    url = WarehouseUrl.parse(
        "postgresql://u@h/db?connect_timeout=3&options=-c%20search_path%3Draw%20-c%20lock_timeout%3D2s"
    )
    libpq = conninfo_to_dict(url.url())
    assert libpq["connect_timeout"] == "3"
    assert libpq["options"] == "-c search_path=raw -c lock_timeout=2s -c statement_timeout=1234000"


def test_a_limit_of_zero_leaves_the_servers_own_setting(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_STATEMENT_TIMEOUT_SECONDS", "0")
    assert conninfo_to_dict(WarehouseUrl.parse(URL).url())["options"] == "-c lock_timeout=5000"
    monkeypatch.setenv("WAREHOUSE_LOCK_TIMEOUT_SECONDS", "0")
    assert "options" not in conninfo_to_dict(WarehouseUrl.parse(URL).url()), "nothing for a pooler to refuse"


def test_the_masked_url_shows_the_tls_settings_and_no_secret():
    url = WarehouseUrl.parse(URL + "&sslpassword=key-passphrase")
    assert "p@ss" not in url.masked and "p%40ss" not in url.masked and "key-passphrase" not in url.masked
    assert "sslmode=verify-full" in url.masked and "sslpassword=%2A%2A%2A" in url.masked
    # A WarehouseUrl printed by a traceback or an assertion message is masked too.
    assert "p@ss" not in repr(url) and "key-passphrase" not in repr(url) and "warehouse.example" in repr(url)


# ---------------------------------------------------------------------------------------------- Airflow
def airflow_connection(monkeypatch, tmp_path):
    """The warehouse connection as a task sees it, from the environment the local Airflow runs in."""
    from airflow.sdk import Connection

    from probation_evidence.local import airflow_env

    with settings.environment(**settings.state_folders(tmp_path)):
        env = airflow_env.environment(WarehouseUrl.parse(URL))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", env["AIRFLOW_CONN_WAREHOUSE"])
    return Connection.get(settings.WAREHOUSE_CONN_ID)


def test_the_airflow_connection_carries_the_query_parameters_as_extras(monkeypatch, tmp_path):
    conn = airflow_connection(monkeypatch, tmp_path)
    assert (conn.host, conn.port, conn.login, conn.password) == ("warehouse.example", 5433, "pipeline", "p@ss/w0rd")
    assert {key: conn.extra_dejson.get(key) for key in TLS} == TLS


def test_tasks_rebuild_the_url_with_the_query_parameters_and_limits(monkeypatch, tmp_path):
    from probation_evidence.orchestration import connections as orchestration

    airflow_connection(monkeypatch, tmp_path)
    libpq = conninfo_to_dict(orchestration.warehouse_url())
    assert_tls_and_limits(libpq)
    assert (libpq["host"], libpq["password"], libpq["dbname"]) == (
        "warehouse.example",
        "p@ss/w0rd",
        "probation_evidence",
    )


def test_extras_that_are_not_libpq_parameters_are_not_passed_to_libpq(monkeypatch):
    from airflow.sdk import Connection

    from probation_evidence.orchestration import connections as orchestration

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u:p@h:5432/db?sslmode=require&cursor=dictcursor")
    libpq = conninfo_to_dict(orchestration.connection_url(Connection.get(settings.WAREHOUSE_CONN_ID)))
    assert libpq["sslmode"] == "require" and "cursor" not in libpq


# ---------------------------------------------------------------------------------------------- dbt
def test_the_cosmos_profile_carries_tls_and_dbt_gets_the_limits_through_libpq(monkeypatch, tmp_path):
    from probation_evidence.orchestration.dbt_profile import WarehouseProfileMapping

    airflow_connection(monkeypatch, tmp_path)
    mapping = WarehouseProfileMapping(conn_id=settings.WAREHOUSE_CONN_ID, profile_args={"schema": "staging"})
    profile = mapping.profile
    assert (profile["sslmode"], profile["sslrootcert"], profile["connect_timeout"]) == ("verify-full", ROOT_CERT, 7)
    env = mapping.env_vars
    assert env["PGOPTIONS"] == LIMITED_OPTIONS
    assert env["PGTARGETSESSIONATTRS"] == "read-write", "a parameter the profile has no field for"
    assert "p@ss/w0rd" not in mapping.get_profile_file_contents("probation_evidence"), "password in the file"


def test_dbt_runner_gives_dbt_the_query_parameters_and_limits():
    from probation_evidence.local.dbt_runner import dbt_environment

    env = dbt_environment(WarehouseUrl.parse(URL))
    libpq = {
        "sslmode": env["PGSSLMODE"],
        "sslrootcert": env["PGSSLROOTCERT"],
        "target_session_attrs": env["PGTARGETSESSIONATTRS"],
        "connect_timeout": env["PGCONNECT_TIMEOUT"],
        "options": env["PGOPTIONS"],
    }
    assert_tls_and_limits(libpq)
    assert (env["WAREHOUSE_HOST"], env["WAREHOUSE_PASSWORD"]) == ("warehouse.example", "p@ss/w0rd")
