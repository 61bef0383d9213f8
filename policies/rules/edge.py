"""Edge rules: TLS, HSTS, HTTPS, WAF, rate limits on auth paths, security headers, safe caching."""
from __future__ import annotations

import re

from ..props import (
    PHASE_CACHE, PHASE_HEADERS, PHASE_RATELIMIT, PHASE_WAF, RULESET, ZONE_SETTING,
    enabled_rules, expr_hosts, expr_methods, expr_paths, fmt_num, get, num, of_type, on,
    path_covered, rulesets, stack_config, zone_id, zone_label, zones,
)
from ..registry import ADVISORY, CRITICAL, HIGH, LOW, MANDATORY, MEDIUM, resource_rule, stack_rule

TLS_ORDER = ["1.0", "1.1", "1.2", "1.3"]
PRELOAD_MIN_AGE = 31536000

MANAGED_RULESET_NAMES = {
    "efb7b8c949ac4650a09736fc376e9aee": "Cloudflare Managed Ruleset",
    "4814384a9e5d4991b9815dcfc25d2f1f": "Cloudflare OWASP Core Ruleset",
    "c2e184081120413c86c3ab7e14069605": "Cloudflare Exposed Credentials Check",
}


def _setting(props, setting_id: str) -> bool:
    return get(props, "settingId") == setting_id


@resource_rule(
    "ssl-mode-not-flexible", area="edge", types=[ZONE_SETTING], severity=CRITICAL, enforcement=MANDATORY,
    description="The zone's SSL mode is never 'off' or 'flexible' (both send visitors' traffic to the origin in plaintext).",
    remediation="""
In stacks/Pulumi.<stack>.yaml set `launchready:tls` → `sslMode: strict`.
'flexible' encrypts only browser→Cloudflare and talks plain HTTP to your origin; 'off' disables HTTPS.
Before switching, give the origin a certificate Cloudflare trusts (a public one, or a free Cloudflare
Origin CA certificate: SSL/TLS → Origin Server in the dashboard), then run `launchready gate` again.""",
    spec_keys=("tls.sslMode", "tls"),
)
def ssl_mode_not_flexible(props, config):
    if _setting(props, "ssl") and str(get(props, "value", default="")).lower() in ("off", "flexible"):
        yield f"SSL mode is {get(props, 'value')!r}; it must be 'strict'."


@resource_rule(
    "ssl-mode-strict", area="edge", types=[ZONE_SETTING], severity=MEDIUM, enforcement=ADVISORY,
    description="The zone's SSL mode is 'strict' (Full (strict)): Cloudflare validates the origin's certificate.",
    remediation="""
'full' encrypts Cloudflare→origin but accepts any certificate, so anyone on the path can impersonate
the origin. Install a valid certificate on the origin (a Cloudflare Origin CA certificate is free),
then set `launchready:tls` → `sslMode: strict` in stacks/Pulumi.<stack>.yaml.""",
    spec_keys=("tls.sslMode", "tls"),
)
def ssl_mode_strict(props, config):
    if _setting(props, "ssl") and str(get(props, "value", default="")).lower() == "full":
        yield "SSL mode is 'full': the origin certificate is not validated; use 'strict'."


@resource_rule(
    "min-tls-version", area="edge", types=[ZONE_SETTING], severity=HIGH, enforcement=MANDATORY,
    description="Visitors must use at least TLS 1.2 (TLS 1.0 and 1.1 are deprecated by RFC 8996).",
    remediation="""
Set `launchready:tls` → `minVersion: "1.2"` (quoted) in stacks/Pulumi.<stack>.yaml. Every browser
released since 2014 supports TLS 1.2; clients that cannot are also unable to reach most of the web.""",
    config={"minVersion": {"type": "string", "enum": TLS_ORDER, "default": "1.2",
                           "description": "Lowest acceptable minimum TLS version."}},
    spec_keys=("tls.minVersion", "tls"),
)
def min_tls_version(props, config):
    if not _setting(props, "min_tls_version"):
        return
    value = get(props, "value")
    # A number (1.2 written unquoted) reaches the policy as a float: read it as the version it means.
    shown = f"{num(value):.1f}" if num(value) is not None else str(value)
    if shown not in TLS_ORDER or TLS_ORDER.index(shown) < TLS_ORDER.index(config["minVersion"]):
        yield f"minimum TLS version is {shown!r}; it must be {config['minVersion']!r} or higher."


