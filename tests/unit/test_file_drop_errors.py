"""The file side's bad-input corpus: each unreadable file fails with a message naming it; what is readable
but off-contract (extra or missing columns) is read, so the loader can report the drift by name."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from probation_evidence import settings
from probation_evidence.sources.connectors.drop_cells import FileDropError
from probation_evidence.sources.connectors.file_drop import iter_drop_batches, read_drop_file
from probation_evidence.sources.contracts import get_contract
from probation_evidence.sources.validation import CELL_PROBLEMS_KEY, SchemaDriftError, check_schema

COMPLAINTS = get_contract("feedback", "complaints")
BOARDS = get_contract("governance", "board_meetings")
HEADER = "Complaint Ref,Region,PDU,Type,Date Received,Date Responded,Quarter End\n"
ROWS = [
    "CMP-1,N07,N07-01,communication,2026-07-02,2026-07-20,2026-09-30\n",
    "CMP-2,N07,N07-02,other,2026-08-14,,2026-09-30\n",
    "CMP-3,N07,N07-03,accommodation,2026-09-01,2026-09-29,2026-09-30\n",
]


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _fails(path, contract, *words):
    with pytest.raises(FileDropError) as raised:
        read_drop_file(path, contract)
    message = str(raised.value)
    assert str(path) in message
    for word in words:
        assert word.lower() in message.lower(), message
    return message


def test_good_csv_maps_aliases_and_reads_everything_as_text(tmp_path):
    path = _write(tmp_path, "complaints_20260930.csv", (HEADER + "".join(ROWS)).encode())
    table = read_drop_file(path, COMPLAINTS)
    assert table.column_names == COMPLAINTS.column_names
    assert all(t == pa.string() for t in table.schema.types)
    assert table.column("responded_date").to_pylist() == ["2026-07-20", None, "2026-09-29"]
    check_schema(table.schema, COMPLAINTS, path)  # no drift


def test_truncated_csv_names_the_line(tmp_path):
    text = HEADER + "".join(ROWS)
    path = _write(tmp_path, "complaints_20260930.csv", text[: len(text) - 25].encode())
    _fails(path, COMPLAINTS, "line 4", "expected 7 fields", "found 5")


def test_row_with_too_many_fields_names_the_line(tmp_path):
    rows = [ROWS[0], ROWS[1].rstrip("\n") + ",extra\n", ROWS[2]]
    _fails(_write(tmp_path, "complaints_20260930.csv", (HEADER + "".join(rows)).encode()), COMPLAINTS, "line 3")


def test_unterminated_quote_is_reported(tmp_path):
    text = HEADER + ROWS[0] + 'CMP-9,N07,N07-01,"other,2026-07-02,,2026-09-30\n'
    _fails(_write(tmp_path, "complaints_20260930.csv", text.encode()), COMPLAINTS, "malformed CSV")


def test_utf16_is_refused(tmp_path):
    path = _write(tmp_path, "complaints_20260930.csv", (HEADER + ROWS[0]).encode("utf-16"))
    _fails(path, COMPLAINTS, "UTF-16")


def test_utf16_without_bom_is_refused(tmp_path):
    path = _write(tmp_path, "complaints_20260930.csv", (HEADER + ROWS[0]).encode("utf-16-le"))
    _fails(path, COMPLAINTS, "not text")


def test_random_bytes_are_refused(tmp_path):
    data = bytes((i * 97 + 13) % 256 for i in range(4096))
    _fails(_write(tmp_path, "complaints_20260930.csv", data), COMPLAINTS)


def test_bytes_neither_utf8_nor_cp1252_are_refused(tmp_path):
    path = _write(tmp_path, "complaints_20260930.csv", HEADER.encode() + b"CMP-1,N07,N07-01,\x81\x8d,x,,y\n")
    _fails(path, COMPLAINTS, "cannot be decoded", "Windows-1252")


def test_empty_file(tmp_path):
    for name in ("complaints_20260930.csv", "complaints_20260930.xlsx", "complaints_20260930.parquet"):
        _fails(_write(tmp_path, name, b""), COMPLAINTS, "empty")


def test_blank_text_file_has_no_header(tmp_path):
    _fails(_write(tmp_path, "complaints_20260930.csv", b"\n\n"), COMPLAINTS, "no header")


def test_header_only_is_zero_rows_not_an_error(tmp_path):
    table = read_drop_file(_write(tmp_path, "complaints_20260930.csv", HEADER.encode()), COMPLAINTS)
    assert table.num_rows == 0
    assert table.column_names == COMPLAINTS.column_names
    assert all(t == pa.string() for t in table.schema.types)


def test_extra_column_is_kept_under_its_own_name(tmp_path):
    text = HEADER.rstrip("\n") + ",Handler Notes\n" + "".join(r.rstrip("\n") + ",called back\n" for r in ROWS)
    path = _write(tmp_path, "complaints_20260930.csv", text.encode())
    table = read_drop_file(path, COMPLAINTS)
    assert table.column_names == [*COMPLAINTS.column_names, "Handler Notes"]
    assert table.column("Handler Notes").to_pylist() == ["called back"] * 3
    with pytest.raises(SchemaDriftError, match="unexpected column 'Handler Notes'"):
        check_schema(table.schema, COMPLAINTS, path)


def test_missing_column_is_read_and_left_for_the_loader_to_report(tmp_path):
    header = HEADER.replace(",Type", "")
    rows = [",".join(r.split(",")[:3] + r.split(",")[4:]) for r in ROWS]
    path = _write(tmp_path, "complaints_20260930.csv", (header + "".join(rows)).encode())
    table = read_drop_file(path, COMPLAINTS)
    assert "category" not in table.column_names
    with pytest.raises(SchemaDriftError, match="missing column 'category'"):
        check_schema(table.schema, COMPLAINTS, path)


def test_two_headers_for_one_field_are_refused(tmp_path):
    header = "Complaint ID,Complaint Ref,Region\n"
    _fails(_write(tmp_path, "complaints_20260930.csv", (header + "a,b,N07\n").encode()), COMPLAINTS, "both map")


def test_bom_is_stripped_from_the_first_header(tmp_path):
    path = _write(tmp_path, "complaints_20260930.csv", b"\xef\xbb\xbf" + (HEADER + ROWS[0]).encode())
    table = read_drop_file(path, COMPLAINTS)
    assert table.column_names[0] == "complaint_id"
    assert table.column("complaint_id").to_pylist() == ["CMP-1"]


def test_cp1252_text_is_decoded(tmp_path):
    text = (
        "Meeting ID,Region,Board,Meeting Date,Attended,As At\r\n"
        "M1,N07,Café board – Camden,2026-08-01,Yes,2026-09-30\r\n"
    )
    table = read_drop_file(_write(tmp_path, "board_meetings_20260930.csv", text.encode("cp1252")), BOARDS)
    assert table.column("board_name").to_pylist() == ["Café board – Camden"]
    assert table.column("is_attended").to_pylist() == ["Yes"]


def test_utf8_wins_over_cp1252_when_both_decode(tmp_path):
    text = "Meeting ID,Region,Board,Meeting Date,Attended,As At\nM1,N07,Café,2026-08-01,Y,2026-09-30\n"
    table = read_drop_file(_write(tmp_path, "board_meetings_20260930.csv", text.encode("utf-8")), BOARDS)
    assert table.column("board_name").to_pylist() == ["Café"]


def test_quoted_commas_and_newlines_survive(tmp_path):
    text = (
        "meeting_id,provider_id,board_name,meeting_date,is_attended,quarter_end_date\n"
        'M1,N07,"Board, with\nnewline",2026-08-01,true,2026-09-30\n'
    )
    table = read_drop_file(_write(tmp_path, "board_meetings_20260930.csv", text.encode()), BOARDS)
    assert table.column("board_name").to_pylist() == ["Board, with\nnewline"]


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_become_iso_and_plain_text(tmp_path):
    data = _xlsx([
        ["MEETING ID", "Region", "Board Name", "Date of Meeting", "Represented", "Snapshot Date", "Count"],
        ["M1", "N07", "LCJB", datetime(2026, 8, 1), True, date(2026, 9, 30), 3],
        ["M2", "N07", None, datetime(2026, 8, 2), False, date(2026, 9, 30), 2.5],
        [None, None, None, None, None, None, None],
    ])  # fmt: skip
    table = read_drop_file(_write(tmp_path, "board_meetings_20260930.xlsx", data), BOARDS)
    assert table.column_names == [*BOARDS.column_names, "Count"]
    assert table.to_pylist() == [
        {"meeting_id": "M1", "provider_id": "N07", "board_name": "LCJB", "meeting_date": "2026-08-01",
         "is_attended": "true", "quarter_end_date": "2026-09-30", "Count": "3"},
        {"meeting_id": "M2", "provider_id": "N07", "board_name": None, "meeting_date": "2026-08-02",
         "is_attended": "false", "quarter_end_date": "2026-09-30", "Count": "2.5"},
    ]  # fmt: skip


def test_xlsx_header_only_is_zero_rows(tmp_path):
    data = _xlsx([["meeting_id", "provider_id"]])
    table = read_drop_file(_write(tmp_path, "board_meetings_20260930.xlsx", data), BOARDS)
    assert (table.num_rows, table.column_names) == (0, ["meeting_id", "provider_id"])


def test_corrupt_xlsx(tmp_path):
    data = _xlsx([["meeting_id"], ["M1"]])
    _fails(_write(tmp_path, "board_meetings_20260930.xlsx", data[: len(data) // 2]), BOARDS, "XLSX")
    _fails(_write(tmp_path, "board_meetings_20260630.xlsx", b"PK\x03\x04 not really a zip"), BOARDS, "XLSX")


def test_xlsx_with_broken_sheet_xml(tmp_path):
    source = zipfile.ZipFile(io.BytesIO(_xlsx([["meeting_id"], ["M1"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]
            target.writestr(info, content)
    _fails(_write(tmp_path, "board_meetings_20260930.xlsx", out.getvalue()), BOARDS, "XLSX")


def test_parquet_columns_become_text(tmp_path):
    table = pa.table({
        "Meeting ID": ["M1", "M2"],
        "provider_id": pa.array(["N07", "N07"]).dictionary_encode(),
        "meeting_date": pa.array([date(2026, 8, 1), None], pa.date32()),
        "is_attended": [True, False],
        "quarter_end_date": pa.array([datetime(2026, 9, 30)] * 2, pa.timestamp("us")),
        "score": pa.array([1.0, 2.5]),
    })  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    path = _write(tmp_path, "board_meetings_20260930.parquet", buffer.getvalue())
    result = read_drop_file(path, BOARDS)
    assert all(t == pa.string() for t in result.schema.types)
    assert result.column_names == [
        "meeting_id",
        "provider_id",
        "meeting_date",
        "is_attended",
        "quarter_end_date",
        "score",
    ]
    assert result.to_pylist()[0] == {"meeting_id": "M1", "provider_id": "N07", "meeting_date": "2026-08-01",
                                     "is_attended": "true", "quarter_end_date": "2026-09-30", "score": "1"}  # fmt: skip
    assert result.column("meeting_date").to_pylist()[1] is None
    batches = list(iter_drop_batches(path, BOARDS, batch_rows=1))
    assert [b.num_rows for b in batches] == [1, 1]


def test_corrupt_parquet(tmp_path):
    buffer = io.BytesIO()
    pq.write_table(pa.table({"meeting_id": ["M1"] * 100}), buffer)
    data = buffer.getvalue()
    _fails(_write(tmp_path, "board_meetings_20260930.parquet", data[:-20]), BOARDS, "Parquet")
    _fails(_write(tmp_path, "board_meetings_20260630.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1"), BOARDS, "Parquet")
    _fails(_write(tmp_path, "board_meetings_20260331.parquet", b"meeting_id\nM1\n"), BOARDS, "Parquet")


def test_unknown_suffix_and_absent_file(tmp_path):
    _fails(_write(tmp_path, "board_meetings_20260930.txt", b"x"), BOARDS, "unsupported")
    _fails(tmp_path / "nope.csv", BOARDS, "does not exist")


# ------------------------------------------------------------------------------------------ issue 11
def _rewrite_sheet(data: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through `change` (bytes -> bytes)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(info, content)
    return out.getvalue()


def _problems(table) -> list[dict]:
    metadata = table.schema.metadata or {}
    return json.loads(metadata.get(CELL_PROBLEMS_KEY, b"[]"))


BOARD_HEADER = ["meeting_id", "provider_id", "board_name", "meeting_date", "is_attended", "quarter_end_date"]


def _board_rows(count: int) -> list[list]:
    return [[f"M{i}", "N07", f"Board {i}", date(2026, 8, 1), True, date(2026, 9, 30)] for i in range(1, count + 1)]


def test_xlsx_whose_dimension_understates_its_rows_and_columns_loads_every_cell(tmp_path):
    data = _xlsx([[*BOARD_HEADER, "Count"], *[[*row, i] for i, row in enumerate(_board_rows(6))]])
    # The writer claims the sheet ends at D3: openpyxl's read-only mode would stop there.
    lying = _rewrite_sheet(data, lambda xml: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:D3"/>', xml))
    assert b'<dimension ref="A1:D3"/>' in zipfile.ZipFile(io.BytesIO(lying)).read("xl/worksheets/sheet1.xml")
    table = read_drop_file(_write(tmp_path, "board_meetings_20260930.xlsx", lying), BOARDS)
    assert table.num_rows == 6
    assert table.column_names == [*BOARD_HEADER, "Count"]
    assert table.column("meeting_id").to_pylist() == [f"M{i}" for i in range(1, 7)]
    assert table.column("Count").to_pylist() == [str(i) for i in range(6)]
    assert _problems(table) == []


def test_formula_with_no_cached_value_is_a_named_cell_problem_not_a_silent_null(tmp_path):
    rows = _board_rows(4)
    rows[1][2] = "=SUM(B2:B4)"  # openpyxl writes formulas without a calculated value, as some export tools do
    rows[3][2] = '=IF(TRUE,"","x")'  # given a stored value (the empty string) below: nothing wrong with it
    calculated = b'<c r="C5" t="str"><f>IF(TRUE,"","x")</f><v></v></c>'
    data = _rewrite_sheet(
        _xlsx([BOARD_HEADER, *rows]), lambda xml: xml.replace(b'<c r="C5"><f>IF(TRUE,"","x")</f><v /></c>', calculated)
    )
    assert calculated in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    table = read_drop_file(_write(tmp_path, "board_meetings_20260930.xlsx", data), BOARDS)
    assert table.num_rows == 4
    assert table.column("board_name").to_pylist() == ["Board 1", None, "Board 3", None]  # the cell stays null
    assert _problems(table) == [
        {
            "row": 1,
            "field": "board_name",
            "reason": "formula with no cached value (=SUM(B2:B4)) in cell C3; open and save the workbook in Excel "
            "so the value is stored",
        }
    ]
    batches = list(iter_drop_batches(tmp_path / "board_meetings_20260930.xlsx", BOARDS))
    assert json.loads(batches[0].schema.metadata[CELL_PROBLEMS_KEY]) == _problems(table)


def test_a_row_of_nothing_but_uncalculated_formulas_is_not_skipped_as_blank(tmp_path):
    rows = [*_board_rows(2), ["=A2", None, None, None, None, None]]
    table = read_drop_file(_write(tmp_path, "board_meetings_20260930.xlsx", _xlsx([BOARD_HEADER, *rows])), BOARDS)
    assert table.num_rows == 3
    assert [(p["row"], p["field"]) for p in _problems(table)] == [(2, "meeting_id")]


def test_a_workbook_never_calculated_is_refused_whole(tmp_path):
    rows = [[f'="M{i}"', "N07", "Board", date(2026, 8, 1), True, date(2026, 9, 30)] for i in range(1_001)]
    path = _write(tmp_path, "board_meetings_20260930.xlsx", _xlsx([BOARD_HEADER, *rows]))
    _fails(path, BOARDS, "1,001 rows hold formulas with no cached value", "does not calculate")


def test_formulas_with_cached_values_are_read_as_their_values(tmp_path):
    rows = _board_rows(2)
    rows[0][2] = '=UPPER("board")'
    calculated = b'<c r="C2" t="str"><f>UPPER("board")</f><v>BOARD</v></c>'
    data = _rewrite_sheet(
        _xlsx([BOARD_HEADER, *rows]), lambda xml: xml.replace(b'<c r="C2"><f>UPPER("board")</f><v /></c>', calculated)
    )
    assert calculated in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    table = read_drop_file(_write(tmp_path, "board_meetings_20260930.xlsx", data), BOARDS)
    assert table.column("board_name").to_pylist() == ["BOARD", "Board 2"]
    assert _problems(table) == []


def test_csv_and_xlsx_over_the_size_limit_are_refused_with_size_and_limit(tmp_path):
    csv_path = _write(tmp_path, "complaints_20260930.csv", (HEADER + "".join(ROWS) * 20).encode())
    xlsx_path = _write(tmp_path, "board_meetings_20260930.xlsx", _xlsx([BOARD_HEADER, *_board_rows(50)]))
    with settings.environment(DROP_MAX_BYTES="1024"):
        _fails(
            csv_path,
            COMPLAINTS,
            f"{csv_path.stat().st_size:,} bytes",
            "limit of 1.0 KiB (1,024 bytes)",
            "DROP_MAX_BYTES",
        )
        _fails(xlsx_path, BOARDS, f"{xlsx_path.stat().st_size:,} bytes", "limit of 1.0 KiB")
    assert read_drop_file(csv_path, COMPLAINTS).num_rows == 60  # under the default limit


def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return out.getvalue()


def test_xlsx_zip_bomb_is_refused_unopened(tmp_path):
    bomb = _with_member(_xlsx([BOARD_HEADER, *_board_rows(2)]), "xl/media/image1.bin", bytes(40 * 1024 * 1024))
    path = _write(tmp_path, "board_meetings_20260930.xlsx", bomb)
    assert path.stat().st_size < 200_000
    _fails(path, BOARDS, "xl/media/image1.bin expands", "zip bomb", "100:1")


def test_xlsx_unpacking_to_more_than_the_limit_is_refused(tmp_path):
    path = _write(tmp_path, "board_meetings_20260930.xlsx", _xlsx([BOARD_HEADER, *_board_rows(200)]))
    with settings.environment(DROP_MAX_UNCOMPRESSED_BYTES="10000"):
        _fails(path, BOARDS, "unpacks to", "limit of 9.8 KiB (10,000 bytes)", "DROP_MAX_UNCOMPRESSED_BYTES")
    assert read_drop_file(path, BOARDS).num_rows == 200


def test_csv_with_one_enormous_field_names_row_and_column(tmp_path):
    # An unbalanced quote swallows the lines after it into one field: rows would vanish into a cell.
    lines = [f"CMP-{i},N07,N07-01,other,2026-07-02,,2026-09-30\n" for i in range(4, 30_000)]
    text = HEADER + ROWS[0] + 'CMP-2,N07,N07-02,"other\n' + "".join(lines) + 'x",2026-08-14,,2026-09-30\n'
    _fails(_write(tmp_path, "complaints_20260930.csv", text.encode()), COMPLAINTS, "data row 2", "'Type'", "quote")


def test_a_symbolic_link_is_refused_at_read_time_too(tmp_path):
    real = _write(tmp_path, "real.csv", (HEADER + ROWS[0]).encode())
    link = tmp_path / "complaints_20260930.csv"
    link.symlink_to(real)  # swapped in after the folder was surveyed
    _fails(link, COMPLAINTS, "symbolic link")


def test_parquet_unpacking_to_more_than_the_limit_is_refused_unread(tmp_path):
    """Parquet is landed whole, so a small file holding a huge table (one value repeated compresses to
    almost nothing) is bounded by its unpacked size, read from its footer before any row is decoded."""
    path = tmp_path / "complaints_20260930.parquet"
    pq.write_table(pa.table({"Complaint Ref": ["CMP-1" * 200] * 20_000}), path, compression="zstd")
    assert path.stat().st_size < 50_000
    with settings.environment(DROP_MAX_UNCOMPRESSED_BYTES=str(1024 * 1024)):
        _fails(path, COMPLAINTS, "unpacks to", "limit of 1.0 MiB", "DROP_MAX_UNCOMPRESSED_BYTES")
    assert read_drop_file(path, COMPLAINTS).num_rows == 20_000  # under the default limit


def test_a_csv_that_cannot_be_read_is_a_named_file_error_not_a_crash(tmp_path, monkeypatch):
    """An unreadable CSV (no read permission after an upload's umask, an I/O error) fails its slice with a
    FileDropError, which the ingest records; any other exception would end the provider's whole task.
    Root reads any file whatever its mode, so the refusal is raised where the OS would raise it."""
    from pathlib import Path

    path = _write(tmp_path, "complaints_20260930.csv", (HEADER + ROWS[0]).encode())
    real = Path.read_bytes

    def denied(self):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    _fails(path, COMPLAINTS, "could not be read: Permission denied")
