# Over 450 lines: each failure mode of the connector against the same scripted servers.
"""The provider API connector against real HTTP servers on 127.0.0.1: the simulator and scripted failures."""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import signal
import subprocess  # noqa: S404
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

from probation_evidence import settings
from probation_evidence.simulator.ict import generate_ict_incidents, generate_remote_access
from probation_evidence.simulator.server import serve
from probation_evidence.simulator.staffing import generate_staff
from probation_evidence.sources import ingest
from probation_evidence.sources.connectors.api_errors import ApiSchemaDriftError, SourceError
from probation_evidence.sources.connectors.api_records import api_contract, entity_columns
from probation_evidence.sources.connectors.provider_api import fetch_entity
from probation_evidence.sources.contracts import CONTRACTS
from probation_evidence.sources.landing import land_table
from probation_evidence.sources.loading import load_landed_file
from probation_evidence.sources.validation import SchemaDriftError

if TYPE_CHECKING:
    import pyarrow as pa

AS_AT = date(2026, 9, 30)
SEED = 20260930
TOKEN = secrets.token_urlsafe(24)
ESTABLISHMENT_ROW = {
    "provider_id": "N07",
    "pdu_code": "N07-01",
    "grade": "PO",
    "funded_fte": 9.5,
    "as_at_date": AS_AT.isoformat(),
}


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    server, thread = serve(port=0, token=TOKEN, seed=SEED, size="small")
    yield server.base_url
    server.shutdown()
    server.server_close()
    thread.join()


def get_json(url: str, **params: object) -> dict:
    """A raw authorised GET, to see what the API itself says."""
    import httpx

    return httpx.get(url, params=params, headers={"Authorization": f"Bearer {TOKEN}"}).json()


def test_health_needs_no_token(simulator_url: str) -> None:
    import httpx

    assert httpx.get(f"{simulator_url}/health").json() == {"status": "ok"}


ARROW_NAMES = {"float64": "double", "string": "string", "int64": "int64", "bool_": "bool"}
API_ENTITIES = sorted(c.entity for c in CONTRACTS.values() if c.transport == "api" and c.source in {"staffing", "ict"})


@pytest.mark.parametrize("entity", ["establishment", "staff", "system_availability", "ict_incidents"])
def test_all_pages_are_fetched(simulator_url: str, entity: str) -> None:
    first = get_json(f"{simulator_url}/v1/providers/N07/{entity}", as_at=AS_AT.isoformat(), page_size=25)
    assert first["total_pages"] > 1

    table = fetch_entity(simulator_url, TOKEN, "N07", entity, AS_AT, page_size=25)

    assert table.num_rows == first["total_records"]
    assert table.column_names == [name for name, _ in entity_columns(entity)]
    expected_types = {name: ARROW_NAMES[kind] for name, kind in entity_columns(entity)}
    assert {column.name: str(column.type) for column in table.schema} == expected_types


@pytest.mark.parametrize("entity", API_ENTITIES)
def test_every_staffing_and_ict_entity_is_served_with_its_contract_columns(simulator_url: str, entity: str) -> None:
    table = fetch_entity(simulator_url, TOKEN, "N54", entity, AS_AT, page_size=1000)
    assert table.num_rows > 0
    assert table.column_names == api_contract(entity).column_names


def test_column_types_follow_the_contract_kinds() -> None:
    assert dict(entity_columns("ict_incidents")) == {
        "incident_id": "string",
        "provider_id": "string",
        "system_name": "string",
        "priority": "int64",
        "opened_at": "string",
        "resolved_at": "string",
        "as_at_date": "string",
    }
    assert dict(entity_columns("remote_access"))["has_device"] == "bool_"
    assert dict(entity_columns("absences"))["working_days_lost"] == "float64"


def test_unknown_or_file_entity_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown API entity"):
        fetch_entity("http://127.0.0.1:9", TOKEN, "N07", "weekly_caseload", AS_AT)
    with pytest.raises(ValueError, match="unknown API entity"):
        api_contract("no_such_thing")


