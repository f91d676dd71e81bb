"""The warehouse every stage writes to and reads from: its URL (with the session limits every connection
carries and the libpq parameters that reach psycopg, Airflow and dbt alike), and the administration that
creates it: the bootstrap of schemas, roles and grants, fresh databases and the pipeline's login.

`probation_evidence.local.embedded` runs a PostgreSQL of the project's own when no `WAREHOUSE_URL` is set.

psycopg is imported inside the functions that use it: orchestration/, which every DAG file imports at parse
time, imports this module for the URL handling alone.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from probation_evidence import settings

DATABASE = "probation_evidence"
SUPERUSER = "postgres"


def read_sql(package: str, name: str) -> str:
    """The text of `sql/<name>.sql` inside a package of this project (`probation_evidence.sources`, ...): the
    pipeline's statements live in .sql files, where sqlfluff lints them, not in Python strings."""
    return importlib.resources.files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


#: Serialises bootstraps and login changes on one server (roles are cluster-wide).
BOOTSTRAP_LOCK_SQL = read_sql("probation_evidence", "bootstrap_lock")
ROLE_EXISTS_SQL = read_sql("probation_evidence", "role_exists")


class WarehouseError(RuntimeError):
    """The warehouse could not be reached, started or bootstrapped; the message says what to do."""


#: Query parameters whose value is a secret: `masked` hides them.
SECRET_PARAMS = frozenset({"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"})


@dataclass(frozen=True, repr=False)
class WarehouseUrl:
    """A parsed PostgreSQL URL; `masked` is safe to print or log.

    `params` are the URL's libpq query parameters (`sslmode`, `sslrootcert`, ...) as given, in order: they
    travel with the URL to every client (psycopg, the Airflow connection, dbt). `url()` adds the session
    limits (connect, statement and lock timeouts, from settings) unless the URL already sets them, so every
    connection made from it gives up rather than hangs.
    """

    host: str
    port: int
    user: str
    password: str
    dbname: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, url: str) -> WarehouseUrl:
        parts = urlsplit(url)
        if parts.scheme not in {"postgresql", "postgres"}:
            raise WarehouseError(f"WAREHOUSE_URL must start with postgresql:// (got {parts.scheme}://)")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or SUPERUSER),
            password=unquote(parts.password or ""),
            dbname=unquote((parts.path or "/").lstrip("/")) or DATABASE,
            params=tuple(parse_qsl(parts.query, keep_blank_values=True)),
        )

    def _base(self, scheme: str, dbname: str | None) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"{scheme}://{auth}@{self.host}:{self.port}/{quote(dbname or self.dbname, safe='')}"

    @staticmethod
    def _query(params: dict[str, str]) -> str:
        return "?" + urlencode(params, quote_via=quote) if params else ""

    def libpq_params(self) -> dict[str, str]:
        """The URL's query parameters plus the session limits it does not set itself."""
        return with_session_limits(dict(self.params))

    def url(self, dbname: str | None = None) -> str:
        """The libpq URL, its query parameters and the session limits included."""
        return self._base("postgresql", dbname) + self._query(self.libpq_params())

    def plain_url(self) -> str:
        """The libpq URL with its own query parameters only, no session limits added: for handing the server
        to another process, which adds its own limits from its own settings."""
        return self._base("postgresql", None) + self._query(dict(self.params))

    def __repr__(self) -> str:
        """The masked URL: a WarehouseUrl in a traceback, an assertion message or a log line shows no secret."""
        return f"WarehouseUrl({self.masked!r})"

    @property
    def masked(self) -> str:
        auth = self.user + (":***" if self.password else "")
        shown = {key: "***" if key in SECRET_PARAMS else value for key, value in self.params}
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}" + self._query(shown)

    def dbt_env(self) -> dict[str, str]:
        """The environment variables `dbt_project/profiles.yml` reads.

        dbt-postgres takes only some libpq parameters in its profile, so every query parameter (and the
        session limits) also goes to libpq as its `PG*` environment variable: `PGOPTIONS` carries the
        statement and lock timeouts, `PGSSLMODE` / `PGSSLROOTCERT` the TLS settings.
        """
        return {
            "WAREHOUSE_HOST": self.host,
            "WAREHOUSE_PORT": str(self.port),
            "WAREHOUSE_USER": self.user,
            "WAREHOUSE_PASSWORD": self.password,
            "WAREHOUSE_DB": self.dbname,
            # dbt acts as the transformer role, as it does under Airflow, so objects have one owner.
            "WAREHOUSE_DBT_ROLE": settings.TRANSFORMER_ROLE,
            **libpq_environment(self.libpq_params()),
        }

    def airflow_conn_uri(self) -> str:
        """The same server as an Airflow connection URI (`AIRFLOW_CONN_WAREHOUSE`). The query parameters
        become the connection's extras; the session limits are added where it is used
        (`orchestration.warehouse_url`, the dbt profile mapping), from the settings there."""
        return self._base("postgres", None) + self._query(dict(self.params))


