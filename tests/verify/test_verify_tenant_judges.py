"""The tenant sweep's judges, without a network: one result per check and group, N of M hosts pass, the
failing hosts named with their reasons, ERROR (not FAIL) when hosts could not be checked, SKIPPED for a
wildcard group without known tenants; the summary reaches every output format."""
from __future__ import annotations

import datetime as dt

import pytest

from verify.dnsclient import DnsAnswer
from verify.model import Status
from verify.probes.tenantprobes import ExceptionObservation, HostObservation, TenantSweep
from verify.registry import Item, NotApplicable, Observations, key
from verify.tenantexpect import TenantGroupExpectation
from verify.tlsclient import CertificateInfo

pytestmark = pytest.mark.unit
NOW = dt.datetime.now(dt.UTC)
CF = "104.16.132.229"


def group(n=5, **kw) -> TenantGroupExpectation:
    base = dict(name="clients", domain="portal.example.com", wildcard=True, origin="portal-lb.example.net",
                record_type="CNAME", proxied=True, hosts=tuple(f"t{i}.portal.example.com" for i in range(n)),
                exceptions=("admin.portal.example.com",))
    return TenantGroupExpectation(**{**base, **kw})


def cert(host, names=("portal.example.com", "*.portal.example.com"), days=80, verified=True, code=None):
    return CertificateInfo(host=host, address="127.0.0.1:443", verified=verified, verify_code=code,
                           verify_message="" if verified else "unable to get local issuer certificate",
                           dns_names=tuple(names), not_before=NOW - dt.timedelta(days=1),
                           not_after=NOW + dt.timedelta(days=days), issuer="CA", subject=names[0], protocol="TLSv1.3")


def good(host, records=(CF,), rdtype="A") -> HostObservation:
    return HostObservation(host, DnsAnswer(host, rdtype, "ok", records=records), cert(host), 200, "max-age=31536000")


def sweep(g, hosts=None, exceptions=None) -> Observations:
    hosts = hosts if hosts is not None else [good(h) for h in g.hosts]
    exceptions = exceptions if exceptions is not None else [
        ExceptionObservation(n, DnsAnswer(n, "A", "nodata")) for n in g.exceptions]
    return Observations.of({key("tenant-sweep", g): TenantSweep(g.name, tuple(hosts), tuple(exceptions))})


def judge(check_id, g, obs):
    from verify.checks import tenantchecks as t

    fn = {"tenant-dns": t.judge_tenant_dns, "tenant-tls": t.judge_tenant_tls, "tenant-https": t.judge_tenant_https,
          "tenant-exceptions": t.judge_tenant_exceptions}[check_id]
    return fn(Item(g.label, (key("tenant-sweep", g),), data=g), obs)


@pytest.mark.parametrize("check_id", ["tenant-dns", "tenant-tls", "tenant-https", "tenant-exceptions"])
def test_a_correct_group_passes_every_check(check_id):
    g = group()
    v = judge(check_id, g, sweep(g))
    assert v.status is Status.PASS, v.message
    assert v.evidence["failed"] == 0 and v.evidence["unchecked"] == 0


def test_one_uncovered_host_fails_tenant_tls_naming_it_and_nothing_else():
    g = group(1000)
    hosts = [good(h) for h in g.hosts]
    bad = g.hosts[7]
    hosts[7] = HostObservation(bad, hosts[7].dns, cert(bad, names=("other.example.net",)), 200, "max-age=1")
    obs = sweep(g, hosts)
    v = judge("tenant-tls", g, obs)
    assert v.status is Status.FAIL
    assert v.message.startswith(f"999 of 1,000 tenant hosts pass; failing: {bad} (certificate does not cover the name")
    assert v.evidence["failing"] == [{"host": bad, "reason": "certificate does not cover the name; it names other.example.net"}]
    assert v.remediation
    assert judge("tenant-dns", g, obs).status is Status.PASS
    assert judge("tenant-https", g, obs).status is Status.PASS


def test_many_failures_are_bounded_in_message_and_evidence():
    g = group(200)
    hosts = [HostObservation(h, DnsAnswer(h, "A", "ok", records=(CF,)), cert(h), 502, "max-age=1") for h in g.hosts]
    v = judge("tenant-https", g, sweep(g, hosts))
    assert v.status is Status.FAIL and "0 of 200 tenant hosts pass" in v.message
    assert "(+197 more)" in v.message and "GET / answered 502" in v.message
    assert len(v.evidence["failing"]) == 50 and v.evidence["failing_more"] == 150


