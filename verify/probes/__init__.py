"""Probes: fetch observations (DNS answers, parsed mail records, fetched policies). No verdicts here.
PROBE_MODULES is the one list of probe modules; each lists its own probes in PROBES."""
from __future__ import annotations

from ..registry import ProbeFn, probes_by_kind
from . import (
    awsdrill,
    awsprobes,
    browserprobes,
    cacheprobes,
    dnsprobes,
    mailprobes,
    portalprobes,
    tenantprobes,
    webprobes,
)

PROBE_MODULES = (dnsprobes, mailprobes, webprobes, browserprobes, awsprobes, awsdrill, portalprobes, cacheprobes,
                 tenantprobes)


def registry() -> dict[str, ProbeFn]:
    """kind -> probe function, from every module in PROBE_MODULES."""
    return probes_by_kind(fn for m in PROBE_MODULES for fn in m.PROBES)
