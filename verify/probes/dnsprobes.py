"""DNS probes: raw answers from the configured nameservers."""
from __future__ import annotations

from dataclasses import dataclass

from ..dnsclient import DnsAnswer
from ..registry import probe


@probe("rr")
def rr(ctx, name: str, rdtype: str) -> DnsAnswer:
    return ctx.dns.query(name, rdtype)


@probe("rr-dnssec")
def rr_dnssec(ctx, name: str, rdtype: str) -> DnsAnswer:
    return ctx.dns.query(name, rdtype, dnssec=True)


@dataclass(frozen=True)
class CnameObservation:
    name: str
    cname: DnsAnswer          # the CNAME query at the name itself
    target: str | None        # the published target (None if no CNAME)
    target_a: DnsAnswer | None
    target_aaaa: DnsAnswer | None


@probe("cname-chain")
def cname_chain(ctx, name: str, declared_target: str | None) -> CnameObservation:
    """The CNAME published at `name` (or, for proxied names that Cloudflare flattens, the declared
    target) and whether that target resolves to an address."""
    c = ctx.dns.query(name, "CNAME").checked()  # no answer at all: could not check
    target = None
    if c.status == "ok" and c.records:
        target = c.records[0].rstrip(".").lower()
    elif c.status == "nodata" and declared_target:  # the name exists without a CNAME: flattened by the proxy
        target = declared_target.rstrip(".").lower()
    a = aaaa = None
    if target:
        a = ctx.dns.query(target, "A")
        aaaa = ctx.dns.query(target, "AAAA")
    return CnameObservation(name=name, cname=c, target=target, target_a=a, target_aaaa=aaaa)


PROBES = (rr, rr_dnssec, cname_chain)
