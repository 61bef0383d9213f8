"""A local HTTPS web world for verify's TLS/HTTP/perf checks: per variant a private nginx (webnginx.py)
in front of one shared upstream app (webapp.py), certificates from a test CA (webcerts.py), all on
127.0.0.1. The correct server is rendered from the example stack's launch contract; each variant of
webvariants.py changes one thing.

Aim verify (or curl) at a server with its pins, never the system resolver:

    def test_something(web_world):                  # session fixture (tests/verify/conftest.py)
        srv = web_world.server("no-hsts")           # started once, on first use (~30 ms)
        args = srv.verify_args()                    # ["--connect-to", "example.com:443:127.0.0.1:P", ...,
                                                    #  "--ca-file", CA.pem]
        audit(..., connect_to=srv.pins(), ca_file=srv.ca_file)
        r = request(srv, "GET", "https://example.com/login")   # httpx, pinned, SNI + Host, CA-verified

ERROR cases: `closed_port_server(ca_file)` (nothing listens) and `broken_handshake_server(ca_file)`
(the TLS port answers plain HTTP, or closes); stop the latter with `.stop()`.
"""
from __future__ import annotations

import atexit
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from .webapp import Upstream
from .webcerts import TestCA
from .webnginx import Nginx, Site, free_tcp_port, render_conf
from .webvariants import VARIANTS_BY_NAME, WebVariant

REPO = Path(__file__).resolve().parents[2]
HOSTS = ("example.com", "www.example.com", "app.example.com", "api.example.com")


@dataclass
class WebServer:
    """One running variant: every host of the contract on https_port (443) and http_port (80)."""

    name: str
    https_port: int
    http_port: int
    ca_file: str
    hosts: tuple[str, ...]
    upstream: Upstream | None = None
    variant: WebVariant | None = None
    workdir: Path | None = None
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    def connect_to(self) -> list[str]:
        """curl-style pins, HOST:PORT:127.0.0.1:PORT, for 443 and 80 of every host."""
        return [f"{h}:{p}:127.0.0.1:{local}" for h in self.hosts
                for p, local in ((443, self.https_port), (80, self.http_port))]

    def pins(self) -> dict[tuple[str, int], tuple[str, int]]:
        """The same pins as verify's parsed --connect-to: {(host, port): ("127.0.0.1", local port)}."""
        return {(h, p): ("127.0.0.1", local) for h in self.hosts
                for p, local in ((443, self.https_port), (80, self.http_port))}

    def verify_args(self) -> list[str]:
        return [a for pin in self.connect_to() for a in ("--connect-to", pin)] + ["--ca-file", self.ca_file]

    def requests(self, host: str | None = None, path: str | None = None) -> int:
        """How many requests of this server reached the upstream app."""
        return self.upstream.count(self.name, host, path) if self.upstream else 0

    def error_log(self) -> str:
        return (self.workdir / "error.log").read_text(errors="replace") if self.workdir else ""

    def stop(self) -> None:
        if self._stop:
            self._stop()
            self._stop = None