@resource_rule(
    "tls13-enabled", area="edge", types=[ZONE_SETTING], severity=LOW, enforcement=ADVISORY,
    description="TLS 1.3 is enabled at the edge (faster handshakes, no legacy cipher suites).",
    remediation="Set `launchready:tls` → `tls13: true` in stacks/Pulumi.<stack>.yaml.",
    spec_keys=("tls.tls13", "tls"),
)
def tls13_enabled(props, config):
    if _setting(props, "tls_1_3") and not (on(get(props, "value")) or get(props, "value") == "zrt"):
        yield f"TLS 1.3 is {get(props, 'value')!r}; turn it on."


@resource_rule(
    "always-use-https", area="edge", types=[ZONE_SETTING], severity=HIGH, enforcement=MANDATORY,
    description="Every plain-HTTP request is redirected to HTTPS (Always Use HTTPS is on).",
    remediation="""
Set `launchready:tls` → `alwaysUseHttps: true` in stacks/Pulumi.<stack>.yaml (or remove the key:
true is the default). Without it, links and bookmarks with http:// keep serving the portal unencrypted.""",
    spec_keys=("tls.alwaysUseHttps", "tls"),
)
def always_use_https(props, config):
    if _setting(props, "always_use_https") and not on(get(props, "value")):
        yield f"Always Use HTTPS is {get(props, 'value')!r}; it must be 'on'."


def _hsts(props):
    return get(props, "value", "strict_transport_security", default={})


@resource_rule(
    "hsts-enabled", area="edge", types=[ZONE_SETTING], severity=HIGH, enforcement=MANDATORY,
    description="HSTS (Strict-Transport-Security) is sent, so browsers refuse plain HTTP for the portal.",
    remediation="""
Set `launchready:tls` → `hsts: {enabled: true, maxAge: 31536000, includeSubdomains: true}` in
stacks/Pulumi.<stack>.yaml. Enable it only once every host serves HTTPS correctly (the gate's TLS
rules check that too): browsers cache the policy for maxAge seconds.""",
    spec_keys=("tls.hsts.enabled", "tls.hsts", "tls"),
)
def hsts_enabled(props, config):
    if _setting(props, "security_header") and get(_hsts(props), "enabled") is not True:
        yield "HSTS is disabled in the security_header setting."


@resource_rule(
    "hsts-max-age", area="edge", types=[ZONE_SETTING], severity=MEDIUM, enforcement=MANDATORY,
    description="HSTS max-age is at least 6 months (15552000 s), long enough to protect returning visitors; one year when preload is requested.",
    remediation="""
Set `launchready:tls` → `hsts.maxAge: 31536000` (one year; at least 15552000) in
stacks/Pulumi.<stack>.yaml. A short max-age lets the protection lapse between visits.
With `hsts.preload: true` the preload list requires one year (31536000) or more.""",
    config={"minMaxAge": {"type": "integer", "minimum": 0, "default": 15552000,
                          "description": "Smallest acceptable HSTS max-age, in seconds."}},
    spec_keys=("tls.hsts.maxAge", "tls.hsts", "tls"),
)
def hsts_max_age(props, config):
    if not _setting(props, "security_header"):
        return
    hsts = _hsts(props)
    if get(hsts, "enabled") is not True:
        return  # hsts-enabled reports that
    age = num(get(hsts, "max_age"))
    if age is None or age < config["minMaxAge"]:
        yield f"HSTS max-age is {fmt_num(get(hsts, 'max_age'))}; it must be at least {fmt_num(config['minMaxAge'])} seconds."
    elif get(hsts, "preload") is True and age < PRELOAD_MIN_AGE:
        # hstspreload.org refuses (and later removes) a preload request below one year.
        yield (f"HSTS preload is on but max-age is {fmt_num(age)}; the preload list requires at least "
               f"{PRELOAD_MIN_AGE} seconds (one year).")


