"""Find what providers drop: one file per entity per period, and an event for everything else in the folder.

Providers drop at ``<root>/<family>/<provider_id>/<entity>_<YYYYMMDD>.<ext>`` as CSV, XLSX or Parquet. A drop
folder also holds what is not (yet) a drop file: uploads in progress, a second file for the same slice, names
that do not parse, symlinks. `survey` returns the readable files, one per slice, and a `DropEvent` for
everything else, so nothing in a drop folder is passed over without a trace.
"""

from __future__ import annotations

import logging
import os
import re
import time as clock
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

log = logging.getLogger(__name__)

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
NAME_PATTERN = re.compile(r"^(?P<entity>[a-z0-9_]+)_(?P<period>\d{8})\.(?P<ext>csv|xlsx|parquet)$", re.IGNORECASE)
#: Names uploads in progress go by (browsers, WinSCP, FileZilla, rsync, Office): never read, reported.
TEMPORARY_PREFIXES = (".", "~$", "~")
TEMPORARY_SUFFIXES = (".part", ".partial", ".filepart", ".crdownload", ".download", ".tmp", ".temp", ".upload")


@dataclass(frozen=True)
class DropFile:
    entity: str
    period: date
    path: Path
    received_at: datetime  # the file's modification time, UTC
    format: str  # csv, xlsx or parquet


@dataclass(frozen=True)
class DropEvent:
    """Something in a drop folder that is not read this run, and why: the row `audit.drop_file_events` keeps."""

    file_name: str  # relative to the drops root, with / separators
    event: str  # unexpected, superseded, in_motion or refused
    detail: str
    entity: str | None = None
    period_end_date: date | None = None
    file_modified_at: datetime | None = None

    def to_dict(self) -> dict:
        return {
            "file_name": self.file_name,
            "event": self.event,
            "entity": self.entity,
            "period_end_date": self.period_end_date.isoformat() if self.period_end_date else None,
            "detail": self.detail,
            "file_modified_at": self.file_modified_at.isoformat() if self.file_modified_at else None,
        }


@dataclass
class Survey:
    """What a provider's drop folder holds: the files to read (one per slice) and events for the rest."""

    files: list[DropFile] = field(default_factory=list)
    events: list[DropEvent] = field(default_factory=list)


def _modified_at(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime_ns / 1e9, UTC)


def _is_temporary(name: str) -> bool:
    return name.startswith(TEMPORARY_PREFIXES) or name.lower().endswith(TEMPORARY_SUFFIXES)


def _in_motion(stat: os.stat_result, settle_seconds: float, now_ns: int) -> str | None:
    """Why a file may still be being written: modified within the settle time of now (either side, as a file
    server's clock may run a little ahead), else None. A settle time of 0 turns the check off."""
    if settle_seconds <= 0 or abs(now_ns - stat.st_mtime_ns) >= settle_seconds * 1e9:
        return None
    return (
        f"modified at {_modified_at(stat).isoformat()}, within the settle time ({settle_seconds:g} s, "
        "DROP_SETTLE_SECONDS) of this run: it may still be being written, so a later run reads it"
    )


