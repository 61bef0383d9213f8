"""verify against a real knotd: the correct zone passes, each misconfiguration fails on exactly its
check id, broken servers give ERROR (exit 2) within the deadline."""
from __future__ import annotations

import json
import time

import pytest
from worldkit.knot import free_port
from worldkit.world import REFUSED_DOMAIN, SERVFAIL_DOMAIN, VARIANTS, WEB_GROUPS, domain_for, world_expectations

from verify.audit import audit
from verify.model import Status

pytestmark = pytest.mark.world


def _run(world, exp, **kw):
    kw.setdefault("timeout", 2.0)
    kw.setdefault("deadline", 20.0)
    kw.setdefault("skip", WEB_GROUPS)  # the DNS world serves no web host (tests/verify/test_verify_web_world.py does)
    return audit(exp, nameservers=world.nameservers, connect_to=world.connect_to(), ca_file=world.ca_file, **kw)


def _by_status(rep, status):
    return [(r.id, r.target, r.message) for r in rep.findings if r.status is status]


def test_correct_zone_all_pass(world):
    exp = world.domains[domain_for(None)].exp
    rep = _run(world, exp)
    assert _by_status(rep, Status.FAIL) == [] and _by_status(rep, Status.ERROR) == []
    assert _by_status(rep, Status.WARN) == []
    assert rep.exit_code == 0
    passed = {r.id for r in rep.findings if r.status is Status.PASS}
    # every DNS and mail area was really judged, not skipped
    for cid in ("dns-record-present", "dns-record-content", "dns-record-ttl", "dns-caa", "dnssec",
                "dns-dangling-cname", "dns-proxied-edge-only", "spf-valid", "spf-lookups", "spf-strict-all", "spf-providers",
                "dkim-present", "dkim-not-revoked", "dkim-key-strength", "dkim-cname-target", "dmarc-record",
                "dmarc-policy", "dmarc-rua", "dmarc-rua-authorized", "mx", "mta-sts-record", "mta-sts-policy",
                "mta-sts-mx", "tls-rpt", "non-sending-null-mx", "non-sending-spf", "non-sending-dmarc",
                "dkim-key-match", "dkim-key-usable", "mx-hosts", "mail-from-mx"):
        assert cid in passed, cid
    for r in rep.findings:
        if r.status is Status.SKIPPED:
            assert r.message  # a reason is always given


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_each_misconfiguration_fails_exactly_its_check(world, variant):
    exp = world.domains[domain_for(variant.name)].exp
    rep = _run(world, exp)
    fails = _by_status(rep, Status.FAIL)
    assert {f[0] for f in fails} == {variant.expect_fail}, fails
    assert len(fails) == 1, fails
    assert _by_status(rep, Status.ERROR) == []
    (bad,) = [r for r in rep.findings if r.status is Status.FAIL]
    assert bad.remediation and bad.message and bad.evidence
    assert rep.exit_code == 1


def test_dead_nameserver_is_error_exit_2_within_deadline(world):
    exp = world.domains[domain_for(None)].exp
    port = free_port()  # nothing listens there
    t = time.monotonic()
    rep = audit(exp, nameservers=[("127.0.0.1", port)], timeout=0.5, deadline=6.0, ca_file=world.ca_file,
                skip=WEB_GROUPS)
    assert time.monotonic() - t < 6.0 + 3.0  # the deadline plus slack for a loaded CI machine
    assert _by_status(rep, Status.FAIL) == [] and _by_status(rep, Status.PASS) == []
    errors = [r for r in rep.findings if r.status is Status.ERROR]
    assert errors and rep.exit_code == 2
    assert any("timeout" in r.message for r in errors)


@pytest.mark.parametrize("domain,word", [(SERVFAIL_DOMAIN, "SERVFAIL"), (REFUSED_DOMAIN, "REFUSED")])
def test_servfail_and_refused_are_errors_with_reason(world, domain, word):
    _spec, exp = world_expectations(domain, stacks_dir=world_stacks())
    t = time.monotonic()
    rep = audit(exp, nameservers=world.nameservers, timeout=1.0, deadline=10.0, skip=WEB_GROUPS)
    assert time.monotonic() - t < 10.0 + 3.0  # the deadline plus slack for a loaded CI machine
    assert _by_status(rep, Status.FAIL) == []
    # no verdict about the broken zone; third-party names it points at (MX hosts) still answer
    assert [p for p in _by_status(rep, Status.PASS) if p[1].endswith(domain)] == []
    errors = [r for r in rep.findings if r.status is Status.ERROR]
    assert errors and rep.exit_code == 2
    dns_errors = [r for r in errors if r.id in ("dns-record-present", "spf-valid", "dmarc-record", "dnssec")]
    assert dns_errors and all(word in r.message for r in dns_errors), [r.message for r in dns_errors]
    assert all(r.error_type for r in errors)


