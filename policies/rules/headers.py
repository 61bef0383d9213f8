"""Security-header rules: nosniff, frame options, referrer policy and a Content-Security-Policy,
set at the edge on every response."""
from __future__ import annotations

from ..props import PHASE_HEADERS, enabled_rules, get, of_type, rulesets, zone_id, zone_label, zones
from ..registry import ADVISORY, LOW, MANDATORY, MEDIUM, stack_rule


def _headers_set(resources, zone) -> dict[str, str]:
    """Response headers that every response gets (rules with expression 'true')."""
    out: dict[str, str] = {}
    for rs in rulesets(resources, zone, PHASE_HEADERS):
        for rule in enabled_rules(rs.props):
            if get(rule, "action") != "rewrite" or str(get(rule, "expression", default="")).strip() != "true":
                continue
            headers = get(rule, "actionParameters", "headers", default={})
            for name in headers:
                op = get(headers, name, "operation")
                if op in ("set", "add"):
                    out[name.lower()] = str(get(headers, name, "value", default=""))
                elif op == "remove":
                    out.pop(name.lower(), None)
    return out


_HEADER_CHECKS = {
    "x-content-type-options": (lambda v, all_: v.lower() == "nosniff", "'nosniff'"),
    "x-frame-options": (lambda v, all_: v.upper() in ("DENY", "SAMEORIGIN"), "'DENY' or 'SAMEORIGIN'"),
    "referrer-policy": (lambda v, all_: v.lower() not in ("unsafe-url", "no-referrer-when-downgrade", ""),
                        "a policy other than unsafe-url / no-referrer-when-downgrade"),
}


@stack_rule(
    "security-headers", area="edge", severity=MEDIUM, enforcement=MANDATORY,
    description="Every response carries X-Content-Type-Options: nosniff, X-Frame-Options (DENY/SAMEORIGIN) and a safe Referrer-Policy, set at the edge.",
    remediation="""
The launch program sets these from `launchready:headers` in stacks/Pulumi.<stack>.yaml. Keep
`contentTypeOptions: true`, `frameOptions: DENY` (or SAMEORIGIN if the portal frames itself) and
`referrerPolicy: strict-origin-when-cross-origin`; do not override them with `extra`.""",
    config={"requiredHeaders": {"type": "array", "items": {"type": "string"},
                                "default": ["X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"],
                                "description": "Headers every response must carry."}},
    spec_keys=("headers",),
    locator=lambda message, resource, spec: _header_locator(message),
)
def security_headers(resources, config):
    for zone in zones(resources):
        if not of_type([r for r in resources if zone_id(r.props) == zone], "cloudflare:index/dnsRecord:DnsRecord"):
            continue
        headers = _headers_set(resources, zone)
        label = zone_label(resources, zone)
        for name in config["requiredHeaders"]:
            value = headers.get(name.lower())
            csp = headers.get("content-security-policy", "")
            if value is None:
                if name.lower() == "x-frame-options" and "frame-ancestors" in csp:
                    continue  # CSP frame-ancestors supersedes X-Frame-Options
                yield f"{label}: responses do not carry {name}."
                continue
            check = _HEADER_CHECKS.get(name.lower())
            if check and not check[0](value, headers):
                yield f"{label}: {name} is {value!r}; expected {check[1]}."


_HEADER_KEYS = {
    "x-content-type-options": ("headers.contentTypeOptions", "tls.hsts.nosniff"),
    "x-frame-options": ("headers.frameOptions",),
    "referrer-policy": ("headers.referrerPolicy",),
    "content-security-policy": ("headers.contentSecurityPolicy",),
}


def _header_locator(message: str) -> list[str]:
    """The stack-file key that sets the header a message names (an `extra` override first)."""
    keys = []
    for header, spec_keys in _HEADER_KEYS.items():
        if header in message.lower():
            name = "-".join(part.capitalize() for part in header.split("-"))
            keys += [f"headers.extra.{name}", f"headers.extra.{header}", *spec_keys]
    return keys


@stack_rule(
    "content-security-policy", area="edge", severity=LOW, enforcement=ADVISORY,
    description="A Content-Security-Policy is sent, without 'unsafe-inline'/'unsafe-eval' or a wildcard source (*, https:, data:) for scripts.",
    remediation="""
Set `launchready:headers` → `contentSecurityPolicy` in stacks/Pulumi.<stack>.yaml, e.g.
"default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'". Start in
report-only mode in staging if the app loads third-party scripts.""",
    spec_keys=("headers.contentSecurityPolicy", "headers"),
)
def content_security_policy(resources, config):
    for zone in zones(resources):
        headers = _headers_set(resources, zone)
        if not rulesets(resources, zone, PHASE_HEADERS) and not headers:
            continue
        csp = headers.get("content-security-policy")
        label = zone_label(resources, zone)
        if not csp:
            yield f"{label}: no Content-Security-Policy header is set."
            continue
        directives = {d.strip().split(" ")[0].lower(): d for d in csp.split(";") if d.strip()}
        script = directives.get("script-src") or directives.get("default-src") or ""
        for bad in ("'unsafe-inline'", "'unsafe-eval'"):
            if bad in script:
                yield f"{label}: the Content-Security-Policy allows {bad} scripts."
        if any(src in ("*", "http:", "https:", "data:") for src in script.split()[1:]):
            yield f"{label}: the Content-Security-Policy lets scripts load from any origin ({script.strip()!r})."


# This module's rules, in catalogue order (policies.rules.MODULES collects them).
RULES = (
    security_headers, content_security_policy,
)
