"""DNS, mail, secrets, monitoring and apply-time rules: happy path, one field changed, exact violation."""
from __future__ import annotations

import pytest

from policies import context
from policies.props import (
    DNS_RECORD,
    HEALTH_CHECK,
    KMS_KEY,
    METRIC_ALARM,
    RULESET,
    SES_IDENTITY,
    SM_SECRET,
    SM_SECRET_VERSION,
    SNS_SUBSCRIPTION,
    SNS_TOPIC,
    SSM_PARAMETER,
    ZONE_DNSSEC,
)

from .conftest import ZONE, judge, messages, resource

pytestmark = pytest.mark.unit


def rec(name, rtype="A", content="203.0.113.10", proxied=False, **extra):
    return resource(DNS_RECORD, f"{rtype.lower()}-{name}-{abs(hash(content)) % 997}", zoneId=ZONE, name=name,
                    type=rtype, content=content, proxied=proxied, ttl=1, **extra)


def caa(tag="issue", value="letsencrypt.org", flags=0):
    return resource(DNS_RECORD, f"caa-{tag}-{value}", zoneId=ZONE, name="example.com", type="CAA", proxied=False,
                    ttl=1, data={"flags": flags, "tag": tag, "value": value})


# -- dns ---------------------------------------------------------------------------------------------

def test_no_wildcard_records():
    assert messages("no-wildcard-records", [rec("app.example.com", proxied=True)]) == []
    assert messages("no-wildcard-records", [rec("*.example.com", proxied=True)]) == ["*.example.com (A) is a wildcard record."]
    assert messages("no-wildcard-records", [rec("*.example.com", proxied=True)],
                    {"no-wildcard-records": {"allowed": ["*.example.com"]}}) == []


def test_a_tenant_groups_wildcard_is_declared_not_forgotten(tmp_path):
    from infra.spec import load_stack
    from policies.context import use_spec
    from tests.stackfiles import CLIENTS, stack_with, with_groups

    spec = load_stack(str(stack_with(tmp_path, with_groups(CLIENTS))))
    with use_spec(spec):
        assert messages("no-wildcard-records", [rec("*.portal.example.com", proxied=True)]) == []
        # Only the group's own pattern: another wildcard is still refused.
        assert messages("no-wildcard-records", [rec("*.example.com", proxied=True)]) == ["*.example.com (A) is a wildcard record."]


def test_portal_hosts_proxied():
    assert messages("portal-hosts-proxied", [rec("app.example.com", proxied=True)]) == []
    assert messages("portal-hosts-proxied", [rec("app.example.com")]) == [
        "app.example.com A is DNS-only: it publishes the origin address 203.0.113.10 and bypasses the WAF."]
    assert messages("portal-hosts-proxied", [rec("api.example.com", "CNAME", "lb-1.eu-west-1.elb.amazonaws.com")]) == [
        "api.example.com CNAME is DNS-only: it publishes the origin host name lb-1.eu-west-1.elb.amazonaws.com and bypasses the WAF."]
    # mail and verification names stay DNS-only
    assert messages("portal-hosts-proxied", [rec("abc._domainkey.example.com", "CNAME", "abc.dkim.amazonses.com"),
                                             rec("pm-bounces.example.com", "CNAME", "pm.mtasv.net"),
                                             rec("example.com", "MX", "smtp.google.com", priority=1)]) == []
    assert messages("portal-hosts-proxied", [rec("vpn.example.com")], {"portal-hosts-proxied": {"dnsOnly": ["vpn.example.com"]}}) == []


def test_caa_present_and_allowed_issuers():
    base = [rec("example.com", proxied=True)]
    assert messages("caa-present", base + [caa()]) == []
    assert messages("caa-present", base) == ["example.com: no CAA 'issue' record; any CA may issue certificates for it."]
    assert messages("caa-present", base + [caa(value="digicert.com")], {"caa-present": {"allowedIssuers": ["letsencrypt.org"]}}) == [
        "example.com: CAA allows 'digicert.com', which is not among the allowed issuers (letsencrypt.org)."]


