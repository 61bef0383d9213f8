"""The edge components under Pulumi's mock runtime: the resources and properties a user relies on."""
from __future__ import annotations

from collections import Counter

import pytest

from infra.spec import MANAGED_RULESETS

pytestmark = pytest.mark.unit

RULESET = "cloudflare:index/ruleset:Ruleset"
SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"


def settings(run) -> dict:
    return {r.inputs["settingId"]: r.inputs["value"] for r in run.of_type(SETTING)}


def ruleset(run, phase) -> dict:
    (rs,) = [r for r in run.of_type(RULESET) if r.inputs["phase"] == phase]
    return rs.inputs


def test_tls_settings(example_run):
    s = settings(example_run)
    assert s["ssl"] == "strict"
    assert s["min_tls_version"] == "1.2"
    assert s["tls_1_3"] == "on"
    assert s["always_use_https"] == "on"
    assert s["automatic_https_rewrites"] == "on"
    hsts = s["security_header"]["strict_transport_security"]
    assert hsts["enabled"] is True and hsts["max_age"] == 31536000 and hsts["include_subdomains"] is True


def test_every_setting_targets_the_zone(example_run):
    zone_ids = {r.inputs["zoneId"] for r in example_run.of_type(SETTING) + example_run.of_type(RULESET)
                + example_run.of_type(RECORD)}
    assert zone_ids == {"0" * 32}


def test_one_entry_point_ruleset_per_phase(example_run):
    phases = Counter(r.inputs["phase"] for r in example_run.of_type(RULESET))
    assert phases == Counter({p: 1 for p in (
        "http_request_dynamic_redirect", "http_request_firewall_managed", "http_ratelimit",
        "http_request_cache_settings", "http_response_headers_transform")})
    assert all(r.inputs["kind"] == "zone" for r in example_run.of_type(RULESET))


def test_rate_limit_covers_each_declared_auth_path(example_run):
    rules = ruleset(example_run, "http_ratelimit")["rules"]
    spec_auth = {("example.com", "/login"), ("app.example.com", "/login"), ("app.example.com", "/password/reset"),
                 ("app.example.com", "/invite/accept"), ("api.example.com", "/v1/auth/token")}
    for host, path in spec_auth:
        covering = [r for r in rules
                    if f'starts_with(http.request.uri.path, "{path}")' in r["expression"] and f'"{host}"' in r["expression"]]
        assert covering, f"no rate limit on {host}{path}"
        rl = covering[0]["ratelimit"]
        assert rl["requestsPerPeriod"] > 0 and rl["period"] in (10, 60, 120, 300, 600, 3600)
        assert "ip.src" in rl["characteristics"] and "cf.colo.id" in rl["characteristics"]
    login = next(r for r in rules if '"/login"' in r["expression"])
    assert login["action"] == "block" and login["ratelimit"]["requestsPerPeriod"] == 10
    assert 'http.request.method in {"POST"}' in login["expression"]


def test_non_canonical_host_redirects_keeping_path_and_query(example_run):
    rules = ruleset(example_run, "http_request_dynamic_redirect")["rules"]
    canon = next(r for r in rules if r["expression"] == 'http.host eq "www.example.com"')
    fv = canon["actionParameters"]["fromValue"]
    assert fv["statusCode"] == 301
    assert fv["preserveQueryString"] is True
    assert fv["targetUrl"]["expression"] == 'concat("https://example.com", http.request.uri.path)'
    # The canonical rule is last: legacy paths on www go to their final URL in one hop.
    assert rules[-1] is canon


def test_legacy_redirects(example_run):
    rules = ruleset(example_run, "http_request_dynamic_redirect")["rules"]
    signin = next(r for r in rules if '"/signin"' in r["expression"])
    assert signin["expression"] == ('(http.host in {"example.com" "www.example.com"} and '
                                    'http.request.uri.path eq "/signin")')
    assert signin["actionParameters"]["fromValue"] == {
        "statusCode": 301, "preserveQueryString": True, "targetUrl": {"value": "https://example.com/login"}}
    forgot = next(r for r in rules if '"/forgot-password"' in r["expression"])
    assert forgot["actionParameters"]["fromValue"]["statusCode"] == 308
    assert forgot["actionParameters"]["fromValue"]["targetUrl"]["value"] == "https://app.example.com/password/reset"


