"""End to end, through Airflow itself: simulated provider APIs and file drops -> raw -> dbt -> marts ->
evidence packs.

Runs every DAG with `airflow dags test` (real task runs, real dbt through Cosmos, real PostgreSQL),
then runs them all again and proves nothing in `raw`, `audit` or `marts` changed.
"""

from __future__ import annotations

import pytest

from probation_evidence import demo, ingest, settings
from probation_evidence.orchestration import FAMILIES

pytestmark = [pytest.mark.warehouse, pytest.mark.airflow, pytest.mark.slow]

FINGERPRINT = """
select table_schema || '.' || table_name
from information_schema.tables
where table_schema in ('raw', 'audit', 'marts') and table_type = 'BASE TABLE'
order by 1
"""


def fingerprint(conn) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent hash of every row of every raw, audit and mart table."""
    tables = [row[0] for row in conn.execute(FINGERPRINT).fetchall()]
    result = {}
    for table in tables:
        count, digest = conn.execute(
            f"select count(*), coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '')"  # noqa: S608
            f" from {table} as t"
        ).fetchone()
        result[table] = (count, digest)
    conn.rollback()
    return result


@pytest.fixture(scope="module")
def pipeline_state(tmp_path_factory, warehouse_url):
    state = tmp_path_factory.mktemp("state")
    mp = pytest.MonkeyPatch()
    mp.setenv("PROBATION_EVIDENCE_STATE", str(state))
    mp.setenv("LANDING_DIR", str(state / "landing"))
    mp.setenv("PACKS_DIR", str(state / "packs"))
    mp.setenv("DROPS_DIR", str(state / "drops"))
    demo.run_pipeline(warehouse_url, settings.DEMO_AS_AT, settings.DEMO_SEED)
    yield state
    mp.undo()


def test_packs_are_published_for_inspections_due_within_the_lead_window(pipeline_state, conn):
    packs = sorted((pipeline_state / "packs").rglob("*.html"))
    due = conn.execute(
        "select inspection_id, provider_id from marts.dim_inspection"
        " where fieldwork_start_date > %s and fieldwork_start_date <= %s + 56",
        [settings.DEMO_AS_AT, settings.DEMO_AS_AT],
    ).fetchall()
    assert due, "the demo schedule has inspections inside the window"
    assert {p.parent.name for p in packs} == {inspection_id for inspection_id, _ in due}
    html = packs[0].read_text()
    assert "PO vacancy rate" in html
    assert "substantial or frequent staff shortages" in html


def test_every_family_of_every_provider_is_loaded_and_nothing_is_lost(pipeline_state, conn):
    rows = conn.execute(
        "select source, provider_id, sum(rows_landed), sum(rows_loaded), sum(rows_quarantined)"
        " from audit.load_batches where period_end_date <= %s and period_end_date > %s - 400"
        " group by 1, 2 order by 1, 2",
        [settings.DEMO_AS_AT, settings.DEMO_AS_AT],
    ).fetchall()
    assert {(source, provider) for source, provider, *_ in rows} == {
        (family, provider) for family in FAMILIES for provider in ingest.provider_ids()
    }
    assert all(landed == loaded + quarantined and loaded > 0 for *_, landed, loaded, quarantined in rows)
    quarantined = conn.execute("select count(*) from audit.quarantine").fetchone()[0]
    assert quarantined == conn.execute("select sum(rows_quarantined) from audit.load_batches").fetchone()[0]
    assert quarantined > 0, "the simulated providers send some bad rows"


def test_late_and_missing_submissions_are_recorded(pipeline_state, conn):
    statuses = dict(
        conn.execute(
            "select status, count(*) from audit.submissions"
            " where period_end_date <= %s and period_end_date > %s - 400 group by 1",
            [settings.DEMO_AS_AT, settings.DEMO_AS_AT],
        ).fetchall()
    )
    assert statuses.get("late", 0) > 0
    assert statuses.get("missing", 0) > 0
    assert "failed" not in statuses
    raw = conn.execute("select count(*) from raw.staffing_staff where as_at_date = %s", [settings.DEMO_AS_AT])
    loaded = conn.execute(
        "select sum(rows_loaded) from audit.load_batches where entity = 'staff' and period_end_date = %s",
        [settings.DEMO_AS_AT],
    )
    assert raw.fetchone()[0] == loaded.fetchone()[0]


def test_the_indicator_reaches_the_marts_with_interval_and_national_value(pipeline_state, conn):
    rows = conn.execute(
        "select provider_id, value, lower_95, upper_95, national_value from marts.fct_indicator_values"
        " where indicator_id = 'S01' and period_end_date = %s and pdu_code is null",
        [settings.DEMO_AS_AT],
    ).fetchall()
    assert len(rows) == 12
    national = {row[4] for row in rows}
    assert len(national) == 1
    for _, value, lower, upper, _ in rows:
        if lower is not None:
            assert lower <= value <= upper


def test_a_second_run_changes_no_row(pipeline_state, warehouse_url, conn):
    before = fingerprint(conn)
    packs_before = {p: p.read_bytes() for p in (pipeline_state / "packs").rglob("*.html")}

    demo.run_pipeline(warehouse_url, settings.DEMO_AS_AT, settings.DEMO_SEED)

    assert fingerprint(conn) == before
    assert {p: p.read_bytes() for p in (pipeline_state / "packs").rglob("*.html")} == packs_before
