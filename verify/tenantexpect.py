"""What the tenant sweep expects of each tenant host group: from the launch contract's `tenantGroups`.

A group is `<tenant>.<domain>` hosts sharing one origin, one record (a wildcard, or one per tenant),
one certificate and the edge settings. verify visits every known tenant host of a group (the
`tenants` group of checks); the first `sample` of them are also in the contract's `hosts`, so the tls,
http and perf groups check those in full. Plain frozen dataclasses, like verify.webexpect.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TenantGroupExpectation:
    name: str
    domain: str
    wildcard: bool
    origin: str                      # a name (CNAME groups) or an address (A/AAAA groups)
    record_type: str                 # CNAME | A | AAAA: what each tenant name must answer (DNS-only groups)
    proxied: bool                    # behind Cloudflare: the live answer is edge addresses, not the origin
    path: str = "/"                  # what one GET asks of each host: "/" (an API group: its first flow)
    hosts: tuple[str, ...] = ()      # every known tenant host
    exceptions: tuple[str, ...] = ()           # names the wildcard must not serve (a TXT marker each)
    declared_exceptions: tuple[str, ...] = ()  # exceptions that are declared hosts (judged by dns-record-*)
    hsts: bool = True                # HSTS is declared: every tenant answer must carry it

    @property
    def label(self) -> str:
        """How results name the group: `clients (*.portal.example.com)`, `partners (<tenant>.example.com)`."""
        return f"{self.name} ({'*' if self.wildcard else '<tenant>'}.{self.domain})"

    def __str__(self) -> str:
        # A probe key prints its arguments: the group's name, not thousands of hosts.
        return self.label


def tenants_from_contract(contract: Mapping[str, Any]) -> tuple[TenantGroupExpectation, ...]:
    declared = {str(h["name"]).lower() for h in contract["hosts"] if not h.get("group")}
    hsts = bool(contract["tls"]["hsts"]["enabled"])
    out = []
    for g in contract.get("tenantGroups") or ():
        flows = list((g.get("flows") or {}).values())
        exceptions = [str(n).lower() for n in g.get("exceptions") or ()]
        out.append(TenantGroupExpectation(
            name=str(g["name"]), domain=str(g["domain"]).lower(), wildcard=bool(g["wildcard"]),
            origin=str(g["origin"]).rstrip(".").lower(), record_type=str(g["recordType"]).upper(),
            proxied=bool(g["proxied"]), path=str(flows[0]) if g.get("api") and flows else "/",
            hosts=tuple(str(h).lower() for h in g["hosts"]),
            exceptions=tuple(n for n in exceptions if n not in declared),
            declared_exceptions=tuple(n for n in exceptions if n in declared), hsts=hsts))
    return tuple(out)
