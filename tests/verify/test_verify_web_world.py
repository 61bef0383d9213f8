"""verify's TLS, HTTP and performance checks against real nginx servers on 127.0.0.1 (tests/worldkit/web.py).

The correct servers give no FAIL, WARN or ERROR; each variant FAILs exactly its expected check id;
a closed port and a broken handshake give ERROR, never a verdict. verify reaches every host through
--connect-to pins and trusts only the world's CA, as a user auditing a staging edge would.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from worldkit.web import broken_handshake_server, closed_port_server
from worldkit.webvariants import WEB_VARIANTS

from infra.spec import parse_spec, read_stack_file, stack_path
from verify.audit import audit
from verify.expectations import from_spec
from verify.model import Status

pytestmark = pytest.mark.world
STACKS = Path(__file__).resolve().parents[2] / "stacks"
WEB = ["tls", "http", "perf"]
DEAD_NS = [("127.0.0.1", 9)]  # every name is pinned: a query reaching DNS would be refused at once


@pytest.fixture(scope="module")
def exp():
    return from_spec(parse_spec(read_stack_file(stack_path("example", STACKS))), stack="example")


def _audit(exp, srv, **kw):
    kw.setdefault("only", WEB)
    kw.setdefault("timeout", 3.0)
    kw.setdefault("deadline", 60.0)
    return audit(exp, nameservers=DEAD_NS, connect_to=srv.pins(), ca_file=srv.ca_file, **kw)


def _not(rep, *statuses):
    return [(f.id, f.target, f.status.value, f.message) for f in rep.findings if f.status not in statuses]


@pytest.mark.parametrize("name", ["correct", "legal"])
def test_correct_servers_raise_no_alarm(web_world, exp, name):
    rep = _audit(exp, web_world.server(name))
    assert _not(rep, Status.PASS, Status.SKIPPED) == []
    skipped = {f.id for f in rep.findings if f.status is Status.SKIPPED}
    assert skipped <= {"origin-locked", "lcp"}, skipped   # not declared; no --browser
    ran = {f.id for f in rep.findings if f.status is Status.PASS}
    assert {"tls-legacy-protocols", "tls-certificate-chain", "hsts-max-age", "canonical-redirect", "legacy-redirects",
            "security-headers", "cookie-flags", "cors", "error-pages", "sensitive-files", "bundle-secrets",
            "mixed-content", "latency-p95"} <= ran
    assert rep.exit_code == 0


@pytest.mark.parametrize("variant", WEB_VARIANTS, ids=lambda v: v.name)
def test_each_weakness_fails_exactly_its_check(web_world, exp, variant):
    # Latency is judged on its own variant (and on the correct servers): on a loaded machine a scheduling
    # stall in another variant's run must not read as that variant's second fault.
    skip = [] if variant.expected_fail == "latency-p95" else ["latency-p95"]
    rep = _audit(exp, web_world.server(variant.name), skip=skip)
    fails = {f.id for f in rep.findings if f.status is Status.FAIL}
    assert fails == {variant.expected_fail}, _not(rep, Status.PASS, Status.SKIPPED)
    assert [f for f in rep.findings if f.status in (Status.ERROR, Status.WARN)] == []
    bad = [f for f in rep.findings if f.status is Status.FAIL]
    assert variant.host in {f.target.split("/")[2] if "://" in f.target else f.target for f in bad}
    assert all(f.remediation and f.message for f in bad)
    assert rep.exit_code == 1


def test_no_secret_from_the_world_reaches_any_format(web_world, exp):
    """The Stripe key in the bundle and the password in .env are named by position, never echoed."""
    from worldkit.webapp import _alnum, stripe_secret_key

    from infra.findings.render import RENDERERS

    secrets = [stripe_secret_key(), _alnum("world-db-password", 12), _alnum("world-session-secret", 32)]
    for name in ("stripe-bundle", "dotenv"):
        rep = _audit(exp, web_world.server(name))
        assert rep.exit_code == 1
        for fmt, render in RENDERERS.items():
            text = render(rep)
            assert not [s for s in secrets if s in text], (name, fmt)


@pytest.mark.parametrize("make", [closed_port_server, broken_handshake_server], ids=["closed-port", "broken-handshake"])
def test_unreachable_or_broken_server_is_error_never_a_verdict(web_world, exp, make):
    srv = make(web_world.ca_file)
    try:
        rep = _audit(exp, srv, timeout=1.0, deadline=20.0, samples=5)
    finally:
        srv.stop()
    assert [f for f in rep.findings if f.status in (Status.PASS, Status.FAIL, Status.WARN)] == []
    assert [f for f in rep.findings if f.status is Status.ERROR] and rep.exit_code == 2


@pytest.mark.parametrize("delay_ms", [200])
def test_measured_p95_is_within_15_percent_of_injected_latency(web_world, exp, delay_ms):
    srv = web_world.server("latency", delay_ms=delay_ms)
    rep = _audit(exp, srv, only=["latency-p95"], samples=20)
    (dash,) = [f for f in rep.findings if f.target == "https://app.example.com/dashboard"]
    assert abs(dash.evidence["p95_ms"] - delay_ms) <= 0.15 * delay_ms, dash.evidence
    assert dash.status is Status.PASS and dash.evidence["samples"] == 20


def test_cli_against_the_world(web_world, capsys):
    from verify.cli import main

    srv = web_world.server("correct")
    rc = main(["--stack", "example", "--stacks-dir", str(STACKS), "--nameserver", "127.0.0.1:9", *srv.verify_args(),
               "--only", "tls,http,perf", "--format", "json", "--samples", "5"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["exitCode"] == 0
    assert {f["status"] for f in doc["findings"]} <= {"PASS", "SKIPPED"}


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium not installed (.ci/run installs it)")
def test_lcp_in_chromium(web_world, exp):
    pytest.importorskip("playwright")
    srv = web_world.server("correct")
    rep = _audit(exp, srv, only=["lcp"], browser=shutil.which("chromium"), timeout=5.0, deadline=120.0)
    measured = [f for f in rep.findings if f.status is Status.PASS]
    assert measured, _not(rep, Status.PASS)
    assert all(0 < f.evidence["lcp_ms"] < 2500 for f in measured)
    assert any("hero" in f.evidence["element"] for f in measured), [f.evidence for f in measured]


def test_web_hosts_resolve_through_the_nameserver_when_not_pinned(world):
    """With --nameserver, a web host's address is the answer of that server (CNAMEs followed), never
    the system resolver's (the hermetic guard would fail this test); a pin still wins."""
    from worldkit.world import CF_A

    from verify.dnsclient import DnsClient
    from verify.webclient import WebClient, WebError

    web = WebClient(DnsClient(world.nameservers, timeout=2.0), connect_to={("api.example.com", 443): ("127.0.0.1", 8443)})
    assert web.address("app.example.com", 443) == (CF_A, 443)   # proxied: the edge address the zone serves
    assert web.address("api.example.com", 443) == ("127.0.0.1", 8443)
    with pytest.raises(WebError, match="no address"):
        web.address("nothing-here.example.com", 443)