def test_fetched_ict_records_match_the_generated_records(simulator_url: str) -> None:
    incidents = fetch_entity(simulator_url, TOKEN, "N03", "ict_incidents", AS_AT, page_size=50)
    assert incidents.to_pylist() == generate_ict_incidents(SEED, AS_AT, "N03")
    remote = fetch_entity(simulator_url, TOKEN, "N03", "remote_access", AS_AT, page_size=100)
    assert remote.to_pylist() == generate_remote_access(SEED, AS_AT, "N03")


def test_fetched_staff_match_the_generated_records(simulator_url: str) -> None:
    table = fetch_entity(simulator_url, TOKEN, "N54", "staff", AS_AT, page_size=40)
    assert table.to_pylist() == generate_staff(SEED, AS_AT, "N54")


def test_page_beyond_the_end_is_empty(simulator_url: str) -> None:
    body = get_json(f"{simulator_url}/v1/providers/N03/establishment", as_at=AS_AT.isoformat(), page=999)
    assert body["data"] == [] and body["next_page"] is None and body["total_records"] > 0


def test_command_line_server_writes_its_port_and_stops_on_sigterm(tmp_path) -> None:
    token_file, port_file = tmp_path / "token", tmp_path / "port"
    token_file.write_text(TOKEN)
    command = [sys.executable, "-m", "probation_evidence.simulator", "serve", "--port", "0"]
    process = subprocess.Popen([*command, "--port-file", str(port_file), "--token-file", str(token_file)])
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        url = f"http://127.0.0.1:{int(port_file.read_text())}"
        assert fetch_entity(url, TOKEN, "N59", "establishment", AS_AT).num_rows > 0
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert not port_file.exists()


def test_bad_token_is_a_source_error_without_the_token(simulator_url: str) -> None:
    wrong = secrets.token_urlsafe(24)
    with pytest.raises(SourceError) as caught:
        fetch_entity(simulator_url, wrong, "N07", "staff", AS_AT)
    assert caught.value.status == 401
    assert caught.value.host_level  # every entity of the provider would be refused the same way
    assert (caught.value.provider_id, caught.value.entity) == ("N07", "staff")
    assert wrong not in str(caught.value) and TOKEN not in str(caught.value)


def test_unknown_provider_is_a_source_error(simulator_url: str) -> None:
    with pytest.raises(SourceError, match="unknown provider") as caught:
        fetch_entity(simulator_url, TOKEN, "N99", "establishment", AS_AT)
    assert caught.value.status == 404 and not caught.value.host_level


def test_ict_source_error_names_the_ict_family(simulator_url: str) -> None:
    with pytest.raises(SourceError, match="^ict mi_reports for provider N99") as caught:
        fetch_entity(simulator_url, TOKEN, "N99", "mi_reports", AS_AT)
    assert (caught.value.source, caught.value.entity, caught.value.status) == ("ict", "mi_reports", 404)


# A scripted server for the failures the simulator never produces on its own.


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def page(data: list[dict], next_page: int | None, total: int) -> dict:
    return {"data": data, "page": 1, "page_size": 500, "total_records": total, "next_page": next_page}


class ScriptedServer(ThreadingHTTPServer):
    """Answers each request with the next scripted reply (the last one repeats) and counts requests."""

    daemon_threads = True

    def __init__(self, replies: list[Reply], routes: dict[str, Reply] | None = None):
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self.replies = replies
        self.routes = routes or {}  # entity -> its own fixed reply, whatever the script says
        self.requests = 0
        self.lock = threading.Lock()

    def next_reply(self, path: str) -> Reply:
        with self.lock:
            self.requests += 1
            entity = path.split("?")[0].rsplit("/", 1)[-1]
            if entity in self.routes:
                return self.routes[entity]
            return self.replies[min(self.requests, len(self.replies)) - 1]


class _ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        reply = self.server.next_reply(self.path)
        time.sleep(reply.delay_s)
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Callable[..., tuple[str, ScriptedServer]]]:
    servers: list[ScriptedServer] = []

    def start(*replies: Reply, routes: dict[str, Reply] | None = None) -> tuple[str, ScriptedServer]:
        server = ScriptedServer(list(replies), routes)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def fetch(url: str, entity: str = "establishment", **kwargs: float) -> pa.Table:
    options = {"max_attempts": 3, "timeout_s": 2.0, "backoff_s": 0.01} | kwargs
    return fetch_entity(url, TOKEN, "N07", entity, AS_AT, **options)


