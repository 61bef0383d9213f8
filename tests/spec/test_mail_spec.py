"""The mail section: records derived from the catalog, and the malformed cases with exact messages."""
from __future__ import annotations

from pathlib import Path

import pytest
from stackfiles import problems, stack_with

from infra.spec import load_stack
from infra.spec.mailspec import catalog, txt_content, txt_value

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def mail_records(spec) -> dict[tuple[str, str], list]:
    out: dict = {}
    for r in spec.mail.records(spec):
        out.setdefault((r.name, r.type), []).append(r)
    return out


def with_providers(*providers, **mail):
    def edit(c):
        c["launchready:mail"] = {"providers": list(providers), **mail}
    return edit


GOOGLE = {"provider": "google-workspace", "params": {"dkimKey": "v=DKIM1; k=rsa; p=MIIBfake"}}
MAILGUN_GOOGLE_SELECTOR = {"provider": "mailgun", "params": {"dkimSelector": "google", "dkimKey": "k=rsa; p=MIGfake"}}
M365 = {"provider": "microsoft-365", "params": {"tenant": "contoso"}}


# -- the example --------------------------------------------------------------------------------------

def test_example_mail_records():
    spec = load_stack("example", ROOT / "stacks")
    recs = mail_records(spec)
    # SPF: one record per name, -all; SES aligns SPF at its MAIL FROM subdomain.
    assert [r.content for r in recs[("example.com", "TXT")]] == ["v=spf1 include:_spf.google.com -all"]
    assert [r.content for r in recs[("bounce.example.com", "TXT")]] == ["v=spf1 include:amazonses.com -all"]
    assert [(r.priority, r.content) for r in recs[("bounce.example.com", "MX")]] == [(10, "feedback-smtp.eu-west-1.amazonses.com")]
    assert [(r.priority, r.content) for r in recs[("example.com", "MX")]] == [(1, "smtp.google.com")]
    assert [r.content for r in recs[("_dmarc.example.com", "TXT")]] == [
        "v=DMARC1; p=reject; sp=reject; adkim=s; aspf=r; rua=mailto:dmarc-reports@example.com"]
    assert txt_value(recs[("google._domainkey.example.com", "TXT")][0].content).startswith("v=DKIM1; k=rsa; p=MIIB")
    assert recs[("_mta-sts.example.com", "TXT")][0].content.startswith("v=STSv1; id=")
    assert [(r.content, r.proxied) for r in recs[("mta-sts.example.com", "AAAA")]] == [("100::", True)]
    assert [r.content for r in recs[("_smtp._tls.example.com", "TXT")]] == ["v=TLSRPTv1; rua=mailto:tls-reports@example.com"]


def test_example_non_sending_names():
    spec = load_stack("example", ROOT / "stacks")
    recs = mail_records(spec)
    for name in ("www.example.com", "app.example.com"):
        assert [(r.priority, r.content) for r in recs[(name, "MX")]] == [(0, ".")]
        assert [r.content for r in recs[(name, "TXT")]] == ["v=spf1 -all"]
        assert [r.content for r in recs[(f"_dmarc.{name}", "TXT")]] == ["v=DMARC1; p=reject"]


def test_mta_sts_policy_and_id_follow_the_mx():
    spec = load_stack("example", ROOT / "stacks")
    plan = spec.mail.plan(spec)
    assert plan.mta_sts_policy == "version: STSv1\r\nmode: enforce\r\nmx: smtp.google.com\r\nmax_age: 604800\r\n"
    assert plan.mta_sts_id.isalnum() and 1 <= len(plan.mta_sts_id) <= 32


# -- providers from the catalog ------------------------------------------------------------------------

