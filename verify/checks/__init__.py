"""The one list of check modules. A new area (tls, http, aws) is a new module here and one entry in
CHECK_MODULES; each module lists its own checks in CHECKS. Importing a module registers nothing.
Mail is one module per protocol; common.py holds what they share."""
from __future__ import annotations

from ..registry import Check, checks_by_id
from . import (
    awsaccount,
    awsenv,
    awsmonitors,
    awssecrets,
    cachechecks,
    delegation,
    dkim,
    dmarc,
    headerchecks,
    leakchecks,
    mtasts,
    mx,
    nonsending,
    perfchecks,
    portalbrowser,
    portalchecks,
    portalguards,
    portalmailchecks,
    proxied,
    redirectchecks,
    spf,
    tenantchecks,
    tlschecks,
    tlsrpt,
    zone,
)

# Order is the order of `--list` and of the report.
CHECK_MODULES = (delegation, zone, proxied, spf, dkim, dmarc, mx, mtasts, tlsrpt, nonsending,
                 tlschecks, redirectchecks, headerchecks, leakchecks, perfchecks, cachechecks,
                 tenantchecks, awssecrets, awsenv, awsmonitors, awsaccount, portalchecks, portalguards,
                 portalbrowser, portalmailchecks)


def registry() -> dict[str, Check]:
    """id -> Check, modules in CHECK_MODULES order, checks in each module's CHECKS order."""
    return checks_by_id(c for m in CHECK_MODULES for c in m.CHECKS)
