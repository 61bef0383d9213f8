"""The portal judges over hand-made observations: no network."""
from __future__ import annotations

import pytest

from verify.checks import portalchecks, portalguards
from verify.model import Status
from verify.portalclient import MissingPassword, SignIn
from verify.portalexpect import Account, ObjectEndpoint, PortalExpectations, SessionShape, StateChange
from verify.probes.portalprobes import PortalObservation
from verify.registry import Item, Observations, key

pytestmark = pytest.mark.unit
PORTAL = key("portal")

EXP = PortalExpectations(
    base_url="https://app.example.com", api_base_url="https://api.example.com",
    session=SessionShape(cookie="__Host-portal_session", lifetime=28800),
    orgs=(("acme", "ACME-PROJECT-7731"), ("globex", "GLOBEX-PROJECT-4410")),
    accounts=(Account("acme-admin", "acme", "admin", "a@acme.test", "PW_A"),
              Account("globex-client", "globex", "client", "c@globex.test", "PW_G")),
    objects=(ObjectEndpoint("/api/projects/{id}", (("acme", "p-1"), ("globex", "p-2"))),),
    lists=("/api/projects",), admin_paths=("/api/admin/users",), csrf=(StateChange("POST", "/api/projects"),),
    flows=("/dashboard",), throttle=(10, 60))

GOOD_COOKIE = {"path": "/", "secure": "", "httponly": "", "samesite": "Lax", "max-age": "28800"}


def _signin(name, ok=True, before="", after="abc123", attrs=GOOD_COOKIE, location="/dashboard"):
    return SignIn(account=name, status=303, location=location, before=before, after=after, cookie_attrs=dict(attrs),
                  whoami=200 if ok else 401, ok=ok)


def _obs(**kw) -> PortalObservation:
    o = PortalObservation(signins={"acme-admin": _signin("acme-admin"), "globex-client": _signin("globex-client")})
    for k, v in kw.items():
        setattr(o, k, v)
    return o


def _judge(judge, target, o, data=EXP):
    return judge(Item(target, (PORTAL,), data=data), Observations.of({PORTAL: o}))


def test_login_and_missing_password():
    assert _judge(portalchecks.judge_login, "acme-admin", _obs()).status is Status.PASS
    bad = _obs(signins={"acme-admin": _signin("acme-admin", ok=False)})
    assert _judge(portalchecks.judge_login, "acme-admin", bad).status is Status.FAIL
    with pytest.raises(MissingPassword):
        _judge(portalchecks.judge_login, "acme-admin", _obs(signin_errors={"acme-admin": "PW_A is not set"}))


def test_fixation_cookie_lifetime_and_url():
    fixed = _obs(signins={"acme-admin": _signin("acme-admin", before="abc123", after="abc123")})
    assert _judge(portalchecks.judge_fixation, "acme-admin", fixed).status is Status.FAIL
    assert _judge(portalchecks.judge_fixation, "acme-admin", _obs()).status is Status.PASS
    js = _obs(signins={"acme-admin": _signin("acme-admin", attrs={**GOOD_COOKIE, "httponly": None})})
    js.signins["acme-admin"].cookie_attrs.pop("httponly")
    assert _judge(portalchecks.judge_session_cookie, "acme-admin", js).status is Status.FAIL
    forever = _obs(signins={"acme-admin": _signin("acme-admin", attrs={**GOOD_COOKIE, "max-age": str(10 * 365 * 86400)})})
    assert _judge(portalchecks.judge_lifetime, "acme-admin", forever).status is Status.FAIL
    leaky = _obs(redirect_after_login={"acme-admin": "/dashboard?session=0123456789abcdef"})
    r = _judge(portalchecks.judge_token_in_url, "acme-admin", leaky)
    assert r.status is Status.FAIL and "0123456789abcdef" not in r.message + repr(r.evidence)