@resource_rule(
    "hsts-include-subdomains", area="edge", types=[ZONE_SETTING], severity=MEDIUM, enforcement=MANDATORY,
    description="HSTS covers subdomains (includeSubDomains), so app., api. and future hosts are HTTPS-only too.",
    remediation="""
Set `launchready:tls` → `hsts.includeSubdomains: true` in stacks/Pulumi.<stack>.yaml. First make sure
every subdomain in the zone serves HTTPS (an http-only intranet name under the domain would break).""",
    spec_keys=("tls.hsts.includeSubdomains", "tls.hsts", "tls"),
)
def hsts_include_subdomains(props, config):
    if not _setting(props, "security_header"):
        return
    hsts = _hsts(props)
    if get(hsts, "enabled") is True and get(hsts, "include_subdomains") is not True:
        yield "HSTS does not include subdomains."


REQUIRED_SETTINGS = {
    "ssl": "ssl-mode-not-flexible",
    "min_tls_version": "min-tls-version",
    "always_use_https": "always-use-https",
    "security_header": "hsts-enabled",
}


@stack_rule(
    "edge-settings-declared", area="edge", severity=HIGH, enforcement=MANDATORY,
    description="Every zone declares its TLS settings (SSL mode, minimum TLS, Always Use HTTPS, HSTS); an undeclared setting keeps Cloudflare's weak default.",
    remediation="""
The launch program declares these settings from `launchready:tls` in stacks/Pulumi.<stack>.yaml;
if one is missing, the program was changed to skip it. Restore the `cloudflare.ZoneSetting` for
the missing setting id in infra/components/tlspolicy.py (one resource per setting id).""",
    config={"requiredSettings": {"type": "array", "items": {"type": "string"},
                                 "default": list(REQUIRED_SETTINGS),
                                 "description": "Zone setting ids every zone must declare."}},
    spec_keys=("tls",),
)
def edge_settings_declared(resources, config):
    settings = of_type(resources, ZONE_SETTING)
    for zone in zones(resources):
        declared = {get(s.props, "settingId") for s in settings if zone_id(s.props) == zone}
        for setting_id in config["requiredSettings"]:
            if setting_id not in declared:
                yield f"{zone_label(resources, zone)}: the {setting_id!r} setting is not declared (Cloudflare's default applies)."


@stack_rule(
    "waf-managed-rules", area="edge", severity=HIGH, enforcement=MANDATORY,
    description="Cloudflare's managed WAF ruleset is deployed on every zone (entry-point ruleset of http_request_firewall_managed).",
    remediation="""
In stacks/Pulumi.<stack>.yaml set `launchready:waf` → `enabled: true` and list at least
`managedRulesets: [cloudflare, owasp]`. The managed rules block known exploits (SQL injection,
known CVEs) before they reach the portal.""",
    config={"requiredRulesets": {"type": "array", "items": {"type": "string"},
                                 "default": ["efb7b8c949ac4650a09736fc376e9aee"],
                                 "description": "Managed ruleset ids that must be executed on every zone."}},
    spec_keys=("waf.enabled", "waf.managedRulesets", "waf"),
)
def waf_managed_rules(resources, config):
    for zone in zones(resources):
        executed: dict[str, str] = {}
        for rs in rulesets(resources, zone, PHASE_WAF):
            for rule in enabled_rules(rs.props):
                if get(rule, "action") != "execute":
                    continue
                rid = str(get(rule, "actionParameters", "id", default=""))
                overrides = get(rule, "actionParameters", "overrides", default={})
                if get(overrides, "enabled") is False:
                    continue
                executed[rid] = str(get(overrides, "action", default="") or "")
        for rid in config["requiredRulesets"]:
            name = MANAGED_RULESET_NAMES.get(rid, rid)
            if rid not in executed:
                yield f"{zone_label(resources, zone)}: the {name} is not deployed."
            elif executed[rid] == "log":
                yield f"{zone_label(resources, zone)}: the {name} is deployed in log-only mode (overrides.action 'log')."