def test_mta_sts_policy_unreachable_is_error_not_fail(world):
    d = domain_for(None)
    closed = free_port()
    rep = audit(world.domains[d].exp, nameservers=world.nameservers, timeout=1.0, deadline=10.0,
                connect_to={(f"mta-sts.{d}", 443): ("127.0.0.1", closed)}, ca_file=world.ca_file, skip=WEB_GROUPS)
    by = {r.id: r for r in rep.findings}
    assert by["mta-sts-policy"].status is Status.ERROR and "could not fetch" in by["mta-sts-policy"].message
    assert by["mta-sts-mx"].status is Status.ERROR
    assert by["mta-sts-record"].status is Status.PASS
    assert _by_status(rep, Status.FAIL) == [] and rep.exit_code == 2


def test_mta_sts_untrusted_certificate_is_fail(world):
    """Without the test CA the server's certificate chains to nothing the client trusts: senders
    validate against public roots, so that is a FAIL naming the fault, not a could-not-check."""
    d = domain_for(None)
    rep = audit(world.domains[d].exp, nameservers=world.nameservers, timeout=1.0, deadline=10.0,
                connect_to=world.connect_to(), only=["mta-sts-policy"])
    (r,) = rep.findings
    assert r.status is Status.FAIL and "cannot verify" in r.message and f"mta-sts.{d}" in r.message
    assert r.evidence["certificate_names"] and "public CA" in r.remediation


def test_only_and_skip(world):
    exp = world.domains[domain_for("spf-plus-all")].exp
    rep = _run(world, exp, only=["dns"])
    assert {r.area for r in rep.findings} == {"dns"} and rep.exit_code == 0
    rep = _run(world, exp, skip=["spf-strict-all", *WEB_GROUPS])
    assert "spf-strict-all" not in {r.id for r in rep.findings} and rep.exit_code == 0


def world_stacks():
    from pathlib import Path
    return Path(__file__).resolve().parents[2] / "stacks"


# ------------------------------------------------------------------ the command line, end to end

def _cli(argv, capsys):
    from verify.cli import main
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_json_against_world(world, capsys, tmp_path):
    """`launchready verify --stack example --nameserver ... --outputs ...`, the way a user pins a zone."""
    from worldkit.world import ses_tokens
    ns = f"127.0.0.1:{world.knot.port}"
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"sesDkimTokens": ses_tokens("example.com"), "dbPassword": "[secret]"}))
    rc, out, err = _cli(["--stack", "example", "--stacks-dir", str(world_stacks()), "--nameserver", ns,
                         "--outputs", str(outputs), "--connect-to", f"mta-sts.example.com:443:127.0.0.1:{world.policy_server.port}",
                         "--ca-file", world.ca_file, "--format", "json", "--timeout", "2",
                         # the example stack's Google DKIM key is a placeholder that does not parse;
                         # the world publishes a real key instead, so the two cannot match
                         "--skip", "dkim-key-match", "--skip", ",".join(WEB_GROUPS)], capsys)
    doc = json.loads(out)
    import jsonschema

    from infra.findings.render.jsonfmt import json_schema
    jsonschema.validate(doc, json_schema())
    assert doc["command"] == "verify" and doc["subject"]["domain"] == "example.com" and doc["subject"]["nameservers"] == [ns]
    statuses = {r["status"] for r in doc["findings"]}
    assert "FAIL" not in statuses and "ERROR" not in statuses, doc["findings"]
    assert rc == 0 and doc["exitCode"] == 0
    passed = {r["id"] for r in doc["findings"] if r["status"] == "PASS"}
    assert {"dnssec", "dkim-cname-target", "spf-strict-all", "dmarc-policy", "mta-sts-mx", "tls-rpt"} <= passed


def test_cli_console_dead_server_exit_2(capsys):
    rc, out, err = _cli(["--stack", "example", "--stacks-dir", str(world_stacks()), "--nameserver",
                         f"127.0.0.1:{free_port()}", "--timeout", "0.3", "--deadline", "5", "--only", "dns"], capsys)
    assert rc == 2
    assert "ERROR" in out and "Traceback" not in out + err


