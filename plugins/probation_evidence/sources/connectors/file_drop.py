"""Read the files providers drop: find them, then turn each into an all-text Arrow table for landing.

Providers drop one file per entity per period at ``<root>/<family>/<provider_id>/<entity>_<YYYYMMDD>.<ext>``
as CSV, XLSX or Parquet. Every column comes back as ``pa.string()``: parsing and validation belong to the
loader, which quarantines bad rows rather than losing them here. Headers are mapped to contract field names
through `normalise_header` and the fields' aliases; a header that matches nothing keeps its own name, so the
loader reports the schema drift by name. What cannot be read at all (empty, corrupt, undecodable, a CSV row
of the wrong width, a file too big to read safely, a zip bomb) raises `FileDropError` naming the file and the
reason.

A drop folder also holds what is not (yet) a drop file: uploads in progress, a second file for the same slice,
names that do not parse, symlinks. `survey` returns the readable files, one per slice, and a `DropEvent` for
everything else, so nothing in a drop folder is passed over without a trace.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import time as clock
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from probation_evidence import settings
from probation_evidence.sources.contracts.base import Contract, normalise_header

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
NAME_PATTERN = re.compile(r"^(?P<entity>[a-z0-9_]+)_(?P<period>\d{8})\.(?P<ext>csv|xlsx|parquet)$", re.IGNORECASE)
ENCODINGS = ("utf-8-sig", "cp1252")
#: C0 control characters other than tab, CR and LF (and DEL): their presence means the bytes are not text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DEFAULT_BATCH_ROWS = 50_000
#: Names uploads in progress go by (browsers, WinSCP, FileZilla, rsync, Office): never read, reported.
TEMPORARY_PREFIXES = (".", "~$", "~")
TEMPORARY_SUFFIXES = (".part", ".partial", ".filepart", ".crdownload", ".download", ".tmp", ".temp", ".upload")
#: The longest CSV field read (Python's csv module's own default limit): a longer one is almost always an
#: unbalanced quote that swallowed the rest of the file, or not a CSV at all.
MAX_FIELD_CHARS = 131_072
#: An XLSX member bigger than this that expands more than ZIP_MAX_RATIO times is a zip bomb (the ratio is
#: Apache POI's default guard; real sheets compress 5 to 30 times).
ZIP_RATIO_MIN_BYTES = 16 * 1024 * 1024
ZIP_MAX_RATIO = 100
#: Schema metadata key of the cell problems `read_drop_file` found (JSON: [{row, field, reason}]).
CELL_PROBLEMS_KEY = b"pe:cell_problems"
#: More rows than this with a formula but no stored value: the whole workbook was never calculated.
MAX_CELL_PROBLEM_ROWS = 1_000


class FileDropError(Exception):
    """A dropped file that cannot be read at all; its message names the file and says why."""

    def __init__(self, path: Path | str, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


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


# ------------------------------------------------------------------------------------------ values
def format_number(value: float | int | Decimal) -> str:
    """Plain text of a number: whole floats without '.0' (as Arrow casts them), others shortest round-trip."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def render_cell(value: object, kind: str | None = None) -> str | None:
    """A spreadsheet cell as the text the loader parses: ISO dates, plain numbers, true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if kind != "timestamp" and value.tzinfo is None and value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return format_number(value)
    text = str(value)
    return text if text != "" else None


# ------------------------------------------------------------------------------------------ headers
def header_lookup(contract: Contract) -> dict[str, str]:
    """normalised header -> contract field name, over every field's name and aliases."""
    lookup = {}
    for f in contract.fields:
        for label in (f.name, *f.aliases):
            lookup.setdefault(normalise_header(label), f.name)
    return lookup


def map_headers(headers: list[str], contract: Contract, path: Path) -> list[str]:
    """Contract field names for the file's headers; unknown headers keep their own (trimmed) name."""
    lookup = header_lookup(contract)
    names, origin = [], {}
    for header in headers:
        clean = (header or "").strip().lstrip("\ufeff").strip()
        name = lookup.get(normalise_header(clean), clean)
        if name in origin:
            raise FileDropError(path, f"columns {origin[name]!r} and {clean!r} both map to field {name!r}")
        origin[name] = clean
        names.append(name)
    return names


