"""The root of the stack spec and the checks that span sections."""
from __future__ import annotations

import functools
from collections import defaultdict
from typing import ClassVar, Literal

from pydantic import Field, StrictBool, model_validator
from pydantic_core import PydanticCustomError

from .adoptspec import adopt_problems, phases_without_rules
from .errors import parse_path
from .fields import Hostname, in_zone
from .mailplan import Mail, MailPlan
from .model import Cache, Headers, Host, Model, RateLimit, Record, Redirect, Tls, Waf, Zone
from .monitorspec import Monitoring
from .portalspec import Portal
from .records import PlannedRecord, edge_records
from .secretspec import Secrets
from .tenantspec import TenantGroup, group_problems
from .zoneplan import zone_plan


class LocatedError(ValueError):
    """A cross-field error that belongs to a specific key path (e.g. hosts[2].name)."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = loc
        self.message = message


class Spec(Model):
    domain: Hostname
    environment: Literal["production", "staging", "development"] = "production"
    zone: Zone = Zone()
    canonical_host: Literal["apex", "www"] = "apex"
    hosts: list[Host] = Field(min_length=1)
    # Many tenant hosts per entry (infra/spec/tenantspec.py): one record or one per tenant, one rule each.
    tenant_groups: list[TenantGroup] = Field(default_factory=list)
    records: list[Record] = Field(default_factory=list)
    redirects: list[Redirect] = Field(default_factory=list)
    tls: Tls = Tls()
    waf: Waf = Waf()
    rate_limits: list[RateLimit] = Field(default_factory=list)
    cache: Cache = Cache()
    headers: Headers = Headers()
    caa: list[Hostname] = Field(default_factory=list)
    dnssec: StrictBool = True
    mail: Mail | None = None
    secrets: Secrets | None = None
    monitoring: Monitoring | None = None
    portal: Portal | None = None

    # -- derived facts, used by infra, policies and verify alike ---------------------------------
    @property
    def canonical_name(self) -> str:
        return self.domain if self.canonical_host == "apex" else f"www.{self.domain}"

    @property
    def alias_name(self) -> str:
        """The host that redirects to the canonical one (www or apex)."""
        return f"www.{self.domain}" if self.canonical_host == "apex" else self.domain

    def redirect_host(self, redirect: Redirect) -> str:
        """The host a redirect is declared on: its own, its group's pattern (*.portal.example.com),
        or the canonical host."""
        group = self.group(redirect.group) if redirect.group else None
        return redirect.host or (group.pattern if group else self.canonical_name)

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts if h.name == name), None)

    def group(self, name: str) -> TenantGroup | None:
        """The tenant group `name` (a group's name, not a host)."""
        return next((g for g in self.tenant_groups if g.name == name), None)

    def group_of(self, host: str) -> TenantGroup | None:
        """The tenant group serving `host`, None for an explicit host or a name nobody serves. A name with
        a record of its own (a mail host, a declared record) is not answered by a wildcard (RFC 4592)."""
        if self.host(host) is not None:
            return None
        group = next((g for g in self.tenant_groups if g.serves(host)), None)
        if group is not None and group.wildcard and host in self.own_record_names:
            return None
        return group

    @functools.cached_property
    def own_record_names(self) -> frozenset[str]:
        """Names with a record the tenant groups did not put there (hosts, records, mail, CAA)."""
        return frozenset(r.name for r in planned_records(self) if not r.source.startswith("tenantGroups"))

    @property
    def plan(self) -> str:
        """The zone's Cloudflare plan: zone.plan, else the cheapest one the features need (zoneplan.py)."""
        return zone_plan(self)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @functools.cached_property
    def mail_plan(self) -> MailPlan | None:
        """The records and problems of the mail section (None without one), derived once per Spec:
        validation, planned_records, the program, the contract and verify all read this one plan,
        so none of them may change it. (A frozen model may cache: cached_property writes the
        instance __dict__ directly, and pydantic leaves it out of fields, dumps and equality.)"""
        return MailPlan.build(self.mail, self) if self.mail is not None else None

    @functools.cached_property
    def served_names(self) -> frozenset[str]:
        """Every name the zone answers with an address for (A, AAAA, CNAME records; wildcards as
        `*.name`): what a tenant group's wildcard expression must leave out."""
        return frozenset(r.name for r in planned_records(self) if r.type in ("A", "AAAA", "CNAME"))

    def model_copy(self, *, update=None, deep: bool = False):
        # A copy starts with the original's __dict__, cached plan included; an update may change
        # what the plan is derived from, so the copy derives its own.
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("mail_plan", None)
        copied.__dict__.pop("served_names", None)
        copied.__dict__.pop("own_record_names", None)
        return copied

    # -- cross-field validation ------------------------------------------------------------------
    # Each cross-field check and the sections it reads: when some sections are malformed, the
    # loader still runs the checks whose sections are all valid, so every problem is reported at once.
    CROSS_CHECKS: ClassVar[dict[str, set[str]]] = {
        "_check_zone": {"zone", "domain"},
        "_check_host_items": {"hosts", "domain"},
        "_check_canonical_hosts": {"hosts", "domain", "canonicalHost"},
        "_check_records": {"records", "hosts", "tenantGroups", "caa", "mail", "domain"},
        "_check_redirects": {"redirects", "canonicalHost", "domain"},
        "_check_redirect_hosts": {"redirects", "hosts", "tenantGroups"},
        "_check_rate_limits": {"rateLimits", "hosts", "tenantGroups"},
        "_check_tenant_groups": {"tenantGroups", "hosts", "domain", "caa"},
        # The mail, secrets and monitoring sections check themselves against the rest.
        "_check_mail": {"mail", "domain", "hosts", "records", "zone"},
        "_check_monitoring": {"monitoring", "hosts", "tenantGroups", "domain", "zone"},
        "_check_portal": {"portal", "hosts"},
        "_check_adopt": {"zone", "domain", "hosts", "records", "caa", "mail", "waf", "rateLimits"},
    }

    # List sections a check can judge from their valid items alone, when others items are invalid:
    # a left-out item could only add a problem of the check's kind, never clear one (a duplicate among
    # the valid hosts stays a duplicate). A check that looks names up ("not among hosts") is not here:
    # the invalid item might be the one it looks for.
    PARTIAL_OK: ClassVar[dict[str, set[str]]] = {
        "_check_host_items": {"hosts"},
        "_check_records": {"records", "hosts", "tenantGroups"},
        "_check_tenant_groups": {"tenantGroups"},
        "_check_redirects": {"redirects"},
        "_check_redirect_hosts": {"redirects"},
        "_check_rate_limits": {"rateLimits"},
    }

    # Checks that read nothing of the hosts but their names: with hosts partial, they run when every
    # invalid host still has a valid name, over the valid hosts plus name-only stand-ins.
    NAME_LOOKUPS: ClassVar[frozenset[str]] = frozenset({"_check_canonical_hosts", "_check_redirect_hosts", "_check_rate_limits"})

    @classmethod
    def runnable_checks(cls, valid: set[str] | None, partial: set[str] = frozenset(),
                        named: set[str] = frozenset()) -> list[str]:
        """The cross checks whose sections are valid, or partial where the check allows it (for the
        name lookups, partial sections whose every item has a valid name: `named`)."""
        if valid is None:
            return list(cls.CROSS_CHECKS)
        return [check for check, needs in cls.CROSS_CHECKS.items()
                if needs <= valid | (partial & cls.PARTIAL_OK.get(check, set()))
                | (named if check in cls.NAME_LOOKUPS else set())]

    def run_checks(self, checks: list[str]) -> list[tuple[tuple, str]]:
        return [problem for check in checks for problem in getattr(self, check)()]

    def cross_problems(self, valid_sections: set[str] | None = None,
                       partial_sections: set[str] = frozenset()) -> list[tuple[tuple, str]]:
        return self.run_checks(self.runnable_checks(valid_sections, partial_sections))

    @model_validator(mode="after")
    def _cross_checks(self):
        errors = self.cross_problems()
        if errors:
            # Raised as one error carrying every problem; infra.spec.errors unpacks it.
            raise PydanticCustomError("launchready_cross", "{count} problems", {"count": len(errors), "problems": errors})
        return self

    def _check_zone(self):
        if self.zone.name and self.zone.name != self.domain:
            return [(("zone", "name"), f"{self.zone.name!r} is not the apex domain {self.domain!r}")]
        return []

    def _check_host_items(self):
        errors = []
        seen: dict[str, int] = {}
        for i, host in enumerate(self.hosts):
            if not in_zone(host.name, self.domain):
                errors.append((("hosts", i, "name"), f"{host.name!r} is outside the apex domain {self.domain!r}"))
            if host.name in seen:
                errors.append((("hosts", i, "name"), f"{host.name!r} is declared twice (first at hosts[{seen[host.name]}])"))
            else:
                seen[host.name] = i
            if host.record_type == "CNAME" and host.origin == host.name:
                errors.append((("hosts", i, "origin"), f"{host.origin!r} points at the host itself"))
        return errors

    def _check_tenant_groups(self):
        if not self.tenant_groups:
            return []
        # Names that already answer with an address of their own (a mail host such as mta-sts, a record).
        taken = {r.name: r.source for r in planned_records(self) if r.type in ("A", "AAAA", "CNAME")
                 and not r.source.startswith(("tenantGroups", "hosts["))}
        return group_problems(self.tenant_groups, self.domain, {h.name: i for i, h in enumerate(self.hosts)}, self.caa, taken)

    def _check_canonical_hosts(self):
        errors = []
        if self.host(self.canonical_name) is None:
            errors.append((("canonicalHost",), f"{self.canonical_host!r} means {self.canonical_name!r}, which is not among hosts"))
        if self.host(self.alias_name) is None:
            errors.append((("hosts",), f"{self.alias_name!r} is missing: it must exist (proxied) to redirect to the canonical host {self.canonical_name!r}"))
        return errors

    def _check_records(self):
        errors = []
        for i, rec in enumerate(self.records):
            if not in_zone(rec.name, self.domain):
                errors.append((("records", i, "name"), f"{rec.name!r} is outside the apex domain {self.domain!r}"))
        by_name = defaultdict(list)
        for rec in planned_records(self):
            by_name[rec.name].append(rec)
        for name, recs in by_name.items():
            cnames = [r for r in recs if r.type == "CNAME"]
            if cnames and len(recs) > 1:
                others = ", ".join(f"{r.type} from {r.source}" for r in recs if r is not cnames[0])
                errors.append((_loc(cnames[0].source, "name"),
                               f"{name!r} has a CNAME ({cnames[0].source}) and other records ({others}); a CNAME must be the only record at its name"))
        return errors

    def _check_redirects(self):
        errors = []
        edges: dict[tuple[str, str], tuple[int, tuple[str, str]]] = {}
        for i, r in enumerate(self.redirects):
            host = self.redirect_host(r)
            target = r.target(host)
            if target == (host, r.from_):
                errors.append((("redirects", i, "to"), f"{r.to!r} redirects {r.from_!r} to itself"))
                continue
            if (host, r.from_) in edges:
                errors.append((("redirects", i, "from"), f"{r.from_!r} on {host} is redirected twice (first at redirects[{edges[(host, r.from_)][0]}])"))
                continue
            edges[(host, r.from_)] = (i, target)
        reported_loops: set[frozenset] = set()
        for start, (i, target) in edges.items():
            chain = [start]
            node = target
            while node in edges and node not in chain:
                chain.append(node)
                node = edges[node][1]
            if node in chain:
                cycle = frozenset(chain[chain.index(node):])
                if cycle not in reported_loops:
                    reported_loops.add(cycle)
                    path = " → ".join(p for _, p in chain + [node])
                    errors.append((("redirects", i, "to"), f"redirect loop: {path}"))
            elif len(chain) > 1:
                path = " → ".join(p for _, p in chain + [node])
                errors.append((("redirects", i, "to"), f"redirect chain: {path}; point {start[1]!r} straight at {node[1]!r}"))
        return errors

    def _check_redirect_hosts(self):
        return [(("redirects", i, "host"), f"{r.host!r} is not among hosts")
                for i, r in enumerate(self.redirects) if r.host and self.host(r.host) is None] + [
            (("redirects", i, "group"), f"{r.group!r} is not among tenantGroups")
            for i, r in enumerate(self.redirects) if r.group and self.group(r.group) is None]

    def _check_mail(self):
        return list(self.mail_plan.problems) if self.mail_plan is not None else []

    def _check_monitoring(self):
        return self.monitoring.problems(self) if self.monitoring is not None else []

    def _check_portal(self):
        return self.portal.problems(self) if self.portal is not None else []

    def _check_adopt(self):
        return adopt_problems(self.zone, planned_records(self), phases_without_rules(self))

    def _check_rate_limits(self):
        errors = []
        for i, rl in enumerate(self.rate_limits):
            for j, name in enumerate(rl.hosts):
                if self.host(name) is None:
                    where = self.group_of(name)
                    hint = f" (a tenant of {where.name!r}: name the group in groups)" if where else ""
                    errors.append((("rateLimits", i, "hosts", j), f"{name!r} is not among hosts{hint}"))
            for j, name in enumerate(rl.groups):
                if self.group(name) is None:
                    errors.append((("rateLimits", i, "groups", j), f"{name!r} is not among tenantGroups"))
        return errors


def planned_records(spec: Spec) -> list[PlannedRecord]:
    """Every record the program publishes, in a stable order: the edge's, then the mail plan's."""
    records = edge_records(spec)
    if spec.mail_plan is not None:
        records.extend(spec.mail_plan.records)
    return records


def _loc(source: str, leaf: str) -> tuple:
    """'hosts[1]' → ('hosts', 1, leaf); 'mail.spf' → ('mail', 'spf')."""
    loc = parse_path(source)
    return loc + (leaf,) if loc and isinstance(loc[-1], int) else loc
