"""Load a landed file into `raw`: validate against its source contract (`validation`), COPY the valid rows
(`raw_copy`), quarantine the rest with the reason, and record the batch. One transaction per slice, so a rerun
changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from psycopg import sql

from probation_evidence import settings
from probation_evidence.sources import landing
from probation_evidence.sources.contracts import batch_index_name, create_index_sql, create_table_sql, get_contract
from probation_evidence.sources.raw_copy import RawCopy
from probation_evidence.sources.validation import (
    cell_problems,
    check_schema,
    duplicate_rows,
    flagged_checks,
    quarantine_rows,
    validate_batch,
)
from probation_evidence.warehouse import read_sql

log = logging.getLogger(__name__)

_SQL = "probation_evidence.sources"
_INSERT_QUARANTINE = read_sql(_SQL, "insert_quarantine")
_REGCLASS = read_sql(_SQL, "regclass")
_LOCK_FOR_TRANSACTION = read_sql(_SQL, "lock_for_transaction")
_CURRENT_BATCH = read_sql(_SQL, "current_batch")
_BATCH_COUNTS = read_sql(_SQL, "batch_counts")
_DELETE_BATCH = read_sql(_SQL, "delete_batch")
_TRANSACTION_TIME = read_sql(_SQL, "transaction_time")
_INSERT_BATCH = read_sql(_SQL, "insert_batch")
_SET_BATCH_COUNTS = read_sql(_SQL, "set_batch_counts")


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


def _insert_quarantine(cur, rows: list[tuple]) -> None:
    if rows:
        cur.executemany(
            _INSERT_QUARANTINE,
            rows,
        )


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
    if all(cur.execute(_REGCLASS, [name]).fetchone()[0] is not None for name in wanted):
        return
    cur.execute(_LOCK_FOR_TRANSACTION, [f"create|{contract.qualified_table}"])
    cur.execute(create_table_sql(contract))
    if index:
        cur.execute(create_index_sql(contract))


def _slice_names(manifest: landing.Manifest) -> tuple[str, str, str]:
    return manifest.source, manifest.entity, manifest.provider_id


def load_landed_file(
    conn, manifest: landing.Manifest, root: Path | None = None, batch_rows: int = landing.ROW_GROUP_ROWS
):
    """Load one landed file as the current batch of its slice. `conn` is a psycopg connection."""
    root = root or settings.landing_dir()
    contract = get_contract(manifest.source, manifest.entity)
    path = landing.verify(manifest, root)
    parquet = pq.ParquetFile(path)
    check_schema(parquet.schema_arrow, contract, path)
    flagged = cell_problems(parquet.schema_arrow.metadata, manifest.rows, path)
    period = date.fromisoformat(manifest.period_end_date)
    slice_args: list[Any] = [manifest.source, manifest.entity, manifest.provider_id, period]

    with conn.transaction(), conn.cursor() as cur, RawCopy(cur, contract) as raw:
        cur.execute(f"set local role {settings.LOADER_ROLE}")
        cur.execute(_LOCK_FOR_TRANSACTION, ["|".join(map(str, slice_args))])
        ensure_raw_table(cur, contract)
        cur.execute(_CURRENT_BATCH, slice_args)
        current = cur.fetchone()
        if current and current[1] == manifest.sha256:
            counts = cur.execute(_BATCH_COUNTS, [current[0]]).fetchone()
            landed, loaded, quarantined = counts
            return LoadResult(
                current[0], *_slice_names(manifest), str(period), "unchanged", landed, loaded, quarantined
            )
        if current:  # the slice is replaced by the new batch
            cur.execute(
                sql.SQL("delete from {} where _batch_id = %s").format(sql.Identifier("raw", contract.table)),
                [current[0]],
            )
            cur.execute(_DELETE_BATCH, [current[0]])
        loaded_at = cur.execute(_TRANSACTION_TIME).fetchone()[0]
        cur.execute(
            _INSERT_BATCH,
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
        else:  # too many to record in the manifest (or drift): one pass over the key columns
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
                checks += flagged_checks(flagged, row_numbers)
                bad = pa.repeat(False, size)
                for check in checks:
                    bad = pc.or_(bad, check.mask)
                if bad.null_count:  # a check that cannot decide would silently drop rows: never allowed
                    raise RuntimeError("validation produced an undecided row (a bug in a check)")
                good = pc.invert(bad)
                loaded += raw.write(typed.filter(good), meta, row_numbers.filter(good))
                rows = list(quarantine_rows(original, checks, bad, landed))
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
            _SET_BATCH_COUNTS,
            [landed, loaded, quarantined, manifest.batch_id],
        )
    if quarantined:
        log.warning("%s: %d of %d rows quarantined (see audit.quarantine)", manifest.path, quarantined, landed)
    return LoadResult(manifest.batch_id, *_slice_names(manifest), str(period), "loaded", landed, loaded, quarantined)
