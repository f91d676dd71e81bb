"""The loader against a real PostgreSQL: nothing lost, bad rows quarantined with reasons, reruns idempotent."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import date, timedelta

import psycopg
import pyarrow as pa
import pytest

from probation_evidence import settings, warehouse
from probation_evidence.sources.contracts import get_contract
from probation_evidence.sources.contracts.staffing import STAFF as STAFFING_STAFF
from probation_evidence.sources.landing import land_table
from probation_evidence.sources.loading import ensure_raw_table, load_landed_file
from probation_evidence.sources.validation import SchemaDriftError

pytestmark = pytest.mark.warehouse

PERIOD = date(2025, 3, 31)  # a period of its own: the end-to-end tests share this database
PROVIDER = "N07"


def staff_table(rows: list[dict]) -> pa.Table:
    columns = STAFFING_STAFF.column_names
    return pa.table(
        {c: pa.array([r.get(c) for r in rows], pa.float64() if c == "fte" else pa.string()) for c in columns}
    )


def good_row(i: int, **overrides) -> dict:
    row = {
        "staff_id": f"STF-{i:012x}",
        "provider_id": PROVIDER,
        "pdu_code": "N07-01",
        "team_code": "T1",
        "grade": "PO",
        "fte": 1.0,
        "start_date": "2020-01-06",
        "leave_date": None,
        "as_at_date": PERIOD.isoformat(),
    }
    row.update(overrides)
    return row


BAD_ROWS = [
    (good_row(101, fte=-0.5), "fte"),
    (good_row(102, fte=1.4), "fte"),
    (good_row(103, grade="Chief"), "grade"),
    (good_row(104, start_date="2026-13-45"), "start_date"),
    (good_row(105, start_date="2025-04-01"), "start_date"),
    (good_row(106, pdu_code="N03-01"), "pdu_code"),
    (good_row(107, provider_id="N99"), "provider_id"),
    (good_row(108, staff_id=""), "staff_id"),
    (good_row(109, leave_date="2019-01-01"), "leave_date"),
    (good_row(1), "staff_id,as_at_date"),  # duplicate of the first good row
]


@pytest.fixture
def landing_root(tmp_path):
    return tmp_path / "landing"


def _counts(conn, batch_id):
    raw = conn.execute("select count(*) from raw.staffing_staff where _batch_id = %s", [batch_id]).fetchone()[0]
    quarantined = conn.execute("select count(*) from audit.quarantine where batch_id = %s", [batch_id]).fetchone()[0]
    return raw, quarantined


def test_valid_rows_loaded_bad_rows_quarantined_with_reasons(conn, landing_root):
    good = [good_row(i) for i in range(1, 51)]
    table = staff_table(good + [row for row, _ in BAD_ROWS])
    manifest = land_table(table, STAFFING_STAFF, PROVIDER, PERIOD, landing_root)

    result = load_landed_file(conn, manifest, landing_root, batch_rows=16)

    assert manifest.duplicate_rows == [59]  # found at landing, used by the streaming load
    assert (result.rows_landed, result.rows_loaded, result.rows_quarantined) == (60, 50, 10)
    assert _counts(conn, manifest.batch_id) == (50, 10)
    quarantined = conn.execute(
        "select row_number, field, reason, original_values from audit.quarantine where batch_id = %s order by 1",
        [manifest.batch_id],
    ).fetchall()
    assert [q[1] for q in quarantined] == [field for _, field in BAD_ROWS]
    assert [q[0] for q in quarantined] == list(range(51, 61))  # row numbers in the landed file
    assert "must be > 0" in quarantined[0][2]
    assert quarantined[2][3]["grade"] == "Chief"  # the original values are kept
    batch = conn.execute(
        "select rows_landed, rows_loaded, rows_quarantined, source_file from audit.load_batches where batch_id = %s",
        [manifest.batch_id],
    ).fetchone()
    assert batch[:3] == (60, 50, 10)
    assert batch[3] == manifest.path
    loaded = conn.execute(
        "select _row_number, fte, start_date from raw.staffing_staff where _batch_id = %s order by 1 limit 1",
        [manifest.batch_id],
    ).fetchone()
    assert loaded[0] == 1 and float(loaded[1]) == 1.0 and loaded[2] == date(2020, 1, 6)


def test_rerun_of_a_slice_changes_nothing(conn, landing_root):
    table = staff_table([good_row(i) for i in range(1, 21)])
    first = land_table(table, STAFFING_STAFF, PROVIDER, PERIOD, landing_root)
    load_landed_file(conn, first, landing_root)
    snapshot = conn.execute("select * from raw.staffing_staff order by staff_id").fetchall()

    again = land_table(table, STAFFING_STAFF, PROVIDER, PERIOD, landing_root)
    result = load_landed_file(conn, again, landing_root)

    assert again == first  # same content -> same batch id and file
    assert result.status == "unchanged"
    assert conn.execute("select * from raw.staffing_staff order by staff_id").fetchall() == snapshot


def test_new_data_for_a_slice_replaces_it(conn, landing_root):
    first = land_table(staff_table([good_row(i) for i in range(1, 21)]), STAFFING_STAFF, PROVIDER, PERIOD, landing_root)
    load_landed_file(conn, first, landing_root)
    second = land_table(staff_table([good_row(i) for i in range(1, 8)]), STAFFING_STAFF, PROVIDER, PERIOD, landing_root)

    result = load_landed_file(conn, second, landing_root)

    assert result.status == "loaded" and second.batch_id != first.batch_id
    assert _counts(conn, first.batch_id) == (0, 0)
    assert _counts(conn, second.batch_id) == (7, 0)
    slices = conn.execute(
        "select count(*) from audit.load_batches where source = 'staffing' and entity = 'staff'"
        " and provider_id = %s and period_end_date = %s",
        [PROVIDER, PERIOD],
    ).fetchone()[0]
    assert slices == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.append_column("salary", pa.array([1.0] * t.num_rows)), "unexpected column 'salary'"),
        (lambda t: t.drop_columns(["grade"]), "missing column 'grade'"),
        (lambda t: t.set_column(5, "fte", pa.array([True] * t.num_rows)), "column 'fte' has type bool"),
    ],
)
def test_schema_drift_stops_the_slice_naming_file_and_column(conn, landing_root, change, message):
    table = change(staff_table([good_row(i) for i in range(1, 4)]))
    manifest = land_table(table, STAFFING_STAFF, "N50", PERIOD, landing_root)

    with pytest.raises(SchemaDriftError, match=message) as error:
        load_landed_file(conn, manifest, landing_root)

    assert manifest.batch_id in str(error.value)  # the file name carries the batch id
    slices = "select count(*) from audit.load_batches where provider_id = 'N50' and period_end_date = %s"
    assert conn.execute(slices, [PERIOD]).fetchone()[0] == 0


def test_a_tampered_landed_file_is_refused(conn, landing_root):
    manifest = land_table(staff_table([good_row(1)]), STAFFING_STAFF, "N51", PERIOD, landing_root)
    (landing_root / manifest.path).write_bytes(b"not the landed file")

    with pytest.raises(ValueError, match="does not match its manifest"):
        load_landed_file(conn, manifest, landing_root)


def test_duplicates_are_found_without_the_manifest_list_too(conn, landing_root):
    """Manifests written before landing recorded duplicates (or with too many to list) still load right."""
    from dataclasses import replace

    table = staff_table([good_row(i) for i in range(1, 30)] + [good_row(3), good_row(3)])
    manifest = replace(land_table(table, STAFFING_STAFF, PROVIDER, PERIOD, landing_root), duplicate_rows=None)

    result = load_landed_file(conn, manifest, landing_root, batch_rows=8)

    assert (result.rows_loaded, result.rows_quarantined) == (29, 2)
    rows = conn.execute("select row_number from audit.quarantine where batch_id = %s order by 1", [manifest.batch_id])
    assert [r[0] for r in rows.fetchall()] == [30, 31]


def weekly_caseload_file(week: date, landing_root):
    """One week's caseload return of one officer, landed."""
    weekly = get_contract("workload", "weekly_caseload")
    row = {
        "provider_id": PROVIDER, "staff_id": "STF-000000000001", "pdu_code": "N07-01", "grade": "PO",
        "week_ending_date": week.isoformat(), "active_cases": "30", "high_tier_cases": "3", "total_points": "180",
        "contracted_hours": "37", "reduction_hours": "0", "available_points": "200", "capacity_pct": "90",
    }  # fmt: skip
    table = pa.table({c: pa.array([row[c]], pa.string()) for c in weekly.column_names})
    return land_table(table, weekly, PROVIDER, week, landing_root)