def test_tenant_isolation():
    own = [{"viewer": "acme", "owner": "acme", "path": "/api/projects/{id}", "status": 200, "marker": True, "size": 90},
           {"viewer": "globex", "owner": "globex", "path": "/api/projects/{id}", "status": 200, "marker": True, "size": 90}]
    refused = own + [{"viewer": "acme", "owner": "globex", "path": "/api/projects/{id}", "status": 404, "marker": False, "size": 20}]
    assert _judge(portalchecks.judge_tenants, EXP.base_url, _obs(cross_reads=refused)).status is Status.PASS
    idor = own + [{"viewer": "acme", "owner": "globex", "path": "/api/projects/{id}", "status": 200, "marker": True, "size": 90}]
    r = _judge(portalchecks.judge_tenants, EXP.base_url, _obs(cross_reads=idor))
    assert r.status is Status.FAIL and "GLOBEX-PROJECT" not in r.message + repr(r.evidence)
    listed = _obs(cross_reads=own, list_reads=[{"viewer": "acme", "path": "/api/projects", "status": 200,
                                                "foreign": ["globex"], "own": True}])
    assert _judge(portalchecks.judge_tenants, EXP.base_url, listed).status is Status.FAIL
    nothing = [dict(r, status=403, marker=False) for r in own]
    with pytest.raises(ConnectionError):  # every read refused proves no boundary
        _judge(portalchecks.judge_tenants, EXP.base_url, _obs(cross_reads=nothing))


def test_logout_admin_csrf_cors():
    assert _judge(portalchecks.judge_logout, EXP.base_url, _obs(logout=[{"account": "a", "logout_status": 303,
                                                                       "replay_status": 200}])).status is Status.FAIL
    reads = [{"account": "globex-client", "role": "client", "admin": False, "path": "/api/admin/users", "status": 200},
             {"account": "acme-admin", "role": "admin", "admin": True, "path": "/api/admin/users", "status": 200}]
    assert _judge(portalguards.judge_admin, EXP.base_url, _obs(admin_reads=reads)).status is Status.FAIL
    reads[0]["status"] = 403
    assert _judge(portalguards.judge_admin, EXP.base_url, _obs(admin_reads=reads)).status is Status.PASS
    forged = [{"endpoint": "POST /api/projects", "variant": "no token", "status": 201}]
    assert _judge(portalguards.judge_csrf, EXP.base_url, _obs(csrf=forged)).status is Status.FAIL
    assert _judge(portalguards.judge_csrf, EXP.base_url, _obs(csrf_skipped="run with --active")).status is Status.SKIPPED
    cors = [{"path": "/api/projects", "origin": "null", "acao": "null", "credentials": True}]
    assert _judge(portalguards.judge_cors, EXP.base_url, _obs(cors=cors)).status is Status.FAIL


def test_enumeration_throttle_errors_latency():
    same = {"statuses": [401] * 3, "locations": [""] * 3, "bodies": ["h1"], "median_ms": 40.0}
    e = {"known": same, "unknown": dict(same)}
    assert _judge(portalguards.judge_enumeration, EXP.base_url, _obs(enumeration=e)).status is Status.PASS
    e2 = {**e, "unknown": {**same, "statuses": [404] * 3}}
    assert _judge(portalguards.judge_enumeration, EXP.base_url, _obs(enumeration=e2)).status is Status.FAIL
    e3 = {**e, "unknown": {**same, "median_ms": 400.0}}
    assert _judge(portalguards.judge_enumeration, EXP.base_url, _obs(enumeration=e3)).status is Status.FAIL
    never = {"attempts_allowed": 10, "window": 60, "statuses": [401] * 13, "throttled_after": None}
    assert _judge(portalguards.judge_throttle, EXP.base_url, _obs(throttle=never)).status is Status.FAIL
    ok = {**never, "statuses": [401] * 10 + [429], "throttled_after": 11}
    assert _judge(portalguards.judge_throttle, EXP.base_url, _obs(throttle=ok)).status is Status.PASS
    leak = [{"request": "POST /api/projects (malformed JSON)", "status": 500, "leaks": [("Python traceback", 1, "Traceback")],
             "foreign": []}]
    assert _judge(portalguards.judge_errors, EXP.base_url, _obs(errors=leak)).status is Status.FAIL
    slow = _obs(latency={"/dashboard": [700.0] * 20}, latency_status={"/dashboard": [200] * 20})
    r = portalguards.judge_latency(Item("https://app.example.com/dashboard", (PORTAL,), data=(EXP, "/dashboard")),
                                   Observations.of({PORTAL: slow}))
    assert r.status is Status.FAIL and r.evidence["p95_ms"] == 700.0


def test_active_probes_are_refused_on_production_unless_allowed():
    assert EXP.active_refused()
    from dataclasses import replace
    assert replace(EXP, allow_active_in_production=True).active_refused() is None
    assert replace(EXP, production=False).active_refused() is None
