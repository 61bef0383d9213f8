"""Certificate packs, CAA for their authority, expression length, certificates for deep proxied names:
a happy-path resource, one field changed, the exact violation."""
from __future__ import annotations

import pytest

from policies import context
from policies.props import CERTIFICATE_PACK, DNS_RECORD, RULESET

from .conftest import ZONE, judge, messages, resource

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def no_runtime_spec(monkeypatch):
    """No spec unless a test gives one (stack_spec): a program run earlier in the session may leave
    Pulumi runtime config behind, from which current_spec() would build one."""
    monkeypatch.setattr(context, "_spec_from_runtime_config", lambda: None)

GROUP_HOSTS = ["example.com", "portal.example.com", "*.portal.example.com"]


def pack(**over):
    props = dict(zoneId=ZONE, type="advanced", hosts=GROUP_HOSTS, validationMethod="txt", validityDays=90.0,
                 certificateAuthority="lets_encrypt", cloudflareBranding=False)
    props.update(over)
    return resource(CERTIFICATE_PACK, "tenant-certs-clients", **props)


def rec(name, proxied=True, rtype="CNAME", content="lb.example.net"):
    return resource(DNS_RECORD, f"{rtype.lower()}-{name}", zoneId=ZONE, name=name, type=rtype, content=content,
                    proxied=proxied, ttl=1)


def caa(tag, value, name="example.com"):
    return resource(DNS_RECORD, f"caa-{tag}-{value}", zoneId=ZONE, name=name, type="CAA", proxied=False, ttl=1,
                    data={"flags": 0, "tag": tag, "value": value})


APEX = rec("example.com", rtype="A", content="198.51.100.7")
PACK = "certificate pack 'tenant-certs-clients': "


# -- certificate-pack-valid ---------------------------------------------------------------------------

def test_certificate_pack_as_the_program_orders_it():
    assert judge("certificate-pack-valid", [APEX, pack()]) == []


@pytest.mark.parametrize("over,problem", [
    ({"type": "dedicated_custom"}, "type 'dedicated_custom' is not accepted (only 'advanced')"),
    ({"hosts": []}, "it has no hosts"),
    ({"hosts": ["example.com"] + [f"t{i}.portal.example.com" for i in range(50)]}, "it has 51 hosts, more than 50"),
    ({"hosts": GROUP_HOSTS[1:]}, "its hosts lack the zone apex example.com, which the API requires"),
    ({"validationMethod": "cname"}, "validation method 'cname' is not one of txt, http, email"),
    ({"validationMethod": "http"}, "a wildcard host (*.portal.example.com) cannot be validated over http: use txt"),
    ({"certificateAuthority": "digicert"}, "certificate authority 'digicert' is not one of google, lets_encrypt, ssl_com"),
    ({"validityDays": 60.0}, "validity 60 days is not one the API accepts (14, 30, 90, 365)"),
    ({"validityDays": 30.0}, "lets_encrypt issues for 90 days, not 30"),
    ({"certificateAuthority": "google", "validityDays": 365.0}, "google issues for 14, 30, 90 days, not 365"),
])
def test_certificate_pack_one_field_wrong(over, problem):
    assert messages("certificate-pack-valid", [APEX, pack(**over)]) == [f"{PACK}{problem}."]


def test_http_validation_is_fine_without_a_wildcard_host():
    assert messages("certificate-pack-valid", [APEX, pack(validationMethod="http", hosts=GROUP_HOSTS[:2])]) == []


def test_ssl_com_365_days_only_on_enterprise(stack_spec):
    ssl_com = pack(certificateAuthority="ssl_com", validityDays=365.0)
    assert messages("certificate-pack-valid", [APEX, ssl_com]) == []  # no spec: the plan is unknown
    stack_spec({"launchready:zone": {"name": "example.com", "plan": "business"}})
    assert messages("certificate-pack-valid", [APEX, ssl_com]) == [f"{PACK}ssl_com issues for 14, 30, 90 days, not 365."]
    stack_spec({"launchready:zone": {"name": "example.com", "plan": "enterprise"}})
    assert messages("certificate-pack-valid", [APEX, ssl_com]) == []


# -- certificate-pack-caa -----------------------------------------------------------------------------

def test_caa_allows_the_packs_authority():
    records = [caa("issue", "letsencrypt.org"), caa("issue", "pki.goog"), caa("issuewild", "letsencrypt.org")]
    assert judge("certificate-pack-caa", records + [pack()]) == []
    assert judge("certificate-pack-caa", [pack()]) == []  # no CAA at all: any authority may issue


def test_caa_issue_records_without_the_authority():
    assert messages("certificate-pack-caa", [caa("issue", "pki.goog"), pack()]) == [
        f"{PACK}lets_encrypt (letsencrypt.org) may not issue for example.com, portal.example.com, *.portal.example.com: "
        "the CAA issue records at example.com allow pki.goog."]


