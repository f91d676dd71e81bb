"""Load a landed file into `raw`: validate against its source contract, COPY the valid rows, quarantine
the rest with the reason, and record the batch. One transaction per slice, so a rerun changes nothing.

Validation is vectorised with Arrow compute (per-row Python caps any path near 50k rows/s); only rows that
fail are turned into Python objects, to be written to `audit.quarantine`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from probation_evidence import settings
from probation_evidence.sources import landing
from probation_evidence.sources.contracts import (
    METADATA_COLUMNS,
    Contract,
    Field,
    batch_index_name,
    create_index_sql,
    create_table_sql,
    get_contract,
)

log = logging.getLogger(__name__)

#: A decimal number, or NaN / Infinity spelt as Arrow's cast reads them: those parse, so that they are
#: quarantined as "not a finite number" rather than as unreadable text.
NUMBER_PATTERN = r"(?i)^\s*[-+]?((\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|nan|inf|infinity)\s*$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
#: Rows encoded per binary COPY write: small enough to overlap encoding with sending, large enough to
#: keep Arrow's per-call overhead low.
COPY_CHUNK_ROWS = 25_000
#: PostgreSQL's `integer` range: a value outside it is quarantined, not left to fail the whole COPY.
INTEGER_RANGE = (-(2**31), 2**31 - 1)
#: Arrow schema metadata key under which a reader lists cells it could not read faithfully (e.g. an XLSX
#: formula with no cached value): a JSON list of {"row": 0-based row, "field": name, "reason": text}.
CELL_PROBLEMS_KEY = b"pe:cell_problems"


class SchemaDriftError(ValueError):
    """The landed file's columns no longer match its contract; the slice is not loaded."""


class SliceLoadError(RuntimeError):
    """Loading one slice failed part way (an encoder or server error): the slice's transaction rolled back.
    The message names the landed file and the rows being sent when it happened."""


@dataclass(frozen=True)
class LoadResult:
    batch_id: str
    source: str
    entity: str
    provider_id: str
    period_end_date: str
    status: str  # "loaded" or "unchanged"
    rows_landed: int
    rows_loaded: int
    rows_quarantined: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Check:
    field: str
    reason: str
    mask: object  # pyarrow BooleanArray, True where the row fails


# ------------------------------------------------------------------------------------------ schema drift
_TEXTUAL = ("string", "large_string", "null")
_COMPATIBLE = {
    "text": _TEXTUAL,
    "numeric": ("double", "float", "int", "uint", "decimal", *_TEXTUAL),
    "integer": ("int", "uint", *_TEXTUAL),
    "date": ("date32", "timestamp", *_TEXTUAL),
    "timestamp": ("timestamp", *_TEXTUAL),
    "boolean": ("bool", *_TEXTUAL),
}


def check_schema(schema, contract: Contract, path: Path) -> None:
    """Raise SchemaDriftError naming the file and every new, missing or retyped column."""
    names = list(schema.names)
    expected = contract.column_names
    problems = [f"unexpected column '{n}'" for n in names if n not in expected]
    problems += [f"missing column '{n}'" for n in expected if n not in names]
    for f in contract.fields:
        if f.name in names:
            arrow_type = str(schema.field(f.name).type)
            if not arrow_type.startswith(_COMPATIBLE[f.kind]):
                problems.append(f"column '{f.name}' has type {arrow_type}, contract says {f.kind}")
    if problems:
        raise SchemaDriftError(
            f"{path}: schema drift against contract {contract.source}.{contract.entity} "
            f"v{contract.version}: " + "; ".join(problems)
        )


# ------------------------------------------------------------------------------------------ validation
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"


def _only_matching(text, pattern: str):
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(pc.match_substring_regex(text, pattern), text, pa.scalar(None, pa.string()))