def test_dnssec_enabled():
    base = [rec("example.com", proxied=True)]
    assert messages("dnssec-enabled", base + [resource(ZONE_DNSSEC, "dnssec", zoneId=ZONE, status="active")]) == []
    assert messages("dnssec-enabled", base) == ["example.com: DNSSEC is not declared."]
    assert messages("dnssec-enabled", base + [resource(ZONE_DNSSEC, "dnssec", zoneId=ZONE, status="disabled")]) == [
        "example.com: DNSSEC status is 'disabled'; it must be 'active'."]


@pytest.mark.parametrize("target,service", [
    ("acme.github.io", "GitHub Pages"),
    ("something.herokuapp.com", "Heroku"),
    ("foo.azurewebsites.net", "Azure App Service"),
])
def test_cname_takeover_risk(target, service):
    assert judge("cname-takeover-risk", [rec("docs.example.com", "CNAME", target)]) == [
        ("cname-takeover-risk", "mandatory",
         f"docs.example.com CNAME {target}: {service} is prone to subdomain takeover if the target is deleted; "
         "review it and list it in allowedTargets.")]


@pytest.mark.parametrize("target", [
    "x.s3-website-eu-west-1.amazonaws.com", "x.s3-website.eu-west-1.amazonaws.com", "x.s3.eu-west-1.amazonaws.com",
    "x.s3-eu-west-1.amazonaws.com"])
def test_cname_takeover_risk_knows_regional_s3_endpoints(target):
    assert messages("cname-takeover-risk", [rec("docs.example.com", "CNAME", target)]) == [
        f"docs.example.com CNAME {target}: Amazon S3 is prone to subdomain takeover if the target is deleted; "
        "review it and list it in allowedTargets."]


def test_cname_takeover_risk_not_for_load_balancers_and_accepted_targets():
    assert judge("cname-takeover-risk", [rec("api.example.com", "CNAME", "lb.elb.amazonaws.com")]) == []
    assert judge("cname-takeover-risk", [rec("api.example.com", "CNAME", "portal-api-1.eu-west-1.elb.amazonaws.com")]) == []
    reviewed = {"cname-takeover-risk": {"allowedTargets": ["acme.github.io"]}}
    assert judge("cname-takeover-risk", [rec("docs.example.com", "CNAME", "acme.github.io")], reviewed) == []


# -- mail --------------------------------------------------------------------------------------------

def txt(name, content):
    return rec(name, "TXT", content)


@pytest.mark.parametrize("content,expected", [
    ("v=spf1 include:_spf.google.com -all", []),
    ("v=spf1 include:_spf.google.com ~all", ["example.com: SPF ends in '~all' (soft fail); it must end in '-all'."]),
    ("v=spf1 include:_spf.google.com +all", ["example.com: SPF ends in '+all'; it must end in '-all'."]),
    ("v=spf1 include:_spf.google.com all", ["example.com: SPF ends in '+all'; it must end in '-all'."]),
    ("v=spf1 include:_spf.google.com ?all", ["example.com: SPF ends in '?all'; it must end in '-all'."]),
    ("v=spf1 include:_spf.google.com", ["example.com: SPF has no 'all' mechanism (receivers treat it as neutral); end it with '-all'."]),
    ("v=spf1 redirect=_spf.example.net", []),
    ('"v=spf1 include:_spf.google.com " "+all"', ["example.com: SPF ends in '+all'; it must end in '-all'."]),
])
def test_spf_strict_all(content, expected):
    assert messages("spf-strict-all", [txt("example.com", content)]) == expected


def test_spf_softfail_can_be_allowed():
    assert messages("spf-strict-all", [txt("example.com", "v=spf1 mx ~all")], {"spf-strict-all": {"allowSoftfail": True}}) == []
    assert messages("spf-strict-all", [txt("example.com", "v=spf1 mx ?all")], {"spf-strict-all": {"allowSoftfail": True}}) == [
        "example.com: SPF ends in '?all'; it must end in '-all'."]


def test_spf_softfail_is_allowed_outside_production_only():
    from policies.engine import reconcile_config
    from policies.rules import ALL, initial_config

    staging = reconcile_config(ALL, {}, initial=initial_config("staging"))
    production = reconcile_config(ALL, {}, initial=initial_config("production"))
    assert staging.properties["spf-strict-all"]["allowSoftfail"] is True
    assert staging.levels["spf-strict-all"].value == "mandatory"  # +all stays fatal in staging
    assert production.properties["spf-strict-all"]["allowSoftfail"] is False


