"""Probing what a database role may do, for the tests of roles and grants.

Each probe runs in a savepoint: a refusal rolls back only the probe, and the caller's transaction (rolled
back at the end of each test) goes on. Only a refusal for lack of privilege counts as "cannot"; any other
error is a real failure and propagates.
"""

from __future__ import annotations

import psycopg


def can(conn: psycopg.Connection, sql: str) -> bool:
    """Whether the connection's current role may run `sql` (a statement the test itself wrote)."""
    conn.execute("savepoint probe")
    try:
        conn.execute(sql)
    except psycopg.errors.InsufficientPrivilege:
        conn.execute("rollback to savepoint probe")
        return False
    conn.execute("release savepoint probe")
    return True


def readable(conn: psycopg.Connection, tables: list[str]) -> list[str]:
    """The tables among `tables` the current role may select from."""
    return [table for table in tables if can(conn, f"select * from {table} limit 1")]  # noqa: S608
