"""The caching-edge world: the reference portal (portalapp.py) behind a private nginx that caches the way an
edge does (`proxy_cache`) and says so the way Cloudflare does (`cf-cache-status: HIT|MISS|BYPASS|EXPIRED`,
absent when the location does not cache). One portal app and one nginx per variant, TLS from the web
world's test CA, the portal world's stack file (example + `launchready:portal`).

The correct edge caches the declared static paths (bypassed for requests with the session cookie) and
the public home page of example.com (60 s, from the origin's Cache-Control, with X-Forwarded-Host set by
the edge), and nothing else. The origin is lenient the way many frameworks are: `/dashboard/x.css`,
`/dashboard;x.js`, `/dashboard/%2e%2e/x.png` and `/api/me/x.css` answer the page itself, and the home page
builds its canonical link from X-Forwarded-Host. Each variant of CACHE_VARIANTS adds one weakness and
names the verify check id (group `cache`) that must FAIL against it.

    def test_x(cache_world, monkeypatch):             # session fixture (tests/verify/conftest.py)
        srv = cache_world.server("deception-by-extension")
        for k, v in srv.env().items():
            monkeypatch.setenv(k, v)
        audit(from_spec(srv.spec()), connect_to=srv.pins(), ca_file=srv.ca_file, only=["cache"], active=True)
"""
from __future__ import annotations

import html
from dataclasses import dataclass, replace
from urllib.parse import unquote

import pytest

from .portal import PortalServer, PortalWorld
from .portalapp import PortalApp, PortalHTTP, Request
from .portaldata import SESSION_COOKIE, PortalState
from .webapp import ASSET_CSS, ASSET_JS, ASSET_PNG, Reply
from .webnginx import Nginx, render_conf
from .webvariants import Knobs

HOME_TTL = 60
LENIENT_ROUTES = ("/dashboard", "/api/me", "/api/projects", "/api/admin/users")
STATIC_EXT_RE = r"\.(css|js|png|jpe?g|gif|svg|ico|woff2?)$"


@dataclass(frozen=True)
class CacheVariant:
    name: str
    expected_fail: str    # the one verify check id that must FAIL ("" for the correct edge)
    description: str
    flags: frozenset[str] = frozenset()


def _v(name: str, check: str, description: str) -> CacheVariant:
    return CacheVariant(name, check, description, frozenset({name}))


CACHE_VARIANTS: tuple[CacheVariant, ...] = (
    _v("auth-html-cached", "cache-private-data",
       "GET /dashboard is cached for 10 minutes whatever the session cookie and Cache-Control say (key: the URL)"),
    _v("api-cached", "cache-private-data",
       "GET /api/* is cached for 10 minutes per Cookie header, ignoring the origin's no-store"),
    _v("deception-by-extension", "cache-deception",
       "every path ending in .css/.js/.png/... is cached by extension, ignoring the session cookie and no-store"),
    _v("unkeyed-xfh", "cache-poisoning",
       "the edge passes the client's X-Forwarded-Host to the origin (which reflects it into the cached home page)"),
    _v("assets-uncached", "cache-static-assets", "the static paths are proxied without caching"),
    _v("short-asset-ttl", "cache-static-assets",
       "fingerprinted assets are served with `Cache-Control: public, max-age=300`"),
)
CORRECT = CacheVariant("correct", "", "a correctly caching edge")
CACHE_BY_NAME = {v.name: v for v in (CORRECT, *CACHE_VARIANTS)}


def lenient(path: str) -> str:
    """The route a lenient origin serves for `path`: a known private route followed by a static-looking
    suffix (`/x.css`, `;x.js`, `.x.css`, `/%2e%2e/x.png`) is that route; anything else is unchanged."""
    p = unquote(path)
    for route in LENIENT_ROUTES:
        rest = p[len(route):] if p.startswith(route) else ""
        if rest and rest[0] in "/;." and ("." in rest or ";" in rest):
            return route
    return path


def home_page(host: str) -> bytes:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n<title>Client portal</title>\n'
            f'<link rel="canonical" href="https://{html.escape(host)}/">\n<link rel="stylesheet" href="{ASSET_CSS}">\n'
            f'<script src="{ASSET_JS}" defer></script></head>\n<body><main><h1>Client portal</h1>\n'
            f'<img src="{ASSET_PNG}" alt="" width="600" height="400">\n'
            '<p><a href="https://app.example.com/login">Sign in</a></p></main></body></html>\n').encode()


