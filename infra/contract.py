"""The launch contract: what verify will check after apply, derived from the spec alone.

Exported as the stack output `launchContract`. Facts known only after apply (SES DKIM tokens,
health-check ids) are not part of it; verify reads those from `pulumi stack output --json`.
"""
from __future__ import annotations

from dataclasses import asdict

from infra.components.rulesets import rate_limit_hosts
from infra.components.tlspolicy import zone_settings
from infra.spec import Spec, planned_records

CONTRACT_VERSION = 1


def build_contract(spec: Spec) -> dict:
    records = []
    for rec in planned_records(spec):
        item = asdict(rec)
        item.pop("comment")
        records.append(item)
    return {
        "version": CONTRACT_VERSION,
        "domain": spec.domain,
        "environment": spec.environment,
        "canonicalHost": spec.canonical_name,
        "aliasHost": spec.alias_name,
        "hosts": [
            {"name": h.name, "proxied": h.proxied, "api": h.api, "flows": dict(h.flows)} for h in spec.hosts
        ],
        "records": records,
        "redirects": _redirect_expectations(spec),
        "tls": {
            "sslMode": spec.tls.ssl_mode,
            "minVersion": spec.tls.min_version,
            "tls13": spec.tls.tls13,
            "alwaysUseHttps": spec.tls.always_use_https,
            "hsts": zone_settings(spec.tls)["security_header"]["strict_transport_security"],
        },
        "headers": spec.headers.as_dict(),
        "rateLimits": [
            {"path": rl.path, "hosts": rate_limit_hosts(spec, rl.path, rl.hosts), "requests": rl.requests,
             "period": rl.period, "methods": list(rl.methods)}
            for rl in spec.rate_limits
        ],
        "cache": {"staticPaths": list(spec.cache.static_paths), "sessionCookie": spec.cache.session_cookie},
        "caa": list(spec.caa),
        "dnssec": spec.dnssec,
    }


def _redirect_expectations(spec: Spec) -> list[dict]:
    """Concrete request → response pairs verify can replay (path and query must survive)."""
    out = [{
        "from": f"https://{spec.alias_name}/some/path?q=1",
        "to": f"https://{spec.canonical_name}/some/path?q=1",
        "status": 301,
    }]
    for r in spec.redirects:
        host = r.host or spec.canonical_name
        target = r.to if r.to.startswith(("https://", "http://")) else f"https://{host}{r.to}"
        out.append({
            "from": f"https://{host}{r.from_}" + ("?ref=launch" if r.preserve_query else ""),
            "to": target + ("?ref=launch" if r.preserve_query else ""),
            "status": r.status,
        })
    return out
