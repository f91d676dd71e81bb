"""The warehouse bootstrap: idempotent, and bi_reader reads marts and nothing else."""

from __future__ import annotations

import psycopg
import pytest

from probation_evidence import warehouse

pytestmark = pytest.mark.warehouse

CATALOG_SNAPSHOT = """
select 'schema', nspname, coalesce(array_to_string(nspacl, ','), '') from pg_namespace
 where nspname in ('raw', 'staging', 'intermediate', 'marts', 'audit', 'security')
union all
select 'role', rolname, rolcanlogin::text from pg_roles
 where rolname in ('warehouse_loader', 'warehouse_transformer', 'warehouse_publisher', 'bi_reader',
                   'planner_reader', 'provider_reader')
union all
select 'policy', schemaname || '.' || tablename || '.' || policyname,
       permissive || ' ' || array_to_string(roles, ',') || ' ' || coalesce(qual, '') from pg_policies
union all
select 'function', p.oid::regprocedure::text, coalesce(array_to_string(p.proacl, ','), '') from pg_proc as p
 where p.pronamespace = 'security'::regnamespace
union all
select 'acl', c.oid::regclass::text, coalesce(array_to_string(c.relacl, ','), '') from pg_class as c
 where c.relnamespace in ('audit'::regnamespace, 'security'::regnamespace, 'marts'::regnamespace)
   and c.relkind = 'r'
union all
select 'table', schemaname || '.' || tablename, '' from pg_tables
 where schemaname = 'audit' or tablename = 'evidence_pack_values'
union all
select 'default_acl', defaclnamespace::regnamespace::text, array_to_string(defaclacl, ',') from pg_default_acl
order by 1, 2, 3
"""


def test_bootstrap_twice_changes_nothing(warehouse_url, conn):
    before = conn.execute(CATALOG_SNAPSHOT).fetchall()
    conn.rollback()

    warehouse.bootstrap(warehouse_url)

    assert conn.execute(CATALOG_SNAPSHOT).fetchall() == before
    assert {row[1] for row in before if row[0] == "schema"} == {
        "raw",
        "staging",
        "intermediate",
        "marts",
        "audit",
        "security",
    }
    assert {row[1] for row in before if row[0] == "role"} >= {"planner_reader", "provider_reader"}
    assert ("policy", "marts.evidence_pack_values.own_provider_only") in {row[:2] for row in before}


@pytest.fixture
def sample_tables(conn):
    """A raw table made by the loader role and a mart made by the transformer role, as in real runs."""
    conn.execute("set role warehouse_loader")
    conn.execute("create table raw.privilege_probe (x int)")
    conn.execute("set role warehouse_transformer")
    conn.execute("create table marts.privilege_probe (x int)")
    conn.execute("reset role")
    yield
    conn.rollback()


def _can(conn, sql: str) -> bool:
    conn.execute("savepoint probe")
    try:
        conn.execute(sql)
    except psycopg.errors.InsufficientPrivilege:
        conn.execute("rollback to savepoint probe")
        return False
    conn.execute("release savepoint probe")
    return True


def test_bi_reader_reads_marts_and_nothing_else(conn, sample_tables):
    conn.execute("set role bi_reader")
    assert _can(conn, "select * from marts.privilege_probe")
    assert not _can(conn, "select * from raw.privilege_probe")
    assert not _can(conn, "select * from audit.load_batches")
    assert not _can(conn, "insert into marts.privilege_probe values (1)")
    assert not _can(conn, "create table marts.intruder (x int)")
    assert not _can(conn, "create table public.intruder (x int)")


def test_transformer_reads_raw_but_cannot_write_it(conn, sample_tables):
    conn.execute("set role warehouse_transformer")
    assert _can(conn, "select * from raw.privilege_probe")
    assert not _can(conn, "insert into raw.privilege_probe values (1)")
    assert _can(conn, "select * from audit.load_batches")
    assert not _can(conn, "delete from audit.load_batches")


def test_loader_cannot_touch_marts(conn, sample_tables):
    conn.execute("set role warehouse_loader")
    assert not _can(conn, "select * from marts.privilege_probe")
    assert not _can(conn, "create table marts.intruder (x int)")


def test_publisher_reads_marts_and_records_publications_but_writes_nothing_else(conn, sample_tables):
    conn.execute("set role warehouse_publisher")
    assert _can(conn, "select * from marts.privilege_probe")  # a mart dbt builds later: default privileges
    assert _can(conn, "select * from audit.load_batches")
    assert _can(conn, "select * from audit.pack_publications")
    assert _can(conn, "select * from marts.evidence_pack_values")
    assert not _can(conn, "insert into marts.privilege_probe values (1)")
    assert not _can(conn, "update audit.pack_publications set reason = 'requested'")
    assert not _can(conn, "delete from marts.evidence_pack_values")
    assert not _can(conn, "select * from raw.privilege_probe")
    assert not _can(conn, "create table marts.intruder (x int)")


def test_bi_reader_reads_frozen_pack_values_but_not_the_publication_log(conn):
    conn.execute("set role bi_reader")
    assert _can(conn, "select * from marts.evidence_pack_values")
    assert not _can(conn, "select * from audit.pack_publications")
    conn.rollback()
