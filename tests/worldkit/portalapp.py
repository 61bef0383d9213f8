"""The reference multi-tenant client portal of the portal world (portal.py): app.example.com (pages and
form login) and api.example.com (JSON API) of the example stack, behind nginx with TLS. One instance
per variant (portalvariants.py), on its own ThreadingHTTPServer on 127.0.0.1; state in portaldata.py.

Routes (the /api/* ones on both hosts, one session store: the `__Host-` cookie is host-only, so a
client that signed in on app.example.com replays the cookie to api.example.com itself):
  GET  /login            the form (email, password, hidden csrf_token); sets a pre-login session cookie
  POST /login            urlencoded; csrf_token must match the pre-login session; 302 /dashboard with a
                         new session id (rotated); a failure answers 401 with the form again
  POST /api/login        JSON {email, password}; 200 {user, org, role, csrfToken} and the cookie
  POST /logout           destroys the session server-side; 302 /login, the cookie cleared
  GET  /dashboard        302 /login without a session; the org's name (and a csrf-token meta tag)
  GET  /api/me           {user, org, role, csrfToken}
  GET  /api/projects     the caller's org's projects;  POST: JSON {name}, needs X-CSRF-Token
  GET  /api/projects/ID  404 for another org's project
  GET  /api/admin/users  admin role only (403 otherwise)
Unauthenticated /api/* answers 401; a state change from a foreign Origin 403; more than 10 failed
logins per 60 s for one submitted address 429 (known and unknown addresses alike).
"""
from __future__ import annotations

import html
import http.server
import json
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from .portaldata import FOREVER, LIFETIME, ORGS_BY_NAME, SESSION_COOKIE, Account, PortalState, Session
from .webapp import ASSET_CSS, ASSET_JS, ASSET_PNG, CSS, Reply, bundle, hero_png

APP_HOST, API_HOST = "app.example.com", "api.example.com"
OWN_ORIGINS = frozenset({"https://app.example.com", "https://api.example.com"})
SLOW_FLOW_S = 0.7
TRACEBACK = """Traceback (most recent call last):
  File "/srv/portal/app/api/projects.py", line 58, in create_project
    payload = json.loads(request.body)
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode
    raise JSONDecodeError("Expecting value", s, err.value) from None
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)
"""
_NO_STORE = ("Cache-Control", "no-store")
# The console-error variant's dashboard script: logs an error naming the session's CSRF token (verify must
# not echo it) and throws, as a chart widget reading a missing element does.
DASHBOARD_JS = "/assets/dashboard.5e2d.js"
BROKEN_JS = (b'"use strict";\nconst csrf = document.querySelector(\'meta[name="csrf-token"]\').content;\n'
             b'console.error("dashboard: chart data failed for token " + csrf);\n'
             b'document.querySelector("#chart").dataset.ready = "1";\n')


@dataclass(frozen=True)
class Request:
    method: str
    host: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]   # lower-case names
    body: bytes

    def cookie(self, name: str) -> str | None:
        jar = SimpleCookie()
        try:
            jar.load(self.headers.get("cookie", ""))
        except CookieError:
            return None
        return jar[name].value if name in jar else None


def _json(status: int, obj, *headers: tuple[str, str]) -> Reply:
    return Reply(status, json.dumps(obj).encode(), "application/json", (_NO_STORE, *headers))


def _html(status: int, title: str, body: str, *headers: tuple[str, str], meta: str = "") -> Reply:
    doc = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">\n{meta}'
           f'<title>{html.escape(title)} - Portal</title>\n<link rel="stylesheet" href="{ASSET_CSS}">\n'
           f'<script src="{ASSET_JS}" defer></script></head>\n<body><main><h1>{html.escape(title)}</h1>\n'
           f'{body}</main></body></html>\n')
    return Reply(status, doc.encode(), headers=(_NO_STORE, *headers))


def _login_form(csrf: str, error: str = "") -> str:
    err = f'<p class="error" role="alert">{html.escape(error)}</p>\n' if error else ""
    return (f'{err}<form method="post" action="/login">\n'
            f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">\n'
            '<label>E-mail <input type="email" name="email" autocomplete="username" required></label>\n'
            '<label>Password <input type="password" name="password" autocomplete="current-password" required>'
            '</label>\n<button type="submit">Sign in</button>\n</form>\n')


