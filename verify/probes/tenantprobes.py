"""The tenant sweep: every known tenant host of a group, a few at a time, each observed once.

Per host: ONE DNS query (through --nameserver, like every DNS probe), ONE connection that carries the
TLS handshake (the presented certificate, its chain verified against --ca-file or the system store)
and ONE GET of the group's page (status, HSTS), through verify.webclient (pins first, then the DNS
answer just read). Per exception name: one DNS query. No latency sampling: the group's sampled
hosts are in the contract's `hosts`, so the perf group times those.

A journey probe: bounded by the run's deadline, not the per-probe timeout. Hosts the deadline reaches
first are observed as not checked (with that reason), so a 10,000-host sweep that runs out of time
still reports the hosts it did check.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

from ..dnsclient import DnsAnswer
from ..registry import probe
from ..sweep import bounded_map
from ..tenantexpect import TenantGroupExpectation
from ..tlsclient import CertificateInfo, certificate_info, chain_context
from ..webclient import WebClient, WebError, challenged
from .webprobes import web_client

DEFAULT_CONCURRENCY = 16
DEADLINE_MARGIN_S = 0.5       # hand the results back this long before the run's deadline
NOT_REACHED = "not checked: the run's deadline (--deadline) came before this host's turn"


@dataclass(frozen=True)
class HostObservation:
    host: str
    dns: DnsAnswer | None = None          # the one answer (rdata kept as text, no rrset)
    cert: CertificateInfo | None = None   # what the server presented on the connection of the GET
    status: int | None = None             # the GET's status
    hsts: str | None = None               # its Strict-Transport-Security, if any
    web_error: str = ""                   # no TLS/HTTP answer: could not check (the reason)
    not_reached: str = ""                 # nothing was asked: the deadline came first


@dataclass(frozen=True)
class ExceptionObservation:
    name: str
    dns: DnsAnswer | None = None
    not_reached: str = ""


@dataclass(frozen=True)
class TenantSweep:
    group: str
    hosts: tuple[HostObservation, ...]
    exceptions: tuple[ExceptionObservation, ...]
    duration_s: float = 0.0
    concurrency: int = DEFAULT_CONCURRENCY


def query_type(g: TenantGroupExpectation) -> str:
    """What one query asks: a proxied name answers edge addresses (A), a DNS-only one its record."""
    return "A" if g.proxied else g.record_type


def _ask(ctx, name: str, rdtype: str) -> DnsAnswer:
    try:
        ans = ctx.dns.query(name, rdtype)
    except Exception as e:  # noqa: BLE001 - a could-not-check about this one name, kept as its answer
        return DnsAnswer(name, rdtype, "failed", failure=f"{type(e).__name__}: {e}", failure_type=type(e).__name__)
    return replace(ans, rrset=None, rrsig_rrset=None)  # thousands of answers: keep the text only


def _where(web: WebClient, host: str, ans: DnsAnswer) -> tuple[str, int] | None:
    """Where to connect: a pin, else the address the one query already gave (None: let the client resolve)."""
    pinned = web.pinned(host, 443)
    if pinned:
        return pinned
    if ans.status == "ok" and ans.rdtype in ("A", "AAAA") and ans.records:
        return ans.records[0], 443
    return None


def observe_host(ctx, g: TenantGroupExpectation, host: str) -> HostObservation:
    ans = _ask(ctx, host, query_type(g))
    try:
        web = web_client(ctx)
        got = web.fetch_peer(f"https://{host}{g.path}", chain_context(web), _where(web, host, ans))
    except WebError as e:
        return HostObservation(host, ans, web_error=str(e))
    except Exception as e:  # noqa: BLE001 - one host's surprise is that host's could-not-check, its DNS kept
        return HostObservation(host, ans, web_error=f"{type(e).__name__}: {e}")
    r = got.response
    cert = None
    if got.der:
        cert = certificate_info(host, r.address, got.der, got.protocol, got.verified, got.verify_code,
                                got.verify_message)
    why = challenged(r)
    if why:
        return HostObservation(host, ans, cert, web_error=why)
    return HostObservation(host, ans, cert, r.status, r.header("strict-transport-security"))


@probe("tenant-sweep", journey=True)
def tenant_sweep(ctx, g: TenantGroupExpectation) -> TenantSweep:
    t0 = time.monotonic()
    workers = int(getattr(ctx, "tenant_concurrency", 0) or DEFAULT_CONCURRENCY)
    deadline_at = getattr(ctx, "deadline_at", None)
    stop_at = (deadline_at - DEADLINE_MARGIN_S) if deadline_at else float("inf")
    jobs = [("host", h) for h in g.hosts] + [("exception", n) for n in g.exceptions]

    def one(job: tuple[str, str]):
        kind, name = job
        if kind == "exception":
            return ExceptionObservation(name, _ask(ctx, name, query_type(g)))
        try:
            return observe_host(ctx, g, name)
        except Exception as e:  # noqa: BLE001 - one host's surprise is that host's could-not-check
            return HostObservation(name, web_error=f"{type(e).__name__}: {e}")

    done = bounded_map(one, jobs, workers, stop_at)
    hosts = tuple(o if o is not None else HostObservation(name, not_reached=NOT_REACHED)
                  for (kind, name), o in zip(jobs, done, strict=True) if kind == "host")
    excepted = tuple(o if o is not None else ExceptionObservation(name, not_reached=NOT_REACHED)
                     for (kind, name), o in zip(jobs, done, strict=True) if kind == "exception")
    return TenantSweep(g.name, hosts, excepted, round(time.monotonic() - t0, 3), workers)


PROBES = (tenant_sweep,)
