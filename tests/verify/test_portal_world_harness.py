"""The portal world proves itself before verify's portal checks are judged against it: with plain httpx
(pinned to 127.0.0.1, SNI + Host, verified against the world CA) each variant shows its one weakness
and the correct portal shows none; the correct portal's journeys in detail; the stack file it writes;
fast start, clean stop."""
from __future__ import annotations

import os
import secrets
import socket
import statistics
import time

import pytest
from worldkit import portal
from worldkit.portal import PortalWorld
from worldkit.portalclient import (
    API,
    APP,
    call,
    cookie_attrs,
    cookie_value,
    form_login,
    form_post,
    json_login,
    login_page,
    set_cookie,
)
from worldkit.portaldata import ACCOUNTS, OBJECT_IDS, ORGS, SESSION_COOKIE
from worldkit.portalvariants import PORTAL_VARIANTS

pytestmark = pytest.mark.world
portal_world = portal.portal_world  # the session fixture (tests/worldkit/portal.py)

MARKERS = {o.name: o.marker for o in ORGS}


# ----------------------------------------------------------------- one probe per weakness: True = present

def _idor(srv) -> bool:
    s = form_login(srv, "acme-operator")
    r = call(srv, "GET", API + f"/api/projects/{OBJECT_IDS['globex']}", s.sid)
    return r.status_code == 200 or MARKERS["globex"] in r.text


def _admin_open(srv) -> bool:
    s = form_login(srv, "acme-operator")
    return call(srv, "GET", API + "/api/admin/users", s.sid).status_code == 200


def _logout_keeps(srv) -> bool:
    s = form_login(srv, "globex-client")
    r = call(srv, "POST", APP + "/logout", s.sid)
    assert r.status_code == 302 and cookie_attrs(set_cookie(r))["max-age"] == "0"
    return call(srv, "GET", API + "/api/me", s.sid).status_code == 200


def _js_readable(srv) -> bool:
    pre = set_cookie(call(srv, "GET", APP + "/login"))
    signed = set_cookie(form_login(srv, "acme-admin").login_response)
    return any("httponly" not in cookie_attrs(c) for c in (pre, signed))


def _forever(srv) -> bool:
    header = set_cookie(form_login(srv, "acme-admin").login_response)
    return int(cookie_attrs(header).get("max-age", "0")) > 28800 or "expires" in cookie_attrs(header)


def _fixation(srv) -> bool:
    s = form_login(srv, "acme-admin")
    return s.pre_sid is not None and s.sid == s.pre_sid


def _csrf_unchecked(srv) -> bool:
    s = form_login(srv, "acme-manager")
    body = {"name": "launchready-probe"}
    no_token = call(srv, "POST", API + "/api/projects", s.sid, json=body)
    wrong = call(srv, "POST", API + "/api/projects", s.sid, json=body, headers={"X-CSRF-Token": "x" * 43})
    return no_token.status_code < 400 or wrong.status_code < 400


def _enumerates(srv) -> bool:
    known = json_login(srv, srv.account("globex-admin").email, "wrong-" + secrets.token_hex(4))
    unknown = json_login(srv, f"nobody-{secrets.token_hex(4)}@example.com", "wrong-" + secrets.token_hex(4))
    pre, csrf = login_page(srv)
    f_known = form_post(srv, srv.account("globex-admin").email, "wrong", pre, csrf)
    f_unknown = form_post(srv, "nobody@example.com", "wrong", pre, csrf)
    srv.reset_throttle()
    return (known.status_code, known.content) != (unknown.status_code, unknown.content) or \
        (f_known.status_code, f_known.content) != (f_unknown.status_code, f_unknown.content)


def _no_throttle(srv) -> bool:
    email = f"throttle-{secrets.token_hex(4)}@example.com"
    statuses = [json_login(srv, email, "wrong").status_code for _ in range(12)]
    return 429 not in statuses


