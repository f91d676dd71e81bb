"""The embedded warehouse comes back where its clients expect it after a stop with sessions open."""

from __future__ import annotations

import pytest

from probation_evidence.local import embedded

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]


def test_a_restart_after_sessions_were_ended_keeps_the_port(tmp_path):
    """A fast stop ends every session, but the server's side of each lingers (FIN_WAIT2, then TIME_WAIT)
    until its client lets go. The restarted server must still take its port, or every URL a client holds
    is refused (as happened to the transform fault test)."""
    import psycopg

    server = embedded.EmbeddedWarehouse(tmp_path / "warehouse")
    try:
        url = server.start()
        session = psycopg.connect(url.url(), autocommit=True)
        session.execute("select 1")
        server.stop()
        print(f"injected: the warehouse on port {url.port} stopped while a client still holds its session")
        restarted = server.start()
        session.close()
        print(f"found: restarted on port {restarted.port}")
        assert restarted.port == url.port
        with psycopg.connect(url.url()) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        server.stop()
