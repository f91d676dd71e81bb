"""The ingest functions the DAGs call, on real simulated drops and a real PostgreSQL: every expected
submission is accounted for (on time, late, missing, failed), one bad file never stops the others, and
nothing is lost."""

from __future__ import annotations

import os
from datetime import date

import pytest

from probation_evidence.simulator.drops import write_drops
from probation_evidence.sources import ingest

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
    # Where the provider's time went travels with the result (XCom): reading the files, landing, loading.
    assert set(loaded["seconds"]) == {"extract", "land", "load"}
    assert all(seconds > 0 for seconds in loaded["seconds"].values())


def test_an_unreadable_file_fails_its_slice_only(drops, warehouse_url, conn, tmp_path):
    root, records = drops
    victim = next(r for r in records if r.family == "services" and not r.is_missing and r.format == "csv")
    path = root / victim.path
    arrived = path.stat()
    path.write_bytes(b"\xff\xfe" + "not, a, real, file".encode("utf-16-le"))
    os.utime(path, ns=(arrived.st_atime_ns, arrived.st_mtime_ns))  # settled: not a file still being written

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
        "select status, detail, due_date from audit.submissions where source = 'workload' and provider_id = 'N54'"
        " and period_end_date <= %s",
        [AS_AT],
    ).fetchall()
    assert len(rows) == 13  # one per expected weekly return
    # A return already owed is failed; one not yet due stays not yet due (its task owed nothing yet), and
    # still says the task failed.
    assert [status for status, _, due in rows] == ["failed" if due < AS_AT else "not_yet_due" for *_, due in rows]
    assert {status for status, *_ in rows} == {"failed", "not_yet_due"}
    assert all("task failed" in detail for _, detail, _ in rows)
    assert summary["failed"] == 13  # the run still fails


# ------------------------------------------------------------------------------ a bad slice stops only itself
def _staff_table(provider: str, period: date, rows: int):
    import pyarrow as pa

    from probation_evidence.reference.registry import pdus_by_region
    from probation_evidence.sources.contracts.staffing import STAFF as STAFFING_STAFF

    pdu = pdus_by_region()[provider][0].pdu_code
    values = {
        "staff_id": [f"STF-{i:012x}" for i in range(rows)], "provider_id": [provider] * rows,
        "pdu_code": [pdu] * rows, "team_code": ["T1"] * rows, "grade": ["PO"] * rows, "fte": [1.0] * rows,
        "start_date": ["2020-01-06"] * rows, "leave_date": [None] * rows, "as_at_date": [period.isoformat()] * rows,
    }  # fmt: skip
    types = {"fte": pa.float64()}
    return pa.table({c: pa.array(values[c], types.get(c, pa.string())) for c in STAFFING_STAFF.column_names})


def test_a_slice_that_fails_to_load_stops_only_itself_and_a_retry_heals(warehouse_url, conn, tmp_path):
    """A truncated landed file and a value the server refuses mid-COPY each fail their own slice, with
    a reason naming the file; the provider's next slice still loads (on a usable connection); landing
    the truncated slice's data again and loading it heals it. Before, the first such error ended the task
    and every later slice of the provider was lost with it."""
    import pyarrow as pa

    from probation_evidence.sources.contracts.staffing import STAFF as STAFFING_STAFF
    from probation_evidence.sources.landing import land_table

    provider, root = "N58", tmp_path / "landing"
    truncated_p, refused_p, good_p = date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)
    truncated_table = _staff_table(provider, truncated_p, 50)
    truncated = land_table(truncated_table, STAFFING_STAFF, provider, truncated_p, root)
    (root / truncated.path).write_bytes((root / truncated.path).read_bytes()[:300])
    refused_table = _staff_table(provider, refused_p, 50)
    ancient = pa.array([-3_000_000] * 50, pa.int32()).cast(pa.date32())  # ~6200 BC: PostgreSQL refuses it
    refused_table = refused_table.set_column(6, "start_date", ancient)
    refused = land_table(refused_table, STAFFING_STAFF, provider, refused_p, root)
    good = land_table(_staff_table(provider, good_p, 50), STAFFING_STAFF, provider, good_p, root)
    extracted = {"family": "staffing", "provider_id": provider, "errors": [],
                 "manifests": [m.to_dict() for m in (truncated, refused, good)]}  # fmt: skip

    loaded = ingest.load_extracted(warehouse_url.url(), extracted, root=root)

    print("injected: a truncated landed file; a date PostgreSQL refuses mid-COPY")
    print("found:", [e["reason"][:160] for e in loaded["errors"]])
    assert [r["batch_id"] for r in loaded["results"]] == [good.batch_id]
    reasons = {e["period_end_date"]: e["reason"] for e in loaded["errors"]}
    assert truncated.path in reasons[truncated_p.isoformat()] and "does not match" in reasons[truncated_p.isoformat()]
    assert refused.path in reasons[refused_p.isoformat()] and "date out of range" in reasons[refused_p.isoformat()]
    assert "column start_date" in reasons[refused_p.isoformat()] and "of 50" in reasons[refused_p.isoformat()]
    batches = (
        "select count(*) from audit.load_batches"
        " where provider_id = %s and source = 'staffing' and period_end_date = any(%s)"
    )
    periods = [truncated_p, refused_p, good_p]
    assert conn.execute(batches, [provider, periods]).fetchone()[0] == 1  # nothing of the failed slices is kept

    land_table(truncated_table, STAFFING_STAFF, provider, truncated_p, root)  # a retry re-lands the data
    healed = ingest.load_extracted(warehouse_url.url(), {**extracted, "manifests": [truncated.to_dict()]}, root=root)

    assert healed["errors"] == [] and healed["results"][0]["rows_loaded"] == 50


