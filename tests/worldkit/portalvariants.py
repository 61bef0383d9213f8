"""Variants of the reference client portal (portalapp.py): each is the correct portal with ONE weakness,
and `expected_fail` is the verify check id (group `portal`) that must FAIL against it. Ids are fixed;
descriptions are not.

A variant is data: `flags` are the app behaviours that differ from the correct portal (FLAGS below);
the portal app reads them at construction (one app instance per variant, so sessions, throttle
counters and created projects never leak between variants).
"""
from __future__ import annotations

from dataclasses import dataclass

FLAGS = frozenset({
    "tenant-idor",            # GET /api/projects/{id}: no org check
    "admin-open",             # GET /api/admin/users: no role check
    "logout-keeps-session",   # POST /logout clears the cookie but keeps the session server-side
    "cookie-js-readable",     # the session cookie without HttpOnly
    "session-forever",        # Max-Age of 10 years, and no server-side expiry
    "fixation",               # the pre-login session id is kept at login
    "csrf-unchecked",         # the CSRF token is not checked (the Origin check stays)
    "enumeration",            # an unknown e-mail answers 404 "no such user"
    "no-throttle",            # no login throttle
    "auth-stack-trace",       # a bad body to POST /api/projects answers 500 with a Python traceback
    "slow-flow",              # GET /dashboard with a session takes 700 ms
    "token-in-url",           # login redirects to /dashboard?session=<id>
    "console-error",          # the dashboard's script logs an error and throws (seen only with --browser)
})


@dataclass(frozen=True)
class PortalVariant:
    name: str
    expected_fail: str   # the one verify check id that must FAIL
    description: str
    flags: frozenset[str] = frozenset()


def _v(name: str, check: str, description: str) -> PortalVariant:
    return PortalVariant(name, check, description, frozenset({name}))


PORTAL_VARIANTS: tuple[PortalVariant, ...] = (
    _v("tenant-idor", "portal-tenant-isolation",
       "GET /api/projects/{id} answers any org's project to any session (no org check)"),
    _v("admin-open", "portal-admin-roles", "GET /api/admin/users answers every role, not only admin"),
    _v("logout-keeps-session", "portal-logout",
       "POST /logout clears the cookie in the browser but the session stays valid server-side"),
    _v("cookie-js-readable", "portal-session-cookie", "the session cookie is set without HttpOnly"),
    _v("session-forever", "portal-session-lifetime",
       "the session cookie has Max-Age=315360000 (10 years) and the session never expires server-side"),
    _v("fixation", "portal-session-fixation",
       "the session id set by GET /login before login is kept at login (not rotated)"),
    _v("csrf-unchecked", "portal-csrf",
       "state-changing API requests are accepted without (or with a wrong) X-CSRF-Token"),
    _v("enumeration", "portal-user-enumeration",
       "a login with an unknown e-mail answers 404 'no such user' (a known one 401)"),
    _v("no-throttle", "portal-login-throttle", "failed logins are never throttled"),
    _v("auth-stack-trace", "portal-error-pages",
       "malformed JSON to POST /api/projects (with a session and its CSRF token) answers 500 with a traceback"),
    _v("slow-flow", "portal-latency", "GET /dashboard with a session takes 700 ms"),
    _v("token-in-url", "portal-token-in-url", "login redirects to /dashboard?session=<session id>"),
)

# Weaknesses only a browser sees (verify --browser; tests/verify/test_verify_portal_browser.py).
BROWSER_VARIANTS: tuple[PortalVariant, ...] = (
    _v("console-error", "portal-browser-journey",
       "the dashboard's script logs an error with the CSRF token in it, then throws a TypeError"),
)

CORRECT = PortalVariant("correct", "", "the reference portal, no weakness")

VARIANTS_BY_NAME: dict[str, PortalVariant] = {v.name: v for v in (CORRECT, *PORTAL_VARIANTS, *BROWSER_VARIANTS)}

assert all(v.flags <= FLAGS for v in (*PORTAL_VARIANTS, *BROWSER_VARIANTS))