def test_spf_lookup_limit():
    ok = "v=spf1 include:_spf.google.com include:amazonses.com mx -all"
    assert messages("spf-lookup-limit", [txt("example.com", ok)]) == []
    many = "v=spf1 " + " ".join(f"include:spf{i}.vendor.example" for i in range(9)) + " include:_spf.google.com -all"
    assert messages("spf-lookup-limit", [txt("example.com", many)]) == [
        "example.com: SPF needs at least 12 DNS lookups; at most 10 are allowed (counting 1 for each include of "
        "unknown cost: " + ", ".join(f"spf{i}.vendor.example" for i in range(9)) + ")."]


def _spf_with(include: str, other_lookups: int) -> str:
    return "v=spf1 include:" + include + " a" * other_lookups + " -all"


def test_spf_lookup_costs_come_from_the_provider_catalog():
    """The gate prices each include as the spec does (infra/spec/mail_providers.yaml), so a record at
    exactly 10 lookups passes and one more fails, in every room."""
    from infra.spec.mailspec import catalog

    costs = catalog()["spf_lookups"]
    assert {"_spf.google.com", "mailgun.org"} <= set(costs)
    for include, cost in costs.items():
        assert messages("spf-lookup-limit", [txt("example.com", _spf_with(include, 10 - cost))]) == [], include
        assert messages("spf-lookup-limit", [txt("example.com", _spf_with(include, 11 - cost))]) == [
            "example.com: SPF needs about 11 DNS lookups; at most 10 are allowed."], include
    # The stack the review found: Google (3) + Mailgun (5) + 3 a terms = 11, not 4 + 3 + 3 = 10.
    stack = "v=spf1 include:_spf.google.com include:mailgun.org a a a -all"
    assert messages("spf-lookup-limit", [txt("example.com", stack)]) == [
        "example.com: SPF needs about 11 DNS lookups; at most 10 are allowed."]


def test_spf_lookup_policy_config_prices_only_includes_the_catalog_lacks():
    # A policy-side default for a sender the catalog has no entry for.
    assert messages("spf-lookup-limit", [txt("example.com", _spf_with("spf.sendinblue.com", 6))]) == []
    assert messages("spf-lookup-limit", [txt("example.com", _spf_with("spf.sendinblue.com", 7))]) == [
        "example.com: SPF needs about 11 DNS lookups; at most 10 are allowed."]
    # includeCosts prices an unknown include and keeps the policy-side defaults.
    cfg = {"spf-lookup-limit": {"includeCosts": {"spf.crm.example": 4}}}
    assert messages("spf-lookup-limit", [txt("example.com", _spf_with("spf.crm.example", 7))], cfg) == [
        "example.com: SPF needs about 11 DNS lookups; at most 10 are allowed."]
    assert messages("spf-lookup-limit", [txt("example.com", _spf_with("spf.sendinblue.com", 7))], cfg) == [
        "example.com: SPF needs about 11 DNS lookups; at most 10 are allowed."]
    # ...but cannot make a catalog include cheaper than the catalog says.
    cheap = {"spf-lookup-limit": {"includeCosts": {"mailgun.org": 1}}}
    assert messages("spf-lookup-limit", [txt("example.com", _spf_with("mailgun.org", 6))], cheap) == [
        "example.com: SPF needs about 11 DNS lookups; at most 10 are allowed."]
    # An include nobody prices counts 1, and the message says the count is a lower bound.
    assert messages("spf-lookup-limit", [txt("example.com", _spf_with("spf.unknown.example", 10))]) == [
        "example.com: SPF needs at least 11 DNS lookups; at most 10 are allowed "
        "(counting 1 for each include of unknown cost: spf.unknown.example)."]


def test_txt_content_is_unescaped_as_the_spec_writes_it():
    """Policies read TXT content with the spec's own inverse of what infra writes: quoted chunks
    joined, and \\" and \\\\ unescaped (a policy-side copy joined them but kept the escapes)."""
    from infra.spec.mailspec import txt_content as written
    from policies.props import txt_content

    value = 'v=DKIM1; n="a \\ note"; p=' + "A" * 300
    content = written(value)
    assert content.startswith('"') and '\\"' in content and "\\\\" in content
    assert txt_content({"content": content}) == value
    assert txt_content({"content": "v=spf1 -all"}) == "v=spf1 -all"
    assert txt_content({"content": '"v=spf1 " "-all"'}) == "v=spf1 -all"


