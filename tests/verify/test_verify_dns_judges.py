"""DNS judges without a network: content is set equality, proxied names answer only from the edge,
every CNAME served at a declared name is followed, CAA is judged per host with inheritance."""
from __future__ import annotations

import dns.rrset
import pytest

from verify.checks import proxied, zone
from verify.dnsclient import DnsAnswer
from verify.engine import Item, Observations, key
from verify.expectations import Expectations, ExpectedRecord
from verify.model import Status

pytestmark = pytest.mark.unit


def answer(name, rdtype, *rdatas, chain=()):
    rrset = dns.rrset.from_text_list(name + ".", 300, "IN", rdtype, list(rdatas))
    return DnsAnswer(name, rdtype, "ok", records=tuple(sorted(r.to_text() for r in rrset)), ttl=300, rrset=rrset,
                     authoritative=True, cname_chain=tuple(chain))


def nodata(name, rdtype, chain=()):
    return DnsAnswer(name, rdtype, "nodata", cname_chain=tuple(chain))


def nxdomain(name, rdtype, chain=()):
    return DnsAnswer(name, rdtype, "nxdomain", cname_chain=tuple(chain))


# ------------------------------------------------------------------ dns-record-content: equality

STATUS = ExpectedRecord(name="status.d.test", type="A", content="198.51.100.7", ttl=600)


def _content(exp_records, declared, live):
    exp = Expectations(stack="s", domain="d.test", records=tuple(exp_records), other_declared=tuple(declared))
    items = zone._plan_content(exp)
    obs = Observations.of(live)
    return [(i.target, zone.judge_record_content(i, obs)) for i in items]


def test_extra_stale_value_fails_naming_it():
    [(target, v)] = _content([STATUS], [("status.d.test", "A", "198.51.100.7")],
                             {key("rr", "status.d.test", "A"): answer("status.d.test", "A", "198.51.100.7", "198.51.100.99")})
    assert target == "status.d.test A"
    assert v.status is Status.FAIL and "198.51.100.99" in v.message and "stale" in v.message
    assert v.evidence["extra"] == ["198.51.100.99"] and v.evidence["missing"] == []
    assert v.evidence["declared"] == ["198.51.100.7"] and "198.51.100.99" in v.remediation


def test_equal_set_passes_and_two_declared_values_are_one_item():
    second = ExpectedRecord(name="status.d.test", type="A", content="198.51.100.8", ttl=600)
    declared = [("status.d.test", "A", "198.51.100.7"), ("status.d.test", "A", "198.51.100.8")]
    live = {key("rr", "status.d.test", "A"): answer("status.d.test", "A", "198.51.100.8", "198.51.100.7")}
    [(_, v)] = _content([STATUS, second], declared, live)
    assert v.status is Status.PASS
    live = {key("rr", "status.d.test", "A"): answer("status.d.test", "A", "198.51.100.7")}
    [(_, v)] = _content([STATUS, second], declared, live)
    assert v.status is Status.FAIL and v.evidence["missing"] == ["198.51.100.8"] and v.evidence["extra"] == []


def test_txt_declared_by_mail_at_the_same_name_is_not_extra():
    verification = ExpectedRecord(name="d.test", type="TXT", content="google-site-verification=abc")
    declared = [("d.test", "TXT", "google-site-verification=abc"), ("d.test", "TXT", '"v=spf1 include:x.test" " -all"')]
    rrset = dns.rrset.from_text_list("d.test.", 300, "IN", "TXT", ['"google-site-verification=abc"',
                                                                   '"v=spf1 include:x.test" " -all"'])
    ans = DnsAnswer("d.test", "TXT", "ok", records=tuple(r.to_text() for r in rrset), ttl=300, rrset=rrset)
    [(_, v)] = _content([verification], declared, {key("rr", "d.test", "TXT"): ans})
    assert v.status is Status.PASS, v.message


def test_proxied_content_stays_skipped():
    p = ExpectedRecord(name="d.test", type="A", content="203.0.113.10", proxied=True)
    [(_, v)] = _content([p], [], {key("rr", "d.test", "A"): answer("d.test", "A", "104.16.132.229"),
                                  key("rr", "d.test", "AAAA"): nodata("d.test", "AAAA")})
    assert v.status is Status.SKIPPED


# ------------------------------------------------------------------ dns-proxied-edge-only

APP = ExpectedRecord(name="app.d.test", type="A", content="203.0.113.20", proxied=True)


