"""Misbehaving provider APIs on real sockets (127.0.0.1), for the fault-injection tests.

Each server runs in a daemon thread with bounded loops and stops by itself: when its `with` block ends, and in
any case after `lifetime_s`, so a failing test never leaves one running. Each counts what it did, so a test
can print what it injected.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

#: The most a fault server lives, whatever the test does.
LIFETIME_S = 60.0


class FaultServer:
    """Accepts connections on 127.0.0.1 and hands each to `handle(server, conn, request_line)` in a thread
    of its own; a handler that loops checks `server.running()`."""

    def __init__(self, handle: Callable[[FaultServer, socket.socket, str], None], lifetime_s: float = LIFETIME_S):
        self._handle = handle
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._ends_at = time.monotonic() + lifetime_s
        self._thread = threading.Thread(target=self._serve, name="api-fault-server", daemon=True)
        self.connections = 0
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._ends_at

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while self.running():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        try:
            request_line = _read_request(conn)
            if request_line:
                self.requests.append(request_line)
                self._handle(self, conn, request_line)
        except OSError:
            pass  # the client gave up or was cut off: that is what these servers provoke
        finally:
            conn.close()


def _read_request(conn: socket.socket) -> str:
    """The request line of one GET (headers read up to the blank line, at most 64 KiB)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def _page_number(request_line: str) -> int:
    target = request_line.split(" ")[1] if " " in request_line else "/"
    return int(parse_qs(urlsplit(target).query).get("page", ["1"])[-1])


def resetting_server() -> FaultServer:
    """Reads each request, then resets the connection (RST, SO_LINGER 0) without a byte of response."""

    def reset(_server: FaultServer, conn: socket.socket, _request_line: str) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return FaultServer(reset)


def trickling_server(interval_s: float = 0.2, max_bytes: int = 1000, headers_too: bool = False) -> FaultServer:
    """Answers 200 with headers at once (or, with `headers_too`, trickled as well), then the body one byte
    every `interval_s`: each read gets a byte well inside any per-read timeout, so only an overall deadline
    stops the client. Stops after `max_bytes` trickled bytes."""
    body = json.dumps({"data": [], "page": 1, "total_records": 0, "next_page": None}).encode()
    body = body[:-1] + b" " * max_bytes + b"}"  # valid JSON, if the client ever waited for all of it

    def trickle(server: FaultServer, conn: socket.socket, _request_line: str) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        response = head.encode() + body
        start = 0 if headers_too else len(head)
        conn.sendall(response[:start])
        for i in range(start, min(len(response), start + max_bytes)):
            if not server.running():
                return
            conn.sendall(response[i : i + 1])
            time.sleep(interval_s)

    return FaultServer(trickle)


def endless_pages_server() -> FaultServer:
    """Well-formed pages forever: no records, and next_page always one more than the page asked for."""

    def endless(_server: FaultServer, conn: socket.socket, request_line: str) -> None:
        page = _page_number(request_line)
        body = json.dumps({"data": [], "page": page, "total_records": 0, "next_page": page + 1}).encode()
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + body)

    return FaultServer(endless)
