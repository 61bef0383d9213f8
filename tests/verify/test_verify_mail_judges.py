"""Mail judges and helpers, without a network: delegated DKIM selectors published as TXT copies,
near-miss hints for DKIM and SPF, and MTA-STS policy hosts that are definitely unusable."""
from __future__ import annotations

import ssl

import dns.rrset
import pytest

from infra.knowledge.mailrecords import dkim_near_misses, spf_authorises, spf_near_misses
from verify import fetch
from verify.checks import dkim, mtasts, spf
from verify.context import FetchedPolicy, PolicyFetchError
from verify.dnsclient import DnsAnswer
from verify.engine import Item, Observations, key
from verify.expectations import DkimExpectation, MailExpectations, MtaStsExpectation, SpfExpectation
from verify.model import Status
from verify.probes.mailprobes import NEAR_MISS_LIMIT, SpfObservation, near_miss
from verify.registry import ProbeTimeout

pytestmark = pytest.mark.unit

KEY = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"


def txt(name, *texts, chain=()):
    rrset = dns.rrset.from_text_list(name + ".", 300, "IN", "TXT", [f'"{t}"' for t in texts])
    return DnsAnswer(name, "TXT", "ok", records=tuple(r.to_text() for r in rrset), rrset=rrset, cname_chain=chain)


def none(name, rdtype="TXT", status="nodata"):
    return DnsAnswer(name, rdtype, status)


SES = DkimExpectation(selector="tok", name="tok._domainkey.d.test", provider="ses", cname_target="tok.dkim.amazonses.com")


def _cname_item(obs):
    return dkim.judge_dkim_cname(Item(SES.name, (key("rr", SES.name, "CNAME"), key("rr", SES.name, "TXT")), data=SES),
                                 Observations.of(obs))


def test_delegated_selector_published_as_txt_copy_fails():
    v = _cname_item({key("rr", SES.name, "CNAME"): none(SES.name, "CNAME"), key("rr", SES.name, "TXT"): txt(SES.name, KEY)})
    assert v.status is Status.FAIL
    assert "selector tok" in v.message and "TXT record" in v.message and "tok.dkim.amazonses.com" in v.message
    assert "CNAME tok.dkim.amazonses.com" in v.remediation and v.evidence["found"] == "TXT"


@pytest.mark.parametrize("txt_answer", [
    txt(SES.name, KEY, chain=("tok.dkim.amazonses.com",)),   # reached through a CNAME: not a copy
    none(SES.name, status="nxdomain"),                      # nothing at all: dkim-present reports it
])
def test_delegated_selector_without_txt_copy_is_not_judged_here(txt_answer):
    v = _cname_item({key("rr", SES.name, "CNAME"): none(SES.name, "CNAME"), key("rr", SES.name, "TXT"): txt_answer})
    assert v.status is Status.SKIPPED


GOOGLE = DkimExpectation(selector="google", name="google._domainkey.d.test", provider="google")
MAIL = MailExpectations(domain="d.test", dkim=(GOOGLE,))


def _present(found):
    near = tuple(dkim_near_misses("google", "d.test", "d.test"))
    k = key("near-miss", "dkim", GOOGLE.name, near)
    item = Item(GOOGLE.name, (key("rr", GOOGLE.name, "TXT"), k), data=GOOGLE)
    return dkim.judge_dkim_present(item, Observations.of({key("rr", GOOGLE.name, "TXT"): none(GOOGLE.name, status="nxdomain"),
                                                          k: found}))


@pytest.mark.parametrize("where,why", [
    ("google._domainkey.d.test.d.test", "the zone name was appended twice"),
    ("google.domainkey.d.test", "_domainkey lacks its underscore"),
    ("google.d.test", "the _domainkey label is missing"),
])
def test_dkim_missing_names_where_it_was_published(where, why):
    v = _present((where,))
    assert v.status is Status.FAIL and f"published at {where} ({why})" in v.message
    assert where in v.remediation and v.evidence["misplaced"] == [where]


def test_dkim_missing_hint_never_turns_fail_into_error():
    assert _present(ProbeTimeout("late")).status is Status.FAIL
    assert "instead" not in _present(()).message


def test_dkim_present_plan_bounds_the_near_miss_queries():
    from verify.expectations import Expectations
    (item,) = dkim._plan_dkim_present(Expectations(stack="t", domain="d.test", mail=MAIL))
    (k,) = [k for k in item.needs if k.kind == "near-miss"]
    assert 0 < len(k.args[2]) <= NEAR_MISS_LIMIT


S = SpfExpectation(name="d.test", includes=("_spf.google.com",))