# ------------------------------------------------------------------------------ what record_submissions keeps
def _history(conn, family, provider):
    """The provider's submissions of the periods a run at AS_AT expects (the end-to-end suite's run of the
    same provider, in the same database, has periods of its own)."""
    conn.rollback()
    periods = sorted({period for _, period in ingest.expected_submissions(family, AS_AT)})
    rows = conn.execute(
        "select entity, period_end_date, status, received_at, batch_id, detail from audit.submissions"
        " where source = %s and provider_id = %s and period_end_date = any(%s)",
        [family, provider, periods],
    ).fetchall()
    return {(e, p): tuple(rest) for e, p, *rest in rows}


def _ingest_provider(warehouse_url, family, provider, drops_root, landing_root):
    extracted = ingest.extract_files(family, provider, AS_AT, drops=drops_root, root=landing_root)
    loaded = ingest.load_extracted(warehouse_url.url(), extracted, root=landing_root)
    return ingest.record_submissions(warehouse_url.url(), family, AS_AT, [loaded], providers=[provider])


def test_a_slice_loaded_earlier_is_not_made_missing_when_its_file_is_gone(warehouse_url, conn, tmp_path):
    """Drop folders are cleared after loading; a later run that no longer sees a file must not turn the
    slice it loaded into "missing" with no batch (its data is still in raw)."""
    provider, family = "N56", "feedback"
    records = write_drops(tmp_path / "drops", seed=11, as_at=AS_AT, providers=[provider], log_path=tmp_path / "l.json")
    _ingest_provider(warehouse_url, family, provider, tmp_path / "drops", tmp_path / "landing")
    before = _history(conn, family, provider)
    gone = [r for r in records if r.family == family and not r.is_missing]
    for record in gone:
        (tmp_path / "drops" / record.path).unlink()

    summary = _ingest_provider(warehouse_url, family, provider, tmp_path / "drops", tmp_path / "landing")

    print(f"injected: {len(gone)} loaded files removed from the drop folder before the next run")
    after = _history(conn, family, provider)
    kept = [key for key, (status, _, batch, _) in before.items() if batch is not None]
    print(f"found: {len(kept)} loaded slices, statuses after {sorted({after[k][0] for k in kept})}")
    assert kept and {before[k][0] for k in kept} <= {"on_time", "late"}
    assert after == before
    assert summary["failed"] == 0


def test_a_failed_task_keeps_the_batches_loaded_before_and_still_fails_the_run(warehouse_url, conn, tmp_path):
    provider, family = "N57", "feedback"
    write_drops(tmp_path / "drops", seed=12, as_at=AS_AT, providers=[provider], log_path=tmp_path / "l.json")
    _ingest_provider(warehouse_url, family, provider, tmp_path / "drops", tmp_path / "landing")
    before = _history(conn, family, provider)

    summary = ingest.record_submissions(warehouse_url.url(), family, AS_AT, [None], providers=[provider])

    after = _history(conn, family, provider)
    assert any(batch for _, _, batch, _ in before.values())
    for key, (status, received_at, batch, _) in before.items():
        if batch is not None:  # the good batch, its status and arrival stay; the failure is in detail
            assert after[key][:3] == (status, received_at, batch)
            assert after[key][3].startswith("latest attempt failed, batch kept: the provider's extract")
        else:
            assert after[key][0] == "failed" and after[key][2] is None
    assert summary["failed"] == len(before) == len(summary["errors"])  # the run still fails, and says why

    again = ingest.record_submissions(warehouse_url.url(), family, AS_AT, [None], providers=[provider])
    assert _history(conn, family, provider) == after and again == summary  # a rerun changes nothing