# -- rate limits on authentication paths -----------------------------------------------------------
_AUTH_PATTERN = (r"(?i)(log-?in|sign-?in|sign-?up|register|password|passwd|reset|forgot|invite|"
                 r"/auth|token|oauth|mfa|2fa|otp|magic-?link|verify)")
_BLOCKING = {"block", "challenge", "managed_challenge", "js_challenge"}


def _auth_targets(config) -> list[tuple[str, str]]:
    """(host or '', path) pairs that must be rate limited."""
    targets: list[tuple[str, str]] = []
    pattern = re.compile(config["authPathPattern"])
    hosts = stack_config("launchready:hosts")
    for host in hosts if isinstance(hosts, list) else []:
        if not isinstance(host, dict):
            continue
        flows = host.get("flows") if isinstance(host.get("flows"), dict) else {}
        for flow, path in flows.items():
            if isinstance(path, str) and (flow in config["authFlows"] or pattern.search(path)):
                targets.append((str(host.get("name", "")).lower(), path))
    for entry in config["authPaths"]:
        host, _, path = entry.partition("/")
        targets.append((host.lower(), "/" + path))
    return list(dict.fromkeys(targets))


def _rule_label(rule, index: int) -> str:
    """How a rule is named to the reader: the stack-file entry it came from where the program's ref
    says so (ratelimit_N is launchready:rateLimits[N]), else its ref or position."""
    ref = str(get(rule, "ref", default="") or "")
    m = re.fullmatch(r"ratelimit_(\d+)", ref)
    if m:
        return f"rateLimits[{m.group(1)}]"
    return repr(ref) if ref else f"rules[{index}]"


def _limit_facts(rule, index: int = 0):
    """What a rate-limit rule does, parsed once: (label, expression, hosts, methods, rate per minute,
    action), or None when it has no usable rate."""
    expression = str(get(rule, "expression", default=""))
    requests, period = num(get(rule, "ratelimit", "requestsPerPeriod")), num(get(rule, "ratelimit", "period"))
    if requests is None or not period:
        return None
    return (_rule_label(rule, index), expression, expr_hosts(expression), expr_methods(expression),
            requests * 60.0 / period, str(get(rule, "action", default="")))


def _shortfalls(facts, host: str, path: str, max_per_minute: float) -> list[str]:
    """Why a rate-limit rule that matches `path` does not protect it ([] = it does)."""
    label, expression, hosts, methods, rate, action = facts
    out = []
    if action not in _BLOCKING:
        out.append(f"its action is {action!r}, which only counts requests (use block or managed_challenge)")
    if host and hosts is not None and host not in hosts:
        out.append(f"it is limited to {', '.join(sorted(hosts))}, not {host}")
    if methods is not None and "POST" not in methods:
        out.append(f"it counts only {', '.join(sorted(methods))}, not the POST that submits the form")
    if rate > max_per_minute:
        out.append(f"it allows {fmt_num(rate)} requests per minute, more than {fmt_num(max_per_minute)}")
    return out


def _covers(facts, host: str, path: str, max_per_minute: float) -> bool:
    return facts is not None and path_covered(path, facts[1]) and not _shortfalls(facts, host, path, max_per_minute)


