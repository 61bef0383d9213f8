"""Edge rules: a happy-path resource, then one field changed, asserting the exact violation."""
from __future__ import annotations

import pytest

from policies.props import DNS_RECORD, RULESET, ZONE_SETTING

from .conftest import ZONE, judge, messages, resource

pytestmark = pytest.mark.unit


def setting(setting_id, value):
    return resource(ZONE_SETTING, f"tls-{setting_id}", zoneId=ZONE, settingId=setting_id, value=value)


def hsts(**over):
    value = {"enabled": True, "max_age": 31536000, "include_subdomains": True, "preload": False, "nosniff": True}
    value.update(over)
    return setting("security_header", {"strict_transport_security": value})


@pytest.mark.parametrize("value,expected", [
    ("strict", []),
    ("full", []),
    ("flexible", ["SSL mode is 'flexible'; it must be 'strict'."]),
    ("off", ["SSL mode is 'off'; it must be 'strict'."]),
])
def test_ssl_mode_not_flexible(value, expected):
    assert messages("ssl-mode-not-flexible", [setting("ssl", value)]) == expected


def test_ssl_mode_full_is_advisory():
    assert judge("ssl-mode-strict", [setting("ssl", "full")]) == [
        ("ssl-mode-strict", "advisory", "SSL mode is 'full': the origin certificate is not validated; use 'strict'.")]
    assert judge("ssl-mode-strict", [setting("ssl", "strict")]) == []


@pytest.mark.parametrize("value,expected", [
    ("1.2", []), ("1.3", []),
    ("1.0", ["minimum TLS version is '1.0'; it must be '1.2' or higher."]),
    ("1.1", ["minimum TLS version is '1.1'; it must be '1.2' or higher."]),
    (1.0, ["minimum TLS version is '1.0'; it must be '1.2' or higher."]),
    (1.2, []),
])
def test_min_tls_version(value, expected):
    assert messages("min-tls-version", [setting("min_tls_version", value)]) == expected


def test_min_tls_version_threshold_from_config():
    config = {"min-tls-version": {"minVersion": "1.3"}}
    assert messages("min-tls-version", [setting("min_tls_version", "1.2")], config) == [
        "minimum TLS version is '1.2'; it must be '1.3' or higher."]


def test_always_use_https():
    assert messages("always-use-https", [setting("always_use_https", "on")]) == []
    assert messages("always-use-https", [setting("always_use_https", "off")]) == [
        "Always Use HTTPS is 'off'; it must be 'on'."]


def test_tls13_advisory():
    assert judge("tls13-enabled", [setting("tls_1_3", "off")]) == [
        ("tls13-enabled", "advisory", "TLS 1.3 is 'off'; turn it on.")]
    assert judge("tls13-enabled", [setting("tls_1_3", "zrt")]) == []


def test_hsts_happy_path():
    assert judge(["hsts-enabled", "hsts-max-age", "hsts-include-subdomains"], [hsts()]) == []


def test_hsts_disabled():
    assert judge(["hsts-enabled", "hsts-max-age", "hsts-include-subdomains"], [hsts(enabled=False)]) == [
        ("hsts-enabled", "mandatory", "HSTS is disabled in the security_header setting.")]


def test_hsts_max_age_six_months():
    assert messages("hsts-max-age", [hsts(max_age=15552000)]) == []
    assert messages("hsts-max-age", [hsts(max_age=15551999)]) == [
        "HSTS max-age is 15551999; it must be at least 15552000 seconds."]


def test_hsts_max_age_threshold_from_config():
    config = {"hsts-max-age": {"minMaxAge": 63072000}}
    assert messages("hsts-max-age", [hsts()], config) == [
        "HSTS max-age is 31536000; it must be at least 63072000 seconds."]


def test_hsts_include_subdomains():
    assert messages("hsts-include-subdomains", [hsts(include_subdomains=False)]) == ["HSTS does not include subdomains."]


def record(name, rtype="A", content="203.0.113.10", proxied=True):
    return resource(DNS_RECORD, f"{rtype.lower()}-{name}", zoneId=ZONE, name=name, type=rtype, content=content,
                    proxied=proxied, ttl=1)


def ruleset(phase, rules, name=None):
    return resource(RULESET, name or f"edge-{phase}", zoneId=ZONE, kind="zone", phase=phase, name=phase, rules=rules)


def test_edge_settings_declared():
    full = [record("example.com")] + [setting(s, "on") for s in ("ssl", "min_tls_version", "always_use_https", "security_header")]
    assert messages("edge-settings-declared", full) == []
    assert messages("edge-settings-declared", full[:-1]) == [
        "example.com: the 'security_header' setting is not declared (Cloudflare's default applies)."]