def _classify(path: Path, relative: str, settle_seconds: float, now_ns: int) -> DropFile | DropEvent | None:
    """One entry of a provider folder: a readable drop file, the event that says why it is not read, or None
    when it vanished since the folder was listed (renamed at the end of an upload: seen by its new name)."""
    try:
        stat = path.lstat()
        target = os.readlink(path) if path.is_symlink() else None
    except FileNotFoundError:
        return None
    modified = _modified_at(stat)
    if target is not None:
        detail = f"is a symbolic link (to {target}): links are never followed in drop folders"
        return DropEvent(relative, "refused", detail, file_modified_at=modified)
    if path.is_dir():
        return DropEvent(relative, "unexpected", "is a folder: files inside it are not read", file_modified_at=modified)
    if not path.is_file():
        return DropEvent(relative, "refused", "is not a regular file (a pipe, socket or device)")
    if _is_temporary(path.name):
        detail = "is named as an upload in progress or a lock file (hidden, ~$, .part, .tmp, ...): not read"
        return DropEvent(relative, "in_motion", detail, file_modified_at=modified)
    match = NAME_PATTERN.match(path.name)
    if not match:
        detail = "is not a drop file name (<entity>_<YYYYMMDD>.csv|xlsx|parquet): not read"
        return DropEvent(relative, "unexpected", detail, file_modified_at=modified)
    entity = match["entity"].lower()
    try:
        period = datetime.strptime(match["period"], "%Y%m%d").date()
    except ValueError:
        detail = f"{match['period']} in its name is not a date (YYYYMMDD): not read"
        return DropEvent(relative, "unexpected", detail, entity=entity, file_modified_at=modified)
    moving = _in_motion(stat, settle_seconds, now_ns)
    if moving:
        return DropEvent(relative, "in_motion", moving, entity, period, modified)
    return DropFile(entity, period, path, modified, FORMATS[path.suffix.lower()])


def _resolve(files: list[DropFile], relative) -> tuple[list[DropFile], list[DropEvent]]:
    """One file per (entity, period): the latest modified wins, ties to the greater name; the others are
    reported as superseded. The same folder always gives the same choice."""
    by_slice: dict[tuple[str, date], list[DropFile]] = {}
    for drop in files:
        by_slice.setdefault((drop.entity, drop.period), []).append(drop)
    chosen, events = [], []
    for candidates in by_slice.values():
        candidates.sort(key=lambda d: (d.received_at, d.path.name), reverse=True)
        winner = candidates[0]
        chosen.append(winner)
        for loser in candidates[1:]:
            detail = (
                f"superseded by {winner.path.name} (modified {winner.received_at.isoformat()}, this file "
                f"{loser.received_at.isoformat()}): of two files for one slice only the later modified is read"
            )
            event = DropEvent(relative(loser.path), "superseded", detail, loser.entity, loser.period, loser.received_at)
            events.append(event)
    return chosen, events


def survey(root: Path, family: str, provider_id: str, settle_seconds: float = 0, now_ns: int | None = None) -> Survey:
    """The provider's drop files for a family (oldest period first) and an event for everything else there.

    Refused: symbolic links (also as the family or provider folder), special files. In motion: temporary
    upload names, and files modified within `settle_seconds` of now. Unexpected: names that do not parse.
    Superseded: all but the latest of two or more files for one slice. Whether a file's entity and period
    are expected is the caller's question (`ingest.extract_files` knows the run's contracts and periods).
    """
    root = Path(root)
    now_ns = clock.time_ns() if now_ns is None else now_ns
    found = Survey()

    def relative(path: Path) -> str:
        return path.relative_to(root).as_posix()

    folder = root / family / provider_id
    for level in (root / family, folder):
        if level.is_symlink():
            detail = f"is a symbolic link (to {os.readlink(level)}); drop folders are never followed through links"
            found.events.append(DropEvent(relative(level), "refused", detail))
            return found
    if not folder.is_dir():
        return found
    files = []
    for path in sorted(folder.iterdir()):
        item = _classify(path, relative(path), settle_seconds, now_ns)
        if isinstance(item, DropFile):
            files.append(item)
        elif item is not None:
            log.warning("%s: %s (%s)", path, item.detail, item.event)
            found.events.append(item)
    found.files, superseded = _resolve(files, relative)
    found.files.sort(key=lambda d: (d.entity, d.period, d.path.name))
    found.events.extend(superseded)
    found.events.sort(key=lambda e: (e.file_name, e.event))
    return found


def discover(root: Path, family: str, provider_id: str) -> list[DropFile]:
    """The provider's drop files for a family, one per slice, oldest period first (no settle time: see
    `survey` for that and for what else the folder holds)."""
    return survey(root, family, provider_id).files
