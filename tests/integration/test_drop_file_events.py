"""audit.drop_file_events on a real PostgreSQL: its shape and grants, and the ingest recording what it saw in
a drop folder but did not read, once: a rerun that sees the same folder changes no row."""

from __future__ import annotations

import os
import time
from datetime import date

import psycopg
import pytest

from probation_evidence.sources import ingest
from tests.privileges import can

pytestmark = pytest.mark.warehouse

FAMILY, PROVIDER = "feedback", "N54"
RUN_DATE = date(2024, 6, 30)  # periods of their own: other tests share this database
HEADER = "Complaint Ref,Region,PDU,Type,Date Received,Date Responded,Quarter End\n"
ROW = "CMP-{n},N54,N54-01,communication,2024-05-02,2024-05-20,2024-06-30\n"


def test_the_table_has_its_columns_checks_comments_and_grants(conn):
    columns = conn.execute(
        "select column_name, data_type, is_nullable from information_schema.columns"
        " where table_schema = 'audit' and table_name = 'drop_file_events' order by ordinal_position"
    ).fetchall()
    assert columns == [
        ("source", "text", "NO"),
        ("provider_id", "text", "NO"),
        ("file_name", "text", "NO"),
        ("event", "text", "NO"),
        ("entity", "text", "YES"),
        ("period_end_date", "date", "YES"),
        ("detail", "text", "NO"),
        ("file_modified_at", "timestamp with time zone", "YES"),
        ("first_seen_at", "timestamp with time zone", "NO"),
    ]
    described = conn.execute(
        "select count(*) filter (where col_description('audit.drop_file_events'::regclass, attnum) is not null),"
        " count(*), obj_description('audit.drop_file_events'::regclass, 'pg_class') is not null"
        " from pg_attribute where attrelid = 'audit.drop_file_events'::regclass and attnum > 0"
    ).fetchone()
    assert described == (9, 9, True)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "insert into audit.drop_file_events (source, provider_id, file_name, event, detail)"
            " values ('feedback', 'N54', 'x.csv', 'ignored', 'no such event')"
        )
    conn.rollback()

    insert = (
        "insert into audit.drop_file_events (source, provider_id, file_name, event, detail)"
        " values ('feedback', 'N99', 'feedback/N99/x.csv', 'unexpected', 'probe')"
    )
    for role, writes, reads in [
        ("warehouse_loader", True, True),
        ("warehouse_transformer", False, True),
        ("warehouse_publisher", False, True),
        ("planner_reader", False, True),
        ("bi_reader", False, False),
        ("provider_reader", False, False),
    ]:
        conn.execute(f"set role {role}")
        assert can(conn, insert) is writes, role
        assert can(conn, "select * from audit.drop_file_events limit 1") is reads, role
        conn.execute("reset role")
    conn.rollback()


def _drop(folder, name: str, mtime: float, rows: int = 2) -> None:
    path = folder / name
    path.write_text(HEADER + "".join(ROW.format(n=n) for n in range(rows)))
    os.utime(path, (mtime, mtime))


def _events(conn) -> list[tuple]:
    rows = conn.execute(
        "select file_name, event, entity, period_end_date, detail, file_modified_at, first_seen_at, xmin::text"
        " from audit.drop_file_events where source = %s and provider_id = %s order by file_name, event",
        [FAMILY, PROVIDER],
    ).fetchall()
    conn.rollback()
    return rows


def test_the_ingest_records_each_drop_event_once(warehouse_url, conn, tmp_path):
    folder = tmp_path / "drops" / FAMILY / PROVIDER
    folder.mkdir(parents=True)
    long_ago = time.time() - 86_400
    _drop(folder, "complaints_20240630.csv", long_ago - 60)
    _drop(folder, "complaints_20240630.xlsx.part", long_ago)  # an upload that never finished
    _drop(folder, "Complaints_20240630.CSV", long_ago, rows=3)  # the later copy: this one is read
    _drop(folder, "complaints_20991231.csv", long_ago)
    (folder / "complaints_20240331.csv").symlink_to(folder / "complaints_20240630.csv")

    def run():
        extracted = ingest.extract_files(FAMILY, PROVIDER, RUN_DATE, drops=tmp_path / "drops", root=tmp_path / "land")
        loaded = ingest.load_extracted(warehouse_url.url(), extracted, root=tmp_path / "land")
        ingest.record_submissions(warehouse_url.url(), FAMILY, RUN_DATE, [loaded], providers=[PROVIDER])
        return loaded

    loaded = run()
    first = _events(conn)
    batch = "select batch_id, loaded_at from audit.load_batches where batch_id = %s"
    loaded_before = conn.execute(batch, [loaded["results"][0]["batch_id"]]).fetchone()
    conn.rollback()
    rerun = run()
    again = _events(conn)

    assert [r["status"] for r in rerun["results"]] == ["unchanged"]  # the same file chosen: the same batch
    assert conn.execute(batch, [loaded["results"][0]["batch_id"]]).fetchone() == loaded_before  # loaded_at kept

    assert [r["rows_landed"] for r in loaded["results"]] == [3]
    assert {(name, event) for name, event, *_ in first} == {
        ("feedback/N54/complaints_20240630.csv", "superseded"),
        ("feedback/N54/complaints_20240331.csv", "refused"),
        ("feedback/N54/complaints_20240630.xlsx.part", "in_motion"),
        ("feedback/N54/complaints_20991231.csv", "unexpected"),
    }
    assert again == first  # same rows, same first_seen_at, and no row rewritten (same xmin)


def test_events_follow_the_folder_and_an_old_file_is_news_only_until_its_slice_loads(warehouse_url, conn, tmp_path):
    """A late return for a quarter before the run's window is reported (it would otherwise lie unread with no
    trace) until a run for its date loads it; an event no longer seen (an upload that finished) is removed."""
    drops, land = tmp_path / "drops", tmp_path / "land"
    folder = drops / FAMILY / PROVIDER
    folder.mkdir(parents=True)
    long_ago = time.time() - 86_400
    _drop(folder, "complaints_20240630.csv", long_ago)
    _drop(folder, "complaints_20230331.csv", long_ago)  # four quarters before the window starts
    _drop(folder, "complaints_20240331.csv.part", long_ago)

    def run(run_date):
        extracted = ingest.extract_files(FAMILY, PROVIDER, run_date, drops=drops, root=land)
        loaded = ingest.load_extracted(warehouse_url.url(), extracted, root=land)
        ingest.record_submissions(warehouse_url.url(), FAMILY, run_date, [loaded], providers=[PROVIDER])

    run(RUN_DATE)
    seen = {(name, event): detail for name, event, _, _, detail, *_ in _events(conn)}
    print(f"found after the first run: {sorted(seen)}")
    assert set(seen) == {
        ("feedback/N54/complaints_20230331.csv", "unexpected"),
        ("feedback/N54/complaints_20240331.csv.part", "in_motion"),
    }
    assert "before this run's window" in seen[("feedback/N54/complaints_20230331.csv", "unexpected")]

    (folder / "complaints_20240331.csv.part").unlink()  # the upload finished elsewhere, or was abandoned
    run(date(2023, 3, 31))  # a backfill run for the old quarter loads it
    run(RUN_DATE)
    after = _events(conn)
    print(f"found after the backfill and the next run: {after}")
    assert after == []
    run(RUN_DATE)
    assert _events(conn) == after