WAF = {"action": "execute", "expression": "true", "actionParameters": {"id": "efb7b8c949ac4650a09736fc376e9aee"}}


def test_waf_managed_rules():
    assert messages("waf-managed-rules", [record("example.com"), ruleset("http_request_firewall_managed", [WAF])]) == []
    assert messages("waf-managed-rules", [record("example.com")]) == [
        "example.com: the Cloudflare Managed Ruleset is not deployed."]
    disabled = dict(WAF, enabled=False)
    assert messages("waf-managed-rules", [record("example.com"), ruleset("http_request_firewall_managed", [disabled])]) == [
        "example.com: the Cloudflare Managed Ruleset is not deployed."]
    log_only = dict(WAF, actionParameters={"id": WAF["actionParameters"]["id"], "overrides": {"action": "log"}})
    assert messages("waf-managed-rules", [record("example.com"), ruleset("http_request_firewall_managed", [log_only])]) == [
        "example.com: the Cloudflare Managed Ruleset is deployed in log-only mode (overrides.action 'log')."]


HOSTS = [{"name": "app.example.com", "origin": "203.0.113.20", "flows": {"login": "/login", "dashboard": "/dashboard"}}]


def limit(expression, requests=10, period=60, action="block", ref="ratelimit_0"):
    return {"ref": ref, "action": action, "expression": expression,
            "ratelimit": {"characteristics": ["cf.colo.id", "ip.src"], "period": period,
                          "requestsPerPeriod": requests, "mitigationTimeout": 600}}


LOGIN = '(http.host eq "app.example.com" and starts_with(http.request.uri.path, "/login") and http.request.method in {"POST"})'
NOT_PROTECTED = "app.example.com/login is not protected by a blocking rate limit: rateLimits[0] matches the path but "


def test_auth_rate_limited(stack_spec):
    stack_spec({"launchready:hosts": HOSTS})
    ok = [record("app.example.com"), ruleset("http_ratelimit", [limit(LOGIN)])]
    assert messages("auth-rate-limited", ok) == []
    assert messages("auth-rate-limited", [record("app.example.com")]) == [
        "app.example.com/login has no rate limit: add a `launchready:rateLimits` entry with `path: /login` "
        "(blocking, POST included, at most 100 requests per minute)."]
    # A rule that matches the path but does not protect it: the message says what the entry lacks.
    assert messages("auth-rate-limited", [record("app.example.com"), ruleset("http_ratelimit", [limit(LOGIN, action="log")])]) == [
        NOT_PROTECTED + "its action is 'log', which only counts requests (use block or managed_challenge)."]
    get_only = LOGIN.replace('{"POST"}', '{"GET"}')
    assert messages("auth-rate-limited", [record("app.example.com"), ruleset("http_ratelimit", [limit(get_only)])]) == [
        NOT_PROTECTED + "it counts only GET, not the POST that submits the form."]
    other_host = LOGIN.replace("app.example.com", "www.example.com")
    assert messages("auth-rate-limited", [record("app.example.com"), ruleset("http_ratelimit", [limit(other_host)])]) == [
        NOT_PROTECTED + "it is limited to www.example.com, not app.example.com."]
    assert messages("auth-rate-limited", [record("app.example.com"), ruleset("http_ratelimit", [limit(LOGIN, requests=1000)])]) == [
        NOT_PROTECTED + "it allows 1000 requests per minute, more than 100."]


def test_auth_rate_limited_names_the_most_specific_near_miss(stack_spec):
    stack_spec({"launchready:hosts": [{"name": "api.example.com", "origin": "203.0.113.30", "flows": {"token": "/v1/auth/token"}}]})
    broad = '(http.host eq "api.example.com" and starts_with(http.request.uri.path, "/v1/"))'
    token = '(http.host eq "api.example.com" and starts_with(http.request.uri.path, "/v1/auth/token"))'
    rules = [limit(broad, requests=600, ref="ratelimit_0", action="managed_challenge"), limit(token, ref="ratelimit_1", action="log")]
    assert messages("auth-rate-limited", [record("api.example.com"), ruleset("http_ratelimit", rules)]) == [
        "api.example.com/v1/auth/token is not protected by a blocking rate limit: rateLimits[1] matches the path but "
        "its action is 'log', which only counts requests (use block or managed_challenge)."]
    assert messages("auth-rate-limited", [record("api.example.com"), ruleset("http_ratelimit", rules[:1])]) == [
        "api.example.com/v1/auth/token is not protected by a blocking rate limit: rateLimits[0] matches the path but "
        "it allows 600 requests per minute, more than 100. Fix that entry, or add one with `path: /v1/auth/token` of its own."]


