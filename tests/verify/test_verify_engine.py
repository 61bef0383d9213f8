"""The engine: registry, selection, concurrency, timeouts, deadline, exceptions -> ERROR, exit codes."""
from __future__ import annotations

import socket
import time

import pytest

from infra.findings import exit_code
from verify import engine
from verify.engine import Check, Item, NotApplicable, Observations, ProbeFailed, key
from verify.model import Status, passed, result

pytestmark = pytest.mark.unit


@engine.probe("test-sleep")
def _sleep_probe(ctx, seconds):
    time.sleep(seconds)
    return seconds


@engine.probe("test-boom")
def _boom_probe(ctx, what):
    raise ConnectionResetError(f"boom {what}")


# probes are listed explicitly (declaring one with @probe registers nothing)
TEST_PROBES = engine.probes_by_kind([_sleep_probe, _boom_probe])


def _mk(id_, needs, judge=None, group="test"):
    return Check(id=id_, group=group, title=id_, plan=lambda exp: [Item(id_, tuple(needs))],
                 judge=judge or (lambda item, obs: passed("ok", v=[obs[k] for k in item.needs])))


def test_probes_run_concurrently_and_are_deduplicated():
    calls = []

    @engine.probe("test-count")
    def _count(ctx, n):
        calls.append(n)
        time.sleep(0.5)
        return n

    checks = [_mk(f"c{i}", [key("test-count", i % 4)]) for i in range(8)]
    t = time.monotonic()
    rep = engine.run(checks, None, None, engine.RunOptions(probe_timeout=5, deadline=10),
                     probes=engine.probes_by_kind([_count]))
    # 4 distinct probes of 0.5 s: one after the other they take at least 2.0 s; concurrently about 0.5 s
    assert time.monotonic() - t < 4 * 0.5 - 0.1
    assert sorted(calls) == [0, 1, 2, 3]
    assert all(r.status is Status.PASS for r in rep.findings)


def test_probe_exception_becomes_error_with_type_and_no_verdict():
    rep = engine.run([_mk("x", [key("test-boom", "a")])], None, None, probes=TEST_PROBES)
    (r,) = rep.findings
    assert r.status is Status.ERROR and r.error_type == "ConnectionResetError"
    assert "boom a" in r.message and rep.exit_code == 2


def test_judge_exception_becomes_error():
    def bad(item, obs):
        raise KeyError("nope")
    rep = engine.run([_mk("x", [], judge=bad)], None, None)
    assert rep.findings[0].status is Status.ERROR and rep.findings[0].error_type == "KeyError"


def test_per_probe_timeout_and_overall_deadline():
    checks = [_mk("slow", [key("test-sleep", 3.0)]), _mk("fast", [key("test-sleep", 0.01)])]
    t = time.monotonic()
    rep = engine.run(checks, None, None, engine.RunOptions(probe_timeout=0.3, deadline=5), probes=TEST_PROBES)
    assert time.monotonic() - t < 2.5  # the 0.3 s probe timeout plus slack, still short of the 3 s probe
    by = {r.id: r for r in rep.findings}
    assert by["slow"].status is Status.ERROR and by["slow"].error_type == "ProbeTimeout"
    assert by["fast"].status is Status.PASS
    t = time.monotonic()
    rep = engine.run(checks, None, None, engine.RunOptions(probe_timeout=10, deadline=0.4), probes=TEST_PROBES)
    assert time.monotonic() - t < 2.5 and rep.subject["deadline_hit"]  # the 0.4 s deadline plus slack
    assert {r.id: r.status for r in rep.findings}["slow"] is Status.ERROR


def test_not_applicable_is_skipped_not_pass():
    c = Check(id="na", group="test", title="na", plan=lambda e: NotApplicable("nothing declared"),
              judge=lambda i, o: passed("never"))
    ok = Check(id="ok", group="test", title="ok", plan=lambda e: [Item("t")], judge=lambda i, o: passed("fine"))
    rep = engine.run([c, ok], None, None)
    assert rep.findings[0].status is Status.SKIPPED and rep.exit_code == 0
    # only SKIPPED: nothing was checked, which is not "all passed"
    rep = engine.run([c], None, None)
    assert rep.findings[0].status is Status.SKIPPED and rep.exit_code == 2


def test_select_only_skip_by_id_and_group():
    reg = {c.id: c for c in [_mk("a", [], group="g1"), _mk("b", [], group="g1"), _mk("c", [], group="g2")]}
    assert [c.id for c in engine.select(reg, only=["g1"])] == ["a", "b"]
    assert [c.id for c in engine.select(reg, skip=["g1"])] == ["c"]
    assert [c.id for c in engine.select(reg, only=["g1"], skip=["b"])] == ["a"]
    with pytest.raises(engine.SelectionError):
        engine.select(reg, only=["typo"])


def test_registry_ids_are_stable_kebab_case_and_grouped():
    checks = engine.load_all()
    for cid, c in checks.items():
        assert cid == c.id and cid == cid.lower() and "_" not in cid and " " not in cid
        assert c.group in ("dns", "mail", "tls", "http", "perf", "cache", "tenants", "aws", "portal", "test")
    for expected in ("dns-record-present", "dns-caa", "dnssec", "dns-dangling-cname", "spf-strict-all",
                     "spf-lookups", "dkim-key-strength", "dmarc-policy", "mta-sts-mx", "tls-rpt"):
        assert expected in checks


def test_exit_codes():
    def r(s):
        return result("x", "g", "t", s, "m")
    assert exit_code([r(Status.PASS), r(Status.SKIPPED), r(Status.WARN)]) == 0
    assert exit_code([r(Status.PASS), r(Status.ERROR)]) == 2
    assert exit_code([r(Status.ERROR), r(Status.FAIL)]) == 1


def test_observations_raise_for_failed_probe():
    obs = Observations.of({key("k", 1): TimeoutError("slow")})
    with pytest.raises(ProbeFailed):
        obs[key("k", 1)]


def test_hermetic_guard_trips(hermetic_violations):
    """The session guard refuses non-loopback connects and system-resolver lookups."""
    before = len(hermetic_violations)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(OSError, match="hermetic guard"):
            s.sendto(b"x", ("192.0.2.1", 53))
        with pytest.raises(OSError, match="hermetic guard"):
            s.connect(("8.8.8.8", 53))
    finally:
        s.close()
    with pytest.raises(OSError, match="hermetic guard"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(OSError, match="hermetic guard"):
        socket.create_connection(("203.0.113.5", 443), timeout=0.1)
    assert len(hermetic_violations) - before == 4
    socket.getaddrinfo("127.0.0.1", 53)  # loopback literals are fine
    del hermetic_violations[before:]  # proven; do not fail this test
