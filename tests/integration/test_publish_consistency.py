"""Publishing reads a consistent, tested warehouse, and a recorded pack version never changes.

Against a real PostgreSQL: a throwaway database per module, bootstrapped as the warehouse is (roles,
audit tables, audit.marts_state, marts.evidence_pack_values with its row-level security), holding the
marts the pack reads (the contract of tests/integration/test_pack_queries.py). Packs are published with
the real publish_pack, printed to PDF by the real headless chromium.

- no pack is recorded or written unless audit.marts_state says 'passed' (publish_pack and the CLI);
- each pack's queries run in one REPEATABLE READ, READ ONLY snapshot: a value committed between two of
  its queries is not in the pack;
- the same numbers with different HTML make a new version ('content changed'): the recorded version's
  files are left as recorded, and every version's files match its recorded hashes;
- two publishers of one inspection take consecutive versions (the advisory lock serialises them).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from collections.abc import Generator, Iterator
from datetime import timedelta

import psycopg
import pytest
from psycopg import sql

from probation_evidence import cli, warehouse
from probation_evidence.packs import publish
from probation_evidence.packs.publish import next_version
from tests.integration.test_pack_queries import AS_AT, MARTS_SQL, SEED

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]

GATE_LOCK = 4242  # the test holds it to pause a publisher between two of its queries

# dim_standard becomes a view over the seeded rows that (a) shows the reading transaction's isolation
# level and read-only flag in standard 1.1's statement, so the rendered pack says how it was read, and
# (b) waits at GATE_LOCK, so a test can commit a change between the pack's first queries and this one.
VIEWS_SQL = f"""
alter table marts.dim_standard rename to dim_standard_rows;
create function marts.snapshot_gate() returns boolean language plpgsql volatile as $$
begin
    perform pg_advisory_lock_shared({GATE_LOCK});
    perform pg_advisory_unlock_shared({GATE_LOCK});
    return true;
end
$$;
create view marts.dim_standard as
select
    standard_id,
    standard_name,
    case
        when standard_id = '1.1'
            then standard_statement || ' [isolation: ' || current_setting('transaction_isolation')
            || '; read only: ' || current_setting('transaction_read_only') || ']'
        else standard_statement
    end as standard_statement
from marts.dim_standard_rows
where marts.snapshot_gate();
"""

BATCH_COLUMNS = (
    "batch_id, source, entity, provider_id, period_end_date, rows_landed, rows_loaded, rows_quarantined, loaded_at"
)


@contextlib.contextmanager
def seeded_warehouse(server_url, prefix: str, extra_sql: str | None = None) -> Generator[warehouse.WarehouseUrl]:
    """A throwaway bootstrapped database holding the seeded marts and audit rows, its marts state 'passed'
    (`extra_sql` runs after the seed, before the grants); dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    url = warehouse.fresh_database(server_url, name)
    try:
        warehouse.bootstrap(url)
        with psycopg.connect(url.url()) as conn:
            conn.execute(MARTS_SQL)
            for table, rows in SEED.items():
                schema, table_name = table.split(".")
                if schema == "marts":
                    statement = sql.SQL("insert into {} values ({})").format(
                        sql.Identifier(schema, table_name), sql.SQL(", ").join([sql.Placeholder()] * len(rows[0]))
                    )
                    conn.cursor().executemany(statement, rows)
            conn.cursor().executemany(
                "insert into audit.submissions (source, entity, provider_id, period_end_date, due_date, status,"
                " received_at, batch_id, detail) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                SEED["audit.submissions"],
            )
            conn.cursor().executemany(
                f"insert into audit.load_batches ({BATCH_COLUMNS}, source_file, file_sha256, schema_version)"  # noqa: S608
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'f.csv', 'x', '1')",
                SEED["audit.load_batches"],
            )
            if extra_sql:
                conn.execute(extra_sql)
            conn.execute("insert into audit.marts_state (status, detail) values ('passed', 'seeded')")
        warehouse.bootstrap(url)  # grants the roles the marts tables made above
        yield url
    finally:
        warehouse.drop_database(server_url, name)