def test_auth_rate_limited_threshold_and_extra_paths(stack_spec):
    stack_spec({"launchready:hosts": HOSTS})
    res = [record("app.example.com"), ruleset("http_ratelimit", [limit(LOGIN, requests=10)])]
    assert messages("auth-rate-limited", res, {"auth-rate-limited": {"maxRequestsPerMinute": 5}}) == [
        NOT_PROTECTED + "it allows 10 requests per minute, more than 5."]
    assert messages("auth-rate-limited", res, {"auth-rate-limited": {"authPaths": ["app.example.com/sso/callback"]}}) == [
        "app.example.com/sso/callback has no rate limit: add a `launchready:rateLimits` entry with `path: /sso/callback` "
        "(blocking, POST included, at most 100 requests per minute)."]


def test_auth_paths_recognised_by_path_not_only_flow_name(stack_spec):
    stack_spec({"launchready:hosts": [{"name": "app.example.com", "origin": "203.0.113.20", "flows": {"signin": "/sign-in"}}]})
    assert messages("auth-rate-limited", [record("app.example.com")]) == [
        "app.example.com/sign-in has no rate limit: add a `launchready:rateLimits` entry with `path: /sign-in` "
        "(blocking, POST included, at most 100 requests per minute)."]


HEADERS = {"X-Content-Type-Options": {"operation": "set", "value": "nosniff"},
           "X-Frame-Options": {"operation": "set", "value": "DENY"},
           "Referrer-Policy": {"operation": "set", "value": "strict-origin-when-cross-origin"},
           "Content-Security-Policy": {"operation": "set", "value": "default-src 'self'"}}


def headers_rs(headers):
    return ruleset("http_response_headers_transform", [
        {"action": "rewrite", "expression": "true", "actionParameters": {"headers": headers}}])


def test_security_headers():
    assert messages("security-headers", [record("example.com"), headers_rs(HEADERS)]) == []
    no_nosniff = {k: v for k, v in HEADERS.items() if k != "X-Content-Type-Options"}
    assert messages("security-headers", [record("example.com"), headers_rs(no_nosniff)]) == [
        "example.com: responses do not carry X-Content-Type-Options."]
    unsafe = dict(HEADERS, **{"Referrer-Policy": {"operation": "set", "value": "unsafe-url"}})
    assert messages("security-headers", [record("example.com"), headers_rs(unsafe)]) == [
        "example.com: Referrer-Policy is 'unsafe-url'; expected a policy other than unsafe-url / no-referrer-when-downgrade."]


def test_csp_advisory():
    weak = dict(HEADERS, **{"Content-Security-Policy": {"operation": "set", "value": "script-src 'self' 'unsafe-inline'"}})
    assert judge("content-security-policy", [record("example.com"), headers_rs(weak)]) == [
        ("content-security-policy", "advisory", "example.com: the Content-Security-Policy allows 'unsafe-inline' scripts.")]


STATIC = {"ref": "cache_static", "action": "set_cache_settings",
          "expression": '(starts_with(http.request.uri.path, "/assets/") or starts_with(http.request.uri.path, "/static/"))',
          "actionParameters": {"cache": True, "edgeTtl": {"mode": "override_origin", "default": 86400}}}
BYPASS = {"ref": "cache_bypass_private", "action": "set_cache_settings", "actionParameters": {"cache": False},
          "expression": '(http.host eq "api.example.com" or http.cookie contains "session=" or len(http.request.headers["authorization"]) > 0)'}


def cache(rule):
    return ruleset("http_request_cache_settings", [rule, BYPASS])


def test_cache_never_private():
    assert messages("cache-never-private", [cache(STATIC)]) == []
    everything = dict(STATIC, expression='starts_with(http.request.uri.path, "/")')
    assert messages("cache-never-private", [cache(everything)]) == [
        "cache rule 'cache_static' makes every path cacheable ('/')."]
    api = dict(STATIC, expression='starts_with(http.request.uri.path, "/v1/")')
    assert messages("cache-never-private", [cache(api)]) == [
        "cache rule 'cache_static' makes the API or authenticated path '/v1/' cacheable."]
    no_path = dict(STATIC, expression="true")
    assert messages("cache-never-private", [cache(no_path)]) == [
        "cache rule 'cache_static' makes every path cacheable (its expression has no path condition)."]
    api_host = dict(STATIC, expression='(http.host eq "api.example.com" and starts_with(http.request.uri.path, "/assets/"))')
    assert messages("cache-never-private", [cache(api_host)]) == [
        "cache rule 'cache_static' makes the API host api.example.com cacheable."]


