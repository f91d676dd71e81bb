"""The errors a provider API fetch raises, and the slice being fetched that every one of them names."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from probation_evidence.sources.validation import SchemaDriftError


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


@dataclass(frozen=True)
class ApiSlice:
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
