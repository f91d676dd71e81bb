"""What the planners' page lists: every published pack version, from the packs folder and the warehouse's record.

A version is recorded in `audit.pack_publications` (with the SHA-256 of its HTML and CSV) and written as
three files, `<packs_dir>/<inspection_id>/<provider_id>-evidence-pack-v<version>.{html,pdf,csv}`. The page
joins the two, so a planner sees a recorded version whose files are missing, files no record vouches for,
and whether each file still matches the hash recorded when it was published.

The record is read as `warehouse_publisher` (the role that wrote it; it reads marts and
`audit.pack_publications`) in a READ ONLY transaction: the page can never write to the warehouse.

Only names matching the publisher's own file names are ever served, and only from inside the packs folder
once every symbolic link is resolved (`pack_file`).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from probation_evidence import settings, warehouse

#: An inspection id or provider id as the publisher accepts them in a file name (packs.render.pack_path).
SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: A pack file's name, as the publisher writes it.
PACK_FILE = re.compile(
    r"^(?P<provider_id>[A-Za-z0-9][A-Za-z0-9._-]*)-evidence-pack-v(?P<version>[1-9][0-9]{0,5})\.(?P<kind>html|pdf|csv)$"
)
KINDS = ("html", "pdf", "csv")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}

_PUBLICATIONS_SQL = warehouse.read_sql("probation_evidence.ui", "publications")


class PackNotFound(LookupError):
    """No pack file by that name inside the packs folder (or a name the publisher never writes)."""


@dataclass
class PackVersion:
    """One version of one inspection's pack: its record (if any) and its files (if any)."""

    inspection_id: str
    provider_id: str
    version: int
    files: dict[str, str] = field(default_factory=dict)  # kind -> file name
    recorded: bool = False
    as_at_date: date | None = None
    published_at: datetime | None = None
    reason: str | None = None
    checks: dict[str, bool] = field(default_factory=dict)  # kind -> file matches its recorded SHA-256

    @property
    def missing(self) -> list[str]:
        return [kind for kind in KINDS if kind not in self.files]

    @property
    def mismatched(self) -> list[str]:
        return [kind for kind, ok in self.checks.items() if not ok]


@dataclass
class InspectionPacks:
    inspection_id: str
    provider_id: str
    provider_name: str | None = None
    fieldwork_start_date: date | None = None
    versions: list[PackVersion] = field(default_factory=list)

    @property
    def latest(self) -> PackVersion:
        return self.versions[-1]


def docs_dir() -> Path:
    """Where `make docs-site` writes the dbt docs site: `DBT_DOCS_DIR`, default `output/dbt-docs`."""
    return Path(os.environ.get("DBT_DOCS_DIR", settings.project_root() / "output" / "dbt-docs"))


def dbt_docs_file() -> Path:
    return docs_dir() / "static_index.html"


def pack_file(packs_dir: Path, inspection_id: str, file_name: str) -> tuple[Path, str]:
    """(path, kind) of a pack file, or PackNotFound.

    The names must be ones the publisher writes (no `..`, no separators, no hidden or temporary files), and
    the file, every symbolic link resolved, must be a regular file inside the packs folder.
    """
    match = PACK_FILE.fullmatch(file_name)
    if not SAFE_PART.fullmatch(inspection_id) or match is None:
        raise PackNotFound(f"not a pack file name: {inspection_id!r}/{file_name!r}")
    root = Path(packs_dir).resolve()
    try:
        path = (root / inspection_id / file_name).resolve(strict=True)
    except (FileNotFoundError, RuntimeError) as error:  # RuntimeError: a symbolic link loop
        raise PackNotFound(f"no pack file {inspection_id}/{file_name}") from error
    if not path.is_relative_to(root) or not path.is_file():
        raise PackNotFound(f"{inspection_id}/{file_name} is not a file inside the packs folder")
    return path, match["kind"]


def scan_files(packs_dir: Path) -> dict[tuple[str, int], PackVersion]:
    """Every pack file in the packs folder, grouped by (inspection, version)."""
    found: dict[tuple[str, int], PackVersion] = {}
    root = Path(packs_dir)
    if not root.is_dir():
        return found
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or not SAFE_PART.fullmatch(folder.name):
            continue
        for path in sorted(folder.iterdir()):
            match = PACK_FILE.fullmatch(path.name)
            if match is None:
                continue
            try:
                pack_file(root, folder.name, path.name)  # the same test as serving: links out are not listed
            except PackNotFound:
                continue
            key = (folder.name, int(match["version"]))
            version = found.setdefault(key, PackVersion(folder.name, match["provider_id"], key[1]))
            version.files[match["kind"]] = path.name
    return found


def read_publications(warehouse_url: str) -> list[dict]:
    """Every recorded publication, with the provider's name and fieldwork start, as warehouse_publisher."""
    with psycopg.connect(warehouse_url, row_factory=dict_row) as conn:
        conn.read_only = True
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(settings.PUBLISHER_ROLE)))
        return conn.execute(_PUBLICATIONS_SQL).fetchall()


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def catalogue(packs_dir: Path, publications: list[dict] | None) -> list[InspectionPacks]:
    """Inspections, each with its versions (oldest first): the record joined to the files.

    `publications` is `read_publications()`'s rows, or None when the warehouse could not be read: then
    the versions come from the files alone, unverified.
    """
    versions = scan_files(packs_dir)
    details: dict[str, dict] = {}
    for row in publications or []:
        key = (row["inspection_id"], int(row["pack_version"]))
        version = versions.setdefault(key, PackVersion(row["inspection_id"], row["provider_id"], key[1]))
        version.provider_id = row["provider_id"]
        version.recorded = True
        version.as_at_date = row["as_at_date"]
        version.reason = row["reason"]
        published = row["published_at"]
        version.published_at = published.astimezone(UTC) if published and published.tzinfo else published
        details[row["inspection_id"]] = row
        for kind in ("html", "csv"):
            recorded = row[f"{kind}_sha256"]
            if kind in version.files and recorded:
                path = Path(packs_dir) / version.inspection_id / version.files[kind]
                version.checks[kind] = _sha256(path) == recorded
    inspections: dict[str, InspectionPacks] = {}
    for (inspection_id, _), version in sorted(versions.items()):
        row = details.get(inspection_id, {})
        entry = inspections.setdefault(
            inspection_id,
            InspectionPacks(
                inspection_id, version.provider_id, row.get("provider_name"), row.get("fieldwork_start_date")
            ),
        )
        entry.versions.append(version)
    return list(inspections.values())
