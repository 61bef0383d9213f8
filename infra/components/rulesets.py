"""The zone's entry-point rulesets: one per phase, each built from a pure function of the spec.

Phases: redirects (http_request_dynamic_redirect), WAF managed rules (http_request_firewall_managed),
rate limits (http_ratelimit), cache (http_request_cache_settings), response headers
(http_response_headers_transform). Cloudflare allows exactly one entry-point ruleset per phase per
zone, so each phase is declared once, here.
"""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_cloudflare as cloudflare

from infra.spec import MANAGED_RULESETS, Spec

from . import rules as x


# -- pure rule builders ----------------------------------------------------------------------------

def redirect_rules(spec: Spec) -> list[dict]:
    out = []
    for r in spec.redirects:
        host = r.host or spec.canonical_name
        # A legacy path on the canonical host is also matched on its alias (www), so
        # www.example.com/signin goes to the final URL in one hop instead of two.
        hosts = [host, spec.alias_name] if host == spec.canonical_name else [host]
        target = r.to if r.to.startswith(("https://", "http://")) else f"https://{host}{r.to}"
        out.append({
            "ref": f"legacy_{len(out)}",
            "description": f"legacy redirect {r.from_} → {target}",
            "expression": x.all_of([x.host_in(hosts), x.path_is(r.from_)]),
            "action": "redirect",
            "action_parameters": {"from_value": {
                "status_code": r.status, "preserve_query_string": r.preserve_query,
                "target_url": {"value": target},
            }},
        })
    # The non-canonical host answers every path with a permanent redirect to the same path and
    # query on the canonical host.
    out.append({
        "ref": "canonical_host",
        "description": f"{spec.alias_name} → {spec.canonical_name}, path and query kept",
        "expression": x.host_in([spec.alias_name]),
        "action": "redirect",
        "action_parameters": {"from_value": {
            "status_code": 301, "preserve_query_string": True,
            "target_url": {"expression": f'concat({x.quote("https://" + spec.canonical_name)}, http.request.uri.path)'},
        }},
    })
    return out


def waf_rules(spec: Spec) -> list[dict]:
    if not spec.waf.enabled:
        return []
    return [{
        "ref": f"managed_{name.replace('-', '_')}",
        "description": f"Cloudflare managed ruleset: {name}",
        "expression": "true",
        "action": "execute",
        "action_parameters": {"id": MANAGED_RULESETS[name]},
    } for name in spec.waf.managed_rulesets]


def rate_limit_hosts(spec: Spec, path: str, declared: list[str]) -> list[str]:
    """The hosts a rate limit applies to: as declared, else every host with a flow under the path,
    else every proxied host."""
    if declared:
        return list(declared)
    serving = [h.name for h in spec.hosts if any(p.startswith(path) for p in h.flows.values())]
    return serving or [h.name for h in spec.hosts if h.proxied]


def rate_limit_rules(spec: Spec) -> list[dict]:
    out = []
    for i, rl in enumerate(spec.rate_limits):
        hosts = rate_limit_hosts(spec, rl.path, rl.hosts)
        parts = [x.host_in(hosts), x.path_prefix(rl.path)]
        if rl.methods:
            parts.append(x.method_in(rl.methods))
        out.append({
            "ref": f"ratelimit_{i}",
            "description": rl.name or (f"{rl.requests} {'/'.join(rl.methods) + ' ' if rl.methods else ''}requests"
                                       f" / {rl.period}s per IP on {rl.path} ({', '.join(hosts)}) → {rl.action}"),
            "expression": x.all_of(parts),
            "action": rl.action,
            "ratelimit": {
                # cf.colo.id is required by Cloudflare: counters are kept per data centre.
                "characteristics": ["cf.colo.id", "ip.src"],
                "period": rl.period,
                "requests_per_period": rl.requests,
                "mitigation_timeout": rl.mitigation_timeout if rl.action != "log" else 0,
            },
        })
    return out


def cache_rules(spec: Spec) -> list[dict]:
    c = spec.cache
    out = []
    if c.static_paths:
        out.append({
            "ref": "cache_static",
            "description": "cache static assets at the edge",
            "expression": x.any_of(x.path_prefix(p) for p in c.static_paths),
            "action": "set_cache_settings",
            "action_parameters": {"cache": True, "edge_ttl": {"mode": "override_origin", "default": c.static_ttl}},
        })
    # Cache rules are not terminating: the last matching rule wins, so the bypass comes last and
    # beats the static rule for API hosts, authenticated requests and declared paths.
    bypass = [x.cookie_has(c.session_cookie), 'len(http.request.headers["authorization"]) > 0']
    api_hosts = [h.name for h in spec.hosts if h.api]
    if api_hosts:
        bypass.insert(0, x.host_in(api_hosts))
    bypass += [x.path_prefix(p) for p in c.bypass_paths]
    out.append({
        "ref": "cache_bypass_private",
        "description": "never cache API or authenticated traffic",
        "expression": x.any_of(bypass),
        "action": "set_cache_settings",
        "action_parameters": {"cache": False},
    })
    return out


def header_rules(spec: Spec) -> list[dict]:
    return [{
        "ref": "security_headers",
        "description": "security response headers on every response",
        "expression": "true",
        "action": "rewrite",
        "action_parameters": {"headers": {
            name: {"operation": "set", "value": value} for name, value in spec.headers.as_dict().items()
        }},
    }]


PHASES = {
    "http_request_dynamic_redirect": ("redirects", redirect_rules),
    "http_request_firewall_managed": ("waf", waf_rules),
    "http_ratelimit": ("rate-limits", rate_limit_rules),
    "http_request_cache_settings": ("cache", cache_rules),
    "http_response_headers_transform": ("headers", header_rules),
}


# -- component -------------------------------------------------------------------------------------

class EdgeRules(pulumi.ComponentResource):
    """One entry-point ruleset per phase that has rules."""

    def __init__(self, name: str, zone_id: pulumi.Input[str], spec: Spec,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("launchready:edge:Rules", name, None, opts)
        self.rulesets: dict[str, cloudflare.Ruleset] = {}
        for phase, (short, build) in PHASES.items():
            rules = build(spec)
            if not rules:
                continue
            self.rulesets[phase] = cloudflare.Ruleset(
                f"{name}-{short}", zone_id=zone_id, kind="zone", phase=phase,
                name=f"launchready {short}", description=f"launch-ready {short} for {spec.domain}",
                rules=rules, opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"phases": sorted(self.rulesets)})
