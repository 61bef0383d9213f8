"""The portal probe: every journey, in one bounded sequence, as observations without customer data.

The journeys share sign-ins and must not trip each other (the throttle probe would lock the test
accounts' logins if it ran beside them), so they run in a fixed order inside one probe: sign in every
account, read across orgs, admin endpoints, CORS, authenticated errors, CSRF (active), latency, user
enumeration, logout, the reset and invite mail journeys (active, verify.portalmail), and last the
throttle (active, with an address that is no test account).
Observations hold statuses, sizes, hashes and whether a marker appeared: never a body or a cookie.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from ..leakpatterns import find_leaks
from ..portalclient import Jar, MissingPassword, SignIn, csrf_token, digest, sign_in, stranger
from ..portalexpect import PortalExpectations
from ..portalmail import mail_journeys
from ..registry import probe
from ..webclient import WebError

HOSTILE_ORIGIN = "https://launchready-probe.invalid"
ENUM_TRIES = 3
THROTTLED = (429, 423)   # too many requests; locked
MALFORMED = b'{"launchready": "verify", '


@dataclass
class PortalObservation:
    signins: dict[str, SignIn] = field(default_factory=dict)
    signin_errors: dict[str, str] = field(default_factory=dict)     # account -> why it could not be tried
    cross_reads: list[dict] = field(default_factory=list)           # viewer org, owner org, path, status, marker
    list_reads: list[dict] = field(default_factory=list)
    admin_reads: list[dict] = field(default_factory=list)
    cors: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    csrf: list[dict] = field(default_factory=list)
    csrf_skipped: str = ""
    latency: dict[str, list[float]] = field(default_factory=dict)
    latency_status: dict[str, list[int]] = field(default_factory=dict)
    enumeration: dict = field(default_factory=dict)
    enumeration_skipped: str = ""
    logout: list[dict] = field(default_factory=list)
    throttle: dict = field(default_factory=dict)
    throttle_skipped: str = ""
    redirect_after_login: dict[str, str] = field(default_factory=dict)  # account -> Location (query names only)
    mail: dict = field(default_factory=dict)   # reset and invite journeys (verify.portalmail), active only


@probe("portal", journey=True)
def portal(ctx) -> PortalObservation:
    exp: PortalExpectations = ctx.portal
    if exp is None or ctx.web is None:
        raise WebError("no portal section or no web client")
    o = PortalObservation()
    jars = _sign_in_all(ctx, exp, o)
    if not jars:
        return o
    # each org's first account that signed in (an org whose accounts all failed is left out)
    firsts = {org: jars[a.name] for org, accts in exp.by_org().items()
              for a in [next((x for x in accts if x.name in jars), None)] if a is not None}
    if not firsts:
        return o
    _cross_org(exp, firsts, o)
    _admin(exp, jars, o)
    _cors(exp, firsts, o)
    _auth_errors(exp, firsts, o)
    _csrf(ctx, exp, firsts, o)
    _latency(ctx, exp, firsts, o)
    _enumeration(ctx, exp, o)
    _logout(ctx, exp, o)
    o.mail = mail_journeys(ctx, exp)
    _throttle(ctx, exp, o)
    return o


def _sign_in_all(ctx, exp: PortalExpectations, o: PortalObservation) -> dict[str, Jar]:
    jars = {}
    for a in exp.accounts:
        try:
            summary, jar = sign_in(ctx.web, exp.session, exp.base_url, exp.api_base_url, a)
        except MissingPassword as e:
            o.signin_errors[a.name] = str(e)
            continue
        o.signins[a.name] = summary
        if summary.location:
            o.redirect_after_login[a.name] = summary.location
        if summary.ok:
            jars[a.name] = jar
    return jars


def _marker_seen(exp: PortalExpectations, text: str) -> list[str]:
    return [org for org, marker in exp.orgs if marker in text]


def _cross_org(exp: PortalExpectations, firsts: dict[str, Jar], o: PortalObservation) -> None:
    for viewer, jar in firsts.items():
        for ep in exp.objects:
            for owner, object_id in ep.ids:
                r = jar.request("GET", ep.url(exp.api_base_url, object_id))
                o.cross_reads.append({"viewer": viewer, "owner": owner, "path": ep.path, "status": r.status,
                                      "marker": exp.marker(owner) in r.text(), "size": len(r.body)})
        for path in exp.lists:
            r = jar.request("GET", exp.api_base_url + path)
            seen = _marker_seen(exp, r.text())
            o.list_reads.append({"viewer": viewer, "path": path, "status": r.status,
                                 "foreign": [org for org in seen if org != viewer], "own": viewer in seen})


def _admin(exp: PortalExpectations, jars: dict[str, Jar], o: PortalObservation) -> None:
    for a in exp.accounts:
        if a.name not in jars:
            continue
        for path in exp.admin_paths:
            r = jars[a.name].request("GET", exp.api_base_url + path)
            o.admin_reads.append({"account": a.name, "role": a.role, "admin": a.role in exp.admin_roles,
                                  "path": path, "status": r.status})


def _cors(exp: PortalExpectations, firsts: dict[str, Jar], o: PortalObservation) -> None:
    jar = next(iter(firsts.values()))
    paths = [*exp.lists, exp.session.whoami_path][:4]
    for path in paths:
        for origin in (HOSTILE_ORIGIN, "null"):
            r = jar.request("GET", exp.api_base_url + path, headers=(("Origin", origin),))
            o.cors.append({"path": path, "origin": origin, "acao": r.header("access-control-allow-origin"),
                           "credentials": (r.header("access-control-allow-credentials") or "").lower() == "true"})


def _auth_errors(exp: PortalExpectations, firsts: dict[str, Jar], o: PortalObservation) -> None:
    viewer, jar = next(iter(firsts.items()))
    token = csrf_token(jar, exp.session, exp.base_url, exp.api_base_url)
    hs = ((exp.session.csrf_header, token),) if token and exp.session.csrf_header else ()
    targets = [(c.method, c.path) for c in exp.csrf] or [("POST", p) for p in exp.lists[:1]]
    for method, path in targets[:3]:
        for label, body in (("malformed JSON", MALFORMED), ("wrong types", b'{"name": [1, {"x": null}], "id": "x"}')):
            r = jar.request(method, exp.api_base_url + path, headers=(*hs, ("Content-Type", "application/json")),
                            body=body)
            text = r.text()
            o.errors.append({"request": f"{method} {path} ({label})", "status": r.status,
                             "leaks": [(leak.kind, leak.line, leak.excerpt) for leak in find_leaks(text)],
                             "foreign": [org for org in _marker_seen(exp, text) if org != viewer]})


def _csrf(ctx, exp: PortalExpectations, firsts: dict[str, Jar], o: PortalObservation) -> None:
    why = _active_refused(ctx, exp)
    if why:
        o.csrf_skipped = why
        return
    jar = next(iter(firsts.values()))
    token = csrf_token(jar, exp.session, exp.base_url, exp.api_base_url)
    for c in exp.csrf:
        url, body = exp.api_base_url + c.path, dict(c.body)
        variants = [("no token", ())]
        if token and exp.session.csrf_header:
            variants += [("hostile Origin", ((exp.session.csrf_header, token), ("Origin", HOSTILE_ORIGIN))),
                         ("legitimate", ((exp.session.csrf_header, token), ("Origin", exp.base_url)))]
        for label, hs in variants:
            r = jar.copy().request(c.method, url, headers=hs, json_body=body)
            o.csrf.append({"endpoint": f"{c.method} {c.path}", "variant": label, "status": r.status})


def _active_refused(ctx, exp: PortalExpectations) -> str:
    if not getattr(ctx, "active", False):
        return "state-changing probes are opt-in: run verify with --active"
    return exp.active_refused() or ""


def _latency(ctx, exp: PortalExpectations, firsts: dict[str, Jar], o: PortalObservation) -> None:
    jar = next(iter(firsts.values()))
    samples = max(1, min(getattr(ctx, "samples", 20), 200))
    for path in exp.flows:
        base = exp.base_url if not path.startswith("/api/") else exp.api_base_url
        times, statuses = [], []
        jar.request("GET", base + path)  # warm-up
        for _ in range(samples):
            t0 = time.perf_counter()
            r = jar.request("GET", base + path)
            times.append((time.perf_counter() - t0) * 1000)
            statuses.append(r.status)
        o.latency[path], o.latency_status[path] = times, statuses


def _enumeration(ctx, exp: PortalExpectations, o: PortalObservation) -> None:
    """Wrong password for a known account vs any password for an unknown one: status, body shape, time.
    Failed sign-ins count against a real account's lockout: like the throttle, only with --active."""
    why = _active_refused(ctx, exp)
    if why:
        o.enumeration_skipped = why
        return
    known = exp.accounts[0]
    ghost = stranger(known, f"nobody-{digest(known.username)}")
    answers = {}
    for label, account in (("known", known), ("unknown", ghost)):
        statuses, shapes, bodies, times = [], [], [], []
        for _ in range(ENUM_TRIES):
            t0 = time.perf_counter()
            s, _jar = sign_in(ctx.web, exp.session, exp.base_url, exp.api_base_url, account, password="launchready-wrong-1")
            times.append((time.perf_counter() - t0) * 1000)
            statuses.append(s.status)
            shapes.append(digest(s.location or ""))
            bodies.append(s.body_shape)
        answers[label] = {"statuses": statuses, "locations": shapes, "bodies": sorted(set(bodies)),
                          "median_ms": round(statistics.median(times), 1)}
    o.enumeration = answers


