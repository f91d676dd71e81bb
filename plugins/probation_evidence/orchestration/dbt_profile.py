"""The dbt profile Cosmos builds from the `warehouse` Airflow connection."""

from __future__ import annotations

from typing import Any

from cosmos.profiles import PostgresUserPasswordProfileMapping

from probation_evidence import settings
from probation_evidence.warehouse import libpq_environment, libpq_extras, with_session_limits

#: libpq parameters dbt-postgres takes as profile fields, read from the connection's extras (the query of
#: the URI it was made from, e.g. `postgres://...?sslmode=verify-full&sslrootcert=/etc/ca.pem`).
PROFILE_EXTRAS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "keepalives_idle")


class WarehouseProfileMapping(PostgresUserPasswordProfileMapping):
    """Cosmos's Postgres mapping, plus what the pipeline's other clients get from the same connection.

    * An empty password is allowed: servers with trust authentication (a developer's local PostgreSQL,
      CI's) have none, and the stock mapping refuses such a connection. A password that is set is still
      passed to dbt through an environment variable, never written into the profile.
    * The TLS parameters of the connection (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`) reach the
      profile; the stock mapping passes `sslmode` only, so dbt would skip certificate checks the URL asks for.
    * The session limits: a connect timeout in the profile, and the statement and lock timeouts (and any
      other libpq parameter of the connection) as `PG*` environment variables, since a dbt-postgres profile
      has no `options` field; libpq reads `PGOPTIONS` when dbt does not set options (it does only for a
      `search_path`, which this profile never sets).
    """

    airflow_param_mapping = {
        **PostgresUserPasswordProfileMapping.airflow_param_mapping,
        **{name: f"extra.{name}" for name in PROFILE_EXTRAS},
    }

    def get_dbt_value(self, name: str) -> Any:
        value = super().get_dbt_value(name)
        if name == "password" and value is None:
            return ""
        return value

    def transform_connect_timeout(self, value: Any) -> int:
        return int(value)

    def transform_keepalives_idle(self, value: Any) -> int:
        return int(value)

    @property
    def profile(self) -> dict[str, Any | None]:
        profile = super().profile
        profile.setdefault("connect_timeout", settings.warehouse_connect_timeout_seconds())
        return profile

    def libpq_params(self) -> dict[str, str]:
        """The connection's libpq parameters (its other extras dropped), with the session limits added."""
        return with_session_limits(libpq_extras(self.conn.extra_dejson))

    @property
    def env_vars(self) -> dict[str, str]:
        return {**super().env_vars, **libpq_environment(self.libpq_params())}
