"""Cache rules: only static assets are cached; API responses and authenticated pages never are."""
from __future__ import annotations

import re

from ..context import current_spec
from ..props import PHASE_CACHE, RULESET, HostMatch, enabled_rules, expr_paths, get, host_match
from ..registry import HIGH, MANDATORY, resource_rule

_STATIC = (r"(?i)^/(assets|static|_next/static|build|dist|images?|img|fonts?|css|js|media|favicon[^/]*|"
           r"robots\.txt)(/|$)|\.(css|js|mjs|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|eot|map)$")
_PRIVATE = (r"(?i)^/(api|graphql|v\d+)(/|$)|log-?in|log-?out|sign|password|reset|forgot|invite|/auth|token|"
            r"oauth|account|dashboard|admin|session|profile|settings|/me(/|$)|users?(/|$)")
_API_HOST = r"(?i)^(api|graphql|gql)[.-]"


def _excludes_private(expression: str) -> bool:
    e = expression.replace(" ", "")
    return "notlen(http.request.headers" in e or ("not" in expression and "http.cookie" in expression)


def _api_hosts(hosts: HostMatch | None, api: re.Pattern) -> list[str]:
    """The API hosts a rule limited to `hosts` applies to: names and patterns the API host pattern
    recognises, and the spec's API hosts and tenant groups (`api: true`) it reaches."""
    if hosts is None:
        return []
    found = [h for h in hosts.positives() if api.search(h.removeprefix("*."))]
    spec = current_spec()
    if spec is not None:
        found += [h.name for h in spec.hosts if h.api and hosts.matches(h.name)]
        found += [g.pattern for g in spec.tenant_groups
                  if g.api and hosts.meets(HostMatch.of(names=[] if g.wildcard else g.hosts, patterns=[g.pattern] if g.wildcard else []))]
    return sorted(set(found))


@resource_rule(
    "cache-never-private", area="edge", types=[RULESET], severity=HIGH, enforcement=MANDATORY,
    description="Cache rules never make API responses or authenticated pages cacheable: only static asset paths are cached, and a later bypass covers session cookies and Authorization headers.",
    remediation="""
In stacks/Pulumi.<stack>.yaml, list only static asset prefixes in `launchready:cache` →
`staticPaths` (e.g. /assets/, /static/, /favicon.ico); never '/', an API prefix (/api/, /v1/) or a
page behind login. Set `sessionCookie` to the portal's session cookie name so authenticated
requests bypass the cache. A cached private page is served to the next visitor.""",
    config={
        "staticPathPattern": {"type": "string", "default": _STATIC,
                              "description": "Path prefixes matching this regex are static assets."},
        "privatePathPattern": {"type": "string", "default": _PRIVATE,
                               "description": "Path prefixes matching this regex are API or authenticated."},
        "apiHostPattern": {"type": "string", "default": _API_HOST,
                           "description": "Host names matching this regex serve an API."},
    },
    spec_keys=("cache.staticPaths", "cache"),
)
def cache_never_private(props, config):
    if get(props, "phase") != PHASE_CACHE:
        return
    rules = enabled_rules(props)
    static, private, api = (re.compile(config[k]) for k in ("staticPathPattern", "privatePathPattern", "apiHostPattern"))
    for i, rule in enumerate(rules):
        if get(rule, "action") != "set_cache_settings" or get(rule, "actionParameters", "cache") is not True:
            continue
        expression = str(get(rule, "expression", default=""))
        name = get(rule, "ref") or get(rule, "description") or f"rules[{i}]"
        for host in _api_hosts(host_match(expression), api):
            yield f"cache rule {name!r} makes the API host {host} cacheable."
        paths = [p for kind, p in expr_paths(expression)]
        if not paths:
            yield f"cache rule {name!r} makes every path cacheable (its expression has no path condition)."
            continue
        for p in paths:
            if p in ("", "/"):
                yield f"cache rule {name!r} makes every path cacheable ({p!r})."
            elif private.search(p):
                yield f"cache rule {name!r} makes the API or authenticated path {p!r} cacheable."
        if any(not static.search(p) for p in paths) and not _excludes_private(expression):
            later = rules[i + 1:]
            bypassed = any(get(r, "actionParameters", "cache") is False
                           and "http.cookie" in str(get(r, "expression", default=""))
                           and "authorization" in str(get(r, "expression", default="")).lower() for r in later)
            if not bypassed:
                odd = ", ".join(repr(p) for p in paths if not static.search(p))
                yield (f"cache rule {name!r} caches non-asset paths ({odd}) and no later rule bypasses the cache "
                       f"for session cookies and Authorization headers.")


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    cache_never_private,
)
