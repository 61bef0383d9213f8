"""Cache probes: what the edge cache stores and serves back. Observations only; verify.checks.cachechecks judges.

Static assets are found by parsing the main pages (the page fetched once per run, shared with the web
probes). The private-data and deception probes sign in as the declared test accounts (verify.portalclient)
and record, per request, the status, the cache headers and whether a watched marker (an org's marker,
the account's user name) appeared: never a body, a cookie or the marker itself. Each run uses fresh
random names and cache-busters, so it never reads a copy an earlier run stored.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..portalclient import Jar, MissingPassword, digest, sign_in
from ..portalexpect import Account, PortalExpectations
from ..registry import probe
from ..webclient import BUNDLE_BYTES, HttpResponse, WebError
from .webprobes import page_loads, web_client

MAX_ASSETS = 12          # per host
WARM_TRIES = 3           # requests per asset until the edge says it stored it
MAX_PRIVATE_URLS = 6
MAX_DECEPTION_PATHS = 3
STATIC_EXT = (".js", ".mjs", ".css", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico",
              ".woff", ".woff2", ".ttf", ".otf", ".eot", ".map", ".json", ".webmanifest", ".mp4", ".webm")
_STATUS_HEADERS = ("cf-cache-status", "cache-status", "x-cache", "x-cache-status", "x-proxy-cache")
_HIT_WORDS = ("HIT", "STALE", "UPDATING", "REVALIDATED")


def cache_status(r: HttpResponse) -> str:
    """The edge's own word for this answer (cf-cache-status, RFC 9211 Cache-Status, X-Cache...), or ""."""
    for name in _STATUS_HEADERS:
        v = r.header(name)
        if v:
            return f"{name}: {v.strip()[:80]}"
    return ""


def says_hit(status: str) -> bool:
    """Whether a cache-status value says the answer came from the cache (the last cache, nearest the client)."""
    if not status:
        return False
    name, _, value = status.partition(": ")
    if name == "cache-status":   # RFC 9211: `Cache; hit`, `Edge; fwd=miss`
        last = value.split(",")[-1].lower()
        return any(p.strip() == "hit" for p in last.split(";")[1:])
    last = value.split(",")[-1].strip().upper()
    return "MISS" not in last and any(w in last for w in _HIT_WORDS)


@dataclass(frozen=True)
class Reply:
    """One answer as the cache checks see it: no body, no cookie."""
    status: int
    cache_status: str = ""          # "cf-cache-status: HIT", or "" when the edge says nothing
    age: int | None = None
    cache_control: str = ""
    vary: str = ""
    edge_control: str = ""          # CDN-Cache-Control / Cloudflare-CDN-Cache-Control / Surrogate-Control
    marker: bool = False            # a watched marker appeared (whose: see the observation)
    digest: str = ""                # short hash of the body
    error: str = ""

    @property
    def stored(self) -> bool:
        """Served from a cache: the status header says so, or (without one) an Age header is present."""
        return says_hit(self.cache_status) or (not self.cache_status and self.age is not None)

    @property
    def hit(self) -> bool:
        """A shared-cache hit, strictly: the status header says so, or an Age above 0 without one."""
        return says_hit(self.cache_status) or (not self.cache_status and bool(self.age))


def reply_of(r: HttpResponse, markers: tuple[str, ...] = ()) -> Reply:
    age = (r.header("age") or "").strip()
    text = r.text() + "\n".join(v for _k, v in r.headers) if markers else ""
    edge = next((v for n in ("cloudflare-cdn-cache-control", "cdn-cache-control", "surrogate-control")
                 if (v := r.header(n))), "")
    return Reply(r.status, cache_status(r), int(age) if age.isdigit() else None, ", ".join(r.all("cache-control")),
                 ", ".join(r.all("vary")), edge, any(m and m in text for m in markers), digest(r.body))


def _get(send, url: str, markers: tuple[str, ...] = (), **kw) -> Reply:
    try:
        return reply_of(send("GET", url, **kw), markers)
    except WebError as e:
        return Reply(0, error=str(e))


# ------------------------------------------------------------------------------ static assets