def test_drop_file_events_are_recorded_once_with_the_submissions(warehouse_url, conn, tmp_path):
    """What the drop-folder survey saw but did not read is written, in record_submissions' transaction and
    as the loader role, to audit.drop_file_events; a rerun that sees the same thing changes no row."""
    provider, family = "N59", "services"
    records = write_drops(tmp_path / "drops", seed=13, as_at=AS_AT, providers=[provider], log_path=tmp_path / "l.json")
    fresh = next(r for r in records if r.family == family and not r.is_missing)
    os.utime(tmp_path / "drops" / fresh.path)  # modified just now: may still be being written

    _ingest_provider(warehouse_url, family, provider, tmp_path / "drops", tmp_path / "landing")
    query = (
        "select file_name, event, entity, period_end_date, detail, xmin::text from audit.drop_file_events"
        " where source = %s and provider_id = %s order by 1, 2"
    )
    first = conn.execute(query, [family, provider]).fetchall()
    conn.rollback()
    _ingest_provider(warehouse_url, family, provider, tmp_path / "drops", tmp_path / "landing")
    second = conn.execute(query, [family, provider]).fetchall()

    print(f"injected: {fresh.path} modified just now; found events {[(r[0], r[1]) for r in first]}")
    in_motion = [row for row in first if row[1] == "in_motion"]
    assert [(row[0], row[2], row[3]) for row in in_motion] == [
        (fresh.path, fresh.entity, date.fromisoformat(fresh.period))
    ]
    assert second == first  # same rows, same row versions (xmin): the rerun wrote nothing


def test_a_slice_that_cannot_be_landed_fails_alone(tmp_path):
    """Landing one entity fails (its folder cannot be made, as on a full disk or a dead mount): that entity's
    slices are reported failed and the provider's other files still land."""
    root = tmp_path / "drops"
    records = write_drops(root, seed=7, as_at=AS_AT, providers=[PROVIDER], log_path=tmp_path / "drop-log.json")
    landing = tmp_path / "landing"
    victim = next(r for r in records if r.family == "services" and not r.is_missing)
    (landing / "services").mkdir(parents=True)
    (landing / "services" / victim.entity).write_text("a file where the entity's folder belongs\n")

    extracted = ingest.extract_files("services", PROVIDER, AS_AT, drops=root, root=landing)

    failed = {(e["entity"], e["period_end_date"]) for e in extracted["errors"]}
    victims = {(r.entity, r.period) for r in records if r.family == "services" and r.entity == victim.entity
               and not r.is_missing}  # fmt: skip
    assert failed == victims
    assert all("could not be landed" in e["reason"] for e in extracted["errors"])
    others = [r for r in records if r.family == "services" and not r.is_missing and r.entity != victim.entity]
    assert others and len(extracted["manifests"]) == len(others)


def test_the_tables_a_run_loaded_are_analyzed_and_a_rerun_analyzes_none(warehouse_url, conn, tmp_path):
    """Fresh planner statistics before the transform: every raw table a run loaded new batches into is
    analyzed (the loader role owns it); a rerun that loaded nothing new analyzes nothing."""
    provider, family = "N58", "services"
    root = tmp_path / "drops"
    write_drops(root, seed=13, as_at=AS_AT, providers=[provider], log_path=tmp_path / "drop-log.json")

    def analyzed() -> dict:
        rows = conn.execute(
            "select relname, analyze_count from pg_stat_user_tables where schemaname = 'raw' and relname like %s",
            [f"{family}_%"],
        ).fetchall()
        conn.rollback()  # the statistics views are read as of the transaction's first look
        return dict(rows)

    before = analyzed()
    extracted = ingest.extract_files(family, provider, AS_AT, drops=root, root=tmp_path / "landing")
    loaded = ingest.load_extracted(warehouse_url.url(), extracted, root=tmp_path / "landing")
    entities = {r["entity"] for r in loaded["results"] if r["status"] == "loaded"}
    assert entities, "the run loaded new batches"
    tables = sorted(f"{family}_{entity}" for entity in entities)
    assert ingest.analyze_loaded_tables(warehouse_url.url(), [loaded]) == [f"raw.{table}" for table in tables]
    after = analyzed()
    assert sorted(t for t in after if after[t] > before.get(t, 0)) == tables

    again = ingest.load_extracted(warehouse_url.url(), extracted, root=tmp_path / "landing")
    assert {r["status"] for r in again["results"]} == {"unchanged"}
    assert ingest.analyze_loaded_tables(warehouse_url.url(), [again, None]) == []
