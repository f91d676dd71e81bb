"""Stream a slice's valid rows into its raw table with one binary COPY, inside the slice's transaction."""

from __future__ import annotations

import logging
from typing import Any

from psycopg import sql

from probation_evidence.sources import pgbinary
from probation_evidence.sources.contracts import METADATA_COLUMNS, Contract

log = logging.getLogger(__name__)

#: Rows encoded per binary COPY write: small enough to overlap encoding with sending, large enough to
#: keep Arrow's per-call overhead low.
COPY_CHUNK_ROWS = 25_000


class RawCopy:
    """The valid rows of a slice, streamed into its raw table by one binary COPY inside the slice's
    transaction.

    Rows are encoded from the typed Arrow columns a chunk at a time (`pgbinary`: vectorised, no per-row
    Python) and handed to a writer thread with a bounded queue (32 MB, more than one batch), so the server
    ingests one batch while the next is read and validated, and memory stays bounded by the batch size. The
    COPY stays open across batches; `close()` ends it when the connection is needed for other statements
    (the next `write()` starts a new one)."""

    def __init__(self, cur, contract: Contract):
        self.cur, self.contract = cur, contract
        self._copy: Any = None  # the open psycopg Copy context manager, if any

    def write(self, typed, meta: dict, row_numbers) -> int:
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
        names = self.contract.column_names + [name for name, _ in METADATA_COLUMNS]
        statement = sql.SQL("copy {} ({}) from stdin (format binary)").format(
            sql.Identifier("raw", self.contract.table), sql.SQL(", ").join(map(sql.Identifier, names))
        )
        self._copy = self.cur.copy(statement, writer=pgbinary.BoundedQueuedWriter(self.cur))
        self._active = self._copy.__enter__()
        self._active.write(pgbinary.SIGNATURE)

    def close(self, exc: BaseException | None = None) -> None:
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

    def __enter__(self) -> RawCopy:
        return self

    def __exit__(self, _exc_type, exc, _tb) -> None:
        self.close(exc)
