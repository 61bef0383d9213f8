"""Mail variants against knotd and the HTTPS policy server (tests/worldkit/mailvariants.py): each
fails on its check for the right reason, and an MTA-STS host that cannot be reached stays ERROR."""
from __future__ import annotations

import socket
import threading

import pytest
from worldkit.mailvariants import MAIL_VARIANTS, MENTIONS
from worldkit.world import WEB_GROUPS, domain_for

from verify.audit import audit
from verify.model import Status

pytestmark = pytest.mark.world


def _run(world, exp, **kw):
    kw.setdefault("timeout", 2.0)
    kw.setdefault("deadline", 20.0)
    kw.setdefault("skip", WEB_GROUPS)  # the DNS world serves no web host (tests/verify/test_verify_web_world.py does)
    kw.setdefault("connect_to", world.connect_to())
    return audit(exp, nameservers=world.nameservers, ca_file=world.ca_file, **kw)


@pytest.mark.parametrize("variant", MAIL_VARIANTS, ids=lambda v: v.name)
def test_mail_variant_fails_for_the_right_reason(world, variant):
    rep = _run(world, world.domains[domain_for(variant.name)].exp)
    fails = [r for r in rep.findings if r.status is Status.FAIL]
    assert [r.id for r in fails] == [variant.expect_fail], [(r.id, r.message) for r in fails]
    (bad,) = fails
    assert MENTIONS[variant.name] in bad.message, bad.message
    assert bad.remediation and bad.evidence
    assert [r for r in rep.findings if r.status is Status.ERROR] == []


@pytest.mark.parametrize("name", ["mta-sts-cert-wrong-name", "mta-sts-cert-untrusted", "mta-sts-host-nxdomain"])
def test_unusable_policy_host_skips_mx_coverage(world, name):
    rep = _run(world, world.domains[domain_for(name)].exp, only=["mta-sts-mx"])
    (r,) = rep.findings
    assert r.status is Status.SKIPPED and "mta-sts-policy" in r.message


def test_wrong_name_remediation_names_the_host(world):
    d = domain_for("mta-sts-cert-wrong-name")
    rep = _run(world, world.domains[d].exp, only=["mta-sts-policy"])
    (r,) = rep.findings
    assert f"certificate for mta-sts.{d}" in r.remediation
    assert r.evidence["certificate_names"] == ["www.wrong-name.example.net"] and r.evidence["verify_code"] == 62


def test_correct_zone_policy_passes_with_the_test_ca(world):
    rep = _run(world, world.domains[domain_for(None)].exp, only=["mta-sts-policy", "dkim-cname-target"])
    assert {r.status for r in rep.findings} == {Status.PASS}, [(r.id, r.message) for r in rep.findings]


def test_policy_host_that_never_answers_is_error(world):
    """Accepts the connection, never speaks TLS: a timeout, could not check."""
    d = domain_for(None)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        rep = _run(world, world.domains[d].exp, timeout=0.5, only=["mta-sts-policy"],
                   connect_to={(f"mta-sts.{d}", 443): srv.getsockname()})
    finally:
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        srv.close()
    (r,) = rep.findings
    assert r.status is Status.ERROR and "could not fetch" in r.message and rep.exit_code == 2
