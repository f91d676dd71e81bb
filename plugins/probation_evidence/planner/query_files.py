"""The planner query file format: `sql/queries/<name>.sql`, one question per file, parsed and checked here.

Each file is plain SQL that a planner can run in psql after setting its parameters
(`\\set as_at 2026-09-30` ... `\\i sql/queries/<name>.sql`), and that `probation_evidence.planner.queries`
runs with the parameters bound as real query parameters. The file starts with a header of `--` comment lines in a fixed
format, which says what the query answers and how to call it:

    -- question: Which providers are furthest from national on staffing (standard 1.2)?
    -- definition: How the answer is worked out, in words. A long value goes on over
    --   continuation lines, indented by two or more spaces after the `--`.
    -- param: as_at date default current_date -- each indicator's latest period ending on or before it
    -- param: provider_id text default null -- one provider, or every provider when not given
    -- param: weeks integer default 8 -- how far ahead to look
    -- returns: provider_id, provider_name, worse_count
    -- uses-index: marts.fct_indicator_values (provider_id, indicator_id, pdu_code, period_end_date)

* `question` and `returns` are required, once each; `definition` is optional; `param` and `uses-index` may
  repeat. Any other `-- key:` line in the header is an error, and so is any other line; a bare `--` is
  allowed. The header ends at the first line that is not a comment.
* `param: <name> <type> [default <value>] [-- <description>]`. Types: `date` (ISO `YYYY-MM-DD`, or `today`),
  `integer`, `text`. Without a default the parameter is required. `default null` makes it optional: it
  is then bound as NULL (in psql, `\\set name ''`, and the SQL reads it through `nullif(..., '')`).
  `default current_date` is today's date, taken when the query runs.
* `returns` lists the result's columns in order; running a query checks the result has exactly those.
* `uses-index` names an index the query is written to use (`tests/e2e/test_planner_queries.py` checks
  the plan uses it when the index is in the warehouse; the indexes themselves are dbt model config).

In the SQL, a parameter is written `:'name'` (psql's quoted-literal variable), so psql substitutes a
quoted literal and the SQL casts it (`cast(:'as_at' as date)`). Here every `:'name'` becomes a psycopg
placeholder `%(name)s` bound to a typed Python value (a `date`, an `int`, a `str` or None): no value is
ever formatted into the SQL text. `:name` and `:"name"` (psql's raw and identifier forms) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

TYPES = ("date", "integer", "text")
HEADER_KEYS = ("question", "definition", "param", "returns", "uses-index")
_CONTINUED_KEYS = {"question", "definition", "returns"}
_REQUIRED = object()  # the default of a parameter that has none
_KEY_LINE = re.compile(r"^--\s?([a-z][a-z_-]*):(?:\s+(.*))?$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*)$")
SNAKE_CASE = re.compile(r"^[a-z_][a-z0-9_]*$")
_PARAM = re.compile(
    r"^(?P<name>\S+)\s+(?P<type>\S+)"
    r"(?:\s+default\s+(?P<default>'(?:[^']|'')*'|\S+))?"
    r"(?:\s+--\s*(?P<description>.*))?$"
)
_INDEX = re.compile(r"^(?P<table>[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\s*\((?P<columns>[^)]*)\)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER = re.compile(r"^[+-]?\d+$")


class QueryFileError(ValueError):
    """A query file's header or SQL breaks the format; the message names the file (and line)."""


class QueryParameterError(ValueError):
    """A parameter is unknown, missing or of the wrong type; the message names the file and parameter."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any = _REQUIRED  # _REQUIRED, None (optional), "current_date" (dates), or a typed value
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    @property
    def default_text(self) -> str:
        """The default as the header writes it ('' when the parameter is required)."""
        if self.required:
            return ""
        if self.default is None:
            return "null"
        return self.default.isoformat() if isinstance(self.default, date) else str(self.default)

    def default_value(self) -> Any:
        if self.default == "current_date":
            return date.today()
        return self.default


@dataclass(frozen=True)
class IndexUse:
    """An index the query is written to use: a table and the index's leading columns, in order."""

    table: str
    columns: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.table} ({', '.join(self.columns)})"