@dataclass(frozen=True)
class AssetObs:
    url: str
    replies: tuple[Reply, ...]      # warm-up first, then until stored (at most WARM_TRIES)


@dataclass(frozen=True)
class AssetScan:
    host: str
    pages: tuple[str, ...]
    assets: tuple[AssetObs, ...]
    page_errors: tuple[str, ...] = ()


def is_static(url: str, static_paths: tuple[str, ...]) -> bool:
    path = urlsplit(url).path
    return path.lower().endswith(STATIC_EXT) or any(path.startswith(p) for p in static_paths if p != "/")


@probe("cache-assets")
def cache_assets(ctx, host: str, page_urls: tuple[str, ...], static_paths: tuple[str, ...] = ()) -> AssetScan:
    """The same-origin static subresources of the host's pages, each requested until the edge stores it."""
    found, errors = page_loads(ctx, page_urls, lambda p: [u for _tag, u, _line in p.refs.subresources
                                                          if is_static(u, static_paths)])
    web, assets = web_client(ctx), []
    for url in found[:MAX_ASSETS]:
        replies: list[Reply] = []
        for _ in range(WARM_TRIES):
            replies.append(_get(web.fetch, url, max_bytes=BUNDLE_BYTES))
            if len(replies) > 1 and (replies[-1].stored or replies[-1].status != replies[0].status):
                break
        assets.append(AssetObs(url, tuple(replies)))
    return AssetScan(host, tuple(page_urls), tuple(assets), tuple(errors))


# ------------------------------------------------------------------------------ signed-in users

def markers_of(exp: PortalExpectations, account: Account) -> tuple[str, ...]:
    """What only this account's answers carry: its org's marker and its user name."""
    return tuple(m for m in (dict(exp.orgs).get(account.org, ""), account.username) if m)


def two_users(exp: PortalExpectations) -> list[Account]:
    """The first account of each of two orgs (else the first two accounts)."""
    firsts = [accts[0] for accts in exp.by_org().values()]
    return (firsts if len(firsts) > 1 else list(exp.accounts))[:2]


def _signed_in(ctx, exp: PortalExpectations, accounts: list[Account], errors: dict[str, str]) -> list[tuple[Account, Jar]]:
    out = []
    for a in accounts:
        try:
            summary, jar = sign_in(ctx.web, exp.session, exp.base_url, exp.api_base_url, a)
        except (MissingPassword, WebError) as e:
            errors[a.name] = f"{type(e).__name__}: {e}"
            continue
        if summary.ok:
            out.append((a, jar))
        else:
            errors[a.name] = f"{a.name}: not signed in (login {summary.status}, who-am-I {summary.whoami})"
    return out


def private_urls(exp: PortalExpectations) -> list[str]:
    """Signed-in pages and API answers: the portal's flows, "who am I" and its lists (bounded)."""
    paths = [*exp.flows, exp.session.whoami_path, *exp.lists]
    urls = [(exp.api_base_url if p.startswith("/api/") or p == exp.session.whoami_path else exp.base_url) + p
            for p in paths]
    return list(dict.fromkeys(urls))[:MAX_PRIVATE_URLS]


@dataclass
class PrivateObservation:
    accounts: tuple[str, ...] = ()                       # who signed in (first: the owner, second: the other)
    signin_errors: dict[str, str] = field(default_factory=dict)
    urls: list[dict] = field(default_factory=list)       # url, owner, again, other, anonymous: Reply


@probe("cache-private", journey=True)
def cache_private(ctx) -> PrivateObservation:
    """The owner asks each private URL twice, then the other user and an anonymous client ask it once:
    was it a shared-cache hit, and did the owner's marker reach the other two?"""
    exp: PortalExpectations = ctx.portal
    o = PrivateObservation()
    users = _signed_in(ctx, exp, two_users(exp), o.signin_errors)
    o.accounts = tuple(a.name for a, _j in users)
    if not users:
        return o
    (owner, jar), other = users[0], (users[1] if len(users) > 1 else None)
    mine = markers_of(exp, owner)
    for url in private_urls(exp):
        entry = {"url": url, "owner": _get(jar.request, url, mine), "again": _get(jar.request, url, mine)}
        if other is not None:
            entry["other"] = _get(other[1].request, url, mine)
        entry["anonymous"] = _get(web_client(ctx).fetch, url, mine)
        o.urls.append(entry)
    return o


