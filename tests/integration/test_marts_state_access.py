"""audit.marts_state: one row at most, three states, written by the transformer only, read by the
publisher (which refuses to publish unless it says 'passed') and by planners."""

from __future__ import annotations

import psycopg
import pytest

from tests.privileges import can

pytestmark = pytest.mark.warehouse

UPSERT = (
    "insert into audit.marts_state (status, detail) values ('passed', 'probe')"
    " on conflict (singleton) do update set status = excluded.status"
)


@pytest.fixture
def state_conn(conn):
    yield conn
    conn.rollback()


def test_only_the_transformer_writes_the_marts_state(state_conn):
    state_conn.execute("set role warehouse_transformer")
    assert can(state_conn, UPSERT)
    assert can(state_conn, UPSERT), "the same row is updated, never a second one"
    for reader in ("warehouse_publisher", "planner_reader"):
        state_conn.execute(f"set role {reader}")
        assert can(state_conn, "select status from audit.marts_state"), reader
        assert not can(state_conn, "update audit.marts_state set status = 'passed'"), reader
    for outsider in ("warehouse_loader", "bi_reader", "provider_reader"):
        state_conn.execute(f"set role {outsider}")
        assert not can(state_conn, "select status from audit.marts_state"), outsider


def test_one_row_of_three_states(state_conn):
    state_conn.execute("delete from audit.marts_state")  # the pipeline's own row, if any: rolled back after
    state_conn.execute("insert into audit.marts_state (status) values ('building')")
    with pytest.raises(psycopg.errors.UniqueViolation):
        state_conn.execute("insert into audit.marts_state (status) values ('passed')")
    state_conn.rollback()
    for values in ("(false, 'passed')", "(true, 'done')"):
        state_conn.execute("delete from audit.marts_state")
        with pytest.raises(psycopg.errors.CheckViolation):
            state_conn.execute(f"insert into audit.marts_state (singleton, status) values {values}")
        state_conn.rollback()