def test_security_headers_set_on_every_response(example_run):
    (rule,) = ruleset(example_run, "http_response_headers_transform")["rules"]
    assert rule["expression"] == "true" and rule["action"] == "rewrite"
    headers = {k: v["value"] for k, v in rule["actionParameters"]["headers"].items()}
    assert all(v["operation"] == "set" for v in rule["actionParameters"]["headers"].values())
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_waf_managed_rulesets_deployed(example_run):
    rules = ruleset(example_run, "http_request_firewall_managed")["rules"]
    assert [r["actionParameters"]["id"] for r in rules] == [
        MANAGED_RULESETS["cloudflare"], MANAGED_RULESETS["owasp"], MANAGED_RULESETS["exposed-credentials"]]
    assert all(r["action"] == "execute" and r["expression"] == "true" for r in rules)


def test_cache_never_caches_api_or_authenticated_traffic(example_run):
    rules = ruleset(example_run, "http_request_cache_settings")["rules"]
    static, bypass = rules  # order matters: the last matching cache rule wins
    assert static["actionParameters"]["cache"] is True
    assert static["actionParameters"]["edgeTtl"] == {"mode": "override_origin", "default": 86400}
    assert bypass["actionParameters"] == {"cache": False}
    assert 'http.host eq "api.example.com"' in bypass["expression"]
    assert 'http.cookie contains "__Host-portal_session="' in bypass["expression"]
    assert 'http.request.headers["authorization"]' in bypass["expression"]


def test_dns_records_and_dnssec(example_run):
    recs = {(r.inputs["type"], r.inputs["name"]): r.inputs for r in example_run.of_type(RECORD)
            if r.inputs["type"] != "CAA"}
    assert recs[("A", "app.example.com")]["content"] == "203.0.113.20"
    assert recs[("A", "app.example.com")]["proxied"] is True
    assert recs[("CNAME", "api.example.com")]["content"] == "portal-api-1234.eu-west-1.elb.amazonaws.com"
    caa = sorted((r.inputs["data"]["tag"], r.inputs["data"]["value"]) for r in example_run.of_type(RECORD)
                 if r.inputs["type"] == "CAA")
    assert caa == [("issue", "letsencrypt.org"), ("issue", "pki.goog"), ("issuewild", ";")]
    (dnssec,) = example_run.of_type("cloudflare:index/zoneDnssec:ZoneDnssec")
    assert dnssec.inputs["status"] == "active"
    assert example_run.outputs["dnssecDs"]


def test_every_resource_sits_in_a_launchready_component(example_run):
    for res in example_run.custom():
        top = example_run.top_component(res)
        assert top is not None and top.type.startswith("launchready:"), res.urn


def test_launch_contract_exported(example_run):
    contract = example_run.outputs["launchContract"]
    assert contract["canonicalHost"] == "example.com"
    assert contract["tls"]["minVersion"] == "1.2"
    assert {"from": "https://www.example.com/some/path?q=1", "to": "https://example.com/some/path?q=1",
            "status": 301} in contract["redirects"]
    assert contract["headers"]["X-Frame-Options"] == "DENY"


def test_canonical_www_flips_the_redirect(run_with):
    def edit(c):
        c["launchready:canonicalHost"] = "www"
    run = run_with(edit)
    rules = ruleset(run, "http_request_dynamic_redirect")["rules"]
    assert rules[-1]["expression"] == 'http.host eq "example.com"'
    assert rules[-1]["actionParameters"]["fromValue"]["targetUrl"]["expression"] == \
        'concat("https://www.example.com", http.request.uri.path)'


def test_zone_created_when_asked(run_with):
    def edit(c):
        c["launchready:zone"] = {"create": True, "accountId": "a" * 32}
    run = run_with(edit)
    (zone,) = run.of_type("cloudflare:index/zone:Zone")
    assert zone.inputs["name"] == "example.com" and zone.inputs["account"] == {"id": "a" * 32}