def test_server_error_then_success_is_retried(scripted) -> None:
    url, server = scripted(Reply(500, {"error": {"message": "boom"}}), Reply(body=page([ESTABLISHMENT_ROW], None, 1)))
    table = fetch(url)
    assert table.num_rows == 1 and server.requests == 2


def test_retry_after_is_respected(scripted) -> None:
    url, server = scripted(Reply(429, headers={"Retry-After": "1"}), Reply(body=page([], None, 0)))
    started = time.monotonic()
    fetch(url)
    assert time.monotonic() - started >= 0.9 and server.requests == 2


def test_timeout_is_retried(scripted) -> None:
    url, server = scripted(Reply(delay_s=1.0, body=page([], None, 0)), Reply(body=page([], None, 0)))
    assert fetch(url, timeout_s=0.3).num_rows == 0
    assert server.requests == 2


def test_persistent_failure_gives_up_after_max_attempts(scripted) -> None:
    url, server = scripted(Reply(503, b"unavailable"))
    with pytest.raises(SourceError, match="gave up after 3 attempts") as caught:
        fetch(url)
    assert caught.value.status == 503 and server.requests == 3


def test_repeated_page_is_refused(scripted) -> None:
    url, _ = scripted(
        Reply(body=page([ESTABLISHMENT_ROW], 2, 3)),
        Reply(body=page([ESTABLISHMENT_ROW], 1, 3)),
    )
    with pytest.raises(SourceError, match="page 1") as caught:
        fetch(url)
    assert (caught.value.provider_id, caught.value.entity) == ("N07", "establishment")


def test_malformed_json_is_a_source_error(scripted) -> None:
    url, server = scripted(Reply(body=b'{"data": [}'))
    with pytest.raises(SourceError, match="not valid JSON"):
        fetch(url)
    assert server.requests == 1


def test_wrong_value_type_is_a_source_error_naming_record_and_page(scripted) -> None:
    url, _ = scripted(
        Reply(body=page([ESTABLISHMENT_ROW, ESTABLISHMENT_ROW], 2, 3)),
        Reply(body=page([ESTABLISHMENT_ROW | {"funded_fte": "lots"}], None, 3)),
    )
    with pytest.raises(SourceError, match=r"record 3 \(on page 2\): column 'funded_fte' holds a string \"lots\""):
        fetch(url)


def test_boolean_in_a_numeric_field_is_a_wrong_type_not_a_one(scripted) -> None:
    url, _ = scripted(Reply(body=page([ESTABLISHMENT_ROW | {"funded_fte": True}], None, 1)))
    with pytest.raises(SourceError, match="'funded_fte' holds a boolean true, contract says numeric"):
        fetch(url)


def test_short_count_is_a_source_error(scripted) -> None:
    url, _ = scripted(Reply(body=page([ESTABLISHMENT_ROW], None, 2)))
    with pytest.raises(SourceError, match="total_records is 2"):
        fetch(url)


INCIDENT_ROW = {
    "incident_id": "INC-1",
    "provider_id": "N07",
    "system_name": "email",
    "priority": 2,
    "opened_at": "2026-09-01T08:00:00Z",
    "resolved_at": None,
    "as_at_date": "2026-09-30",
}


def test_ict_entity_pages_and_retries_like_any_other(scripted) -> None:
    second = INCIDENT_ROW | {"incident_id": "INC-2", "resolved_at": "2026-09-01T09:30:00Z"}
    url, server = scripted(
        Reply(503, {"error": {"message": "busy"}}, headers={"Retry-After": "0"}),
        Reply(body=page([INCIDENT_ROW], 2, 2)),
        Reply(body=page([second], None, 2)),
    )
    table = fetch(url, "ict_incidents")
    assert server.requests == 3
    assert str(table.column("priority").type) == "int64"
    assert table.column("incident_id").to_pylist() == ["INC-1", "INC-2"]
    assert table.column("resolved_at").to_pylist() == [None, "2026-09-01T09:30:00Z"]


