"""A provider's XLSX from drop folder to warehouse: every row of a sheet whose dimension understates it is
landed, and a formula cell with no cached value is quarantined with that reason, not loaded as a null."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

from probation_evidence.sources import ingest

pytestmark = pytest.mark.warehouse

FAMILY, PROVIDER = "feedback", "N55"
RUN_DATE = date(2024, 6, 30)  # periods of their own: other tests share this database
HEADER = ["Complaint Ref", "Region", "PDU", "Type", "Date Received", "Date Responded", "Quarter End"]


def _workbook(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in [HEADER, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    # The sheet claims to end at row 3, as some writers get it wrong: read-only openpyxl would stop there.
    source, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:G3"/>', content)
            target.writestr(info, content)
    return out.getvalue()


def test_every_row_lands_and_an_uncalculated_formula_is_quarantined_with_its_reason(warehouse_url, conn, tmp_path):
    rows = [
        [f"CMP-{n}", PROVIDER, "N55-01", "communication", date(2024, 5, 2), date(2024, 5, 20), date(2024, 6, 30)]
        for n in range(8)
    ]
    rows[4][4] = "=DATE(2024,5,2)"  # never calculated: openpyxl stores no value for it
    folder = tmp_path / "drops" / FAMILY / PROVIDER
    folder.mkdir(parents=True)
    path = folder / "complaints_20240630.xlsx"
    path.write_bytes(_workbook(rows))
    os.utime(path, (time.time() - 3600,) * 2)

    extracted = ingest.extract_files(FAMILY, PROVIDER, RUN_DATE, drops=tmp_path / "drops", root=tmp_path / "land")
    loaded = ingest.load_extracted(warehouse_url.url(), extracted, root=tmp_path / "land")

    assert loaded["errors"] == []
    (result,) = loaded["results"]
    assert (result["rows_landed"], result["rows_loaded"], result["rows_quarantined"]) == (8, 7, 1)
    quarantined = conn.execute(
        "select row_number, field, reason from audit.quarantine where batch_id = %s", [result["batch_id"]]
    ).fetchall()
    ((row_number, field, reason),) = quarantined
    assert (row_number, field) == (5, "received_date")  # the fifth data row, as the loader numbers rows
    assert (
        "received_date: formula with no cached value (=DATE(2024,5,2)) in cell E6; open and save the workbook in "
        "Excel so the value is stored" in reason
    )
    loaded_ids = conn.execute(
        "select complaint_id from raw.feedback_complaints where _batch_id = %s order by 1", [result["batch_id"]]
    ).fetchall()
    assert [r[0] for r in loaded_ids] == [f"CMP-{n}" for n in range(8) if n != 4]