def test_spf_single_record():
    assert messages("spf-single-record", [txt("example.com", "v=spf1 -all")]) == []
    assert messages("spf-single-record", [txt("example.com", "v=spf1 mx -all"), txt("example.com", "v=spf1 include:sendgrid.net -all")]) == [
        "example.com has 2 SPF records; merge them into one."]


DMARC_OK = "v=DMARC1; p=reject; sp=reject; rua=mailto:dmarc@example.com"


@pytest.mark.parametrize("content,expected", [
    (DMARC_OK, []),
    ("v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com", []),
    ("v=DMARC1; p=none; rua=mailto:dmarc@example.com", ["_dmarc.example.com: DMARC p=none; production needs at least p=quarantine."]),
    ("v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com", ["_dmarc.example.com: DMARC sp=none weakens the policy for subdomains; use at least sp=quarantine."]),
    ("v=DMARC1; p=reject; pct=20; rua=mailto:d@example.com", ["_dmarc.example.com: DMARC pct=20 applies the policy to only part of the failing mail; use pct=100."]),
])
def test_dmarc_policy(content, expected):
    assert messages("dmarc-policy", [txt("_dmarc.example.com", content)]) == expected


SENDING = [txt("example.com", "v=spf1 include:amazonses.com -all"),
           rec("tok1._domainkey.example.com", "CNAME", "tok1.dkim.amazonses.com")]


def test_dmarc_present_and_rua():
    assert messages(["dmarc-present", "dmarc-rua"], SENDING + [txt("_dmarc.example.com", DMARC_OK)]) == []
    assert messages("dmarc-present", SENDING) == [
        "example.com sends mail but no DMARC record covers it (expected _dmarc.example.com or a parent's)."]
    assert messages("dmarc-rua", SENDING + [txt("_dmarc.example.com", "v=DMARC1; p=reject")]) == [
        "_dmarc.example.com: DMARC has no rua=mailto: address for aggregate reports (it covers example.com, which sends mail)."]
    # a MAIL FROM subdomain is covered by the organisational domain's record
    bounce = [txt("bounce.example.com", "v=spf1 include:amazonses.com -all")]
    assert messages("dmarc-present", SENDING + bounce + [txt("_dmarc.example.com", DMARC_OK)]) == []


def test_dkim_per_provider():
    assert messages("dkim-per-provider", SENDING) == []
    assert messages("dkim-per-provider", SENDING[:1]) == [
        "example.com: Amazon SES sends for it but no Amazon SES DKIM key is published under _domainkey."]
    google = [txt("example.com", "v=spf1 include:_spf.google.com -all")]
    assert messages("dkim-per-provider", google) == [
        "example.com: Google Workspace sends for it but no Google Workspace DKIM key is published under _domainkey."]
    assert messages("dkim-per-provider", google + [txt("google._domainkey.example.com", "v=DKIM1; k=rsa; p=MIIB")]) == []
    ses_identity = resource(SES_IDENTITY, "ses", emailIdentity="example.com")
    assert messages("dkim-per-provider", [ses_identity]) == [
        "example.com: Amazon SES sends for it but no Amazon SES DKIM key is published under _domainkey."]


def locked(name="www.example.com"):
    return [rec(name, "MX", ".", priority=0), txt(name, "v=spf1 -all"), txt(f"_dmarc.{name}", "v=DMARC1; p=reject")]


def test_non_sending_lockdown():
    assert messages("non-sending-lockdown", locked()) == []
    assert messages("non-sending-lockdown", locked()[1:]) == ["www.example.com does not send mail but has no null MX (MX 0 .)."]
    assert messages("non-sending-lockdown", locked()[:2]) == ["www.example.com does not send mail but has no DMARC record."]
    weak = locked()[:2] + [txt("_dmarc.www.example.com", "v=DMARC1; p=quarantine")]
    assert messages("non-sending-lockdown", weak) == [
        "www.example.com does not send mail but has DMARC p=quarantine instead of reject."]
    # covered by the apex's sp=reject
    inherited = locked()[:2] + [txt("_dmarc.example.com", DMARC_OK)]
    assert messages("non-sending-lockdown", inherited) == []


