"""A real local HTTP server playing every provider's APIs (staffing, ICT): see docs/sources.md.

Standard library only, so demos and tests need no extra service. The bearer token is compared in constant
time and never logged; request logging goes to ``logging`` at debug level to keep test output quiet.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import hmac
import json
import logging
import math
import os
import re
import signal
import sys
import threading
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from probation_evidence.reference.registry import load_regions
from probation_evidence.simulator.catalogue import api_entities
from probation_evidence.simulator.drops import add_drops_command
from probation_evidence.simulator.people import SIZE_SCALE
from probation_evidence.simulator.truth import write_truth

logger = logging.getLogger(__name__)

DEMO_SEED = 20260930
TOKEN_ENV = "SIMULATOR_TOKEN"  # noqa: S105 - the variable's name, not a secret
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 1000
_ROUTE = re.compile(r"/v1/providers/(?P<provider_id>[^/]+)/(?P<entity>[^/]+)")


class BadRequest(ValueError):
    """A query parameter the API cannot accept (answered with 400)."""


@functools.lru_cache(maxsize=128)
def _records(entity: str, seed: int, as_at: date, provider_id: str, size: str) -> tuple[dict, ...]:
    """Generated records of one slice; cached because every page of a slice needs them all."""
    return tuple(api_entities()[entity](seed, as_at, provider_id, size))


def _int_param(query: dict[str, list[str]], name: str, default: int, maximum: int) -> int:
    raw = query.get(name, [str(default)])[-1]
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if not 1 <= value <= maximum:
        raise BadRequest(f"{name} must be between 1 and {maximum}")
    return value


def _as_at_param(query: dict[str, list[str]]) -> date:
    raw = query.get("as_at", [""])[-1]
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest("as_at is required as YYYY-MM-DD") from None


def _page_body(records: tuple[dict, ...], page: int, page_size: int) -> dict:
    """One page in the contract's envelope; a page beyond the end is empty with no next page."""
    total_pages = math.ceil(len(records) / page_size)
    start = (page - 1) * page_size
    return {
        "data": list(records[start : start + page_size]),
        "page": page,
        "page_size": page_size,
        "total_records": len(records),
        "total_pages": total_pages,
        "next_page": page + 1 if page < total_pages else None,
    }


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"  # keep-alive, so a client paging through a slice reuses its connection

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/health":
            self._send(HTTPStatus.OK, {"status": "ok"})
        elif not self.server.is_authorised(self.headers.get("Authorization")):
            self._send_error(HTTPStatus.UNAUTHORIZED, "missing or invalid bearer token")
        else:
            self._serve_entity(url.path, parse_qs(url.query))

    def _serve_entity(self, path: str, query: dict[str, list[str]]) -> None:
        match = _ROUTE.fullmatch(path)
        if match is None or match["entity"] not in api_entities():
            self._send_error(HTTPStatus.NOT_FOUND, "no such resource")
            return
        provider_id = match["provider_id"]
        if provider_id not in self.server.provider_ids:
            self._send_error(HTTPStatus.NOT_FOUND, f"unknown provider {provider_id!r}")
            return
        try:
            as_at = _as_at_param(query)
            page = _int_param(query, "page", 1, sys.maxsize)
            page_size = _int_param(query, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        except BadRequest as exc:
            self._send_error(HTTPStatus.BAD_REQUEST, str(exc))
            return
        failure = self.server.chaos_failure(self.path)
        if failure is not None:
            self._send_error(failure, "simulated outage: try again shortly")
            return
        records = _records(match["entity"], self.server.seed, as_at, provider_id, self.server.size)
        self._send(HTTPStatus.OK, _page_body(records, page, page_size))

    def _send_error(self, status: HTTPStatus, message: str) -> None:
        self._send(status, {"error": {"status": status.value, "code": status.phrase, "message": message}})

    def _send(self, status: HTTPStatus, body: dict) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="provider"')
        if status in {HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE}:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class SimulatorServer(ThreadingHTTPServer):
    """The staffing API of every simulated provider, generated from one seed."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], token: str, seed: int = DEMO_SEED, size: str = "small", chaos: bool = False
    ):
        if not token:
            raise ValueError("the simulator needs a non-empty bearer token")
        if size not in SIZE_SCALE:
            raise ValueError(f"unknown size {size!r}; expected one of {sorted(SIZE_SCALE)}")
        super().__init__(address, _Handler)
        self._token = token.encode()
        self.seed = seed
        self.size = size
        self.provider_ids = frozenset(region.region_code for region in load_regions())
        self.chaos = chaos
        self._first_requests: set[str] = set()
        self._chaos_lock = threading.Lock()

    def chaos_failure(self, request_path: str) -> HTTPStatus | None:
        """With chaos on, the first request for some pages fails as real APIs do (429 or 503); retries succeed.

        Which pages fail depends only on the request path, so a demo run misbehaves the same way each time.
        """
        if not self.chaos:
            return None
        with self._chaos_lock:
            if request_path in self._first_requests:
                return None
            self._first_requests.add(request_path)
        bucket = int(hashlib.sha256(request_path.encode()).hexdigest()[:8], 16) % 20
        return {0: HTTPStatus.TOO_MANY_REQUESTS, 1: HTTPStatus.SERVICE_UNAVAILABLE}.get(bucket)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{str(self.server_address[0])}:{self.port}"

    def is_authorised(self, header: str | None) -> bool:
        """Constant-time check of the Authorization header against the expected bearer token."""
        scheme, _, credentials = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), self._token)


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    seed: int = DEMO_SEED,
    size: str = "small",
    chaos: bool = False,
) -> tuple[SimulatorServer, threading.Thread]:
    """Start the API in a background thread; port 0 picks a free port (read it from ``server.port``).

    The token defaults to the SIMULATOR_TOKEN environment variable. Stop with ``server.shutdown()``
    then ``server.server_close()``.
    """
    token = token if token is not None else os.environ.get(TOKEN_ENV, "")
    server = SimulatorServer((host, port), token=token, seed=seed, size=size, chaos=chaos)
    thread = threading.Thread(target=server.serve_forever, name="staffing-simulator", daemon=True)
    thread.start()
    return server, thread


def _read_token(token_file: Path | None) -> str:
    """The token from a file or the environment, never from argv where a process listing would show it."""
    token = token_file.read_text(encoding="utf-8").strip() if token_file else os.environ.get(TOKEN_ENV, "")
    if not token:
        raise SystemExit(f"no token: pass --token-file or set {TOKEN_ENV}")
    return token


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file so a reader polling for the file never sees it half written."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _run_server(args: argparse.Namespace) -> int:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server, thread = serve(args.host, args.port, _read_token(args.token_file), args.seed, args.size, args.chaos)
    if args.port_file:
        _write_atomically(args.port_file, f"{server.port}\n")
    logger.info("staffing simulator listening on %s (seed %s, size %s)", server.base_url, args.seed, args.size)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    thread.join()
    if args.port_file:
        args.port_file.unlink(missing_ok=True)
    logger.info("staffing simulator stopped")
    return 0


def _write_truth(args: argparse.Namespace) -> int:
    providers = [region.region_code for region in load_regions()]
    print(write_truth(args.out, args.seed, providers))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m probation_evidence.simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the staffing API until SIGTERM or SIGINT")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=0, help="0 picks a free port")
    run.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    run.add_argument("--token-file", type=Path, help=f"file holding the bearer token (else ${TOKEN_ENV})")
    run.add_argument("--seed", type=int, default=DEMO_SEED)
    run.add_argument("--size", choices=sorted(SIZE_SCALE), default="small")
    run.add_argument("--chaos", action="store_true", help="fail some first requests with 429/503, as real APIs do")
    run.set_defaults(handler=_run_server)
    truth = commands.add_parser("write-truth", help="write the latent bands (never pipeline input)")
    truth.add_argument("--out", type=Path, required=True)
    truth.add_argument("--seed", type=int, default=DEMO_SEED)
    truth.set_defaults(handler=_write_truth)
    add_drops_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``serve`` or ``write-truth``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    return args.handler(args)