@pytest.fixture(scope="module")
def url(server_url) -> Iterator[warehouse.WarehouseUrl]:
    """A bootstrapped warehouse with the seeded marts and audit rows, its marts state 'passed'."""
    with seeded_warehouse(server_url, "pe_publish_test", VIEWS_SQL) as url:
        yield url


def set_state(url: warehouse.WarehouseUrl, status: str | None) -> None:
    with psycopg.connect(url.url()) as conn:
        conn.execute("delete from audit.marts_state")
        if status is not None:
            conn.execute("insert into audit.marts_state (status, detail) values (%s, 'set by the test')", [status])


def publications(url: warehouse.WarehouseUrl, inspection_id: str) -> list[tuple]:
    with psycopg.connect(url.url()) as conn:
        return conn.execute(
            "select pack_version, reason, data_sha256, html_sha256, csv_sha256 from audit.pack_publications"
            " where inspection_id = %s order by pack_version",
            [inspection_id],
        ).fetchall()


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inspection(inspection_id: str) -> dict:
    return {"inspection_id": inspection_id, "run_date": AS_AT.isoformat()}


@pytest.mark.parametrize("status", ["building", "failed", None])
def test_nothing_is_published_unless_the_marts_passed_their_tests(url, tmp_path, capsys, status):
    set_state(url, status)
    try:
        named = "has no row" if status is None else f"the marts state is '{status}'"
        with pytest.raises(publish.MartsNotPublishable, match=named):
            publish.publish_pack(url.url(), inspection("INS-IN"), tmp_path)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("WAREHOUSE_URL", url.url())
            assert (
                cli.main(["pack", "--inspection", "INS-IN", "--date", AS_AT.isoformat(), "--out", str(tmp_path)]) == 1
            )
        err = capsys.readouterr().err
        assert "refusing to publish" in err and named in err and "transform_warehouse" in err
    finally:
        set_state(url, "passed")
    assert publications(url, "INS-IN") == []
    assert not list(tmp_path.rglob("*.*"))


def test_a_pack_is_read_in_one_repeatable_read_read_only_snapshot(url, tmp_path):
    """A value committed after the pack's first query, before a later one, is not in the pack."""
    result: dict = {}

    def publishing() -> None:
        try:
            result["html"] = publish.publish_pack(url.url(), inspection("INS-IN"), tmp_path)
        except BaseException as error:  # reported by the test below
            result["error"] = error

    changed = "update marts.fct_indicator_values set value = %s where indicator_value_id = 'N07|2026-09-30|S01'"
    with psycopg.connect(url.url(), autocommit=True) as test:
        test.execute("select pg_advisory_lock(%s)", [GATE_LOCK])
        thread = threading.Thread(target=publishing)
        thread.start()
        try:
            # The publisher has run its first queries and waits at the gate in dim_standard.
            wait_for_lock_waiters(test, "objid = %s", [GATE_LOCK], 1)
            test.execute(changed, [0.5])  # committed now, between the pack's queries
        finally:
            test.execute("select pg_advisory_unlock(%s)", [GATE_LOCK])
            thread.join()
        try:
            assert "error" not in result, result.get("error")
            with open(result["html"], encoding="utf-8") as handle:
                html = handle.read()
            assert "[isolation: repeatable read; read only: on]" in html
            frozen = test.execute(
                "select value from marts.evidence_pack_values where publication_id = 'INS-IN-v1'"
                " and record_type = 'indicator_value' and indicator_id = 'S01'"
            ).fetchone()
            assert frozen == (pytest.approx(0.1233),), "the pack holds the value its snapshot saw"
            assert "12.3%" in html and "50.0%" not in html
        finally:
            test.execute(changed, [0.1233])


