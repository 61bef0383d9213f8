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


# ------------------------------------------------------------------ dns-caa per host, inherited

CAA_OK = ('0 issue "letsencrypt.org"', '0 issuewild ";"')


def _caa(live):
    app = ExpectedRecord(name="app.d.test", type="A", content="203.0.113.20", proxied=True)
    deep = ExpectedRecord(name="a.b.d.test", type="A", content="198.51.100.1")
    exp = Expectations(stack="s", domain="d.test", records=(app, deep), caa_issuers=("letsencrypt.org",),
                       caa_forbid_wildcard=True)
    items = zone._plan_caa(exp)
    assert [i.target for i in items] == ["d.test", "app.d.test", "a.b.d.test"]
    assert items[2].needs == tuple(key("rr", n, "CAA") for n in ("a.b.d.test", "b.d.test", "d.test"))
    obs = {key("rr", n, "CAA"): nodata(n, "CAA") for n in ("app.d.test", "a.b.d.test", "b.d.test")}
    obs.update(live)
    o = Observations.of(obs)
    return {i.target: zone.judge_caa(i, o) for i in items}


def test_hosts_inherit_a_correct_apex_set():
    got = _caa({key("rr", "d.test", "CAA"): answer("d.test", "CAA", *CAA_OK)})
    assert {t: v.status for t, v in got.items()} == dict.fromkeys(got, Status.PASS)
    assert "inherits" in got["app.d.test"].message


def test_host_level_set_without_the_declared_ca_fails_for_that_host_only():
    got = _caa({key("rr", "d.test", "CAA"): answer("d.test", "CAA", *CAA_OK),
                key("rr", "b.d.test", "CAA"): answer("b.d.test", "CAA", '0 issue "digicert.com"', '0 issuewild ";"')})
    assert got["d.test"].status is Status.PASS and got["app.d.test"].status is Status.PASS
    v = got["a.b.d.test"]
    assert v.status is Status.FAIL and "b.d.test" in v.message and "replaces" in v.message and "digicert.com" in v.message
    assert v.evidence["owner"] == "b.d.test" and "b.d.test" in v.remediation


def test_a_wrong_apex_is_reported_once():
    got = _caa({key("rr", "d.test", "CAA"): answer("d.test", "CAA", '0 issue "digicert.com"')})
    assert got["d.test"].status is Status.FAIL
    assert got["app.d.test"].status is Status.SKIPPED and got["a.b.d.test"].status is Status.SKIPPED
    got = _caa({key("rr", "d.test", "CAA"): nodata("d.test", "CAA")})
    assert [v.status for v in got.values()] == [Status.FAIL, Status.SKIPPED, Status.SKIPPED]


def test_a_correct_host_level_set_passes():
    got = _caa({key("rr", "d.test", "CAA"): answer("d.test", "CAA", *CAA_OK),
                key("rr", "app.d.test", "CAA"): answer("app.d.test", "CAA", *CAA_OK)})
    assert got["app.d.test"].status is Status.PASS and "app.d.test" in got["app.d.test"].message
