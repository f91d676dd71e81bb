"""API records into Arrow: check each page's envelope and keys against the entity's contract, then build
one column per contract field, with values as received (the loader parses and validates them)."""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections import Counter
from typing import cast

import pyarrow as pa

from probation_evidence.sources.connectors.api_errors import ApiSlice
from probation_evidence.sources.contracts import CONTRACTS, Contract, Field

#: Arrow type names by contract field kind: values stay as received (dates and timestamps as text).
ARROW_TYPES = {
    "text": "string",
    "date": "string",
    "timestamp": "string",
    "numeric": "float64",
    "integer": "int64",
    "boolean": "bool_",
}
_INT64 = range(-(2**63), 2**63)


def _is_count(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def check_page(body: object, source: ApiSlice, params: dict) -> tuple[list[dict], int, int | None]:
    """The records, total_records and next_page of a page, after checking the envelope's shape."""
    if not isinstance(body, dict):
        raise source.error(200, "malformed page: body is not a JSON object", params)
    data, total, next_page = body.get("data"), body.get("total_records"), body.get("next_page")
    if not isinstance(data, list) or not all(isinstance(record, dict) for record in data):
        raise source.error(200, "malformed page: 'data' is not a list of objects", params)
    if not _is_count(total, 0):
        raise source.error(200, "malformed page: 'total_records' is not a non-negative integer", params)
    if next_page is not None and not _is_count(next_page, 1):
        raise source.error(200, "malformed page: 'next_page' is not a positive integer or null", params)
    return data, cast(int, total), cast("int | None", next_page)


def check_keys(records: list[dict], contract: Contract, source: ApiSlice, params: dict) -> None:
    """Schema drift, as for files: a key the contract does not know, or a required key that is absent.

    An optional key may be left out (JSON APIs often omit nulls): it becomes null."""
    known = set(contract.column_names)
    required = {f.name for f in contract.fields if f.required}
    if all(record.keys() <= known and record.keys() >= required for record in records):
        return
    unexpected = Counter(key for record in records for key in record if key not in known)
    missing = Counter(name for record in records for name in required if name not in record)
    count = len(records)
    problems = [f"unexpected key '{key}' in {n} of {count} records" for key, n in sorted(unexpected.items())]
    problems += [f"missing required key '{key}' in {n} of {count} records" for key, n in sorted(missing.items())]
    raise source.drift(
        f"schema drift against contract {contract.source}.{contract.entity} v{contract.version} "
        f"on page {params['page']}: " + "; ".join(problems),
        params,
    )


def api_contract(entity: str) -> Contract:
    """The contract of an entity served over a provider API, found by its (unique) entity name."""
    matches = [c for c in CONTRACTS.values() if c.entity == entity and c.transport == "api"]
    if len(matches) != 1:
        known = sorted(c.entity for c in CONTRACTS.values() if c.transport == "api")
        raise ValueError(f"unknown API entity {entity!r}; expected one of {known}")
    return matches[0]


def entity_columns(entity: str) -> list[tuple[str, str]]:
    """(column, Arrow type name) of an API entity, in contract order."""
    return [(f.name, ARROW_TYPES[f.kind]) for f in api_contract(entity).fields]


_JSON_TYPE_NAMES = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}


def _wrong_json_type(value: object, kind: str) -> bool:
    if value is None:
        return False
    if kind in {"numeric", "integer"}:
        return isinstance(value, bool) or not isinstance(value, int | float)
    if kind == "boolean":
        return not isinstance(value, bool)
    return not isinstance(value, str)


def _column(values: list, f: Field, arrow_type: pa.DataType, source: ApiSlice, page_starts: list[tuple[int, int]]):
    """One contract column; a JSON value of the wrong type is refused, naming its record and page."""
    wrong = next((i for i, value in enumerate(values) if _wrong_json_type(value, f.kind)), None)
    if wrong is not None:
        value = values[wrong]
        page = page_starts[bisect_right(page_starts, (wrong, math.inf)) - 1][1]
        shown = json.dumps(value, default=str)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise source.error(
            200,
            f"record {wrong + 1} (on page {page}): column {f.name!r} holds "
            f"{_JSON_TYPE_NAMES.get(type(value), 'an object')} {shown}, contract says {f.kind}",
        )
    if f.kind == "integer" and not all(value is None or (type(value) is int and value in _INT64) for value in values):
        # 2.5, NaN, Infinity or a number beyond int64: land the JSON text for the loader to quarantine
        # (Arrow would truncate 2.5 to 2 silently, and fail the whole entity on NaN).
        return pa.array([None if value is None else json.dumps(value) for value in values], pa.string())
    if f.kind == "numeric" and any(type(value) is int and value not in _INT64 for value in values):
        # A whole number beyond int64 is still a number: as a float (infinite past 1e308, which the loader
        # quarantines), where Arrow would refuse the whole column.
        values = [_as_float(value) if type(value) is int else value for value in values]
    try:
        return pa.array(values, type=arrow_type)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as error:  # e.g. a lone UTF-16 surrogate
        raise source.error(200, f"column {f.name!r} holds a value that cannot be stored: {error}") from error


def _as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def to_table(records: list[dict], source: ApiSlice, page_starts: list[tuple[int, int]]) -> pa.Table:
    """Contract columns in contract order; an absent optional key becomes null."""
    contract = api_contract(source.entity)
    arrays = [
        _column([record.get(f.name) for record in records], f, getattr(pa, ARROW_TYPES[f.kind])(), source, page_starts)
        for f in contract.fields
    ]
    return pa.Table.from_arrays(arrays, names=contract.column_names)