def wait_for_lock_waiters(conn, where: str, params: list, count: int) -> None:
    """Until `count` sessions wait for the advisory lock (the test's way to know where a publisher is)."""
    for _ in range(600):
        waiting = conn.execute(
            f"select count(*) from pg_locks where locktype = 'advisory' and not granted and {where}",  # noqa: S608
            params,
        ).fetchone()[0]
        if waiting >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"no {count} publisher(s) waited for the lock within 30 s")


def test_same_numbers_with_different_html_is_a_new_version_and_recorded_files_never_change(url, tmp_path):
    folder = tmp_path / "INS-NEAR"
    publish.publish_pack(url.url(), inspection("INS-NEAR"), tmp_path)
    (v1, reason, data_v1, html_v1, csv_v1), = publications(url, "INS-NEAR")  # fmt: skip
    assert (v1, reason) == (1, "first")
    assert (sha256(folder / "N01-evidence-pack-v1.html"), sha256(folder / "N01-evidence-pack-v1.csv")) == (
        html_v1,
        csv_v1,
    )

    # The provider's return for another period is now missing: the data-quality section of the pack
    # changes, its numbers do not.
    missing = ("staffing", "establishment", "N01", AS_AT - timedelta(days=30), AS_AT, "missing", None, None, None)
    with psycopg.connect(url.url()) as conn:
        conn.execute("insert into audit.submissions values (%s, %s, %s, %s, %s, %s, %s, %s, %s)", list(missing))
    try:
        publish.publish_pack(url.url(), inspection("INS-NEAR"), tmp_path)
        recorded = publications(url, "INS-NEAR")
        assert [(v, r) for v, r, *_ in recorded] == [(1, "first"), (2, "content changed")]
        assert recorded[1][2] == data_v1, "the same numbers"
        for version, _, _, html_sha, csv_sha in recorded:  # every version's files are what was recorded
            assert sha256(folder / f"N01-evidence-pack-v{version}.html") == html_sha
            assert sha256(folder / f"N01-evidence-pack-v{version}.csv") == csv_sha
        assert "Not received" in (folder / "N01-evidence-pack-v2.html").read_text()

        # Rerun: nothing recorded, nothing rewritten.
        files = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
        publish.publish_pack(url.url(), inspection("INS-NEAR"), tmp_path)
        assert publications(url, "INS-NEAR") == recorded
        assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == files
    finally:
        with psycopg.connect(url.url()) as conn:
            conn.execute(
                "delete from audit.submissions where provider_id = 'N01' and period_end_date = %s",
                [AS_AT - timedelta(days=30)],
            )