class WebWorld:
    """Starts the CA, the upstream app and one nginx per variant lazily; a context manager."""

    def __init__(self, tmpdir: Path, spec_stack: str = "example", stacks_dir: str | Path = "stacks") -> None:
        from infra.contract import build_contract
        from infra.spec import parse_spec, read_stack_file, stack_path

        stacks = Path(stacks_dir)
        if not stacks.is_absolute() and not stacks.exists():
            stacks = REPO / stacks
        self.contract = build_contract(parse_spec(read_stack_file(stack_path(spec_stack, stacks))))
        self.site = Site.of(self.contract)
        self.tmpdir = Path(tmpdir)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._ca: TestCA | None = None
        self._upstream: Upstream | None = None
        self._certs: dict[str, tuple[str, str]] = {}
        self._servers: dict[str, tuple[WebServer, Nginx]] = {}
        atexit.register(self.stop)

    @property
    def ca(self) -> TestCA:
        with self._lock:
            if self._ca is None:
                self._ca = TestCA(self.tmpdir)
            return self._ca

    @property
    def ca_file(self) -> str:
        return self.ca.ca_file

    @property
    def upstream(self) -> Upstream:
        with self._lock:
            if self._upstream is None:
                self._upstream = Upstream()
            return self._upstream

    def _cert(self, mode: str) -> tuple[str, str]:
        if mode not in self._certs:
            self._certs[mode] = self.ca.write_leaf(mode, self.site.hosts, self.site.canonical, self.site.alias,
                                                   self.tmpdir)
        return self._certs[mode]

    def server(self, variant: str, delay_ms: int | None = None) -> WebServer:
        """The variant's server, started on first use. `delay_ms` overrides the upstream delay on
        app.example.com/dashboard (any variant; the server is then named e.g. "latency-200ms")."""
        v = VARIANTS_BY_NAME[variant]
        name = variant if delay_ms is None else f"{variant}-{delay_ms}ms"
        knobs = v.knobs if delay_ms is None else replace(v.knobs, delay_ms=delay_ms)
        with self._lock:
            if name not in self._servers:
                prefix = self.tmpdir / f"nginx-{name}"
                cert, port = self._cert(knobs.cert), self.upstream.port
                nginx = Nginx(prefix).start(lambda https, http: render_conf(
                    prefix, self.site, knobs, name, cert, port, https, http))
                srv = WebServer(name, nginx.https_port, nginx.http_port, self.ca_file, self.site.hosts,
                                self.upstream, replace(v, knobs=knobs), prefix, nginx.stop)
                self._servers[name] = (srv, nginx)
            return self._servers[name][0]

    def running(self) -> list[str]:
        return list(self._servers)

    def stop(self) -> None:
        with self._lock:
            for _srv, nginx in self._servers.values():
                nginx.terminate()  # all at once, then wait for each: ~25 ms in all, not per server
            for srv, _nginx in self._servers.values():
                srv.stop()
            self._servers.clear()
            if self._upstream is not None:
                self._upstream.stop()
                self._upstream = None

    def __enter__(self) -> WebWorld:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# ----------------------------------------------------------------- ERROR cases

def closed_port_server(ca_file: str, hosts: tuple[str, ...] = HOSTS) -> WebServer:
    """Pins to ports nothing listens on (picked free, then released): every connection is refused."""
    return WebServer("closed-port", free_tcp_port(), free_tcp_port(), ca_file, hosts)


def broken_handshake_server(ca_file: str, hosts: tuple[str, ...] = HOSTS, mode: str = "plain-http") -> WebServer:
    """A TLS port that cannot complete a handshake: `plain-http` answers the ClientHello with a plain
    HTTP 400 (a TLS port misconfigured as plain HTTP), `close` accepts and closes at once. The http
    port is closed. Stop it with `.stop()`."""
    if mode not in ("plain-http", "close"):
        raise ValueError(mode)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            with conn:
                if mode == "plain-http":
                    conn.settimeout(1.0)
                    try:
                        conn.recv(4096)
                        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                                     b"Content-Length: 12\r\nConnection: close\r\n\r\nBad Request\n")
                    except OSError:
                        pass

    thread = threading.Thread(target=serve, name="broken-handshake", daemon=True)
    thread.start()

    def stop() -> None:
        done.set()
        try:
            lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        lsock.close()
        thread.join(timeout=2)

    return WebServer(f"broken-handshake-{mode}", lsock.getsockname()[1], free_tcp_port(), ca_file, hosts,
                     _stop=stop)


# ----------------------------------------------------------------- a pinned client for tests

def request(server: WebServer, method: str, url: str, *, http2: bool = False, timeout: float = 5.0,  # http2: needs h2
            verify: bool = True, **kw):
    """One httpx request to `url` (https:// or http:// of a world host), sent to 127.0.0.1 with the
    server's port, SNI and Host of the URL's host, verified against the world CA (unless `verify` is
    False: an HTTP look past a certificate variant); no redirect is followed."""
    import ssl
    from urllib.parse import urlsplit, urlunsplit

    import httpx

    u = urlsplit(url)
    port = server.https_port if u.scheme == "https" else server.http_port
    local = urlunsplit((u.scheme, f"127.0.0.1:{port}", u.path or "/", u.query, ""))
    ctx = ssl.create_default_context(cafile=server.ca_file)
    if not verify:
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    headers = {"Host": u.hostname, **kw.pop("headers", {})}
    with httpx.Client(verify=ctx, http2=http2, timeout=timeout, follow_redirects=False) as client:
        return client.request(method, local, headers=headers, extensions={"sni_hostname": u.hostname}, **kw)


@pytest.fixture(scope="session")
def web_world(tmp_path_factory):
    """The session's WebWorld: `web_world.server("correct")`, `web_world.server("tls10")`, ..."""
    from .webnginx import nginx_binary

    try:
        nginx_binary()
    except RuntimeError as e:
        pytest.fail(str(e))
    with WebWorld(tmp_path_factory.mktemp("web-world"), stacks_dir=REPO / "stacks") as w:
        yield w