@pytest.mark.parametrize("argv,needle", [
    (["--stack", "no-such-stack"], "stack file not found"),
    (["--stack", "example", "--nameserver", "ns1.example.net"], "bad --nameserver"),
    (["--stack", "example", "--nameserver", "127.0.0.1:99999"], "port must be"),
    (["--stack", "example", "--outputs", "/nonexistent/outputs.json"], "cannot read --outputs"),
    (["--stack", "example", "--only", "spf-strikt-all"], "unknown check or group"),
])
def test_cli_bad_input_one_line_exit_2(argv, needle, capsys):
    rc, out, err = _cli([*argv, "--stacks-dir", str(world_stacks())], capsys)
    assert rc == 2 and needle in err and "Traceback" not in err


def test_cli_ci_formats_against_world(world, capsys, tmp_path):
    """`launchready verify --format sarif|junit|md|text --output FILE` against the world's zone: SARIF
    validates against the 2.1.0 schema, every format reports the same exit code as the command."""
    from pathlib import Path
    from xml.etree import ElementTree as ET

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "policies" / "sarif-schema-2.1.0.json").read_text())
    ns = f"127.0.0.1:{world.knot.port}"
    base = ["--stack", "example", "--stacks-dir", str(world_stacks()), "--nameserver", ns, "--timeout", "2",
            "--only", "dns", "--skip", "dnssec"]
    out = {}
    for fmt in ("sarif", "junit", "md", "text"):
        target = tmp_path / f"verify.{fmt}"
        rc, _stdout, err = _cli([*base, "--format", fmt, "--output", str(target)], capsys)
        out[fmt] = (rc, target.read_text())
    rc, sarif = out["sarif"]
    doc = json.loads(sarif)
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert {r["kind"] for r in results} <= {"pass", "fail", "open", "notApplicable"}
    assert doc["runs"][0]["invocations"][0]["exitCode"] == rc
    assert any(r["kind"] == "pass" for r in results)
    root = ET.fromstring(out["junit"][1].split("\n", 1)[1])
    assert int(root.get("tests")) >= 5 and out["junit"][0] == rc
    assert out["md"][1].startswith("## launchready verify: example.com") and f"exit {rc}" in out["md"][1]
    assert f"exit {rc}" in out["text"][1]


@pytest.mark.parametrize("case", ["not-delegated", "refused", "unreachable"])
def test_one_root_cause_first_and_the_rest_marked(world, case):
    """An undelegated zone, a nameserver that refuses it and one that never answers each give ONE root
    cause (dns-zone-served), first; every other DNS/mail result about the zone is marked as following
    from it instead of repeating it as a finding of its own."""
    domain, nameservers = {"not-delegated": ("undelegated.com", world.nameservers),
                           "refused": (REFUSED_DOMAIN, world.nameservers),
                           "unreachable": ("example.com", [("127.0.0.1", free_port())])}[case]
    _spec, exp = world_expectations(domain, stacks_dir=world_stacks())
    rep = audit(exp, nameservers=nameservers, timeout=0.5, deadline=10.0, skip=WEB_GROUPS)
    root = rep.findings[0]
    assert root.id == "dns-zone-served" and not root.cause
    assert root.status is (Status.FAIL if case == "not-delegated" else Status.ERROR)
    assert {"not-delegated": "NXDOMAIN", "refused": "REFUSED", "unreachable": "timeout"}[case] in root.message
    bad = [f for f in rep.findings[1:] if f.status in (Status.FAIL, Status.ERROR) and f.target.rstrip(".").endswith(domain)]
    assert len(bad) > 10 and all(f.cause == "dns-zone-served" for f in bad), [f.id for f in bad if not f.cause]
    from infra.findings.render import RENDERERS
    text = RENDERERS["text"](rep)
    assert f"{len([f for f in rep.findings if f.cause])} result(s) follow from dns-zone-served" in text


def test_a_served_zone_has_no_root_cause(world):
    rep = _run(world, world.domains[domain_for(None)].exp)
    assert rep.findings[0].id == "dns-zone-served" and rep.findings[0].status is Status.PASS
    assert not [f for f in rep.findings if f.cause]


def test_a_cname_loop_is_one_fail_naming_it_and_the_rest_say_so(world):
    rep = _run(world, world.domains[domain_for("cname-loop")].exp)
    d = domain_for("cname-loop")
    fails = [r for r in rep.findings if r.status is Status.FAIL]
    assert [r.id for r in fails] == ["dns-dangling-cname"], [(r.id, r.message) for r in fails]
    (loop,) = fails
    assert f"status.{d} -> loop.{d} -> status.{d}" in loop.message and loop.remediation
    errors = [r for r in rep.findings if r.status is Status.ERROR]
    assert errors and all("CNAME loop" in r.message and r.cause == "dns-dangling-cname" for r in errors), \
        [(r.id, r.message, r.cause) for r in errors]
    assert not [r for r in rep.findings if r.status is not Status.PASS and "is missing" in r.message]