def test_two_publishers_of_one_inspection_take_consecutive_versions(url, tmp_path):
    errors: list[BaseException] = []

    def publishing(out) -> None:
        try:
            publish.publish_pack(url.url(), inspection("INS-LATE"), out, republish=True)
        except BaseException as error:  # reported by the test below
            errors.append(error)

    publish.publish_pack(url.url(), inspection("INS-LATE"), tmp_path / "first")
    with psycopg.connect(url.url(), autocommit=True) as test:
        key = test.execute("select hashtext('pack|INS-LATE')").fetchone()[0]
        test.execute("select pg_advisory_lock(%s)", [key])
        threads = [threading.Thread(target=publishing, args=(tmp_path / f"p{n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        try:
            # Both publishers wait for the inspection's lock before reading anything.
            wait_for_lock_waiters(test, "objid = (%s::bigint & 4294967295)::oid", [key], 2)
        finally:
            test.execute("select pg_advisory_unlock(%s)", [key])
            for thread in threads:
                thread.join()
    assert errors == []
    assert [(v, r) for v, r, *_ in publications(url, "INS-LATE")] == [
        (1, "first"),
        (2, "requested"),
        (3, "requested"),
    ]


def test_the_frozen_rows_carry_the_provider_each_figure_is_about(url, tmp_path):
    """A row naming another provider (comparison, funnel point, peer) is tagged with it, not the pack's."""
    with psycopg.connect(url.url()) as conn:
        conn.execute(
            "insert into marts.fct_indicator_values (indicator_value_id, indicator_id, provider_id, period_end_date,"
            " value) values ('N01|2026-09-30|S01', 'S01', 'N01', %s, 0.2)",
            [AS_AT],
        )
    try:
        publish.publish_pack(url.url(), inspection("INS-IN"), tmp_path, republish=True)
        with psycopg.connect(url.url()) as conn:
            tagged = conn.execute(
                "select record_type, subject, provider_id, pack_provider_id from marts.evidence_pack_values"
                " where publication_id = (select max(publication_id) from audit.pack_publications"
                " where inspection_id = 'INS-IN') and record_type in ('provider_comparison', 'peer_group',"
                " 'funnel_point_provider', 'funnel_point_pdu') order by record_type, subject"
            ).fetchall()
    finally:
        with psycopg.connect(url.url()) as conn:
            conn.execute("delete from marts.fct_indicator_values where indicator_value_id = 'N01|2026-09-30|S01'")
    # Funnel points and the peer group name other providers too, and are tagged with them.
    assert tagged == [
        ("funnel_point_pdu", "N07-01", "N07", "N07"),
        ("funnel_point_provider", "N01", "N01", "N07"),
        ("funnel_point_provider", "N07", "N07", "N07"),
        ("peer_group", "N01", "N01", "N07"),
        ("provider_comparison", "N01", "N01", "N07"),
        ("provider_comparison", "N07", "N07", "N07"),
    ]


def test_next_version_for_changed_html_with_the_same_numbers():
    assert next_version((3, "abc", "html-a"), "abc", False, "html-b") == (4, "content changed")
    assert next_version((3, "abc", "html-a"), "abc", False, "html-a") == (3, None)
    assert next_version((3, "abc", "html-a"), "abd", False, "html-b") == (4, "data changed")


def test_the_bootstrap_brings_an_older_warehouses_publications_up_to_date(server_url):
    """A warehouse published to before this change: comparison rows tagged with the pack's provider, no
    pack_provider_id, no csv_sha256, no 'content changed'. The bootstrap retags the frozen rows once."""
    name = f"pe_publish_old_{secrets.token_hex(6)}"
    url = warehouse.fresh_database(server_url, name)
    try:
        warehouse.bootstrap(url)
        with psycopg.connect(url.url()) as conn:
            conn.execute("alter table marts.evidence_pack_values drop column pack_provider_id cascade")
            conn.execute("alter table audit.pack_publications drop column csv_sha256")
            conn.execute("alter table audit.pack_publications drop constraint pack_publications_reason_check")
            conn.execute(
                "alter table audit.pack_publications add constraint pack_publications_reason_check"
                " check (reason in ('first', 'data changed', 'requested'))"
            )
            conn.execute(
                "insert into audit.pack_publications values ('INS-A-v1', 'INS-A', 'N07', 1, %s, 'd', 'h', 'first',"
                " now())",
                [AS_AT],
            )
            conn.cursor().executemany(
                "insert into marts.evidence_pack_values (publication_id, provider_id, row_number, record_type,"
                " subject, value, published_at) values ('INS-A-v1', 'N07', %s, %s, %s, 0.1, now())",
                [(1, "indicator_value", "N07"), (2, "provider_comparison", "N01"), (3, "provider_comparison", "N07")],
            )
        for _ in range(2):  # the second run finds nothing to do
            warehouse.bootstrap(url)
            with psycopg.connect(url.url()) as conn:
                assert conn.execute(
                    "select row_number, provider_id, pack_provider_id from marts.evidence_pack_values order by 1"
                ).fetchall() == [(1, "N07", "N07"), (2, "N01", "N07"), (3, "N07", "N07")]
                conn.execute(
                    "insert into audit.pack_publications values ('INS-A-v9', 'INS-A', 'N07', 9, %s, 'd', 'h',"
                    " 'content changed', now(), 'c')",
                    [AS_AT],
                )
                conn.rollback()
    finally:
        warehouse.drop_database(server_url, name)
