"""The upstream app behind every nginx of the web world (web.py): one ThreadingHTTPServer on 127.0.0.1,
shared by all variants. nginx tells it per request which variant it serves (X-World-Variant), which
app behaviours are on (X-World-Flags, see FLAGS) and how long to stall app.example.com/dashboard
(X-World-Delay-Ms); the app never echoes these headers.

TCP_NODELAY is set on every accepted socket and each response is one write: a stdlib upstream
otherwise stalls ~40 ms per response (Nagle + delayed ACK, DESIGN.md) and swamps latency numbers.
"""
from __future__ import annotations

import base64
import hashlib
import http.server
import json
import random
import secrets
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass

ASSET_JS, ASSET_CSS, ASSET_PNG = "/assets/app.3f9a1c2b.js", "/assets/app.3f9a1c2b.css", "/assets/hero.9c1e.png"
SESSION_COOKIE = "__Host-portal_session"
APP_ORIGIN = "https://app.example.com"
PAGES = {"example.com": {"/", "/login"},
         "app.example.com": {"/login", "/password/reset", "/invite/accept", "/dashboard"}}
API_HOST = "api.example.com"
FLAGS = frozenset({"cookie-insecure", "cors-reflect", "stack-trace", "dotenv", "stripe-secret", "mixed-content",
                   "csp-meta", "theme-cookie", "spa", "public-keys"})
META_CSP = "default-src 'self'; object-src 'none'; base-uri 'self'"


def hero_png(width: int = 600, height: int = 400, noisy_rows: int = 22, seed: int = 7) -> bytes:
    """A valid 600x400 PNG (~40 KB): a band of random RGB rows over a flat fill. Its bytes per displayed
    pixel are what Chromium's LCP entropy filter looks at, so it stays an LCP candidate (a flat image
    of the same size would be dropped), and it is the largest element of every page."""
    rnd = random.Random(seed)
    flat = b"\x00" + bytes((40, 90, 160)) * width
    raw = b"".join(b"\x00" + rnd.randbytes(width * 3) if y < noisy_rows else flat for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _alnum(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def stripe_secret_key() -> str:
    # Built at runtime: the repository's own secret scan must never see a live-looking key in a file.
    return "sk" + "_li" + "ve_" + "4f" + _alnum("world-stripe-secret", 26)


def stripe_publishable_key() -> str:
    return "pk" + "_li" + "ve_" + "51" + _alnum("world-stripe-public", 26)


def supabase_anon_jwt() -> str:
    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()

    payload = {"iss": "supabase", "ref": "abcdefghijklmnopqrst", "role": "anon", "iat": 1700000000, "exp": 2000000000}
    sig = base64.urlsafe_b64encode(hashlib.sha256(b"world-anon").digest()).rstrip(b"=").decode()
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(payload)}.{sig}"


def bundle(flags: frozenset[str]) -> bytes:
    lines = ['"use strict";', 'const API = "https://api.example.com/v1";',
             'document.addEventListener("DOMContentLoaded", () => { document.body.dataset.ready = "1"; });']
    if "stripe-secret" in flags:
        lines.append(f'const STRIPE_KEY = "{stripe_secret_key()}";')
    if "public-keys" in flags:
        lines.append(f'const STRIPE_PUBLISHABLE_KEY = "{stripe_publishable_key()}";')
        lines.append(f'const SUPABASE_ANON_KEY = "{supabase_anon_jwt()}";')
    return ("\n".join(lines) + "\n").encode()


CSS = b"body{font-family:sans-serif;margin:0}main{padding:2rem}img{max-width:100%;display:block}\n"


def dotenv() -> bytes:
    # Built at runtime, like the keys above: a URL with a password in a file is a repository finding.
    userinfo = ":".join(("portal", "Xk9f" + _alnum("world-db-password", 12)))
    url = "postgres://" + "@".join((userinfo, "db.internal:5432/portal"))
    return ("APP_ENV=production\nDEBUG=false\n"
            f"DATABASE_URL={url}\n"
            "REDIS_URL=redis://cache.internal:6379/0\n"
            f"SESSION_SECRET={_alnum('world-session-secret', 32)}\n").encode()


TRACEBACK = """Traceback (most recent call last):
  File "/srv/portal/app/views.py", line 42, in issue_token
    payload = json.loads(request.body)
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode
    raise JSONDecodeError("Expecting value", s, err.value) from None
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)
"""


def page(title: str, flags: frozenset[str]) -> bytes:
    hero = "http://example.com" + ASSET_PNG if "mixed-content" in flags else ASSET_PNG
    meta = f'<meta http-equiv="Content-Security-Policy" content="{META_CSP}">\n' if "csp-meta" in flags else ""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n{meta}'
            f'<title>{title} - Portal</title>\n<link rel="stylesheet" href="{ASSET_CSS}">\n'
            f'<script src="{ASSET_JS}" defer></script></head>\n'
            f'<body><main><h1>{title}</h1>\n<img src="{hero}" alt="Portal" width="600" height="400">\n'
            f'<p>Welcome to the client portal.</p></main></body></html>\n').encode()


NOT_FOUND = b"<!doctype html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"
NOT_ALLOWED = b"<!doctype html><html><head><title>405 Method Not Allowed</title></head><body><h1>Method Not Allowed</h1></body></html>\n"


@dataclass
class Reply:
    status: int
    body: bytes = b""
    ctype: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def _json(status: int, obj, *headers: tuple[str, str]) -> Reply:
    return Reply(status, json.dumps(obj).encode(), "application/json", headers)


