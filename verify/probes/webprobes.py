"""Web probes: HTTP responses, redirect chains, pages and their bundles, TLS versions and certificates,
latency samples. Observations only; the judges in verify.checks decide.

Every connection goes through ctx.web (verify.webclient.WebClient): pins and --nameserver first.
Pages are fetched once per run and shared by the probes that read them (cookies, mixed content,
bundles).
"""
from __future__ import annotations

import concurrent.futures as cf
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin

from ..htmlrefs import PageRefs, page_refs, same_origin
from ..leakpatterns import SOURCE_MAP
from ..registry import probe
from ..tlsclient import CertificateInfo, VersionResult, certificate, try_version
from ..webclient import BUNDLE_BYTES, HttpResponse, WebClient, WebError, shown_url

MAX_HOPS = 10
MAX_BUNDLES = 40


def web_client(ctx) -> WebClient:
    web = getattr(ctx, "web", None)
    if web is None:
        raise WebError("no web client configured")
    return web


@probe("http")
def http(ctx, method: str, url: str, headers: tuple[tuple[str, str], ...] = (), body: bytes | None = None) -> HttpResponse:
    return web_client(ctx).fetch(method, url, headers=headers, body=body)


@probe("tls-version")
def tls_version(ctx, host: str, version: str) -> VersionResult:
    return try_version(web_client(ctx), host, version)


@probe("tls-cert")
def tls_cert(ctx, host: str) -> CertificateInfo:
    return certificate(web_client(ctx), host)


# ------------------------------------------------------------------------------ redirects

@dataclass(frozen=True)
class Hop:
    url: str
    status: int               # -1: this hop could not be fetched (error says why)
    location: str | None
    error: str = ""


@dataclass(frozen=True)
class RedirectChain:
    start: str
    hops: tuple[Hop, ...]           # every response, the last one included
    loop: bool = False              # a URL came back
    too_long: bool = False          # still redirecting after MAX_HOPS

    @property
    def redirects(self) -> tuple[Hop, ...]:
        return tuple(h for h in self.hops if h.location and h.status in (301, 302, 303, 307, 308))

    @property
    def final(self) -> Hop:
        return self.hops[-1]

    def describe(self) -> str:
        parts = [shown_url(self.start)] + [f"{h.status} {shown_url(h.location or '')}" for h in self.redirects]
        return " -> ".join(parts)


@probe("redirects")
def redirects(ctx, url: str) -> RedirectChain:
    """Follow redirects from `url` (GET, at most MAX_HOPS), stopping at the first URL seen twice."""
    web, seen, hops = web_client(ctx), [url], []
    current = url
    for _ in range(MAX_HOPS):
        try:
            r = web.fetch("GET", current)
        except WebError as e:
            if not hops:
                raise
            # a later hop that cannot be fetched (another site, a dead host) ends the chain, not the probe
            hops.append(Hop(current, -1, None, str(e)))
            return RedirectChain(url, tuple(hops))
        hops.append(Hop(current, r.status, r.location if r.redirect else None))
        if not r.redirect:
            return RedirectChain(url, tuple(hops))
        nxt = urljoin(current, r.location or "")
        if nxt in seen:
            hops.append(Hop(nxt, 0, None))
            return RedirectChain(url, tuple(hops), loop=True)
        seen.append(nxt)
        current = nxt
    return RedirectChain(url, tuple(hops), too_long=True)


# ------------------------------------------------------------------------------ pages and bundles

@dataclass(frozen=True)
class Page:
    url: str
    response: HttpResponse
    refs: PageRefs

    @property
    def html(self) -> bool:
        return self.response.content_type in ("text/html", "application/xhtml+xml") and self.response.status == 200


def _page_cache(ctx) -> tuple[dict, threading.Lock]:
    extra = ctx.extra
    with _CACHE_LOCK:
        if "pages" not in extra:
            extra["pages"] = ({}, threading.Lock())
        return extra["pages"]


_CACHE_LOCK = threading.Lock()


