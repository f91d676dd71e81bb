"""The ingest functions the DAGs call, on real simulated drops and a real PostgreSQL: every expected
submission is accounted for (on time, late, missing, failed), one bad file never stops the others, and
nothing is lost."""

from __future__ import annotations

from datetime import date

import pytest

from probation_evidence import ingest
from probation_evidence.simulator.drops import write_drops

pytestmark = pytest.mark.warehouse

AS_AT = date(2025, 6, 30)  # periods of their own: the end-to-end tests share this database
PROVIDER = "N03"


@pytest.fixture(scope="module")
def drops(tmp_path_factory):
    root = tmp_path_factory.mktemp("drops")
    records = write_drops(root, seed=7, as_at=AS_AT, providers=[PROVIDER], log_path=root.parent / "drop-log.json")
    return root, records


def _submissions(conn, family):
    rows = conn.execute(
        "select entity, period_end_date, status, detail from audit.submissions"
        " where source = %s and provider_id = %s and period_end_date <= %s",
        [family, PROVIDER, AS_AT],
    ).fetchall()
    return {(entity, period): (status, detail) for entity, period, status, detail in rows}


def _ingest(warehouse_url, family, root, tmp_path):
    extracted = ingest.extract_files(family, PROVIDER, AS_AT, drops=root, root=tmp_path / "landing")
    loaded = ingest.load_extracted(warehouse_url.url(), extracted, root=tmp_path / "landing")
    return loaded, ingest.record_submissions(warehouse_url.url(), family, AS_AT, [loaded], providers=[PROVIDER])


def test_every_expected_submission_is_accounted_for(drops, warehouse_url, conn, tmp_path):
    root, records = drops
    loaded, summary = _ingest(warehouse_url, "governance", root, tmp_path)

    written = {(r.entity, date.fromisoformat(r.period)): r for r in records if r.family == "governance"}
    statuses = _submissions(conn, "governance")
    assert set(statuses) == set(written)  # one row per expected (entity, period), whether it came or not
    for key, record in written.items():
        status = statuses[key][0]
        if record.is_missing:
            assert status in {"missing", "not_yet_due"}
        elif record.is_late:
            assert status == "late"
        else:
            assert status == "on_time"
    assert summary["failed"] == 0
    for result in loaded["results"]:
        assert result["rows_landed"] == result["rows_loaded"] + result["rows_quarantined"]


def test_an_unreadable_file_fails_its_slice_only(drops, warehouse_url, conn, tmp_path):
    root, records = drops
    victim = next(r for r in records if r.family == "services" and not r.is_missing and r.format == "csv")
    path = root / victim.path
    path.write_bytes(b"\xff\xfe" + "not, a, real, file".encode("utf-16-le"))

    loaded, summary = _ingest(warehouse_url, "services", root, tmp_path)

    status, detail = _submissions(conn, "services")[(victim.entity, date.fromisoformat(victim.period))]
    assert status == "failed"
    assert path.name in detail
    assert summary["failed"] == 1 and len(summary["errors"]) == 1
    others = [r for r in records if r.family == "services" and not r.is_missing and r is not victim]
    assert len(loaded["results"]) == len(others)


def test_rerunning_the_ingest_changes_no_submission_or_batch(drops, warehouse_url, conn, tmp_path):
    root, _ = drops
    _ingest(warehouse_url, "feedback", root, tmp_path)
    snapshot = conn.execute(
        "select s.*, b.loaded_at from audit.submissions s left join audit.load_batches b using (batch_id)"
        " where s.source = 'feedback' order by entity, provider_id, period_end_date"
    ).fetchall()
    conn.rollback()

    _ingest(warehouse_url, "feedback", root, tmp_path)

    again = conn.execute(
        "select s.*, b.loaded_at from audit.submissions s left join audit.load_batches b using (batch_id)"
        " where s.source = 'feedback' order by entity, provider_id, period_end_date"
    ).fetchall()
    assert again == snapshot


def test_a_provider_whose_task_failed_is_recorded_not_forgotten(warehouse_url, conn):
    summary = ingest.record_submissions(warehouse_url.url(), "workload", AS_AT, [None], providers=["N54"])

    rows = conn.execute(
        "select status, detail from audit.submissions where source = 'workload' and provider_id = 'N54'"
        " and period_end_date <= %s",
        [AS_AT],
    ).fetchall()
    assert len(rows) == 13  # one per expected weekly return
    assert {status for status, _ in rows} == {"failed"}
    assert "task failed" in rows[0][1]
    assert summary["failed"] == 13