def test_raw_tables_that_grow_every_week_are_indexed_by_batch_and_snapshots_are_not(conn, landing_root):
    week = date(2025, 3, 30)  # a Sunday of its own
    manifest = weekly_caseload_file(week, landing_root)
    assert load_landed_file(conn, manifest, landing_root).rows_loaded == 1
    staff = land_table(staff_table([good_row(1)]), STAFFING_STAFF, PROVIDER, PERIOD, landing_root)
    load_landed_file(conn, staff, landing_root)

    indexes = dict(
        conn.execute(
            "select tablename, string_agg(indexdef, '; ') from pg_indexes where schemaname = 'raw'"
            " and tablename in ('workload_weekly_caseload', 'staffing_staff') group by tablename"
        ).fetchall()
    )
    assert "workload_weekly_caseload" in indexes and "(_batch_id)" in indexes["workload_weekly_caseload"]
    assert "staffing_staff" not in indexes
    # A replaced weekly slice is found through the index, not by reading the whole history.
    conn.execute("set local enable_seqscan = off")
    plan = conn.execute(
        "explain delete from raw.workload_weekly_caseload where _batch_id = %s", ["any-batch"]
    ).fetchall()
    assert "workload_weekly_caseload_batch_id_idx" in " ".join(line for (line,) in plan)