def get_page(ctx, url: str) -> Page:
    """GET `url` once per run (concurrent callers wait for the one fetch) and parse it when it is HTML."""
    cache, lock = _page_cache(ctx)
    with lock:
        fut = cache.get(url)
        owner = fut is None
        if owner:
            fut = cache[url] = cf.Future()
    if not owner:
        return fut.result()
    try:
        r = web_client(ctx).fetch("GET", url, headers=(("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),))
        html = r.content_type in ("text/html", "application/xhtml+xml")
        page = Page(url, r, page_refs(r.text(), url) if html else PageRefs())
    except BaseException as e:
        fut.set_exception(e)
        raise
    fut.set_result(page)
    return page


@probe("page")
def page(ctx, url: str) -> Page:
    return get_page(ctx, url)


@dataclass(frozen=True)
class BundleFile:
    url: str
    status: int
    size: int
    truncated: bool
    hits: tuple = ()         # infra.knowledge.bundlesecrets.SecretHit: kind, line, column, fingerprint; never the value
    error: str = ""
    map_url: str = ""        # the source map the bundle names (or <bundle>.map)
    map_served: bool = False  # ... answered 200 with a source map: the original source is public


@dataclass(frozen=True)
class BundleScan:
    pages: tuple[str, ...]
    files: tuple[BundleFile, ...]
    page_errors: tuple[str, ...] = ()


def page_loads(ctx, page_urls: tuple[str, ...], pick) -> tuple[list[str], list[str]]:
    """(the same-origin URLs `pick(page)` names across the pages, in first-seen order without repeats;
    the pages that could not be read). Pages come from the run's page cache."""
    found: list[str] = []
    errors: list[str] = []
    for url in page_urls:
        try:
            p = get_page(ctx, url)
        except WebError as e:
            errors.append(str(e))
            continue
        found.extend(u for u in pick(p) if same_origin(u, url) and u not in found)
    return found, errors


@probe("bundles")
def bundles(ctx, page_urls: tuple[str, ...]) -> BundleScan:
    """The same-origin scripts the pages load, each fetched once and scanned for credentials."""
    from infra.knowledge.bundlesecrets import scan_text

    scripts, errors = page_loads(ctx, page_urls, lambda p: p.refs.scripts)
    files = []
    for s in scripts[:MAX_BUNDLES]:
        try:
            r = web_client(ctx).fetch("GET", s, max_bytes=BUNDLE_BYTES)
        except WebError as e:
            files.append(BundleFile(s, 0, 0, False, error=str(e)))
            continue
        hits = tuple(scan_text(r.text())) if r.status == 200 else ()
        map_url, map_served = _source_map(ctx, s, r) if r.status == 200 else ("", False)
        files.append(BundleFile(s, r.status, len(r.body), r.truncated, hits, map_url=map_url, map_served=map_served))
    return BundleScan(tuple(page_urls), tuple(files), tuple(errors))


_MAP_COMMENT = re.compile(rb"[#@] sourceMappingURL=([^\s'\"*]{1,500})")


def _source_map(ctx, script_url: str, r: HttpResponse) -> tuple[str, bool]:
    """(map URL, served): the map the bundle names (SourceMap header or comment), else <bundle>.map."""
    named = r.header("sourcemap") or r.header("x-sourcemap")
    if not named:
        m = _MAP_COMMENT.search(r.body[-2048:])
        named = m.group(1).decode("ascii", "replace") if m else None
    if named and named.startswith("data:"):
        return "inline", True  # the source ships inside the bundle itself
    url = urljoin(script_url, named) if named else script_url.split("?")[0] + ".map"
    if not same_origin(url, script_url):
        return url, False
    try:
        m = web_client(ctx).fetch("GET", url, max_bytes=65536)
    except WebError:
        return url, False
    return url, m.status == 200 and bool(SOURCE_MAP.search(m.text()))


# ------------------------------------------------------------------------------ latency

@dataclass(frozen=True)
class LatencySamples:
    url: str
    times_ms: tuple[float, ...]
    statuses: tuple[int, ...]
    errors: tuple[str, ...]
    wanted: int


@probe("latency")
def latency(ctx, url: str) -> LatencySamples:
    """`samples` timed GETs (request sent to body read) after one warm-up, at most `concurrency` at a
    time over kept-alive connections; stops early when the probe's own budget is spent."""
    web, samples, concurrency = web_client(ctx), max(1, ctx.samples), max(1, ctx.concurrency)
    budget = time.monotonic() + max(ctx.timeout * 3, 5.0)
    try:
        web.fetch("GET", url)  # warm-up: DNS, TCP and TLS are not part of a flow's latency
    except WebError as e:
        raise WebError(f"cannot time {url}: {e}") from None
    times: list[float] = []
    statuses: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    left = [samples]

    def worker(get) -> None:
        while time.monotonic() < budget:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            try:
                ms, status = get()
                with lock:
                    times.append(ms)
                    statuses.append(status)
            except WebError as e:
                with lock:
                    errors.append(str(e))

    with web.session(url, concurrency) as get:
        # Daemon threads, joined only up to the budget: a server that never answers must not keep the
        # process alive after the run (a pool's workers are joined at interpreter exit).
        threads = [threading.Thread(target=worker, args=(get,), daemon=True) for _ in range(min(samples, concurrency))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, budget - time.monotonic()) + web.timeout)
    with lock:
        return LatencySamples(url, tuple(times), tuple(statuses), tuple(errors[:5]), samples)


# ------------------------------------------------------------------------------ origin lock

@dataclass(frozen=True)
class DirectOrigin:
    host: str
    origin: str
    reachable: bool
    detail: str
    status: int = 0


@probe("origin-direct")
def origin_direct(ctx, host: str, origin: str) -> DirectOrigin:
    """Ask the origin itself for `host`'s home page, around the edge (TLS with the host's SNI)."""
    web = web_client(ctx)
    web.address(origin, 443)  # an origin name that cannot be resolved is could-not-check, not "locked"
    try:
        r = web.fetch_via(origin, 443, "GET", f"https://{host}/")
    except WebError as e:
        return DirectOrigin(host, origin, False, f"no answer around the edge: {e}")
    return DirectOrigin(host, origin, r.status not in REFUSING, f"HTTP {r.status}", r.status)


# What an origin that requires the edge answers a client without the edge's certificate or address:
# nginx's "No required SSL certificate was sent" (400), forbidden, misdirected, certificate required.
# Any other answer (a 404 included) is the app itself, reached around the edge.
REFUSING = frozenset({400, 403, 421, 495, 496})


PROBES = (http, tls_version, tls_cert, redirects, page, bundles, latency, origin_direct)
