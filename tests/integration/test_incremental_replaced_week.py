"""The incremental workload model against a full rebuild when a week is replaced by a batch with no valid
rows (every row quarantined, or a header-only file): the replaced week's counts must go, as they would
in a full rebuild, and the weeks after it (whose W03 looks back four weeks) must be recounted.

Builds only the model and its staging view, on five weeks of one provider's simulated returns, in a
database of its own (a full refresh replaces the table, which the end-to-end suite's views depend on).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from probation_evidence import warehouse
from probation_evidence.local import dbt_runner
from probation_evidence.sources import contracts, landing, loading

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]

MODEL = "int_workload_indicators_counted"
PROVIDER = "N07"
WEEKS = [date(2025, 9, 7) + timedelta(weeks=n) for n in range(5)]  # Sundays

COUNTS = f"""
select indicator_count_id, indicator_id, provider_id, pdu_code, period_end_date, numerator, denominator,
       source_batch_ids
from intermediate.{MODEL}
order by indicator_count_id
"""


@pytest.fixture
def model_database(server_url, tmp_path, monkeypatch):
    """A bootstrapped database of its own, and dbt's artifacts in the test's folder."""
    import os

    name = os.environ.get("PROBATION_EVIDENCE_TEST_DB", "probation_evidence_test") + "_incremental"
    url = warehouse.fresh_database(server_url, name)
    warehouse.bootstrap(url)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    yield url
    warehouse.drop_database(server_url, name)


def _load(url, table, week, root):
    import psycopg

    contract = contracts.get_contract("workload", "weekly_caseload")
    manifest = landing.land_table(table, contract, PROVIDER, week, root)
    with psycopg.connect(url.url()) as conn:
        return loading.load_landed_file(conn, manifest, root)


def _dbt(url, *args, select=MODEL):
    result = dbt_runner.run(["run", "--select", select, *args], url=url, check=False)
    assert result.returncode == 0, f"dbt run --select {select} {' '.join(args)} failed: see its output above"


def _counts(url):
    import psycopg

    with psycopg.connect(url.url()) as conn:
        return conn.execute(COUNTS).fetchall()


def _row_versions(url):
    """Each row's version (xmin): unchanged unless a build rewrote the row."""
    import psycopg

    with psycopg.connect(url.url()) as conn:
        return conn.execute(f"select indicator_count_id, xmin::text from intermediate.{MODEL} order by 1").fetchall()


def _all_quarantined(table):
    """The same practitioners, every row with a capacity below the contract's minimum of 0."""
    import pyarrow as pa

    column = table.schema.get_field_index("capacity_pct")
    bad = pa.array([-5] * table.num_rows).cast(table.schema.field(column).type)
    return table.set_column(column, table.schema.field(column), bad)


def _header_only(table):
    return table.slice(0, 0)


def test_a_week_replaced_by_no_valid_rows_leaves_the_model_as_a_full_rebuild_would(model_database, tmp_path):
    import pyarrow as pa

    from probation_evidence.simulator.workload import generate_weekly_caseload

    root = tmp_path / "landing"
    tables = {week: pa.Table.from_pylist(generate_weekly_caseload(7, week, PROVIDER)) for week in WEEKS}
    for week, table in tables.items():
        assert _load(model_database, table, week, root).rows_loaded > 0
    _dbt(model_database, select=f"+{MODEL}")  # the staging view, then the model from scratch
    before = _counts(model_database)
    assert {row[4] for row in before} == set(WEEKS)
    assert {row[4] for row in before if row[1] == "W03"} == set(WEEKS[3:]), "four weeks of returns give W03"

    # Two kinds of batch with no valid rows, each built incrementally in turn.
    for week, replacement in ((WEEKS[1], _all_quarantined), (WEEKS[3], _header_only)):
        loaded = _load(model_database, replacement(tables[week]), week, root)
        assert loaded.status == "loaded" and loaded.rows_loaded == 0
        print(
            f"injected: week {week} of {PROVIDER} replaced ({replacement.__name__.strip('_')}) by {loaded.batch_id}:"
            f" {loaded.rows_landed} rows landed, {loaded.rows_quarantined} quarantined, none loaded"
        )
        _dbt(model_database)
        stale = [row for row in _counts(model_database) if row[4] == week]
        print(f"found: {len(stale)} rows of week {week} after the incremental build")
        assert not stale, f"the counts of the replaced week {week} are gone"

    incremental = _counts(model_database)
    versions = _row_versions(model_database)
    _dbt(model_database)
    assert _row_versions(model_database) == versions, "a build with nothing new rewrites no row"
    _dbt(model_database, "--full-refresh")
    full = _counts(model_database)
    print(f"found: {len(set(incremental) ^ set(full))} rows differ between the incremental and a full rebuild")
    assert incremental == full
    # The weeks after each replaced one were recounted: W03 needs four weekly returns in a row.
    assert not [row for row in incremental if row[1] == "W03"]
