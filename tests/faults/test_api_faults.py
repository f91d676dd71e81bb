"""Fault injection: provider APIs that reset connections, trickle a body, or never end their pages.

Each test runs one good provider against the real simulator and one bad provider against a misbehaving
server on a real socket, through extraction, the real loader and `record_submissions` on PostgreSQL. The bad
provider must fail in bounded time with a clear reason on every one of its slices, and the good provider
must land and load. Caps are set small through the real settings so each test takes seconds; nothing here
asserts timings.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date

import pytest

from probation_evidence import settings
from probation_evidence.simulator.server import serve
from probation_evidence.sources import ingest
from probation_evidence.sources.connectors.api_errors import SourceError
from probation_evidence.sources.connectors.provider_api import fetch_entity
from probation_evidence.sources.contracts import family_contracts
from tests.faults.api_servers import endless_pages_server, resetting_server, trickling_server

FAMILY = "staffing"
ENTITIES = [c.entity for c in family_contracts(FAMILY)]
AS_AT = date(2024, 11, 30)  # a period of its own: the database is shared with other tests
GOOD, BAD = "N07", "N03"
TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    server, thread = serve(port=0, token=TOKEN, seed=20241130, size="small")
    yield server.base_url
    server.shutdown()
    server.server_close()
    thread.join()


def ingest_both(simulator_url: str, bad_url: str, warehouse_url, conn, tmp_path, **caps: str) -> dict:
    """Extract, load and record the good and the bad provider as the ingest DAG would; the bad one's outcome."""
    landing = tmp_path / "landing"
    with settings.environment(**caps):
        good = ingest.extract_api(FAMILY, GOOD, AS_AT, simulator_url, TOKEN, root=landing)
        bad = ingest.extract_api(FAMILY, BAD, AS_AT, bad_url, TOKEN, root=landing)
    loaded = [ingest.load_extracted(warehouse_url.url(), extracted, root=landing) for extracted in (good, bad)]
    ingest.record_submissions(warehouse_url.url(), FAMILY, AS_AT, loaded, providers=[GOOD, BAD])

    rows = conn.execute(
        "select provider_id, entity, status, detail from audit.submissions"
        " where source = %s and period_end_date = %s and provider_id = any(%s)",
        [FAMILY, AS_AT, [GOOD, BAD]],
    ).fetchall()
    statuses = {(provider, entity): (status, detail) for provider, entity, status, detail in rows}
    good_results = loaded[0]["results"]
    print(f"good provider {GOOD}: loaded {[(r['entity'], r['rows_loaded']) for r in good_results]}")
    for entity in ENTITIES:
        print(f"bad provider {BAD} {entity}: {statuses[(BAD, entity)]}")

    assert {r["entity"] for r in good_results} == set(ENTITIES)
    assert all(r["rows_landed"] == r["rows_loaded"] + r["rows_quarantined"] for r in good_results)
    assert sum(r["rows_loaded"] for r in good_results) > 0
    assert all(statuses[(GOOD, entity)][0] == "on_time" for entity in ENTITIES)
    assert bad["manifests"] == [] and loaded[1]["results"] == []
    assert all(statuses[(BAD, entity)][0] == "failed" for entity in ENTITIES)
    return {entity: statuses[(BAD, entity)][1] for entity in ENTITIES}


def assert_breaker_tripped(details: dict[str, str]) -> None:
    """The breaker: once the first entity showed the host dead, the others were reported, not requested (a
    dead host costs one retry budget, not one per entity)."""
    for entity in ENTITIES[1:]:
        assert details[entity].startswith(f"not requested: {ENTITIES[0]} showed the provider's API unusable")


@pytest.mark.warehouse
def test_connection_resets_are_retried_then_fail_only_that_provider(simulator_url, warehouse_url, conn, tmp_path):
    with resetting_server() as bad:
        print(f"injected: {BAD}'s API resets every connection after reading the request")
        details = ingest_both(simulator_url, bad.url, warehouse_url, conn, tmp_path, API_ENTITY_DEADLINE_SECONDS="30")
    print(f"found: {bad.connections} connections reset; first slice: {details[ENTITIES[0]]}")
    assert "gave up after 4 attempts: ReadError: [Errno 104] Connection reset by peer" in details[ENTITIES[0]]
    assert_breaker_tripped(details)
    assert bad.connections == 4


@pytest.mark.warehouse
def test_trickled_body_is_cut_off_by_the_entity_deadline(simulator_url, warehouse_url, conn, tmp_path):
    with trickling_server(interval_s=0.2) as bad:
        print(f"injected: {BAD}'s API sends headers, then its body one byte every 0.2s (read timeout is 30s)")
        details = ingest_both(simulator_url, bad.url, warehouse_url, conn, tmp_path, API_ENTITY_DEADLINE_SECONDS="2")
    print(f"found: {bad.connections} connection(s); first slice: {details[ENTITIES[0]]}")
    first = details[ENTITIES[0]]
    assert "entity deadline of 2s (API_ENTITY_DEADLINE_SECONDS) passed" in first
    assert "page 1 attempt 1 was still in progress (body still arriving" in first and "HTTP 200" in first
    assert_breaker_tripped(details)
    assert bad.connections == 1


@pytest.mark.warehouse
def test_endless_pagination_is_stopped_by_the_page_cap(simulator_url, warehouse_url, conn, tmp_path):
    with endless_pages_server() as bad:
        print(f"injected: {BAD}'s API answers every page with no records and next_page = page + 1, forever")
        details = ingest_both(simulator_url, bad.url, warehouse_url, conn, tmp_path, API_MAX_PAGES="25")
    print(f"found: {len(bad.requests)} requests; first slice: {details[ENTITIES[0]]}")
    for entity in ENTITIES:  # the host answers: each entity is tried, and each stops at the cap
        assert "pagination does not end: 25 pages fetched (API_MAX_PAGES) and next_page is still 26" in details[entity]
    assert len(bad.requests) == 25 * len(ENTITIES)


def test_trickled_headers_are_cut_off_by_the_entity_deadline_too():
    with trickling_server(interval_s=0.2, headers_too=True) as bad:
        print(f"injected: {BAD}'s API trickles even its status line and headers, one byte every 0.2s")
        with pytest.raises(SourceError) as caught:
            fetch_entity(bad.url, TOKEN, BAD, "establishment", AS_AT, deadline_s=1)
    print(f"found: {caught.value}")
    assert "entity deadline of 1s" in str(caught.value) and "no response headers yet" in str(caught.value)
    assert caught.value.host_level and caught.value.status is None
