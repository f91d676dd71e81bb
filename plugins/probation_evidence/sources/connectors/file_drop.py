"""Read a dropped file (CSV, XLSX or Parquet) into an all-text Arrow table for landing.

Every column comes back as ``pa.string()``: parsing and validation belong to the loader, which quarantines
bad rows rather than losing them here. Headers are mapped to contract field names through `normalise_header`
and the fields' aliases; a header that matches nothing keeps its own name, so the loader reports the schema
drift by name. What cannot be read at all (empty, corrupt, undecodable, a CSV row of the wrong width, a file
too big to read safely, a zip bomb) raises `FileDropError` naming the file and the reason. Finding the files
is `drop_folders`; the XLSX reader is `drop_xlsx`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from probation_evidence import settings
from probation_evidence.sources.connectors.drop_cells import FileDropError, field_kinds, map_headers, size_text
from probation_evidence.sources.connectors.drop_folders import FORMATS
from probation_evidence.sources.connectors.drop_xlsx import read_xlsx
from probation_evidence.sources.contracts.base import Contract
from probation_evidence.sources.validation import CELL_PROBLEMS_KEY

ENCODINGS = ("utf-8-sig", "cp1252")
#: C0 control characters other than tab, CR and LF (and DEL): their presence means the bytes are not text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DEFAULT_BATCH_ROWS = 50_000
#: The longest CSV field read (Python's csv module's own default limit): a longer one is almost always an
#: unbalanced quote that swallowed the rest of the file, or not a CSV at all.
MAX_FIELD_CHARS = 131_072


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


def _as_text(column, kind: str | None):
    """One Arrow column as text: ISO dates, true/false, plain numbers."""
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
    try:
        parquet = pq.ParquetFile(path)
        # The file is landed whole (duplicates are found across all of it), so the memory it unpacks to is
        # bounded: by its footer's page sizes before anything is decoded, then by the text it becomes (a
        # dictionary-encoded column's pages hide how large its values are), a batch at a time.
        limit = settings.drop_max_uncompressed_bytes()
        unpacked = sum(parquet.metadata.row_group(i).total_byte_size for i in range(parquet.num_row_groups))
        _check_unpacked(path, unpacked, limit)
        names = map_headers(list(parquet.schema_arrow.names), contract, path)
        kinds = field_kinds(names, contract)
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
            f"unpacks to {'more than ' if so_far else ''}{size_text(size)}, over the limit of {size_text(limit)} "
            "(DROP_MAX_UNCOMPRESSED_BYTES): ask the provider to split it, or raise the limit",
        )


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
            f"is {size_text(size)}, over the limit of {size_text(limit)} for CSV and XLSX drop files (DROP_MAX_BYTES): "
            "ask the provider to split it or send Parquet, or raise the limit",
        )
    return fmt


def _relabel(header: list[str], table, contract: Contract, path: Path):
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
    problems: list[dict] = []
    if fmt == "csv":
        try:
            data = path.read_bytes()
        except OSError as error:  # no read permission (an upload's umask), an I/O error, gone since listed
            raise FileDropError(path, f"could not be read: {error.strerror or error}") from None
        header, table = _read_csv(path, data)
    else:
        header, table, problems = read_xlsx(path, contract)
    table = _relabel(header, table, contract, path)
    if problems:  # the loader quarantines these rows with these reasons (the cells themselves stay null)
        table = table.replace_schema_metadata({CELL_PROBLEMS_KEY: json.dumps(problems).encode()})
    batches = table.combine_chunks().to_batches(max_chunksize=batch_rows)
    if not batches:
        batches = [pa.RecordBatch.from_arrays([pa.array([], pa.string())] * len(table.schema), schema=table.schema)]
    yield from batches


def read_drop_file(path: Path, contract: Contract) -> pa.Table:
    """The whole file as one table, every column ``pa.string()``, named by the contract where it can be.

    Cells read as null that must not be taken as empty (an XLSX formula never calculated) are listed in the
    schema metadata under CELL_PROBLEMS_KEY: a JSON list of {"row": 0-based row, "field", "reason"}."""
    batches = list(iter_drop_batches(path, contract))
    return pa.Table.from_batches(batches, schema=batches[0].schema)
