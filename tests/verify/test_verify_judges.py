"""Judges are pure: fed fake observations, no network."""
from __future__ import annotations

import base64

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from verify.checks import dkim, dmarc, spf, zone
from verify.dnsclient import DnsAnswer, DnsQueryError, NameserverSpecError, parse_nameserver
from verify.engine import Item, Observations, key
from verify.expectations import (
    DkimExpectation,
    DmarcExpectation,
    ExpectedRecord,
    MailExpectations,
    OutputsError,
    SpfExpectation,
    read_outputs,
)
from verify.model import Status
from verify.probes.mailprobes import DmarcObservation, SpfObservation

pytestmark = pytest.mark.unit


def txt_answer(name, *texts):
    quoted = [" ".join('"' + t[i:i + 255] + '"' for i in range(0, max(len(t), 1), 255)) for t in texts]
    rrset = dns.rrset.from_text_list(name + ".", 300, "IN", "TXT", quoted)
    return DnsAnswer(name, "TXT", "ok", records=tuple(r.to_text() for r in rrset), ttl=300, rrset=rrset)


def answer(name, rdtype, *rdatas, ttl=300, authoritative=True):
    rrset = dns.rrset.from_text_list(name + ".", ttl, "IN", rdtype, list(rdatas))
    return DnsAnswer(name, rdtype, "ok", records=tuple(sorted(r.to_text() for r in rrset)), ttl=ttl, rrset=rrset,
                     authoritative=authoritative)


def spf_obs(record, all_, includes=(), lookups=2, error=None):
    parsed = {"mechanisms": [{"mechanism": "include", "value": i} for i in includes], "redirect": None, "all": all_}
    return SpfObservation(name="d.test", records=(record,), parsed=parsed, dns_lookups=lookups, error=error)


SPF = SpfExpectation(name="d.test", includes=("_spf.google.com", "amazonses.com"), all="-all")


@pytest.mark.parametrize("all_,declared,status", [
    ("fail", "-all", Status.PASS), ("softfail", "~all", Status.PASS), ("softfail", "-all", Status.FAIL),
    ("pass", "~all", Status.FAIL), ("neutral", "-all", Status.FAIL), ("fail", "~all", Status.PASS),
])
def test_spf_strictness_is_judged_by_us(all_, declared, status):
    exp = SpfExpectation(name="d.test", includes=(), all=declared)
    obs = Observations.of({key("spf", "d.test"): spf_obs("v=spf1 ...", all_)})
    assert spf.judge_spf_all(Item("d.test", data=exp), obs).status is status


def test_spf_providers_missing_and_extra():
    obs = Observations.of({key("spf", "d.test"): spf_obs("v=spf1 include:_spf.google.com include:sendgrid.net -all",
                                                          "fail", ["_spf.google.com", "sendgrid.net"])})
    v = spf.judge_spf_providers(Item("d.test", data=SPF), obs)
    assert v.status is Status.FAIL and v.evidence["missing"] == ["amazonses.com"]
    assert v.evidence["unexpected"] == ["sendgrid.net"] and "amazonses.com" in v.remediation


def test_spf_lookup_limit_is_not_a_syntax_failure():
    o = spf_obs("v=spf1 ...", "fail", lookups=11, error="requires 11/10")
    obs = Observations.of({key("spf", "d.test"): o})
    assert spf.judge_spf_lookups(Item("d.test", data=SPF), obs).status is Status.FAIL
    assert spf.judge_spf_valid(Item("d.test", data=SPF), obs).status is Status.PASS


def test_spf_missing_and_multiple_records():
    none = Observations.of({key("spf", "d.test"): SpfObservation("d.test", ())})
    two = Observations.of({key("spf", "d.test"): SpfObservation("d.test", ("v=spf1 -all", "v=spf1 ~all"))})
    assert spf.judge_spf_valid(Item("d.test", data=SPF), none).status is Status.FAIL
    assert spf.judge_spf_valid(Item("d.test", data=SPF), two).status is Status.FAIL
    assert spf.judge_spf_all(Item("d.test", data=SPF), none).status is Status.SKIPPED


