"""The launch contract's facts as one-line sentences, for the plan and the handover report alike.
Renders only: every figure comes from the contract (infra/contract.py)."""
from __future__ import annotations


def tenant_lines(contract: dict) -> list[str]:
    """One line per tenant group: its size, record, certificate and how it is watched."""
    out = []
    for g in contract.get("tenantGroups") or []:
        n = len(g["hosts"])
        size = (f"wildcard *.{g['domain']}, {n:,} known tenant{'s' if n != 1 else ''}" if g["wildcard"]
                else f"{n:,} tenant{'s' if n != 1 else ''} under {g['domain']}")
        if g["exceptions"]:
            size += f", {len(g['exceptions'])} excepted"
        cert = (f"certificate {', '.join(g['certificate']['names'])} by {g['certificate']['authority']}"
                if g.get("certificate") else "Universal SSL" if g["proxied"] else "the origin's certificate")
        watched = ", ".join(g["sampled"]) or "none (list tenants to watch some)"
        out.append(f"tenant group {g['name']}: {size} → {g['recordType']} {g['origin']}"
                   f" ({'proxied' if g['proxied'] else 'DNS only'}); {cert}; watched: {watched}")
    return out


def monitor_cost(contract: dict) -> str:
    """'about $89.10 a month (list prices of 2026-09); 18 of the account's quota of 200 health checks'."""
    m = (contract.get("monitoring") or {}).get("monthly")
    if not m:
        return ""
    return (f"about ${m['usd']:,.2f} a month (list prices of {m['pricedAsOf']}); "
            f"{m['healthChecks']} of the account's quota of {m['quota']} health checks")


def monitor_line(contract: dict) -> str:
    m = (contract.get("monitoring") or {}).get("monthly")
    if not m:
        return ""
    return f"monitors: {m['healthChecks']} Route53 health checks, {m['alarms']} CloudWatch alarms; {monitor_cost(contract)}"
