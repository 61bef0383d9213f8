"""verify's cache checks against the reference portal behind a caching nginx (tests/worldkit/webcache.py).

The correct edge gives no FAIL, WARN or ERROR; each variant FAILs exactly its expected check id; the
poisoning probe needs --active; no password, marker or user name reaches any format; a missing password
and a closed edge give ERROR, never a verdict.
"""
from __future__ import annotations

import pytest
from worldkit.webcache import CACHE_VARIANTS

from verify.audit import audit
from verify.expectations import from_spec
from verify.model import Status

pytestmark = pytest.mark.world
DEAD_NS = [("127.0.0.1", 9)]
IDS = {"cache-static-assets", "cache-private-data", "cache-deception", "cache-poisoning"}


def _run(srv, monkeypatch, **kw):
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    kw.setdefault("only", ["cache"])
    kw.setdefault("active", True)
    kw.setdefault("connect_to", srv.pins())
    return audit(from_spec(srv.spec(), stack="portal"), nameservers=DEAD_NS, ca_file=srv.ca_file, **kw)


def _others(rep, *ok):
    return [(f.id, f.target, f.status.value, f.message) for f in rep.findings if f.status not in ok]


def test_the_correct_edge_raises_no_alarm(cache_world, monkeypatch):
    rep = _run(cache_world.server("correct"), monkeypatch)
    assert _others(rep, Status.PASS) == []
    assert {f.id for f in rep.findings} == IDS
    assert rep.exit_code == 0


@pytest.mark.parametrize("variant", CACHE_VARIANTS, ids=lambda v: v.name)
def test_each_weakness_fails_exactly_its_check(cache_world, monkeypatch, variant):
    rep = _run(cache_world.server(variant.name), monkeypatch)
    assert {f.id for f in rep.findings if f.status is Status.FAIL} == {variant.expected_fail}, _others(rep, Status.PASS)
    assert [f for f in rep.findings if f.status in (Status.ERROR, Status.WARN)] == []
    assert all(f.remediation for f in rep.findings if f.status is Status.FAIL)


def test_poisoning_is_opt_in(cache_world, monkeypatch):
    rep = _run(cache_world.server("unkeyed-xfh"), monkeypatch, active=False, only=["cache-poisoning"])
    assert {f.status for f in rep.findings} == {Status.SKIPPED}
    assert all("--active" in f.message for f in rep.findings)


def test_no_user_data_in_any_format(cache_world, monkeypatch):
    from worldkit.portaldata import ACCOUNTS, ORGS

    from infra.findings.render import RENDERERS

    for name in ("auth-html-cached", "api-cached", "deception-by-extension"):
        srv = cache_world.server(name)
        rep = _run(srv, monkeypatch)
        secrets = [*srv.passwords.values(), *(o.marker for o in ORGS), *(a.email for a in ACCOUNTS),
                   *(o.title for o in ORGS)]
        for fmt, render in RENDERERS.items():
            text = render(rep)
            assert not [s for s in secrets if s in text], (name, fmt)


def test_a_missing_password_is_error(cache_world, monkeypatch):
    srv = cache_world.server("correct")
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    for a in srv.spec().portal.accounts:
        monkeypatch.delenv(a.password_env)
    rep = audit(from_spec(srv.spec(), stack="portal"), nameservers=DEAD_NS, connect_to=srv.pins(), ca_file=srv.ca_file,
                only=["cache-private-data", "cache-deception"])
    assert {f.status for f in rep.findings} == {Status.ERROR}
    assert all("PORTAL_" in f.message for f in rep.findings)


def test_a_closed_edge_is_error_never_a_verdict(cache_world, monkeypatch):
    from worldkit.knot import free_port

    srv = cache_world.server("correct")
    closed = {k: ("127.0.0.1", free_port()) for k in srv.pins()}
    rep = _run(srv, monkeypatch, connect_to=closed, timeout=1.0, deadline=20.0)
    assert {f.status for f in rep.findings} == {Status.ERROR}
    assert rep.exit_code == 2
