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
httpx's per-read timeout, so the deadline is enforced around the whole fetch). httpx and pyarrow are
imported inside the functions so importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, urlencode

from probation_evidence import settings
from probation_evidence.sources.loading import SchemaDriftError

if TYPE_CHECKING:
    from collections.abc import Coroutine

    import httpx
    import pyarrow as pa

    from probation_evidence.sources.contracts import Contract, Field

logger = logging.getLogger(__name__)

#: Arrow type names by contract field kind: values stay as received (dates and timestamps as text).
ARROW_TYPES = {
    "text": "string",
    "date": "string",
    "timestamp": "string",
    "numeric": "float64",
    "integer": "int64",
    "boolean": "bool_",
}
MAX_RETRY_AFTER_S = 60.0
_INT64 = range(-(2**63), 2**63)
_T = TypeVar("_T")


class SourceError(Exception):
    """A provider system failed or broke its contract; carries what an operator needs, never the token.

    ``host_level`` is True when the failure is the provider system's rather than the entity's (no complete
    response after every retry, the deadline passing mid-response, the token refused): its other entities
    would fail the same way, so a caller need not spend a retry budget on each of them.
    """

    def __init__(
        self,
        provider_id: str,
        entity: str,
        url: str,
        status: int | None,
        reason: str,
        source: str = "provider",
        host_level: bool = False,
    ):
        self.provider_id = provider_id
        self.entity = entity
        self.url = url
        self.status = status
        self.reason = reason
        self.source = source
        self.host_level = host_level
        status_text = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{source} {entity} for provider {provider_id}: {reason} ({status_text}, {url})")


class ApiSchemaDriftError(SourceError, SchemaDriftError):
    """API records whose keys no longer match the entity's contract: the slice is not landed.

    Both a SourceError (the provider broke its contract) and a SchemaDriftError (as a drifted file is), so
    either kind of handler sees it."""


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
class _Slice:
    """What is being fetched, so every error names the provider, the entity and the request."""

    provider_id: str
    entity: str
    url: str
    source: str

    def error(
        self, status: int | None, reason: str, params: dict | None = None, host_level: bool = False
    ) -> SourceError:
        url = f"{self.url}?{urlencode(params)}" if params else self.url
        return SourceError(self.provider_id, self.entity, url, status, reason, self.source, host_level)

    def drift(self, reason: str, params: dict) -> ApiSchemaDriftError:
        url = f"{self.url}?{urlencode(params)}"
        return ApiSchemaDriftError(self.provider_id, self.entity, url, 200, reason, self.source)


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


async def _read_body(response: httpx.Response, source: _Slice, params: dict, policy: _Policy, progress: _Progress):
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
    client: httpx.AsyncClient, source: _Slice, params: dict, policy: _Policy, progress: _Progress
) -> object:
    """One GET returning the decoded JSON body; raises _Retryable or SourceError."""
    import httpx

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
    client: httpx.AsyncClient, source: _Slice, params: dict, policy: _Policy, progress: _Progress
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


def _is_count(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _check_page(body: object, source: _Slice, params: dict) -> tuple[list[dict], int, int | None]:
    """The records, total_records and next_page of a page, after checking the envelope's shape."""
    if not isinstance(body, dict):
        raise source.error(200, "malformed page: body is not a JSON object", params)
    data, total, next_page = body.get("data"), body.get("total_records"), body.get("next_page")
    if not isinstance(data, list) or not all(isinstance(record, dict) for record in data):
        raise source.error(200, "malformed page: 'data' is not a list of objects", params)
    if not _is_count(total, 0):
        raise source.error(200, "malformed page: 'total_records' is not a non-negative integer", params)
    if next_page is not None and not _is_count(next_page, 1):
        raise source.error(200, "malformed page: 'next_page' is not a positive integer or null", params)
    return data, total, next_page


def _check_keys(records: list[dict], contract: Contract, source: _Slice, params: dict) -> None:
    """Schema drift, as for files: a key the contract does not know, or a required key that is absent.

    An optional key may be left out (JSON APIs often omit nulls): it becomes null."""
    known = set(contract.column_names)
    required = {f.name for f in contract.fields if f.required}
    if all(record.keys() <= known and record.keys() >= required for record in records):
        return
    unexpected = Counter(key for record in records for key in record if key not in known)
    missing = Counter(name for record in records for name in required if name not in record)
    count = len(records)
    problems = [f"unexpected key '{key}' in {n} of {count} records" for key, n in sorted(unexpected.items())]
    problems += [f"missing required key '{key}' in {n} of {count} records" for key, n in sorted(missing.items())]
    raise source.drift(
        f"schema drift against contract {contract.source}.{contract.entity} v{contract.version} "
        f"on page {params['page']}: " + "; ".join(problems),
        params,
    )


def api_contract(entity: str) -> Contract:
    """The contract of an entity served over a provider API, found by its (unique) entity name."""
    from probation_evidence.sources.contracts import CONTRACTS

    matches = [c for c in CONTRACTS.values() if c.entity == entity and c.transport == "api"]
    if len(matches) != 1:
        known = sorted(c.entity for c in CONTRACTS.values() if c.transport == "api")
        raise ValueError(f"unknown API entity {entity!r}; expected one of {known}")
    return matches[0]


def entity_columns(entity: str) -> list[tuple[str, str]]:
    """(column, Arrow type name) of an API entity, in contract order."""
    return [(f.name, ARROW_TYPES[f.kind]) for f in api_contract(entity).fields]


def entity_url(base_url: str, provider_id: str, entity: str) -> str:
    """The URL of one provider's entity (without query): what error reports name."""
    return f"{base_url.rstrip('/')}/v1/providers/{quote(provider_id, safe='')}/{quote(entity, safe='')}"


_JSON_TYPE_NAMES = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}


