"""What probes get: the DNS client, the MTA-STS policy fetcher, and the timeouts."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .dnsclient import DnsClient


class PolicyFetcher(Protocol):
    def fetch(self, domain: str) -> FetchedPolicy: ...


@dataclass(frozen=True)
class FetchedPolicy:
    url: str
    status: int
    content_type: str | None
    text: str


class PolicyFetchError(Exception):
    """The MTA-STS policy could not be fetched: a could-not-check, never a verdict."""


@dataclass
class Context:
    dns: DnsClient
    fetcher: PolicyFetcher | None = None
    timeout: float = 3.0
    extra: dict[str, Any] = field(default_factory=dict)