# -- secrets -------------------------------------------------------------------------------------------

def test_secret_customer_managed_key():
    ok = resource(SM_SECRET, "s", name="app/jwt", kmsKeyId="arn:aws:kms:eu-west-1:123456789012:key/abc")
    assert messages("secret-customer-managed-key", [ok]) == []
    assert messages("secret-customer-managed-key", [resource(SM_SECRET, "s", name="app/jwt")]) == [
        "app/jwt: no kmsKeyId, so the AWS-managed key aws/secretsmanager is used."]
    assert messages("secret-customer-managed-key", [resource(SM_SECRET, "s", name="app/jwt", kmsKeyId="alias/aws/secretsmanager")]) == [
        "app/jwt: kmsKeyId alias/aws/secretsmanager is an AWS-managed key; use a customer-managed key."]


def test_kms_key_rotation():
    assert messages("kms-key-rotation", [resource(KMS_KEY, "k", description="secrets", enableKeyRotation=True)]) == []
    assert messages("kms-key-rotation", [resource(KMS_KEY, "k", description="secrets", enableKeyRotation=False)]) == [
        "secrets: enableKeyRotation is not true."]
    assert messages("kms-key-rotation", [resource(KMS_KEY, "k", customerMasterKeySpec="RSA_2048")]) == []


def test_secret_value_write_only():
    ok = resource(SM_SECRET_VERSION, "v", secretId="x", secretStringWo="s3cr3t-value", secretStringWoVersion=1,
                  secret_paths=["secretStringWo"])
    assert messages("secret-value-write-only", [ok]) == []
    bad = resource(SM_SECRET_VERSION, "v", secretId="x", secretString="s3cr3t-value", secret_paths=["secretString"])
    assert messages("secret-value-write-only", [bad]) == [
        "secretString is set: the value is stored in state; use secretStringWo instead."]


def test_ssm_secure_string():
    ok = resource(SSM_PARAMETER, "p", name="/app/env/JWT_SECRET", type="SecureString", valueWo="x", valueWoVersion=1)
    plain_ok = resource(SSM_PARAMETER, "p", name="/app/env/APP_URL", type="String", value="https://app.example.com")
    assert messages("ssm-secure-string", [ok, plain_ok]) == []
    by_name = resource(SSM_PARAMETER, "p", name="/app/env/SMTP_PASSWORD", type="String", value="hunter2hunter2")
    assert messages("ssm-secure-string", [by_name]) == [
        "/app/env/SMTP_PASSWORD is String but its name says it holds a secret; it must be SecureString."]
    by_value = resource(SSM_PARAMETER, "p", name="/app/env/BILLING", type="String",
                        value="sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc")  # pragma: allowlist secret
    assert messages("ssm-secure-string", [by_value]) == [
        "/app/env/BILLING is String but its value looks like a credential (Stripe Access Key); it must be SecureString."]


def test_no_plaintext_credentials():
    key = "AKIA" + "Z7QXPORTAL4DEPLOY"  # pragma: allowlist secret
    tagged = resource(SNS_TOPIC, "t", name="alerts", tags={"deployKey": key})
    assert messages("no-plaintext-credentials", [tagged]) == [
        "input tags.deployKey contains what looks like a credential (AWS Access Key)."]
    carrier = resource(SM_SECRET_VERSION, "v", secretStringWo=key, secret_paths=["secretStringWo"])
    assert messages("no-plaintext-credentials", [carrier, resource(SNS_TOPIC, "t", name="alerts")]) == []


# -- monitoring ----------------------------------------------------------------------------------------

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"


def alarm(**over):
    props = dict(name="down: app", alarmActions=[TOPIC_ARN], okActions=[TOPIC_ARN], namespace="AWS/Route53",
                 dimensions={"HealthCheckId": "hc-1"})
    props.update(over)
    return resource(METRIC_ALARM, "alarm", **props)


def test_alarm_has_actions():
    assert messages("alarm-has-actions", [alarm()]) == []
    assert messages("alarm-has-actions", [alarm(alarmActions=[])]) == ["down: app: no alarmActions; nobody is notified when it fires."]
    assert messages("alarm-has-actions", [alarm(actionsEnabled=False)]) == ["down: app: actionsEnabled is false."]


