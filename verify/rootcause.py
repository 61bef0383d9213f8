"""One cause, named once: results that follow from the zone not being there are marked as such.

When `dns-zone-served` is not a PASS (the zone is not delegated, the nameserver refuses it, nothing
answers), every other DNS and mail result about names in the zone fails or errors for that reason
alone. They keep their status (the exit code is unchanged) and gain `cause`, so every renderer
can show the root cause first and the rest as its consequences.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .checks.delegation import ZONE_SERVED
from .model import Finding, Report, Status

DEPENDENT_AREAS = ("dns", "mail")
# Web checks reach a host through its name too; an ERROR there follows from the zone (a FAIL means
# the host did answer, through a --connect-to pin, and stands on its own).
WEB_AREAS = ("tls", "http", "perf")
# A tenant sweep resolves every tenant host in the zone: its DNS findings follow from the zone like
# the DNS group's, its TLS/HTTPS errors like the web groups'.
TENANT_DNS = ("tenant-dns", "tenant-exceptions")


def _in_zone(target: str, domain: str) -> bool:
    names = (part.strip("()").rstrip(".").lower() for part in target.replace("/", " ").split())
    return any(n == domain or n.endswith("." + domain) for n in names)


def mark_root_causes(report: Report, domain: str) -> Report:
    return _mark_loops(_mark_zone(report, domain))


def _mark_loops(report: Report) -> Report:
    """A CNAME loop is one FAIL (dns-dangling-cname names it); the checks that query a looped name
    could not check it, and say so: they are marked as following from that FAIL."""
    loops = [f for f in report.findings if f.status is Status.FAIL and f.evidence.get("loop")]
    if not loops:
        return report
    names = {n: f.id for f in loops for n in f.evidence["loop"]}
    out = []
    for f in report.findings:
        first = f.target.split(" ")[0].rstrip(".").lower()
        if f not in loops and not f.cause and f.status in (Status.FAIL, Status.ERROR) and (
                first in names or "CNAME loop" in f.message):
            f = replace(f, cause=names.get(first, loops[0].id))
        out.append(f)
    return replace(report, findings=tuple(out))


def _mark_zone(report: Report, domain: str) -> Report:
    roots = [f for f in report.findings if f.id == ZONE_SERVED and f.status in (Status.FAIL, Status.ERROR)]
    if not roots:
        return report
    root = roots[0]

    def marked(findings: Iterable[Finding]) -> list[Finding]:
        out = []
        for f in findings:
            dns_like = f.area in DEPENDENT_AREAS or f.id in TENANT_DNS
            follows = (dns_like and f.status in (Status.FAIL, Status.ERROR)) or (
                (f.area in WEB_AREAS or f.area == "tenants") and f.status is Status.ERROR)
            if f is not root and follows and _in_zone(f.target, domain):
                f = replace(f, cause=root.id)
            out.append(f)
        return out

    return replace(report, findings=tuple(marked(report.findings)))
