"""The landing zone: immutable Parquet files, one per (source, entity, provider, period, batch), each
with a manifest (rows, sha256, schema version) beside it.

A batch id is derived from the content, so extracting the same data twice lands nothing new.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from probation_evidence.sources.contracts import Contract
from probation_evidence.sources.validation import duplicate_rows

ROW_GROUP_ROWS = 65_536
MAX_RECORDED_DUPLICATES = 10_000


@dataclass(frozen=True)
class Manifest:
    batch_id: str
    source: str
    entity: str
    provider_id: str
    period_end_date: str
    path: str  # relative to the landing root
    rows: int
    sha256: str
    schema_version: str
    #: 0-based rows whose key repeats an earlier row's: found at landing, when the file is whole in memory.
    duplicate_rows: list[int] | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def slice_dir(root: Path, contract: Contract, provider_id: str, period: date) -> Path:
    return root / contract.source / contract.entity / f"provider_id={provider_id}" / f"period={period}"


def land_table(table, contract: Contract, provider_id: str, period: date, root: Path) -> Manifest:
    """Write `table` (a pyarrow.Table) as an immutable Parquet file plus manifest; return the manifest.

    The table's schema metadata (e.g. `validation.CELL_PROBLEMS_KEY`, cells a reader flagged) is written into
    the file, so the sha256 covers it. The file is written beside its final name and moved into place
    only when complete: a write that fails (disk full) leaves no file, and the partial one is removed. A
    file already at the final name is trusted only if its content still hashes to that name: a truncated
    or altered one is replaced, so landing the same data again heals it.
    """
    target_dir = slice_dir(root, contract, provider_id, period)
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target_dir / f".incoming-{os.getpid()}-{threading.get_ident()}.parquet"
    try:
        # Row groups of 64k rows: the loader streams a file one row group at a time, bounding its memory.
        pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        sha = _sha256(tmp)
        batch_id = f"{contract.source}-{contract.entity}-{provider_id}-{period:%Y%m%d}-{sha[:12]}"
        final = target_dir / f"{batch_id}.parquet"
        if final.is_file() and not final.is_symlink() and _sha256(final) == sha:
            tmp.unlink()  # the same content was landed before: landing is immutable and idempotent
        else:  # new, or a damaged copy of this content (a truncated write, a tampered file): replace it
            os.replace(tmp, final)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise OSError(
            error.errno,
            f"could not land {contract.source}.{contract.entity} for {provider_id} {period} in "
            f"{target_dir}: {error.strerror or error}",
        ) from error
    manifest = Manifest(
        batch_id=batch_id,
        source=contract.source,
        entity=contract.entity,
        provider_id=provider_id,
        period_end_date=period.isoformat(),
        path=str(final.relative_to(root)),
        rows=table.num_rows,
        sha256=sha,
        schema_version=contract.version,
        duplicate_rows=_duplicate_rows(table, contract),
    )
    _write_if_changed(
        final.with_suffix(".manifest.json"), json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n"
    )
    return manifest


def _write_if_changed(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, unless it already holds exactly that (a rerun writes nothing)."""
    try:
        if path.read_text() == text:
            return
    except (OSError, UnicodeDecodeError):
        pass  # missing or unreadable: (re)write it
    tmp = path.with_name(f".{path.name}-{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _duplicate_rows(table, contract: Contract) -> list[int] | None:
    if any(name not in table.column_names for name in contract.key):
        return None  # schema drift: the loader will refuse the file and say why
    found = duplicate_rows(table, contract)
    # A file that is mostly duplicates would bloat the manifest (and XCom): the loader finds them itself.
    return found.to_pylist() if len(found) <= MAX_RECORDED_DUPLICATES else None


def verify(manifest: Manifest, root: Path) -> Path:
    """The landed file, after checking it is still the file the manifest describes."""
    path = root / manifest.path
    if not path.exists():
        raise FileNotFoundError(f"{path}: landed file named in manifest {manifest.batch_id} is missing")
    actual = _sha256(path)
    if actual != manifest.sha256:
        raise ValueError(f"{path}: sha256 {actual[:12]}... does not match its manifest ({manifest.sha256[:12]}...)")
    return path
