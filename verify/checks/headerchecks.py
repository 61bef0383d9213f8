"""Header checks (group "http"): security headers as declared, cookie flags, CORS with credentials.

Cookie values are never read into a result: evidence names cookies and their flags only.
"""
from __future__ import annotations

from ..cookies import parse_set_cookie
from ..model import Verdict, failed, passed, warned
from ..probes.webprobes import Page
from ..registry import Item, check, checks_of, key
from ..webclient import HttpResponse
from ..webexpect import WebExpectations
from .webcommon import HTTP, csp_directive, host_urls, looks_like_session, representative, with_web

# Referrer policies that never send a full URL to another origin or over plain HTTP.
SAFE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
MAX_CORS_PAGES = 3


def _root(h: str) -> str:
    return f"https://{h}/"


@with_web
def _plan_headers(exp, web: WebExpectations):
    return [Item(h.name, tuple(key("page", u) for u in host_urls(h)), data=web) for h in web.served]


def _header_problems(r: HttpResponse, declared: dict[str, str]) -> tuple[list[str], list[str]]:
    """(problems, notes) of one response against the declared headers."""
    problems, notes = [], []
    csp = r.header("content-security-policy") or ""
    for name, want in declared.items():
        got = r.header(name)
        low = name.lower()
        if low == "x-frame-options":
            ancestors = csp_directive(csp, "frame-ancestors")
            if got is None and ancestors is None:
                problems.append(f"neither X-Frame-Options: {want} nor CSP frame-ancestors (clickjacking)")
            continue
        if got is None:
            problems.append(f"{name} is missing (declared {want!r})")
        elif low == "x-content-type-options" and got.strip().lower() != "nosniff":
            problems.append(f"X-Content-Type-Options is {got!r}, not 'nosniff'")
        elif low == "referrer-policy":
            last = [p.strip().lower() for p in got.split(",") if p.strip()][-1:]  # browsers use the last known one
            if not last or last[0] not in SAFE_REFERRER:
                problems.append(f"Referrer-Policy {got!r} leaks full URLs (declared {want!r})")
        elif got.strip() != want.strip():
            notes.append(f"{name} differs from the declared value")
    return problems, notes


@check("security-headers", HTTP, "security headers as declared", plan=_plan_headers)
def judge_headers(item: Item, obs) -> Verdict:
    web: WebExpectations = item.data
    r: HttpResponse = representative([obs[k].response for k in item.needs])
    declared = dict(web.headers)
    problems, notes = _header_problems(r, declared)
    seen = {n: r.header(n) for n in declared}
    if problems:
        return failed(f"{r.url} ({r.status}): " + "; ".join(problems),
                      "set these response headers at the edge for every response (Cloudflare: the response-header "
                      "transform ruleset this stack declares; nginx: add_header ... always)", headers=seen)
    if notes:
        return warned("; ".join(notes), "align the live headers with the stack (or the stack with what is intended)",
                      headers=seen)
    return passed(f"{len(declared)} declared header(s) present", headers=seen)


# ------------------------------------------------------------------------------ cookies

def _deleting(attrs: dict[str, str]) -> bool:
    return attrs.get("max-age", "").strip() in ("0", "-1") or "1970" in attrs.get("expires", "")


def cookie_problems(name: str, attrs: dict[str, str], session_cookie: str) -> list[str]:
    out = []
    if "secure" not in attrs:
        out.append("no Secure")
    if looks_like_session(name, session_cookie):
        if "httponly" not in attrs:
            out.append("no HttpOnly (scripts can read the session)")
        same = attrs.get("samesite", "").lower()
        if same not in ("lax", "strict"):
            out.append(f"SameSite={attrs.get('samesite') or 'unset'} (Lax or Strict protects against CSRF)")
    if name.startswith("__Host-") and (attrs.get("path") != "/" or "domain" in attrs):
        out.append("a __Host- cookie needs Path=/ and no Domain (browsers drop it)")
    return out


@with_web
def _plan_cookies(exp, web: WebExpectations):
    return [Item(h.name, tuple(key("page", f"https://{h.name}{p}") for p in h.pages), data=web) for h in web.served]


@check("cookie-flags", HTTP, "cookies are Secure; session cookies HttpOnly and SameSite", plan=_plan_cookies)
def judge_cookies(item: Item, obs) -> Verdict:
    web: WebExpectations = item.data
    seen: dict[str, dict] = {}
    bad: list[str] = []
    for k in item.needs:
        p: Page = obs[k]
        for raw in p.response.all("set-cookie"):
            name, attrs = parse_set_cookie(raw)
            if _deleting(attrs) or name in seen:
                continue
            seen[name] = {"flags": sorted(a for a in attrs if a in ("secure", "httponly")),
                          "samesite": attrs.get("samesite", ""), "from": p.url,
                          "session": looks_like_session(name, web.session_cookie)}
            problems = cookie_problems(name, attrs, web.session_cookie)
            if problems:
                bad.append(f"{name} ({p.url}): {', '.join(problems)}")
    if bad:
        return failed(f"{len(bad)} cookie(s) with weak flags: " + "; ".join(bad),
                      "set cookies with Secure; session cookies also HttpOnly and SameSite=Lax (or Strict), "
                      f"ideally named __Host-... with Path=/ (the stack's session cookie is {web.session_cookie})",
                      cookies=seen)
    if not seen:
        return passed("no cookies set on the main-flow pages", cookies={})
    return passed(f"{len(seen)} cookie(s) with sound flags", cookies=seen)


# ------------------------------------------------------------------------------ CORS

HOSTILE = "https://launchready-probe.invalid"


def _origins(host: str) -> tuple[str, ...]:
    # an unrelated site, a sandboxed frame or file (`null`), and a look-alike that fools suffix/prefix matching
    return HOSTILE, "null", f"https://{host}.launchready-probe.invalid"


@with_web
def _plan_cors(exp, web: WebExpectations):
    items = []
    for h in web.served:
        urls = [f"https://{h.name}{p}" for p in h.pages][:MAX_CORS_PAGES] or [_root(h.name)]
        needs = tuple(key("http", "GET", u, (("Origin", o),)) for u in urls for o in _origins(h.name))
        items.append(Item(h.name, needs))
    return items


@check("cors", HTTP, "CORS never grants credentials to a foreign origin", plan=_plan_cors)
def judge_cors(item: Item, obs) -> Verdict:
    bad, loose = [], []
    for k in item.needs:
        _method, url, headers = k.args
        origin = dict(headers)["Origin"]
        r: HttpResponse = obs[k]
        acao, creds = r.header("access-control-allow-origin"), (r.header("access-control-allow-credentials") or "")
        with_creds = creds.strip().lower() == "true"
        if acao is None:
            continue
        if acao.strip() == "*" and with_creds:
            loose.append(f"{url}: `*` with credentials (browsers refuse the pair; a sign of hand-rolled CORS)")
        elif acao.strip() == origin and with_creds:
            bad.append(f"{url}: reflects Origin {origin} with credentials")
        elif acao.strip() == origin:
            loose.append(f"{url}: reflects Origin {origin} (no credentials)")
    hint = ("allow only the portal's own origins (an explicit list, compared exactly), never `null`, and send "
            "Access-Control-Allow-Credentials only for those")
    if bad:
        return failed(f"any site can read {item.target} with the user's cookies: {bad[0]}", hint, findings=bad)
    if loose:
        return warned(f"{item.target} reflects foreign origins: {loose[0]}", hint, findings=loose)
    return passed(f"foreign and null origins get no CORS grant ({len(item.needs)} request(s))")


CHECKS = checks_of(judge_headers, judge_cookies, judge_cors)
