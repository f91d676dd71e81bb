"""Read an XLSX drop file: its first sheet as text columns, refusing zip bombs, and flagging the cells of
formulas that were never calculated (openpyxl reads them as empty)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.parsers import expat

import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from probation_evidence import settings
from probation_evidence.sources.connectors.drop_cells import (
    FileDropError,
    field_kinds,
    map_headers,
    render_cell,
    size_text,
)
from probation_evidence.sources.contracts.base import Contract

#: An XLSX member bigger than this that expands more than ZIP_MAX_RATIO times is a zip bomb (the ratio is
#: Apache POI's default guard; real sheets compress 5 to 30 times).
ZIP_RATIO_MIN_BYTES = 16 * 1024 * 1024
ZIP_MAX_RATIO = 100
#: More rows than this with a formula but no stored value: the whole workbook was never calculated.
MAX_CELL_PROBLEM_ROWS = 1_000


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
            f"unpacks to {size_text(total)}, over the limit of {size_text(limit)} (DROP_MAX_UNCOMPRESSED_BYTES): "
            "refused unopened, as a zip bomb or a workbook too big to read safely",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ZIP_RATIO_MIN_BYTES and ratio > ZIP_MAX_RATIO:
            raise FileDropError(
                path,
                f"member {member.filename} expands {ratio:,.0f} times ({size_text(member.compress_size)} to "
                f"{size_text(member.file_size)}; over {ZIP_MAX_RATIO}:1): refused unopened as a zip bomb",
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
    return header, field_kinds(map_headers(header, contract, path), contract)


def _xlsx_columns(rows, header, kinds, formulas, contract, path):
    """The sheet's data rows as text columns, and a problem for each row holding a formula with no value."""
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


def read_xlsx(path: Path, contract: Contract) -> tuple[list[str], pa.Table, list[dict]]:
    """The first sheet as text columns, plus the cells that cannot be trusted (formulas never calculated).

    Read-only openpyxl trusts the sheet's `<dimension ref>`, which some writers get wrong: rows and columns
    past it would be dropped without a word, so the dimensions are reset and the sheet read to its end."""
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