@pytest.mark.parametrize("a,aaaa,status,named", [
    (answer("app.d.test", "A", "104.16.132.229"), answer("app.d.test", "AAAA", "2606:4700::6810:84e5"), Status.PASS, None),
    (answer("app.d.test", "A", "203.0.113.20"), nodata("app.d.test", "AAAA"), Status.FAIL, "203.0.113.20"),
    (answer("app.d.test", "A", "104.16.132.229"), answer("app.d.test", "AAAA", "2001:db8::20"), Status.FAIL, "2001:db8::20"),
    (answer("app.d.test", "A", "192.0.2.80", chain=["lb.aws.test"]), nodata("app.d.test", "AAAA"), Status.FAIL, "lb.aws.test"),
    (nxdomain("app.d.test", "A"), nxdomain("app.d.test", "AAAA"), Status.SKIPPED, None),
])
def test_proxied_names_answer_only_from_the_edge(a, aaaa, status, named):
    exp = Expectations(stack="s", domain="d.test", records=(APP, STATUS))
    [item] = proxied._plan_proxied(exp)
    v = proxied.judge_proxied_edge_only(item, Observations.of({key("rr", "app.d.test", "A"): a,
                                                                key("rr", "app.d.test", "AAAA"): aaaa}))
    assert v.status is status, v.message
    if named:
        assert named in v.message and "origin is exposed" in v.message and v.remediation
        assert "203.0.113.20" not in str(v.evidence) or named == "203.0.113.20"


def test_no_proxied_record_is_not_applicable():
    exp = Expectations(stack="s", domain="d.test", records=(STATUS,))
    assert isinstance(proxied._plan_proxied(exp), zone.NotApplicable)


# ------------------------------------------------------------------ dns-dangling-cname: every served CNAME

def _dangling(records, chains):
    exp = Expectations(stack="s", domain="d.test", records=tuple(records))
    obs = Observations.of(chains)
    return {i.target: zone.judge_dangling(i, obs) for i in zone._plan_cnames(exp)}


def _chain_obs(name, target, a, aaaa, declared=None):
    from verify.probes.dnsprobes import CnameObservation
    c = answer(name, "CNAME", target + ".") if target else nodata(name, "CNAME")
    return {key("cname-chain", name, declared): CnameObservation(name, c, target, a, aaaa)}


def test_cname_served_at_a_declared_a_name_is_followed_and_the_service_named():
    t = "old-site.herokuapp.com"
    v = _dangling([STATUS], _chain_obs("status.d.test", t, nxdomain(t, "A"), nxdomain(t, "AAAA")))["status.d.test"]
    assert v.status is Status.FAIL
    assert "Heroku" in v.message and t in v.message and "declares A 198.51.100.7" in v.message
    assert v.evidence["service"] == "Heroku" and "publish the declared A" in v.remediation


def test_declared_a_name_without_cname_passes_and_each_name_is_one_item():
    docs = ExpectedRecord(name="docs.d.test", type="CNAME", content="x.github.io")
    docs_txt = ExpectedRecord(name="docs.d.test", type="TXT", content="hello")
    obs = {**_chain_obs("status.d.test", None, None, None),
           **_chain_obs("docs.d.test", "x.github.io", answer("x.github.io", "A", "185.199.108.153"),
                        nodata("x.github.io", "AAAA"), declared="x.github.io")}
    got = _dangling([STATUS, docs_txt, docs], obs)
    assert set(got) == {"status.d.test", "docs.d.test"}
    assert got["status.d.test"].status is Status.PASS and got["docs.d.test"].status is Status.PASS


def test_declared_cname_dangling_still_names_the_service():
    docs = ExpectedRecord(name="docs.d.test", type="CNAME", content="x.github.io")
    v = _dangling([docs], _chain_obs("docs.d.test", "x.github.io", nxdomain("x.github.io", "A"),
                                     nxdomain("x.github.io", "AAAA"), declared="x.github.io"))["docs.d.test"]
    assert v.status is Status.FAIL and "GitHub Pages" in v.message and "declares" not in v.message


def test_record_present_defers_a_dead_end_cname_to_dangling():
    item = Item("status.d.test A", data=STATUS)
    obs = Observations.of({key("rr", "status.d.test", "A"): nxdomain("status.d.test", "A", chain=["old.herokuapp.com"])})
    v = zone.judge_record_present(item, obs)
    assert v.status is Status.SKIPPED and "dns-dangling-cname" in v.message
    obs = Observations.of({key("rr", "status.d.test", "A"): nxdomain("status.d.test", "A")})
    assert zone.judge_record_present(item, obs).status is Status.FAIL