class Upstream:
    """The shared app server; `requests` counts (variant, method, host, path) it answered."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, str, str]] = Counter()
        self._lock = threading.Lock()
        self.hero = hero_png()
        self.httpd = _Server(("127.0.0.1", 0), _handler(self))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), name="web-upstream",
                                       daemon=True)  # a short poll: stop() waits for one
        self.thread.start()

    def count(self, variant: str | None = None, host: str | None = None, path: str | None = None) -> int:
        with self._lock:
            return sum(n for (v, _m, h, p), n in self.requests.items()
                       if variant in (None, v) and host in (None, h) and path in (None, p))

    def record(self, key: tuple[str, str, str, str]) -> None:
        with self._lock:
            self.requests[key] += 1

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------------ routing (pure: request -> Reply)

    def route(self, method: str, host: str, target: str, flags: frozenset[str], origin: str | None,
              body: bytes) -> Reply:
        path = target.split("?", 1)[0]
        if host == API_HOST:
            reply = self._api(method, path, flags, body)
            return _with_cors(reply, origin, flags) if path.startswith("/v1/") else reply
        if method not in ("GET", "HEAD"):
            return Reply(405, NOT_ALLOWED, headers=(("Allow", "GET, HEAD"),))
        if path == ASSET_JS:
            return Reply(200, bundle(flags), "application/javascript; charset=utf-8", _IMMUTABLE)
        if path == ASSET_CSS:
            return Reply(200, CSS, "text/css; charset=utf-8", _IMMUTABLE)
        if path == ASSET_PNG:
            return Reply(200, self.hero, "image/png", _IMMUTABLE)
        if path == "/.env" and "dotenv" in flags:
            return Reply(200, dotenv(), "text/plain; charset=utf-8")
        if path in PAGES.get(host, ()):
            return Reply(200, page(path.strip("/") or "home", flags), headers=_page_cookies(path, flags))
        if "spa" in flags and not path.startswith("/assets/"):
            return Reply(200, page("app", flags), headers=_page_cookies(path, flags))
        return Reply(404, NOT_FOUND)

    def _api(self, method: str, path: str, flags: frozenset[str], body: bytes) -> Reply:
        if method == "OPTIONS" and path.startswith("/v1/"):
            return Reply(204, b"", "text/plain", (("Access-Control-Allow-Methods", "GET, POST"),
                                                  ("Access-Control-Allow-Headers", "Content-Type, Authorization"),
                                                  ("Access-Control-Max-Age", "600")))
        if path == "/v1/health":
            if method not in ("GET", "HEAD"):
                return Reply(405, b"Method Not Allowed\n", "text/plain", (("Allow", "GET, HEAD"),))
            return _json(200, {"status": "ok"})
        if path == "/v1/auth/token":
            if method != "POST":
                return Reply(405, b"Method Not Allowed\n", "text/plain", (("Allow", "POST"),))
            try:
                json.loads(body or b"")
            except ValueError:
                if "stack-trace" in flags:
                    return Reply(500, TRACEBACK.encode(), "text/plain; charset=utf-8")
                return _json(400, {"error": "invalid JSON"})
            return _json(401, {"error": "invalid credentials"})
        if method not in ("GET", "HEAD", "POST", "OPTIONS"):
            return Reply(405, b'{"error":"method not allowed"}', "application/json")
        return _json(404, {"error": "not found"})


_IMMUTABLE = (("Cache-Control", "public, max-age=31536000, immutable"),)


def _page_cookies(path: str, flags: frozenset[str]) -> tuple[tuple[str, str], ...]:
    out = [("Cache-Control", "no-store")]
    if path == "/login":
        secure = "" if "cookie-insecure" in flags else " Secure;"
        out.append(("Set-Cookie", f"{SESSION_COOKIE}={secrets.token_urlsafe(24)}; Path=/;{secure} HttpOnly; SameSite=Lax"))
    if "theme-cookie" in flags:
        out.append(("Set-Cookie", "theme=dark; Path=/; Secure; SameSite=Lax"))
    return tuple(out)


def _with_cors(reply: Reply, origin: str | None, flags: frozenset[str]) -> Reply:
    allowed = origin if "cors-reflect" in flags and origin else (APP_ORIGIN if origin == APP_ORIGIN else None)
    extra = [("Vary", "Origin")]
    if allowed:
        extra += [("Access-Control-Allow-Origin", allowed), ("Access-Control-Allow-Credentials", "true")]
    return Reply(reply.status, reply.body, reply.ctype, reply.headers + tuple(extra))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: verify opens dozens of connections at once (probes plus
    # latency samples), and a SYN dropped from a full backlog is retried after 1 s, which reads as a
    # 1 s latency outlier in the p95.
    request_queue_size = 256
    block_on_close = False  # idle keep-alive connections from nginx must not hold up stop()

    def get_request(self):
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr


def _handler(app: Upstream):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive with nginx's upstream pool
        timeout = 30

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            flags = frozenset(f for f in (self.headers.get("X-World-Flags") or "").split(",") if f)
            delay = int(self.headers.get("X-World-Delay-Ms") or 0)
            app.record((self.headers.get("X-World-Variant") or "", self.command, host, self.path.split("?")[0]))
            if delay and host == "app.example.com" and self.path.split("?")[0] == "/dashboard":
                time.sleep(delay / 1000)
            r = app.route(self.command, host, self.path, flags, self.headers.get("Origin"), body)
            head = [f"HTTP/1.1 {r.status} {self.responses.get(r.status, ('',))[0]}"]
            if r.status != 204:
                head += [f"Content-Type: {r.ctype}", f"Content-Length: {len(r.body)}"]
            head += [f"{k}: {v}" for k, v in r.headers]
            payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
            self.wfile.write(payload + (b"" if self.command == "HEAD" else r.body))

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve  # noqa: N815

        def log_message(self, *a) -> None:
            pass

    return Handler