def _kinds(names: list[str], contract: Contract) -> list[str | None]:
    kinds = {f.name: f.kind for f in contract.fields}
    return [kinds.get(name) for name in names]


# ------------------------------------------------------------------------------------------ CSV
def decode_text(data: bytes, path: Path) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (with or without BOM), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileDropError(path, "is UTF-16 encoded (byte-order mark); expected UTF-8 or Windows-1252 text")
    utf8_problem = ""
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            if not utf8_problem:
                utf8_problem = f"byte 0x{data[error.start]:02x} at offset {error.start}"
            continue
        control = _CONTROL.search(text)
        if control:
            raise FileDropError(
                path,
                f"is not text: control character 0x{ord(control.group()):02x} at character {control.start()} "
                "(binary, UTF-16 or corrupt file?)",
            )
        return text, encoding
    raise FileDropError(path, f"cannot be decoded as UTF-8 ({utf8_problem}) or Windows-1252")


def _locate_bad_row(text: str, width: int) -> str | None:
    """Where a CSV row breaks the header's width, by physical line number (the header is line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        next(reader, None)
        for record in reader:
            if record and len(record) != width:
                return f"line {reader.line_num}: expected {width} fields, found {len(record)}"
    except csv.Error as error:
        return f"line {reader.line_num}: {error}"
    return None


def _read_csv(path: Path, data: bytes) -> tuple[list[str], pa.Table]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text, encoding = decode_text(data, path)
    # Arrow reads UTF-8 (and skips its byte-order mark) itself: only Windows-1252 needs re-encoding, which
    # spares a third copy of the file in memory (its size is capped by DROP_MAX_BYTES).
    utf8 = data if encoding == "utf-8-sig" else text.encode("utf-8")
    del data
    header = next(csv.reader(io.StringIO(text, newline="")), None)
    if not header or not any(h.strip() for h in header):
        raise FileDropError(path, "has no header row")
    invalid = []

    def on_invalid(row) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as error:
        where = _locate_bad_row(text, len(header))
        raise FileDropError(path, f"malformed CSV: {where or error}") from None
    if invalid:
        where = _locate_bad_row(text, len(header))
        raise FileDropError(path, f"malformed CSV: {where or f'row {invalid[0].number}: {invalid[0].text!r}'}")
    _check_field_lengths(path, header, table)
    return header, table


def _check_field_lengths(path: Path, header: list[str], table) -> None:
    """Refuse a field longer than MAX_FIELD_CHARS: no contract value is anywhere near that long, so it is an
    unbalanced quote that swallowed the lines after it (rows silently merged into one field) or not a CSV."""
    import pyarrow.compute as pc

    for index, name in enumerate(header):
        lengths = pc.utf8_length(table.column(index))
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > MAX_FIELD_CHARS:
            row = pc.index(pc.greater(lengths, MAX_FIELD_CHARS), True).as_py() + 1
            raise FileDropError(
                path,
                f"data row {row}, column {name.strip()!r}: a field of {longest:,} characters, over the "
                f"{MAX_FIELD_CHARS:,} a drop file field may hold (an unbalanced quote swallowing the lines after it?)",
            )


# ------------------------------------------------------------------------------------------ XLSX
def _check_zip(path: Path) -> None:
    """Refuse a zip bomb before anything unpacks it: too much in total, or a big member that expands more
    than ZIP_MAX_RATIO times. The declared sizes can be trusted as a ceiling: Python's zipfile never inflates
    a member beyond its declared size (a lie fails the CRC check instead)."""
    limit = settings.drop_max_uncompressed_bytes()
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise FileDropError(path, f"is not a readable XLSX workbook ({type(error).__name__}: {error})") from None
    total = sum(m.file_size for m in members)
    if total > limit:
        raise FileDropError(
            path,
            f"unpacks to {_size(total)}, over the limit of {_size(limit)} (DROP_MAX_UNCOMPRESSED_BYTES): "
            "refused unopened, as a zip bomb or a workbook too big to read safely",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ZIP_RATIO_MIN_BYTES and ratio > ZIP_MAX_RATIO:
            raise FileDropError(
                path,
                f"member {member.filename} expands {ratio:,.0f} times ({_size(member.compress_size)} to "
                f"{_size(member.file_size)}; over {ZIP_MAX_RATIO}:1): refused unopened as a zip bomb",
            )


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


def _has_formulas(archive: zipfile.ZipFile, member: str) -> bool:
    """Whether a sheet's XML has any formula element: a streaming byte scan, cheap next to parsing."""
    tail = b""
    with archive.open(member) as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter.upper()) - 64
    return number