def test_topic_has_subscription():
    topic = resource(SNS_TOPIC, "alerts", name="alerts", arn=TOPIC_ARN)
    sub = resource(SNS_SUBSCRIPTION, "sub", topic=TOPIC_ARN, protocol="email", endpoint="oncall@example.com")
    assert messages("topic-has-subscription", [topic, sub]) == []
    assert messages("topic-has-subscription", [topic]) == ["topic alerts has no subscription."]
    # at preview the ARN is unknown; the engine's dependency list still relates them
    by_dep = resource(SNS_SUBSCRIPTION, "sub", dependencies=[topic.urn], protocol="email", endpoint="oncall@example.com")
    assert messages("topic-has-subscription", [resource(SNS_TOPIC, "alerts", name="alerts"), by_dep]) == []


def health_check(fqdn, htype="HTTPS"):
    return resource(HEALTH_CHECK, f"hc-{fqdn}", fqdn=fqdn, type=htype, resourcePath="/", port=443)


def test_public_host_health_check(stack_spec):
    stack_spec({"launchready:hosts": [{"name": "app.example.com", "origin": "203.0.113.20"}]})
    host = rec("app.example.com", proxied=True)
    assert messages("public-host-health-check", [host, health_check("app.example.com")]) == []
    assert messages("public-host-health-check", [host]) == ["app.example.com has no health check."]
    assert messages("public-host-health-check", [host, health_check("app.example.com", "HTTP")]) == [
        "app.example.com is health-checked over HTTP, not HTTPS."]
    assert messages("public-host-health-check", [host], {"public-host-health-check": {"exempt": ["app.example.com"]}}) == []


def test_health_check_alarmed():
    hc = health_check("app.example.com")
    linked = resource(METRIC_ALARM, "alarm", dependencies=[hc.urn], name="down", alarmActions=[TOPIC_ARN],
                      dimensions={"HealthCheckId": "hc-1"})
    assert messages("health-check-alarmed", [hc, linked]) == []
    assert messages("health-check-alarmed", [hc]) == ["health check for app.example.com has no alarm."]


# -- apply-time validity -------------------------------------------------------------------------------

def rs(phase, rules, name="rs"):
    return resource(RULESET, name, zoneId=ZONE, kind="zone", phase=phase, name=phase, rules=rules)


def limit(period=60, timeout=600, requests=10):
    return {"ref": "login", "action": "block", "expression": 'starts_with(http.request.uri.path, "/login")',
            "ratelimit": {"characteristics": ["cf.colo.id", "ip.src"], "period": period,
                          "requestsPerPeriod": requests, "mitigationTimeout": timeout}}


def test_one_entrypoint_ruleset_per_phase():
    one = rs("http_ratelimit", [limit()], "a")
    assert messages("one-entrypoint-ruleset-per-phase", [one, rs("http_request_cache_settings", [], "b")]) == []
    assert messages("one-entrypoint-ruleset-per-phase", [one, rs("http_ratelimit", [limit()], "b")]) == [
        f"2 entry-point rulesets for phase http_ratelimit in zone {ZONE}: a, b."]


def test_ratelimit_period_allowed():
    assert messages("ratelimit-period-allowed", [rs("http_ratelimit", [limit()])]) == []
    assert messages("ratelimit-period-allowed", [rs("http_ratelimit", [limit(period=30)])]) == [
        "rule 'login': period 30 s is not accepted (allowed: 10, 60, 120, 300, 600, 3600)."]
    assert messages("ratelimit-period-allowed", [rs("http_ratelimit", [limit(timeout=900)])]) == [
        "rule 'login': mitigation timeout 900 s is not accepted (allowed: 0, 10, 60, 120, 300, 600, 3600, 86400)."]


def test_proxied_record_type():
    assert messages("proxied-record-type", [rec("app.example.com", proxied=True)]) == []
    assert messages("proxied-record-type", [txt("example.com", "google-site-verification=x")]) == []
    proxied_txt = rec("example.com", "TXT", "google-site-verification=x", proxied=True)
    assert messages("proxied-record-type", [proxied_txt]) == ["example.com TXT is proxied; only A, AAAA, CNAME records can be."]