def test_every_catalog_provider_builds(tmp_path):
    """Each provider with its documented records; params are console values (fakes here)."""
    params = {
        "ses": {"region": "eu-west-1"},
        "postmark": {"dkimSelector": "20240101120000pm", "dkimKey": "k=rsa;p=MIGfake"},
        "sendgrid": {"userId": "1234567", "wl": "123", "returnPath": "em1234"},
        "mailgun": {"dkimKey": "k=rsa; p=MIGfake", "tracking": "email"},
        "google-workspace": {"dkimKey": "v=DKIM1; k=rsa; p=MIIBfake"},
        "microsoft-365": {"tenant": "contoso"},
        "resend": {"dkimKey": "p=MIGfake"},
    }
    assert set(params) == set(catalog()["providers"])
    providers = [{"provider": p, "params": v} for p, v in params.items() if p != "mailgun"]
    providers.append({"provider": "mailgun", "domain": "mg.example.com", "params": params["mailgun"], "inbound": True})
    spec = load_stack(str(stack_with(tmp_path, with_providers(*providers))))
    recs = {(r.name, r.type, r.content) for r in spec.mail.records(spec)}
    expected = {
        ("20240101120000pm._domainkey.example.com", "TXT", "k=rsa;p=MIGfake"),
        ("pm-bounces.example.com", "CNAME", "pm.mtasv.net"),
        ("s1._domainkey.example.com", "CNAME", "s1.domainkey.u1234567.wl123.sendgrid.net"),
        ("s2._domainkey.example.com", "CNAME", "s2.domainkey.u1234567.wl123.sendgrid.net"),
        ("em1234.example.com", "CNAME", "u1234567.wl123.sendgrid.net"),
        ("smtp._domainkey.mg.example.com", "TXT", "k=rsa; p=MIGfake"),
        ("email.mg.example.com", "CNAME", "mailgun.org"),
        ("mg.example.com", "MX", "mxa.mailgun.org"),
        ("mg.example.com", "TXT", "v=spf1 include:mailgun.org -all"),
        ("google._domainkey.example.com", "TXT", "v=DKIM1; k=rsa; p=MIIBfake"),
        ("selector1._domainkey.example.com", "CNAME", "selector1-example-com._domainkey.contoso.onmicrosoft.com"),
        ("selector2._domainkey.example.com", "CNAME", "selector2-example-com._domainkey.contoso.onmicrosoft.com"),
        ("resend._domainkey.example.com", "TXT", "p=MIGfake"),
        ("send.example.com", "MX", "feedback-smtp.us-east-1.amazonses.com"),
        ("send.example.com", "TXT", "v=spf1 include:amazonses.com -all"),
        ("bounce.example.com", "MX", "feedback-smtp.eu-west-1.amazonses.com"),
        ("bounce.example.com", "TXT", "v=spf1 include:amazonses.com -all"),
        # apex: the mailbox providers; Postmark and SendGrid align SPF via their return-path CNAMEs.
        ("example.com", "TXT", "v=spf1 include:_spf.google.com include:spf.protection.outlook.com -all"),
    }
    assert expected <= recs, expected - recs


def test_spf_extras_softfail_and_optional_includes(tmp_path):
    spec = load_stack(str(stack_with(tmp_path, with_providers(
        GOOGLE, {"provider": "postmark", "spfInclude": True,
                 "params": {"dkimSelector": "20240101120000pm", "dkimKey": "k=rsa;p=MIGfake"}},
        spf={"all": "~all", "ip4": ["198.51.100.7", "203.0.113.0/24"], "ip6": ["2001:db8::/48"],
             "include": [{"domain": "spf.partner.example.net", "lookups": 2}]}))))
    plan = spec.mail.plan(spec)
    apex = plan.spf["example.com"]
    assert apex.value == ("v=spf1 ip4:198.51.100.7 ip4:203.0.113.0/24 ip6:2001:db8::/48 include:_spf.google.com "
                          "include:spf.mtasv.net include:spf.partner.example.net ~all")
    assert apex.lookups == 3 + 1 + 2


def test_long_txt_values_are_split_into_255_byte_strings():
    value = "v=DKIM1; k=rsa; p=" + "A" * 600
    content = txt_content(value)
    strings = content[1:-1].split('" "')
    assert [len(s) for s in strings] == [255, 255, 108]
    assert txt_value(content) == value
    assert txt_content("v=spf1 -all") == "v=spf1 -all"


def test_long_spf_is_split(tmp_path):
    nets = [f"198.51.100.{i}" for i in range(1, 30)]
    spec = load_stack(str(stack_with(tmp_path, with_providers(GOOGLE, spf={"ip4": nets}))))
    (rec,) = [r for r in spec.mail.records(spec) if r.name == "example.com" and r.type == "TXT"]
    assert rec.content.startswith('"v=spf1 ip4:198.51.100.1 ') and '" "' in rec.content
    assert txt_value(rec.content) == spec.mail.plan(spec).spf["example.com"].value


# -- malformed: exact messages -------------------------------------------------------------------------