def test_could_not_check_is_error_never_fail_and_says_how_many():
    g = group(10)
    hosts = [good(h) for h in g.hosts]
    hosts[3] = HostObservation(g.hosts[3], hosts[3].dns, web_error="cannot connect: Connection refused")
    hosts[4] = HostObservation(g.hosts[4], not_reached="not checked: the run's deadline came first")
    obs = sweep(g, hosts)
    for cid in ("tenant-tls", "tenant-https"):
        v = judge(cid, g, obs)
        assert v.status is Status.ERROR, v.message
        assert v.message.startswith("could not check 2 of 10 tenant hosts (none failed; 8 pass)")
        assert {h["host"] for h in v.evidence["not_checked"]} == {g.hosts[3], g.hosts[4]}
    v = judge("tenant-dns", g, obs)
    assert v.status is Status.ERROR and v.evidence["unchecked"] == 1   # the deadline host was never asked


def test_a_failure_beside_an_unchecked_host_is_fail_and_counts_both():
    g = group(4)
    hosts = [good(h) for h in g.hosts]
    hosts[0] = HostObservation(g.hosts[0], hosts[0].dns, web_error="timed out")
    hosts[1] = HostObservation(g.hosts[1], hosts[1].dns, cert(g.hosts[1]), 503, None)
    v = judge("tenant-https", g, sweep(g, hosts))
    assert v.status is Status.FAIL and "1 could not be checked" in v.message
    assert v.evidence["unchecked"] == 1 and v.evidence["failed"] == 1


def test_dns_judged_like_the_proxied_and_dns_only_checks():
    from verify.checks.tenantchecks import FAIL, PASS, UNCHECKED, dns_outcome

    p = group()
    h = p.hosts[0]
    assert dns_outcome(p, DnsAnswer(h, "A", "ok", records=(CF,)))[0] == PASS
    assert dns_outcome(p, DnsAnswer(h, "A", "ok", records=("203.0.113.9",))) == (
        FAIL, "declared proxied but answers 203.0.113.9, outside Cloudflare's edge: the origin is exposed")
    assert dns_outcome(p, DnsAnswer(h, "A", "nxdomain"))[0] == FAIL
    assert dns_outcome(p, DnsAnswer(h, "A", "failed", failure="timeout"))[0] == UNCHECKED
    c = group(proxied=False)
    assert dns_outcome(c, DnsAnswer(h, "CNAME", "ok", records=("portal-lb.example.net.",)))[0] == PASS
    assert dns_outcome(c, DnsAnswer(h, "CNAME", "ok", records=("old-lb.example.net.",)))[0] == FAIL
    a = group(proxied=False, origin="203.0.113.30", record_type="A", wildcard=False)
    assert dns_outcome(a, DnsAnswer(h, "A", "ok", records=("203.0.113.30",)))[0] == PASS
    assert dns_outcome(a, DnsAnswer(h, "A", "ok", records=("203.0.113.30", "203.0.113.31")))[0] == FAIL
    assert dns_outcome(a, DnsAnswer(h, "A", "nodata"))[0] == FAIL


def test_a_missing_record_is_one_finding_tls_and_https_count_it_apart():
    g = group(3, wildcard=False, exceptions=())
    hosts = [good(h) for h in g.hosts]
    gone = g.hosts[2]
    hosts[2] = HostObservation(gone, DnsAnswer(gone, "A", "nxdomain"), web_error=f"{gone} has no address")
    obs = sweep(g, hosts)
    v = judge("tenant-dns", g, obs)
    assert v.status is Status.FAIL and gone in v.message and "NXDOMAIN" in v.message
    for cid in ("tenant-tls", "tenant-https"):
        v = judge(cid, g, obs)
        assert v.status is Status.PASS, v.message
        assert "2 of 3 tenant hosts pass; 1 without an address (reported by tenant-dns)" == v.message


def test_expiry_and_chain():
    from verify.checks.tenantchecks import FAIL, PASS, WARN, tls_outcome

    g = group(1)
    h = g.hosts[0]

    def o(c):
        return HostObservation(h, None, c, 200, "max-age=1")
    assert tls_outcome(g, o(cert(h, days=20)))[0] == WARN
    assert tls_outcome(g, o(cert(h, days=5)))[0] == FAIL
    assert tls_outcome(g, o(cert(h, days=-3))) == (FAIL, "certificate expired 3 days ago")
    assert tls_outcome(g, o(cert(h, verified=False, code=20)))[0] == FAIL
    assert tls_outcome(g, o(cert(h, days=-3, verified=False, code=10)))[0] == FAIL   # expired, said once
    assert tls_outcome(g, o(cert(h, names=("t0.portal.example.com",))))[0] == PASS