def test_ict_boolean_columns_stay_booleans(scripted) -> None:
    row = {"staff_id": "STF-1", "provider_id": "N07", "pdu_code": "N07-01", "has_device": True, "as_at_date": "x"}
    url, _ = scripted(Reply(body=page([row | {"has_remote_access": False}], None, 1)))
    table = fetch(url, "remote_access")
    assert table.to_pylist()[0]["has_device"] is True and table.to_pylist()[0]["has_remote_access"] is False


def test_ict_wrong_value_type_is_a_source_error(scripted) -> None:
    url, _ = scripted(Reply(body=page([INCIDENT_ROW | {"priority": "urgent"}], None, 1)))
    with pytest.raises(SourceError, match="priority") as caught:
        fetch(url, "ict_incidents")
    assert caught.value.source == "ict"


# Schema drift, as for files: named keys, entity, provider and page.


def test_unknown_key_is_schema_drift_naming_key_entity_provider_and_page(scripted) -> None:
    url, _ = scripted(
        Reply(body=page([ESTABLISHMENT_ROW], 2, 3)),
        Reply(body=page([ESTABLISHMENT_ROW | {"region_name": "North"}, ESTABLISHMENT_ROW], None, 3)),
    )
    with pytest.raises(ApiSchemaDriftError) as caught:
        fetch(url)
    message = str(caught.value)
    print("drift reported:", message)
    assert isinstance(caught.value, SchemaDriftError)  # handled like a drifted file wherever drift is handled
    assert message.startswith("staffing establishment for provider N07: schema drift against contract")
    assert "on page 2: unexpected key 'region_name' in 1 of 2 records" in message
    assert "page=2" in caught.value.url


def test_missing_required_key_is_schema_drift(scripted) -> None:
    row = {key: value for key, value in INCIDENT_ROW.items() if key not in {"priority", "as_at_date"}}
    url, _ = scripted(Reply(body=page([row, INCIDENT_ROW], None, 2)))
    with pytest.raises(ApiSchemaDriftError) as caught:
        fetch(url, "ict_incidents")
    assert "missing required key 'as_at_date' in 1 of 2 records" in str(caught.value)
    assert "missing required key 'priority' in 1 of 2 records" in str(caught.value)
    assert caught.value.source == "ict" and not caught.value.host_level


def test_absent_optional_keys_become_nulls(scripted) -> None:
    row = {key: value for key, value in INCIDENT_ROW.items() if key != "resolved_at"}  # resolved_at is optional
    url, _ = scripted(Reply(body=page([row], None, 1)))
    assert fetch(url, "ict_incidents").column("resolved_at").to_pylist() == [None]


# Values: what the loader must judge reaches it as received.


def test_non_whole_numbers_in_an_integer_field_land_as_their_json_text(scripted) -> None:
    priorities = [2, 2.5, math.nan, math.inf, -math.inf, None]
    rows = [INCIDENT_ROW | {"incident_id": f"INC-{i}", "priority": p} for i, p in enumerate(priorities)]
    url, _ = scripted(Reply(body=page(rows, None, len(rows))))
    table = fetch(url, "ict_incidents")
    # Arrow alone would truncate 2.5 to 2 and refuse NaN: text keeps them for the loader to quarantine.
    assert str(table.column("priority").type) == "string"
    assert table.column("priority").to_pylist() == ["2", "2.5", "NaN", "Infinity", "-Infinity", None]


GRADES = ("PO", "PSO", "SPO", "PQiP")
FTE_VALUES = (9.5, math.nan, math.inf, -math.inf)


