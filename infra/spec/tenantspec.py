"""Tenant host groups: one entry for the many hosts of a multi-tenant portal (`acme.portal.example.com`).

Every tenant host of a group shares the origin, flows, proxying and edge settings, so the program
covers the group with one record (a wildcard) or one record per tenant, and with ONE expression per
edge rule, one certificate and a sample of monitors, never one of each per tenant. Declaring 1,000
tenants as 1,000 `hosts` entries instead costs 10,000 resources and 2,000 health checks.

Cloudflare facts this relies on (Universal SSL covers only the apex and its first-level wildcard;
an explicit record of any type at a name stops a wildcard answering for it) are in docs/stack-spec-tenants.md.
"""
from __future__ import annotations

import functools
import re
from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool, field_validator, model_validator

from infra.knowledge.certificates import CA_DOMAINS, CertificateAuthority

from .fields import Hostname, PositiveInt, StrictInt, UrlPath
from .model import AUTH_FLOWS, Model, origin_record_type, origin_value

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")



def _label(value: str) -> str:
    if not isinstance(value, str):
        raise ValueError("is not a DNS label (expected a string such as acme)")
    label = value.strip().lower()
    if "." in label:
        raise ValueError("is one DNS label, not a name: write acme, not acme.portal.example.com")
    if label == "*":
        raise ValueError("is not a tenant: set wildcard: true for a wildcard record")
    if not _LABEL.match(label):
        raise ValueError("is not a valid DNS label (letters, digits and inner hyphens, at most 63)")
    return label


Label = Annotated[str, AfterValidator(_label)]
GroupName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


class TenantGroup(Model):
    """Tenant hosts `<tenant>.<domain>` that share one origin, one set of flows and the edge settings."""

    name: GroupName
    domain: Hostname
    origin: str
    proxied: StrictBool = True
    api: StrictBool = False
    flows: dict[str, UrlPath] = Field(default_factory=dict)
    ttl: StrictInt = Field(1, description="seconds, 1 = automatic")
    # One `*.<domain>` record for every tenant (new tenants need no change here); else one record each.
    wildcard: StrictBool = False
    # The known tenants: their records (explicit group), what verify checks and monitors sample.
    tenants: list[Label] = Field(default_factory=list)
    # Names under a wildcard it must not serve: each gets its own record (a declared host, or a TXT
    # marker), which stops the wildcard answering for it.
    exceptions: list[Label] = Field(default_factory=list, alias="except")
    # How many tenant hosts get health checks and the full verify (the first ones in `tenants`).
    sample: PositiveInt = Field(1, description="tenant hosts, e.g. 2")
    # Who issues the group's certificate when the group is below a subdomain (an advanced certificate).
    certificate_authority: CertificateAuthority = "lets_encrypt"

    @field_validator("origin")
    @classmethod
    def _origin(cls, value: str) -> str:
        return origin_value(value)

    @model_validator(mode="after")
    def _shape(self):
        if not self.wildcard and not self.tenants:
            raise ValueError("declares no tenant: list them in tenants, or set wildcard: true for a *.domain record")
        if self.exceptions and not self.wildcard:
            raise ValueError("except: only a wildcard group has exceptions (an explicit group serves exactly its tenants)")
        if self.record_type == "CNAME" and self.origin.endswith("." + self.domain):
            raise ValueError(f"origin: {self.origin!r} is inside the group's own names")
        return self

    # -- derived facts -----------------------------------------------------------------------------
    @property
    def record_type(self) -> str:
        return origin_record_type(self.origin)

    @property
    def pattern(self) -> str:
        return f"*.{self.domain}"

    def host_name(self, label: str) -> str:
        return f"{label}.{self.domain}"

    @property
    def hosts(self) -> list[str]:
        """The known tenant hosts, as declared."""
        return [f"{label}.{self.domain}" for label in self.tenants]

    @functools.cached_property
    def _labels(self) -> frozenset[str]:
        return frozenset(self.tenants)

    def serves(self, name: str) -> bool:
        """Whether `name` is a tenant host of this group (a wildcard serves any unexcepted label)."""
        label, dot, rest = name.partition(".")
        if not dot or rest != self.domain:
            return False
        return label not in self.exceptions if self.wildcard else label in self._labels

    @property
    def sampled(self) -> list[str]:
        """The tenant hosts watched by health checks and fully verified: the first `sample` tenants."""
        return self.hosts[:self.sample]

    @property
    def auth_flows(self) -> dict[str, str]:
        return {k: v for k, v in self.flows.items() if k in AUTH_FLOWS}

    def needs_certificate(self, apex: str) -> bool:
        """Universal SSL covers the apex and `*.apex` only: proxied tenants below a subdomain need an edge
        certificate of their own (DNS-only tenants are served by the origin's certificate)."""
        return self.proxied and self.domain != apex

    def size(self) -> str:
        """For a reader: '1,000 tenants' or 'wildcard, 3 known tenants, 2 exceptions'."""
        n = len(self.tenants)
        known = f"{n:,} tenant{'s' if n != 1 else ''}"
        if not self.wildcard:
            return known
        return f"wildcard {self.pattern}, {known} known" + (f", {len(self.exceptions)} excepted" if self.exceptions else "")