def session_options(options: str = "") -> str:
    """libpq `options` (server settings for the session) with the statement and lock timeouts appended,
    each only where `options` does not already set it (a value the URL gives wins) and only if its setting
    is above 0 (0 leaves the server's or the role's own setting, and sends nothing, for a pooler that
    refuses startup options)."""
    limits = {
        "statement_timeout": settings.warehouse_statement_timeout_seconds(),
        "lock_timeout": settings.warehouse_lock_timeout_seconds(),
    }
    words = [options.strip()] if options.strip() else []
    for name, seconds in limits.items():
        if seconds > 0 and not re.search(rf"{name.replace('_', '[_-]')}\s*=", options):
            words.append(f"-c {name}={int(seconds * 1000)}")
    return " ".join(words)


def with_session_limits(params: dict[str, str]) -> dict[str, str]:
    """libpq parameters with a connect timeout and the session's statement and lock timeouts added."""
    limited = dict(params)
    limited.setdefault("connect_timeout", str(settings.warehouse_connect_timeout_seconds()))
    options = session_options(limited.pop("options", ""))
    if options:
        limited["options"] = options
    return limited


@functools.cache
def libpq_keywords() -> dict[str, str | None]:
    """Every connection parameter the installed libpq knows, with its environment variable (or None)."""
    from psycopg import pq

    return {
        option.keyword.decode(): option.envvar.decode() if option.envvar else None
        for option in pq.Conninfo.get_defaults()
    }


def libpq_extras(extras: dict | None) -> dict[str, str]:
    """The libpq parameters among an Airflow connection's extras (the query of the URI it was made from);
    other extras, such as psycopg's `cursor`, are dropped."""
    keywords = libpq_keywords()
    return {key: str(value) for key, value in (extras or {}).items() if key in keywords}


def libpq_environment(params: dict[str, str]) -> dict[str, str]:
    """The `PG*` environment variables that give libpq these parameters, for clients that build their own
    connection (dbt). The server, login and database travel separately; a parameter without a variable is
    left out (none of the TLS or timeout ones is)."""
    keywords = libpq_keywords()
    skipped = {"host", "hostaddr", "port", "user", "password", "dbname"}
    return {
        variable: value for name, value in params.items() if name not in skipped and (variable := keywords.get(name))
    }


def bootstrap_files() -> list[Path]:
    return sorted((settings.sql_dir() / "bootstrap").glob("*.sql"))


def table_digest(conn, schema: str, table: str, columns: list[str] | None = None) -> tuple[int, str]:
    """Row count and md5 of a table's rows (or of `columns` of them) in text order: two tables with equal
    digests hold the same rows. `conn` is a psycopg connection."""
    from psycopg import sql

    selected = sql.SQL(", ").join(map(sql.Identifier, columns)) if columns else sql.SQL("*")
    query = sql.SQL(
        "select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from (select {} from {}.{}) as t"
    ).format(selected, sql.Identifier(schema), sql.Identifier(table))
    count, md5 = conn.execute(query).fetchone()
    return count, md5


def drop_database(server: WarehouseUrl, name: str) -> None:
    """Drop the database `name` on the server if it is there, ending any session still in it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def fresh_database(server: WarehouseUrl, name: str) -> WarehouseUrl:
    """An empty database `name` on the server, any earlier one dropped first (for tests, benchmarks and
    calibration runs, never the warehouse itself); its URL, with the server's credentials."""
    import psycopg
    from psycopg import sql

    drop_database(server, name)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return dataclasses.replace(server, dbname=name)


def create_pipeline_login(url: WarehouseUrl, name: str, password: str) -> None:
    """Make `name` the login the pipeline runs as: not a superuser, a member of the loader, transformer and
    publisher roles and nothing else. Creates it, or sets the password and strips extra attributes of an
    existing one; run by an administrator after `bootstrap`. Safe to repeat."""
    import psycopg
    from psycopg import sql

    if not password:
        raise WarehouseError(f"the pipeline login {name!r} needs a password: set {settings.PIPELINE_PASSWORD_ENV}")
    login = sql.Identifier(name)
    attributes = sql.SQL("login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password {}").format(
        sql.Literal(password)
    )
    with psycopg.connect(url.url()) as conn:
        conn.execute(BOOTSTRAP_LOCK_SQL)
        exists = conn.execute(ROLE_EXISTS_SQL, [name]).fetchone() is not None
        verb = sql.SQL("alter role {} with ") if exists else sql.SQL("create role {} with ")
        conn.execute(verb.format(login) + attributes)
        conn.execute(
            sql.SQL("grant {} to {}").format(
                sql.SQL(", ").join(sql.Identifier(r) for r in settings.PIPELINE_ROLES), login
            )
        )


def bootstrap(url: WarehouseUrl) -> list[str]:
    """Apply `sql/bootstrap/*.sql` in order, in one transaction. Safe to run any number of times."""
    import psycopg

    applied = []
    with psycopg.connect(url.url()) as conn:
        # Roles are cluster-wide: serialise concurrent bootstraps of the same server.
        conn.execute(BOOTSTRAP_LOCK_SQL)
        for path in bootstrap_files():
            conn.execute(path.read_text())
            applied.append(path.name)
    return applied