def _p(pub):
    return base64.b64encode(pub.public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


@pytest.mark.parametrize("make,status", [
    (lambda: "v=DKIM1; k=rsa; p=" + _p(rsa.generate_private_key(65537, 2048).public_key()), Status.PASS),
    (lambda: "v=DKIM1; k=rsa; p=" + _p(rsa.generate_private_key(65537, 1024).public_key()), Status.FAIL),
    (lambda: "v=DKIM1; k=ed25519; p=" + base64.b64encode(ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode(), Status.PASS),
    (lambda: "v=DKIM1; k=rsa; p=bm90IGEga2V5", Status.FAIL),
    (lambda: "v=DKIM1; k=rsa; p=", Status.SKIPPED),
])
def test_dkim_key_strength(make, status):
    d = DkimExpectation(selector="s1", name="s1._domainkey.d.test")
    obs = Observations.of({key("rr", d.name, "TXT"): txt_answer(d.name, make())})
    assert dkim.judge_dkim_strength(Item(d.name, data=d), obs).status is status


def test_dkim_revoked_and_missing():
    d = DkimExpectation(selector="s1", name="s1._domainkey.d.test")
    revoked = Observations.of({key("rr", d.name, "TXT"): txt_answer(d.name, "v=DKIM1; p=")})
    assert dkim.judge_dkim_revoked(Item(d.name, data=d), revoked).status is Status.FAIL
    assert dkim.judge_dkim_present(Item(d.name, data=d), revoked).status is Status.PASS
    gone = Observations.of({key("rr", d.name, "TXT"): DnsAnswer(d.name, "TXT", "nxdomain")})
    assert dkim.judge_dkim_present(Item(d.name, data=d), gone).status is Status.FAIL
    assert dkim.judge_dkim_revoked(Item(d.name, data=d), gone).status is Status.SKIPPED


def test_dns_failure_is_raised_not_judged():
    d = DkimExpectation(selector="s1", name="s1._domainkey.d.test")
    failed = DnsAnswer(d.name, "TXT", "failed", failure="timeout: no answer within 1s", failure_type="DnsTimeout")
    with pytest.raises(DnsQueryError, match="timeout"):
        dkim.judge_dkim_present(Item(d.name, data=d), Observations.of({key("rr", d.name, "TXT"): failed}))


def _dmarc(p, **extra):
    """As the probe builds it: checkdmarc 6 (RFC 9989) drops pct from its tags; the record keeps it."""
    record = "; ".join(["v=DMARC1", f"p={p}", *(f"{k}={v}" for k, v in extra.items())])
    tags = {"p": {"value": p, "explicit": True},
            **{k: {"value": v, "explicit": True} for k, v in extra.items() if k not in ("pct", "rf", "ri")}}
    return DmarcObservation(name="_dmarc.d.test", records=(record,), tags=tags)


@pytest.mark.parametrize("live,declared,status", [
    ("reject", "quarantine", Status.PASS), ("quarantine", "quarantine", Status.PASS),
    ("none", "quarantine", Status.FAIL), ("quarantine", "reject", Status.FAIL),
])
def test_dmarc_policy_at_least_declared(live, declared, status):
    m = MailExpectations(domain="d.test", dmarc=DmarcExpectation(policy=declared))
    obs = Observations.of({key("dmarc", "d.test"): _dmarc(live)})
    assert dmarc.judge_dmarc_policy(Item("_dmarc.d.test", data=m), obs).status is status


def test_dmarc_pct_below_declared_fails():
    m = MailExpectations(domain="d.test", dmarc=DmarcExpectation(policy="reject"))
    obs = Observations.of({key("dmarc", "d.test"): _dmarc("reject", pct=20)})
    v = dmarc.judge_dmarc_policy(Item("_dmarc.d.test", data=m), obs)
    assert v.status is Status.FAIL and "pct=20" in v.message


def test_dmarc_external_destination_unauthorised():
    m = MailExpectations(domain="d.test", dmarc=DmarcExpectation(policy="reject"))
    o = _dmarc("reject")
    o = DmarcObservation(name=o.name, records=o.records, tags=o.tags,
                         authorizations={"vendor.test": DnsAnswer("d.test._report._dmarc.vendor.test", "TXT", "nxdomain")})
    v = dmarc.judge_dmarc_auth(Item("_dmarc.d.test", data=m), Observations.of({key("dmarc", "d.test"): o}))
    assert v.status is Status.FAIL and "d.test._report._dmarc.vendor.test" in v.remediation


def test_record_content_and_proxied():
    r = ExpectedRecord(name="s.d.test", type="A", content="198.51.100.7", ttl=600)
    ok = Observations.of({key("rr", r.name, "A"): answer(r.name, "A", "198.51.100.7", ttl=600)})
    bad = Observations.of({key("rr", r.name, "A"): answer(r.name, "A", "198.51.100.8", ttl=600)})
    assert zone.judge_record_content(Item("t", data=(r, ("198.51.100.7",))), ok).status is Status.PASS
    assert zone.judge_record_content(Item("t", data=(r, ("198.51.100.7",))), bad).status is Status.FAIL
    cached = Observations.of({key("rr", r.name, "A"): answer(r.name, "A", "198.51.100.7", ttl=42, authoritative=False)})
    assert zone.judge_record_ttl(Item("t", data=r), cached).status is Status.PASS
    wrong_ttl = Observations.of({key("rr", r.name, "A"): answer(r.name, "A", "198.51.100.7", ttl=60)})
    assert zone.judge_record_ttl(Item("t", data=r), wrong_ttl).status is Status.FAIL
    p = ExpectedRecord(name="d.test", type="A", content="203.0.113.10", proxied=True)
    edge = Observations.of({key("rr", "d.test", "A"): answer("d.test", "A", "104.16.132.229"),
                            key("rr", "d.test", "AAAA"): DnsAnswer("d.test", "AAAA", "nodata")})
    assert zone.judge_record_present(Item("t", data=p), edge).status is Status.PASS
    assert zone.judge_record_content(Item("t", data=(p, ())), edge).status is Status.SKIPPED


def test_dnssec_parent_not_visible_is_error_not_fail():
    keys = answer("d.test", "DNSKEY", "257 3 13 " + base64.b64encode(b"k" * 64).decode())
    ds = DnsAnswer("d.test", "DS", "nodata", soa_owner="d.test")
    obs = Observations.of({key("rr-dnssec", "d.test", "DNSKEY"): keys, key("rr", "d.test", "DS"): ds})
    with pytest.raises(DnsQueryError, match="parent"):
        zone.judge_dnssec(Item("d.test"), obs)


def test_takeover_services_are_named():
    assert zone.takeover_service("old-site.herokuapp.com") == "Heroku"
    assert zone.takeover_service("bucket.s3.amazonaws.com") == "Amazon S3"
    assert zone.takeover_service("lb.example.net") is None


@pytest.mark.parametrize("text,expected", [
    ("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)),
    ("::1", ("::1", 53)), ("[::1]:5353", ("::1", 5353)),
])
def test_parse_nameserver(text, expected):
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["ns1.example.com", "127.0.0.1:0", "127.0.0.1:x", "[::1", ""])
def test_parse_nameserver_rejects(text):
    with pytest.raises(NameserverSpecError):
        parse_nameserver(text)


def test_outputs_errors_never_echo_values(tmp_path):
    f = tmp_path / "o.json"
    f.write_text('{"dbPassword": "hunter2-secret", ')
    with pytest.raises(OutputsError) as e:
        read_outputs(f)
    assert "hunter2" not in str(e.value)


# ------------------------------------------------------------------ found by the real-world review

def test_spf_terms_are_the_records_own():
    from verify.probes.mailprobes import spf_terms
    terms = spf_terms("v=spf1 +INCLUDE:_spf.google.com a mx/24 ptr ip4:0.0.0.0/0 redirect=x.test exp=e.%{d} ~all")
    assert [(t.qualifier, t.name, t.value) for t in terms] == [
        ("+", "include", "_spf.google.com"), ("+", "a", ""), ("+", "mx", ""), ("+", "ptr", ""),
        ("+", "ip4", "0.0.0.0/0"), ("=", "redirect", "x.test"), ("=", "exp", "e.%{d}"), ("~", "all", "")]


def test_spf_redirect_counts_as_the_provider_not_as_undeclared():
    o = SpfObservation("d.test", ("v=spf1 redirect=_spf.google.com",),
                       parsed={"mechanisms": [], "redirect": {"domain": "_spf.google.com"}, "all": "fail"}, dns_lookups=1)
    exp = SpfExpectation(name="d.test", includes=("_spf.google.com",), all="-all")
    assert spf.judge_spf_providers(Item("d.test", data=exp), Observations.of({key("spf", "d.test"): o})).status is Status.PASS


@pytest.mark.parametrize("term,word", [("ptr", "deprecated"), ("ip4:0.0.0.0/0", "+all"), ("a:relay.d.test", "relay")])
def test_spf_undeclared_terms_fail_providers(term, word):
    o = spf_obs(f"v=spf1 include:_spf.google.com include:amazonses.com {term} -all", "fail")
    v = spf.judge_spf_providers(Item("d.test", data=SPF), Observations.of({key("spf", "d.test"): o}))
    assert v.status is Status.FAIL and word in v.message


@pytest.mark.parametrize("extra,status", [({}, Status.PASS), ({"pct": "10"}, Status.FAIL), ({"pct": "0"}, Status.FAIL),
                                          ({"t": "y"}, Status.FAIL)])
def test_dmarc_pct_and_testing_flag(extra, status):
    m = MailExpectations(domain="d.test", dmarc=DmarcExpectation(policy="reject"))
    v = dmarc.judge_dmarc_policy(Item("_dmarc.d.test", data=m), Observations.of({key("dmarc", "d.test"): _dmarc("reject", **extra)}))
    assert v.status is status


@pytest.mark.parametrize("flags,status", [("", Status.PASS), ("t=s; ", Status.PASS), ("t=y; ", Status.FAIL),
                                          ("h=sha1; ", Status.FAIL), ("h=sha1:sha256; ", Status.PASS), ("s=tlsrpt; ", Status.FAIL)])
def test_dkim_key_usable(flags, status):
    d = DkimExpectation(selector="s1", name="s1._domainkey.d.test")
    obs = Observations.of({key("rr", d.name, "TXT"): txt_answer(d.name, f"v=DKIM1; k=rsa; {flags}p=MIIBIjAN")})
    assert dkim.judge_dkim_usable(Item(d.name, data=d), obs).status is status


def test_caa_critical_unknown_tag_fails():
    from verify.expectations import Expectations
    exp = Expectations(stack="s", domain="d.test", caa_issuers=("letsencrypt.org",))
    ans = answer("d.test", "CAA", '0 issue "letsencrypt.org"', '128 tbs "x"')
    v = zone.judge_caa(Item("d.test", data=exp), Observations.of({key("rr", "d.test", "CAA"): ans}))
    assert v.status is Status.FAIL and "critical" in v.message


def test_console_shows_evidence_and_survives_brackets_in_dns_data():
    import io

    from rich.console import Console

    from infra.findings.render.console import render_console
    from verify.model import result, verify_report
    r = result("dkim-present", "mail", "s._domainkey.d.test", Status.FAIL, "record is not a DKIM key: x[/b]y",
                    {"records": ["[/bold]"]}, "publish [/i] it")
    out = io.StringIO()
    render_console(verify_report("s", "d.test", ("127.0.0.1:53",), "now", 0.1, (r,)), Console(file=out, width=200))
    text = out.getvalue()
    assert "x[/b]y" in text and "seen:" in text and "[/bold]" in text and "publish [/i] it" in text