def test_cache_page_without_bypass():
    pages = dict(STATIC, expression='starts_with(http.request.uri.path, "/pricing")')
    assert messages("cache-never-private", [ruleset("http_request_cache_settings", [pages])]) == [
        "cache rule 'cache_static' caches non-asset paths ('/pricing') and no later rule bypasses the cache for "
        "session cookies and Authorization headers."]
    assert messages("cache-never-private", [cache(pages)]) == []


# -- tenant groups: a group's auth flows are targets; a limit covers them by wildcard or by listing ------

CLIENTS = {"name": "clients", "domain": "portal.example.com", "origin": "lb.example.net", "wildcard": True,
           "tenants": ["acme", "globex"], "except": ["admin"], "flows": {"login": "/login", "dashboard": "/dashboard"}}
PARTNERS = {"name": "partners", "domain": "example.com", "origin": "lb.example.net",
            "tenants": ["p0", "p1", "p2"], "flows": {"login": "/login"}}
GROUP_LOGIN = ('(http.host wildcard "*.portal.example.com" and not http.host in {"admin.portal.example.com"}) '
               'and starts_with(http.request.uri.path, "/login")')
CLIENTS_AT = "tenant group 'clients' (wildcard *.portal.example.com, 2 tenants known, 1 excepted) at /login"


def test_auth_rate_limited_tenant_group_by_wildcard(stack_spec):
    stack_spec({"launchready:hosts": [{"name": "example.com", "origin": "203.0.113.10"}],
                "launchready:tenantGroups": [CLIENTS]})
    assert messages("auth-rate-limited", [ruleset("http_ratelimit", [limit(GROUP_LOGIN)])]) == []
    assert messages("auth-rate-limited", []) == [
        f"{CLIENTS_AT} has no rate limit: add a `launchready:rateLimits` entry with `path: /login` "
        "(blocking, POST included, at most 100 requests per minute)."]
    assert messages("auth-rate-limited", [ruleset("http_ratelimit", [limit(LOGIN)])]) == [
        f"{CLIENTS_AT} is not protected by a blocking rate limit: rateLimits[0] matches the path but "
        "it is limited to app.example.com, not *.portal.example.com."]
    # A limit that leaves out a tenant the group serves does not cover the group.
    acme_out = GROUP_LOGIN.replace('{"admin.portal.example.com"}', '{"acme.portal.example.com" "admin.portal.example.com"}')
    assert messages("auth-rate-limited", [ruleset("http_ratelimit", [limit(acme_out)])]) == [
        f"{CLIENTS_AT} is not protected by a blocking rate limit: rateLimits[0] matches the path but it is limited to "
        "*.portal.example.com except acme.portal.example.com, admin.portal.example.com, not *.portal.example.com."]


def test_auth_rate_limited_explicit_group_by_listing(stack_spec):
    stack_spec({"launchready:hosts": [{"name": "example.com", "origin": "203.0.113.10"}],
                "launchready:tenantGroups": [PARTNERS]})
    listed = 'http.host in {"p0.example.com" "p1.example.com" "p2.example.com"} and starts_with(http.request.uri.path, "/login")'
    assert messages("auth-rate-limited", [ruleset("http_ratelimit", [limit(listed)])]) == []
    by_wildcard = 'http.host wildcard "*.example.com" and starts_with(http.request.uri.path, "/login")'
    assert messages("auth-rate-limited", [ruleset("http_ratelimit", [limit(by_wildcard)])]) == []
    short = listed.replace(' "p2.example.com"', "")
    assert messages("auth-rate-limited", [ruleset("http_ratelimit", [limit(short)])]) == [
        "tenant group 'partners' (3 tenants) at /login is not protected by a blocking rate limit: rateLimits[0] matches "
        "the path but it is limited to p0.example.com, p1.example.com, which leaves out p2.example.com."]


def test_cache_never_private_knows_api_groups(stack_spec):
    stack_spec({"launchready:hosts": [{"name": "example.com", "origin": "203.0.113.10"}],
                "launchready:tenantGroups": [dict(CLIENTS, api=True)]})
    tenants = dict(STATIC, expression=f'({GROUP_LOGIN.split(" and starts_with")[0]} and starts_with(http.request.uri.path, "/assets/"))')
    assert messages("cache-never-private", [cache(tenants)]) == [
        "cache rule 'cache_static' makes the API host *.portal.example.com cacheable."]
    assert messages("cache-never-private", [cache(STATIC)]) == []