def test_caa_issuewild_governs_the_wildcard_host():
    records = [caa("issue", "letsencrypt.org"), caa("issuewild", ";")]
    assert messages("certificate-pack-caa", records + [pack()]) == [
        f"{PACK}lets_encrypt (letsencrypt.org) may not issue for *.portal.example.com: "
        "the CAA issuewild records at example.com allow no authority (;)."]
    google = [caa("issue", "letsencrypt.org"), caa("issue", "pki.goog"), caa("issuewild", "letsencrypt.org")]
    assert messages("certificate-pack-caa", google + [pack(certificateAuthority="google")]) == [
        f"{PACK}google (pki.goog) may not issue for *.portal.example.com: "
        "the CAA issuewild records at example.com allow letsencrypt.org."]


def test_caa_closest_record_set_wins():
    # A CAA set at portal.example.com replaces the apex's for the names below it (RFC 8659).
    records = [caa("issue", "pki.goog"), caa("issue", "letsencrypt.org", name="portal.example.com")]
    assert messages("certificate-pack-caa", records + [pack()]) == [
        f"{PACK}lets_encrypt (letsencrypt.org) may not issue for example.com: the CAA issue records at example.com allow pki.goog."]


# -- rule-expression-length ---------------------------------------------------------------------------

def ruleset(expression, ref="ratelimit_0"):
    return resource(RULESET, "edge-http_ratelimit", zoneId=ZONE, kind="zone", phase="http_ratelimit",
                    rules=[{"ref": ref, "action": "block", "expression": expression}])


def test_rule_expression_length():
    at_limit = 'http.host in {"' + "a" * 4079 + '"}'
    assert len(at_limit) == 4096
    assert messages("rule-expression-length", [ruleset(at_limit)]) == []
    assert messages("rule-expression-length", [ruleset(at_limit + " ")]) == [
        "rateLimits[0]: the expression has 4,097 characters; Cloudflare accepts at most 4,096."]
    assert messages("rule-expression-length", [ruleset(at_limit + " ", ref="legacy_3")]) == [
        "rule 'legacy_3': the expression has 4,097 characters; Cloudflare accepts at most 4,096."]


# -- proxied-subdomain-certificate --------------------------------------------------------------------

def test_deep_proxied_names_need_a_certificate_pack():
    shallow = [APEX, rec("www.example.com"), rec("*.example.com")]
    assert judge("proxied-subdomain-certificate", shallow) == []
    deep = [APEX, rec("*.portal.example.com"), rec("acme.portal.example.com"), rec("x.eu.portal.example.com")]
    assert judge("proxied-subdomain-certificate", deep[:3] + [pack()]) == []
    assert messages("proxied-subdomain-certificate", deep[:3]) == [
        "*.portal.example.com is proxied 2 labels below example.com; Universal SSL covers only example.com and "
        "*.example.com, and no certificate pack covers it: HTTPS handshakes to it would fail.",
        "acme.portal.example.com is proxied 2 labels below example.com; Universal SSL covers only example.com and "
        "*.example.com, and no certificate pack covers it: HTTPS handshakes to it would fail."]
    # *.portal.example.com covers one label only.
    assert messages("proxied-subdomain-certificate", [APEX, deep[3], pack()]) == [
        "x.eu.portal.example.com is proxied 3 labels below example.com; Universal SSL covers only example.com and "
        "*.example.com, and no certificate pack covers it: HTTPS handshakes to it would fail."]


def test_deep_names_that_are_dns_only_or_exempt_pass():
    assert judge("proxied-subdomain-certificate", [APEX, rec("acme.portal.example.com", proxied=False)]) == []
    config = {"proxied-subdomain-certificate": {"exempt": ["acme.portal.example.com"]}}
    assert judge("proxied-subdomain-certificate", [APEX, rec("acme.portal.example.com")], config) == []


def test_the_apex_comes_from_the_spec_when_there_is_one(stack_spec):
    # Without the apex record, the shortest name would be taken for the apex; the spec knows better.
    stack_spec({"launchready:domain": "example.com"})
    assert messages("proxied-subdomain-certificate", [rec("acme.portal.example.com")]) == [
        "acme.portal.example.com is proxied 2 labels below example.com; Universal SSL covers only example.com and "
        "*.example.com, and no certificate pack covers it: HTTPS handshakes to it would fail."]


def test_a_large_explicit_tenant_group_is_advised_to_become_a_wildcard():
    def tenant(i, group="partners"):
        return resource(DNS_RECORD, f"a-t{i}", zoneId=ZONE, name=f"t{i}.example.com", type="A", content="203.0.113.30",
                        proxied=True, ttl=1, comment=f"tenant group {group} (proxied)")
    few = [tenant(i) for i in range(3)]
    assert messages("tenant-group-records", few) == []
    assert messages("tenant-group-records", few, {"tenant-group-records": {"maxRecords": 2}}) == [
        "tenant group 'partners' publishes 3 DNS records, one per tenant: `pulumi up` needs 3 "
        "Cloudflare API calls for them; `wildcard: true` makes it one record."]
    many = [tenant(i) for i in range(2400)] + [rec("*.portal.example.com")]
    (message,) = messages("tenant-group-records", many)
    assert "publishes 2,400 DNS records" in message and "at least 10 minutes" in message