def _parse(column, f: Field):
    """Cast a column to the contract type; values that cannot be cast become null (and are flagged)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    textual = pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or pa.types.is_null(column.type)
    if f.kind == "text":
        return pc.utf8_trim_whitespace(column.cast(pa.string()))
    if f.kind in {"numeric", "integer"}:
        if textual:
            column = _only_matching(pc.utf8_trim_whitespace(column.cast(pa.string())), NUMBER_PATTERN)
        # Unsafe: an integer beyond 2^53 loses digits rather than failing the slice (the range checks then
        # judge it); NaN and infinities stay as they are: a check flags them.
        values = column.cast(pa.float64(), safe=False)
        if f.kind == "integer":  # 3.5 is not an integer: flag rather than truncate
            fraction = pc.greater(pc.subtract(values, pc.floor(values)), 0)  # false for NaN and infinities
            values = pc.if_else(fraction, pa.scalar(None, pa.float64()), values)
        return values
    if f.kind == "date":
        if pa.types.is_date32(column.type):
            return column
        if pa.types.is_timestamp(column.type):
            return column.cast(pa.date32())
        return _per_distinct(
            column, lambda text: _calendar_date(_only_matching(pc.utf8_trim_whitespace(text), DATE_PATTERN))
        )
    if f.kind == "timestamp":
        if pa.types.is_timestamp(column.type):
            return column if column.type.tz else pc.assume_timezone(column, "UTC")
        return _per_distinct(
            column, lambda text: _parse_timestamp(_only_matching(pc.utf8_trim_whitespace(text), TIMESTAMP_PATTERN))
        )
    if f.kind == "boolean":
        if pa.types.is_boolean(column.type):
            return column
        text = pc.utf8_lower(pc.utf8_trim_whitespace(column.cast(pa.string())))
        true = pc.is_in(text, value_set=pa.array(TRUE_WORDS))
        false = pc.is_in(text, value_set=pa.array(FALSE_WORDS))
        return pc.if_else(true, True, pc.if_else(false, False, pa.scalar(None, pa.bool_())))
    raise ValueError(f"unknown field kind {f.kind}")


def _per_distinct(column, parse):
    """Parse each distinct value once: a file has few distinct dates, and date parsing is the costly part."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column.cast(pa.string()))
    return pc.take(parse(encoded.dictionary), encoded.indices)


def _calendar_date(text):
    """YYYY-MM-DD text to dates; an impossible date (2026-02-30) is null, not rolled into March as
    strptime alone would."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    exact = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), text)
    return pc.if_else(exact, parsed, pa.scalar(None, parsed.type)).cast(pa.date32())


def _parse_timestamp(text):
    """ISO 8601 text (already pattern-checked) to UTC timestamps: 'T' or space, optional seconds and
    fraction, 'Z' or an offset, no zone meaning UTC. strptime has no fraction directive, so the fraction
    is split off and added back as microseconds."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.replace_substring_regex(text, " ", "T")
    text = pc.replace_substring_regex(text, "Z$", "+00:00")
    text = pc.if_else(
        pc.match_substring_regex(text, r"[+-]\d{2}:?\d{2}$"), text, pc.binary_join_element_wise(text, "+00:00", "")
    )
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})([+-])", r"\1:00\2")  # no seconds
    fraction = pc.extract_regex(text, r"\.(?P<digits>\d{1,6})")
    digits = pc.fill_null(pc.struct_field(fraction, "digits"), "0")
    micros = pc.cast(pc.utf8_rpad(digits, 6, "0"), pa.int64())
    whole = pc.replace_substring_regex(text, r"\.\d+", "")
    whole = pc.replace_substring_regex(whole, r"([+-]\d{2}):(\d{2})$", r"\1\2")
    parsed = pc.strptime(whole, format="%Y-%m-%dT%H:%M:%S%z", unit="us", error_is_null=True)
    real_day = pc.is_valid(_calendar_date(pc.utf8_slice_codeunits(whole, 0, 10)))
    parsed = pc.if_else(real_day, parsed, pa.scalar(None, parsed.type))
    return pc.add(parsed, pc.cast(micros, pa.duration("us")))


