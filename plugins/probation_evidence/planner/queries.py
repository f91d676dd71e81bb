"""Planners' everyday questions (`sql/queries/<name>.sql`, the format in `planner.query_files`): find them
by name, run one against the warehouse with its parameters bound, and print its rows as a table, CSV or JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from probation_evidence import settings, warehouse
from probation_evidence.planner.query_files import SNAKE_CASE, PlannerQuery, QueryFileError, parse_file

#: Every index on a table, by name: its key columns in order and whether it is the primary key.
INDEX_COLUMNS_SQL = warehouse.read_sql("probation_evidence.planner", "index_columns")


def queries_dir() -> Path:
    return settings.sql_dir() / "queries"


def load_queries(directory: Path | None = None) -> dict[str, PlannerQuery]:
    """Every query in `directory` (default sql/queries), by name, in name order."""
    directory = directory or queries_dir()
    return {path.stem: parse_file(path) for path in sorted(directory.glob("*.sql"))}


def get_query(name: str, directory: Path | None = None) -> PlannerQuery:
    directory = directory or queries_dir()
    path = directory / f"{name}.sql"
    if not SNAKE_CASE.match(name) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.sql")))
        raise LookupError(f"unknown query {name!r}; known queries: {known}")
    return parse_file(path)


@dataclass(frozen=True)
class QueryResult:
    query: PlannerQuery
    params: dict[str, Any]
    columns: tuple[str, ...]
    rows: list[tuple]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def run(conn: psycopg.Connection, query: PlannerQuery | str, params: Mapping[str, Any] | None = None) -> QueryResult:
    """Run a planner query on `conn` with its parameters bound; the rows, checked against `returns`."""
    if isinstance(query, str):
        query = get_query(query)
    sql, bound = query.bind(params)
    with conn.cursor() as cur:
        cur.execute(sql, bound)
        columns = tuple(d.name for d in cur.description or ())
        rows = cur.fetchall()
    if columns != query.columns:
        raise QueryFileError(
            f"{query.path.name}: the header's returns ({', '.join(query.columns)}) do not match the columns"
            f" the query returned ({', '.join(columns)})"
        )
    return QueryResult(query, bound, columns, rows)


def run_url(url: str, query: PlannerQuery | str, params: Mapping[str, Any] | None = None) -> QueryResult:
    """Run a planner query in a read-only transaction of its own."""
    with psycopg.connect(url) as conn:
        conn.read_only = True
        try:
            return run(conn, query, params)
        finally:
            conn.rollback()


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent  # a letter for NaN and infinity
        whole = value == value.to_integral_value() and isinstance(exponent, int) and exponent >= 0
        return int(value) if whole else float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def format_result(result: QueryResult, fmt: str = "table") -> str:
    """The rows as an aligned text table, CSV (header row; a text cell a spreadsheet would run as a formula
    is prefixed with ') or JSON (a list of objects)."""
    if fmt == "json":
        rows = [{k: _json_value(v) for k, v in row.items()} for row in result.dicts()]
        return json.dumps(rows, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        for row in result.rows:
            writer.writerow(
                "'" + cell_text(v) if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else cell_text(v)
                for v in row
            )
        return buffer.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: table, csv or json")
    cells = [[cell_text(v) for v in row] for row in result.rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(result.columns)]
    numeric = [all(_is_number(row[i]) for row in result.rows if row[i] is not None) for i in range(len(result.columns))]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    for cell_row in cells:
        lines.append(
            " | ".join(
                (c.rjust(w) if num else c.ljust(w)) for c, w, num in zip(cell_row, widths, numeric, strict=True)
            ).rstrip()
        )
    lines.append(f"({len(cells)} row{'' if len(cells) == 1 else 's'})")
    return "\n".join(lines)


def describe(query: PlannerQuery) -> str:
    """A query's question, definition and parameters, as `query --list` prints them."""
    lines = [f"{query.name}", f"    {query.question}"]
    for param in query.params:
        default = "required" if param.required else f"default {param.default_text}"
        lines.append(f"    --param {param.name}=<{param.type}>  ({default}) {param.description}".rstrip())
    return "\n".join(lines)


def index_columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, tuple[str, ...]]:
    """Every index on a table but its primary key, by name: its key columns in order."""
    rows = conn.execute(INDEX_COLUMNS_SQL, [schema, table]).fetchall()
    return {name: tuple(columns) for name, columns, is_primary in rows if not is_primary}