class PortalApp:
    """Routing (request -> Reply) over a PortalState, with the variant's `flags`."""

    def __init__(self, state: PortalState, flags: frozenset[str] = frozenset()) -> None:
        self.state = state
        self.flags = flags
        self.hero = hero_png()

    def on(self, flag: str) -> bool:
        return flag in self.flags

    # ------------------------------------------------------------ cookies and sessions

    def set_cookie(self, sid: str) -> tuple[str, str]:
        attrs = ["Path=/", "Secure", *([] if self.on("cookie-js-readable") else ["HttpOnly"]), "SameSite=Lax",
                 f"Max-Age={FOREVER if self.on('session-forever') else LIFETIME}"]
        return ("Set-Cookie", f"{SESSION_COOKIE}={sid}; " + "; ".join(attrs))

    def clear_cookie(self) -> tuple[str, str]:
        return ("Set-Cookie", f"{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")

    def session(self, req: Request) -> Session | None:
        return self.state.session(req.cookie(SESSION_COOKIE), forever=self.on("session-forever"))

    def user_session(self, req: Request) -> Session | None:
        s = self.session(req)
        return s if s is not None and s.account is not None else None

    def foreign_origin(self, req: Request) -> bool:
        origin = req.headers.get("origin")
        return origin is not None and origin not in OWN_ORIGINS

    def csrf_refused(self, req: Request, s: Session | None, token: str | None) -> bool:
        if self.foreign_origin(req):
            return True
        if self.on("csrf-unchecked"):
            return False
        return s is None or not token or not secrets.compare_digest(token.encode(), s.csrf.encode())

    # ------------------------------------------------------------ routing

    def route(self, req: Request) -> Reply:
        p = req.path
        if p == ASSET_JS:
            return Reply(200, bundle(frozenset()), "application/javascript; charset=utf-8", _IMMUTABLE)
        if p == ASSET_CSS:
            return Reply(200, CSS, "text/css; charset=utf-8", _IMMUTABLE)
        if p == ASSET_PNG:
            return Reply(200, self.hero, "image/png", _IMMUTABLE)
        if p == DASHBOARD_JS and self.on("console-error"):
            return Reply(200, BROKEN_JS, "application/javascript; charset=utf-8", _IMMUTABLE)
        if req.host in (APP_HOST, API_HOST) and (p == "/api" or p.startswith("/api/")):
            return _with_cors(self.api(req), req)
        if req.host == API_HOST and p == "/v1/health":
            return _json(200, {"status": "ok"})
        if req.host == APP_HOST:
            return self.pages(req)
        if req.host == "example.com" and p in ("/", "/login"):
            return _html(200, "Client portal", '<p><a href="https://app.example.com/login">Sign in</a></p>\n')
        return _json(404, {"error": "not found"}) if req.host == API_HOST else _html(404, "Not Found", "")

    def pages(self, req: Request) -> Reply:
        routes = {("GET", "/login"): self.login_page, ("POST", "/login"): self.form_login,
                  ("POST", "/logout"): self.logout, ("GET", "/dashboard"): self.dashboard,
                  ("GET", "/"): lambda r: Reply(302, b"", headers=(("Location", "/dashboard"),))}
        handler = routes.get(("GET" if req.method == "HEAD" else req.method, req.path))
        if handler is not None:
            return handler(req)
        if req.path in {p for _m, p in routes}:
            return Reply(405, b"Method Not Allowed\n", "text/plain", (("Allow", "GET, POST"),))
        return _html(404, "Not Found", "")

    # ------------------------------------------------------------ pages

    def login_page(self, req: Request) -> Reply:
        s = self.session(req)
        headers = []
        if s is None:
            s = self.state.new_session()
            headers.append(self.set_cookie(s.id))
        return _html(200, "Sign in", _login_form(s.csrf), *headers)

    def attempt(self, email: str, password: str) -> tuple[str, Account | None]:
        """("ok", account) | ("failed" | "unknown" | "throttled", None); "unknown" only in the
        enumeration variant (the correct portal answers an unknown address like a wrong password)."""
        now = time.time()
        if not self.on("no-throttle") and self.state.throttled(email, now):
            return "throttled", None
        account = self.state.authenticate(email, password)
        if account is None:
            self.state.record_failure(email, now)
            if self.on("enumeration") and not self.state.known(email):
                return "unknown", None
            return "failed", None
        return "ok", account

    def signed_in(self, pre: Session | None, account: Account) -> Session:
        return self.state.login(pre, account, keep_id=self.on("fixation"))

    def form_login(self, req: Request) -> Reply:
        fields = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        pre = self.session(req)
        if self.csrf_refused(req, pre, fields.get("csrf_token")):
            return _html(403, "Forbidden", "<p>The form expired or came from another site. Reload and retry.</p>\n")
        outcome, account = self.attempt(fields.get("email", ""), fields.get("password", ""))
        if outcome == "throttled":
            return _html(429, "Too many attempts", "<p>Too many sign-in attempts. Try again later.</p>\n",
                         ("Retry-After", "60"))
        if outcome == "unknown":
            return _html(404, "Sign in", _login_form(pre.csrf if pre else "", "No such user."))
        if account is None:
            return _html(401, "Sign in", _login_form(pre.csrf if pre else "", "Invalid e-mail or password."))
        s = self.signed_in(pre, account)
        target = f"/dashboard?session={s.id}" if self.on("token-in-url") else "/dashboard"
        return Reply(302, b"", headers=(_NO_STORE, ("Location", target), self.set_cookie(s.id)))

    def logout(self, req: Request) -> Reply:
        if self.foreign_origin(req):
            return _html(403, "Forbidden", "")
        s = self.session(req)
        if s is not None and not self.on("logout-keeps-session"):
            self.state.destroy(s.id)
        return Reply(302, b"", headers=(_NO_STORE, ("Location", "/login"), self.clear_cookie()))

    def dashboard(self, req: Request) -> Reply:
        s = self.user_session(req)
        if s is None:
            return Reply(302, b"", headers=(_NO_STORE, ("Location", "/login")))
        if self.on("slow-flow"):
            time.sleep(SLOW_FLOW_S)
        org = ORGS_BY_NAME[s.account.org]
        body = (f'<p>Signed in as {html.escape(s.account.email)} ({s.account.role}) at '
                f'<strong class="org">{html.escape(org.title)}</strong>.</p>\n'
                f'<img src="{ASSET_PNG}" alt="Projects" width="600" height="400">\n'
                '<form method="post" action="/logout"><button type="submit">Sign out</button></form>\n'
                + (f'<script src="{DASHBOARD_JS}" defer></script>\n' if self.on("console-error") else ""))
        return _html(200, "Dashboard", body, meta=f'<meta name="csrf-token" content="{s.csrf}">\n')

    # ------------------------------------------------------------ the JSON API

    def api(self, req: Request) -> Reply:
        if req.method == "OPTIONS":
            return Reply(204, b"", "text/plain", (("Access-Control-Allow-Methods", "GET, POST"),
                                                  ("Access-Control-Allow-Headers", "Content-Type, X-CSRF-Token"),
                                                  ("Access-Control-Max-Age", "600")))
        if req.path == "/api/login":
            return self.json_login(req) if req.method == "POST" else _json(405, {"error": "method not allowed"},
                                                                             ("Allow", "POST"))
        s = self.user_session(req)
        if s is None:
            return _json(401, {"error": "authentication required"})
        method = "GET" if req.method == "HEAD" else req.method
        if req.path == "/api/me" and method == "GET":
            return _json(200, self.whoami(s))
        if req.path == "/api/projects":
            if method == "GET":
                return _json(200, {"projects": self.state.projects_of(s.account.org)})
            if method == "POST":
                return self.create_project(req, s)
        if req.path.startswith("/api/projects/") and method == "GET":
            return self.project(req.path.rsplit("/", 1)[1], s)
        if req.path == "/api/admin/users" and method == "GET":
            if s.account.role != "admin" and not self.on("admin-open"):
                return _json(403, {"error": "forbidden"})
            return _json(200, {"users": self.state.users_of(s.account.org)})
        if req.path in ("/api/me", "/api/projects", "/api/admin/users") or req.path.startswith("/api/projects/"):
            return _json(405, {"error": "method not allowed"})
        return _json(404, {"error": "not found"})

    @staticmethod
    def whoami(s: Session) -> dict:
        return {"user": s.account.email, "org": s.account.org, "role": s.account.role, "csrfToken": s.csrf}

    def json_login(self, req: Request) -> Reply:
        if self.foreign_origin(req):
            return _json(403, {"error": "forbidden origin"})
        try:
            data = json.loads(req.body or b"")
        except ValueError:
            return _json(400, {"error": "invalid JSON"})
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("email", "password")):
            return _json(400, {"error": "email and password are required strings"})
        outcome, account = self.attempt(data["email"], data["password"])
        if outcome == "throttled":
            return _json(429, {"error": "too many attempts"}, ("Retry-After", "60"))
        if outcome == "unknown":
            return _json(404, {"error": "no such user"})
        if account is None:
            return _json(401, {"error": "invalid e-mail or password"})
        s = self.signed_in(self.session(req), account)
        return _json(200, self.whoami(s), self.set_cookie(s.id))

    def project(self, pid: str, s: Session) -> Reply:
        p = self.state.project(pid)
        if p is None or (p["org"] != s.account.org and not self.on("tenant-idor")):
            return _json(404, {"error": "not found"})
        return _json(200, p)

    def create_project(self, req: Request, s: Session) -> Reply:
        if self.csrf_refused(req, s, req.headers.get("x-csrf-token")):
            return _json(403, {"error": "CSRF check failed"})
        try:
            data = json.loads(req.body or b"")
        except ValueError:
            if self.on("auth-stack-trace"):
                return Reply(500, TRACEBACK.encode(), "text/plain; charset=utf-8")
            return _json(400, {"error": "invalid JSON"})
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 200:
            if self.on("auth-stack-trace"):
                return Reply(500, TRACEBACK.replace("JSONDecodeError", "TypeError").encode(), "text/plain")
            return _json(400, {"error": "name must be a string of 1 to 200 characters"})
        return _json(201, self.state.create_project(s.account.org, name))


