"""verify's portal checks against the reference client portal (tests/worldkit/portal*.py) behind nginx.

The correct portal gives no FAIL, WARN or ERROR; each variant FAILs exactly its expected check id;
a missing password and a closed port give ERROR; state-changing probes need --active and, on a
production stack, portal.allowActiveInProduction. No password, cookie or marker reaches any format.
"""
from __future__ import annotations

import pytest
from worldkit.portalvariants import PORTAL_VARIANTS

from verify.audit import audit
from verify.expectations import from_spec
from verify.model import Status

pytestmark = pytest.mark.world
DEAD_NS = [("127.0.0.1", 9)]


def _run(srv, monkeypatch, *, spec=None, **kw):
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    kw.setdefault("only", ["portal"])
    kw.setdefault("active", True)
    kw.setdefault("samples", 10)
    kw.setdefault("connect_to", srv.pins())
    srv.reset_throttle()
    return audit(from_spec(spec or srv.spec(), stack="portal"), nameservers=DEAD_NS, ca_file=srv.ca_file, **kw)


def _others(rep, *ok):
    return [(f.id, f.target, f.status.value, f.message) for f in rep.findings if f.status not in ok]


def test_correct_portal_passes_every_journey(portal_world, monkeypatch):
    rep = _run(portal_world.server("correct"), monkeypatch)
    assert [o for o in _others(rep, Status.PASS) if o[0] != "portal-browser-journey"] == []  # --browser: own tests
    assert {f.id for f in rep.findings} >= {
        "portal-login", "portal-session-fixation", "portal-session-cookie", "portal-session-lifetime",
        "portal-token-in-url", "portal-logout", "portal-tenant-isolation", "portal-admin-roles", "portal-csrf",
        "portal-cors", "portal-user-enumeration", "portal-error-pages", "portal-login-throttle", "portal-latency"}
    assert rep.exit_code == 0


@pytest.mark.parametrize("variant", PORTAL_VARIANTS, ids=lambda v: v.name)
def test_each_weakness_fails_exactly_its_check(portal_world, monkeypatch, variant):
    rep = _run(portal_world.server(variant.name), monkeypatch)
    assert {f.id for f in rep.findings if f.status is Status.FAIL} == {variant.expected_fail}, _others(rep, Status.PASS)
    assert [f for f in rep.findings if f.status in (Status.ERROR, Status.WARN)] == []
    assert all(f.remediation for f in rep.findings if f.status is Status.FAIL)


def test_nothing_secret_or_private_in_any_format(portal_world, monkeypatch):
    from worldkit.portaldata import ORGS

    from infra.findings.render import RENDERERS

    for name in ("tenant-idor", "token-in-url", "fixation"):
        srv = portal_world.server(name)
        rep = _run(srv, monkeypatch)
        for fmt, render in RENDERERS.items():
            text = render(rep)
            assert not [p for p in srv.passwords.values() if p in text], (name, fmt)
            assert not [o.marker for o in ORGS if o.marker in text], (name, fmt)   # customer data: never echoed


def test_state_changing_probes_need_active_and_permission(portal_world, monkeypatch):
    srv = portal_world.server("csrf-unchecked")
    rep = _run(srv, monkeypatch, active=False)
    by = {f.id: f for f in rep.findings}
    assert by["portal-csrf"].status is Status.SKIPPED and "--active" in by["portal-csrf"].message
    assert by["portal-login-throttle"].status is Status.SKIPPED
    assert by["portal-user-enumeration"].status is Status.SKIPPED   # failed sign-ins count against lockouts
    production = srv.spec().model_copy(update={"portal": srv.spec().portal.model_copy(
        update={"allow_active_in_production": False})})
    rep = _run(srv, monkeypatch, spec=production)
    by = {f.id: f for f in rep.findings}
    assert by["portal-csrf"].status is Status.SKIPPED and "production" in by["portal-csrf"].message


def test_a_missing_password_is_error_naming_the_variable(portal_world, monkeypatch):
    srv = portal_world.server("correct")
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    first = srv.spec().portal.accounts[0]
    monkeypatch.delenv(first.password_env)
    srv.reset_throttle()
    rep = audit(from_spec(srv.spec(), stack="portal"), nameservers=DEAD_NS, connect_to=srv.pins(), ca_file=srv.ca_file,
                only=["portal-login"], active=True)
    (err,) = [f for f in rep.findings if f.target == first.name]
    assert err.status is Status.ERROR and first.password_env in err.message
    assert not [f for f in rep.findings if f.status is Status.FAIL]


def test_a_closed_portal_is_error_never_a_verdict(portal_world, monkeypatch):
    from worldkit.knot import free_port

    srv = portal_world.server("correct")
    closed = {k: ("127.0.0.1", free_port()) for k in srv.pins()}
    rep = _run(srv, monkeypatch, connect_to=closed, timeout=1.0, deadline=20.0)
    assert [f for f in rep.findings if f.status in (Status.PASS, Status.FAIL, Status.WARN)] == []
    assert rep.exit_code == 2