@stack_rule(
    "auth-rate-limited", area="edge", severity=HIGH, enforcement=MANDATORY,
    description="Every login, password-reset, invite (and other authentication) path is covered by a blocking rate-limit rule, at most maxRequestsPerMinute per client.",
    remediation="""
The message names the path and, if a rate limit almost covers it, what that entry lacks.
To add one, append an entry to `launchready:rateLimits` in stacks/Pulumi.<stack>.yaml with the
path from the message, e.g. for /password/reset:
    - path: /password/reset
      methods: [POST]
      requests: 5
      period: 60
The action must block or challenge (`action: log` only counts), `methods` (if given) must include
POST, `hosts` (if given) must include the host in the message, and requests/period must stay at
or under the limit in the message (10 per 60 s is typical for a login form).""",
    config={
        "authFlows": {"type": "array", "items": {"type": "string"},
                      "default": ["login", "reset", "invite", "signup", "mfa", "token"],
                      "description": "Flow names (hosts[].flows keys) that are authentication entry points."},
        "authPathPattern": {"type": "string", "default": _AUTH_PATTERN,
                            "description": "Flow paths matching this regex are treated as authentication paths too."},
        "authPaths": {"type": "array", "items": {"type": "string"}, "default": [],
                      "description": "Extra paths that must be rate limited, as 'host/path' or '/path'."},
        "maxRequestsPerMinute": {"type": "number", "exclusiveMinimum": 0, "default": 100,
                                 "description": "Highest acceptable request rate per client on an auth path."},
    },
    spec_keys=("rateLimits", "hosts"),
    locator=lambda message, resource, spec: _auth_locator(message, spec),
)
def auth_rate_limited(resources, config):
    targets = _auth_targets(config)
    if not targets:
        return
    limit = float(config["maxRequestsPerMinute"])
    facts = [f for z in zones(resources) for rs in rulesets(resources, z, PHASE_RATELIMIT)
             for f in (_limit_facts(rule, i) for i, rule in enumerate(enabled_rules(rs.props))) if f is not None]
    for host, path in targets:
        if any(_covers(f, host, path, limit) for f in facts):
            continue
        where = f"{host}{path}" if host else path
        # The nearest miss: the rule with the most specific path condition that matches.
        near = sorted((f for f in facts if path_covered(path, f[1])),
                      key=lambda f: -max((len(p) for _, p in expr_paths(f[1]) if path.startswith(p.rstrip("*"))), default=0))
        if near:
            f = near[0]
            why = _shortfalls(f, host, path, limit)
            exact = any(p.rstrip("/") == path.rstrip("/") for _, p in expr_paths(f[1]))
            hint = "" if exact else f" Fix that entry, or add one with `path: {path}` of its own."
            yield (f"{where} is not protected by a blocking rate limit: {f[0]} matches the path but "
                   f"{'; '.join(why)}.{hint}")
        else:
            yield (f"{where} has no rate limit: add a `launchready:rateLimits` entry with `path: {path}` "
                   f"(blocking, POST included, at most {fmt_num(limit)} requests per minute).")


def _auth_locator(message: str, spec) -> list[str]:
    m = re.search(r"\brateLimits\[(\d+)\]", message)
    if m:
        i = m.group(1)
        keys = []
        if "its action is" in message:
            keys.append(f"rateLimits[{i}].action")
        if "it is limited to" in message:
            keys.append(f"rateLimits[{i}].hosts")
        if "it counts only" in message:
            keys.append(f"rateLimits[{i}].methods")
        if "requests per minute, more than" in message:
            keys.append(f"rateLimits[{i}].requests")
        return keys + [f"rateLimits[{i}]"]
    where = message.split(" ", 1)[0]
    keys = []
    for i, host in enumerate(getattr(spec, "hosts", None) or []):
        for flow, path in (host.flows or {}).items():
            if where in (f"{host.name}{path}", path):
                keys.append(f"hosts[{i}].flows.{flow}")
    return keys


# -- security headers ------------------------------------------------------------------------------

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



# -- caching ---------------------------------------------------------------------------------------
_STATIC = (r"(?i)^/(assets|static|_next/static|build|dist|images?|img|fonts?|css|js|media|favicon[^/]*|"
           r"robots\.txt)(/|$)|\.(css|js|mjs|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|eot|map)$")
_PRIVATE = (r"(?i)^/(api|graphql|v\d+)(/|$)|log-?in|log-?out|sign|password|reset|forgot|invite|/auth|token|"
            r"oauth|account|dashboard|admin|session|profile|settings|/me(/|$)|users?(/|$)")
_API_HOST = r"(?i)^(api|graphql|gql)[.-]"


def _excludes_private(expression: str) -> bool:
    e = expression.replace(" ", "")
    return "notlen(http.request.headers" in e or ("not" in expression and "http.cookie" in expression)


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
        hosts = expr_hosts(expression) or set()
        for host in sorted(h for h in hosts if api.search(h)):
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