def _stack_trace(srv) -> bool:
    s = form_login(srv, "acme-admin")
    r = call(srv, "POST", API + "/api/projects", s.sid, content=b"{not json",
             headers={"Content-Type": "application/json", "X-CSRF-Token": s.csrf})
    return r.status_code >= 500 or "Traceback" in r.text


def _slow(srv) -> bool:
    s = form_login(srv, "globex-admin")
    start = time.monotonic()
    r = call(srv, "GET", APP + "/dashboard", s.sid)
    assert r.status_code == 200
    return time.monotonic() - start >= 0.5


def _token_in_url(srv) -> bool:
    s = form_login(srv, "acme-admin")
    loc = s.login_response.headers["location"]
    return "session=" in loc or s.sid in loc


PROBES = {
    "portal-tenant-isolation": _idor,
    "portal-admin-roles": _admin_open,
    "portal-logout": _logout_keeps,
    "portal-session-cookie": _js_readable,
    "portal-session-lifetime": _forever,
    "portal-session-fixation": _fixation,
    "portal-csrf": _csrf_unchecked,
    "portal-user-enumeration": _enumerates,
    "portal-login-throttle": _no_throttle,
    "portal-error-pages": _stack_trace,
    "portal-latency": _slow,
    "portal-token-in-url": _token_in_url,
}


def test_every_variant_has_a_probe_and_a_unique_name():
    assert {v.expected_fail for v in PORTAL_VARIANTS} == set(PROBES)
    assert len({v.name for v in PORTAL_VARIANTS}) == len(PORTAL_VARIANTS)


@pytest.mark.parametrize("variant", PORTAL_VARIANTS, ids=lambda v: v.name)
def test_each_variant_shows_exactly_its_weakness(portal_world, variant):
    srv = portal_world.server(variant.name)
    shown = {cid for cid, probe in PROBES.items() if probe(srv)}
    srv.reset_throttle()
    assert shown == {variant.expected_fail}


def test_correct_portal_shows_no_weakness(portal_world):
    srv = portal_world.server("correct")
    assert {cid for cid, probe in PROBES.items() if probe(srv)} == set()
    srv.reset_throttle()


# ----------------------------------------------------------------- the correct portal, in detail

def test_every_account_signs_in_and_sees_only_its_org(portal_world):
    srv = portal_world.server("correct")
    for a in ACCOUNTS:
        s = form_login(srv, a.name)
        assert s.sid != s.pre_sid
        me = call(srv, "GET", API + "/api/me", s.sid).json()
        assert (me["user"], me["org"], me["role"]) == (a.email, a.org, a.role)
        listing = call(srv, "GET", API + "/api/projects", s.sid).text
        own = call(srv, "GET", API + f"/api/projects/{OBJECT_IDS[a.org]}", s.sid)
        assert own.status_code == 200 and MARKERS[a.org] in own.text
        for other, pid in OBJECT_IDS.items():
            if other != a.org:
                r = call(srv, "GET", API + f"/api/projects/{pid}", s.sid)
                assert r.status_code == 404 and MARKERS[other] not in r.text
                assert MARKERS[other] not in listing
        assert MARKERS[a.org] in listing
        admin = call(srv, "GET", API + "/api/admin/users", s.sid)
        assert admin.status_code == (200 if a.role == "admin" else 403), a.name
        dash = call(srv, "GET", APP + "/dashboard", s.sid)
        assert dash.status_code == 200 and next(o.title for o in ORGS if o.name == a.org) in dash.text


def test_without_a_session(portal_world):
    srv = portal_world.server("correct")
    for path in ("/api/me", "/api/projects", f"/api/projects/{OBJECT_IDS['acme']}", "/api/admin/users"):
        for base in (API, APP):
            r = call(srv, "GET", base + path)
            assert (r.status_code, r.headers["content-type"]) == (401, "application/json"), path
    assert call(srv, "POST", API + "/api/projects", json={"name": "x"}).status_code == 401
    dash = call(srv, "GET", APP + "/dashboard")
    assert (dash.status_code, dash.headers["location"]) == (302, "/login")
    pre, _csrf = login_page(srv)
    assert call(srv, "GET", APP + "/dashboard", pre).status_code == 302  # a pre-login session is not a login
    assert call(srv, "GET", API + "/api/me", "forged-" + secrets.token_hex(8)).status_code == 401