def _field_checks(raw, parsed, f: Field) -> list[_Check]:
    import pyarrow as pa
    import pyarrow.compute as pc

    checks = []
    present = pc.is_valid(raw)
    if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
        # Blank: empty or only whitespace. `utf8_is_space` classifies without building trimmed copies
        # (a third of the cost of trimming and measuring every value).
        non_blank = pc.fill_null(pc.and_(pc.greater(pc.binary_length(raw), 0), pc.invert(pc.utf8_is_space(raw))), False)
        present = pc.and_(present, non_blank)
    if f.required:
        checks.append(_Check(f.name, "required value is missing", pc.invert(present)))
    if f.kind == "text":
        if _holds_nul(parsed):  # PostgreSQL text cannot hold U+0000: the row, not the slice, is refused
            nul = pc.fill_null(pc.match_substring(parsed, "\x00"), False)
            checks.append(_Check(f.name, "contains a NUL character (U+0000), which PostgreSQL text cannot hold", nul))
    else:
        checks.append(_Check(f.name, f"not a valid {f.kind}", pc.and_(present, pc.is_null(parsed))))
    finite = None  # NaN and +-Infinity get one reason of their own, not range complaints as well
    if f.kind in {"numeric", "integer"}:
        # One summing pass says whether any value is NaN or infinite (either makes the sum so); only then
        # is the per-value mask built. A sum overflowing to infinity just takes the exact path.
        total = pc.sum(parsed).as_py()
        if total is not None and not math.isfinite(total):
            finite = pc.fill_null(pc.is_finite(parsed), True)
            checks.append(_Check(f.name, "not a finite number", pc.invert(finite)))
    if f.kind == "integer":
        low, high = INTEGER_RANGE
        extremes = pc.min_max(parsed)
        smallest, largest = extremes["min"].as_py(), extremes["max"].as_py()
        if finite is not None or (smallest is not None and (smallest < low or largest > high)):
            outside = pc.fill_null(pc.or_(pc.less(parsed, low), pc.greater(parsed, high)), False)
            outside = outside if finite is None else pc.and_(outside, finite)
            checks.append(_Check(f.name, f"out of range for integer ({low}..{high})", outside))
    if f.allowed is not None:
        bad = pc.and_(present, pc.invert(pc.is_in(parsed, value_set=pa.array(f.allowed))))
        checks.append(_Check(f.name, f"not one of {', '.join(f.allowed)}", bad))
    if f.minimum is not None:
        below = pc.fill_null(pc.less_equal(parsed, f.minimum) if f.min_exclusive else pc.less(parsed, f.minimum), False)
        sign = ">" if f.min_exclusive else ">="
        checks.append(
            _Check(f.name, f"must be {sign} {f.minimum:g}", below if finite is None else pc.and_(below, finite))
        )
    if f.maximum is not None:
        above = pc.fill_null(pc.greater(parsed, f.maximum), False)
        checks.append(_Check(f.name, f"must be <= {f.maximum:g}", above if finite is None else pc.and_(above, finite)))
    return checks


def _holds_nul(text) -> bool:
    """Whether any value of a string array may hold U+0000: one memchr over its data buffer (~1 ms for
    500k rows, against ~6 ms per column for a per-value search), which is then run only when it does."""
    data = text.buffers()[2] if len(text.buffers()) > 2 else None
    return data is not None and data.to_pybytes().find(b"\x00") >= 0


def _as_date(values, kind: str):
    import pyarrow as pa

    return values.cast(pa.date32()) if kind == "timestamp" else values


