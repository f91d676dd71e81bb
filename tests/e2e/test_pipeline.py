"""End to end, through Airflow itself: simulated provider APIs and file drops -> raw -> dbt -> marts ->
evidence packs.

Runs every DAG with `airflow dags test` (real task runs, real dbt through Cosmos, real PostgreSQL),
then runs them all again and proves nothing in `raw`, `audit`, `intermediate` or `marts` changed. On the
built warehouse it also generates the dbt docs and checks every column of every relation is described, and
sends a corrected weekly return through the incremental workload model.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from probation_evidence import settings
from probation_evidence.local import dbt_runner, demo
from probation_evidence.orchestration.defaults import FAMILIES
from probation_evidence.sources import contracts, ingest, landing, loading

pytestmark = [pytest.mark.warehouse, pytest.mark.airflow, pytest.mark.slow]

FINGERPRINT = """
select table_schema || '.' || table_name
from information_schema.tables
where table_schema in ('raw', 'audit', 'intermediate', 'marts') and table_type = 'BASE TABLE'
order by 1
"""


def fingerprint(conn) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent hash of every row of every raw, audit, intermediate and mart table."""
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


def _pack_files(state) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (state / "packs").rglob("*") if p.is_file()}


def test_each_pack_is_html_pdf_and_csv_and_reads_well_in_a_real_browser(pipeline_state):
    import subprocess

    from probation_evidence.packs.browser import inspect_page

    htmls = sorted((pipeline_state / "packs").rglob("*.html"))
    for html in htmls:
        assert html.with_suffix(".pdf").stat().st_size > 10_000
        assert html.with_suffix(".csv").read_text().startswith("record_type,")
    html = htmls[0]
    artifacts = settings.project_root() / "test-artifacts"
    report = inspect_page(html, artifacts / f"{html.stem}.png")
    assert report["console_errors"] == [] and report["page_errors"] == [] and report["blocked_requests"] == []
    assert report["svg_count"] > 40 and report["svg_rendered"] == report["svg_count"]
    assert report["svg_without_title"] == 0 and report["images_without_alt"] == 0
    assert [tag for tag, _ in report["headings"]][0] == "h1"
    assert (artifacts / f"{html.stem}.png").stat().st_size > 50_000

    pdf = html.with_suffix(".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout  # noqa: S607
    assert "A4" in info and int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages"))) >= 10
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S607
    assert "indicative" in text.lower() and "PO vacancy rate" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--inspection", "INS-2026-N07", "--provider", "N99"], "unknown provider 'N99'; known providers: N03"),
        (["--inspection", "INS-NOPE"], "Unknown inspection 'INS-NOPE'"),
        (["--inspection", "INS-2026-N07", "--provider", "N03"], "is of provider N07, not N03"),
    ],
)
def test_the_pack_command_names_what_it_does_not_know(pipeline_state, warehouse_url, args, message, tmp_path, capsys):
    from probation_evidence import cli

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_URL", warehouse_url.url())
        assert cli.main(["pack", *args, "--date", "2026-09-30", "--out", str(tmp_path)]) == 1
    assert message in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.html"))