def test_session_cookie_flags_and_rotation(portal_world):
    srv = portal_world.server("correct")
    pre_header = set_cookie(call(srv, "GET", APP + "/login"))
    s = form_login(srv, "acme-admin")
    for header in (pre_header, set_cookie(s.login_response)):
        assert header.startswith(SESSION_COOKIE + "=")
        assert cookie_attrs(header) == {"path": "/", "secure": "", "httponly": "", "samesite": "Lax",
                                        "max-age": "28800"}
    assert s.login_response.headers["location"] == "/dashboard"
    assert call(srv, "GET", API + "/api/me", s.pre_sid).status_code == 401  # the pre-login id is gone
    # the same session on both hosts (the client carries the host-only cookie itself)
    assert call(srv, "GET", APP + "/api/me", s.sid).json()["org"] == "acme"


def test_json_login_logout_and_replay(portal_world):
    srv = portal_world.server("correct")
    a = srv.account("globex-admin")
    r = json_login(srv, a.email, srv.passwords[a.name])
    assert r.status_code == 200 and r.json()["org"] == "globex" and r.json()["csrfToken"]
    sid = cookie_value(set_cookie(r))
    assert call(srv, "GET", API + "/api/me", sid).status_code == 200
    out = call(srv, "POST", APP + "/logout", sid)
    assert (out.status_code, out.headers["location"]) == (302, "/login")
    assert call(srv, "GET", API + "/api/me", sid).status_code == 401
    assert call(srv, "GET", APP + "/dashboard", sid).status_code == 302