@pytest.mark.warehouse
def test_nan_and_infinity_from_the_api_are_quarantined_by_the_loader(scripted, conn, tmp_path) -> None:
    """End to end: JSON NaN / Infinity through fetch, landing and the real loader on PostgreSQL."""
    period = date(2024, 9, 30)  # a period of its own: the database is shared with other tests
    as_at = period.isoformat()
    establishment = [
        ESTABLISHMENT_ROW | {"grade": g, "funded_fte": v, "as_at_date": as_at}
        for g, v in zip(GRADES, FTE_VALUES, strict=True)
    ]
    incident = INCIDENT_ROW | {"opened_at": "2024-09-01T08:00:00Z", "as_at_date": as_at}
    incidents = [incident | {"incident_id": f"INC-{p}", "priority": p} for p in (2, math.nan, math.inf, 2.5)]
    url, _ = scripted(routes={
        "establishment": Reply(body=page(establishment, None, 4)),
        "ict_incidents": Reply(body=page(incidents, None, 4)),
    })  # fmt: skip
    found = {}
    for entity in ("establishment", "ict_incidents"):
        table = fetch_entity(url, TOKEN, "N07", entity, period, max_attempts=1)
        manifest = land_table(table, api_contract(entity), "N07", period, tmp_path)
        result = load_landed_file(conn, manifest, tmp_path)
        assert result.rows_landed == result.rows_loaded + result.rows_quarantined == 4
        found[entity] = conn.execute(
            "select original_values::jsonb ->> 'incident_id', original_values::jsonb ->> 'grade', reason"
            " from audit.quarantine where batch_id = %s order by row_number",
            [manifest.batch_id],
        ).fetchall()
        print(f"injected {entity}: non-finite values; loaded {result.rows_loaded}, quarantined {found[entity]}")
    assert [(grade, reason) for _, grade, reason in found["establishment"]] == [
        ("PSO", "funded_fte: not a finite number"),
        ("SPO", "funded_fte: not a finite number"),
        ("PQiP", "funded_fte: not a finite number"),
    ]
    assert [(incident_id, reason) for incident_id, _, reason in found["ict_incidents"]] == [
        ("INC-nan", "priority: not a finite number"),
        ("INC-inf", "priority: not a finite number"),
        ("INC-2.5", "priority: not a valid integer"),
    ]


# Caps: nothing hangs, nothing unbounded is accepted.


def test_more_records_than_total_is_refused_at_once(scripted) -> None:
    url, server = scripted(Reply(body=page([ESTABLISHMENT_ROW], 2, 1)), Reply(body=page([ESTABLISHMENT_ROW], 3, 1)))
    with pytest.raises(SourceError, match="received 2 records so far but total_records is 1"):
        fetch(url)
    assert server.requests == 2


def test_page_cap_stops_endless_pagination(scripted) -> None:
    url, server = scripted(*[Reply(body=page([], n + 2, 0)) for n in range(10)])
    with pytest.raises(SourceError, match=r"pagination does not end: 4 pages fetched \(API_MAX_PAGES\)"):
        fetch(url, max_pages=4)
    assert server.requests == 4


def test_page_cap_comes_from_the_setting(scripted) -> None:
    url, server = scripted(*[Reply(body=page([], n + 2, 0)) for n in range(10)])
    with settings.environment(API_MAX_PAGES="3"), pytest.raises(SourceError, match="3 pages fetched"):
        fetch(url)
    assert server.requests == 3


def test_body_over_the_size_cap_is_refused(scripted) -> None:
    url, server = scripted(Reply(body=page([ESTABLISHMENT_ROW] * 20, None, 20)))
    with pytest.raises(SourceError, match=r"over the size cap of 500 bytes \(API_MAX_RESPONSE_BYTES\)"):
        fetch(url, max_response_bytes=500)
    assert server.requests == 1  # refused, not retried: the same page would be as big again


def test_deadline_cuts_a_long_retry_wait(scripted) -> None:
    url, server = scripted(Reply(503, {"error": {"message": "busy"}}, headers={"Retry-After": "60"}))
    with pytest.raises(SourceError, match="waiting to retry page 1 after: busy") as caught:
        fetch(url, deadline_s=0.5)
    assert "entity deadline of 0.5s (API_ENTITY_DEADLINE_SECONDS)" in str(caught.value)
    assert server.requests == 1 and not caught.value.host_level  # the host answered: other entities may work


def test_fetch_works_from_inside_an_event_loop(scripted) -> None:
    url, _ = scripted(Reply(body=page([ESTABLISHMENT_ROW], None, 1)))

    async def caller() -> int:
        return fetch(url).num_rows

    assert asyncio.run(caller()) == 1


# extract_api: a bad slice stops only itself.


