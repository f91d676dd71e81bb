"""The dbt profile Cosmos builds from the `warehouse` Airflow connection."""

from __future__ import annotations

from typing import Any

from cosmos.profiles import PostgresUserPasswordProfileMapping


class WarehouseProfileMapping(PostgresUserPasswordProfileMapping):
    """Cosmos's Postgres mapping, except that an empty password is allowed.

    Servers with trust authentication (a developer's local PostgreSQL, CI's) have no password; the stock
    mapping refuses such a connection. A password that is set is still passed to dbt through an
    environment variable, never written into the profile.
    """

    def get_dbt_value(self, name: str) -> Any:
        value = super().get_dbt_value(name)
        if name == "password" and value is None:
            return ""
        return value