class CacheApp(PortalApp):
    """The reference portal with a lenient router and a public, cacheable home page on example.com."""

    def route(self, req: Request) -> Reply:
        req = replace(req, path=lenient(req.path))
        if req.host == "example.com" and req.path == "/" and req.method in ("GET", "HEAD"):
            host = req.headers.get("x-forwarded-host") or req.host
            return Reply(200, home_page(host), headers=(("Cache-Control", f"public, max-age={HOME_TTL}"),))
        r = super().route(req)
        if self.on("short-asset-ttl") and req.path in (ASSET_JS, ASSET_CSS, ASSET_PNG):
            return Reply(r.status, r.body, r.ctype, (("Cache-Control", "public, max-age=300"),))
        return r


# ----------------------------------------------------------------- the caching proxy's configuration

def http_lines(prefix, flags: frozenset[str]) -> tuple[str, ...]:
    out = [f"proxy_cache_path {prefix / 'cache'} levels=1:2 keys_zone=edge:2m max_size=20m inactive=10m "
           "use_temp_path=off;",
           "proxy_cache_key $scheme$host$request_uri;",
           f'map $http_cookie $has_session {{ default ""; "~{SESSION_COOKIE}=" 1; }}']
    if "unkeyed-xfh" not in flags:
        out.append("proxy_set_header X-Forwarded-Host $host;")   # the edge decides, never the client
    return tuple(out)


SERVER_LINES = ("add_header cf-cache-status $upstream_cache_status always;",)
_PASS = "proxy_pass http://portal;"
_EDGE = "proxy_cache edge; proxy_cache_bypass $has_session; proxy_no_cache $has_session;"
_FORCED = "proxy_cache edge; proxy_ignore_headers Cache-Control Expires Set-Cookie; proxy_cache_valid 200 10m;"


def locations(flags: frozenset[str], static_paths: tuple[str, ...]):
    def for_host(host: str) -> list[str]:
        out = []
        for p in static_paths:
            kind = "^~" if p.endswith("/") else "="
            cache = "" if "assets-uncached" in flags else f"{_EDGE} proxy_cache_valid 200 1d;"
            out.append(f"location {kind} {p} {{ {_PASS} {cache} }}")
        if host == "example.com":
            out.append(f"location = / {{ {_PASS} {_EDGE} }}")
        if "auth-html-cached" in flags and host.startswith("app."):
            out.append(f"location = /dashboard {{ {_PASS} {_FORCED} }}")
        if "api-cached" in flags:
            out.append(f"location ^~ /api/ {{ {_PASS} proxy_cache edge; proxy_cache_key $scheme$host$request_uri"
                       "$http_cookie; proxy_ignore_headers Cache-Control Expires; proxy_cache_valid 200 10m; }")
        if "deception-by-extension" in flags:
            out.append(f"location ~* {STATIC_EXT_RE} {{ {_PASS} {_FORCED} }}")
        return [*out, f"location / {{ {_PASS} }}"]
    return for_host


# ----------------------------------------------------------------- the world

class CacheWorld(PortalWorld):
    """The portal world's CA, stack and passwords; per variant a CacheApp and a caching nginx."""

    def server(self, variant: str) -> PortalServer:
        v = CACHE_BY_NAME[variant]
        static_paths = tuple(self.contract["cache"]["staticPaths"])
        with self._lock:
            if variant not in self._servers:
                ca_file = self.ca_file
                portal = PortalHTTP(CacheApp(PortalState(self.passwords), v.flags), f"cache-{variant}")
                prefix = self.tmpdir / f"nginx-cache-{variant}"
                try:
                    nginx = Nginx(prefix).start(lambda https, http: render_conf(
                        prefix, self.site, Knobs(), f"cache-{variant}", self._cert, portal.port, https, http,
                        extra_http=http_lines(prefix, v.flags), extra_server=SERVER_LINES,
                        locations=locations(v.flags, static_paths)))
                except BaseException:
                    portal.stop()
                    raise
                srv = PortalServer(variant, nginx.https_port, nginx.http_port, ca_file, self.site.hosts,
                                   workdir=prefix, _stop=nginx.stop, portal=portal, passwords=self.passwords,
                                   stack_path=self.stack_path, stacks_dir=self.stacks_dir, world=self)
                srv.variant = v
                self._servers[variant] = (srv, nginx)
            return self._servers[variant][0]


@pytest.fixture(scope="session")
def cache_world(tmp_path_factory):
    """The session's CacheWorld: `cache_world.server("correct")`, `cache_world.server("api-cached")`, ..."""
    from .webnginx import nginx_binary

    try:
        nginx_binary()
    except RuntimeError as e:
        pytest.fail(str(e))
    with CacheWorld(tmp_path_factory.mktemp("cache-world")) as w:
        yield w