def _rule_checks(
    contract: Contract, cols: dict, provider_id: str, period: date, seen_keys: set | None, duplicate_mask=None
) -> list[_Check]:
    """The contract's cross-field and referential rules, each a vectorised mask."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from probation_evidence.reference.registry import pdus_by_region

    checks = []
    period_scalar = pa.scalar(period, pa.date32())
    for f in contract.fields:
        column = cols[f.name]
        if f.references == "provider":
            bad = pc.fill_null(pc.not_equal(column, provider_id), False)
            checks.append(_Check(f.name, f"provider is not {provider_id}, the provider of this file", bad))
        elif f.references == "pdu":
            known = pa.array([p.pdu_code for p in pdus_by_region().get(provider_id, [])], pa.string())
            bad = pc.and_(pc.is_valid(column), pc.invert(pc.is_in(column, value_set=known)))
            checks.append(_Check(f.name, f"not a PDU of provider {provider_id}", bad))
        if f.is_period:
            bad = pc.fill_null(pc.not_equal(column, period_scalar), False)
            checks.append(_Check(f.name, f"is not the period of this file ({period})", bad))
        if f.not_after_period:
            bad = pc.fill_null(pc.greater(_as_date(column, f.kind), period_scalar), False)
            checks.append(_Check(f.name, f"is in the future (after {period}, the period of this file)", bad))
    for earlier, later in contract.date_order:
        bad = pc.fill_null(pc.less(cols[later], cols[earlier]), False)
        checks.append(_Check(later, f"is before {earlier}", bad))
    if duplicate_mask is None:
        duplicate_mask = _duplicate_mask(contract, cols, seen_keys)
    checks.append(_Check(",".join(contract.key), "duplicate key", duplicate_mask))
    return checks


def _duplicate_mask(contract: Contract, cols: dict, seen_keys: set):
    """True for the second and later occurrence of a key, across all batches of the file.

    Set operations in C find whether the batch has keys seen in earlier batches, or repeats; Arrow marks
    the rows: no per-row Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [pc.fill_null(cols[name].cast(pa.string()), "") for name in contract.key]
    key_array = pc.binary_join_element_wise(*parts, "\x1f") if len(parts) > 1 else parts[0]
    keys = key_array.to_pylist()
    earlier = seen_keys.intersection(keys)
    before = len(seen_keys)
    seen_keys.update(keys)
    n = len(keys)
    if not earlier and len(seen_keys) - before == n:
        return pa.repeat(False, n)
    mask = pa.repeat(False, n)
    if earlier:
        mask = pc.is_in(key_array, value_set=pa.array(list(earlier), key_array.type))
    position = pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int32()), n)), 1)
    later = pc.not_equal(pc.index_in(key_array, value_set=key_array), position)  # first occurrence wins
    return pc.or_(mask, later)


