"""What the TLS, HTTP and performance checks expect of the live portal: from the launch contract.

Like verify.expectations for DNS and mail, these are plain frozen dataclasses built from
infra.contract.build_contract (the stack output `launchContract`), so infra and verify cannot
disagree about hosts, redirects, HSTS or headers. Judges read these, never the pydantic model.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.contract import build_contract

DEFAULT_LATENCY_MS = 500
LCP_BUDGET_MS = 2500


@dataclass(frozen=True)
class WebHost:
    name: str
    api: bool = False
    proxied: bool = True
    flows: tuple[tuple[str, str], ...] = ()   # (flow name, path)
    alias: bool = False                        # only redirects to the canonical host

    @property
    def pages(self) -> tuple[str, ...]:
        """Paths fetched as pages: the root and every flow (API hosts: their flows only)."""
        paths = [p for _, p in self.flows]
        if not self.api:
            paths.insert(0, "/")
        return tuple(dict.fromkeys(paths))


@dataclass(frozen=True)
class RedirectExpectation:
    from_url: str
    to_url: str
    status: int
    host: str = ""


@dataclass(frozen=True)
class HstsExpectation:
    enabled: bool = True
    max_age: int = 31536000
    include_subdomains: bool = True
    preload: bool = False


@dataclass(frozen=True)
class PerfFlow:
    host: str
    name: str
    path: str

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}"


@dataclass(frozen=True)
class CacheRules:
    """The declared edge cache (`cache` of the launch contract): what is cached, for how long, and the
    cookie that makes a request private."""
    static_paths: tuple[str, ...] = ("/assets/", "/static/")
    static_ttl: int = 86400                  # the edge TTL of static assets, seconds
    browser_ttl: int | None = None           # the browser TTL (max-age) of static assets, when declared
    bypass_paths: tuple[str, ...] = ()
    session_cookie: str = "session"


@dataclass(frozen=True)
class WebExpectations:
    canonical: str
    alias: str
    hosts: tuple[WebHost, ...]
    canonical_redirect: RedirectExpectation | None = None   # alias -> canonical (when the alias is served)
    redirects: tuple[RedirectExpectation, ...] = ()         # the declared legacy redirects
    min_tls: str = "1.2"
    tls13: bool = True
    always_https: bool = True
    hsts: HstsExpectation = HstsExpectation()
    headers: tuple[tuple[str, str], ...] = ()
    session_cookie: str = "session"
    latency_p95_ms: int = DEFAULT_LATENCY_MS
    perf_flows: tuple[PerfFlow, ...] = ()
    origin_locked: tuple[tuple[str, str], ...] = ()         # (host, origin address) that must refuse direct access
    cache: CacheRules = CacheRules()

    def host(self, name: str) -> WebHost | None:
        return next((h for h in self.hosts if h.name == name), None)

    @property
    def served(self) -> tuple[WebHost, ...]:
        """Hosts that serve content (not only a redirect to the canonical host)."""
        return tuple(h for h in self.hosts if not h.alias)


def web_from_spec(spec: Any, contract: Mapping[str, Any] | None = None) -> WebExpectations:
    c = contract if contract is not None else build_contract(spec)
    canonical, alias = c["canonicalHost"], c["aliasHost"]
    hosts = tuple(
        WebHost(name=h["name"], api=bool(h["api"]), proxied=bool(h["proxied"]),
                flows=tuple(sorted(h["flows"].items(), key=lambda kv: kv[1])),
                alias=h["name"] == alias and not h["flows"])
        for h in c["hosts"])
    names = {h.name for h in hosts}
    redirects = [RedirectExpectation(r["from"], r["to"], int(r["status"]), host=_host_of(r["from"]))
                 for r in c["redirects"]]
    canonical_redirect = redirects[0] if alias in names else None
    legacy = tuple(r for r in redirects[1:] if r.host in names)
    tls = c["tls"]
    hsts = tls["hsts"]
    return WebExpectations(
        canonical=canonical, alias=alias, hosts=hosts, canonical_redirect=canonical_redirect, redirects=legacy,
        min_tls=str(tls["minVersion"]), tls13=bool(tls["tls13"]), always_https=bool(tls["alwaysUseHttps"]),
        hsts=HstsExpectation(enabled=bool(hsts["enabled"]), max_age=int(hsts["max_age"]),
                             include_subdomains=bool(hsts["include_subdomains"]), preload=bool(hsts["preload"])),
        headers=tuple(c["headers"].items()), session_cookie=str(c["cache"]["sessionCookie"]),
        latency_p95_ms=_latency_budget(spec), perf_flows=_perf_flows(spec, hosts),
        origin_locked=_origin_locked(spec), cache=_cache_rules(c["cache"]),
    )


def _cache_rules(c: Mapping[str, Any]) -> CacheRules:
    browser = c.get("browserTtl")
    return CacheRules(static_paths=tuple(c.get("staticPaths") or ()), static_ttl=int(c.get("staticTtl") or 86400),
                      browser_ttl=int(browser) if browser else None, bypass_paths=tuple(c.get("bypassPaths") or ()),
                      session_cookie=str(c["sessionCookie"]))


def _host_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].lower()


def _latency_budget(spec: Any) -> int:
    mon = getattr(spec, "monitoring", None)
    return int(mon.latency_threshold_ms) if mon is not None else DEFAULT_LATENCY_MS


def _perf_flows(spec: Any, hosts: tuple[WebHost, ...]) -> tuple[PerfFlow, ...]:
    """The main flows to time: the monitored ones when monitoring names them (they answer GET), else
    every flow of the non-API hosts; plus each monitored host path."""
    mon = getattr(spec, "monitoring", None)
    chosen = set(mon.flows) if mon is not None and mon.flows is not None else None
    out: list[PerfFlow] = []
    for h in hosts:
        for name, path in h.flows:
            if (chosen is None and not h.api) or (chosen is not None and name in chosen):
                out.append(PerfFlow(h.name, name, path))
    if mon is not None:
        for host, path in sorted(mon.host_paths.items()):
            if not any(f.host == host and f.path == path for f in out):
                out.append(PerfFlow(host, "health", path))
    return tuple(out)


def _origin_locked(spec: Any) -> tuple[tuple[str, str], ...]:
    """Proxied hosts whose origin must refuse clients that bypass the edge (tls.authenticatedOriginPulls)."""
    if not spec.tls.authenticated_origin_pulls:
        return ()
    # A tenant group's origin is tried once, through its first sampled host (the tenants share it).
    groups = [(g.sampled[0], g.origin) for g in getattr(spec, "tenant_groups", []) if g.proxied and g.sampled]
    return tuple((h.name, h.origin) for h in spec.hosts if h.proxied) + tuple(groups)
