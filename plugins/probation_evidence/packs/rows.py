"""Rows from the marts as the pack reads them: dicts keyed by column name, numbers as floats.

Shared by `queries` (the provider's own values) and `comparators` (what they are compared with).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row


def fetch_dicts(conn: psycopg.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict]:
    """Run a parameterised query and return rows as dicts keyed by column name."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def as_float(value: Decimal | float | int | None) -> float | None:
    """numeric arrives as Decimal; the pack formats floats, and None stays None (no value is not zero)."""
    return None if value is None else float(value)