def duplicate_rows(table, contract: Contract):
    """0-based row numbers of the second and later occurrences of each key in `table` (an Arrow table
    holding at least the key columns), keyed on the parsed values as validation sees them; a null key
    part groups with other nulls. Grouping runs in Arrow's C++.

    Landing calls this while the whole file is in memory anyway and records the answer in the manifest,
    so the loader can stream the file in bounded memory and still find duplicates across all of it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    if n == 0:
        return pa.array([], pa.int64())
    keys = {
        f"key_{i}": _parse(table.column(name).combine_chunks(), contract.field(name))
        for i, name in enumerate(contract.key)
    }
    rows = pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), 1)
    grouped = pa.table({**keys, "row": rows}).group_by(list(keys), use_threads=False).aggregate([("row", "min")])
    if grouped.num_rows == n:
        return pa.array([], pa.int64())
    return pc.indices_nonzero(pc.invert(pc.is_in(rows, value_set=grouped.column("row_min")))).cast(pa.int64())


def validate_batch(
    batch, contract: Contract, provider_id: str, period: date, seen_keys: set | None = None, duplicate_mask=None
):
    """Return (original table, typed table, checks). Each check's mask marks the rows that fail it.

    Duplicate keys are found from `duplicate_mask` when the caller has it for the whole file (the loader
    does), else by remembering keys in `seen_keys` across the batches it is given.
    """
    import pyarrow as pa

    table = pa.Table.from_batches([batch])
    checks: list[_Check] = []
    typed = {}
    for f in contract.fields:
        raw = table.column(f.name).combine_chunks()
        parsed = _parse(raw, f)
        typed[f.name] = parsed
        checks += _field_checks(raw, parsed, f)
    checks += _rule_checks(contract, typed, provider_id, period, seen_keys, duplicate_mask)
    typed_table = pa.table({f.name: typed[f.name] for f in contract.fields})
    return table, typed_table, checks


# ------------------------------------------------------------------------------------------ load
def _quarantine_rows(original, checks: list[_Check], bad_mask, offset: int) -> Iterator[tuple]:
    import pyarrow.compute as pc

    indices = pc.indices_nonzero(bad_mask).to_pylist()
    failing = [(c, pc.filter(c.mask, bad_mask).to_pylist()) for c in checks]
    originals = original.filter(bad_mask).to_pylist()
    for i, (row_index, values) in enumerate(zip(indices, originals, strict=True)):
        hits = [c for c, flags in failing if flags[i]]
        reason = "; ".join(f"{c.field}: {c.reason}" for c in hits)
        yield offset + row_index + 1, hits[0].field, reason, _original_json(values)


def _original_json(values: dict) -> str:
    """The row as it arrived, as JSON that jsonb accepts: jsonb refuses NaN, Infinity and \\u0000, which
    are exactly what some quarantined rows hold, so those are kept as text ("NaN", a visible "\\u0000")."""
    try:
        text = json.dumps(values, default=str, sort_keys=True, allow_nan=False)
    except ValueError:  # a NaN or an infinity
        text = None
    if text is not None and "\\u0000" not in text:
        return text
    safe = {
        name: (
            json.dumps(value)  # 'NaN', 'Infinity', '-Infinity'
            if isinstance(value, float) and not math.isfinite(value)
            else value.replace("\x00", "\\u0000")
            if isinstance(value, str)
            else value
        )
        for name, value in values.items()
    }
    return json.dumps(safe, default=str, sort_keys=True)


class _RawCopy:
    """The valid rows of a slice, streamed into its raw table by one binary COPY inside the slice's
    transaction.

    Rows are encoded from the typed Arrow columns a chunk at a time (`pgbinary`: vectorised, no per-row
    Python) and handed to a writer thread with a bounded queue (32 MB, more than one batch), so the server
    ingests one batch while the next is read and validated, and memory stays bounded by the batch size. The
    COPY stays open across batches; `close()` ends it when the connection is needed for other statements
    (the next `write()` starts a new one)."""

    def __init__(self, cur, contract: Contract):
        self.cur, self.contract = cur, contract
        self._copy = None  # the open psycopg Copy context manager, if any

    def write(self, typed, meta: dict, row_numbers) -> int:
        from probation_evidence.sources import pgbinary

        n = typed.num_rows
        if n == 0:
            return 0
        if self._copy is None:
            self._open()
        kinds = [f.kind for f in self.contract.fields]
        constant = pgbinary.constant_fields(
            [("text", meta["batch_id"]), ("timestamp", meta["loaded_at"]), ("text", meta["source_file"])]
        )
        copy = self._active
        for start in range(0, n, COPY_CHUNK_ROWS):
            chunk = typed.slice(start, COPY_CHUNK_ROWS)
            columns = [chunk.column(i).combine_chunks() for i in range(chunk.num_columns)]
            tail = [(row_numbers.slice(start, COPY_CHUNK_ROWS), "integer")]
            copy.write(pgbinary.encode_rows(columns, kinds, constant, tail))
        return n

    def _open(self) -> None:
        from psycopg import sql

        from probation_evidence.sources import pgbinary

        names = self.contract.column_names + [name for name, _ in METADATA_COLUMNS]
        statement = sql.SQL("copy {} ({}) from stdin (format binary)").format(
            sql.Identifier("raw", self.contract.table), sql.SQL(", ").join(map(sql.Identifier, names))
        )
        self._copy = self.cur.copy(statement, writer=pgbinary.BoundedQueuedWriter(self.cur))
        self._active = self._copy.__enter__()
        self._active.write(pgbinary.SIGNATURE)

    def close(self, exc: BaseException | None = None) -> None:
        from probation_evidence.sources import pgbinary

        if self._copy is None:
            return
        copy, self._copy = self._copy, None
        if exc is None:
            self._active.write(pgbinary.TRAILER)
            copy.__exit__(None, None, None)
        else:  # abandon the COPY so the transaction can roll back
            try:
                copy.__exit__(type(exc), exc, exc.__traceback__)
            except Exception as secondary:  # e.g. the server is gone: the first error is the one to report
                log.warning("abandoning the COPY after %s also failed: %s", type(exc).__name__, secondary)

    def __enter__(self) -> _RawCopy:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)


def _insert_quarantine(cur, rows: list[tuple]) -> None:
    if rows:
        cur.executemany(
            "insert into audit.quarantine (batch_id, row_number, source_file, field, reason,"
            " original_values) values (%s, %s, %s, %s, %s, %s)",
            rows,
        )


def cell_problems(metadata: dict | None, rows: int, path: Path) -> dict[tuple[str, str], list[int]]:
    """The cells a reader flagged (`CELL_PROBLEMS_KEY` in the file's Arrow schema metadata), as
    {(field, reason): [0-based rows]}. Landing keeps the metadata in the Parquet file, so the sha256 covers
    it. Malformed metadata fails the slice: silently ignoring it would load cells known to be wrong."""
    raw = (metadata or {}).get(CELL_PROBLEMS_KEY)
    if not raw:
        return {}
    try:
        problems = json.loads(raw)
        flagged: dict[tuple[str, str], list[int]] = {}
        for problem in problems:
            row, field, reason = problem["row"], str(problem["field"]), str(problem["reason"])
            if not isinstance(row, int) or isinstance(row, bool) or not 0 <= row < rows:
                raise ValueError(f"row {row!r} is not a row of the file")
            flagged.setdefault((field, reason), []).append(row)
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{path}: malformed {CELL_PROBLEMS_KEY.decode()} metadata: {error}") from error
    return flagged


def _flagged_checks(flagged: dict, row_numbers) -> list[_Check]:
    """One check per (field, reason) of the flagged cells, over a batch with these 1-based row numbers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not flagged:
        return []
    rows = pc.subtract(row_numbers, 1).cast(pa.int64())
    return [
        _Check(field, reason, pc.is_in(rows, value_set=pa.array(indices, pa.int64())))
        for (field, reason), indices in flagged.items()
    ]


def ensure_raw_table(cur, contract) -> None:
    """Create the contract's raw table (and its batch index) if it does not exist yet, in the caller's transaction.

    Loads of different slices run at once under a scheduler (one task per provider), and the first loads of a
    new table would each run `create table if not exists`: that is not safe concurrently (the second fails on
    the catalog's unique index, `pg_type_typname_nsp_index`, once the first commits). So whoever finds the
    table or its index missing takes a lock per table, held to the end of its load's transaction, and creates
    them under it; the others wait, then find them made. Once both exist nothing is locked: the existence is
    read first, because `create index if not exists` would lock the table against the other slices' loads.
    """
    index = batch_index_name(contract)
    wanted = [contract.qualified_table, *([f"raw.{index}"] if index else [])]
    if all(cur.execute("select to_regclass(%s)", [name]).fetchone()[0] is not None for name in wanted):
        return
    cur.execute("select pg_advisory_xact_lock(hashtext(%s))", [f"create|{contract.qualified_table}"])
    cur.execute(create_table_sql(contract))
    if index:
        cur.execute(create_index_sql(contract))


def load_landed_file(
    conn, manifest: landing.Manifest, root: Path | None = None, batch_rows: int = landing.ROW_GROUP_ROWS
):
    """Load one landed file as the current batch of its slice. `conn` is a psycopg connection."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from psycopg import sql

    root = root or settings.landing_dir()
    contract = get_contract(manifest.source, manifest.entity)
    path = landing.verify(manifest, root)
    parquet = pq.ParquetFile(path)
    check_schema(parquet.schema_arrow, contract, path)
    flagged = cell_problems(parquet.schema_arrow.metadata, manifest.rows, path)
    period = date.fromisoformat(manifest.period_end_date)
    slice_args = [manifest.source, manifest.entity, manifest.provider_id, period]

    with conn.transaction(), conn.cursor() as cur, _RawCopy(cur, contract) as raw:
        cur.execute(f"set local role {settings.LOADER_ROLE}")
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", ["|".join(map(str, slice_args))])
        ensure_raw_table(cur, contract)
        cur.execute(
            "select batch_id, file_sha256 from audit.load_batches"
            " where source = %s and entity = %s and provider_id = %s and period_end_date = %s",
            slice_args,
        )
        current = cur.fetchone()
        if current and current[1] == manifest.sha256:
            counts = cur.execute(
                "select rows_landed, rows_loaded, rows_quarantined from audit.load_batches where batch_id = %s",
                [current[0]],
            ).fetchone()
            return LoadResult(current[0], *slice_args[:3], str(period), "unchanged", *counts)
        if current:  # the slice is replaced by the new batch
            cur.execute(
                sql.SQL("delete from {} where _batch_id = %s").format(sql.Identifier("raw", contract.table)),
                [current[0]],
            )
            cur.execute("delete from audit.load_batches where batch_id = %s", [current[0]])
        loaded_at = cur.execute("select now()").fetchone()[0]
        cur.execute(
            "insert into audit.load_batches (batch_id, source, entity, provider_id, period_end_date,"
            " source_file, file_sha256, schema_version, rows_landed, rows_loaded, rows_quarantined, loaded_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, 0, 0, 0, %s)",
            [
                manifest.batch_id,
                *slice_args,
                manifest.path,
                manifest.sha256,
                manifest.schema_version,
                loaded_at,
            ],
        )
        meta = {
            "batch_id": manifest.batch_id,
            "loaded_at": loaded_at.isoformat(),
            "source_file": manifest.path,
        }
        landed = loaded = quarantined = 0
        if manifest.duplicate_rows is not None:
            duplicates = pa.array(manifest.duplicate_rows, pa.int64())
        else:  # a manifest from before landing recorded duplicates: one pass over the key columns
            duplicates = duplicate_rows(parquet.read(columns=list(contract.key)), contract)
        pending: list[tuple] = []  # quarantine rows, inserted when the COPY pauses
        size = 0  # rows in the batch being validated and sent, for the error message
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows):
                size = batch.num_rows
                row_numbers = pc.add(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int32()), size)), landed)
                is_duplicate = (
                    pc.is_in(pc.subtract(row_numbers, 1).cast(pa.int64()), value_set=duplicates)
                    if len(duplicates)
                    else pa.repeat(False, size)
                )
                original, typed, checks = validate_batch(
                    batch, contract, manifest.provider_id, period, duplicate_mask=is_duplicate
                )
                checks += _flagged_checks(flagged, row_numbers)
                bad = pa.repeat(False, size)
                for check in checks:
                    bad = pc.or_(bad, check.mask)
                if bad.null_count:  # a check that cannot decide would silently drop rows: never allowed
                    raise RuntimeError("validation produced an undecided row (a bug in a check)")
                good = pc.invert(bad)
                loaded += raw.write(typed.filter(good), meta, row_numbers.filter(good))
                rows = list(_quarantine_rows(original, checks, bad, landed))
                pending += [
                    (manifest.batch_id, n, manifest.path, field, reason, values) for n, field, reason, values in rows
                ]
                if len(pending) >= batch_rows:  # memory stays bounded: pause the COPY to write them
                    raw.close()
                    _insert_quarantine(cur, pending)
                    pending = []
                quarantined += len(rows)
                landed += size
            size = 0
            raw.close()  # the COPY ends before the connection runs anything else
            _insert_quarantine(cur, pending)
        except Exception as error:  # the transaction rolls back: say where it stopped, keep the cause
            where = f"at rows {landed + 1}..{landed + size}" if size else f"ending the COPY after row {landed}"
            message = " ".join(str(error).split())  # one line, with the server's CONTEXT (COPY line, column)
            raise SliceLoadError(
                f"{path}: load failed {where} of {manifest.rows}, nothing of the slice was kept: "
                f"{type(error).__name__}: {message}"
            ) from error
        if landed != manifest.rows or landed != loaded + quarantined:
            raise RuntimeError(
                f"{path}: row count mismatch: manifest {manifest.rows}, read {landed}, "
                f"loaded {loaded} + quarantined {quarantined}"
            )
        cur.execute(
            "update audit.load_batches set rows_landed = %s, rows_loaded = %s, rows_quarantined = %s"
            " where batch_id = %s",
            [landed, loaded, quarantined, manifest.batch_id],
        )
    if quarantined:
        log.warning("%s: %d of %d rows quarantined (see audit.quarantine)", manifest.path, quarantined, landed)
    return LoadResult(manifest.batch_id, *slice_args[:3], str(period), "loaded", landed, loaded, quarantined)
