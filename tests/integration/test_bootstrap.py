"""The warehouse bootstrap: idempotent, and bi_reader reads marts and nothing else."""

from __future__ import annotations

import psycopg
import pytest

from probation_evidence import warehouse
from tests.privileges import can

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


def test_bi_reader_reads_marts_and_nothing_else(conn, sample_tables):
    conn.execute("set role bi_reader")
    assert can(conn, "select * from marts.privilege_probe")
    assert not can(conn, "select * from raw.privilege_probe")
    assert not can(conn, "select * from audit.load_batches")
    assert not can(conn, "insert into marts.privilege_probe values (1)")
    assert not can(conn, "create table marts.intruder (x int)")
    assert not can(conn, "create table public.intruder (x int)")


def test_transformer_reads_raw_but_cannot_write_it(conn, sample_tables):
    conn.execute("set role warehouse_transformer")
    assert can(conn, "select * from raw.privilege_probe")
    assert not can(conn, "insert into raw.privilege_probe values (1)")
    assert can(conn, "select * from audit.load_batches")
    assert not can(conn, "delete from audit.load_batches")


def test_loader_cannot_touch_marts(conn, sample_tables):
    conn.execute("set role warehouse_loader")
    assert not can(conn, "select * from marts.privilege_probe")
    assert not can(conn, "create table marts.intruder (x int)")


def test_publisher_reads_marts_and_records_publications_but_writes_nothing_else(conn, sample_tables):
    conn.execute("set role warehouse_publisher")
    assert can(conn, "select * from marts.privilege_probe")  # a mart dbt builds later: default privileges
    assert can(conn, "select * from audit.load_batches")
    assert can(conn, "select * from audit.pack_publications")
    assert can(conn, "select * from marts.evidence_pack_values")
    assert not can(conn, "insert into marts.privilege_probe values (1)")
    assert not can(conn, "update audit.pack_publications set reason = 'requested'")
    assert not can(conn, "delete from marts.evidence_pack_values")
    assert not can(conn, "select * from raw.privilege_probe")
    assert not can(conn, "create table marts.intruder (x int)")


def test_bi_reader_reads_frozen_pack_values_but_not_the_publication_log(conn):
    conn.execute("set role bi_reader")
    assert can(conn, "select * from marts.evidence_pack_values")
    assert not can(conn, "select * from audit.pack_publications")
    conn.rollback()


def test_the_pipeline_login_is_no_superuser_and_holds_only_the_pipeline_roles(warehouse_url, conn):
    import secrets

    from probation_evidence import settings

    name, password = f"pe_test_pipeline_{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    with pytest.raises(warehouse.WarehouseError, match="PIPELINE_PASSWORD"):
        warehouse.create_pipeline_login(warehouse_url, name, "")
    try:
        warehouse.create_pipeline_login(warehouse_url, name, "first-" + password)
        conn.execute(f'alter role "{name}" superuser createrole')  # a login that drifted
        conn.commit()
        warehouse.create_pipeline_login(warehouse_url, name, password)  # again: reset, not an error

        login = warehouse.WarehouseUrl(warehouse_url.host, warehouse_url.port, name, password, warehouse_url.dbname)
        with psycopg.connect(login.url()) as pipeline:  # over TCP, with the new password
            flags = pipeline.execute(
                "select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles where rolname = current_user"
            ).fetchone()
            member_of = {
                row[0]
                for row in pipeline.execute(
                    "select b.rolname from pg_auth_members m join pg_roles b on b.oid = m.roleid"
                    " join pg_roles u on u.oid = m.member where u.rolname = current_user"
                ).fetchall()
            }
            assert flags == (False, False, False, False)
            assert member_of == set(settings.PIPELINE_ROLES)
            for role in settings.PIPELINE_ROLES:
                pipeline.execute(f"set role {role}")
            assert not can(pipeline, "set role bi_reader")
            pipeline.rollback()
    finally:
        conn.rollback()
        conn.execute(f'drop role if exists "{name}"')
        conn.commit()