@dataclass(frozen=True)
class PlannerQuery:
    name: str
    path: Path
    question: str
    definition: str
    params: tuple[Param, ...]
    columns: tuple[str, ...]
    sql: str  # the file's text, psql variables and all
    indexes: tuple[IndexUse, ...] = ()

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise QueryParameterError(
            f"{self.path.name}: unknown parameter {name!r}; it takes {_names(self.params) or 'no parameters'}"
        )

    def bind(self, values: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """The SQL with psycopg placeholders and the typed values to bind: (sql, {name: value}).

        Values may be typed already (date, int, str, None) or be text as typed on a command line; defaults
        fill the parameters not given. Unknown, missing and ill-typed parameters raise QueryParameterError.
        """
        values = dict(values or {})
        for name in values:
            self.param(name)  # unknown names fail here, naming the parameters there are
        bound = {}
        for param in self.params:
            if param.name in values:
                bound[param.name] = coerce(self.path.name, param, values[param.name])
            elif param.required:
                raise QueryParameterError(
                    f"{self.path.name}: parameter {param.name!r} ({param.type}) is required and was not given"
                )
            else:
                bound[param.name] = param.default_value()
        return to_psycopg(self.sql, self.path.name), bound


def _names(params: Iterable[Param]) -> str:
    return ", ".join(p.name for p in params)


def parse_file(path: Path) -> PlannerQuery:
    return parse_query(path.read_text(encoding="utf-8"), path)


def parse_query(text: str, path: Path) -> PlannerQuery:
    """Parse a query file's header and check its SQL against it; QueryFileError names what is wrong."""
    name = path.stem
    if not SNAKE_CASE.match(name):
        raise QueryFileError(f"{path.name}: a query's file name must be lower_snake_case (it is the query's name)")
    fields = _header_fields(text, path)
    for key in ("question", "returns"):
        if len(fields.get(key, [])) != 1:
            raise QueryFileError(f"{path.name}: the header needs exactly one '-- {key}:' line")
    if len(fields.get("definition", [])) > 1:
        raise QueryFileError(f"{path.name}: the header has more than one '-- definition:' line")
    params = tuple(_parse_param(spec, path) for spec in fields.get("param", []))
    seen: set[str] = set()
    for param in params:
        if param.name in seen:
            raise QueryFileError(f"{path.name}: parameter {param.name!r} is declared twice")
        seen.add(param.name)
    columns = tuple(c.strip() for c in fields["returns"][0].split(","))
    if not all(SNAKE_CASE.match(c) for c in columns) or len(set(columns)) != len(columns):
        raise QueryFileError(f"{path.name}: '-- returns:' must list distinct column names separated by commas")
    indexes = tuple(_parse_index(spec, path) for spec in fields.get("uses-index", []))
    used = psql_variables(text, path.name)
    undeclared = [n for n in dict.fromkeys(used) if n not in seen]
    if undeclared:
        raise QueryFileError(
            f"{path.name}: the SQL uses :'{undeclared[0]}' but the header declares no such parameter"
            f" (declared: {', '.join(sorted(seen)) or 'none'})"
        )
    unused = [p.name for p in params if p.name not in used]
    if unused:
        raise QueryFileError(f"{path.name}: parameter {unused[0]!r} is declared but the SQL never uses :'{unused[0]}'")
    return PlannerQuery(
        name=name,
        path=path,
        question=fields["question"][0],
        definition=(fields.get("definition") or [""])[0],
        params=params,
        columns=columns,
        sql=text,
        indexes=indexes,
    )


def _header_fields(text: str, path: Path) -> dict[str, list[str]]:
    """{key: [value, ...]} from the leading comment lines, continuation lines joined with a space."""
    fields: dict[str, list[str]] = {}
    last: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.startswith("--"):
            break
        if line.strip() == "--":
            last = None
            continue
        if key_line := _KEY_LINE.match(line):
            key, value = key_line.group(1), (key_line.group(2) or "").strip()
            if key not in HEADER_KEYS:
                raise QueryFileError(
                    f"{path.name}:{number}: unknown header key {key!r} (known: {', '.join(HEADER_KEYS)})"
                )
            if not value:
                raise QueryFileError(f"{path.name}:{number}: '-- {key}:' has no value")
            fields.setdefault(key, []).append(value)
            last = key
        elif (continuation := _CONTINUATION.match(line)) and last in _CONTINUED_KEYS:
            fields[last][-1] += " " + continuation.group(1).strip()
        else:
            raise QueryFileError(
                f"{path.name}:{number}: a header line must be '-- <key>: <value>' ({', '.join(HEADER_KEYS)}),"
                " a continuation of question, definition or returns indented by two spaces, or a bare '--'"
            )
    if not fields:
        raise QueryFileError(f"{path.name}: no header: the file must start with '-- question: ...' comment lines")
    return fields


def _parse_param(spec: str, path: Path) -> Param:
    match = _PARAM.match(spec)
    if not match:
        raise QueryFileError(
            f"{path.name}: cannot read '-- param: {spec}': write '<name> <type> [default <value>] [-- <description>]'"
        )
    name, type_, default = match.group("name"), match.group("type"), match.group("default")
    if not SNAKE_CASE.match(name):
        raise QueryFileError(f"{path.name}: parameter name {name!r} must be lower_snake_case")
    if type_ not in TYPES:
        raise QueryFileError(f"{path.name}: parameter {name!r} has unknown type {type_!r} (types: {', '.join(TYPES)})")
    param = Param(name, type_, description=(match.group("description") or "").strip())
    if default is None:
        return param
    if default == "null":
        return Param(name, type_, None, param.description)
    if default == "current_date":
        if type_ != "date":
            raise QueryFileError(f"{path.name}: parameter {name!r}: 'default current_date' needs type date")
        return Param(name, type_, "current_date", param.description)
    if default.startswith("'"):
        default = default[1:-1].replace("''", "'")
    try:
        value = coerce(path.name, param, default)
    except QueryParameterError as error:
        raise QueryFileError(f"{path.name}: parameter {name!r} has a default that is not a {type_}: {error}") from None
    return Param(name, type_, value, param.description)


def _parse_index(spec: str, path: Path) -> IndexUse:
    match = _INDEX.match(spec)
    columns = tuple(c.strip() for c in match.group("columns").split(",")) if match else ()
    if not match or not columns or not all(SNAKE_CASE.match(c) for c in columns):
        raise QueryFileError(f"{path.name}: cannot read '-- uses-index: {spec}': write 'schema.table (column, ...)'")
    return IndexUse(match.group("table"), columns)


def coerce(source: str, param: Param, value: Any) -> Any:
    """The typed value of `value` for `param`: date, int, str or None (only an optional one takes None).

    `source` (the query file's name) starts every error message. An empty string is "not given" for an
    optional parameter, as `\\set name ''` is in psql."""
    where = f"{source}: parameter {param.name!r}"
    if value is None or (value == "" and (param.type != "text" or param.default is None)):
        if param.default is None:
            return None
        raise QueryParameterError(f"{where} ({param.type}) needs a value")
    return {"date": _as_date, "integer": _as_integer, "text": _as_text}[param.type](where, value)


def _as_date(where: str, value: Any) -> date:
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise QueryParameterError(f"{where} must be a date (YYYY-MM-DD), not {type(value).__name__} {value!r}")
    if isinstance(value, date):
        return value
    text = value.strip()
    if text.lower() == "today":
        return date.today()
    try:
        if not _ISO_DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise QueryParameterError(f"{where} must be a date (YYYY-MM-DD or today), got {value!r}") from None


def _as_integer(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise QueryParameterError(f"{where} must be an integer, not {type(value).__name__} {value!r}")
    if isinstance(value, str):
        if not _INTEGER.match(value.strip()):
            raise QueryParameterError(f"{where} must be an integer, got {value!r}")
        value = int(value.strip())
    if not -(2**31) <= value < 2**31:
        raise QueryParameterError(f"{where} is out of range for an integer: {value}")
    return value


def _as_text(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise QueryParameterError(f"{where} must be text, not {type(value).__name__} {value!r}")
    return value


_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_VARIABLE = re.compile(r":'([A-Za-z_][A-Za-z0-9_]*)'")
_OTHER_VARIABLE = re.compile(r":[\"A-Za-z_{]")


def _skip_quoted(sql: str, i: int, source: str) -> int | None:
    """If a comment, literal, quoted identifier or dollar-quoted string starts at i, the index after it."""
    if sql.startswith("--", i):
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end
    if sql.startswith("/*", i):
        end = sql.find("*/", i + 2)
        if end < 0:
            raise QueryFileError(f"{source}: unterminated /* comment")
        return end + 2
    ch = sql[i]
    if ch in "'\"":
        end = i + 1
        while (end := sql.find(ch, end)) >= 0 and sql.startswith(ch * 2, end):
            end += 2
        if end < 0:
            raise QueryFileError(f"{source}: unterminated {ch} quote")
        return end + 1
    if ch == "$" and (i == 0 or not _word(sql[i - 1])) and (tag := _DOLLAR_TAG.match(sql, i)):
        end = sql.find(tag.group(0), tag.end())
        if end < 0:
            raise QueryFileError(f"{source}: unterminated dollar quote {tag.group(0)}")
        return end + len(tag.group(0))
    return None


def _scan(sql: str, source: str) -> Iterator[tuple[str, str]]:
    """Yield ('text', s) and ('var', name) pieces of `sql`, skipping literals, identifiers and comments.

    psql substitutes variables only outside quotes and comments; so does this. `:'name'` is a variable;
    `::` is a cast; `:name` or `:"name"` (raw or identifier interpolation) is refused.
    """
    i, start = 0, 0
    while i < len(sql):
        if (after := _skip_quoted(sql, i, source)) is not None:
            i = after
        elif sql.startswith("::", i):
            i += 2
        elif variable := _VARIABLE.match(sql, i):
            yield "text", sql[start:i]
            yield "var", variable.group(1)
            i = start = variable.end()
        elif _OTHER_VARIABLE.match(sql, i):
            raise QueryFileError(
                f"{source}: {sql[i : i + 20].split()[0]!r}: write parameters as :'name' (a quoted literal),"
                ' never :name or :"name", so no value is spliced into the SQL'
            )
        else:
            i += 1
    yield "text", sql[start:]


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def psql_variables(sql: str, source: str = "query") -> list[str]:
    """The names of the `:'name'` variables in `sql`, in order of use (with repeats)."""
    return [value for kind, value in _scan(sql, source) if kind == "var"]


def to_psycopg(sql: str, source: str = "query") -> str:
    """`:'name'` → `%(name)s`, and every literal `%` doubled (psycopg reads `%` everywhere in the text)."""
    return "".join(value.replace("%", "%%") if kind == "text" else f"%({value})s" for kind, value in _scan(sql, source))
