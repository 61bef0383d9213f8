"""A minimal client of the reference portal for world tests: plain httpx through web.request (pinned to
127.0.0.1, SNI + Host, verified against the world CA), the session cookie carried by hand (the
`__Host-` cookie is host-only; the portal accepts the same session on app. and api.)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .portaldata import SESSION_COOKIE
from .web import request

APP, API = "https://app.example.com", "https://api.example.com"
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')


def set_cookie(r, name: str = SESSION_COOKIE) -> str | None:
    """The raw Set-Cookie header for `name` in a response, or None."""
    return next((c for c in r.headers.get_list("set-cookie") if c.startswith(name + "=")), None)


def cookie_value(header: str | None) -> str | None:
    return header.split(";", 1)[0].split("=", 1)[1] if header else None


def cookie_attrs(header: str) -> dict[str, str]:
    """{'path': '/', 'secure': '', 'max-age': '28800', ...} of a Set-Cookie header."""
    out = {}
    for part in header.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        out[k.lower()] = v
    return out


@dataclass
class Signed:
    """A signed-in session: its id (the cookie value), CSRF token and the login responses."""

    sid: str
    csrf: str
    pre_sid: str | None = None
    login_response: object = None


def call(srv, method: str, url: str, sid: str | None = None, **kw):
    headers = dict(kw.pop("headers", {}))
    if sid is not None:
        headers["Cookie"] = f"{SESSION_COOKIE}={sid}"
    return request(srv, method, url, headers=headers, **kw)


def login_page(srv, sid: str | None = None) -> tuple[str | None, str]:
    """GET /login: (the session id it sets or None, the form's csrf_token)."""
    r = call(srv, "GET", APP + "/login", sid)
    return cookie_value(set_cookie(r)), _CSRF_INPUT.search(r.text).group(1)


def form_post(srv, email: str, password: str, sid: str | None, csrf: str, **kw):
    return call(srv, "POST", APP + "/login", sid, data={"email": email, "password": password, "csrf_token": csrf},
                **kw)


def form_login(srv, account: str, password: str | None = None) -> Signed:
    """The browser journey: GET /login, POST the form with its csrf_token; then the CSRF token of the
    signed-in session from /api/me. Raises AssertionError when the login does not answer 302."""
    pre, csrf = login_page(srv)
    email = srv.account(account).email
    r = form_post(srv, email, password or srv.passwords[account], pre, csrf)
    assert r.status_code == 302, (r.status_code, r.text[:200])
    sid = cookie_value(set_cookie(r)) or pre
    me = call(srv, "GET", API + "/api/me", sid)
    assert me.status_code == 200, me.status_code
    return Signed(sid, me.json()["csrfToken"], pre, r)


def json_login(srv, email: str, password: str, host: str = API):
    return request(srv, "POST", host + "/api/login", json={"email": email, "password": password})