def test_the_pack_command_publishes_the_due_packs_with_progress(pipeline_state, warehouse_url, tmp_path, capsys):
    from probation_evidence import cli

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_URL", warehouse_url.url())
        assert cli.main(["pack", "--due", "--date", "2026-09-30", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.html"))
    published = sorted(p.relative_to(pipeline_state / "packs") for p in (pipeline_state / "packs").rglob("*.html"))
    assert written == published
    assert f"[{len(written)}/{len(written)}]" in err and "(+ .pdf, .csv)" in err
    for path in written:  # the command and the DAG publish the same bytes
        assert (tmp_path / path).read_bytes() == (pipeline_state / "packs" / path).read_bytes()


def test_a_second_run_changes_no_row(pipeline_state, warehouse_url, conn):
    before = fingerprint(conn)
    packs_before = _pack_files(pipeline_state)

    demo.run_pipeline(warehouse_url, settings.DEMO_AS_AT, settings.DEMO_SEED)

    assert fingerprint(conn) == before
    assert _pack_files(pipeline_state) == packs_before, "HTML, CSV and PDF are left as they were"


def test_each_publication_is_recorded_hashed_and_frozen(pipeline_state, warehouse_url, conn):
    import csv
    import hashlib

    from probation_evidence.packs import publish
    from probation_evidence.packs.queries import load_pack_context

    rows = conn.execute(
        "select publication_id, inspection_id, pack_version, reason, as_at_date, data_sha256, html_sha256"
        " from audit.pack_publications order by inspection_id"
    ).fetchall()
    htmls = {p.parent.name: p for p in (pipeline_state / "packs").rglob("*.html")}
    assert sorted(r[1] for r in rows) == sorted(htmls), "one publication per published pack"
    for publication_id, inspection_id, version, reason, _, _, html_hash in rows:
        assert (version, reason) == (1, "first")
        html = htmls[inspection_id]
        assert hashlib.sha256(html.read_bytes()).hexdigest() == html_hash
        frozen = conn.execute(
            "select count(*) from marts.evidence_pack_values where publication_id = %s", [publication_id]
        ).fetchone()[0]
        with html.with_suffix(".csv").open() as handle:
            assert frozen == sum(1 for _ in csv.DictReader(handle)) > 100
    # Regenerating the pack for the same as-at date gives the same numbers and the same hash.
    _, inspection_id, *_, as_at, data_hash, _ = rows[0]
    assert publish.data_sha256(load_pack_context(conn, inspection_id, as_at)) == data_hash
    conn.rollback()


@pytest.fixture
def dbt_target(tmp_path, monkeypatch):
    """dbt writes its artifacts to a folder of the test's own, never the project's target/."""
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    return tmp_path / "target"


def test_dbt_docs_generate_describes_every_column_the_warehouse_holds(pipeline_state, warehouse_url, dbt_target):
    dbt_runner.run(["docs", "generate", "--static"], url=warehouse_url)  # as make docs-site runs it

    manifest = json.loads((dbt_target / "manifest.json").read_text())
    catalog = json.loads((dbt_target / "catalog.json").read_text())
    assert (dbt_target / "static_index.html").stat().st_size > 100_000  # the one-file site
    documented = {**manifest["nodes"], **manifest["sources"]}
    checked, missing = 0, []
    for unique_id, entry in [*catalog["nodes"].items(), *catalog["sources"].items()]:
        node = documented[unique_id]
        for column in entry["columns"]:
            checked += 1
            if not (node["columns"].get(column.lower()) or {}).get("description", "").strip():
                missing.append(f"{unique_id}.{column}")
    kinds = {documented[u]["resource_type"] for u in [*catalog["nodes"], *catalog["sources"]]}
    assert kinds == {"model", "seed", "source"}
    assert checked > 500
    assert not missing, "columns in the warehouse that the dbt docs do not describe:\n" + "\n".join(missing)


def test_every_source_is_fresh_after_the_demo_run(pipeline_state, warehouse_url, dbt_target):
    dbt_runner.run(["source", "freshness"], url=warehouse_url)  # as make freshness runs it; raises on error

    results = json.loads((dbt_target / "sources.json").read_text())["results"]
    assert len(results) >= 28
    assert {r["status"] for r in results} == {"pass"}, [r["unique_id"] for r in results if r["status"] != "pass"]


def test_a_pack_is_republished_as_a_new_version_on_request_or_when_its_data_changes(
    pipeline_state, warehouse_url, conn, tmp_path
):
    from probation_evidence.packs import publish

    inspection_id, provider_id = conn.execute(
        "select inspection_id, provider_id from audit.pack_publications order by inspection_id limit 1"
    ).fetchone()
    inspection = {"inspection_id": inspection_id, "run_date": settings.DEMO_AS_AT.isoformat()}

    def versions():
        found = conn.execute(
            "select pack_version, reason, data_sha256 from audit.pack_publications"
            " where inspection_id = %s order by pack_version",
            [inspection_id],
        ).fetchall()
        conn.rollback()
        return found

    publish.publish_pack(warehouse_url.url(), inspection, tmp_path)
    assert [v[:2] for v in versions()] == [(1, "first")], "unchanged data, no request: no new version"

    publish.publish_pack(warehouse_url.url(), inspection, tmp_path, republish=True)
    assert [v[:2] for v in versions()][-1] == (2, "requested")
    assert versions()[-1][2] == versions()[0][2], "same numbers, new version"
    assert "v2" in (tmp_path / inspection_id / f"{provider_id}-evidence-pack-v2.html").read_text()

    changed = (
        "update marts.fct_indicator_values set value = value + 0.01 where provider_id = %s and indicator_id = 'S01'"
    )
    conn.execute(changed, [provider_id])
    conn.commit()
    try:
        publish.publish_pack(warehouse_url.url(), inspection, tmp_path)
        assert [v[:2] for v in versions()][-1] == (3, "data changed")
        assert versions()[-1][2] != versions()[0][2]
    finally:
        conn.execute(changed.replace("+ 0.01", "- 0.01"), [provider_id])
        conn.commit()
    publish.publish_pack(warehouse_url.url(), inspection, tmp_path)
    assert [v[:2] for v in versions()][-1] == (4, "data changed")
    assert versions()[-1][2] == versions()[0][2], "the data is back as it was at version 1"


# The row versions (xmin) of the other providers' rows: unchanged unless a build rewrote them.
ROW_VERSIONS = (
    "select string_agg(xmin::text, ',' order by indicator_count_id)"
    " from intermediate.int_workload_indicators_counted where provider_id <> %s"
)

WORKLOAD_COUNTS = """
select indicator_id, coalesce(pdu_code, 'ALL'), period_end_date, numerator, denominator, source_batch_ids
from intermediate.int_workload_indicators_counted
where provider_id = %s
order by 1, 2, 3
"""


def test_a_corrected_weekly_return_is_counted_incrementally_as_a_full_rebuild_would(
    pipeline_state, warehouse_url, conn, dbt_target
):
    """Runs last in this module: it replaces a slice, then puts the original back."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = pipeline_state / "landing"
    provider_id, week = (
        "N07",
        conn.execute(
            "select max(period_end_date) - 14 from audit.load_batches where entity = 'weekly_caseload'"
        ).fetchone()[0],
    )
    original_batch = conn.execute(
        "select batch_id from audit.load_batches where entity = 'weekly_caseload' and provider_id = %s"
        " and period_end_date = %s",
        [provider_id, week],
    ).fetchone()[0]
    original = landing.Manifest.from_dict(json.loads(next(root.rglob(f"{original_batch}.manifest.json")).read_text()))
    before = conn.execute(WORKLOAD_COUNTS, [provider_id]).fetchall()
    other_providers = conn.execute(
        "select count(*), md5(string_agg(t::text, '|' order by indicator_count_id))"
        " from intermediate.int_workload_indicators_counted as t where provider_id <> %s",
        [provider_id],
    ).fetchone()
    untouched = conn.execute(ROW_VERSIONS, [provider_id]).fetchone()[0]
    conn.rollback()

    # The provider resubmits that week with every practitioner over 110% capacity.
    table = pq.read_table(root / original.path)
    column = table.schema.get_field_index("capacity_pct")
    over = pa.array(["250"] * table.num_rows).cast(table.schema.field(column).type)
    corrected = table.set_column(column, table.schema.field(column), over)
    contract = contracts.get_contract("workload", "weekly_caseload")
    replacement = landing.land_table(corrected, contract, provider_id, week, root)
    with warehouse_connection(warehouse_url) as load_conn:
        assert loading.load_landed_file(load_conn, replacement, root).status == "loaded"
    dbt_runner.run(["run", "--select", "int_workload_indicators_counted"], url=warehouse_url)
    incremental = conn.execute(WORKLOAD_COUNTS, [provider_id]).fetchall()
    assert conn.execute(ROW_VERSIONS, [provider_id]).fetchone()[0] == untouched, (
        "an incremental build rewrites no row of a provider whose returns did not change"
    )
    conn.rollback()

    changed = {(row[0], row[1], row[2]) for row in set(incremental) ^ set(before)}
    # The corrected week changes; a later week can change only through W03 (four weeks over 110%).
    assert {period for *_, period in changed} <= {week + timedelta(days=d) for d in (0, 7, 14)}
    assert {indicator for indicator, _, period in changed if period != week} <= {"W03"}
    assert ("W02", "ALL", week) in changed
    w02 = next(row for row in incremental if row[:3] == ("W02", "ALL", week))
    assert w02[3] == w02[4], "every practitioner is over 110% in the corrected return"
    assert w02[5] == replacement.batch_id

    dbt_runner.run(["run", "--full-refresh", "--select", "int_workload_indicators_counted"], url=warehouse_url)
    assert conn.execute(WORKLOAD_COUNTS, [provider_id]).fetchall() == incremental
    conn.rollback()

    # The original return is resubmitted: the incremental build puts every count back as it was.
    with warehouse_connection(warehouse_url) as load_conn:
        assert loading.load_landed_file(load_conn, original, root).status == "loaded"
    dbt_runner.run(["run", "--select", "int_workload_indicators_counted"], url=warehouse_url)
    assert conn.execute(WORKLOAD_COUNTS, [provider_id]).fetchall() == before
    assert (
        conn.execute(
            "select count(*), md5(string_agg(t::text, '|' order by indicator_count_id))"
            " from intermediate.int_workload_indicators_counted as t where provider_id <> %s",
            [provider_id],
        ).fetchone()
        == other_providers
    )

    # A full refresh replaces the table, and PostgreSQL drops the views built on it with the old one:
    # rebuilding everything downstream puts the warehouse back as the other modules expect it.
    dbt_runner.run(["run", "--select", "int_workload_indicators_counted+"], url=warehouse_url)
    assert conn.execute("select to_regclass('intermediate.int_indicator_counts_unioned') is not null").fetchone() == (
        True,
    )
    conn.rollback()


def warehouse_connection(url):
    import psycopg

    return psycopg.connect(url.url())