def test_cells_a_reader_flagged_are_quarantined_with_its_reason(conn, landing_root):
    """A reader (the XLSX one, for a formula with no cached value) lists cells it could not read in the
    table's schema metadata; landing keeps the list in the file, under its hash, and the loader
    quarantines those rows instead of loading the silent nulls."""
    import json

    import pyarrow.parquet as pq

    from probation_evidence.sources.validation import CELL_PROBLEMS_KEY

    reason = "formula cell has no cached value"
    period = date(2025, 1, 31)  # a slice of its own
    table = staff_table([good_row(i, as_at_date=period.isoformat()) for i in range(1, 7)])
    plain = land_table(table, STAFFING_STAFF, PROVIDER, period, landing_root)
    problems = [{"row": 1, "field": "fte", "reason": reason}, {"row": 4, "field": "leave_date", "reason": reason}]
    flagged_table = table.replace_schema_metadata({CELL_PROBLEMS_KEY: json.dumps(problems).encode()})

    manifest = land_table(flagged_table, STAFFING_STAFF, PROVIDER, period, landing_root)
    result = load_landed_file(conn, manifest, landing_root)

    assert manifest.batch_id != plain.batch_id  # the flags are part of the landed content and its sha256
    assert json.loads(pq.read_schema(landing_root / manifest.path).metadata[CELL_PROBLEMS_KEY]) == problems
    assert (result.rows_loaded, result.rows_quarantined) == (4, 2)
    quarantined = conn.execute(
        "select row_number, field, reason from audit.quarantine where batch_id = %s order by 1", [manifest.batch_id]
    ).fetchall()
    assert quarantined == [(2, "fte", f"fte: {reason}"), (5, "leave_date", f"leave_date: {reason}")]


def test_a_truncated_landed_file_is_refused_then_healed_by_landing_again(conn, landing_root):
    """A landed file cut short (a crash or a full disk mid-copy) is refused by the loader, and landing the
    same data again replaces it rather than keeping the name that exists."""
    period = date(2024, 12, 31)  # a slice of its own
    table = staff_table([good_row(i, as_at_date=period.isoformat()) for i in range(1, 40)])
    manifest = land_table(table, STAFFING_STAFF, PROVIDER, period, landing_root)
    landed = landing_root / manifest.path
    landed.write_bytes(landed.read_bytes()[: landed.stat().st_size // 2])

    with pytest.raises(ValueError, match="does not match its manifest"):
        load_landed_file(conn, manifest, landing_root)
    print(f"injected: {landed.name} truncated to {landed.stat().st_size} bytes; the loader refused it")

    again = land_table(table, STAFFING_STAFF, PROVIDER, period, landing_root)
    result = load_landed_file(conn, again, landing_root)

    assert again == manifest
    assert (result.status, result.rows_loaded) == ("loaded", 39)
    manifest_name = landed.name.removesuffix(".parquet") + ".manifest.json"
    assert {p.name for p in landed.parent.iterdir()} == {landed.name, manifest_name}  # no temporary left


@pytest.fixture
def new_warehouse(server_url):
    """A bootstrapped database of the test's own, where no raw table exists yet."""
    url = warehouse.fresh_database(server_url, f"pe_first_load_test_{secrets.token_hex(6)}")
    try:
        warehouse.bootstrap(url)
        yield url
    finally:
        warehouse.drop_database(server_url, url.dbname)


def test_two_first_loads_of_a_new_raw_table_at_once_both_load(new_warehouse, landing_root):
    """Under the scheduler one task per provider loads at once, and the first loads of a table each create it:
    the second waits for the first's table (a lock per table) instead of failing on the catalog's unique
    index (`pg_type_typname_nsp_index`) once the first commits."""
    weekly = get_contract("workload", "weekly_caseload")
    first_week = date(2025, 3, 30)
    second = weekly_caseload_file(first_week + timedelta(days=7), landing_root)
    outcome: dict = {}

    with psycopg.connect(new_warehouse.url()) as first, psycopg.connect(new_warehouse.url()) as other:

        def load_the_other_slice():
            try:
                outcome["result"] = load_landed_file(other, second, landing_root)
            except Exception as error:  # noqa: BLE001 - the test reads it below
                outcome["error"] = error

        loader = threading.Thread(target=load_the_other_slice)
        # The first load, inside its transaction, has just created the table and not yet committed.
        with first.transaction(), first.cursor() as cur, psycopg.connect(new_warehouse.url()) as watcher:
            cur.execute(f"set local role {settings.LOADER_ROLE}")
            ensure_raw_table(cur, weekly)
            loader.start()
            waits = "select count(*) from pg_locks where pid = %s and not granted and locktype = 'advisory'"
            deadline = time.monotonic() + 30
            while not watcher.execute(waits, [other.info.backend_pid]).fetchone()[0]:
                assert time.monotonic() < deadline and loader.is_alive(), f"the second load did not wait: {outcome}"
                time.sleep(0.05)
        loader.join(timeout=60)

    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].rows_loaded == 1
    with psycopg.connect(new_warehouse.url()) as conn:
        assert conn.execute("select count(*) from raw.workload_weekly_caseload").fetchone()[0] == 1
        assert conn.execute("select to_regclass('raw.workload_weekly_caseload_batch_id_idx')").fetchone()[0]
