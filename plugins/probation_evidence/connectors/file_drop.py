"""Read the files providers drop: find them, then turn each into an all-text Arrow table for landing.

Providers drop one file per entity per period at ``<root>/<family>/<provider_id>/<entity>_<YYYYMMDD>.<ext>``
as CSV, XLSX or Parquet. Every column comes back as ``pa.string()``: parsing and validation belong to the
loader, which quarantines bad rows rather than losing them here. Headers are mapped to contract field names
through `normalise_header` and the fields' aliases; a header that matches nothing keeps its own name, so the
loader reports the schema drift by name. What cannot be read at all (empty, corrupt, undecodable, a CSV row
of the wrong width) raises `FileDropError` naming the file and the reason.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from probation_evidence.contracts.base import Contract, normalise_header

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
NAME_PATTERN = re.compile(r"^(?P<entity>[a-z0-9_]+)_(?P<period>\d{8})\.(?P<ext>csv|xlsx|parquet)$", re.IGNORECASE)
ENCODINGS = ("utf-8-sig", "cp1252")
#: C0 control characters other than tab, CR and LF (and DEL): their presence means the bytes are not text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DEFAULT_BATCH_ROWS = 50_000


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


def discover(root: Path, family: str, provider_id: str) -> list[DropFile]:
    """The provider's dropped files for a family, oldest period first; other names are skipped (logged)."""
    folder = Path(root) / family / provider_id
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith((".", "~$")):
            continue  # hidden, temporary and Office lock files
        match = NAME_PATTERN.match(path.name)
        if not match:
            log.warning("%s: not a drop file name (<entity>_<YYYYMMDD>.csv|xlsx|parquet); skipped", path)
            continue
        try:
            period = datetime.strptime(match["period"], "%Y%m%d").date()
        except ValueError:
            log.warning("%s: %s is not a date; skipped", path, match["period"])
            continue
        received_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        found.append(DropFile(match["entity"].lower(), period, path, received_at, FORMATS[path.suffix.lower()]))
    return sorted(found, key=lambda d: (d.entity, d.period, d.path.name))


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

    text, _ = decode_text(data, path)
    header = next(csv.reader(io.StringIO(text, newline="")), None)
    if not header or not any(h.strip() for h in header):
        raise FileDropError(path, "has no header row")
    invalid = []

    def on_invalid(row) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
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
    return header, table


# ------------------------------------------------------------------------------------------ XLSX
def _read_xlsx(path: Path, contract: Contract) -> tuple[list[str], pa.Table]:
    import pyarrow as pa
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl errors alike mean the workbook is unusable
        raise FileDropError(path, f"is not a readable XLSX workbook ({type(error).__name__}: {error})") from None
    try:
        if not workbook.worksheets:
            raise FileDropError(path, "workbook has no worksheets")
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header_cells = list(next(rows, None) or ())
        while header_cells and header_cells[-1] is None:
            header_cells.pop()
        if not header_cells:
            raise FileDropError(path, "has no header row")
        header = ["" if h is None else str(h) for h in header_cells]
        kinds = _kinds(map_headers(header, contract, path), contract)
        width = len(header)
        columns: list[list[str | None]] = [[] for _ in header]
        for number, row in enumerate(rows, start=2):
            if all(v is None or v == "" for v in row):
                continue
            if any(v is not None for v in row[width:]):
                raise FileDropError(path, f"row {number}: has values beyond the {width} header columns")
            cells = list(row[:width]) + [None] * (width - len(row))
            for column, value, kind in zip(columns, cells, kinds, strict=True):
                column.append(render_cell(value, kind))
    except FileDropError:
        raise
    except Exception as error:
        raise FileDropError(path, f"is not a readable XLSX workbook ({type(error).__name__}: {error})") from None
    finally:
        workbook.close()
    arrays = [pa.array(column, pa.string()) for column in columns]
    return header, pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(width)])


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
        names = map_headers(list(parquet.schema_arrow.names), contract, path)
        kinds = _kinds(names, contract)
        schema = pa.schema([pa.field(n, pa.string()) for n in names])
        emitted = False
        for batch in parquet.iter_batches(batch_size=batch_rows):
            arrays = [_as_text(batch.column(i), kinds[i]) for i in range(batch.num_columns)]
            emitted = True
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        if not emitted:
            yield pa.RecordBatch.from_arrays([pa.array([], pa.string()) for _ in names], schema=schema)
    except FileDropError:
        raise
    except (pa.ArrowException, OSError, TypeError, ValueError) as error:
        raise FileDropError(path, f"is not a readable Parquet file ({type(error).__name__}: {error})") from None


# ------------------------------------------------------------------------------------------ entry points
def _check_file(path: Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise FileDropError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise FileDropError(path, "is empty (0 bytes)")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise FileDropError(path, f"unsupported file type {path.suffix!r}; expected .csv, .xlsx or .parquet")
    return fmt


def _relabel(header: list[str], table, contract: Contract, path: Path):
    import pyarrow as pa

    names = map_headers(header, contract, path)
    return pa.table(
        [table.column(i).cast(pa.string()) for i in range(table.num_columns)],
        schema=pa.schema([pa.field(n, pa.string()) for n in names]),
    )


def iter_drop_batches(path: Path, contract: Contract, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The file as record batches of text columns named by the contract; Parquet is streamed."""
    path = Path(path)
    fmt = _check_file(path)
    if fmt == "parquet":
        yield from _parquet_batches(path, contract, batch_rows)
        return
    if fmt == "csv":
        header, table = _read_csv(path, path.read_bytes())
    else:
        header, table = _read_xlsx(path, contract)
    table = _relabel(header, table, contract, path)
    batches = table.combine_chunks().to_batches(max_chunksize=batch_rows)
    if not batches:
        import pyarrow as pa

        batches = [pa.RecordBatch.from_arrays([pa.array([], pa.string())] * len(table.schema), schema=table.schema)]
    yield from batches


def read_drop_file(path: Path, contract: Contract) -> pa.Table:
    """The whole file as one table, every column ``pa.string()``, named by the contract where it can be."""
    import pyarrow as pa

    batches = list(iter_drop_batches(path, contract))
    return pa.Table.from_batches(batches, schema=batches[0].schema)