_IMMUTABLE = (("Cache-Control", "public, max-age=31536000, immutable"),)


def _with_cors(reply: Reply, req: Request) -> Reply:
    """Credentials only for the portal's own app origin; never a reflected foreign one."""
    if req.host != API_HOST:
        return reply
    extra = [("Vary", "Origin")]
    if req.headers.get("origin") == "https://app.example.com":
        extra += [("Access-Control-Allow-Origin", "https://app.example.com"),
                  ("Access-Control-Allow-Credentials", "true")]
    return Reply(reply.status, reply.body, reply.ctype, reply.headers + tuple(extra))


# ----------------------------------------------------------------- the HTTP server

class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256   # a backlog of 5 drops SYNs under verify's bursts (docs/verify.md)
    block_on_close = False     # idle keep-alive connections from nginx must not hold up stop()

    def get_request(self):
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else ~40 ms per response (Nagle)
        return sock, addr


class PortalHTTP:
    """A PortalApp on 127.0.0.1:<port>; `count(host, path)` says how many requests reached it."""

    def __init__(self, app: PortalApp, name: str = "portal") -> None:
        self.app = app
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _handler(self))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), name=f"portal-{name}",
                                       daemon=True)
        self.thread.start()

    def record(self, method: str, host: str, path: str) -> None:
        with self._lock:
            self.requests[(method, host, path)] += 1

    def count(self, host: str | None = None, path: str | None = None) -> int:
        with self._lock:
            return sum(n for (_m, h, p), n in self.requests.items() if host in (None, h) and path in (None, p))

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(server: PortalHTTP):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive with nginx's upstream pool
        timeout = 30

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.record(self.command, host, path)
            r = server.app.route(Request(self.command, host, path, parse_qs(query), headers, body))
            head = [f"HTTP/1.1 {r.status} {self.responses.get(r.status, ('',))[0]}"]
            if r.status != 204:
                head += [f"Content-Type: {r.ctype}", f"Content-Length: {len(r.body)}"]
            head += [f"{k}: {v}" for k, v in r.headers]
            payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
            self.wfile.write(payload + (b"" if self.command == "HEAD" else r.body))  # one write

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve  # noqa: N815

        def log_message(self, *a) -> None:
            pass

    return Handler
