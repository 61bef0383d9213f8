"""Tenant host groups (group "tenants"): every known tenant host of a group, swept once
(verify.probes.tenantprobes), judged per host and summarised in ONE result per check and group:
"998 of 1,000 tenant hosts pass; failing: acme.portal.example.com (certificate does not cover the
name), … (+1 more)".

The result is FAIL when any host failed, ERROR when some could not be checked and none failed (how
many, and why), WARN when some only warn, PASS only when every host passed. A host whose name has no
address is judged once, by tenant-dns: tenant-tls and tenant-https count it apart ("no address"),
never as a failure of their own. The evidence names the failing and unchecked hosts with their
reasons (the first MAX_NAMED of each, and how many more).
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from infra.knowledge.cloudflare import is_edge_address

from ..expectations import Expectations
from ..model import Status, Verdict, skipped
from ..probes.tenantprobes import ExceptionObservation, HostObservation, TenantSweep, query_type
from ..registry import Item, NotApplicable, check, checks_of, key
from ..tenantexpect import TenantGroupExpectation
from ..tlsclient import name_covered
from .tlschecks import EXPIRY_FAIL_DAYS, EXPIRY_WARN_DAYS, PERIOD_CODES
from .webcommon import directives

GROUP = "tenants"
MAX_NAMED = 50        # hosts named in the evidence, per outcome
IN_MESSAGE = 3        # hosts named in the message
PASS, WARN, FAIL, UNCHECKED, NO_ADDRESS = "pass", "warn", "fail", "unchecked", "no-address"
Outcome = tuple[str, str]   # (one of the above, the reason)


# ------------------------------------------------------------------ plans

def _sweep_plan(*, exceptions: bool = False):
    def plan(exp: Expectations):
        if not exp.tenants:
            return NotApplicable("the stack declares no tenant group (tenantGroups)", exp.domain)
        items: list[Item | NotApplicable] = []
        for g in exp.tenants:
            if exceptions and not g.exceptions:
                why = ("its exceptions are declared hosts, judged by dns-record-*" if g.declared_exceptions
                       else "the group names no exception (except)")
                items.append(NotApplicable(f"tenant group {g.name}: {why}", g.label))
            elif not exceptions and not g.hosts:
                items.append(NotApplicable(f"tenant group {g.name} lists no known tenant (tenants): the wildcard serves "
                                           "any name, and verify has none to visit; list the tenants to have each checked",
                                           g.label))
            else:
                items.append(Item(g.label, (key("tenant-sweep", g),), data=g))
        return items
    return plan


# ------------------------------------------------------------------ the summary

@dataclass
class Tally:
    outcomes: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: {
        PASS: [], WARN: [], FAIL: [], UNCHECKED: [], NO_ADDRESS: []})

    def add(self, name: str, outcome: Outcome) -> None:
        self.outcomes[outcome[0]].append((name, outcome[1]))

    def count(self, what: str) -> int:
        return len(self.outcomes[what])

    def named(self, what: str) -> list[dict[str, str]]:
        return [{"host": n, "reason": r} for n, r in self.outcomes[what][:MAX_NAMED]]


def _shown(pairs: list[tuple[str, str]]) -> str:
    text = ", ".join(f"{n} ({r})" for n, r in pairs[:IN_MESSAGE])
    return text + (f", … (+{len(pairs) - IN_MESSAGE:,} more)" if len(pairs) > IN_MESSAGE else "")


def summarise(g: TenantGroupExpectation, tally: Tally, what: str, remediation: str, took: float = 0.0) -> Verdict:
    """One verdict for a group from its per-host outcomes (`what`: "tenant hosts", "exceptions")."""
    n = sum(tally.count(k) for k in tally.outcomes)
    ok, warn, bad, unchecked, moot = (tally.count(k) for k in (PASS, WARN, FAIL, UNCHECKED, NO_ADDRESS))
    ev: dict = {"group": g.name, "checked": n - unchecked - moot, "total": n, "passed": ok, "warned": warn,
                "failed": bad, "unchecked": unchecked, "no_address": moot, "sweep_s": took}
    for k, label in ((FAIL, "failing"), (WARN, "warning"), (UNCHECKED, "not_checked"), (NO_ADDRESS, "no_address_hosts")):
        if tally.count(k):
            ev[label] = tally.named(k)
            if tally.count(k) > MAX_NAMED:
                ev[f"{label}_more"] = tally.count(k) - MAX_NAMED
    head = f"{ok:,} of {n:,} {what} pass"
    moot_note = f"; {moot:,} without an address (reported by tenant-dns)" if moot else ""
    unchecked_note = f"; {unchecked:,} could not be checked" if unchecked else ""
    if bad:
        return Verdict(Status.FAIL, f"{head}; failing: {_shown(tally.outcomes[FAIL])}{unchecked_note}{moot_note}",
                       ev, remediation)
    if unchecked:
        warned_note = f", {warn:,} warn" if warn else ""
        return Verdict(Status.ERROR, f"could not check {unchecked:,} of {n:,} {what} (none failed; {ok:,} pass"
                       f"{warned_note}): {_shown(tally.outcomes[UNCHECKED])}{moot_note}", ev)
    if warn:
        return Verdict(Status.WARN, f"{head}; warning: {_shown(tally.outcomes[WARN])}{moot_note}", ev, remediation)
    if ok == 0:
        return skipped(f"no {what} to judge{moot_note}", **ev)
    return Verdict(Status.PASS, f"{head}{moot_note}", ev)


def _sweep_verdict(item: Item, obs, judge: Callable[[TenantGroupExpectation, HostObservation], Outcome],
                   remediation: str, what: str = "tenant hosts") -> Verdict:
    g: TenantGroupExpectation = item.data
    sweep: TenantSweep = obs[key("tenant-sweep", g)]
    tally = Tally()
    for o in sweep.hosts:
        tally.add(o.host, (UNCHECKED, o.not_reached) if o.not_reached else judge(g, o))
    return summarise(g, tally, what, remediation, sweep.duration_s)


# ------------------------------------------------------------------ DNS

def _addresses(values: Iterable[str]) -> set[str]:
    out = set()
    for v in values:
        try:
            out.add(str(ipaddress.ip_address(v)))
        except ValueError:
            out.add(v.rstrip(".").lower())
    return out


def dns_outcome(g: TenantGroupExpectation, ans) -> Outcome:
    """Whether one tenant name answers with the group's record (proxied: only edge addresses)."""
    if ans is None:
        return UNCHECKED, "not queried"
    qtype = query_type(g)
    if ans.status == "failed":
        return UNCHECKED, ans.failure or "no answer"
    if ans.status == "nxdomain":
        return FAIL, "the name does not exist (NXDOMAIN)"
    if ans.status != "ok":
        return FAIL, f"no {qtype} record at the name" + (f" (CNAME to {ans.cname_chain[-1]})" if ans.cname_chain else "")
    if g.proxied:
        outside = sorted(x for x in ans.records if not is_edge_address(x))
        if outside:
            return FAIL, f"declared proxied but answers {', '.join(outside)}, outside Cloudflare's edge: the origin is exposed"
        return PASS, ""
    live = _addresses(ans.records)
    want = _addresses([g.origin])
    if live != want:
        return FAIL, f"{qtype} {', '.join(sorted(live))}, not {g.origin}"
    return PASS, ""


