"""Client for a provider's REST API (staffing, ICT, any family served over HTTP): every page of one entity
into one Arrow table whose columns and types come from the entity's source contract.

Values stay as received (dates and timestamps as text, numbers as float64 or int64, booleans as booleans):
validation and casting belong to the loader, which quarantines bad rows rather than losing them here. So a
JSON number that is not a whole number (2.5, NaN, Infinity) in an integer field lands as its JSON text, for
the loader to quarantine, instead of being truncated or failing the entity. This module only refuses
responses that break the transport contract: auth, unknown provider, malformed JSON, a value of the wrong
JSON type (a string where the contract wants a number), broken pagination, and schema drift (record keys the
contract does not know, or required keys missing).

Nothing here can hang: each entity has a page cap, a response size cap and one overall deadline covering
every request, retry wait and byte of every body (a server trickling its body a byte at a time never trips
httpx's per-read timeout, so the deadline is enforced around the whole fetch). Turning the records into
Arrow is `api_records`; the errors are `api_errors`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pyarrow as pa

from probation_evidence import settings
from probation_evidence.sources.connectors.api_errors import ApiSlice
from probation_evidence.sources.connectors.api_records import api_contract, check_keys, check_page, to_table
from probation_evidence.sources.contracts import Contract

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 60.0
_T = TypeVar("_T")


class _Retryable(Exception):
    """A failure worth another attempt: 429, 5xx, timeout or connection error."""

    def __init__(self, status: int | None, reason: str, delay_s: float | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.delay_s = delay_s


def _retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date), capped; None if absent."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _error_reason(response: httpx.Response, body: bytes) -> str:
    """The server's error message when it sent the contract's JSON error, else the status phrase."""
    try:
        message = json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = None
    return str(message) if message else response.reason_phrase


@dataclass(frozen=True)
class _Policy:
    """How hard to try, and the caps that keep one entity's fetch bounded."""

    max_attempts: int
    timeout_s: float
    backoff_s: float
    max_pages: int
    deadline_s: float
    max_response_bytes: int


@dataclass
class _Progress:
    """Where the fetch is, so that a deadline cut-off can say what it interrupted."""

    page: int = 1
    attempt: int = 1
    in_request: bool = False
    status: int | None = None  # of the response in progress, once its headers are in
    body_bytes: int = 0
    last_failure: _Retryable | None = None
    params: dict = field(default_factory=dict)

    def describe(self) -> str:
        if self.in_request:
            if self.status is None:
                where = "no response headers yet"
            else:
                where = f"body still arriving, {self.body_bytes} bytes received"
            return f"page {self.page} attempt {self.attempt} was still in progress ({where})"
        if self.last_failure is not None:
            return f"waiting to retry page {self.page} after: {self.last_failure.reason}"
        return f"between pages, at page {self.page}"

    @property
    def host_level(self) -> bool:
        """Cut off mid-response, or while waiting out a connection-level failure: the host's problem."""
        return self.in_request or (self.last_failure is not None and self.last_failure.status is None)


async def _read_body(response: httpx.Response, source: ApiSlice, params: dict, policy: _Policy, progress: _Progress):
    """The whole body, refused once it passes the size cap (checked on the declared length first)."""
    progress.status = response.status_code
    declared = response.headers.get("Content-Length")
    cap = policy.max_response_bytes
    too_big = f"response body over the size cap of {cap} bytes (API_MAX_RESPONSE_BYTES)"
    if declared and declared.isdigit() and int(declared) > cap:
        raise source.error(response.status_code, f"{too_big}: Content-Length is {declared}", params)
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():  # decoded bytes: a compressed bomb is caught by the cap too
        size += len(chunk)
        progress.body_bytes = size
        if size > cap:
            raise source.error(response.status_code, too_big, params)
        chunks.append(chunk)
    return b"".join(chunks)


def _transport_reason(exc: BaseException) -> str:
    """'ReadError: [Errno 104] Connection reset by peer', from the first error in the chain that says something
    (httpx's own message is often empty for a reset)."""
    cause: BaseException | None = exc
    while cause is not None and not str(cause):
        cause = cause.__cause__ or cause.__context__
    return f"{type(exc).__name__}: {cause if cause is not None else 'connection closed or reset'}"


async def _attempt(
    client: httpx.AsyncClient, source: ApiSlice, params: dict, policy: _Policy, progress: _Progress
) -> object:
    """One GET returning the decoded JSON body; raises _Retryable or SourceError."""
    progress.in_request, progress.status, progress.body_bytes = True, None, 0
    try:
        async with client.stream("GET", source.url, params=params) as response:
            body = await _read_body(response, source, params, policy, progress)
    except httpx.TransportError as exc:  # includes timeouts, refused and reset connections
        raise _Retryable(None, _transport_reason(exc)) from exc
    finally:
        current = asyncio.current_task()
        if current is None or not current.cancelling():  # cut off by the deadline: say what was interrupted
            progress.in_request = False
    status = response.status_code
    if status == 429 or status >= 500:
        reason = _error_reason(response, body)
        raise _Retryable(status, reason, _retry_after_s(response.headers.get("Retry-After")))
    if status != 200:
        raise source.error(status, _error_reason(response, body), params, host_level=status == 401)
    try:
        return json.loads(body)  # like httpx, accepts NaN and Infinity: the loader quarantines them
    except ValueError:
        raise source.error(status, "response is not valid JSON", params) from None