def _uncalculated_formulas(archive: zipfile.ZipFile, member: str) -> dict[int, tuple[int, str]]:
    """sheet row number -> (column number, formula) of the first formula cell in it with no stored value.

    openpyxl (data_only) gives such a cell as None, like an empty cell. Only the XML tells that apart from a
    formula whose stored value is the empty string (`t="str"` with an empty `<v>`); programs that write
    formulas without calculating them leave out `<v>` or leave it empty in a numeric cell (openpyxl writes
    `<v />`). A streaming expat pass that keeps nothing but the answer, so memory stays bounded; it runs only
    when `_has_formulas` found any formula at all."""
    from xml.parsers import expat

    found: dict[int, tuple[int, str]] = {}
    cell = {"row": 0, "col": 0, "type": "n", "f": None, "v": None, "in": None}

    def start(tag, attrs):
        name = tag.rsplit(":", 1)[-1]
        if name == "row":
            cell["row"], cell["col"] = int(attrs.get("r", cell["row"] + 1)), 0
        elif name == "c":
            ref = re.match(r"([A-Za-z]+)(\d+)$", attrs.get("r", ""))
            cell["col"] = _column_number(ref[1]) if ref else cell["col"] + 1
            cell.update(type=attrs.get("t", "n"), f=None, v=None)
        elif name in ("f", "v"):
            cell[name], cell["in"] = [], name

    def end(tag):
        name = tag.rsplit(":", 1)[-1]
        if name in ("f", "v"):
            cell["in"] = None
        elif name == "c" and cell["f"] is not None and cell["row"] not in found:
            stored = cell["v"] is not None and (cell["type"] == "str" or "".join(cell["v"]).strip())
            if not stored:
                text = "".join(cell["f"]).strip()
                found[cell["row"]] = (cell["col"], f"={text}" if text else "a shared formula")

    def text(data):
        if cell["in"]:
            cell[cell["in"]].append(data)

    parser = expat.ParserCreate()  # expat >= 2.4 refuses entity-expansion bombs; openpyxl parses with it too
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    with archive.open(member) as source:
        parser.ParseFile(source)
    return found


def _formula_problems(path: Path, worksheet) -> dict[int, tuple[int, str]]:
    member = getattr(worksheet, "_worksheet_path", None)  # openpyxl's read-only sheets know their zip member
    if member is None:
        return {}
    with zipfile.ZipFile(path) as archive:
        return _uncalculated_formulas(archive, member) if _has_formulas(archive, member) else {}


def _xlsx_header(rows, contract: Contract, path: Path) -> tuple[list[str], list[str | None]]:
    header_cells = list(next(rows, None) or ())
    while header_cells and header_cells[-1] is None:
        header_cells.pop()
    if not header_cells:
        raise FileDropError(path, "has no header row")
    header = ["" if h is None else str(h) for h in header_cells]
    return header, _kinds(map_headers(header, contract, path), contract)


def _xlsx_columns(rows, header, kinds, formulas, contract, path):
    """The sheet's data rows as text columns, and a problem for each row holding a formula with no value."""
    from openpyxl.utils import get_column_letter

    names = map_headers(header, contract, path)
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in header]
    problems = []
    for number, row in enumerate(rows, start=2):  # with dimensions reset, the nth row read is sheet row n
        formula = formulas.get(number)
        if formula is None and all(v is None or v == "" for v in row):
            continue
        if any(v is not None for v in row[width:]) or (formula and formula[0] > width):
            raise FileDropError(path, f"row {number}: has values beyond the {width} header columns")
        cells = list(row[:width]) + [None] * (width - len(row))
        if formula:
            column, text = formula
            reason = (
                f"formula with no cached value ({text}) in cell {get_column_letter(column)}{number}; open and "
                "save the workbook in Excel so the value is stored"
            )
            problems.append({"row": len(columns[0]), "field": names[column - 1], "reason": reason})
        for values, value, kind in zip(columns, cells, kinds, strict=True):
            values.append(render_cell(value, kind))
    return columns, problems