@check("tenant-dns", GROUP, "every tenant host resolves to its group's record", plan=_sweep_plan())
def judge_tenant_dns(item: Item, obs) -> Verdict:
    g: TenantGroupExpectation = item.data
    record = f"*.{g.domain}" if g.wildcard else f"<tenant>.{g.domain}"
    return _sweep_verdict(item, obs, lambda g, o: dns_outcome(g, o.dns),
                          f"publish {record} {g.record_type} {g.origin}{' (proxied)' if g.proxied else ''} for every "
                          "tenant, as tenantGroups declares: run `pulumi up`, and remove records at a tenant name "
                          "that shadow the group's")


# ------------------------------------------------------------------ TLS and HTTPS

def _no_address(o: HostObservation) -> bool:
    return o.dns is not None and o.dns.status in ("nxdomain", "nodata") and bool(o.web_error)


def tls_outcome(g: TenantGroupExpectation, o: HostObservation, now: _dt.datetime | None = None) -> Outcome:
    if o.cert is None:
        if _no_address(o):
            return NO_ADDRESS, "the name has no address"
        return UNCHECKED, o.web_error or "the connection did not show its certificate"
    c, now = o.cert, now or _dt.datetime.now(_dt.UTC)
    if not c.verified and c.verify_code not in PERIOD_CODES:
        return FAIL, f"certificate does not chain to a trusted root: {c.verify_message}"
    if not name_covered(o.host, c.dns_names):
        return FAIL, f"certificate does not cover the name; it names {', '.join(c.dns_names[:3]) or 'nothing'}"\
                     f"{', …' if len(c.dns_names) > 3 else ''}"
    days = c.days_left(now)
    if c.not_before > now:
        return FAIL, f"certificate not valid before {c.not_before:%Y-%m-%d}"
    if days < 0:
        return FAIL, f"certificate expired {-days:.0f} days ago"
    if days < EXPIRY_FAIL_DAYS:
        return FAIL, f"certificate expires in {days:.0f} days"
    if days < EXPIRY_WARN_DAYS:
        return WARN, f"certificate expires in {days:.0f} days"
    return PASS, ""