def test_an_origin_locked_to_the_edge_must_refuse_direct_requests(web_world):
    """tls.authenticatedOriginPulls: a proxied host's origin that answers a direct request FAILs; one
    that refuses the connection passes. The origin address is pinned like any other name."""
    from worldkit.knot import free_port

    spec = parse_spec(read_stack_file(stack_path("example", STACKS)))
    locked = spec.model_copy(update={"tls": spec.tls.model_copy(update={"authenticated_origin_pulls": True})})
    exp = from_spec(locked, stack="example")
    srv = web_world.server("correct")
    origins = {h.origin for h in locked.hosts if h.proxied}
    open_pins = {**srv.pins(), **{(o, 443): ("127.0.0.1", srv.https_port) for o in origins}}
    rep = audit(exp, nameservers=DEAD_NS, connect_to=open_pins, ca_file=srv.ca_file, only=["origin-locked"])
    assert {f.status for f in rep.findings} == {Status.FAIL} and "directly" in rep.findings[0].message
    closed = {**srv.pins(), **{(o, 443): ("127.0.0.1", free_port()) for o in origins}}
    rep = audit(exp, nameservers=DEAD_NS, connect_to=closed, ca_file=srv.ca_file, only=["origin-locked"], timeout=1.0)
    assert {f.status for f in rep.findings} == {Status.PASS}