def _wrong_json_type(value: object, kind: str) -> bool:
    if value is None:
        return False
    if kind in {"numeric", "integer"}:
        return isinstance(value, bool) or not isinstance(value, int | float)
    if kind == "boolean":
        return not isinstance(value, bool)
    return not isinstance(value, str)


def _column(values: list, f: Field, arrow_type: pa.DataType, source: _Slice, page_starts: list[tuple[int, int]]):
    """One contract column; a JSON value of the wrong type is refused, naming its record and page."""
    import pyarrow as pa

    wrong = next((i for i, value in enumerate(values) if _wrong_json_type(value, f.kind)), None)
    if wrong is not None:
        value = values[wrong]
        page = page_starts[bisect_right(page_starts, (wrong, math.inf)) - 1][1]
        shown = json.dumps(value, default=str)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise source.error(
            200,
            f"record {wrong + 1} (on page {page}): column {f.name!r} holds "
            f"{_JSON_TYPE_NAMES.get(type(value), 'an object')} {shown}, contract says {f.kind}",
        )
    if f.kind == "integer" and not all(value is None or (type(value) is int and value in _INT64) for value in values):
        # 2.5, NaN, Infinity or a number beyond int64: land the JSON text for the loader to quarantine
        # (Arrow would truncate 2.5 to 2 silently, and fail the whole entity on NaN).
        return pa.array([None if value is None else json.dumps(value) for value in values], pa.string())
    if f.kind == "numeric" and any(type(value) is int and value not in _INT64 for value in values):
        # A whole number beyond int64 is still a number: as a float (infinite past 1e308, which the loader
        # quarantines), where Arrow would refuse the whole column.
        values = [_as_float(value) if type(value) is int else value for value in values]
    try:
        return pa.array(values, type=arrow_type)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as error:  # e.g. a lone UTF-16 surrogate
        raise source.error(200, f"column {f.name!r} holds a value that cannot be stored: {error}") from error


def _as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _to_table(records: list[dict], source: _Slice, page_starts: list[tuple[int, int]]) -> pa.Table:
    """Contract columns in contract order; an absent optional key becomes null."""
    import pyarrow as pa

    contract = api_contract(source.entity)
    arrays = [
        _column([record.get(f.name) for record in records], f, getattr(pa, ARROW_TYPES[f.kind])(), source, page_starts)
        for f in contract.fields
    ]
    return pa.Table.from_arrays(arrays, names=contract.column_names)


def _run(coroutine: Coroutine[object, object, _T]) -> _T:
    """Run a coroutine to the end from synchronous code, even when this thread already has an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _fetch_records(
    source: _Slice, contract: Contract, token: str, as_at: date, page_size: int, policy: _Policy
) -> tuple[list[dict], list[tuple[int, int]]]:
    """Every record of the slice and (index of its first record, page number) of each page."""
    import httpx

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
                    params = {"as_at": as_at.isoformat(), "page": page, "page_size": page_size}
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
                    data, total, page = _check_page(body, source, params)
                    _check_keys(data, contract, source, params)
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
    source = _Slice(provider_id, entity, entity_url(base_url, provider_id, entity), contract.source)
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
    return _to_table(records, source, page_starts)