def test_one_entitys_failure_fails_only_its_slice(scripted, tmp_path) -> None:
    drifted = Reply(body=page([{"staff_ref": "S1"}], None, 1))
    url, _ = scripted(Reply(body=page([], None, 0)), routes={"staff": drifted})
    extracted = ingest.extract_api("staffing", "N07", AS_AT, url, TOKEN, root=tmp_path)
    print("errors:", extracted["errors"])
    assert [(e["entity"], e["period_end_date"]) for e in extracted["errors"]] == [("staff", AS_AT.isoformat())]
    assert "unexpected key 'staff_ref'" in extracted["errors"][0]["reason"]
    assert extracted["errors"][0]["path"].startswith(f"{url}/v1/providers/N07/staff?")
    landed = {m["entity"] for m in extracted["manifests"]}
    assert landed == {c.entity for c in CONTRACTS.values() if c.source == "staffing"} - {"staff"}
    assert set(extracted["seconds"]) == {"extract", "land"}  # the failed slice's fetch counts too
    assert extracted["seconds"]["extract"] > 0 and extracted["seconds"]["land"] > 0


def test_refused_token_fails_every_slice_after_one_request(scripted, tmp_path) -> None:
    url, server = scripted(Reply(401, {"error": {"message": "missing or invalid bearer token"}}))
    extracted = ingest.extract_api("staffing", "N07", AS_AT, url, "wrong-token", root=tmp_path)
    entities = [c.entity for c in CONTRACTS.values() if c.source == "staffing"]
    assert [e["entity"] for e in extracted["errors"]] == entities and extracted["manifests"] == []
    assert "HTTP 401" in extracted["errors"][0]["reason"]
    assert all(e["reason"].startswith("not requested: establishment showed") for e in extracted["errors"][1:])
    assert server.requests == 1  # the breaker: the other entities were not asked
    assert not any("wrong-token" in e["reason"] for e in extracted["errors"])


def test_a_whole_number_beyond_int64_in_a_numeric_field_stays_a_number(scripted) -> None:
    """Arrow refuses a Python int beyond int64 for a float64 column, which would fail the provider's whole
    extract task; it is a number, so it lands as one (past 1e308 as infinity, which the loader quarantines)."""
    rows = [ESTABLISHMENT_ROW | {"funded_fte": 10**20}, ESTABLISHMENT_ROW | {"funded_fte": -(10**400)}]
    url, _ = scripted(Reply(body=page(rows, None, 2)))
    assert fetch(url).column("funded_fte").to_pylist() == [1e20, -math.inf]


def test_a_value_arrow_cannot_store_fails_the_slice_naming_the_column(scripted, tmp_path) -> None:
    """A lone UTF-16 surrogate is valid JSON but no valid text: Arrow's encoder error is that slice's
    failure, not a crash of the provider's task, and the other entities land."""
    broken = Reply(body=page([ESTABLISHMENT_ROW | {"pdu_code": "\ud800"}], None, 1))
    url, _ = scripted(Reply(body=page([], None, 0)), routes={"establishment": broken})
    extracted = ingest.extract_api("staffing", "N07", AS_AT, url, TOKEN, root=tmp_path)
    assert [e["entity"] for e in extracted["errors"]] == ["establishment"]
    assert "column 'pdu_code' holds a value that cannot be stored" in extracted["errors"][0]["reason"]
    landed = {m["entity"] for m in extracted["manifests"]}
    assert landed == {c.entity for c in CONTRACTS.values() if c.source == "staffing"} - {"establishment"}


def test_a_slice_that_cannot_be_landed_fails_alone_and_the_others_land(scripted, tmp_path) -> None:
    """Landing one entity fails (its folder cannot be made, as on a full disk or a dead mount): only that
    slice is reported, and the provider's other entities still land."""
    url, _ = scripted(Reply(body=page([], None, 0)))
    (tmp_path / "staffing").mkdir()
    (tmp_path / "staffing" / "absences").write_text("a file where the entity's folder belongs\n")
    extracted = ingest.extract_api("staffing", "N07", AS_AT, url, TOKEN, root=tmp_path)
    assert [e["entity"] for e in extracted["errors"]] == ["absences"]
    assert "landing failed" in extracted["errors"][0]["reason"]
    assert len(extracted["manifests"]) == len([c for c in CONTRACTS.values() if c.source == "staffing"]) - 1