def test_csrf_and_origin_and_bad_bodies(portal_world):
    srv = portal_world.server("correct")
    s = form_login(srv, "acme-operator")
    ok = {"X-CSRF-Token": s.csrf}
    created = call(srv, "POST", API + "/api/projects", s.sid, json={"name": "launchready-probe"}, headers=ok)
    assert created.status_code == 201 and created.json()["org"] == "acme"
    hostile = call(srv, "POST", API + "/api/projects", s.sid, json={"name": "x"},
                   headers={**ok, "Origin": "https://evil.example.net"})
    assert hostile.status_code == 403
    own = call(srv, "POST", API + "/api/projects", s.sid, json={"name": "y"},
               headers={**ok, "Origin": "https://app.example.com"})
    assert own.status_code == 201 and own.headers["access-control-allow-origin"] == "https://app.example.com"
    for body, want in ((b"{not json", "invalid JSON"), (b'{"name": 42}', "name must be"), (b"[]", "name must be")):
        r = call(srv, "POST", API + "/api/projects", s.sid, content=body,
                 headers={**ok, "Content-Type": "application/json"})
        assert r.status_code == 400 and want in r.json()["error"] and "Traceback" not in r.text
    cors = call(srv, "GET", API + "/api/me", s.sid, headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in cors.headers
    pre, _csrf = login_page(srv)
    a = srv.account("acme-admin")
    assert form_post(srv, a.email, srv.passwords[a.name], pre, "wrong-token").status_code == 403
    assert form_post(srv, a.email, srv.passwords[a.name], None, "").status_code == 403


def test_failed_logins_look_alike_and_are_throttled(portal_world):
    srv = portal_world.server("correct")
    a = srv.account("acme-manager")
    times = {"known": [], "unknown": []}
    for i in range(4):
        for kind, email in (("known", a.email), ("unknown", f"ghost{i}@example.com")):
            start = time.monotonic()
            r = json_login(srv, email, "not-the-password")
            times[kind].append(time.monotonic() - start)
            assert (r.status_code, r.json()) == (401, {"error": "invalid e-mail or password"})
    assert abs(statistics.median(times["known"]) - statistics.median(times["unknown"])) < 0.02
    srv.reset_throttle()
    statuses = [json_login(srv, a.email, "wrong").status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    assert json_login(srv, a.email, srv.passwords[a.name]).status_code == 429  # locked out, even when right
    other = srv.account("acme-admin")
    assert json_login(srv, other.email, srv.passwords[other.name]).status_code == 200  # per account
    pre, csrf = login_page(srv)
    assert form_post(srv, a.email, "wrong", pre, csrf).status_code == 429
    srv.reset_throttle()
    assert json_login(srv, a.email, srv.passwords[a.name]).status_code == 200


# ----------------------------------------------------------------- the variants in detail

def test_variant_details(portal_world):
    trace = portal_world.server("auth-stack-trace")
    s = form_login(trace, "acme-admin")
    r = call(trace, "POST", API + "/api/projects", s.sid, content=b"{", headers={"X-CSRF-Token": s.csrf})
    assert r.status_code == 500 and "/srv/portal/app/api/projects.py" in r.text
    enum = portal_world.server("enumeration")
    r = json_login(enum, "nobody@example.com", "x")
    assert (r.status_code, r.json()) == (404, {"error": "no such user"})
    enum.reset_throttle()
    url = portal_world.server("token-in-url")
    s = form_login(url, "globex-client")
    assert s.login_response.headers["location"] == f"/dashboard?session={s.sid}"
    forever = set_cookie(form_login(portal_world.server("session-forever"), "acme-admin").login_response)
    assert cookie_attrs(forever)["max-age"] == "315360000"


# ----------------------------------------------------------------- the stack file and the passwords

def test_stack_file_describes_the_portal_and_holds_no_password(portal_world):
    srv = portal_world.server("correct")
    text = srv.stack_path.read_text()
    assert srv.stack_path.parent == srv.stacks_dir and srv.stack_path.name == "Pulumi.portal.yaml"
    assert not any(pw in text for pw in srv.passwords.values())
    p = srv.spec().portal
    assert (p.host(), p.api_host(), p.session.lifetime) == ("app.example.com", "api.example.com", 28800)
    assert {(a.name, a.org, a.role, a.username, a.password_env) for a in p.accounts} == \
        {(a.name, a.org, a.role, a.email, a.password_env) for a in ACCOUNTS}
    assert p.objects[0].ids == OBJECT_IDS and p.lists == ["/api/projects"] and p.admin_paths == ["/api/admin/users"]
    assert (p.csrf[0].method, p.csrf[0].path, p.csrf[0].body) == ("POST", "/api/projects", {"name": "launchready-probe"})
    assert p.flows == ["/dashboard", "/api/projects"] and (p.login_throttle.attempts, p.login_throttle.window) == (10, 60)
    env = srv.env()
    assert set(env) == {a.password_env for a in p.accounts} and env == portal_world.env()
    assert all(len(v) >= 20 for v in env.values()) and len(set(env.values())) == len(env)


# ----------------------------------------------------------------- lifecycle

def _closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_world_starts_fast_and_stops_clean(tmp_path):
    start = time.monotonic()
    with PortalWorld(tmp_path) as w:
        srv = w.server("correct")
        elapsed = time.monotonic() - start
        pid = int((tmp_path / "nginx-portal-correct" / "nginx.pid").read_text())
        ports = (srv.https_port, srv.http_port, srv.portal.port)
        assert form_login(srv, "acme-admin").sid
        conf = (tmp_path / "nginx-portal-correct" / "nginx.conf").read_text()
        assert all(chunk.startswith("127.0.0.1:") for chunk in conf.split("listen ")[1:])
        assert srv.verify_args()[:2] == ["--connect-to", f"example.com:443:127.0.0.1:{srv.https_port}"]
        assert srv.pins()[("api.example.com", 443)] == ("127.0.0.1", srv.https_port)
    assert elapsed < 1.0, elapsed
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert all(_closed(p) for p in ports)
    assert w.running() == []