# ------------------------------------------------------------------------------ web cache deception

def deception_forms(token: str) -> tuple[str, ...]:
    """Static-looking suffixes an edge may cache by extension while the origin still serves the page."""
    return (f"/launchready-{token}.css", f";launchready-{token}.js", f"%3Blaunchready-{token}.css",
            f"/%2e%2e/launchready-{token}.png", f".launchready-{token}.css")


@dataclass
class DeceptionObservation:
    account: str = ""
    signin_error: str = ""
    tries: list[dict] = field(default_factory=list)      # path, form, url, victim, attacker: Reply
    plain: dict[str, Reply] = field(default_factory=dict)  # path -> an anonymous client's answer after the account's


@probe("cache-deception", journey=True)
def cache_deception(ctx) -> DeceptionObservation:
    """A test account asks an authenticated path with a static-looking suffix (the victim's click), then
    an anonymous client asks the same URL (the attacker): the attacker must get nothing of the victim's."""
    exp: PortalExpectations = ctx.portal
    errors: dict[str, str] = {}
    users = _signed_in(ctx, exp, list(exp.accounts[:1]), errors)
    o = DeceptionObservation(account=exp.accounts[0].name if exp.accounts else "")
    if not users:
        o.signin_error = next(iter(errors.values()), "no test account")
        return o
    account, jar = users[0]
    mine, token = markers_of(exp, account), secrets.token_hex(4)
    for url in private_urls(exp)[:MAX_DECEPTION_PATHS]:
        _get(jar.request, url, mine)   # the control: is the path shared even without a suffix?
        o.plain[urlsplit(url).path] = _get(web_client(ctx).fetch, url, mine)
        for form in deception_forms(token):
            target = url.rstrip("/") + form
            victim = _get(jar.request, target, mine)
            attacker = _get(web_client(ctx).fetch, target, mine)
            o.tries.append({"path": urlsplit(url).path, "form": form.replace(token, "<random>"), "url": target,
                            "victim": victim, "attacker": attacker})
    return o


# ------------------------------------------------------------------------------ cache poisoning

@dataclass(frozen=True)
class PoisonTry:
    header: str
    poisoned: Reply            # the request carrying the header (marker: the canary was reflected)
    clean: Reply               # the same busted URL without it (marker: the canary came back)
    baseline: Reply            # another fresh buster, clean: what a clean request normally gets


@dataclass(frozen=True)
class PoisonObservation:
    url: str
    tries: tuple[PoisonTry, ...] = ()
    skipped: str = ""


def poison_headers(token: str) -> tuple[tuple[str, str, str], ...]:
    """(header, value, canary): unkeyed headers that some origins and frameworks act on."""
    host = f"launchready-{token}.invalid"
    return (("X-Forwarded-Host", host, host), ("X-Original-URL", f"/launchready-{token}", f"launchready-{token}"),
            ("X-Forwarded-Scheme", "http", ""))


@probe("cache-poison")
def cache_poison(ctx, url: str) -> PoisonObservation:
    """With --active: per unkeyed header, one request carrying it under a fresh cache-buster, then a clean
    request of the same URL (poisoned?) and of another buster (the clean answer)."""
    if not getattr(ctx, "active", False):
        return PoisonObservation(url, skipped="cache poisoning probes are opt-in: run verify with --active")
    fetch, token, tries = web_client(ctx).fetch, secrets.token_hex(4), []
    sep = "&" if "?" in url else "?"
    for i, (name, value, canary) in enumerate(poison_headers(token)):
        busted = f"{url}{sep}launchready-cb={token}{i}"
        poisoned = _get(fetch, busted, (canary,), headers=((name, value),))
        clean = _get(fetch, busted, (canary,))
        baseline = _get(fetch, f"{url}{sep}launchready-cb={token}{i}b", (canary,))
        tries.append(PoisonTry(name, poisoned, clean, baseline))
    return PoisonObservation(url, tuple(tries))


PROBES = (cache_assets, cache_private, cache_deception, cache_poison)
