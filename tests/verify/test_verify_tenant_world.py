"""verify's tenant sweep against a real knotd and nginx on 127.0.0.1 (tests/worldkit/tenantworld.py): a
proxied wildcard group of 30 tenants with one exception and an explicit DNS-only group of 5.

The correct world passes every tenant-* check; each variant FAILs exactly its own id, naming exactly the
broken host, and leaves the others PASS; a closed port is ERROR, never a verdict. verify reaches every
tenant host through ONE curl-style empty-host pin and asks the world's knotd, never the system resolver.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from worldkit.tenantworld import WILD, TenantWorld

from verify.audit import audit
from verify.model import Status

pytestmark = pytest.mark.world
IDS = ("tenant-dns", "tenant-tls", "tenant-https", "tenant-exceptions")
WILDCARD, EXPLICIT = f"clients (*.{WILD})", "partners (<tenant>.example.com)"


@pytest.fixture(scope="module")
def tworld(tmp_path_factory):
    if not (shutil.which("knotd") or Path("/usr/sbin/knotd").exists()):
        pytest.fail("knotd not installed (Debian package 'knot'); .ci/run installs it")
    w = TenantWorld(tmp_path_factory.mktemp("tenant-world"))
    yield w
    w.stop()


def _audit(w: TenantWorld, dns: str = "correct", web: str = "correct", closed: bool = False, **kw):
    kw.setdefault("timeout", 2.0)
    return audit(w.exp, nameservers=[w.nameserver(dns)], connect_to=w.pins(web, closed=closed), ca_file=w.ca_file,
                 only=["tenants"], deadline=60.0, **kw)


def _by(rep) -> dict[tuple[str, str], object]:
    return {(f.id, f.target): f for f in rep.findings}


def test_the_correct_world_passes_every_tenant_check(tworld):
    rep = _audit(tworld)
    got = _by(rep)
    assert {k: f.status for k, f in got.items()} == {
        **{(i, WILDCARD): Status.PASS for i in IDS},
        **{(i, EXPLICIT): Status.PASS for i in IDS[:3]},
        ("tenant-exceptions", EXPLICIT): Status.SKIPPED,
    }, [(f.id, f.target, f.message) for f in rep.findings]
    assert got[("tenant-tls", WILDCARD)].message == "30 of 30 tenant hosts pass"
    assert got[("tenant-https", EXPLICIT)].message == "5 of 5 tenant hosts pass"
    assert got[("tenant-exceptions", WILDCARD)].message == "1 of 1 excepted names pass"
    assert rep.exit_code == 0


@pytest.mark.parametrize(("dns", "web", "check_id", "target", "host", "reason"), [
    ("correct", "bad-cert", "tenant-tls", WILDCARD, f"tenant00007.{WILD}", "certificate does not cover the name"),
    ("correct", "502", "tenant-https", WILDCARD, f"tenant00007.{WILD}", "GET / answered 502"),
    ("missing-record", "correct", "tenant-dns", EXPLICIT, "partner3.example.com", "does not exist (NXDOMAIN)"),
    ("exception-resolves", "correct", "tenant-exceptions", WILDCARD, f"admin.{WILD}", "the wildcard serves it"),
], ids=["bad-cert", "502", "missing-record", "exception-resolves"])
def test_each_fault_fails_exactly_its_check_naming_exactly_that_host(tworld, dns, web, check_id, target, host, reason):
    rep = _audit(tworld, dns=dns, web=web)
    fails = [f for f in rep.findings if f.status is Status.FAIL]
    assert [(f.id, f.target) for f in fails] == [(check_id, target)], [(f.id, f.target, f.message) for f in rep.findings]
    (f,) = fails
    assert [h["host"] for h in f.evidence["failing"]] == [host]
    assert reason in f.evidence["failing"][0]["reason"] and f"failing: {host} (" in f.message
    assert f.remediation
    others = [x for x in rep.findings if x is not f]
    assert {x.status for x in others} <= {Status.PASS, Status.SKIPPED}, [(x.id, x.target, x.message) for x in others]
    assert rep.exit_code == 1


def test_a_closed_port_is_error_never_a_verdict(tworld):
    rep = _audit(tworld, closed=True, timeout=1.0)
    got = _by(rep)
    for target in (WILDCARD, EXPLICIT):
        for cid in ("tenant-tls", "tenant-https"):
            f = got[(cid, target)]
            assert f.status is Status.ERROR, (cid, target, f.message)
            assert f.message.startswith("could not check ") and f.evidence["unchecked"] == f.evidence["total"]
        assert got[("tenant-dns", target)].status is Status.PASS   # the zone is right: DNS is still judged
    assert not [f for f in rep.findings if f.status is Status.FAIL]
    assert rep.exit_code == 2


def test_the_summary_reaches_every_format_and_the_handover_report(tworld, tmp_path):
    """The summary and the failing host reach console, text, JSON, SARIF, JUnit and Markdown (as the command
    line writes them) and the HTML and Markdown handover report."""
    from verify.cli import run_and_render

    ns = tworld.nameserver("correct")
    port = tworld.https_port("bad-cert")
    bad = f"tenant00007.{WILD}"
    for fmt in ("console", "text", "json", "sarif", "junit", "md"):
        out = tmp_path / f"verify.{fmt}"
        rc = run_and_render(tworld.exp, fmt, output=str(out), nameservers=[ns], connect_to={("", 443): ("127.0.0.1", port)},
                            ca_file=tworld.ca_file, only=["tenants"], timeout=2.0, deadline=60.0)
        text = out.read_text()
        assert rc == 1, fmt
        assert "29 of 30 tenant hosts pass" in text and bad in text, fmt
    doc = json.loads((tmp_path / "verify.json").read_text())
    (tls,) = [f for f in doc["findings"] if f["id"] == "tenant-tls" and f["status"] == "FAIL"]
    assert tls["evidence"]["failing"][0]["host"] == bad and tls["evidence"]["total"] == 30
    # the handover report, as `launchready report --results DIR --format html` builds it
    from infra.report.build import build_report
    from infra.report.collect import from_dir
    from infra.report.formats import render

    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(tmp_path / "verify.json", results / "verify.json")
    combined = build_report(tworld.spec, "tenants", "stacks/Pulumi.tenants.yaml", from_dir(str(results), "tenants"), {})
    for fmt in ("html", "md"):
        page = render(combined, fmt)
        assert "29 of 30 tenant hosts pass" in page and bad in page, fmt