def test_spf_missing_names_where_it_was_published():
    k = key("near-miss", "spf", "d.test", tuple(spf_near_misses("d.test", "d.test")))
    item = Item("d.test", (key("spf", "d.test"), k), data=S)
    v = spf.judge_spf_valid(item, Observations.of({key("spf", "d.test"): SpfObservation("d.test", ()),
                                                   k: ("www.d.test",)}))
    assert v.status is Status.FAIL and "published at www.d.test (the web host" in v.message
    assert "delete the one at www.d.test" in v.remediation


def test_spf_near_miss_is_a_sending_record_only():
    assert spf_authorises("v=spf1 include:_spf.google.com -all") and not spf_authorises("v=spf1 -all")


class _Dns:
    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def query(self, name, rdtype):
        self.asked.append(name)
        return self.answers.get(name, none(name, rdtype, "nxdomain"))


class _Ctx:
    def __init__(self, answers):
        self.dns = _Dns(answers)


def test_near_miss_probe_only_when_missing_and_bounded():
    present = _Ctx({"d.test": txt("d.test", "v=spf1 -all")})
    assert near_miss(present, "spf", "d.test", ("www.d.test",)) == () and present.dns.asked == ["d.test"]
    ctx = _Ctx({"www.d.test": txt("www.d.test", "v=spf1 -all"), "_spf.d.test": txt("_spf.d.test", "v=spf1 mx -all"),
                "x.d.test": DnsAnswer("x.d.test", "TXT", "failed", failure="timeout")})
    cands = ("www.d.test", "x.d.test", "_spf.d.test", "a", "b", "c", "d")
    assert near_miss(ctx, "spf", "d.test", cands) == ("_spf.d.test",)
    assert len(ctx.dns.asked) == 1 + NEAR_MISS_LIMIT
    failed = _Ctx({"d.test": DnsAnswer("d.test", "TXT", "failed", failure="timeout")})
    assert near_miss(failed, "spf", "d.test", cands) == () and failed.dns.asked == ["d.test"]


STS = MailExpectations(domain="d.test", mta_sts=MtaStsExpectation(mode="enforce"))


def test_unusable_policy_host_fails_and_mx_is_skipped():
    o = FetchedPolicy(url="https://mta-sts.d.test/.well-known/mta-sts.txt", status=0, content_type=None, text="",
                      problem="mta-sts.d.test does not exist (NXDOMAIN): no sender can fetch the policy",
                      evidence={"host": "mta-sts.d.test", "answer": "nxdomain"})
    obs = Observations.of({key("mta-sts-policy", "d.test"): o, key("rr", "d.test", "MX"): none("d.test", "MX")})
    v = mtasts.judge_sts_policy(Item("x", data=STS), obs)
    assert v.status is Status.FAIL and "NXDOMAIN" in v.message and "publish mta-sts.d.test" in v.remediation
    assert mtasts.judge_sts_mx(Item("d.test", data=STS), obs).status is Status.SKIPPED


def _verify_error(code, msg):
    e = ssl.SSLCertVerificationError(1, msg)
    e.verify_code, e.verify_message = code, msg
    outer = Exception("ConnectError")
    outer.__cause__ = e
    return outer


@pytest.mark.parametrize("code,msg,word", [
    (62, "hostname mismatch", "certificate for another name"),
    (20, "unable to get local issuer certificate", "cannot verify"),
    (10, "certificate has expired", "certificate has expired"),
])
def test_certificate_faults_are_definite(code, msg, word):
    from worldkit.knot import free_port
    got = fetch._certificate_problem(_verify_error(code, msg), ssl.create_default_context(), "mta-sts.d.test",
                                     ("127.0.0.1", free_port()), 0.5)
    assert got is not None and word in got[0] and got[1]["verify_code"] == code


def test_untrusted_without_any_trust_store_and_other_tls_errors_stay_error():
    from worldkit.knot import free_port
    empty = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    addr = ("127.0.0.1", free_port())
    assert fetch._certificate_problem(_verify_error(20, "unknown issuer"), empty, "h", addr, 0.5) is None
    assert fetch._certificate_problem(Exception("handshake failure"), ssl.create_default_context(), "h", addr, 0.5) is None


def test_policy_host_address_nxdomain_even_when_pinned_and_dns_failure_is_error():
    nx = fetch.HttpsPolicyFetcher(_Dns({}), connect_to={("mta-sts.d.test", 443): ("127.0.0.1", 1)})
    got = nx._address("mta-sts.d.test")
    assert isinstance(got, FetchedPolicy) and "NXDOMAIN" in got.problem
    broken = {"mta-sts.d.test": DnsAnswer("mta-sts.d.test", "A", "failed", failure="timeout")}
    pinned = fetch.HttpsPolicyFetcher(_Dns(broken), connect_to={("mta-sts.d.test", 443): ("127.0.0.1", 1)})
    assert pinned._address("mta-sts.d.test") == ("127.0.0.1", 1)
    with pytest.raises(PolicyFetchError, match="could not fetch"):
        fetch.HttpsPolicyFetcher(_Dns(broken))._address("mta-sts.d.test")
