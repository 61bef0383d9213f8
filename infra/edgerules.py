"""The edge as data: Cloudflare zone settings and ruleset rules, pure functions of the spec.

Kept free of Pulumi and provider imports so the launch contract (and verify, which reads it) can
use them without loading pulumi_cloudflare; infra/components/ turns them into resources.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from infra.knowledge.cloudflare import MAX_EXPRESSION
from infra.spec import MANAGED_RULESETS, Spec
from infra.spec.model import RateLimit, Tls
from infra.spec.tenantspec import TenantGroup, wildcard_exclusions
from infra.spec.zoneplan import mitigation_timeout

# -- Cloudflare expression language ----------------------------------------------------------------
# One place builds expressions, so every ruleset quotes the same way.

def quote(value: str) -> str:
    # Cloudflare's expression language uses double-quoted strings with backslash escapes, as JSON does.
    return json.dumps(value)


def host_in(hosts: Iterable[str]) -> str:
    hosts = sorted(set(hosts))
    if len(hosts) == 1:
        return f"http.host eq {quote(hosts[0])}"
    return "http.host in {" + " ".join(quote(h) for h in hosts) + "}"


# Cloudflare refuses a rule expression longer than MAX_EXPRESSION (4,096) characters: hosts longer than
# this budget (room left for the path and method parts) are matched by wildcard instead (names nobody
# serves get no traffic).
HOST_LIST_BUDGET = MAX_EXPRESSION - 1096


def group_match(spec: Spec, group: TenantGroup, listed: bool = True) -> str:
    """One expression for every tenant host of a group, whatever its size: the tenant list when it is
    short (and `listed`), else `http.host wildcard "*.<domain>"` minus the names under it the group
    does not serve (declared hosts, exceptions, other groups' ranges)."""
    if not group.wildcard and listed:
        listed = host_in(group.hosts)
        if len(listed) <= HOST_LIST_BUDGET:
            return listed
    others, nested = wildcard_exclusions(spec, group)
    parts = [f"http.host wildcard {quote(group.pattern)}"]
    if others:
        parts.append(f"not {host_in(others)}")
    parts += [f"not http.host wildcard {quote(p)}" for p in nested]
    return all_of(parts)


def group_label(group: TenantGroup) -> str:
    """How a rule's description names a group: its wildcard, or its name and size."""
    if group.wildcard:
        return group.pattern
    return f"group {group.name} ({len(group.tenants):,} tenant{'s' if len(group.tenants) != 1 else ''})"


def hosts_match(spec: Spec, hosts: Iterable[str], groups: Iterable[TenantGroup] = ()) -> str:
    """Explicit hosts and whole tenant groups, in one expression."""
    hosts, groups = list(hosts), list(groups)
    head = [host_in(hosts)] if hosts else []
    expression = any_of(head + [group_match(spec, g) for g in groups])
    if len(expression) > HOST_LIST_BUDGET:
        # Several short lists can add up past what Cloudflare accepts: match every group by wildcard.
        expression = any_of(head + [group_match(spec, g, listed=False) for g in groups])
    return expression


def path_prefix(path: str) -> str:
    return f"starts_with(http.request.uri.path, {quote(path)})"


def path_is(path: str) -> str:
    return f"http.request.uri.path eq {quote(path)}"


def any_of(parts: Iterable[str]) -> str:
    parts = list(parts)
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def all_of(parts: Iterable[str]) -> str:
    parts = [p for p in parts if p]
    return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"


def method_in(methods: Iterable[str]) -> str:
    methods = sorted(set(methods))
    return "http.request.method in {" + " ".join(quote(m) for m in methods) + "}"


def cookie_has(name: str) -> str:
    return f"http.cookie contains {quote(name + '=')}"


# -- zone settings ---------------------------------------------------------------------------------

def _on(flag: bool) -> str:
    return "on" if flag else "off"


def zone_settings(tls: Tls) -> dict[str, object]:
    """setting id -> value, exactly as the Cloudflare API names them."""
    hsts = tls.hsts
    settings: dict[str, object] = {
        # strict: Cloudflare validates the origin certificate; flexible would send plaintext to the origin.
        "ssl": tls.ssl_mode,
        "min_tls_version": tls.min_version,
        "tls_1_3": _on(tls.tls13),
        "always_use_https": _on(tls.always_use_https),
        "automatic_https_rewrites": _on(tls.automatic_https_rewrites),
        # HSTS lives in security_header, with snake_case keys inside the value.
        "security_header": {
            "strict_transport_security": {
                "enabled": hsts.enabled,
                "max_age": hsts.max_age,
                "include_subdomains": hsts.include_subdomains,
                "preload": hsts.preload,
                "nosniff": hsts.nosniff,
            }
        },
    }
    if tls.authenticated_origin_pulls:
        settings["tls_client_auth"] = "on"  # Authenticated Origin Pulls (zone-wide)
    return settings


# -- pure rule builders ----------------------------------------------------------------------------

def redirect_rules(spec: Spec) -> list[dict]:
    out = []
    for r in spec.redirects:
        if r.group:
            out.append(_group_redirect(spec, r, len(out)))
            continue
        host = spec.redirect_host(r)
        # A legacy path on the canonical host is also matched on its alias (www), so
        # www.example.com/signin goes to the final URL in one hop instead of two.
        hosts = [host, spec.alias_name] if host == spec.canonical_name else [host]
        target = r.target_url(host)
        out.append({
            "ref": f"legacy_{len(out)}",
            "description": f"legacy redirect {r.from_} → {target}",
            "expression": all_of([host_in(hosts), path_is(r.from_)]),
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
        "expression": host_in([spec.alias_name]),
        "action": "redirect",
        "action_parameters": {"from_value": {
            "status_code": 301, "preserve_query_string": True,
            "target_url": {"expression": f'concat({quote("https://" + spec.canonical_name)}, http.request.uri.path)'},
        }},
    })
    return out


def _group_redirect(spec: Spec, r, index: int) -> dict:
    """A legacy redirect on every tenant host of a group: a relative target stays on the same tenant."""
    group = spec.group(r.group)
    relative = r.to.startswith("/")
    target = ({"expression": f'concat("https://", http.host, {quote(r.to)})'} if relative else {"value": r.to})
    return {
        "ref": f"legacy_{index}",
        "description": f"legacy redirect {r.from_} → {r.to} on every tenant of {group.name}",
        "expression": all_of([group_match(spec, group), path_is(r.from_)]),
        "action": "redirect",
        "action_parameters": {"from_value": {
            "status_code": r.status, "preserve_query_string": r.preserve_query, "target_url": target}},
    }


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


def rate_limit_targets(spec: Spec, rl: RateLimit) -> tuple[list[str], list[TenantGroup]]:
    """The explicit hosts and the tenant groups a rate limit applies to: as declared, else every
    host and group with a flow under the path, else every proxied host and group."""
    if rl.hosts or rl.groups:
        return list(rl.hosts), [g for g in spec.tenant_groups if g.name in rl.groups]
    hosts = [h.name for h in spec.hosts if any(p.startswith(rl.path) for p in h.flows.values())]
    groups = [g for g in spec.tenant_groups if any(p.startswith(rl.path) for p in g.flows.values())]
    if hosts or groups:
        return hosts, groups
    return [h.name for h in spec.hosts if h.proxied], [g for g in spec.tenant_groups if g.proxied]


def rate_limit_rules(spec: Spec) -> list[dict]:
    out = []
    plan = spec.plan
    for i, rl in enumerate(spec.rate_limits):
        hosts, groups = rate_limit_targets(spec, rl)
        parts = [hosts_match(spec, hosts, groups), path_prefix(rl.path)]
        if rl.methods:
            parts.append(method_in(rl.methods))
        out.append({
            "ref": f"ratelimit_{i}",
            "description": rl.name or (f"{rl.requests} {'/'.join(rl.methods) + ' ' if rl.methods else ''}requests"
                                       f" / {rl.period}s per IP on {rl.path} ({', '.join(hosts + [group_label(g) for g in groups])})"),
            "expression": all_of(parts),
            "action": rl.action,
            "ratelimit": {
                # cf.colo.id is required by Cloudflare: counters are kept per data centre.
                "characteristics": ["cf.colo.id", "ip.src"],
                "period": rl.period,
                "requests_per_period": rl.requests,
                # What the zone's plan accepts: 0 for a challenge below Enterprise (zoneplan.py).
                "mitigation_timeout": mitigation_timeout(rl, plan),
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
            "expression": any_of(path_prefix(p) for p in c.static_paths),
            "action": "set_cache_settings",
            "action_parameters": {"cache": True, "edge_ttl": {"mode": "override_origin", "default": c.static_ttl},
                                  **({"browser_ttl": {"mode": "override_origin", "default": c.browser_ttl}}
                                     if c.browser_ttl else {})},
        })
    # Cache rules are not terminating: the last matching rule wins, so the bypass comes last and
    # beats the static rule for API hosts, authenticated requests and declared paths.
    bypass = [cookie_has(c.session_cookie), 'len(http.request.headers["authorization"]) > 0']
    api_hosts = [h.name for h in spec.hosts if h.api]
    api_groups = [g for g in spec.tenant_groups if g.api]
    if api_hosts or api_groups:
        bypass.insert(0, hosts_match(spec, api_hosts, api_groups))
    bypass += [path_prefix(p) for p in c.bypass_paths]
    out.append({
        "ref": "cache_bypass_private",
        "description": "never cache API or authenticated traffic",
        "expression": any_of(bypass),
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