@check("tenant-tls", GROUP, "every tenant host presents a trusted certificate that covers it", plan=_sweep_plan())
def judge_tenant_tls(item: Item, obs) -> Verdict:
    g: TenantGroupExpectation = item.data
    names = f"{g.domain} and *.{g.domain}"
    how = ("below a subdomain Universal SSL does not: tenantGroups orders an advanced certificate" if g.proxied
           else "the group is DNS-only: the origin presents it, so install one there")
    return _sweep_verdict(item, obs, tls_outcome,
                          f"serve a certificate from a public CA covering {names} on every tenant host ({how}), and renew it")


def https_outcome(g: TenantGroupExpectation, o: HostObservation) -> Outcome:
    if o.status is None:
        if _no_address(o):
            return NO_ADDRESS, "the name has no address"
        return UNCHECKED, o.web_error or "no answer"
    if o.status >= 500:
        return FAIL, f"GET {g.path} answered {o.status}"
    if g.hsts and (o.hsts is None or "max-age" not in directives(o.hsts)):
        return FAIL, f"GET {g.path} answered {o.status} without Strict-Transport-Security"
    return PASS, ""


@check("tenant-https", GROUP, "every tenant host answers over HTTPS without a 5xx, with HSTS", plan=_sweep_plan())
def judge_tenant_https(item: Item, obs) -> Verdict:
    return _sweep_verdict(item, obs, https_outcome,
                          "route every tenant host to a healthy origin (a 5xx is the origin's or the edge's failure "
                          "for that tenant) and send Strict-Transport-Security on every HTTPS answer")


# ------------------------------------------------------------------ exceptions

def exception_outcome(g: TenantGroupExpectation, o: ExceptionObservation) -> Outcome:
    """An excepted name must not be served by the group: a TXT marker stops the wildcard answering."""
    if o.not_reached:
        return UNCHECKED, o.not_reached
    ans = o.dns
    if ans is None or ans.status == "failed":
        chain = ans.cname_chain if ans is not None else ()
        if g.origin in chain:
            return FAIL, f"resolves through the wildcard (CNAME to {g.origin})"
        return UNCHECKED, (ans.failure if ans is not None else None) or "no answer"
    if ans.status != "ok":
        return PASS, ""
    if g.proxied:
        edge = sorted(x for x in ans.records if is_edge_address(x))
        if edge:
            return FAIL, f"answers {', '.join(edge)} (the group's proxied edge): the wildcard serves it"
        return PASS, ""
    if _addresses([g.origin]) & _addresses(ans.records) or g.origin in ans.cname_chain:
        return FAIL, f"resolves to the group's origin {g.origin}: the wildcard serves it"
    return PASS, ""


@check("tenant-exceptions", GROUP, "names a wildcard group excepts do not resolve to its origin",
       plan=_sweep_plan(exceptions=True))
def judge_tenant_exceptions(item: Item, obs) -> Verdict:
    g: TenantGroupExpectation = item.data
    sweep: TenantSweep = obs[key("tenant-sweep", g)]
    tally = Tally()
    for o in sweep.exceptions:
        tally.add(o.name, exception_outcome(g, o))
    return summarise(g, tally, "excepted names", f"publish the TXT marker of each excepted name (or its own declared "
                     f"host) so *.{g.domain} stops answering for it: run `pulumi up`", sweep.duration_s)


CHECKS = checks_of(judge_tenant_dns, judge_tenant_tls, judge_tenant_https, judge_tenant_exceptions)