@pytest.mark.parametrize("record,expected", [
    (caa(), []),
    (caa("issuewild", ";"), []),
    (caa("iodef", "mailto:security@example.com"), []),
    (caa("isuue"), ["example.com: CAA tag 'isuue' is not one of issue, issuewild, iodef."]),
    (caa(flags=1), ["example.com: CAA flags 1 are invalid (0, or 128 for critical)."]),
    (caa(value="https://letsencrypt.org"), ["example.com: CAA issue value 'https://letsencrypt.org' does not name a CA domain (e.g. letsencrypt.org) or ';'."]),
    (caa("iodef", "security@example.com"), ["example.com: CAA iodef value 'security@example.com' is not a mailto: or https: URL."]),
])
def test_caa_well_formed(record, expected):
    assert messages("caa-well-formed", [record]) == expected


def test_redirect_rule_valid():
    good = {"ref": "legacy", "action": "redirect", "expression": "true",
            "actionParameters": {"fromValue": {"statusCode": 301, "targetUrl": {"value": "https://example.com/login"}}}}
    assert messages("redirect-rule-valid", [rs("http_request_dynamic_redirect", [good])]) == []
    bad = {**good, "actionParameters": {"fromValue": {"statusCode": 200, "targetUrl": {}}}}
    assert messages("redirect-rule-valid", [rs("http_request_dynamic_redirect", [bad])]) == [
        "rule 'legacy': status 200 is not a redirect status Cloudflare accepts.", "rule 'legacy': no target URL."]


# -- the engine's handling of unknown preview values ---------------------------------------------------

def test_unknown_value_is_downgraded_to_advisory_as_the_engine_does():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    unknown = resource("cloudflare:index/zoneSetting:ZoneSetting", "ssl", zoneId=ZONE, settingId="ssl", value=UNKNOWN_STRING_VALUE)
    (found,) = judge("ssl-mode-not-flexible", [unknown])
    assert found[0] == "ssl-mode-not-flexible" and found[1] == "advisory"
    assert "can't be known during preview" in found[2]


# -- added with the rules for hurried-engineer configurations ------------------------------------------

def test_latency_alarm_threshold():
    def alarm(name, threshold):
        return resource(METRIC_ALARM, name, name=name, metricName="TimeToFirstByte", threshold=threshold,
                        alarmActions=["arn:aws:sns:us-east-1:1:t"])
    assert messages("latency-alarm-threshold", [alarm("slow a", 500), alarm("slow b", 500)]) == []
    assert messages("latency-alarm-threshold", [alarm("slow a", 5000), alarm("slow b", 5000)]) == [
        "slow a and 1 other latency alarm(s) fire only above 5000 ms time to first byte; the limit is 1000 ms."]
    assert messages("latency-alarm-threshold", [alarm("slow a", 800)], {"latency-alarm-threshold": {"maxThresholdMs": 600}}) == [
        "slow a fires only above 800 ms time to first byte; the limit is 600 ms."]


def test_health_check_quota(monkeypatch):
    # No stack config: the quota is the rule's config (a program run earlier may leave runtime config behind).
    monkeypatch.setattr(context, "_spec_from_runtime_config", lambda: None)
    checks = [resource(HEALTH_CHECK, f"hc{i}", fqdn=f"t{i}.example.com", type="HTTPS", measureLatency=True,
                       requestInterval=30) for i in range(201)]
    assert judge("health-check-quota", checks[:200]) == []
    # 201 checks, each HTTPS with latency: $0.75 + 2 × $2.00 = $4.75 a month.
    assert judge("health-check-quota", checks) == [
        ("health-check-quota", "mandatory",
         "the stack declares 201 Route53 health checks; the account quota is 200 (the policy config's maxHealthChecks; "
         "AWS default 200, shared by every stack in the account). They would cost about $954.75 a month "
         "(AWS list prices, 2026-09). Watch fewer: tenantGroups[].sample, monitoring.hosts, monitoring.flows; "
         "or raise the quota with AWS and declare it as monitoring.healthCheckQuota.")]
    assert judge("health-check-quota", checks, {"health-check-quota": {"maxHealthChecks": 1000}}) == []