def _logout(ctx, exp: PortalExpectations, o: PortalObservation) -> None:
    account = next((a for a in exp.accounts if a.name in o.signins and o.signins[a.name].ok), None)
    if account is None:
        return
    _s, jar = sign_in(ctx.web, exp.session, exp.base_url, exp.api_base_url, account)
    old = jar.copy()
    token = csrf_token(jar, exp.session, exp.base_url, exp.api_base_url)
    hs = ((exp.session.csrf_header, token),) if token and exp.session.csrf_header else ()
    r = jar.request(exp.session.logout_method, exp.base_url + exp.session.logout_path,
                    headers=(*hs, ("Origin", exp.base_url)))
    replay = old.request("GET", exp.api_base_url + exp.session.whoami_path)
    o.logout.append({"account": account.name, "logout_status": r.status, "replay_status": replay.status})


def _throttle(ctx, exp: PortalExpectations, o: PortalObservation) -> None:
    """Failed sign-ins beyond the declared number, first with an address that is no test account (a
    throttle keyed by client or by submitted address catches it), then, if that was never throttled,
    with the last declared account (a throttle keyed by existing account). Last in the journey: a
    throttled account stays throttled for the window."""
    why = _active_refused(ctx, exp) or ("" if exp.throttle else "the portal declares no loginThrottle")
    if why:
        o.throttle_skipped = why
        return
    attempts, window = exp.throttle
    for who in (stranger(exp.accounts[0], "throttle-probe"), exp.accounts[-1]):
        statuses = _hammer(ctx, exp, who, attempts + 3, window)
        o.throttle = {"attempts_allowed": attempts, "window": window, "statuses": statuses, "as": who.name,
                      "throttled_after": next((i + 1 for i, st in enumerate(statuses) if st in THROTTLED), None)}
        if o.throttle["throttled_after"] is not None:
            return


def _hammer(ctx, exp: PortalExpectations, who, tries: int, window: int) -> list[int]:
    statuses, t0 = [], time.monotonic()
    for _ in range(tries):  # bounded: the declared attempts and three more, within one window
        s, _jar = sign_in(ctx.web, exp.session, exp.base_url, exp.api_base_url, who, password="launchready-wrong-3")
        statuses.append(s.status)
        if s.status in THROTTLED or time.monotonic() - t0 > window:
            break
    return statuses


PROBES = (portal,)