def wildcard_exclusions(spec, group: TenantGroup) -> tuple[list[str], list[str]]:
    """What `*.<domain>` covers that the group does not serve: (the names under it that are someone
    else's — declared hosts, names with records of their own (Spec.group_of), the group's exceptions —
    and the wildcards of groups nested under it). Names inside a nested group are left to its wildcard.
    The program's edge expressions and the pack's reading of them both come from here."""
    suffix = "." + group.domain
    inner = [g for g in spec.tenant_groups if g is not group and g.domain.endswith(suffix)]
    names = {n for n in spec.served_names
             if n.endswith(suffix) and not n.startswith("*.") and spec.group_of(n) is not group
             and not any(n.endswith("." + g.domain) for g in inner)}
    names |= {group.host_name(label) for label in group.exceptions}
    return sorted(names), sorted(g.pattern for g in inner)


def group_problems(groups: list[TenantGroup], apex: str, hosts: dict[str, int], caa: list[str],
                   taken: dict[str, str] | None = None) -> list[tuple[tuple, str]]:
    """What is wrong across tenant groups and with the rest of the spec: names outside the zone,
    duplicates, groups inside groups, tenants that are also explicit hosts, a certificate authority
    the CAA records forbid. `hosts`: explicit host name → index; `taken`: other names that answer with
    an address of their own → where they come from (mail.mtaSts, records[2])."""
    from .fields import in_zone

    problems: list[tuple[tuple, str]] = []
    names: dict[str, int] = {}
    domains: dict[str, int] = {}
    for i, g in enumerate(groups):
        at = ("tenantGroups", i)
        if g.name in names:
            problems.append((at + ("name",), f"{g.name!r} is declared twice (first at tenantGroups[{names[g.name]}])"))
        names.setdefault(g.name, i)
        if g.domain != apex and not in_zone(g.domain, apex):
            problems.append((at + ("domain",), f"{g.domain!r} is outside the apex domain {apex!r}"))
            continue
        if g.domain in domains:
            problems.append((at + ("domain",), f"{g.domain!r} is the domain of tenantGroups[{domains[g.domain]}] too"))
            continue
        domains[g.domain] = i
        problems += _label_problems(g, at, hosts, taken or {})
        if caa and g.needs_certificate(apex) and CA_DOMAINS[g.certificate_authority] not in caa:
            problems.append((at + ("certificateAuthority",),
                             f"{g.certificate_authority!r} needs {CA_DOMAINS[g.certificate_authority]!r} in caa, "
                             "or the group's certificate can never be issued"))
    for domain, i in domains.items():
        outer = next((d for d in domains if d != domain and domain.endswith("." + d) and groups[domains[d]].wildcard), None)
        if outer is not None:
            problems.append((("tenantGroups", i, "domain"),
                             f"{domain!r} lies under the wildcard of tenantGroups[{domains[outer]}] ({groups[domains[outer]].pattern})"))
    return problems


def _label_problems(g: TenantGroup, at: tuple, hosts: dict[str, int], taken: dict[str, str]) -> list[tuple[tuple, str]]:
    problems: list[tuple[tuple, str]] = []
    seen: dict[str, int] = {}
    excepted = set(g.exceptions)
    for j, label in enumerate(g.tenants):
        name = g.host_name(label)
        if label in seen:
            problems.append((at + ("tenants", j), f"{label!r} is declared twice (first at tenants[{seen[label]}])"))
            continue
        seen[label] = j
        if len(name) > 253:
            problems.append((at + ("tenants", j), f"{name!r} is longer than 253 characters"))
        if name in hosts:
            problems.append((at + ("tenants", j), f"{name!r} is declared as hosts[{hosts[name]}] too: a host belongs to one place"))
        elif name in taken:
            problems.append((at + ("tenants", j), f"{name!r} already answers with an address of its own ({taken[name]}): "
                                                  "a tenant there would take its place"))
        if label in excepted:
            problems.append((at + ("tenants", j), f"{label!r} is both a tenant and an exception (except)"))
    first: dict[str, int] = {}
    for j, label in enumerate(g.exceptions):
        if label in first:
            problems.append((at + ("except", j), f"{label!r} is declared twice (first at except[{first[label]}])"))
        first.setdefault(label, j)
    return problems