def test_https_needs_hsts_only_when_declared():
    from verify.checks.tenantchecks import FAIL, PASS, https_outcome

    h = "t0.portal.example.com"
    no_hsts = HostObservation(h, None, None, 302, None)
    assert https_outcome(group(), no_hsts) == (FAIL, "GET / answered 302 without Strict-Transport-Security")
    assert https_outcome(group(hsts=False), no_hsts)[0] == PASS
    assert https_outcome(group(path="/v1/health"), HostObservation(h, None, None, 500, "max-age=1")) == (
        FAIL, "GET /v1/health answered 500")


def test_exceptions_must_not_be_served_by_the_wildcard():
    from verify.checks.tenantchecks import FAIL, PASS, UNCHECKED, exception_outcome

    g = group()
    n = g.exceptions[0]
    assert exception_outcome(g, ExceptionObservation(n, DnsAnswer(n, "A", "nodata")))[0] == PASS
    assert exception_outcome(g, ExceptionObservation(n, DnsAnswer(n, "A", "ok", records=(CF,))))[0] == FAIL
    assert exception_outcome(g, ExceptionObservation(n, DnsAnswer(n, "A", "ok", records=("198.51.100.7",))))[0] == PASS
    assert exception_outcome(g, ExceptionObservation(n, DnsAnswer(n, "A", "failed", failure="x")))[0] == UNCHECKED
    c = group(proxied=False)
    assert exception_outcome(c, ExceptionObservation(n, DnsAnswer(n, "CNAME", "ok", records=("portal-lb.example.net.",))))[0] == FAIL
    v = judge("tenant-exceptions", g, sweep(g, exceptions=[ExceptionObservation(n, DnsAnswer(n, "A", "ok", records=(CF,)))]))
    assert v.status is Status.FAIL and v.message.startswith(f"0 of 1 excepted names pass; failing: {n} (answers {CF}")


def test_plans_skip_what_there_is_nothing_to_sweep():
    from verify.checks.tenantchecks import judge_tenant_dns, judge_tenant_exceptions
    from verify.expectations import Expectations

    none = judge_tenant_dns.check.plan(Expectations(stack="s", domain="example.com"))
    assert isinstance(none, NotApplicable) and "no tenant group" in none.reason
    bare = group(0)
    exp = Expectations(stack="s", domain="example.com", tenants=(bare, group(2, name="b", exceptions=())))
    (a, b) = judge_tenant_dns.check.plan(exp)
    assert isinstance(a, NotApplicable) and "lists no known tenant" in a.reason and a.target == bare.label
    assert isinstance(b, Item) and b.needs == (key("tenant-sweep", exp.tenants[1]),)
    (a, b) = judge_tenant_exceptions.check.plan(exp)
    assert isinstance(a, Item) and isinstance(b, NotApplicable)


def test_a_probe_key_prints_the_group_not_its_hosts():
    g = group(10_000)
    assert str(key("tenant-sweep", g)) == "tenant-sweep(clients (*.portal.example.com))"


def test_the_summary_reaches_every_format():
    from infra.findings.render import RENDERERS
    from infra.findings.render.console import render_console  # noqa: F401 - importable, like the CLI uses
    from verify.model import result, verify_report

    g = group(30)
    hosts = [good(h) for h in g.hosts]
    bad = g.hosts[11]
    hosts[11] = HostObservation(bad, hosts[11].dns, cert(bad, names=("other.example.net",)), 200, "max-age=1")
    v = judge("tenant-tls", g, sweep(g, hosts))
    f = result("tenant-tls", "tenants", g.label, v.status, v.message, v.evidence, v.remediation)
    rep = verify_report("s", "example.com", (), "2025-01-01T00:00:00+00:00", 1.0, (f,))
    for fmt, render in RENDERERS.items():
        text = render(rep)
        assert "29 of 30 tenant hosts pass" in text and bad in text, fmt


def test_the_sweep_is_bounded_in_width_and_time():
    """At most `workers` calls at once; what the limit reaches first comes back None (then "not checked")."""
    import threading
    import time

    from verify.sweep import bounded_map

    live, peak, lock = [0], [0], threading.Lock()

    def fn(i):
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.01 if i < 20 else 5)
        with lock:
            live[0] -= 1
        return i * 2

    t = time.monotonic()
    out = bounded_map(fn, list(range(24)), 4, time.monotonic() + 0.5)
    assert time.monotonic() - t < 2.0
    assert out[:20] == [i * 2 for i in range(20)] and out[20:] == [None] * 4
    assert peak[0] <= 4
    assert bounded_map(fn, [], 4, time.monotonic() + 1) == []