def _read_xlsx(path: Path, contract: Contract) -> tuple[list[str], pa.Table, list[dict]]:
    """The first sheet as text columns, plus the cells that cannot be trusted (formulas never calculated).

    Read-only openpyxl trusts the sheet's `<dimension ref>`, which some writers get wrong: rows and columns
    past it would be dropped without a word, so the dimensions are reset and the sheet read to its end."""
    import pyarrow as pa
    from openpyxl import load_workbook

    _check_zip(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl errors alike mean the workbook is unusable
        raise FileDropError(path, f"is not a readable XLSX workbook ({type(error).__name__}: {error})") from None
    try:
        if not workbook.worksheets:
            raise FileDropError(path, "workbook has no worksheets")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        formulas = _formula_problems(path, sheet)
        rows = sheet.iter_rows(values_only=True)
        header, kinds = _xlsx_header(rows, contract, path)
        columns, problems = _xlsx_columns(rows, header, kinds, formulas, contract, path)
    except FileDropError:
        raise
    except Exception as error:
        raise FileDropError(path, f"is not a readable XLSX workbook ({type(error).__name__}: {error})") from None
    finally:
        workbook.close()
    if len(problems) > MAX_CELL_PROBLEM_ROWS:
        raise FileDropError(
            path,
            f"{len(problems):,} rows hold formulas with no cached value (first: {problems[0]['reason']}): the "
            "workbook was saved by a program that does not calculate formulas",
        )
    arrays = [pa.array(column, pa.string()) for column in columns]
    return header, pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(header))]), problems


