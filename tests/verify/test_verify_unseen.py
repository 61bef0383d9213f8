"""verify against zones misconfigured the way real ones are (tests/worldkit/realworld.py), correct
zones of another legal shape, and nameservers that fail in the ways real ones do."""
from __future__ import annotations

import time

import pytest
from worldkit.faulty import FaultyDnsServer
from worldkit.realworld import REALWORLD
from worldkit.world import WEB_GROUPS, domain_for

from verify.audit import audit
from verify.model import Status

pytestmark = pytest.mark.world


def _run(world, exp, **kw):
    kw.setdefault("timeout", 2.0)
    kw.setdefault("deadline", 20.0)
    kw.setdefault("skip", WEB_GROUPS)  # the DNS world serves no web host (tests/verify/test_verify_web_world.py does)
    return audit(exp, nameservers=world.nameservers, connect_to=world.connect_to(), ca_file=world.ca_file, **kw)


@pytest.mark.parametrize("case", REALWORLD, ids=lambda c: c.name)
def test_real_world_zone(world, case):
    rep = _run(world, world.domains[domain_for(case.name)].exp)
    fails = [r for r in rep.findings if r.status is Status.FAIL]
    errors = [(r.id, r.message) for r in rep.findings if r.status is Status.ERROR]
    assert errors == []
    assert {r.id for r in fails} == case.expect_fail, [(r.id, r.message) for r in fails]
    if not case.expect_fail:
        assert rep.exit_code == 0
        assert [(r.id, r.message) for r in rep.findings if r.status is Status.WARN] == []
        return
    assert rep.exit_code == 1
    for r in fails:
        assert r.remediation and r.evidence, (r.id, r.message)
    assert any(case.mentions.lower() in r.message.lower() for r in fails), [r.message for r in fails]


@pytest.mark.parametrize("mode", ["slow", "silent", "garbled", "truncated", "formerr"])
def test_broken_nameserver_is_error_within_deadline(world, mode):
    """A nameserver that answers too late, never, with junk, only truncated, or FORMERR: every check
    that needs it is ERROR (exit 2) with the reason, none is a verdict, and the deadline holds."""
    exp = world.domains[domain_for(None)].exp
    with FaultyDnsServer(mode, delay=3.0, zone_server=tuple(world.nameservers[0])) as srv:
        t = time.monotonic()
        rep = audit(exp, nameservers=[srv.address], timeout=0.5, deadline=4.0,
                    connect_to={}, ca_file=world.ca_file)
        elapsed = time.monotonic() - t
    assert elapsed < 4.0 + 3.0  # the deadline plus slack for a loaded CI machine
    verdicts = [(r.id, r.status.value) for r in rep.findings if r.status.is_verdict]
    assert verdicts == []
    errors = [r for r in rep.findings if r.status is Status.ERROR]
    assert errors and rep.exit_code == 2
    assert all(r.error_type and r.message.startswith("could not check") for r in errors)
    word = {"slow": "timeout", "silent": "timeout", "garbled": "timeout", "truncated": "truncated",
            "formerr": "FORMERR"}[mode]
    assert any(word in r.message for r in errors), {r.message for r in errors}


def test_cli_deadline_against_slow_server(capsys):
    """`--deadline` bounds the run even when every query would take longer than it."""
    from pathlib import Path

    from verify.cli import main
    stacks = Path(__file__).resolve().parents[2] / "stacks"
    main(["--stack", "example", "--stacks-dir", str(stacks), "--list"])  # import everything first
    capsys.readouterr()
    with FaultyDnsServer("slow", delay=10.0) as srv:
        t = time.monotonic()
        rc = main(["--stack", "example", "--stacks-dir", str(stacks), "--nameserver", f"127.0.0.1:{srv.port}",
                   "--timeout", "3", "--deadline", "1.5", "--format", "json"])
        elapsed = time.monotonic() - t
    import json
    doc = json.loads(capsys.readouterr().out)
    assert rc == 2 and doc["subject"]["deadline_hit"] is True
    assert {r["status"] for r in doc["findings"]} <= {"ERROR", "SKIPPED"}
    # the deadline plus loading the stack and slack; still less than two 3 s query timeouts back to back
    assert elapsed < 1.5 + 4.0