async def _get_page(
    client: httpx.AsyncClient, source: ApiSlice, params: dict, policy: _Policy, progress: _Progress
) -> object:
    """GET with exponential backoff on retryable failures, honouring Retry-After when the server sends it."""
    progress.last_failure = None
    for attempt in range(1, policy.max_attempts + 1):
        progress.attempt = attempt
        try:
            return await _attempt(client, source, params, policy, progress)
        except _Retryable as exc:
            if attempt == policy.max_attempts:
                reason = f"gave up after {policy.max_attempts} attempts: {exc.reason}"
                raise source.error(exc.status, reason, params, host_level=exc.status is None) from exc
            progress.last_failure = exc
            delay = exc.delay_s if exc.delay_s is not None else policy.backoff_s * 2 ** (attempt - 1)
            logger.warning(
                "%s %s for provider %s: attempt %d/%d failed (%s), retrying in %.1fs",
                source.entity,
                params,
                source.provider_id,
                attempt,
                policy.max_attempts,
                exc.reason,
                delay,
            )
            await asyncio.sleep(delay)
    raise ValueError("max_attempts must be at least 1")


def entity_url(base_url: str, provider_id: str, entity: str) -> str:
    """The URL of one provider's entity (without query): what error reports name."""
    return f"{base_url.rstrip('/')}/v1/providers/{quote(provider_id, safe='')}/{quote(entity, safe='')}"


def _run(coroutine: Coroutine[object, object, _T]) -> _T:
    """Run a coroutine to the end from synchronous code, even when this thread already has an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _fetch_records(
    source: ApiSlice, contract: Contract, token: str, as_at: date, page_size: int, policy: _Policy
) -> tuple[list[dict], list[tuple[int, int]]]:
    """Every record of the slice and (index of its first record, page number) of each page."""
    records: list[dict] = []
    page_starts: list[tuple[int, int]] = []
    seen_pages: set[int] = set()
    page: int | None = 1
    total = 0
    progress = _Progress()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        async with asyncio.timeout(policy.deadline_s):
            async with httpx.AsyncClient(headers=headers, timeout=policy.timeout_s) as client:
                while page is not None:
                    params: dict[str, Any] = {"as_at": as_at.isoformat(), "page": page, "page_size": page_size}
                    progress.page, progress.params = page, params
                    if page in seen_pages:
                        raise source.error(200, f"pagination loop: next_page pointed back to page {page}", params)
                    if len(seen_pages) >= policy.max_pages:
                        reason = (
                            f"pagination does not end: {policy.max_pages} pages fetched (API_MAX_PAGES) and "
                            f"next_page is still {page}"
                        )
                        raise source.error(200, reason, params)
                    seen_pages.add(page)
                    body = await _get_page(client, source, params, policy, progress)
                    data, total, page = check_page(body, source, params)
                    check_keys(data, contract, source, params)
                    page_starts.append((len(records), params["page"]))
                    records.extend(data)
                    if len(records) > total:
                        reason = f"received {len(records)} records so far but total_records is {total}"
                        raise source.error(200, reason, params)
    except TimeoutError:
        reason = (
            f"entity deadline of {policy.deadline_s:g}s (API_ENTITY_DEADLINE_SECONDS) passed: {progress.describe()}"
        )
        status = progress.status if progress.in_request else None
        raise source.error(status, reason, progress.params, host_level=progress.host_level) from None
    if len(records) != total:
        raise source.error(200, f"received {len(records)} records but total_records is {total}")
    return records, page_starts


def fetch_entity(
    base_url: str,
    token: str,
    provider_id: str,
    entity: str,
    as_at: date,
    page_size: int = 500,
    max_attempts: int = 4,
    timeout_s: float = 30,
    backoff_s: float = 0.5,
    max_pages: int | None = None,
    deadline_s: float | None = None,
    max_response_bytes: int | None = None,
) -> pa.Table:
    """Every record of ``entity`` for one provider and as-at date, following ``next_page`` to the end.

    Raises SourceError on auth failure, unknown provider, malformed responses, schema drift
    (ApiSchemaDriftError), a page served twice (a pagination loop), more pages than ``max_pages``, a record
    count that disagrees with ``total_records``, a body over ``max_response_bytes``, when retries run out,
    or when ``deadline_s`` passes. The caps default to the settings API_MAX_PAGES,
    API_ENTITY_DEADLINE_SECONDS and API_MAX_RESPONSE_BYTES.
    """
    contract = api_contract(entity)
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    policy = _Policy(
        max_attempts=max_attempts,
        timeout_s=timeout_s,
        backoff_s=backoff_s,
        max_pages=max_pages if max_pages is not None else settings.api_max_pages(),
        deadline_s=deadline_s if deadline_s is not None else settings.api_entity_deadline_seconds(),
        max_response_bytes=max_response_bytes if max_response_bytes is not None else settings.api_max_response_bytes(),
    )
    source = ApiSlice(provider_id, entity, entity_url(base_url, provider_id, entity), contract.source)
    records, page_starts = _run(_fetch_records(source, contract, token, as_at, page_size, policy))
    logger.info(
        "fetched %d %s %s records for provider %s as at %s in %d pages",
        len(records),
        contract.source,
        entity,
        provider_id,
        as_at,
        len(page_starts),
    )
    return to_table(records, source, page_starts)
