"""Faults in the machinery under the loader, injected for real against a real PostgreSQL: the loader's
backend killed mid-COPY, and the landing zone's disk filling up mid-write. Each test prints what it
injected and what it found, and then proves nothing was lost, duplicated or half loaded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from probation_evidence.reference.registry import pdus_by_region
from probation_evidence.sources import ingest, loading, pgbinary, raw_copy
from probation_evidence.sources.contracts.staffing import STAFF as STAFFING_STAFF
from probation_evidence.sources.landing import land_table

pytestmark = pytest.mark.warehouse

HERE = Path(__file__).resolve().parent


def _staff(provider: str, period: date, rows: int, bad_every: int = 0) -> pa.Table:
    """Staff rows of one snapshot; every `bad_every`th row has an fte the contract refuses."""
    pdu = pdus_by_region()[provider][0].pdu_code
    fte = [-1.0 if bad_every and i % bad_every == 0 else 1.0 for i in range(rows)]
    values = {
        "staff_id": [f"STF-{i:012x}" for i in range(rows)], "provider_id": [provider] * rows,
        "pdu_code": [pdu] * rows, "team_code": ["T1"] * rows, "grade": ["PO"] * rows, "fte": fte,
        "start_date": ["2020-01-06"] * rows, "leave_date": [None] * rows, "as_at_date": [period.isoformat()] * rows,
    }  # fmt: skip
    types = {"fte": pa.float64()}
    return pa.table({c: pa.array(values[c], types.get(c, pa.string())) for c in STAFFING_STAFF.column_names})


def _slice_state(conn, batch_id: str) -> dict:
    conn.rollback()
    batch = conn.execute(
        "select rows_landed, rows_loaded, rows_quarantined from audit.load_batches where batch_id = %s", [batch_id]
    ).fetchone()
    raw, distinct = conn.execute(
        "select count(*), count(distinct staff_id) from raw.staffing_staff where _batch_id = %s", [batch_id]
    ).fetchone()
    quarantined = conn.execute("select count(*) from audit.quarantine where batch_id = %s", [batch_id]).fetchone()[0]
    return {"batch": batch, "raw": raw, "distinct_keys": distinct, "quarantined": quarantined}


def test_loader_backend_terminated_mid_copy_then_the_run_is_retried(warehouse_url, conn, tmp_path, monkeypatch):
    """pg_terminate_backend on the loader's own backend, from a second connection, once part of a slice's
    rows has been sent: that slice fails alone (nothing of it kept), the provider's next slice loads on a
    new connection, and the retried run loads the slice exactly once."""
    provider, root = "N52", tmp_path / "landing"
    periods = [date(2024, 10, 31), date(2024, 11, 30), date(2024, 12, 31)]
    tables = [
        _staff(provider, periods[0], 30),
        _staff(provider, periods[1], 3000, 97),
        _staff(provider, periods[2], 30),
    ]
    manifests = [land_table(t, STAFFING_STAFF, provider, p, root) for t, p in zip(tables, periods, strict=True)]
    victim = manifests[1]
    extracted = {"family": "staffing", "provider_id": provider, "errors": [], "manifests": []}
    extracted["manifests"] = [m.to_dict() for m in manifests]

    monkeypatch.setattr(raw_copy, "COPY_CHUNK_ROWS", 250)  # the victim's rows go in twelve COPY writes
    real_encode, calls, killed = pgbinary.encode_rows, [], []

    def encode_then_kill(columns, *args, **kwargs):
        """After two chunks of the victim's COPY were handed to the connection, kill its backend."""
        if len(columns[0]) == 250:  # a chunk of the victim (the other slices have 30 rows)
            calls.append(250)
        if len(calls) == 3 and not killed:
            pid = conn.execute(
                "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
                " and query ilike 'copy %%staffing_staff%%'"
            ).fetchone()[0]
            killed.append(conn.execute("select pg_terminate_backend(%s, 10000)", [pid]).fetchone()[0])
            conn.commit()
        return real_encode(columns, *args, **kwargs)

    monkeypatch.setattr(pgbinary, "encode_rows", encode_then_kill)
    first = ingest.load_extracted(warehouse_url.url(), extracted, root=root)
    monkeypatch.setattr(pgbinary, "encode_rows", real_encode)

    print(f"injected: pg_terminate_backend on the loader's backend after {sum(calls[:2])} of 3000 rows were sent")
    print(f"found: loaded {[r['period_end_date'] for r in first['results']]}, errors:")
    print("\n".join(e["reason"] for e in first["errors"]))
    assert killed == [True]
    assert [r["batch_id"] for r in first["results"]] == [manifests[0].batch_id, manifests[2].batch_id]
    assert [e["period_end_date"] for e in first["errors"]] == [periods[1].isoformat()]
    assert victim.path in first["errors"][0]["reason"]
    assert "server closed the connection unexpectedly" in first["errors"][0]["reason"]
    assert _slice_state(conn, victim.batch_id) == {"batch": None, "raw": 0, "distinct_keys": 0, "quarantined": 0}

    retried = ingest.load_extracted(warehouse_url.url(), extracted, root=root)

    states = {m.batch_id: _slice_state(conn, m.batch_id) for m in manifests}
    print(f"found after the retry: {states[victim.batch_id]}; statuses {[r['status'] for r in retried['results']]}")
    assert retried["errors"] == []
    assert [r["status"] for r in retried["results"]] == ["unchanged", "loaded", "unchanged"]
    for manifest in manifests:
        state = states[manifest.batch_id]
        landed, loaded, quarantined = state["batch"]
        assert landed == manifest.rows == loaded + quarantined  # nothing lost
        assert state["raw"] == state["distinct_keys"] == loaded  # nothing duplicated
        assert state["quarantined"] == quarantined
    assert states[victim.batch_id]["batch"] == (3000, 3000 - 31, 31)
    slices = conn.execute(
        "select count(*), count(distinct period_end_date) from audit.load_batches"
        " where source = 'staffing' and entity = 'staff' and provider_id = %s and period_end_date = any(%s)",
        [provider, periods],
    ).fetchone()
    assert slices == (3, 3)  # one batch per slice (the end-to-end suite's periods of this provider are others)


