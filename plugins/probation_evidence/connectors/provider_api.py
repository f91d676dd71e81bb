"""Client for a provider's REST API (staffing, ICT, any family served over HTTP): every page of one entity
into one Arrow table whose columns and types come from the entity's source contract.

Values stay as received (dates and timestamps as text, numbers as float64 or int64, booleans as booleans):
validation and casting belong to the loader,
which quarantines bad rows rather than losing them here. This module only refuses responses that break
the transport contract (auth, unknown provider, malformed JSON, values of the wrong JSON type, broken
pagination). httpx and pyarrow are imported inside the functions so importing this module stays cheap.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    import httpx
    import pyarrow as pa

    from probation_evidence.contracts import Contract

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


class SourceError(Exception):
    """A provider system failed or broke its contract; carries what an operator needs, never the token."""

    def __init__(
        self, provider_id: str, entity: str, url: str, status: int | None, reason: str, source: str = "provider"
    ):
        self.provider_id = provider_id
        self.entity = entity
        self.url = url
        self.status = status
        self.reason = reason
        self.source = source
        status_text = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{source} {entity} for provider {provider_id}: {reason} ({status_text}, {url})")


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


def _error_reason(response: httpx.Response) -> str:
    """The server's error message when it sent the contract's JSON error, else the status phrase."""
    try:
        message = response.json()["error"]["message"]
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

    def error(self, status: int | None, reason: str, params: dict | None = None) -> SourceError:
        url = f"{self.url}?{urlencode(params)}" if params else self.url
        return SourceError(self.provider_id, self.entity, url, status, reason, self.source)


def _attempt(client: httpx.Client, source: _Slice, params: dict) -> object:
    """One GET returning the decoded JSON body; raises _Retryable or SourceError."""
    import httpx

    try:
        response = client.get(source.url, params=params)
    except httpx.TransportError as exc:  # includes timeouts and refused connections
        raise _Retryable(None, f"{type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status == 429 or status >= 500:
        raise _Retryable(status, _error_reason(response), _retry_after_s(response.headers.get("Retry-After")))
    if status != 200:
        raise source.error(status, _error_reason(response), params)
    try:
        return response.json()
    except ValueError:
        raise source.error(status, "response is not valid JSON", params) from None


def _get_page(client: httpx.Client, source: _Slice, params: dict, max_attempts: int, backoff_s: float) -> object:
    """GET with exponential backoff on retryable failures, honouring Retry-After when the server sends it."""
    for attempt in range(1, max_attempts + 1):
        try:
            return _attempt(client, source, params)
        except _Retryable as exc:
            if attempt == max_attempts:
                reason = f"gave up after {max_attempts} attempts: {exc.reason}"
                raise source.error(exc.status, reason, params) from exc
            delay = exc.delay_s if exc.delay_s is not None else backoff_s * 2 ** (attempt - 1)
            logger.warning(
                "%s %s for provider %s: attempt %d/%d failed (%s), retrying in %.1fs",
                source.entity,
                params,
                source.provider_id,
                attempt,
                max_attempts,
                exc.reason,
                delay,
            )
            time.sleep(delay)
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


def api_contract(entity: str) -> Contract:
    """The contract of an entity served over a provider API, found by its (unique) entity name."""
    from probation_evidence.contracts import CONTRACTS

    matches = [c for c in CONTRACTS.values() if c.entity == entity and c.transport == "api"]
    if len(matches) != 1:
        known = sorted(c.entity for c in CONTRACTS.values() if c.transport == "api")
        raise ValueError(f"unknown API entity {entity!r}; expected one of {known}")
    return matches[0]


def entity_columns(entity: str) -> list[tuple[str, str]]:
    """(column, Arrow type name) of an API entity, in contract order."""
    return [(f.name, ARROW_TYPES[f.kind]) for f in api_contract(entity).fields]


def _to_table(records: list[dict], source: _Slice) -> pa.Table:
    """Contract columns in contract order; a missing key becomes null for the loader to judge."""
    import pyarrow as pa

    fields = [pa.field(name, getattr(pa, type_name)()) for name, type_name in entity_columns(source.entity)]
    arrays = []
    for field in fields:
        try:
            arrays.append(pa.array([record.get(field.name) for record in records], type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
            reason = f"column {field.name!r} holds a value that is not {field.type}: {exc}"
            raise source.error(200, reason) from exc
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


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
) -> pa.Table:
    """Every record of ``entity`` for one provider and as-at date, following ``next_page`` to the end.

    Raises SourceError on auth failure, unknown provider, malformed responses, a page served twice
    (a pagination loop), a record count that disagrees with ``total_records``, or when retries run out.
    """
    import httpx

    contract = api_contract(entity)
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    url = f"{base_url.rstrip('/')}/v1/providers/{quote(provider_id, safe='')}/{quote(entity, safe='')}"
    source = _Slice(provider_id, entity, url, contract.source)
    records: list[dict] = []
    seen_pages: set[int] = set()
    page: int | None = 1
    total = 0
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with httpx.Client(headers=headers, timeout=timeout_s) as client:
        while page is not None:
            params = {"as_at": as_at.isoformat(), "page": page, "page_size": page_size}
            if page in seen_pages:
                raise source.error(200, f"pagination loop: next_page pointed back to page {page}", params)
            seen_pages.add(page)
            body = _get_page(client, source, params, max_attempts, backoff_s)
            data, total, page = _check_page(body, source, params)
            records.extend(data)
    if len(records) != total:
        raise source.error(200, f"received {len(records)} records but total_records is {total}")
    logger.info(
        "fetched %d %s %s records for provider %s as at %s in %d pages",
        len(records),
        contract.source,
        entity,
        provider_id,
        as_at,
        len(seen_pages),
    )
    return _to_table(records, source)