# ------------------------------------------------------------------------------------------ Parquet
def _as_text(column, kind: str | None):
    """One Arrow column as text: ISO dates, true/false, plain numbers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_timestamp(column.type):
        fmt = "%Y-%m-%dT%H:%M:%S%z" if column.type.tz else "%Y-%m-%dT%H:%M:%S"
        if kind != "timestamp" and not column.type.tz:
            midnight = pc.all(pc.equal(pc.cast(column, pa.date32()).cast(column.type), column)).as_py()
            fmt = "%Y-%m-%d" if midnight in (True, None) else fmt
        return pc.strftime(column, format=fmt)
    if pa.types.is_nested(column.type):
        raise TypeError(f"nested type {column.type} is not supported")
    text = column.cast(pa.string())
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _parquet_batches(path: Path, contract: Contract, batch_rows: int) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        # The file is landed whole (duplicates are found across all of it), so the memory it unpacks to is
        # bounded: by its footer's page sizes before anything is decoded, then by the text it becomes (a
        # dictionary-encoded column's pages hide how large its values are), a batch at a time.
        limit = settings.drop_max_uncompressed_bytes()
        unpacked = sum(parquet.metadata.row_group(i).total_byte_size for i in range(parquet.num_row_groups))
        _check_unpacked(path, unpacked, limit)
        names = map_headers(list(parquet.schema_arrow.names), contract, path)
        kinds = _kinds(names, contract)
        schema = pa.schema([pa.field(n, pa.string()) for n in names])
        emitted, decoded = False, 0
        for batch in parquet.iter_batches(batch_size=batch_rows):
            arrays = [_as_text(batch.column(i), kinds[i]) for i in range(batch.num_columns)]
            decoded += sum(array.nbytes for array in arrays)
            _check_unpacked(path, decoded, limit, so_far=True)
            emitted = True
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        if not emitted:
            yield pa.RecordBatch.from_arrays([pa.array([], pa.string()) for _ in names], schema=schema)
    except FileDropError:
        raise
    except (pa.ArrowException, OSError, TypeError, ValueError) as error:
        raise FileDropError(path, f"is not a readable Parquet file ({type(error).__name__}: {error})") from None


def _check_unpacked(path: Path, size: int, limit: int, so_far: bool = False) -> None:
    if size > limit:
        raise FileDropError(
            path,
            f"unpacks to {'more than ' if so_far else ''}{_size(size)}, over the limit of {_size(limit)} "
            "(DROP_MAX_UNCOMPRESSED_BYTES): ask the provider to split it, or raise the limit",
        )


# ------------------------------------------------------------------------------------------ entry points
def _check_file(path: Path) -> str:
    path = Path(path)
    if path.is_symlink():  # `survey` refuses links; this catches one swapped in after it looked
        raise FileDropError(path, "is a symbolic link: links are never followed in drop folders")
    if not path.is_file():
        raise FileDropError(path, "file does not exist")
    try:
        size = path.stat().st_size
    except OSError as error:  # gone or unreadable since it was listed
        raise FileDropError(path, f"could not be read: {error.strerror or error}") from None
    if size == 0:
        raise FileDropError(path, "is empty (0 bytes)")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise FileDropError(path, f"unsupported file type {path.suffix!r}; expected .csv, .xlsx or .parquet")
    limit = settings.drop_max_bytes()
    if fmt != "parquet" and size > limit:  # CSV and XLSX are read whole; Parquet's unpacked size is checked
        raise FileDropError(
            path,
            f"is {_size(size)}, over the limit of {_size(limit)} for CSV and XLSX drop files (DROP_MAX_BYTES): "
            "ask the provider to split it or send Parquet, or raise the limit",
        )
    return fmt


def _size(count: int) -> str:
    """A byte count for people: '3.5 MiB (3,670,016 bytes)'."""
    scaled, unit = float(count), "bytes"
    for larger in ("KiB", "MiB", "GiB"):
        if scaled < 1024:
            break
        scaled, unit = scaled / 1024, larger
    return f"{count:,} bytes" if unit == "bytes" else f"{scaled:,.1f} {unit} ({count:,} bytes)"


def _relabel(header: list[str], table, contract: Contract, path: Path):
    import pyarrow as pa

    names = map_headers(header, contract, path)
    return pa.table(
        [table.column(i).cast(pa.string()) for i in range(table.num_columns)],
        schema=pa.schema([pa.field(n, pa.string()) for n in names]),
    )


def iter_drop_batches(path: Path, contract: Contract, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The file as record batches of text columns named by the contract; Parquet is read a batch at a time."""
    path = Path(path)
    fmt = _check_file(path)
    if fmt == "parquet":
        yield from _parquet_batches(path, contract, batch_rows)
        return
    problems = []
    if fmt == "csv":
        try:
            data = path.read_bytes()
        except OSError as error:  # no read permission (an upload's umask), an I/O error, gone since listed
            raise FileDropError(path, f"could not be read: {error.strerror or error}") from None
        header, table = _read_csv(path, data)
    else:
        header, table, problems = _read_xlsx(path, contract)
    table = _relabel(header, table, contract, path)
    if problems:  # the loader quarantines these rows with these reasons (the cells themselves stay null)
        table = table.replace_schema_metadata({CELL_PROBLEMS_KEY: json.dumps(problems).encode()})
    batches = table.combine_chunks().to_batches(max_chunksize=batch_rows)
    if not batches:
        import pyarrow as pa

        batches = [pa.RecordBatch.from_arrays([pa.array([], pa.string())] * len(table.schema), schema=table.schema)]
    yield from batches


def read_drop_file(path: Path, contract: Contract) -> pa.Table:
    """The whole file as one table, every column ``pa.string()``, named by the contract where it can be.

    Cells read as null that must not be taken as empty (an XLSX formula never calculated) are listed in the
    schema metadata under CELL_PROBLEMS_KEY: a JSON list of {"row": 0-based row, "field", "reason"}."""
    import pyarrow as pa

    batches = list(iter_drop_batches(path, contract))
    return pa.Table.from_batches(batches, schema=batches[0].schema)