def _disk_full_command(root: Path) -> tuple[list[str], str]:
    """How to give the child a landing zone that fills up: a 1 MiB tmpfs in a private mount namespace
    (`unshare`, which needs user namespaces: allowed here for root and other users alike), else a file
    size limit (RLIMIT_FSIZE), which any user can set on their own process."""
    child = [sys.executable, str(HERE / "load_disk_full.py"), str(root)]
    unshare = shutil.which("unshare")
    if unshare:
        probe = subprocess.run(
            [unshare, "--user", "--map-root-user", "--mount", "true"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            mount = f'mount -t tmpfs -o size=1m tmpfs {root} && exec "$@"'
            return [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", mount, "sh", *child, "tmpfs"], "tmpfs"
    return [*child, "fsize"], "fsize"


def test_disk_full_while_landing_fails_the_slice_and_no_half_file_is_ever_loaded(warehouse_url, conn, tmp_path):
    root = tmp_path / "landing"
    root.mkdir()
    command, mode = _disk_full_command(root)
    env = {**os.environ, "PE_FAULT_WAREHOUSE_URL": warehouse_url.url()}

    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)

    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    error = report["landing_error"]
    print(
        f"injected: landing zone full ({mode}: {'1 MiB tmpfs, ENOSPC' if mode == 'tmpfs' else 'RLIMIT_FSIZE, EFBIG'})"
    )
    print(f"found: {error}; files before {report['files_before']}, after {report['files_after']}")
    assert error is not None and error["errno"] in (28, 27)  # ENOSPC, or EFBIG under the file size limit
    assert "could not land staffing.staff for N53 2025-06-30" in error["message"]
    assert report["files_after"] == report["files_before"]  # no half file, no temporary left behind
    assert report["first_load"]["status"] == "loaded"
    assert report["reload"]["errors"] == []
    assert report["reload"]["results"][0]["status"] == "unchanged"  # the good batch is still the slice's
    batch_id = report["first_load"]["batch_id"]
    assert _slice_state(conn, batch_id)["batch"] == (40, 40, 0)
    others = conn.execute(
        "select count(*) from audit.load_batches where provider_id = 'N53' and source = 'staffing'"
        " and period_end_date = '2025-06-30' and batch_id <> %s",
        [batch_id],
    ).fetchone()[0]
    assert others == 0  # nothing of the large version was ever loaded


def test_an_encoder_error_mid_copy_fails_its_slice_and_the_connection_loads_the_next(conn, tmp_path, monkeypatch):
    """The binary encoder raising part way through a slice (after rows were already sent) abandons the COPY
    and rolls the slice back; the same connection then loads the provider's next slice."""
    import psycopg

    provider, root = "N51", tmp_path / "landing"
    bad_period, good_period = date(2024, 10, 31), date(2024, 11, 30)
    bad = land_table(_staff(provider, bad_period, 1000), STAFFING_STAFF, provider, bad_period, root)
    good = land_table(_staff(provider, good_period, 40), STAFFING_STAFF, provider, good_period, root)
    monkeypatch.setattr(raw_copy, "COPY_CHUNK_ROWS", 300)
    real_encode, calls = pgbinary.encode_rows, []

    def failing_encode(columns, *args, **kwargs):
        calls.append(len(columns[0]))
        if len(calls) == 2:
            raise ValueError("injected encoder failure")
        return real_encode(columns, *args, **kwargs)

    monkeypatch.setattr(pgbinary, "encode_rows", failing_encode)
    with psycopg.connect(conn.info.dsn, password=conn.info.password) as loader:
        with pytest.raises(loading.SliceLoadError) as error:
            loading.load_landed_file(loader, bad, root)
        monkeypatch.setattr(pgbinary, "encode_rows", real_encode)
        print(f"injected: the encoder raised after {calls[0]} of 1000 rows were sent; found: {error.value}")
        status_after = loader.info.transaction_status.name
        result = loading.load_landed_file(loader, good, root)

    assert bad.path in str(error.value) and "injected encoder failure" in str(error.value)
    assert status_after == "IDLE"  # the COPY was abandoned and the transaction rolled back cleanly
    assert (result.status, result.rows_loaded) == ("loaded", 40)
    assert _slice_state(conn, bad.batch_id) == {"batch": None, "raw": 0, "distinct_keys": 0, "quarantined": 0}