def test_health_check_quota_is_the_stacks_declared_quota(stack_spec):
    checks = [resource(HEALTH_CHECK, f"hc{i}", fqdn=f"t{i}.example.com", type="HTTP", requestInterval=10)
              for i in range(12)]
    monitoring = {"alerts": {"email": ["oncall@example.com"]}, "healthCheckQuota": 12}
    stack_spec({"launchready:monitoring": monitoring})
    assert judge("health-check-quota", checks) == []
    stack_spec({"launchready:monitoring": dict(monitoring, healthCheckQuota=11)})
    # The spec wins over the pack's config; plain HTTP at the fast interval: $0.75 + $2.00 each.
    assert messages("health-check-quota", checks, {"health-check-quota": {"maxHealthChecks": 1000}}) == [
        "the stack declares 12 Route53 health checks; the account quota is 11 (monitoring.healthCheckQuota; "
        "AWS default 200, shared by every stack in the account). They would cost about $33.00 a month "
        "(AWS list prices, 2026-09). Watch fewer: tenantGroups[].sample, monitoring.hosts, monitoring.flows; "
        "or raise the quota with AWS and declare it as monitoring.healthCheckQuota."]


def test_ruleset_no_duplicate_rules():
    dup = limit()
    other = {**limit(), "ref": "ratelimit_1", "expression": 'starts_with(http.request.uri.path, "/invite")'}
    assert messages("ruleset-no-duplicate-rules", [rs("http_ratelimit", [dup, other])]) == []
    copy = {**limit(), "ref": "ratelimit_1"}
    assert messages("ruleset-no-duplicate-rules", [rs("http_ratelimit", [{**dup, "ref": "ratelimit_0"}, copy])]) == [
        "rateLimits[1] repeats rateLimits[0] (same expression, action and settings)."]
    # managed rulesets share the expression 'true' but execute different rulesets: not copies
    waf = [{"action": "execute", "expression": "true", "actionParameters": {"id": i}} for i in ("a", "b")]
    assert messages("ruleset-no-duplicate-rules", [rs("http_request_firewall_managed", waf)]) == []


def test_health_check_reference_name_fits_the_provider():
    ok = resource(HEALTH_CHECK, "hc", fqdn="app.example.com", type="HTTPS", referenceName="flow-app-example-c-1a2b3c4d")
    long = resource(HEALTH_CHECK, "hc2", fqdn="app.example.com", type="HTTPS",
                    referenceName="flow-app.example.com-dashboard")
    assert judge("health-check-reference-name", [ok]) == []
    assert messages("health-check-reference-name", [long]) == [
        "referenceName 'flow-app.example.com-dashboard' has 30 characters; the AWS provider accepts at most 27."]


def test_secret_rotation_declared():
    from policies.props import SM_SECRET, SM_SECRET_ROTATION

    base = {"launchready:stack": "prod", "launchready:secret": "stripe-api-key"}
    manual = {**base, "launchready:rotation": "manual", "launchready:max-age-days": "365", "launchready:owner": "billing"}

    def secret(tags, name="launchready/prod/stripe-api-key"):
        return resource(SM_SECRET, "s", name=name, arn="arn:aws:secretsmanager:eu-west-1:1:secret:x", tags=tags)

    assert messages("secret-rotation-declared", [secret(manual)]) == []
    s = secret(base)
    assert messages("secret-rotation-declared", [s, resource(SM_SECRET_ROTATION, "r", secretId=s.inputs["arn"])]) == []
    # at preview the secret's ARN is unknown: the dependency list relates them
    assert messages("secret-rotation-declared", [s, resource(SM_SECRET_ROTATION, "r", dependencies=[s.urn])]) == []
    assert messages("secret-rotation-declared", [s]) == [
        "launchready/prod/stripe-api-key: no rotation function and no `rotation: {manual: true, ...}`."]
    assert messages("secret-rotation-declared", [secret({**manual, "launchready:max-age-days": "0"})]) == [
        "launchready/prod/stripe-api-key: manual rotation without a maximum age (launchready:max-age-days)."]
    no_owner = {k: v for k, v in manual.items() if k != "launchready:owner"}
    assert messages("secret-rotation-declared", [secret(no_owner)]) == [
        "launchready/prod/stripe-api-key: manual rotation without an owner (launchready:owner)."]