CASES = {
    "more than 10 SPF lookups": (
        with_providers(GOOGLE, {"provider": "mailgun", "params": {"dkimKey": "k=rsa; p=MIGfake"}}, M365,
                       spf={"include": [{"domain": "spf.partner.example.net", "lookups": 1}]}),
        "mail.spf: SPF at example.com needs 11 DNS lookups, more than the 10 allowed: "
        "include:_spf.google.com 3 (mail.providers[0] google-workspace), include:mailgun.org 5 (mail.providers[1] mailgun), "
        "include:spf.protection.outlook.com 2 (mail.providers[2] microsoft-365), include:spf.partner.example.net 1 (mail.spf)",
    ),
    "two providers claim one DKIM selector": (
        with_providers(GOOGLE, MAILGUN_GOOGLE_SELECTOR),
        "mail.providers[1]: DKIM selector 'google' (google._domainkey.example.com) is already claimed by "
        "mail.providers[0] (google-workspace)",
    ),
    "rua is not a mailto URI": (
        with_providers(GOOGLE, dmarc={"rua": ["dmarc-reports@example.com"]}),
        "mail.dmarc.rua[0]: 'dmarc-reports@example.com' is not a mailto: URI (expected e.g. mailto:dmarc-reports@example.com)",
    ),
    "ruf is an https URL": (
        with_providers(GOOGLE, dmarc={"ruf": ["https://reports.example.com/dmarc"]}),
        "mail.dmarc.ruf[0]: 'https://reports.example.com/dmarc' is not a mailto: URI (expected e.g. mailto:dmarc-reports@example.com)",
    ),
    "p=none without a staged rollout": (
        with_providers(GOOGLE, dmarc={"policy": "none", "rua": ["mailto:d@example.com"]}),
        "mail.dmarc: policy: 'none' is allowed only during a staged rollout (set stagedRollout: true)",
    ),
    "unknown provider": (
        with_providers({"provider": "sendmail"}),
        "mail.providers[0]: provider: 'sendmail' is not in the catalog (expected one of: google-workspace, mailgun, "
        "microsoft-365, postmark, resend, sendgrid, ses)",
    ),
    "missing provider param": (
        with_providers({"provider": "microsoft-365"}),
        "mail.providers[0]: params.tenant: is required by microsoft-365 (the initial domain label: <tenant>.onmicrosoft.com)",
    ),
    "include of unknown cost": (
        with_providers(GOOGLE, spf={"include": ["spf.partner.example.net"]}),
        "mail.spf.include[0]: 'spf.partner.example.net' has no known SPF lookup cost: write {domain: spf.partner.example.net, lookups: N}",
    ),
    "second SPF record among records": (
        lambda c: (with_providers(GOOGLE)(c), c.setdefault("launchready:records", []).append(
            {"name": "example.com", "type": "TXT", "content": "v=spf1 include:other.example.net ~all"})),
        "records[0].content: a second SPF record at example.com; mail builds the one SPF record there (add terms under mail.spf)",
    ),
    "second DMARC record among records": (
        lambda c: (with_providers(GOOGLE)(c), c.setdefault("launchready:records", []).append(
            {"name": "_dmarc.example.com", "type": "TXT", "content": "v=DMARC1; p=none"})),
        "records[0].content: a second DMARC record at _dmarc.example.com; mail builds the one DMARC record there (declare it under mail)",
    ),
    "non-sending name that is a CNAME host": (
        with_providers(GOOGLE, nonSending=["api.example.com"]),
        "hosts[3].name: 'api.example.com' has a CNAME (hosts[3]) and other records (MX from mail.nonSending[0], "
        "TXT from mail.nonSending[0]); a CNAME must be the only record at its name",
    ),
    "MTA-STS without inbound MX": (
        with_providers(GOOGLE, mtaSts={"mode": "enforce"}),
        "mail.mtaSts: needs inbound MX hosts (mail.mx, or a provider with inbound: true): MTA-STS protects mail sent to the domain",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_mail(tmp_path, case):
    edit, message = CASES[case]
    assert message in problems(stack_with(tmp_path, edit))


def test_several_mail_problems_are_reported_at_once(tmp_path):
    found = problems(stack_with(tmp_path, with_providers(
        GOOGLE, MAILGUN_GOOGLE_SELECTOR, M365, spf={"include": [{"domain": "a.example.net", "lookups": 3}]})))
    assert any(p.startswith("mail.spf: SPF at example.com needs 13 DNS lookups") for p in found)
    assert any(p.startswith("mail.providers[1]: DKIM selector 'google'") for p in found)


def test_mailgun_eu_region_moves_mx_and_tracking_cname(tmp_path):
    eu = {"provider": "mailgun", "domain": "mg.example.com", "inbound": True,
          "params": {"dkimKey": "k=rsa; p=MIGfake", "tracking": "email", "mxZone": "eu.mailgun.org"}}
    spec = load_stack(str(stack_with(tmp_path, with_providers(eu))))
    recs = {(r.name, r.type, r.content) for r in spec.mail.records(spec)}
    assert {("email.mg.example.com", "CNAME", "eu.mailgun.org"), ("mg.example.com", "MX", "mxa.eu.mailgun.org"),
            ("mg.example.com", "MX", "mxb.eu.mailgun.org")} <= recs


def test_microsoft_365_domain_key_is_not_guessed_for_a_dashed_domain(tmp_path):
    # contoso-shop.com: Microsoft's domain key is not contoso-shop-com; it must come from the admin center.
    def edit(c):
        with_providers(dict(M365, inbound=True))(c)
        c["launchready:mail"]["providers"][0]["domain"] = "mail-in.example.com"
    assert ("mail.providers[0].params.domainKey: is required for microsoft-365 when the domain contains '-' "
            "(mail-in.example.com): copy the <domainKey> in <domainKey>.mail.protection.outlook.com shown in the "
            "Microsoft 365 admin center") in problems(stack_with(tmp_path, edit))
    given = dict(M365, inbound=True, domain="mail-in.example.com",
                 params={"tenant": "contoso", "domainKey": "mailin-example-com01c"})
    spec = load_stack(str(stack_with(tmp_path, with_providers(given))))
    recs = {(r.name, r.type, r.content) for r in spec.mail.records(spec)}
    assert ("mail-in.example.com", "MX", "mailin-example-com01c.mail.protection.outlook.com") in recs
    assert ("selector1._domainkey.mail-in.example.com", "CNAME",
            "selector1-mailin-example-com01c._domainkey.contoso.onmicrosoft.com") in recs
