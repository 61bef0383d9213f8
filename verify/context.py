"""What probes get: the DNS client, the MTA-STS policy fetcher, the web client, and the timeouts."""
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
    # A definite misconfiguration met before any HTTP answer (the host has no address, its certificate
    # is for another name, expired, or from a CA senders do not trust): a FAIL, unlike PolicyFetchError.
    problem: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


class PolicyFetchError(Exception):
    """The MTA-STS policy could not be fetched: a could-not-check, never a verdict."""


@dataclass
class Context:
    dns: DnsClient
    fetcher: PolicyFetcher | None = None
    timeout: float = 3.0
    extra: dict[str, Any] = field(default_factory=dict)
    web: Any = None              # verify.webclient.WebClient: every TLS and HTTP probe
    samples: int = 20            # latency samples per main flow
    concurrency: int = 4         # latency requests in flight at once, per flow
    browser: str | None = None   # a Chromium executable for the LCP checks (--browser); None: SKIPPED
    portal: Any = None           # verify.portalexpect.PortalExpectations, for the portal journey probe
    active: bool = False         # --active: state-changing and throttle probes may run
    aws: Any = None              # verify.awsclient.AwsClients: every AWS probe (one boto3 Session, made on first use)
    tenant_concurrency: int = 16  # tenant hosts swept at once, per group (--tenant-concurrency)
    deadline_at: float | None = None  # time.monotonic() of the run's deadline: a sweep returns what it has by then
